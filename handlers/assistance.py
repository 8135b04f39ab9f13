"""Individual assistance requests: the officers' intake (/solicitar), /mis_solicitudes with
"Agregar información", the coordinators' triage buttons, /solicitudes, /solicitud, recording a
request received by phone or e-mail (/registrar_solicitud) and /exportar_solicitudes.

Every step is saved in the database (``bot.dialogs``) as soon as it is answered, so a restart
never loses a draft; the role is read again at every command, typed step and button press.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_timedelta
from telegram import InputFile, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.assistance import (
    AVAILABILITY_MAX,
    CHANNELS,
    FILTERS,
    MEETING_MODALITIES,
    MESSAGE_MAX,
    TOPIC_MAX,
    WHERE_MAX,
    Change,
    Meeting,
    Outcome,
    RequestDraft,
    RequestView,
    clean_text,
    load_canned_replies,
    parse_code,
)
from bot.db import utcnow
from bot.dialogs import Dialog
from bot.models import OfficerStatus, SessionStatus
from bot.request_export import FORMATS, export_bytes, filename
from bot.roles import Role
from bot.when import MAX_TEXT as WHEN_MAX
from bot.when import parse_when
from handlers.common import (
    answer,
    button,
    cb,
    edit_or_send,
    inline,
    label,
    parse_cb,
    render,
    reply,
    require,
    role,
    send,
    services,
    two_buttons,
    user_display_name,
)
from handlers.router import ROUTER
from scheduling.broadcast import Attachment, BroadcastService, OutgoingMessage, engine_of
from scheduling.ical import CalendarBuilder, CalendarWords, session_filename

log = logging.getLogger(__name__)
FLOW = "request"  # the intake; data["mode"] == "record" when a coordinator records one
ACT_FLOW = "request_act"  # a coordinator typing an answer, a resolution, a meeting…
INFO_FLOW = "request_info"  # an officer adding information to an open request
PER_PAGE = 8
HISTORY_MAX = 40
LOCALE = "es_PE"
SELF_STEPS = ("component", "topic", "channel", "availability")
RECORD_STEPS = ("entity", "source", "officer", *SELF_STEPS)
TEXT_LIMITS = {"topic": TOPIC_MAX, "availability": AVAILABILITY_MAX}
RECORD_SOURCES = ("phone", "email")
STEP_KEYS = {"entity": "entity_id", "officer": "officer_id"}  # where a step keeps its answer


# ---------------------------------------------------------------- presentation helpers


def age_text(created: datetime, now: datetime) -> str:
    """"hace 3 días" (Babel, es_PE)."""
    return format_timedelta(created - now, locale=LOCALE, add_direction=True)


def duration_text(delta: timedelta) -> str:
    return format_timedelta(delta, locale=LOCALE)


def facts(context: ContextTypes.DEFAULT_TYPE, view: RequestView) -> dict[str, Any]:
    """What the templates show of a request, with names from the catalogue and labels."""
    s = services(context)
    r = view.request
    now = utcnow()
    catalog = s.content.catalog
    network = catalog.maybe_network(view.entity.network)
    meeting = None
    if view.session is not None:
        session = view.session
        meeting = {
            "start_at": session.start_at,
            "modality": label(context, f"request_channel_{session.modality}")
            if session.modality in CHANNELS
            else session.modality,
            "where": session.link or session.place,
            "is_link": bool(session.link),
            "cancelled": session.status == SessionStatus.CANCELLED.value,
        }
    return {
        "id": r.id,
        "code": r.code,
        "status": label(context, f"request_status_{r.status}"),
        "status_key": r.status,
        "overdue": s.assistance.overdue(r, now),
        "entity": view.entity.name,
        "network": network.short_name if network else None,
        "officer": view.officer.full_name if view.officer else None,
        "officer_left": view.officer_left,
        "component": component_text(context, r.component),
        "channel": label(context, f"request_channel_{r.channel}"),
        "availability": r.availability,
        "source": label(context, f"request_source_{r.source}"),
        "age": age_text(r.created_at, now),
        "first_response": duration_text(r.first_response_at - r.created_at)
        if r.first_response_at
        else None,
        "assignee": r.assignee_name,
        "meeting": meeting,
        "topic": r.topic,
        "is_open": view.is_open,
    }


def event_rows(events: list[Any]) -> list[dict[str, Any]]:
    """History rows for the templates (a meeting's time read back from the event data)."""
    rows = []
    for e in events:
        data = e.data if isinstance(e.data, dict) else {}
        start = data.get("start_at")
        rows.append({
            "where": data.get("where"),
            "kind": e.kind,
            "actor_name": e.actor_name,
            "text": e.text,
            "created_at": e.created_at,
            "start_at": datetime.fromisoformat(start) if start else None,
        })
    return rows


def component_text(context: ContextTypes.DEFAULT_TYPE, number: int | None) -> str:
    if not number:
        return label(context, "request_other_topic")
    component = services(context).content.catalog.component(number)
    return label(context, "request_component", n=number, name=component.short_name)


def card_markup(context: ContextTypes.DEFAULT_TYPE, view: RequestView) -> Any:
    rid = view.request.id
    if not view.is_open:
        return two_buttons(
            context, "rq_reopen", cb("rq", "reopen", rid),
            "rq_history", cb("rq", "hist", rid),
        )
    rows = []
    if view.request.assignee_telegram_id is None:
        rows.append([button(label(context, "rq_take"), cb("rq", "take", rid))])
    rows.append(
        [
            button(label(context, "rq_schedule"), cb("rq", "sched", rid)),
            button(label(context, "rq_answer"), cb("rq", "ans", rid)),
        ]
    )
    rows.append(
        [
            button(label(context, "rq_wait"), cb("rq", "wait", rid)),
            button(label(context, "rq_close"), cb("rq", "close", rid)),
        ]
    )
    rows.append([button(label(context, "rq_history"), cb("rq", "hist", rid))])
    return inline(rows)


async def actor_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    user = update.effective_user
    assert user is not None
    return (await services(context).roles.display_name(user.id)) or user_display_name(update)


async def require_coordinator(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    return await require(update, context, lambda r: r.is_coordinator, "only_coordinators")


async def _coordinator_targets(context: ContextTypes.DEFAULT_TYPE) -> list[int]:
    s = services(context)
    if s.settings.coordinators_chat_id:
        return [s.settings.coordinators_chat_id]
    coordinators = await s.roles.coordinators()
    return sorted({c.telegram_user_id for c in coordinators} | set(s.roles.admin_ids))


async def post_to_coordinators(
    context: ContextTypes.DEFAULT_TYPE, template: str, view: RequestView, **values: Any
) -> None:
    """A new request (or new information) to the coordinators' chat, or to each of them."""
    markup = card_markup(context, view)
    for chat_id in await _coordinator_targets(context):
        try:
            await send(context, chat_id, template, markup, r=facts(context, view), **values)
        except TelegramError as exc:
            log.warning("could not post request %s to chat %s: %s", view.code, chat_id, exc)


async def notify_officer(
    context: ContextTypes.DEFAULT_TYPE,
    view: RequestView,
    kind: str,
    *,
    message: str | None = None,
    actor: str | None = None,
    actor_id: int | None = None,
    calendar: bool = False,
    **values: Any,
) -> bool:
    """Tell the officer through the broadcast engine (durable; a blocked bot is noted).
    False when there is nobody to tell (no officer, or they left the programme)."""
    chat_id = view.officer_chat_id
    if chat_id is None:
        return False
    s = services(context)
    values.setdefault("moved", False)
    values.setdefault("meeting_cancelled", False)
    text = render(
        context,
        "assistance/to_officer",
        r=facts(context, view),
        kind=kind,
        message=message,
        actor=actor,
        **values,
    )
    attachment = None
    if calendar and view.session is not None:
        builder = CalendarBuilder(
            s.texts, CalendarWords.load(s.settings.content_dir), s.settings.tz
        )
        attachment = Attachment(
            session_filename(view.session), builder.session_file(view.session)
        )
    broadcast_id = await BroadcastService(s.db).create(
        "request_update",
        [OutgoingMessage(chat_id, text, officer_id=view.officer.id if view.officer else None,
                         attachment=attachment)],
        session_id=view.session.id if view.session is not None and calendar else None,
        created_by=actor_id,
        description={"request": view.code, "kind": kind},
    )
    engine_of(context.application).start(broadcast_id)
    return True


def _in_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == chat.PRIVATE


# ---------------------------------------------------------------- officers: intake


async def request_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/solicitar: open (or resume) the officer's intake."""
    await start_intake(update, context)


async def start_intake(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    *,
    topic: str | None = None,
    source: str = "bot",
) -> None:
    """Also the FAQ's hand-off: ``topic`` is the question, carried along."""
    user = update.effective_user
    assert user is not None
    s = services(context)
    user_role = await role(update, context)
    if user_role is not Role.OFFICER:
        await reply(update, context, "assistance/only_officers",
                    coordinator=user_role.is_coordinator)
        return
    dialog = await s.dialogs.get(user.id)
    if dialog is not None and dialog.flow == FLOW and dialog.data.get("mode") == "self":
        if topic is None:
            await reply(update, context, "assistance/resume")
            await prompt(update, context, dialog)
            return
        dialog.data.update(topic=clean_text(topic)[:TOPIC_MAX], source=source)
    else:
        data: dict[str, Any] = {"mode": "self", "source": source}
        if topic:
            data["topic"] = clean_text(topic)[:TOPIC_MAX]
        dialog = Dialog(FLOW, "component", data)
    dialog.step = _next_step(dialog.data)
    await s.dialogs.save(user.id, dialog)
    await prompt(update, context, dialog)


def _steps(data: dict[str, Any]) -> tuple[str, ...]:
    return RECORD_STEPS if data.get("mode") == "record" else SELF_STEPS


def _next_step(data: dict[str, Any]) -> str:
    for step in _steps(data):
        if STEP_KEYS.get(step, step) not in data:
            return step
    return "summary"


async def prompt(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    """Ask for what the current step needs (also after bad input, or after a restart)."""
    s = services(context)
    data = dialog.data
    step = dialog.step
    entity_name = await _entity_name(context, data)
    if step == "entity":
        await reply(update, context, "assistance/record_ask_entity")
    elif step == "source":
        rows = [[button(label(context, f"request_source_{k}"), cb("sq", "src", k))
                 for k in RECORD_SOURCES]]
        await reply(update, context, "assistance/record_ask_source", inline(rows),
                    entity_name=entity_name)
    elif step == "officer":
        views = await s.officers.of_entity(int(data["entity_id"]))
        rows = [[button((v.officer.full_name or "?")[:60], cb("sq", "off", v.officer.id))]
                for v in views if v.officer.status == OfficerStatus.APPROVED.value][:10]
        rows.append([button(label(context, "request_no_officer"), cb("sq", "off", 0))])
        await reply(update, context, "assistance/record_ask_officer", inline(rows),
                    entity_name=entity_name)
    elif step == "component":
        rows = [[button(component_text(context, n), cb("sq", "comp", n))] for n in range(1, 10)]
        rows.append([button(label(context, "request_other_topic"), cb("sq", "comp", 0))])
        await reply(update, context, "assistance/ask_component", inline(rows),
                    mode=data.get("mode"), topic=data.get("topic"), entity_name=entity_name)
    elif step == "topic":
        await reply(update, context, "assistance/ask_topic", max=TOPIC_MAX,
                    current=data.get("topic"))
    elif step == "channel":
        rows = [[button(label(context, f"request_channel_{k}"), cb("sq", "chan", k))
                 for k in CHANNELS[:2]],
                [button(label(context, f"request_channel_{k}"), cb("sq", "chan", k))
                 for k in CHANNELS[2:]]]
        await reply(update, context, "assistance/ask_channel", inline(rows))
    elif step == "availability":
        await reply(update, context, "assistance/ask_availability", max=AVAILABILITY_MAX,
                    current=data.get("availability"))
    else:
        await _show_summary(update, context, dialog, edit=False)


async def _entity_name(context: ContextTypes.DEFAULT_TYPE, data: dict[str, Any]) -> str | None:
    if not data.get("entity_id"):
        return None
    entity = await services(context).entities.get(int(data["entity_id"]))
    return entity.name if entity else None


async def _show_summary(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, *, edit: bool
) -> None:
    s = services(context)
    data = dialog.data
    record = data.get("mode") == "record"
    edits = ["component", "topic", "channel", "availability"]
    if record:
        edits = ["entity", *edits]
    pairs = [button(label(context, f"request_edit_{f}") if f != "entity"
                    else label(context, "edit_entity"), cb("sq", "sum", f)) for f in edits]
    rows = [[button(label(context, "request_submit"), cb("sq", "sum", "submit"))]]
    rows += [pairs[i : i + 2] for i in range(0, len(pairs), 2)]
    rows.append([button(label(context, "cancel"), cb("sq", "sum", "cancel"))])
    officer = None
    if record and data.get("officer_id"):
        view = await s.officers.by_id(int(data["officer_id"]))
        officer = view.officer.full_name if view else None
    values = {
        "entity_name": await _entity_name(context, data) if record else None,
        "source": label(context, f"request_source_{data['source']}") if record else None,
        "officer": officer,
        "component": component_text(context, data.get("component")),
        "channel": label(context, f"request_channel_{data['channel']}"),
        "availability": data.get("availability") or "—",
        "topic": data.get("topic") or "",
    }
    if edit:
        await edit_or_send(update, context, "assistance/summary", inline(rows), **values)
    else:
        await reply(update, context, "assistance/summary", inline(rows), **values)


async def _allowed_in_flow(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog
) -> bool:
    """Recording for others stays a coordinator's; a lost role ends the dialog."""
    if dialog.data.get("mode") != "record":
        return True
    if await require_coordinator(update, context):
        return True
    user = update.effective_user
    assert user is not None
    await services(context).dialogs.clear(user.id)
    return False


async def on_intake_text(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog
) -> None:
    message = update.effective_message
    assert message is not None
    if not await _allowed_in_flow(update, context, dialog):
        return
    text = message.text or ""
    if dialog.step == "entity":
        await _record_search(update, context, dialog, text)
        return
    if dialog.step in TEXT_LIMITS:
        await _take_text(update, context, dialog, dialog.step, text)
        return
    await reply(update, context, "assistance/use_buttons")
    await prompt(update, context, dialog)


async def _take_text(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, step: str, text: str
) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    value = clean_text(text)
    limit = TEXT_LIMITS[step]
    if not value:
        await prompt(update, context, dialog)
        return
    if len(value) > limit:
        dialog.data["overflow"] = value
        await s.dialogs.save(user.id, dialog)
        await reply(update, context, "assistance/too_long",
                    inline([[button(label(context, "request_use_first", max=limit),
                                    cb("sq", "cut"))]]),
                    length=len(value), max=limit)
        return
    dialog.data.pop("overflow", None)
    dialog.data[step] = value
    await _advance(update, context, dialog)


async def _advance(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    user = update.effective_user
    assert user is not None
    dialog.step = _next_step(dialog.data)
    await services(context).dialogs.save(user.id, dialog)
    await prompt(update, context, dialog)


async def on_intake_media(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog
) -> None:
    await reply(update, context, "assistance/use_text")
    await prompt(update, context, dialog)


async def _record_search(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, text: str
) -> None:
    s = services(context)
    matches = await s.entities.search(text, limit=5)
    if not matches:
        await reply(update, context, "assistance/record_entity_not_found", typed=text[:200])
        return
    if len(matches) == 1 or matches[0].confident:
        dialog.data["entity_id"] = int(matches[0].id)
        await _advance(update, context, dialog)
        return
    rows = [[button(m.label, cb("sq", "ent", m.id))] for m in matches]
    await reply(update, context, "assistance/record_entity_choices", inline(rows),
                typed=text[:200])


async def on_intake_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    s = services(context)
    parts = (query.data or "").split(":")
    action = parts[1] if len(parts) > 1 else ""
    args = parts[2:]
    dialog = await s.dialogs.get(user.id)
    if dialog is None or dialog.flow != FLOW:
        await answer(update, context, "stale_button", alert=True)
        return
    if not await _allowed_in_flow(update, context, dialog):
        return
    allowed = {
        "comp": ("component",),
        "chan": ("channel",),
        "src": ("source",),
        "off": ("officer",),
        "ent": ("entity",),
        "sum": ("summary",),
        "cut": tuple(TEXT_LIMITS),
    }.get(action, ())
    if dialog.step not in allowed or len(args) != (0 if action == "cut" else 1):
        await answer(update, context, "stale_button")
        await prompt(update, context, dialog)
        return
    value = args[0] if args else ""
    if action == "comp" and value.isdigit() and 0 <= int(value) <= 9:
        dialog.data["component"] = int(value) or None
    elif action == "chan" and value in CHANNELS:
        dialog.data["channel"] = value
    elif action == "src" and value in RECORD_SOURCES:
        dialog.data["source"] = value
    elif action == "off" and value.isdigit():
        if int(value):
            officer = await s.officers.by_id(int(value))
            if (
                officer is None
                or officer.officer.entity_id != dialog.data.get("entity_id")
                or officer.officer.status != OfficerStatus.APPROVED.value
            ):
                await answer(update, context, "stale_button")
                await prompt(update, context, dialog)
                return
        dialog.data["officer_id"] = int(value) or None
    elif action == "ent" and value.isdigit() and await s.entities.get(int(value)) is not None:
        dialog.data["entity_id"] = int(value)
    elif action == "cut" and dialog.data.get("overflow"):
        limit = TEXT_LIMITS[dialog.step]
        dialog.data[dialog.step] = clean_text(str(dialog.data.pop("overflow"))[:limit])
    elif action == "sum":
        await _on_summary(update, context, dialog, value)
        return
    else:
        await answer(update, context, "stale_button")
        await prompt(update, context, dialog)
        return
    await answer(update, context)
    await _advance(update, context, dialog)


async def _on_summary(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, what: str
) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    if what == "cancel":
        await s.dialogs.clear(user.id)
        await answer(update, context)
        await edit_or_send(update, context, "assistance/cancelled")
        return
    if what == "submit":
        await _submit(update, context, dialog)
        return
    if what == "entity" and dialog.data.get("mode") == "record":
        for key in ("entity_id", "officer_id"):
            dialog.data.pop(key, None)
    elif what in SELF_STEPS:
        dialog.step = what
        if what in ("component", "channel"):
            dialog.data.pop(what, None)
    else:
        await answer(update, context, "stale_button")
        return
    await answer(update, context)
    if what in TEXT_LIMITS:
        dialog.step = what
        await s.dialogs.save(user.id, dialog)
        await prompt(update, context, dialog)
        return
    await _advance(update, context, dialog)


async def _submit(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    data = dialog.data
    record = data.get("mode") == "record"
    if record:
        entity_id = int(data["entity_id"])
        officer_id = int(data["officer_id"]) if data.get("officer_id") else None
        source = str(data["source"])
    else:
        view = await s.officers.by_user(user.id)
        if view is None or view.officer.status != OfficerStatus.APPROVED.value:
            await s.dialogs.clear(user.id)
            await answer(update, context, "only_registered", alert=True)
            await reply(update, context, "assistance/only_officers", coordinator=False)
            return
        entity_id, officer_id = view.entity.id or 0, view.officer.id
        source = str(data.get("source") or "bot")
    draft = RequestDraft(
        entity_id=entity_id,
        officer_id=officer_id,
        component=data.get("component"),
        topic=str(data["topic"]),
        channel=str(data["channel"]),
        availability=str(data.get("availability") or ""),
        source=source,
    )
    created = await s.assistance.create(
        draft, actor_id=user.id, actor_name=await actor_name(update, context)
        if record else None
    )
    await s.dialogs.clear(user.id)
    await answer(update, context)
    await edit_or_send(update, context, "assistance/submitted", code=created.code,
                       mode=data.get("mode"))
    await post_to_coordinators(context, "assistance/new_request", created)
    if record:
        await notify_officer(context, created, "created", actor_id=user.id)


# ---------------------------------------------------------------- officers: their requests


async def mine_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    user_role = await role(update, context)
    view = await s.officers.by_user(user.id)
    if user_role is not Role.OFFICER or view is None:
        await reply(update, context, "assistance/only_officers",
                    coordinator=user_role.is_coordinator)
        return
    views = await s.assistance.for_officer(view.officer.id or 0)
    items = [facts(context, v) for v in views[:20]]
    rows = [[button(label(context, "request_add_info", code=v.code), cb("ri", v.request.id))]
            for v in views[:20] if v.is_open]
    await reply(update, context, "assistance/mine", inline(rows) if rows else None, items=items,
                has_open=bool(rows))


async def on_info_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Agregar información" on one of the officer's open requests."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    s = services(context)
    args = parse_cb(query.data, "ri", 1)
    mine = await _own_request(context, user.id, int(args[0])) if args and args[0].isdigit() \
        else None
    if mine is None:
        await answer(update, context, "stale_button", alert=True)
        return
    if not mine.is_open:
        await answer(update, context, "rq_is_closed", alert=True)
        await reply(update, context, "assistance/request_closed", code=mine.code)
        return
    await s.dialogs.save(user.id, Dialog(INFO_FLOW, "text", {"request_id": mine.request.id}))
    await answer(update, context)
    await reply(update, context, "assistance/ask_info", code=mine.code, max=MESSAGE_MAX)


async def _own_request(
    context: ContextTypes.DEFAULT_TYPE, user_id: int, request_id: int
) -> RequestView | None:
    """The request if it is this approved officer's own; None otherwise (reveals nothing)."""
    s = services(context)
    officer = await s.officers.by_user(user_id)
    if officer is None or officer.officer.status != OfficerStatus.APPROVED.value:
        return None
    view = await s.assistance.get(request_id)
    if view is None or view.request.officer_id != officer.officer.id:
        return None
    return view


async def on_info_text(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    s = services(context)
    mine = await _own_request(context, user.id, int(dialog.data.get("request_id", 0)))
    if mine is None:
        await s.dialogs.clear(user.id)
        await reply(update, context, "assistance/only_officers", coordinator=False)
        return
    text = clean_text(message.text or "")
    if not text:
        await info_prompt(update, context, dialog)
        return
    if len(text) > MESSAGE_MAX:
        await _keep_overflow(update, context, dialog, text, MESSAGE_MAX,
                             cb("ric", mine.request.id))
        return
    await _add_info(update, context, dialog, mine, text)


async def on_info_cut(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Usar los primeros 2000 caracteres" of an over-long "Agregar información"."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    s = services(context)
    args = parse_cb(query.data, "ric", 1)
    dialog = await s.dialogs.get(user.id)
    mine = await _own_request(context, user.id, int(args[0])) if args and args[0].isdigit() \
        else None
    if (mine is None or dialog is None or dialog.flow != INFO_FLOW
            or dialog.data.get("request_id") != mine.request.id
            or not dialog.data.get("overflow")):
        await answer(update, context, "stale_button", alert=True)
        return
    await answer(update, context)
    text = clean_text(str(dialog.data.pop("overflow"))[:MESSAGE_MAX])
    await _add_info(update, context, dialog, mine, text)


async def _keep_overflow(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    dialog: Dialog,
    text: str,
    limit: int,
    data: str,
) -> None:
    """An over-long text is kept in the dialog: shorten it, or use its first ``limit``."""
    user = update.effective_user
    assert user is not None
    dialog.data["overflow"] = text
    await services(context).dialogs.save(user.id, dialog)
    await reply(update, context, "assistance/too_long",
                inline([[button(label(context, "request_use_first", max=limit), data)]]),
                length=len(text), max=limit)


async def _add_info(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    dialog: Dialog,
    mine: RequestView,
    text: str,
) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    change = await s.assistance.add_info(
        mine.request.id or 0, mine.request.officer_id or 0, user.id,
        mine.officer.full_name if mine.officer else None, text,
    )
    if change.outcome is Outcome.CLOSED:
        await s.dialogs.clear(user.id)
        await reply(update, context, "assistance/request_closed", code=mine.code)
        return
    if not change.done or change.view is None:
        await reply(update, context, "assistance/refused", outcome=change.outcome.value,
                    code=mine.code, name=None, typed=text)
        return
    await s.dialogs.clear(user.id)
    await reply(update, context, "assistance/info_added", code=mine.code)
    await post_to_coordinators(context, "assistance/info_to_coordinators", change.view,
                               text=text)


async def info_prompt(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    view = await services(context).assistance.get(int(dialog.data.get("request_id", 0)))
    await reply(update, context, "assistance/ask_info", code=view.code if view else "",
                max=MESSAGE_MAX)


# ---------------------------------------------------------------- /solicitud CODE


async def show_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    user_role = await role(update, context)
    if user_role is Role.GUEST:
        await require(update, context, lambda r: r is not Role.GUEST, "only_registered")
        return
    typed = " ".join(context.args or []).strip()
    officer = user_role is Role.OFFICER
    if not typed:
        await reply(update, context, "assistance/ask_code", officer=officer)
        return
    view = await s.assistance.by_code(typed) if parse_code(typed) else None
    if view is not None and not user_role.is_coordinator:
        view = await _own_request(context, user.id, view.request.id or 0)
    if view is None:
        await reply(update, context, "assistance/not_found", typed=typed, officer=officer)
        return
    events = await s.assistance.history(view.request.id or 0)
    truncated = len(events) > HISTORY_MAX
    events = events[-HISTORY_MAX:]
    if user_role.is_coordinator:
        await reply(update, context, "assistance/history", card_markup(context, view),
                    r=facts(context, view), events=event_rows(events), truncated=truncated)
        return
    markup = None
    if view.is_open:
        markup = inline([[button(label(context, "request_add_info", code=view.code),
                                 cb("ri", view.request.id))]])
    await reply(update, context, "assistance/officer_history", markup,
                r=facts(context, view), events=event_rows(events))


# ---------------------------------------------------------------- coordinators: lists


async def list_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await require_coordinator(update, context):
        return
    typed = (context.args[0] if context.args else "abiertas").casefold()
    typed = {"mías": "mias", "mis": "mias", "todos": "todas", "abiertos": "abiertas"}.get(
        typed, typed
    )
    if typed not in FILTERS:
        await reply(update, context, "assistance/listing_usage", typed=typed)
        return
    await _show_list(update, context, typed, 0, edit=False)


async def _show_list(
    update: Update, context: ContextTypes.DEFAULT_TYPE, which: str, page: int, *, edit: bool
) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    result = await s.assistance.listing(which, user.id, page, PER_PAGE)
    items = [facts(context, v) for v in result.views]
    codes = [button(v.code, cb("rq", "view", v.request.id)) for v in result.views]
    rows = [codes[i : i + 2] for i in range(0, len(codes), 2)]
    nav = []
    if result.page > 0:
        nav.append(button(label(context, "page_prev"), cb("rl", which, result.page - 1)))
    if result.page + 1 < result.pages:
        nav.append(button(label(context, "page_next"), cb("rl", which, result.page + 1)))
    rows.append(nav)
    markup = inline(rows) if any(rows) else None
    values = {
        "which": which,
        "items": items,
        "total": result.total,
        "page": result.page,
        "pages": result.pages,
        "overdue_days": s.settings.request_overdue_days,
    }
    if edit:
        await edit_or_send(update, context, "assistance/listing", markup, **values)
    else:
        await reply(update, context, "assistance/listing", markup, **values)


async def on_list_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    if not await require_coordinator(update, context):
        return
    args = parse_cb(query.data, "rl", 2)
    if args is None or args[0] not in FILTERS or not args[1].isdigit():
        await answer(update, context, "stale_button")
        return
    await answer(update, context)
    await _show_list(update, context, args[0], int(args[1]), edit=True)


# ---------------------------------------------------------------- coordinators: triage


async def on_triage_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    if not await require_coordinator(update, context):
        return
    parts = (query.data or "").split(":")
    if len(parts) < 3 or not parts[2].isdigit():
        await answer(update, context, "stale_button")
        return
    action, request_id, extra = parts[1], int(parts[2]), parts[3:]
    s = services(context)
    view = await s.assistance.get(request_id)
    if view is None:
        await answer(update, context, "rq_not_found", alert=True)
        return
    if action == "view" and not extra:
        await answer(update, context)
        await reply(update, context, "assistance/card", card_markup(context, view),
                    r=facts(context, view))
    elif action == "hist" and not extra:
        await answer(update, context)
        events = await s.assistance.history(request_id)
        await reply(update, context, "assistance/history", card_markup(context, view),
                    r=facts(context, view), events=event_rows(events[-HISTORY_MAX:]),
                    truncated=len(events) > HISTORY_MAX)
    elif action == "take" and not extra:
        await _take(update, context, view)
    elif action == "reopen" and not extra:
        await _reopen(update, context, view)
    elif action in ("ans", "wait", "close", "sched") and not extra:
        await _open_act(update, context, view, action)
    elif action in ("canned", "send", "mod", "skipw", "cut"):
        await _act_button(update, context, view, action, extra)
    else:
        await answer(update, context, "stale_button")


async def _refresh_card(
    update: Update, context: ContextTypes.DEFAULT_TYPE, view: RequestView
) -> None:
    """Show the request's current state on the pressed message."""
    await edit_or_send(update, context, "assistance/card", card_markup(context, view),
                       r=facts(context, view))


async def _refused(
    update: Update, context: ContextTypes.DEFAULT_TYPE, change: Change, fallback: RequestView
) -> None:
    """Answer a press that could not apply (closed, taken by someone, not closed…)."""
    view = change.view or fallback
    if change.outcome is Outcome.TAKEN:
        await answer(update, context, "rq_taken_by", alert=True,
                     name=change.by_name or label(context, "another_coordinator"))
    elif change.outcome is Outcome.ALREADY_YOURS:
        await answer(update, context, "rq_already_yours", alert=True)
    elif change.outcome is Outcome.CLOSED:
        await answer(update, context, "rq_is_closed", alert=True)
    elif change.outcome is Outcome.NOT_CLOSED:
        await answer(update, context, "rq_not_closed", alert=True)
    elif change.outcome is Outcome.NOT_FOUND:
        await answer(update, context, "rq_not_found", alert=True)
        return
    else:
        await answer(update, context, "rq_busy", alert=True)
    await _refresh_card(update, context, view)


async def _take(update: Update, context: ContextTypes.DEFAULT_TYPE, view: RequestView) -> None:
    user = update.effective_user
    assert user is not None
    name = await actor_name(update, context)
    change = await services(context).assistance.take(view.request.id or 0, user.id, name)
    if not change.done or change.view is None:
        await _refused(update, context, change, view)
        return
    await answer(update, context, "rq_took")
    await _refresh_card(update, context, change.view)
    await notify_officer(context, change.view, "taken", actor=name, actor_id=user.id)


async def _reopen(update: Update, context: ContextTypes.DEFAULT_TYPE, view: RequestView) -> None:
    user = update.effective_user
    assert user is not None
    name = await actor_name(update, context)
    change = await services(context).assistance.reopen(view.request.id or 0, user.id, name)
    if not change.done or change.view is None:
        await _refused(update, context, change, view)
        return
    await answer(update, context, "rq_reopened")
    await _refresh_card(update, context, change.view)
    await notify_officer(context, change.view, "reopened", actor=name, actor_id=user.id)


ACT_OF = {"ans": "answer", "wait": "wait", "close": "close", "sched": "schedule"}


async def _open_act(
    update: Update, context: ContextTypes.DEFAULT_TYPE, view: RequestView, action: str
) -> None:
    """Responder, Esperando, Cerrar, Programar: continue in the private chat (a group with
    privacy mode does not show the bot what is typed)."""
    user = update.effective_user
    assert user is not None
    s = services(context)
    if not view.is_open:
        await answer(update, context, "rq_is_closed", alert=True)
        await _refresh_card(update, context, view)
        return
    act = ACT_OF[action]
    data: dict[str, Any] = {"request_id": view.request.id, "act": act}
    pressed = update.callback_query.message if update.callback_query else None
    if pressed is not None and not _in_private(update):  # refreshed when the action is done
        data["card"] = [pressed.chat.id, pressed.message_id]
    dialog = Dialog(ACT_FLOW, "when" if act == "schedule" else "text", data)
    await s.dialogs.save(user.id, dialog)
    try:
        await _act_prompt_to(context, user.id, dialog, view)
    except TelegramError as exc:
        log.info("could not continue request %s privately with %s: %s", view.code, user.id, exc)
        await s.dialogs.clear(user.id)
        await answer(update, context, "rq_open_private", alert=True)
        return
    if _in_private(update):
        await answer(update, context)
    else:
        await answer(update, context, "rq_continue_private")


async def _act_prompt_to(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, dialog: Dialog, view: RequestView
) -> Message:
    act = dialog.data.get("act")
    code, entity = view.code, view.entity.name
    if dialog.step == "when":
        return await send(
            context, chat_id, "assistance/ask_when", code=code, entity=entity,
            current=view.session.start_at
            if view.session is not None and view.session.status == SessionStatus.SCHEDULED.value
            else None,
            availability=view.request.availability,
        )
    if dialog.step == "modality":
        rows = [[button(label(context, f"request_channel_{m}"),
                        cb("rq", "mod", view.request.id, m))] for m in MEETING_MODALITIES]
        return await send(context, chat_id, "assistance/ask_modality", inline(rows),
                          start_at=datetime.fromisoformat(str(dialog.data["start_at"])))
    if dialog.step == "where":
        return await send(
            context, chat_id, "assistance/ask_where",
            inline([[button(label(context, "rq_skip_where"), cb("rq", "skipw", view.request.id))]]),
            modality=dialog.data.get("modality"), max=WHERE_MAX,
        )
    if dialog.step == "canned_confirm":
        canned = _canned(context)
        index = int(dialog.data.get("canned", 0))
        text = canned[index].text if index < len(canned) else ""
        return await send(
            context, chat_id, "assistance/confirm_canned",
            two_buttons(
                context, "rq_send_canned", cb("rq", "send", view.request.id),
                "rq_write_other", cb("rq", "ans", view.request.id),
            ),
            code=code, text=text,
        )
    if act == "answer":
        canned = _canned(context)
        rows = [[button(c.title, cb("rq", "canned", view.request.id, i))]
                for i, c in enumerate(canned)]
        markup = inline(rows) if rows else None
        return await send(context, chat_id, "assistance/ask_answer", markup, code=code,
                          entity=entity, max=MESSAGE_MAX, canned=bool(canned))
    if act == "wait":
        return await send(context, chat_id, "assistance/ask_wait", code=code, entity=entity,
                          max=MESSAGE_MAX)
    meeting = view.session.start_at if view.session is not None and \
        view.session.status == SessionStatus.SCHEDULED.value and \
        view.session.start_at > utcnow() else None
    return await send(context, chat_id, "assistance/ask_close", code=code, entity=entity,
                      max=MESSAGE_MAX, meeting=meeting)


def _canned(context: ContextTypes.DEFAULT_TYPE) -> list[Any]:
    return load_canned_replies(services(context).settings.content_dir)[0]


async def act_prompt(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    user = update.effective_user
    assert user is not None
    view = await services(context).assistance.get(int(dialog.data.get("request_id", 0)))
    if view is None:
        await services(context).dialogs.clear(user.id)
        return
    await _act_prompt_to(context, user.id, dialog, view)


async def _act_dialog(
    update: Update, context: ContextTypes.DEFAULT_TYPE, view: RequestView, steps: tuple[str, ...]
) -> Dialog | None:
    user = update.effective_user
    assert user is not None
    dialog = await services(context).dialogs.get(user.id)
    if (
        dialog is None
        or dialog.flow != ACT_FLOW
        or dialog.data.get("request_id") != view.request.id
        or dialog.step not in steps
    ):
        return None
    return dialog


async def _act_button(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    view: RequestView,
    action: str,
    extra: list[str],
) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    if action == "canned":
        dialog = await _act_dialog(update, context, view, ("text", "canned_confirm"))
        canned = _canned(context)
        if (dialog is None or dialog.data.get("act") != "answer" or len(extra) != 1
                or not extra[0].isdigit() or int(extra[0]) >= len(canned)):
            await answer(update, context, "stale_button", alert=True)
            return
        dialog.step = "canned_confirm"
        dialog.data["canned"] = int(extra[0])
        await s.dialogs.save(user.id, dialog)
        await answer(update, context)
        await _act_prompt_to(context, user.id, dialog, view)
    elif action == "send" and not extra:
        dialog = await _act_dialog(update, context, view, ("canned_confirm",))
        canned = _canned(context)
        index = int(dialog.data.get("canned", -1)) if dialog else -1
        if dialog is None or not 0 <= index < len(canned):
            await answer(update, context, "stale_button", alert=True)
            return
        await answer(update, context)
        await _perform(update, context, dialog, canned[index].text)
    elif action == "mod" and len(extra) == 1 and extra[0] in MEETING_MODALITIES:
        dialog = await _act_dialog(update, context, view, ("modality",))
        if dialog is None:
            await answer(update, context, "stale_button", alert=True)
            return
        dialog.step = "where"
        dialog.data["modality"] = extra[0]
        await s.dialogs.save(user.id, dialog)
        await answer(update, context)
        await _act_prompt_to(context, user.id, dialog, view)
    elif action == "cut" and not extra:
        dialog = await _act_dialog(update, context, view, ("text", "canned_confirm", "where"))
        if dialog is None or not dialog.data.get("overflow"):
            await answer(update, context, "stale_button", alert=True)
            return
        await answer(update, context)
        overflow = str(dialog.data.pop("overflow"))
        if dialog.step == "where":
            await _perform_schedule(update, context, dialog, clean_text(overflow[:WHERE_MAX]))
        else:
            await _perform(update, context, dialog, clean_text(overflow[:MESSAGE_MAX]))
    elif action == "skipw" and not extra:
        dialog = await _act_dialog(update, context, view, ("where",))
        if dialog is None:
            await answer(update, context, "stale_button", alert=True)
            return
        await answer(update, context)
        await _perform_schedule(update, context, dialog, None)
    else:
        await answer(update, context, "stale_button")


async def on_act_text(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    s = services(context)
    if not await require_coordinator(update, context):
        await s.dialogs.clear(user.id)
        return
    text = clean_text(message.text or "")
    if dialog.step in ("text", "canned_confirm"):
        if not text:
            await act_prompt(update, context, dialog)
            return
        if len(text) > MESSAGE_MAX:
            await _keep_overflow(update, context, dialog, text, MESSAGE_MAX,
                                 cb("rq", "cut", dialog.data["request_id"]))
            return
        await _perform(update, context, dialog, text)
    elif dialog.step == "when":
        parsed = parse_when(message.text or "", now=utcnow(), tz=s.settings.tz)
        if not parsed.ok or parsed.value is None:
            await reply(update, context, "assistance/when_invalid",
                        error=parsed.error.value if parsed.error else "unreadable",
                        value=parsed.value, typed=(message.text or "")[:100], max=WHEN_MAX)
            return
        dialog.data["start_at"] = parsed.value.isoformat()
        dialog.step = "modality"
        await s.dialogs.save(user.id, dialog)
        await act_prompt(update, context, dialog)
    elif dialog.step == "where":
        if len(text) > WHERE_MAX:
            await _keep_overflow(update, context, dialog, text, WHERE_MAX,
                                 cb("rq", "cut", dialog.data["request_id"]))
            return
        await _perform_schedule(update, context, dialog, text or None)
    else:
        await reply(update, context, "assistance/use_buttons")
        await act_prompt(update, context, dialog)


async def on_act_media(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    await reply(update, context, "assistance/use_text")
    await act_prompt(update, context, dialog)


async def _perform(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, text: str
) -> None:
    """Responder / Esperando / Cerrar with the coordinator's text."""
    user = update.effective_user
    assert user is not None
    s = services(context)
    request_id = int(dialog.data["request_id"])
    act = dialog.data.get("act")
    name = await actor_name(update, context)
    if act == "answer":
        change = await s.assistance.answer(request_id, user.id, name, text)
        kind = "answered"
    elif act == "wait":
        change = await s.assistance.wait_for_entity(request_id, user.id, name, text)
        kind = "waiting"
    else:
        change = await s.assistance.close(
            request_id, user.id, name, text, s.settings.reminder_offset_list
        )
        kind = "closed"
    await _after_change(update, context, dialog, change, kind, text, name)


async def _perform_schedule(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, where: str | None
) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    request_id = int(dialog.data["request_id"])
    view = await s.assistance.get(request_id)
    if view is None:
        await s.dialogs.clear(user.id)
        return
    start_at = datetime.fromisoformat(str(dialog.data["start_at"]))
    if start_at <= utcnow():  # the dialog waited too long
        dialog.step = "when"
        await s.dialogs.save(user.id, dialog)
        await reply(update, context, "assistance/when_invalid", error="past", value=start_at,
                    typed="", max=WHEN_MAX)
        return
    meeting = Meeting(
        start_at=start_at,
        modality=str(dialog.data.get("modality") or "virtual"),
        where=where,
        title=label(context, "session_title_individual", code=view.code),
        description=view.request.topic[:1000],
        offsets=s.settings.reminder_offset_list,
    )
    name = await actor_name(update, context)
    change = await s.assistance.schedule(request_id, user.id, name, meeting)
    await _after_change(update, context, dialog, change, "scheduled", None, name)


async def _after_change(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    dialog: Dialog,
    change: Change,
    kind: str,
    text: str | None,
    name: str,
) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    await s.dialogs.clear(user.id)
    if not change.done or change.view is None:
        view = change.view
        await reply(update, context, "assistance/refused", outcome=change.outcome.value,
                    code=view.code if view else "", name=change.by_name, typed=text)
        return
    view = change.view
    informed = await notify_officer(
        context, view, kind, message=text, actor=name, actor_id=user.id,
        calendar=kind == "scheduled" or change.meeting_cancelled,
        moved=change.meeting_moved, meeting_cancelled=change.meeting_cancelled,
    )
    await reply(update, context, "assistance/action_done", card_markup(context, view),
                r=facts(context, view), kind=kind, informed=informed,
                moved=change.meeting_moved)
    await _refresh_group_card(context, dialog, view)


async def _refresh_group_card(
    context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, view: RequestView
) -> None:
    """An action begun on the coordinators' group card and finished in the private chat:
    the group's card shows the new state too (it may have been deleted or be too old)."""
    card = dialog.data.get("card")
    if not (isinstance(card, list) and len(card) == 2 and all(isinstance(i, int) for i in card)):
        return
    try:
        await context.bot.edit_message_text(
            render(context, "assistance/card", r=facts(context, view)),
            chat_id=card[0],
            message_id=card[1],
            parse_mode=ParseMode.HTML,
            reply_markup=card_markup(context, view),
            disable_web_page_preview=True,
        )
    except TelegramError as exc:
        log.info("could not refresh the card of %s in chat %s: %s", view.code, card[0], exc)


# ---------------------------------------------------------------- recording and export


async def record_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/registrar_solicitud [entidad]: a request received by phone or e-mail."""
    if not await require_coordinator(update, context):
        return
    user = update.effective_user
    assert user is not None
    dialog = Dialog(FLOW, "entity", {"mode": "record"})
    await services(context).dialogs.save(user.id, dialog)
    typed = " ".join(context.args or []).strip()
    if typed:
        await _record_search(update, context, dialog, typed)
        return
    await prompt(update, context, dialog)


async def export_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/exportar_solicitudes [año] [csv|xlsx]: the spreadsheet, sent in the chat."""
    if not await require_coordinator(update, context):
        return
    s = services(context)
    year: int | None = None
    fmt = "xlsx"
    for arg in context.args or []:
        word = arg.casefold()
        if word in FORMATS:
            fmt = word
        elif word.isdigit() and 2000 <= int(word) <= 2100:
            year = int(word)
        else:
            await reply(update, context, "assistance/export_usage", typed=arg)
            return
    records = await s.assistance.export(year)
    data = export_bytes(fmt, records, s.content.catalog, s.texts, s.settings.tz)
    chat = update.effective_chat
    assert chat is not None
    await context.bot.send_document(
        chat.id,
        InputFile(data, filename=filename(fmt, year)),
        caption=render(context, "assistance/export_sent", year=year, count=len(records)),
        parse_mode=ParseMode.HTML,
    )


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("solicitar", request_command, filters=private))
    app.add_handler(CommandHandler("mis_solicitudes", mine_command, filters=private))
    app.add_handler(CommandHandler("solicitud", show_command, filters=private))
    app.add_handler(CommandHandler("solicitudes", list_command, filters=private))
    app.add_handler(CommandHandler("registrar_solicitud", record_command, filters=private))
    app.add_handler(CommandHandler("exportar_solicitudes", export_command, filters=private))
    app.add_handler(CallbackQueryHandler(on_intake_button, pattern=r"^sq:"))
    app.add_handler(CallbackQueryHandler(on_triage_button, pattern=r"^rq:"))
    app.add_handler(CallbackQueryHandler(on_list_button, pattern=r"^rl:"))
    app.add_handler(CallbackQueryHandler(on_info_button, pattern=r"^ri:"))
    app.add_handler(CallbackQueryHandler(on_info_cut, pattern=r"^ric:"))
    ROUTER.dialog(FLOW, text=on_intake_text, prompt=prompt, media=on_intake_media)
    ROUTER.menu("menu_request", request_command)
    ROUTER.menu("menu_requests", list_command)
    ROUTER.dialog(ACT_FLOW, text=on_act_text, prompt=act_prompt, media=on_act_media)
    ROUTER.dialog(INFO_FLOW, text=on_info_text, prompt=info_prompt, media=on_act_media)
