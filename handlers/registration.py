"""Registration of officers: consent, entity choice, profile fields, confirmation.

Every step is saved in the database as soon as it is answered (``bot.dialogs``), so a restart of
the bot, a stray sticker or a wrong button never loses what the officer already typed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.db import utcnow
from bot.dialogs import Dialog
from bot.entity_search import button_label
from bot.invitations import InvitationProblem, looks_like_invitation
from bot.models import OfficerStatus
from bot.officers import RegistrationDraft, SubmitOutcome
from bot.validation import check_email, check_name, check_phone, check_position
from handlers import admin, coordination
from handlers.common import (
    answer,
    button,
    cb,
    edit_or_send,
    inline,
    label,
    main_menu,
    reply,
    services,
    two_buttons,
)
from handlers.router import ROUTER

FLOW = "registration"
PREFIX = "rg"
PER_PAGE = 8
NETWORKS_PER_PAGE = 14
FIELD_STEPS = ("full_name", "position", "email", "phone")
OPTIONAL = ("email", "phone")
CHECKS = {
    "full_name": check_name,
    "position": check_position,
    "email": check_email,
    "phone": check_phone,
}
NEXT_STEP = {
    "entity": "full_name",
    "full_name": "position",
    "position": "email",
    "email": "phone",
    "phone": "summary",
}
BROWSE_STEPS = ("entity", "entity_confirm")


# ---------------------------------------------------------------- /start and consent


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    payload = context.args[0] if context.args else None
    if payload and payload.startswith("c_"):
        await admin.accept_coordinator_invitation(update, context, payload)
        return
    user_role = await s.roles.role_of(user.id)
    if user_role.is_coordinator:
        await reply(update, context, "start/coordinator", main_menu(context, user_role))
        return
    view = await s.officers.by_user(user.id)
    if view is not None and view.officer.status == OfficerStatus.APPROVED.value:
        await reply(
            update,
            context,
            "registration/already_registered",
            main_menu(context, user_role),
            entity=view.entity,
            invited=bool(payload),
        )
        return
    if view is not None and view.officer.status == OfficerStatus.PENDING.value:
        await reply(update, context, "registration/pending_already", entity=view.entity)
        return
    dialog = await s.dialogs.get(user.id)
    if dialog is not None and dialog.flow == FLOW and not payload:
        await reply(update, context, "registration/resume")
        await prompt(update, context, dialog)
        return
    entity = None
    if payload:
        check = await s.invitations.check(payload) if looks_like_invitation(payload) else None
        if check is None or check.problem is not None:
            problem = check.problem if check else InvitationProblem.UNKNOWN
            await reply(update, context, "registration/link_invalid", problem=problem.value)
            payload = None
        else:
            entity = check.entity
    was_removed = view is not None and view.officer.status == OfficerStatus.REMOVED.value
    await reply(
        update,
        context,
        "registration/welcome",
        two_buttons(
            context, "consent_accept", cb(PREFIX, "consent", payload or "-"),
            "consent_decline", cb(PREFIX, "decline"),
        ),
        entity=entity,
        was_removed=was_removed,
    )


async def on_consent(update: Update, context: ContextTypes.DEFAULT_TYPE, payload: str) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    view = await s.officers.by_user(user.id)
    if view is not None and view.officer.status in (
        OfficerStatus.APPROVED.value,
        OfficerStatus.PENDING.value,
    ):
        await answer(update, context, "stale_button")
        await edit_or_send(
            update, context, "registration/already_registered", entity=view.entity, invited=False
        )
        return
    previous = await s.dialogs.get(user.id)
    if previous is not None and previous.flow != FLOW:
        previous = None
    if previous is not None and payload in ("-", previous.data.get("payload")):
        # the welcome's button pressed again mid-registration: keep everything, carry on
        await answer(update, context)
        await reply(update, context, "registration/resume")
        await prompt(update, context, previous)
        return
    await answer(update, context)
    data: dict[str, Any] = {"consent_at": utcnow().isoformat()}
    if previous is not None:  # a new invitation link mid-registration: keep what was typed
        data.update({k: previous.data[k] for k in FIELD_STEPS if previous.data.get(k)})
    step = "entity"
    if payload != "-":
        invited = await s.officers.invitation_start(payload)
        if invited.problem is not None or invited.entity is None:
            problem = (invited.problem or InvitationProblem.UNKNOWN).value
            await reply(update, context, "registration/link_invalid", problem=problem)
        else:
            data.update(payload=payload, entity_id=invited.entity.id, entity_fixed=True)
            data.update(invited.prefill)
            step = "summary" if data.get("full_name") and data.get("position") else "full_name"
    dialog = Dialog(FLOW, step, data)
    await s.dialogs.save(user.id, dialog)
    await edit_or_send(update, context, "registration/consent_given")
    await prompt(update, context, dialog)


async def on_decline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    dialog = await s.dialogs.get(user.id)
    if dialog is not None and dialog.flow == FLOW:
        await s.dialogs.clear(user.id)
    await answer(update, context)
    await edit_or_send(update, context, "registration/declined")


# ---------------------------------------------------------------- prompts


async def prompt(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    """Ask for what the current step needs (also used to re-ask after bad input)."""
    step = dialog.step
    data = dialog.data
    if step == "entity":
        await reply(update, context, "registration/ask_entity", levels_keyboard(context))
    elif step == "entity_confirm":
        await _ask_entity_confirm(update, context, int(data["candidate_id"]), edit=False)
    elif step in FIELD_STEPS:
        skip = None
        if step in OPTIONAL:
            skip = inline([[button(label(context, "skip"), cb(PREFIX, "skip", step))]])
        await reply(
            update,
            context,
            f"registration/ask_{step}",
            skip,
            current=data.get(step),
            editing=bool(data.get("editing")),
        )
    elif step == "summary":
        await _show_summary(update, context, dialog, edit=False)


def levels_keyboard(context: ContextTypes.DEFAULT_TYPE) -> Any:
    catalog = services(context).content.catalog
    levels = catalog.ordered_levels()
    return inline([[button(lv.name, cb(PREFIX, "lvl", lv.code))] for lv in levels])


async def _ask_entity_confirm(
    update: Update, context: ContextTypes.DEFAULT_TYPE, entity_id: int, *, edit: bool
) -> None:
    s = services(context)
    entity = await s.entities.get(entity_id)
    network = s.content.catalog.maybe_network(entity.network) if entity else None
    markup = inline(
        [
            [button(label(context, "entity_yes"), cb(PREFIX, "ent_ok", entity_id))],
            [button(label(context, "entity_other"), cb(PREFIX, "ent_other"))],
        ]
    )
    if edit:
        await edit_or_send(
            update, context, "registration/confirm_entity", markup, entity=entity, network=network
        )
    else:
        await reply(
            update, context, "registration/confirm_entity", markup, entity=entity, network=network
        )


async def _show_summary(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, *, edit: bool
) -> None:
    s = services(context)
    data = dialog.data
    entity = await s.entities.get(int(data["entity_id"]))
    rows = [[button(label(context, "submit"), cb(PREFIX, "sum", "submit"))]]
    edits = [f for f in FIELD_STEPS]
    if not data.get("entity_fixed"):
        edits = ["entity", *edits]
    pairs = [button(label(context, f"edit_{f}"), cb(PREFIX, "sum", f)) for f in edits]
    rows += [pairs[i : i + 2] for i in range(0, len(pairs), 2)]
    rows.append([button(label(context, "cancel"), cb(PREFIX, "sum", "cancel"))])
    values = {"entity": entity, "data": data, "invited": bool(data.get("payload"))}
    if edit:
        await edit_or_send(update, context, "registration/summary", inline(rows), **values)
    else:
        await reply(update, context, "registration/summary", inline(rows), **values)


# ---------------------------------------------------------------- typed answers


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    text = message.text or ""
    step = dialog.step
    services(context)
    if step in BROWSE_STEPS:
        await _search(update, context, dialog, text)
        return
    if step in FIELD_STEPS:
        checked = CHECKS[step](text)
        if not checked.ok:
            await reply(
                update,
                context,
                "registration/invalid",
                error=checked.error,
                field=step,
                typed=text[:200],
            )
            return
        dialog.data[step] = checked.value
        await _advance(update, context, dialog, step)
        return
    await reply(update, context, "registration/use_buttons")
    await prompt(update, context, dialog)


async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    message = update.effective_message
    if dialog.step == "phone" and message is not None and message.contact is not None:
        checked = check_phone(message.contact.phone_number)
        if checked.ok:
            dialog.data["phone"] = checked.value
            await _advance(update, context, dialog, "phone")
            return
    await reply(update, context, "registration/media_in_step", step=dialog.step)
    await prompt(update, context, dialog)


async def _advance(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, done_step: str
) -> None:
    user = update.effective_user
    assert user is not None
    if dialog.data.pop("editing", False) and dialog.data.get("entity_id"):
        dialog.step = "summary"
    else:
        dialog.step = NEXT_STEP[done_step]
        if (
            dialog.step in FIELD_STEPS
            and dialog.data.get(dialog.step)
            and dialog.data.get("entity_fixed")
            and dialog.data.get("payload", "").startswith("p_")
        ):
            dialog.step = "summary"
    await services(context).dialogs.save(user.id, dialog)
    await prompt(update, context, dialog)


async def _search(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, text: str
) -> None:
    s = services(context)
    user = update.effective_user
    assert user is not None
    matches = await s.entities.search(text, limit=5)
    if not matches:
        await reply(
            update,
            context,
            "registration/entity_not_found",
            levels_keyboard(context),
            typed=text[:200],
        )
        return
    if len(matches) == 1 or matches[0].confident:
        dialog.step = "entity_confirm"
        dialog.data["candidate_id"] = matches[0].id
        await s.dialogs.save(user.id, dialog)
        await _ask_entity_confirm(update, context, int(matches[0].id), edit=False)
        return
    rows = [[button(m.label, cb(PREFIX, "ent", m.id))] for m in matches]
    rows.append([button(label(context, "none_of_these"), cb(PREFIX, "levels"))])
    await reply(update, context, "registration/entity_choices", inline(rows), typed=text[:200])


# ---------------------------------------------------------------- buttons


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    parts = (query.data or "").split(":")
    action = parts[1] if len(parts) > 1 else ""
    if action == "consent" and len(parts) == 3:
        await on_consent(update, context, parts[2])
        return
    if action == "decline" and len(parts) == 2:
        await on_decline(update, context)
        return
    s = services(context)
    dialog = await s.dialogs.get(user.id)
    if dialog is None or dialog.flow != FLOW:
        await answer(update, context, "stale_button", alert=True)
        return
    handler = _BUTTONS.get(action)
    allowed = _ALLOWED_STEPS.get(action, ())
    if handler is None or dialog.step not in allowed:
        await answer(update, context, "stale_button")
        await reply(update, context, "registration/stale_step")
        await prompt(update, context, dialog)
        return
    await handler(update, context, dialog, parts[2:])


async def _on_levels(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, args: list[str]
) -> None:
    await answer(update, context)
    await edit_or_send(update, context, "registration/ask_entity", levels_keyboard(context))


async def _on_level(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, args: list[str]
) -> None:
    """A level's networks, two per row, paginated (25 regional networks would be a long list)."""
    catalog = services(context).content.catalog
    level = catalog.maybe_level(args[0]) if args else None
    page_no = int(args[1]) if len(args) == 2 and args[1].isdigit() else 0
    if level is None or len(args) > 2:
        await answer(update, context, "stale_button")
        return
    networks = catalog.networks_of(level.code)
    if len(networks) == 1:
        await _show_network(update, context, networks[0].code, 0)
        return
    pages = max(1, -(-len(networks) // NETWORKS_PER_PAGE))
    page_no = min(page_no, pages - 1)
    shown = networks[page_no * NETWORKS_PER_PAGE : (page_no + 1) * NETWORKS_PER_PAGE]
    counts = await services(context).entities.counts_by_network()
    cells = [
        button(f"{n.short_name} ({counts.get(n.code, 0)})", cb(PREFIX, "net", n.code, 0))
        for n in shown
    ]
    grid = [cells[i : i + 2] for i in range(0, len(cells), 2)]
    nav = []
    if page_no > 0:
        nav.append(button(label(context, "page_prev"), cb(PREFIX, "lvl", level.code, page_no - 1)))
    if page_no + 1 < pages:
        nav.append(button(label(context, "page_next"), cb(PREFIX, "lvl", level.code, page_no + 1)))
    grid.append(nav)
    grid.append([button(label(context, "back_levels"), cb(PREFIX, "levels"))])
    await answer(update, context)
    await edit_or_send(
        update,
        context,
        "registration/choose_network",
        inline(grid),
        level=level,
        page=page_no,
        pages=pages,
    )


async def _on_network(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, args: list[str]
) -> None:
    if len(args) != 2 or not args[1].isdigit():
        await answer(update, context, "stale_button")
        return
    await _show_network(update, context, args[0], int(args[1]))


async def _show_network(
    update: Update, context: ContextTypes.DEFAULT_TYPE, code: str, page_no: int
) -> None:
    s = services(context)
    network = s.content.catalog.maybe_network(code)
    if network is None:
        await answer(update, context, "stale_button")
        return
    page = await s.entities.page_of_network(code, page_no, PER_PAGE)
    rows = [
        [button(button_label(e.name, e.acronym), cb(PREFIX, "ent", e.id))] for e in page.items
    ]
    nav = []
    if page.page > 0:
        nav.append(button(label(context, "page_prev"), cb(PREFIX, "net", code, page.page - 1)))
    if page.page + 1 < page.pages:
        nav.append(button(label(context, "page_next"), cb(PREFIX, "net", code, page.page + 1)))
    rows.append(nav)
    siblings = s.content.catalog.networks_of(network.level)
    back = (
        button(label(context, "back_networks"), cb(PREFIX, "lvl", network.level))
        if len(siblings) > 1
        else button(label(context, "back_levels"), cb(PREFIX, "levels"))
    )
    rows.append([back])
    await answer(update, context)
    await edit_or_send(
        update, context, "registration/choose_entity", inline(rows), network=network, page=page
    )


async def _on_entity(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, args: list[str]
) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    entity = await s.entities.get(int(args[0])) if len(args) == 1 and args[0].isdigit() else None
    if entity is None:
        await answer(update, context, "stale_button")
        return
    dialog.step = "entity_confirm"
    dialog.data["candidate_id"] = entity.id
    await s.dialogs.save(user.id, dialog)
    await answer(update, context)
    await _ask_entity_confirm(update, context, entity.id or 0, edit=True)


async def _on_entity_ok(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, args: list[str]
) -> None:
    if args != [str(dialog.data.get("candidate_id"))]:
        await answer(update, context, "stale_button")
        await prompt(update, context, dialog)
        return
    dialog.data["entity_id"] = dialog.data.pop("candidate_id")
    await answer(update, context)
    await edit_or_send(
        update,
        context,
        "registration/entity_chosen",
        entity=await services(context).entities.get(int(dialog.data["entity_id"])),
    )
    await _advance(update, context, dialog, "entity")


async def _on_entity_other(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, args: list[str]
) -> None:
    user = update.effective_user
    assert user is not None
    dialog.step = "entity"
    dialog.data.pop("candidate_id", None)
    await services(context).dialogs.save(user.id, dialog)
    await answer(update, context)
    await edit_or_send(update, context, "registration/ask_entity", levels_keyboard(context))


async def _on_skip(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, args: list[str]
) -> None:
    if args != [dialog.step]:
        await answer(update, context, "stale_button")
        await prompt(update, context, dialog)
        return
    dialog.data[dialog.step] = None
    await answer(update, context)
    await _advance(update, context, dialog, dialog.step)


async def _on_summary(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog, args: list[str]
) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    what = args[0] if len(args) == 1 else ""
    if what == "cancel":
        await s.dialogs.clear(user.id)
        await answer(update, context)
        await edit_or_send(update, context, "registration/cancelled")
        return
    if what == "entity" and not dialog.data.get("entity_fixed"):
        dialog.step = "entity"
        dialog.data["editing"] = True
        await s.dialogs.save(user.id, dialog)
        await answer(update, context)
        await edit_or_send(update, context, "registration/ask_entity", levels_keyboard(context))
        return
    if what in FIELD_STEPS:
        dialog.step = what
        dialog.data["editing"] = True
        await s.dialogs.save(user.id, dialog)
        await answer(update, context)
        await prompt(update, context, dialog)
        return
    if what == "submit":
        await _submit(update, context, dialog)
        return
    await answer(update, context, "stale_button")


async def _submit(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    data = dialog.data
    draft = RegistrationDraft(
        entity_id=int(data["entity_id"]),
        full_name=str(data["full_name"]),
        position=str(data["position"]),
        email=data.get("email"),
        phone=data.get("phone"),
    )
    consent_at = datetime.fromisoformat(str(data["consent_at"]))
    result = await s.officers.submit(user.id, draft, consent_at, data.get("payload"))
    await answer(update, context)
    if result.outcome is SubmitOutcome.INVITATION_INVALID:
        data.pop("payload", None)
        data.pop("entity_fixed", None)
        await s.dialogs.save(user.id, dialog)
        await reply(
            update,
            context,
            "registration/link_invalid",
            problem=(result.problem or InvitationProblem.UNKNOWN).value,
        )
        await _show_summary(update, context, dialog, edit=False)
        return
    if result.outcome is SubmitOutcome.ENTITY_UNKNOWN:
        dialog.step = "entity"
        await s.dialogs.save(user.id, dialog)
        await prompt(update, context, dialog)
        return
    await s.dialogs.clear(user.id)
    if result.outcome is SubmitOutcome.ALREADY_REGISTERED:
        await edit_or_send(update, context, "registration/pending_already", entity=result.entity)
        return
    await edit_or_send(
        update, context, "registration/summary_sent", entity=result.entity, data=data
    )
    if result.outcome is SubmitOutcome.APPROVED:
        user_role = await s.roles.role_of(user.id)
        await reply(
            update,
            context,
            "registration/approved_welcome",
            main_menu(context, user_role),
            entity=result.entity,
        )
        return
    await reply(update, context, "registration/submitted", entity=result.entity)
    assert result.officer is not None and result.entity is not None
    await coordination.notify_pending(context, result.officer.id or 0)


_BUTTONS = {
    "levels": _on_levels,
    "lvl": _on_level,
    "net": _on_network,
    "ent": _on_entity,
    "ent_ok": _on_entity_ok,
    "ent_other": _on_entity_other,
    "skip": _on_skip,
    "sum": _on_summary,
}
_ALLOWED_STEPS: dict[str, tuple[str, ...]] = {
    "levels": BROWSE_STEPS,
    "lvl": BROWSE_STEPS,
    "net": BROWSE_STEPS,
    "ent": BROWSE_STEPS,
    "ent_ok": ("entity_confirm",),
    "ent_other": BROWSE_STEPS,
    "skip": OPTIONAL,
    "sum": ("summary",),
}


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(CommandHandler("start", start, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(on_button, pattern=rf"^{PREFIX}:"))
    ROUTER.dialog(FLOW, text=on_text, prompt=prompt, media=on_media)
