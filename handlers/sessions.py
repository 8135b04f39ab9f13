"""Sessions in Telegram: coordinators' /sesiones (card, convene, reschedule, link or place,
title and topics, cancel, attendance), /nueva_sesion and /difundir dialogs; officers' answers
and /agenda.

Every coordinator button re-reads the role at press time; officers only ever reach their own
invitations (the service looks them up by the presser's Telegram id).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.audience import Audience
from bot.db import utcnow
from bot.dialogs import Dialog
from bot.models import Session, SessionKind, SessionStatus
from bot.services import Services
from bot.sessions import (
    EDIT_TITLE_MAX,
    KINDS,
    MODALITIES,
    TITLE_MAX,
    TOPIC_MAX,
    TOPICS_MAX,
    TOPICS_TOTAL_MAX,
    Change,
    Outcome,
    Recipient,
    SessionDraft,
    TitleTopics,
    parse_title_topics,
    split_location,
)
from bot.when import parse_when
from handlers.common import (
    answer,
    button,
    cb,
    edit_or_send,
    inline,
    label,
    render,
    reply,
    require,
    services,
    two_buttons,
)
from handlers.router import ROUTER
from scheduling import nudges, session_messages
from scheduling.broadcast import BroadcastService, BroadcastSummary, Progress, engine_of
from scheduling.ical import CalendarBuilder, CalendarWords, session_filename

log = logging.getLogger(__name__)
NEW_FLOW = "new_session"
ANNOUNCE_FLOW = "announce"
RESCHEDULE_FLOW = "ses_reschedule"
LOCATION_FLOW = "ses_location"
TOPICS_FLOW = "ses_topics"
CHANGE_FLOWS = (RESCHEDULE_FLOW, LOCATION_FLOW, TOPICS_FLOW)
TOPIC_LIMITS = {
    "title_max": EDIT_TITLE_MAX,
    "topics_max": TOPICS_MAX,
    "topic_max": TOPIC_MAX,
    "topics_total_max": TOPICS_TOTAL_MAX,
}
TYPED_SHOWN = 3500  # what a refusal repeats of a typed message (Telegram's limit is 4096)
PER_PAGE = 6
ENTITIES_PER_PAGE = 6
AGENDA_MAX = 10
DURATIONS = (60, 90, 120, 180)
DURATION_MIN, DURATION_MAX = 15, 8 * 60
ANNOUNCE_MAX = 3500
LOCATION_MAX = 500
PROGRESS_EVERY = 1.0  # seconds between edits of a progress message
_DURATION = re.compile(
    r"^\s*(?:(\d{1,2})\s*(?:h|hs|hora|horas))?\s*(?:(\d{1,3})\s*(?:m|min|minutos)?)?\s*$",
    re.IGNORECASE,
)


async def require_coordinator(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    return await require(update, context, lambda r: r.is_coordinator, "only_coordinators")


def _user_id(update: Update) -> int:
    user = update.effective_user
    assert user is not None
    return user.id


def _markup(data: dict[str, Any] | None) -> InlineKeyboardMarkup | None:
    return InlineKeyboardMarkup.de_json(data, None) if data else None


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


# ---------------------------------------------------------------- progress of a broadcast


def progress_reporter(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, message_id: int, kind: str, title: str
) -> Progress:
    """Edit one message as a broadcast goes, at most once a second, and at its end."""
    state: dict[str, Any] = {"at": 0.0, "text": None}
    bot = context.bot
    texts = services(context).texts

    async def progress(summary: BroadcastSummary) -> None:
        import asyncio

        now = asyncio.get_running_loop().time()
        if not summary.done and now - state["at"] < PROGRESS_EVERY:
            return
        text = texts.render("sessions/progress", summary=summary, kind=kind, title=title)
        if text == state["text"]:
            return
        state["at"], state["text"] = now, text
        try:
            await bot.edit_message_text(text, chat_id, message_id, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            log.info("could not edit progress message %s: %s", message_id, exc)

    return progress


async def _broadcast(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    kind: str,
    messages: list[Any],
    *,
    session: Session | None,
    title: str,
) -> None:
    """Record the broadcast, show a progress message, and send it in the background."""
    chat = update.effective_chat
    assert chat is not None
    s = services(context)
    broadcast_id = await BroadcastService(s.db).create(
        kind,
        messages,
        session_id=session.id if session else None,
        created_by=_user_id(update),
        report_chat_id=chat.id,
    )
    status = await reply(
        update,
        context,
        "sessions/progress",
        summary=BroadcastSummary(broadcast_id, total=len(messages), pending=len(messages)),
        kind=kind,
        title=title,
    )
    engine_of(context.application).start(
        broadcast_id, progress_reporter(context, chat.id, status.message_id, kind, title)
    )


# ---------------------------------------------------------------- /sesiones and the card


async def list_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await require_coordinator(update, context):
        return
    await _show_list(update, context, 0, edit=False)


async def _show_list(
    update: Update, context: ContextTypes.DEFAULT_TYPE, page_no: int, *, edit: bool
) -> None:
    page = await services(context).sessions.upcoming(page=page_no, per_page=PER_PAGE)
    rows = [
        [
            button(
                label(
                    context,
                    "session_open",
                    n=page.page * PER_PAGE + i + 1,
                    title=line.session.title[:40],
                ),
                cb("sc", "v", line.session.id),
            )
        ]
        for i, line in enumerate(page.lines)
    ]
    nav = []
    if page.page > 0:
        nav.append(button(label(context, "page_prev"), cb("sl", page.page - 1)))
    if page.page + 1 < page.pages:
        nav.append(button(label(context, "page_next"), cb("sl", page.page + 1)))
    rows.append(nav)
    values = {"page": page, "per_page": PER_PAGE}
    if edit:
        await edit_or_send(update, context, "sessions/list", inline(rows), **values)
    else:
        await reply(update, context, "sessions/list", inline(rows), **values)


async def on_list_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    if not await require_coordinator(update, context):
        return
    parts = (query.data or "").split(":")
    page_no = _int(parts[1]) if len(parts) == 2 else None
    if page_no is None:
        await answer(update, context, "stale_button")
        return
    await answer(update, context)
    await _show_list(update, context, page_no, edit=True)


def _card_markup(context: ContextTypes.DEFAULT_TYPE, session: Session) -> InlineKeyboardMarkup:
    sid = session.id
    rows = []
    open_ = session.status == SessionStatus.SCHEDULED and session.end_at > utcnow()
    if open_ and session.start_at > utcnow():
        rows.append([button(label(context, "session_convene"), cb("sc", "cv", sid))])
    if open_:
        rows.append(
            [
                button(label(context, "session_reschedule"), cb("sc", "rp", sid)),
                button(label(context, "session_location"), cb("sc", "ln", sid)),
            ]
        )
        rows.append([button(label(context, "session_title_topics"), cb("sc", "tt", sid))])
        rows.append([button(label(context, "session_cancel"), cb("sc", "cx", sid))])
    rows.append([button(label(context, "session_attendance"), cb("sc", "as", sid, 0))])
    rows.append([button(label(context, "sessions_back"), cb("sl", 0))])
    return inline(rows)


async def _show_card(
    update: Update, context: ContextTypes.DEFAULT_TYPE, session_id: int, *, edit: bool
) -> bool:
    s = services(context)
    line = await s.sessions.line(session_id)
    if line is None:
        return False
    values = {
        "line": line,
        "session": line.session,
        "names": await _audience_names(context, line.session.audience),
    }
    markup = _card_markup(context, line.session)
    if edit:
        await edit_or_send(update, context, "sessions/card", markup, **values)
    else:
        await reply(update, context, "sessions/card", markup, **values)
    return True


async def _audience_names(context: ContextTypes.DEFAULT_TYPE, audience: Audience) -> list[str]:
    """Readable parts of an audience: level, network and entity names."""
    s = services(context)
    catalog = s.content.catalog
    names: list[str] = []
    for code in audience.get("levels") or []:
        level = catalog.maybe_level(code)
        names.append(level.name if level else code)
    for code in audience.get("networks") or []:
        network = catalog.maybe_network(code)
        names.append(network.name if network else code)
    for entity_id in audience.get("entities") or []:
        entity = await s.entities.get(int(entity_id))
        names.append(entity.name if entity else str(entity_id))
    return names


# ---------------------------------------------------------------- coordinator buttons


async def on_card_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``sc:<action>:<session id>[:…]`` — role checked first, at press time."""
    query = update.callback_query
    assert query is not None
    if not await require_coordinator(update, context):
        return
    parts = (query.data or "").split(":")
    action = parts[1] if len(parts) > 1 else ""
    session_id = _int(parts[2]) if len(parts) > 2 else None
    handler = _CARD_ACTIONS.get(action)
    if handler is None or session_id is None:
        await answer(update, context, "stale_button", alert=True)
        return
    await handler(update, context, session_id, parts[3:])


async def _refuse(update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: Outcome) -> None:
    key = {
        Outcome.NOT_FOUND: "stale_button",
        Outcome.CANCELLED: "session_is_cancelled",
        Outcome.PAST: "session_is_past",
    }.get(outcome, "stale_button")
    await answer(update, context, key, alert=True)


async def _act_view(
    update: Update, context: ContextTypes.DEFAULT_TYPE, session_id: int, args: list[str]
) -> None:
    user_id = _user_id(update)
    s = services(context)
    dialog = await s.dialogs.get(user_id)
    if dialog is not None and dialog.flow in CHANGE_FLOWS:
        await s.dialogs.clear(user_id)
    if not await _show_card(update, context, session_id, edit=True):
        await answer(update, context, "stale_button", alert=True)
        return
    await answer(update, context)


async def _act_convene_preview(
    update: Update, context: ContextTypes.DEFAULT_TYPE, session_id: int, args: list[str]
) -> None:
    s = services(context)
    preview = await s.sessions.convene_preview(session_id)
    if preview.outcome in (Outcome.NOT_FOUND, Outcome.CANCELLED, Outcome.PAST):
        await _refuse(update, context, preview.outcome)
        return
    await answer(update, context)
    assert preview.session is not None
    if preview.outcome is Outcome.UNCHANGED:
        await reply(
            update,
            context,
            "sessions/convene_nobody",
            session=preview.session,
            already=preview.already,
        )
        return
    sample = session_messages.invitation(
        s.texts, s.content.catalog, preview.session, preview.new[0]
    )
    await reply(update, context, "sessions/convene_sample", session=preview.session)
    await context.bot.send_message(
        _user_id(update) if update.effective_chat is None else update.effective_chat.id,
        sample.text,
        parse_mode=ParseMode.HTML,
        reply_markup=_markup(sample.markup),
        disable_web_page_preview=True,
    )
    networks = {r.entity.network for r in preview.new}
    await reply(
        update,
        context,
        "sessions/convene_confirm",
        two_buttons(
            context, "confirm_send", cb("sc", "cvok", session_id),
            "cancel", cb("sc", "no", session_id),
        ),
        session=preview.session,
        count=len(preview.new),
        entities=len({r.entity.id for r in preview.new}),
        already=preview.already,
        varies=preview.session.kind == "sectorial" and len(networks) > 1,
    )


async def _act_convene(
    update: Update, context: ContextTypes.DEFAULT_TYPE, session_id: int, args: list[str]
) -> None:
    s = services(context)
    done = await s.sessions.convene(session_id, by=_user_id(update))
    if done.outcome in (Outcome.NOT_FOUND, Outcome.CANCELLED, Outcome.PAST):
        await _refuse(update, context, done.outcome)
        return
    await answer(update, context)
    assert done.session is not None
    if done.outcome is Outcome.UNCHANGED:
        await edit_or_send(
            update, context, "sessions/convene_nobody", session=done.session, already=done.already
        )
        return
    await edit_or_send(
        update, context, "sessions/convene_started", session=done.session, count=len(done.new)
    )
    messages = [
        session_messages.invitation(s.texts, s.content.catalog, done.session, r) for r in done.new
    ]
    await _broadcast(
        update, context, "invitation", messages, session=done.session, title=done.session.title
    )


async def _act_no(
    update: Update, context: ContextTypes.DEFAULT_TYPE, session_id: int, args: list[str]
) -> None:
    user_id = _user_id(update)
    s = services(context)
    dialog = await s.dialogs.get(user_id)
    if dialog is not None and dialog.flow in CHANGE_FLOWS:
        await s.dialogs.clear(user_id)
    await answer(update, context)
    await edit_or_send(update, context, "sessions/nothing_changed")


async def _ask_for_change(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    session_id: int,
    dialog: Dialog,
    prompt: Callable[[Update, ContextTypes.DEFAULT_TYPE, Dialog], Awaitable[None]],
) -> None:
    """Open the dialog of a change (new time, place, title and topics) if the session can
    still change. The dialog keeps the ``updated_at`` the coordinator was shown (``seen``)."""
    s = services(context)
    session = await s.sessions.get(session_id)
    if session is None or session.kind == SessionKind.INDIVIDUAL:
        await _refuse(update, context, Outcome.NOT_FOUND)
        return
    if session.status == SessionStatus.CANCELLED:
        await _refuse(update, context, Outcome.CANCELLED)
        return
    if session.end_at <= utcnow():
        await _refuse(update, context, Outcome.PAST)
        return
    dialog.data["seen"] = session.updated_at.isoformat()
    await s.dialogs.save(_user_id(update), dialog)
    await answer(update, context)
    await prompt(update, context, dialog)


async def _act_reschedule_ask(
    update: Update, context: ContextTypes.DEFAULT_TYPE, session_id: int, args: list[str]
) -> None:
    dialog = Dialog(RESCHEDULE_FLOW, "when", {"session_id": session_id})
    await _ask_for_change(update, context, session_id, dialog, prompt_reschedule)


async def _confirming(s: Services, user_id: int, flow: str, session_id: int) -> Dialog | None:
    """The user's dialog of ``flow`` waiting for its confirmation of ``session_id``, if any."""
    dialog = await s.dialogs.get(user_id)
    if (
        dialog is None
        or dialog.flow != flow
        or dialog.step != "confirm"
        or dialog.data.get("session_id") != session_id
    ):
        return None
    return dialog


async def _act_reschedule(
    update: Update, context: ContextTypes.DEFAULT_TYPE, session_id: int, args: list[str]
) -> None:
    s = services(context)
    user_id = _user_id(update)
    dialog = await _confirming(s, user_id, RESCHEDULE_FLOW, session_id)
    if dialog is None:
        await answer(update, context, "stale_button", alert=True)
        return
    start_at = datetime.fromisoformat(str(dialog.data["start"]))
    change = await s.sessions.reschedule(
        session_id, start_at, by=user_id, expected=_seen(dialog)
    )
    await s.dialogs.clear(user_id)
    await _after_change(
        update, context, change, "rescheduled", typed=str(dialog.data.get("typed") or "")
    )


async def _act_location_ask(
    update: Update, context: ContextTypes.DEFAULT_TYPE, session_id: int, args: list[str]
) -> None:
    dialog = Dialog(LOCATION_FLOW, "text", {"session_id": session_id})
    await _ask_for_change(update, context, session_id, dialog, prompt_location)


async def _act_topics_ask(
    update: Update, context: ContextTypes.DEFAULT_TYPE, session_id: int, args: list[str]
) -> None:
    dialog = Dialog(TOPICS_FLOW, "text", {"session_id": session_id})
    await _ask_for_change(update, context, session_id, dialog, prompt_topics)


async def _act_topics(
    update: Update, context: ContextTypes.DEFAULT_TYPE, session_id: int, args: list[str]
) -> None:
    """``sc:ttok`` — save the title and topics the coordinator confirmed, unless the session
    was cancelled, ended or changed by someone else since they saw it."""
    s = services(context)
    user_id = _user_id(update)
    dialog = await _confirming(s, user_id, TOPICS_FLOW, session_id)
    if dialog is None:
        await answer(update, context, "stale_button", alert=True)
        return
    edit = TitleTopics(str(dialog.data["title"]), [str(t) for t in dialog.data["topics"]])
    change = await s.sessions.edit_title_topics(
        session_id, edit, expected=_seen(dialog), by=user_id
    )
    await s.dialogs.clear(user_id)
    if change.outcome in (Outcome.NOT_FOUND, Outcome.CANCELLED, Outcome.PAST, Outcome.STALE):
        await _refuse(update, context, change.outcome)
        await edit_or_send(
            update,
            context,
            "sessions/change_refused",
            outcome=change.outcome.value,
            title=edit.title,
            topics=edit.topics,
        )
        return
    await answer(update, context)
    assert change.session is not None
    await edit_or_send(
        update,
        context,
        "sessions/changed",
        session=change.session,
        change="topics",
        unchanged=change.outcome is Outcome.UNCHANGED,
        notified=0,
    )
    await _show_card(update, context, session_id, edit=False)


async def _act_cancel_ask(
    update: Update, context: ContextTypes.DEFAULT_TYPE, session_id: int, args: list[str]
) -> None:
    s = services(context)
    line = await s.sessions.line(session_id)
    if line is None:
        await _refuse(update, context, Outcome.NOT_FOUND)
        return
    if line.session.status == SessionStatus.CANCELLED:
        await _refuse(update, context, Outcome.CANCELLED)
        return
    await answer(update, context)
    await reply(
        update,
        context,
        "sessions/confirm_cancel",
        two_buttons(
            context, "confirm_cancel_session", cb("sc", "cxok", session_id),
            "keep_session", cb("sc", "no", session_id),
        ),
        session=line.session,
        invited=line.invited,
    )


async def _act_cancel(
    update: Update, context: ContextTypes.DEFAULT_TYPE, session_id: int, args: list[str]
) -> None:
    change = await services(context).sessions.cancel(session_id, by=_user_id(update))
    await _after_change(update, context, change, "cancelled")


async def _after_change(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    change: Change,
    kind: str,
    *,
    typed: str = "",
) -> None:
    """Tell the coordinator what happened and send the notice to the invitees, if any. A
    refusal gives back what the coordinator ``typed``, so that nothing is lost."""
    if change.outcome in (Outcome.NOT_FOUND, Outcome.CANCELLED, Outcome.PAST, Outcome.STALE):
        if update.callback_query is not None:
            await _refuse(update, context, change.outcome)
            if change.outcome is not Outcome.STALE:  # the alert says it all
                return
        await reply(
            update, context, "sessions/change_refused", outcome=change.outcome.value, typed=typed
        )
        return
    if update.callback_query is not None:
        await answer(update, context)
    assert change.session is not None
    session = change.session
    await reply(
        update,
        context,
        "sessions/changed",
        session=session,
        change=kind,
        unchanged=change.outcome is Outcome.UNCHANGED,
        notified=len(change.notify),
    )
    if change.outcome is Outcome.DONE and change.notify:
        s = services(context)
        messages = [
            session_messages.notice(s.texts, session, r, kind, change.previous_start)
            for r in change.notify
        ]
        await _broadcast(update, context, "notice", messages, session=session, title=session.title)


async def _act_attendance(
    update: Update, context: ContextTypes.DEFAULT_TYPE, session_id: int, args: list[str]
) -> None:
    page_no = _int(args[0]) if args else 0
    if not await _show_attendance(update, context, session_id, page_no or 0):
        await answer(update, context, "stale_button", alert=True)
        return
    await answer(update, context)


async def _show_attendance(
    update: Update, context: ContextTypes.DEFAULT_TYPE, session_id: int, page_no: int
) -> bool:
    s = services(context)
    report = await s.sessions.attendance(session_id)
    if report is None:
        return False
    groups = report.entities
    pages = max(1, -(-len(groups) // ENTITIES_PER_PAGE))
    page_no = min(max(page_no, 0), pages - 1)
    shown = groups[page_no * ENTITIES_PER_PAGE : (page_no + 1) * ENTITIES_PER_PAGE]
    rows = []
    for group in shown:
        for line in group.lines:
            mark = "attended_yes" if line.invite.attended else "attended_no"
            rows.append(
                [
                    button(
                        label(context, mark, name=(line.officer.full_name or "?")[:30]),
                        cb("sc", "at", session_id, line.invite.id, page_no),
                    )
                ]
            )
    nav = []
    if page_no > 0:
        nav.append(button(label(context, "page_prev"), cb("sc", "as", session_id, page_no - 1)))
    if page_no + 1 < pages:
        nav.append(button(label(context, "page_next"), cb("sc", "as", session_id, page_no + 1)))
    rows.append(nav)
    if groups:
        rows.append([button(label(context, "attendance_export"), cb("sc", "ex", session_id))])
    rows.append([button(label(context, "session_back"), cb("sc", "v", session_id))])
    await edit_or_send(
        update,
        context,
        "sessions/attendance",
        inline(rows),
        report=report,
        groups=shown,
        page=page_no,
        pages=pages,
    )
    return True


async def _act_mark(
    update: Update, context: ContextTypes.DEFAULT_TYPE, session_id: int, args: list[str]
) -> None:
    invite_id = _int(args[0]) if args else None
    page_no = _int(args[1]) if len(args) > 1 else 0
    invite = (
        await services(context).sessions.mark_attended(session_id, invite_id, by=_user_id(update))
        if invite_id is not None
        else None
    )
    if invite is None:
        await answer(update, context, "stale_button", alert=True)
        return
    await answer(update, context, "attendance_marked" if invite.attended else "attendance_unmarked")
    await _show_attendance(update, context, session_id, page_no or 0)


async def _act_export(
    update: Update, context: ContextTypes.DEFAULT_TYPE, session_id: int, args: list[str]
) -> None:
    s = services(context)
    report = await s.sessions.attendance(session_id)
    if report is None:
        await answer(update, context, "stale_button", alert=True)
        return
    await answer(update, context)
    catalog = s.content.catalog

    def network_name(code: str | None) -> str:
        network = catalog.maybe_network(code)
        return network.name if network else ""

    def level_name(code: str | None) -> str:
        level = catalog.maybe_level(code)
        return level.name if level else (code or "")

    data = s.sessions.attendance_csv(
        report,
        header=label(context, "attendance_csv_header").split(","),
        network_name=network_name,
        level_name=level_name,
        answers={
            "yes": label(context, "csv_answer_yes"),
            "no": label(context, "csv_answer_no"),
            "pending": label(context, "csv_answer_pending"),
        },
        attended_words={
            "true": label(context, "csv_attended_yes"),
            "false": label(context, "csv_attended_no"),
            "unknown": "",
        },
    )
    local = report.session.start_at.astimezone(s.settings.tz)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id,
        InputFile(data.encode("utf-8"), filename=f"asistencia-{local:%Y-%m-%d}-{session_id}.csv"),
        caption=render(context, "sessions/export_caption", session=report.session),
        parse_mode=ParseMode.HTML,
    )


_CARD_ACTIONS: dict[str, Any] = {
    "v": _act_view,
    "cv": _act_convene_preview,
    "cvok": _act_convene,
    "no": _act_no,
    "rp": _act_reschedule_ask,
    "rpok": _act_reschedule,
    "ln": _act_location_ask,
    "tt": _act_topics_ask,
    "ttok": _act_topics,
    "cx": _act_cancel_ask,
    "cxok": _act_cancel,
    "as": _act_attendance,
    "at": _act_mark,
    "ex": _act_export,
}


# ---------------------------------------------------------------- reschedule, place, topics


async def prompt_reschedule(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog
) -> None:
    session = await services(context).sessions.get(int(dialog.data.get("session_id", 0)))
    if dialog.step == "confirm" and session is not None:
        await _ask_reschedule_confirm(update, context, dialog, session)
        return
    await reply(update, context, "sessions/ask_reschedule", session=session)


async def _ask_reschedule_confirm(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, session: Session
) -> None:
    line = await services(context).sessions.line(session.id or 0)
    sid = session.id
    await reply(
        update,
        context,
        "sessions/confirm_reschedule",
        two_buttons(
            context, "confirm_reschedule", cb("sc", "rpok", sid),
            "cancel", cb("sc", "no", sid),
        ),
        session=session,
        new_start=datetime.fromisoformat(str(dialog.data["start"])),
        invited=line.invited if line else 0,
    )


async def on_reschedule_text(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog
) -> None:
    s = services(context)
    user_id = _user_id(update)
    if not await require_coordinator(update, context):
        await s.dialogs.clear(user_id)
        return
    message = update.effective_message
    assert message is not None
    typed = message.text or ""
    session = await s.sessions.get(int(dialog.data.get("session_id", 0)))
    if session is None:
        await s.dialogs.clear(user_id)
        await reply(update, context, "sessions/change_refused", outcome="not_found")
        return
    parsed = parse_when(typed, now=utcnow(), tz=s.settings.tz)
    if not parsed.ok or parsed.value is None:
        await reply(
            update,
            context,
            "sessions/bad_when",
            error=parsed.error.value if parsed.error else "unreadable",
            typed=typed[:100],
            value=parsed.value,
        )
        return
    dialog.step = "confirm"
    dialog.data["start"] = parsed.value.isoformat()
    dialog.data["typed"] = typed[:100]
    await s.dialogs.save(user_id, dialog)
    await _ask_reschedule_confirm(update, context, dialog, session)


async def prompt_location(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog
) -> None:
    session = await services(context).sessions.get(int(dialog.data.get("session_id", 0)))
    await reply(update, context, "sessions/ask_location", session=session)


async def on_location_text(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog
) -> None:
    s = services(context)
    user_id = _user_id(update)
    if not await require_coordinator(update, context):
        await s.dialogs.clear(user_id)
        return
    message = update.effective_message
    assert message is not None
    typed = (message.text or "").strip()
    if not typed or len(typed) > LOCATION_MAX:
        await reply(update, context, "sessions/invalid", error="location", typed=typed[:100])
        return
    change = await s.sessions.change_location(
        int(dialog.data.get("session_id", 0)), typed, by=user_id, expected=_seen(dialog)
    )
    await s.dialogs.clear(user_id)
    await _after_change(update, context, change, "location", typed=typed)


def _seen(dialog: Dialog) -> datetime | None:
    """The session's ``updated_at`` when the coordinator was shown it."""
    seen = dialog.data.get("seen")
    return datetime.fromisoformat(str(seen)) if seen else None


async def prompt_topics(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    session = await services(context).sessions.get(int(dialog.data.get("session_id", 0)))
    if dialog.step == "confirm" and session is not None:
        await _ask_topics_confirm(update, context, dialog, session)
        return
    await reply(update, context, "sessions/ask_topics", session=session, limits=TOPIC_LIMITS)


async def _ask_topics_confirm(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, session: Session
) -> None:
    sid = session.id
    await reply(
        update,
        context,
        "sessions/confirm_topics",
        two_buttons(
            context, "save_title_topics", cb("sc", "ttok", sid),
            "cancel", cb("sc", "no", sid),
        ),
        session=session,
        title=str(dialog.data["title"]),
        topics=list(dialog.data["topics"]),
    )


async def on_topics_text(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog
) -> None:
    """The new title and topics in one message; typed again at the confirmation, it replaces
    what was typed before."""
    s = services(context)
    user_id = _user_id(update)
    if not await require_coordinator(update, context):
        await s.dialogs.clear(user_id)
        return
    message = update.effective_message
    assert message is not None
    typed = message.text or ""
    session_id = int(dialog.data.get("session_id", 0))
    session = await s.sessions.get(session_id)
    edit = parse_title_topics(typed, keep=session.topics if session else ())
    if edit.error is not None:
        await reply(
            update,
            context,
            "sessions/bad_topics",
            error=edit.error.value,
            number=edit.number,
            length=edit.length,
            limits=TOPIC_LIMITS,
            typed=typed.strip()[:TYPED_SHOWN],
            clipped=len(typed.strip()) > TYPED_SHOWN,
        )
        return
    check = await s.sessions.check_title_topics(session_id, edit, expected=_seen(dialog))
    if check.outcome in (Outcome.NOT_FOUND, Outcome.CANCELLED, Outcome.PAST, Outcome.STALE):
        await s.dialogs.clear(user_id)
        await reply(
            update,
            context,
            "sessions/change_refused",
            outcome=check.outcome.value,
            title=edit.title,
            topics=edit.topics,
        )
        return
    assert check.session is not None
    if check.outcome is Outcome.UNCHANGED:
        await s.dialogs.clear(user_id)
        await reply(
            update,
            context,
            "sessions/changed",
            session=check.session,
            change="topics",
            unchanged=True,
            notified=0,
        )
        return
    dialog.step = "confirm"
    dialog.data["title"], dialog.data["topics"] = edit.title, list(edit.topics)
    await s.dialogs.save(user_id, dialog)
    await _ask_topics_confirm(update, context, dialog, check.session)


# ---------------------------------------------------------------- officers: answers, .ics


async def on_rsvp_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``ses:y|n|ics:<session id>`` — only the presser's own invitation is ever touched."""
    query = update.callback_query
    assert query is not None
    parts = (query.data or "").split(":")
    action = parts[1] if len(parts) == 3 else ""
    session_id = _int(parts[2]) if len(parts) == 3 else None
    if action not in ("y", "n", "ics") or session_id is None:
        await answer(update, context, "stale_button", alert=True)
        return
    s = services(context)
    user_id = _user_id(update)
    if action == "ics":
        own = await s.sessions.own_invite(session_id, user_id)
        if own.outcome is not Outcome.DONE or own.session is None:
            await answer(update, context, _RSVP_REFUSALS[own.outcome], alert=True)
            return
        await answer(update, context)
        await _send_ics(update, context, own.session)
        return
    result = await s.sessions.respond(session_id, user_id, action == "y")
    if result.outcome in (Outcome.DONE, Outcome.UNCHANGED):
        key = "rsvp_saved_yes" if action == "y" else "rsvp_saved_no"
        await answer(update, context, key)
        assert result.session is not None
        await reply(
            update,
            context,
            "sessions/rsvp_done",
            session=result.session,
            yes=action == "y",
            unchanged=result.outcome is Outcome.UNCHANGED,
        )
        return
    await answer(update, context, _RSVP_REFUSALS[result.outcome], alert=True)


_RSVP_REFUSALS = {
    Outcome.NOT_FOUND: "stale_button",
    Outcome.NOT_INVITED: "rsvp_not_invited",
    Outcome.CANCELLED: "rsvp_cancelled",
    Outcome.PAST: "rsvp_past",
}


async def _send_ics(update: Update, context: ContextTypes.DEFAULT_TYPE, session: Session) -> None:
    s = services(context)
    builder = CalendarBuilder(s.texts, CalendarWords.load(s.settings.content_dir), s.settings.tz)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id,
        InputFile(
            builder.session_file(session).encode("utf-8"), filename=session_filename(session)
        ),
        caption=render(context, "sessions/ics_caption", session=session),
        parse_mode=ParseMode.HTML,
    )


async def agenda_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = services(context)
    items = await s.sessions.agenda(_user_id(update))
    await reply(
        update, context, "sessions/agenda", count=len(items), shown=min(len(items), AGENDA_MAX)
    )
    now = utcnow()
    for item in items[:AGENDA_MAX]:
        session = item.session
        markup = None
        if session.status == SessionStatus.SCHEDULED:
            markup = session_messages.rsvp_markup(
                s.texts, session.id or 0, answers=session.start_at > now
            )
        await reply(
            update,
            context,
            "sessions/agenda_item",
            _markup(markup),
            session=session,
            invite=item.invite,
        )


# ---------------------------------------------------------------- /nueva_sesion and /difundir


async def new_session_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await require_coordinator(update, context):
        return
    dialog = Dialog(NEW_FLOW, "kind", {})
    await services(context).dialogs.save(_user_id(update), dialog)
    await prompt_new(update, context, dialog)


async def announce_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await require_coordinator(update, context):
        return
    dialog = Dialog(ANNOUNCE_FLOW, "audience", {})
    await services(context).dialogs.save(_user_id(update), dialog)
    await prompt_new(update, context, dialog)


def _prefix(dialog: Dialog) -> str:
    return "ns" if dialog.flow == NEW_FLOW else "df"


def _prompt_markup(
    context: ContextTypes.DEFAULT_TYPE, dialog: Dialog
) -> InlineKeyboardMarkup | None:
    p = _prefix(dialog)
    step = dialog.step
    catalog = services(context).content.catalog
    rows: list[list[Any]] = []
    if step == "kind":
        rows = [[button(label(context, f"kind_{k}"), cb(p, "k", k)) for k in KINDS]]
    elif step == "duration":
        rows = [[button(label(context, f"duration_{m}"), cb(p, "d", m)) for m in DURATIONS]]
    elif step == "modality":
        rows = [[button(label(context, f"modality_{m}"), cb(p, "m", m))] for m in MODALITIES]
    elif step == "location":
        rows = [[button(label(context, "location_later"), cb(p, "sk"))]]
    elif step == "audience":
        rows = [
            [button(label(context, "audience_all"), cb(p, "a", "all"))],
            [button(label(context, "audience_level"), cb(p, "a", "lvl"))],
            [button(label(context, "audience_network"), cb(p, "a", "net"))],
            [button(label(context, "audience_entity"), cb(p, "a", "ent"))],
        ]
    elif step == "aud_level":
        rows = [[button(lv.name, cb(p, "l", lv.code))] for lv in catalog.ordered_levels()]
    elif step == "aud_network":
        level_code = dialog.data.get("net_level")
        if level_code:
            cells = [
                button(n.short_name, cb(p, "w", n.code)) for n in catalog.networks_of(level_code)
            ]
            rows = [cells[i : i + 2] for i in range(0, len(cells), 2)]
        else:
            rows = [[button(lv.name, cb(p, "nl", lv.code))] for lv in catalog.ordered_levels()]
    if step != "summary" and step != "preview":
        rows.append([button(label(context, "cancel"), cb(p, "x"))])
    return inline(rows) if rows else None


async def prompt_new(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    """Ask what the current step of /nueva_sesion or /difundir needs."""
    if dialog.step == "summary":
        await _show_summary(update, context, dialog)
        return
    if dialog.step == "preview":
        await _show_announce_preview(update, context, dialog)
        return
    await reply(
        update,
        context,
        "sessions/new_prompt",
        _prompt_markup(context, dialog),
        step=dialog.step,
        flow=dialog.flow,
        data=dialog.data,
    )


def _draft(dialog: Dialog) -> SessionDraft:
    data = dialog.data
    start = datetime.fromisoformat(str(data["start"]))
    return SessionDraft(
        kind=str(data["kind"]),
        title=str(data["title"]),
        start_at=start,
        end_at=start + timedelta(minutes=int(data["minutes"])),
        modality=str(data["modality"]),
        link=data.get("link"),
        place=data.get("place"),
        audience=dict(data["audience"]),
    )


async def _show_summary(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    s = services(context)
    draft = _draft(dialog)
    count = len(await s.sessions.audience(draft.audience))
    preview = Session(
        uid="-",
        kind=draft.kind,
        title=draft.title,
        start_at=draft.start_at,
        end_at=draft.end_at,
        modality=draft.modality,
        link=draft.link,
        place=draft.place,
        mandatory=draft.kind == "sectorial",
    )
    await reply(
        update,
        context,
        "sessions/new_summary",
        two_buttons(context, "create_session", cb("ns", "ok"), "cancel", cb("ns", "x")),
        session=preview,
        names=await _audience_names(context, dict(dialog.data["audience"])),
        audience=dialog.data["audience"],
        count=count,
    )


async def _show_announce_preview(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog
) -> None:
    s = services(context)
    audience = dict(dialog.data["audience"])
    count = len(await s.sessions.audience(audience))
    text = s.texts.render("sessions/announcement", text=str(dialog.data["text"]))
    await reply(update, context, "sessions/announce_sample")
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_message(
        chat.id, text, parse_mode=ParseMode.HTML, disable_web_page_preview=True
    )
    await reply(
        update,
        context,
        "sessions/announce_confirm",
        two_buttons(context, "confirm_send", cb("df", "ok"), "cancel", cb("df", "x"))
        if count
        else inline([[button(label(context, "cancel"), cb("df", "x"))]]),
        count=count,
        names=await _audience_names(context, dict(dialog.data["audience"])),
        audience=dialog.data["audience"],
    )


async def _advance(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, step: str
) -> None:
    dialog.step = step
    await services(context).dialogs.save(_user_id(update), dialog)
    await prompt_new(update, context, dialog)


def _after_audience(dialog: Dialog) -> str:
    return "summary" if dialog.flow == NEW_FLOW else "text"


async def on_new_text(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    """Typed answers of /nueva_sesion and /difundir."""
    s = services(context)
    user_id = _user_id(update)
    if not await require_coordinator(update, context):
        await s.dialogs.clear(user_id)
        return
    message = update.effective_message
    assert message is not None
    typed = (message.text or "").strip()
    step = dialog.step
    if step == "title":
        if not 3 <= len(typed) <= TITLE_MAX:
            await reply(update, context, "sessions/invalid", error="title", typed=typed[:100])
            return
        dialog.data["title"] = typed
        await _advance(update, context, dialog, "when")
    elif step == "when":
        parsed = parse_when(typed, now=utcnow(), tz=s.settings.tz)
        if not parsed.ok or parsed.value is None:
            await reply(
                update,
                context,
                "sessions/bad_when",
                error=parsed.error.value if parsed.error else "unreadable",
                typed=typed[:100],
                value=parsed.value,
            )
            return
        dialog.data["start"] = parsed.value.isoformat()
        await _advance(update, context, dialog, "duration")
    elif step == "duration":
        minutes = _parse_minutes(typed)
        if minutes is None:
            await reply(update, context, "sessions/invalid", error="duration", typed=typed[:100])
            return
        dialog.data["minutes"] = minutes
        await _advance(update, context, dialog, "modality")
    elif step == "location":
        if len(typed) > LOCATION_MAX:
            await reply(update, context, "sessions/invalid", error="location", typed=typed[:100])
            return
        link, place = split_location(typed)
        dialog.data["link"], dialog.data["place"] = link, place
        await _advance(update, context, dialog, "audience")
    elif step == "aud_network":
        network = s.content.catalog.search_network(typed)
        if network is None:
            await reply(update, context, "sessions/invalid", error="network", typed=typed[:100])
            await prompt_new(update, context, dialog)
            return
        dialog.data["audience"] = {"networks": [network.code]}
        await _advance(update, context, dialog, _after_audience(dialog))
    elif step == "aud_entity":
        await _search_entity(update, context, dialog, typed)
    elif step == "text":
        html = message.text_html or ""
        if not typed or len(html) > ANNOUNCE_MAX:
            await reply(
                update, context, "sessions/invalid", error="announcement", typed=typed[:100]
            )
            return
        dialog.data["text"] = html
        await _advance(update, context, dialog, "preview")
    else:
        await reply(update, context, "sessions/use_buttons")
        await prompt_new(update, context, dialog)


def _parse_minutes(typed: str) -> int | None:
    match = _DURATION.match(typed)
    if not typed.strip() or match is None or not (match.group(1) or match.group(2)):
        return None
    hours = int(match.group(1) or 0)
    minutes = int(match.group(2) or 0)
    if match.group(1) is None and minutes <= 8:  # "2" means two hours
        hours, minutes = minutes, 0
    total = hours * 60 + minutes
    return total if DURATION_MIN <= total <= DURATION_MAX else None


async def _search_entity(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, typed: str
) -> None:
    s = services(context)
    matches = await s.entities.search(typed, limit=5)
    if not matches:
        await reply(update, context, "sessions/invalid", error="entity", typed=typed[:100])
        return
    if len(matches) == 1 or matches[0].confident:
        await _choose_entity(update, context, dialog, int(matches[0].id))
        return
    p = _prefix(dialog)
    rows = [[button(m.label, cb(p, "e", m.id))] for m in matches]
    rows.append([button(label(context, "cancel"), cb(p, "x"))])
    await reply(update, context, "sessions/entity_choices", inline(rows), typed=typed[:100])


async def _choose_entity(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, entity_id: int
) -> bool:
    entity = await services(context).entities.get(entity_id)
    if entity is None:
        return False
    dialog.data["audience"] = {"entities": [entity_id]}
    await _advance(update, context, dialog, _after_audience(dialog))
    return True


async def on_new_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``ns:…`` (/nueva_sesion) and ``df:…`` (/difundir) buttons."""
    query = update.callback_query
    assert query is not None
    if not await require_coordinator(update, context):
        return
    s = services(context)
    user_id = _user_id(update)
    parts = (query.data or "").split(":")
    prefix, action, value = (
        parts[0],
        parts[1] if len(parts) > 1 else "",
        parts[2] if len(parts) > 2 else "",
    )
    flow = NEW_FLOW if prefix == "ns" else ANNOUNCE_FLOW
    dialog = await s.dialogs.get(user_id)
    if dialog is None or dialog.flow != flow:
        await answer(update, context, "stale_button", alert=True)
        return
    if action == "x":
        await s.dialogs.clear(user_id)
        await answer(update, context)
        await edit_or_send(update, context, "sessions/dialog_cancelled", flow=flow)
        return
    allowed = _BUTTON_STEPS.get(action, ())
    if dialog.step not in allowed:
        await answer(update, context, "stale_button")
        await prompt_new(update, context, dialog)
        return
    catalog = s.content.catalog
    ok = True
    if action == "k" and value in KINDS:
        dialog.data["kind"] = value
        await answer(update, context)
        await _advance(update, context, dialog, "title")
    elif action == "d" and value.isdigit() and int(value) in DURATIONS:
        dialog.data["minutes"] = int(value)
        await answer(update, context)
        await _advance(update, context, dialog, "modality")
    elif action == "m" and value in MODALITIES:
        dialog.data["modality"] = value
        await answer(update, context)
        await _advance(update, context, dialog, "location")
    elif action == "sk":
        dialog.data["link"] = dialog.data["place"] = None
        await answer(update, context)
        await _advance(update, context, dialog, "audience")
    elif action == "a" and value in ("all", "lvl", "net", "ent"):
        await answer(update, context)
        if value == "all":
            dialog.data["audience"] = {"all": True}
            await _advance(update, context, dialog, _after_audience(dialog))
        else:
            dialog.data.pop("net_level", None)
            step = {"lvl": "aud_level", "net": "aud_network", "ent": "aud_entity"}[value]
            await _advance(update, context, dialog, step)
    elif action == "l" and catalog.maybe_level(value) is not None:
        dialog.data["audience"] = {"levels": [value]}
        await answer(update, context)
        await _advance(update, context, dialog, _after_audience(dialog))
    elif action == "nl" and catalog.maybe_level(value) is not None:
        dialog.data["net_level"] = value
        await answer(update, context)
        await _advance(update, context, dialog, "aud_network")
    elif action == "w" and catalog.maybe_network(value) is not None:
        dialog.data["audience"] = {"networks": [value]}
        await answer(update, context)
        await _advance(update, context, dialog, _after_audience(dialog))
    elif action == "e" and value.isdigit() and await s.entities.get(int(value)) is not None:
        await answer(update, context)
        await _choose_entity(update, context, dialog, int(value))
    elif action == "ok" and flow == NEW_FLOW:
        await _create_session(update, context, dialog)
    elif action == "ok":
        await _send_announcement(update, context, dialog)
    else:
        ok = False
    if not ok:
        await answer(update, context, "stale_button")
        await prompt_new(update, context, dialog)


_BUTTON_STEPS: dict[str, tuple[str, ...]] = {
    "k": ("kind",),
    "d": ("duration",),
    "m": ("modality",),
    "sk": ("location",),
    "a": ("audience",),
    "l": ("aud_level",),
    "nl": ("aud_network",),
    "w": ("aud_network",),
    "e": ("aud_entity",),
    "ok": ("summary", "preview"),
}


async def _create_session(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog
) -> None:
    s = services(context)
    user_id = _user_id(update)
    draft = _draft(dialog)
    if draft.start_at <= utcnow():
        dialog.step = "when"
        await s.dialogs.save(user_id, dialog)
        await answer(update, context)
        await reply(
            update, context, "sessions/bad_when", error="past", typed="", value=draft.start_at
        )
        return
    session = await s.sessions.create(draft, by=user_id)
    await s.dialogs.clear(user_id)
    await answer(update, context)
    await edit_or_send(update, context, "sessions/created", session=session)
    await _show_card(update, context, session.id or 0, edit=False)


async def _send_announcement(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog
) -> None:
    s = services(context)
    user_id = _user_id(update)
    audience = dict(dialog.data["audience"])
    recipients: list[Recipient] = await s.sessions.audience(audience)
    await s.dialogs.clear(user_id)
    await answer(update, context)
    if not recipients:
        await edit_or_send(update, context, "sessions/announce_nobody")
        return
    await edit_or_send(update, context, "sessions/announce_started", count=len(recipients))
    text = str(dialog.data["text"])
    messages = [session_messages.announcement(s.texts, text, r) for r in recipients]
    await _broadcast(
        update,
        context,
        "announcement",
        messages,
        session=None,
        title=label(context, "announcement_title"),
    )


# ---------------------------------------------------------------- wiring


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("sesiones", list_command, filters=private))
    app.add_handler(CommandHandler("nueva_sesion", new_session_command, filters=private))
    app.add_handler(CommandHandler("difundir", announce_command, filters=private))
    app.add_handler(CommandHandler("agenda", agenda_command, filters=private))
    app.add_handler(CallbackQueryHandler(on_list_button, pattern=r"^sl:"))
    app.add_handler(CallbackQueryHandler(on_card_button, pattern=r"^sc:"))
    app.add_handler(CallbackQueryHandler(on_rsvp_button, pattern=r"^ses:"))
    app.add_handler(CallbackQueryHandler(on_new_button, pattern=r"^(ns|df):"))
    ROUTER.dialog(NEW_FLOW, text=on_new_text, prompt=prompt_new)
    ROUTER.dialog(ANNOUNCE_FLOW, text=on_new_text, prompt=prompt_new)
    ROUTER.dialog(RESCHEDULE_FLOW, text=on_reschedule_text, prompt=prompt_reschedule)
    ROUTER.dialog(LOCATION_FLOW, text=on_location_text, prompt=prompt_location)
    ROUTER.dialog(TOPICS_FLOW, text=on_topics_text, prompt=prompt_topics)
    ROUTER.menu("menu_sessions", list_command)
    ROUTER.menu("menu_agenda", agenda_command)
    nudges.register(app)
