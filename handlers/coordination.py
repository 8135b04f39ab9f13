"""Coordinators' actions on officers: approvals, invitation links, removal.

The role is read from the database again at every command and every button press, so a forged
or forwarded button does nothing for someone who is not (or no longer) a coordinator.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.dialogs import Dialog
from bot.models import InvitationKind
from bot.officers import DecisionOutcome
from handlers.common import (
    answer,
    button,
    cb,
    edit_or_send,
    inline,
    label,
    main_menu,
    parse_cb,
    reply,
    require,
    send,
    services,
    two_buttons,
    user_display_name,
)
from handlers.router import ROUTER

log = logging.getLogger(__name__)
INVITE_FLOW = "invite"
OFFICERS_FLOW = "officers"


async def require_coordinator(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True for coordinators and admins; otherwise tell the user and log the attempt."""
    return await require(update, context, lambda r: r.is_coordinator, "only_coordinators")


# ---------------------------------------------------------------- approvals


async def notify_pending(context: ContextTypes.DEFAULT_TYPE, officer_id: int) -> None:
    """Post a self-registration to the coordinators' chat (or to each coordinator)."""
    s = services(context)
    view = await s.officers.by_id(officer_id)
    if view is None:
        return
    network = s.content.catalog.maybe_network(view.entity.network)
    markup = two_buttons(
        context, "approve", cb("ap", "y", officer_id),
        "reject", cb("ap", "n", officer_id),
    )
    targets: list[int]
    if s.settings.coordinators_chat_id:
        targets = [s.settings.coordinators_chat_id]
    else:
        coordinators = await s.roles.coordinators()
        targets = sorted({c.telegram_user_id for c in coordinators} | set(s.roles.admin_ids))
    for chat_id in targets:
        try:
            await send(
                context,
                chat_id,
                "coordination/pending_registration",
                markup,
                officer=view.officer,
                entity=view.entity,
                network=network,
            )
        except TelegramError as exc:
            log.warning("could not notify coordinators in chat %s: %s", chat_id, exc)


async def on_approval(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    if not await require_coordinator(update, context):
        return
    args = parse_cb(query.data, "ap", 2)
    if args is None or args[0] not in ("y", "n") or not args[1].isdigit():
        await answer(update, context, "stale_button")
        return
    s = services(context)
    user = update.effective_user
    assert user is not None
    decision = await s.officers.decide(int(args[1]), args[0] == "y", user.id)
    if decision.outcome is DecisionOutcome.NOT_FOUND or decision.officer is None:
        await answer(update, context, "stale_button", alert=True)
        return
    officer = decision.officer
    by_name = user_display_name(update)
    if decision.outcome is DecisionOutcome.ALREADY_DECIDED:
        by_name = (await s.roles.display_name(officer.decided_by or 0)) or label(
            context, "another_coordinator"
        )
        await answer(update, context, "already_decided", alert=True, name=by_name)
    else:
        await answer(update, context)
    await edit_or_send(
        update,
        context,
        "coordination/registration_decided",
        officer=officer,
        entity=decision.entity,
        by_name=by_name,
    )
    if decision.outcome is DecisionOutcome.DONE and officer.telegram_user_id:
        template = (
            "registration/approved" if officer.status == "approved" else "registration/rejected"
        )
        officer_role = await s.roles.role_of(officer.telegram_user_id)
        try:
            await send(
                context,
                officer.telegram_user_id,
                template,
                main_menu(context, officer_role),
                entity=decision.entity,
            )
        except TelegramError as exc:
            log.warning("could not tell officer %s of the decision: %s", officer.id, exc)


async def pending_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await require_coordinator(update, context):
        return
    s = services(context)
    pending = await s.officers.pending()
    await reply(update, context, "coordination/pending_list", count=len(pending))
    for view in pending[:20]:
        network = s.content.catalog.maybe_network(view.entity.network)
        markup = two_buttons(
            context, "approve", cb("ap", "y", view.officer.id),
            "reject", cb("ap", "n", view.officer.id),
        )
        await reply(
            update,
            context,
            "coordination/pending_registration",
            markup,
            officer=view.officer,
            entity=view.entity,
            network=network,
        )


# ---------------------------------------------------------------- invitations


async def invite_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await require_coordinator(update, context):
        return
    query = " ".join(context.args or []).strip()
    if not query:
        await _ask_entity(update, context, INVITE_FLOW)
        return
    await _pick_entity(update, context, query, "iv")


async def _ask_entity(update: Update, context: ContextTypes.DEFAULT_TYPE, flow: str) -> None:
    user = update.effective_user
    assert user is not None
    await services(context).dialogs.save(user.id, Dialog(flow, "entity"))
    await reply(update, context, f"coordination/{flow}_ask_entity")


async def _pick_entity(
    update: Update, context: ContextTypes.DEFAULT_TYPE, query: str, prefix: str
) -> None:
    """Search an entity; act at once on a confident match, else offer the candidates."""
    s = services(context)
    matches = await s.entities.search(query, limit=5)
    user = update.effective_user
    assert user is not None
    if not matches:
        await reply(update, context, "coordination/entity_not_found", typed=query[:200])
        return
    await s.dialogs.clear(user.id)
    if len(matches) == 1 or matches[0].confident:
        if prefix == "iv":
            await _issue_entity_link(update, context, int(matches[0].id))
        else:
            await _list_officers(update, context, int(matches[0].id))
        return
    rows = [[button(m.label, cb(prefix, "ent", m.id))] for m in matches]
    await reply(update, context, "coordination/entity_choices", inline(rows), typed=query[:200])


async def _issue_entity_link(
    update: Update, context: ContextTypes.DEFAULT_TYPE, entity_id: int
) -> None:
    s = services(context)
    user = update.effective_user
    assert user is not None
    entity = await s.entities.get(entity_id)
    if entity is None:
        await reply(update, context, "coordination/entity_not_found", typed="")
        return
    issued = await s.invitations.issue(
        InvitationKind.ENTITY, entity_id=entity_id, created_by=user.id
    )
    markup = inline([[button(label(context, "revoke_link"), cb("iv", "rv", issued.invitation.id))]])
    await reply(
        update,
        context,
        "coordination/invitation_link",
        markup,
        entity=entity,
        link=issued.link(context.bot.username),
        expires_at=issued.invitation.expires_at,
    )


async def on_invite_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    if not await require_coordinator(update, context):
        return
    args = parse_cb(query.data, "iv", 2)
    if args is None or not args[1].isdigit():
        await answer(update, context, "stale_button")
        return
    s = services(context)
    if args[0] == "ent":
        await answer(update, context)
        await _issue_entity_link(update, context, int(args[1]))
    elif args[0] == "rv":
        revoked = await s.invitations.revoke(int(args[1]))
        await answer(
            update, context, "link_revoked" if revoked else "link_already_revoked", alert=True
        )
        if revoked:
            await edit_or_send(update, context, "coordination/invitation_revoked")
    else:
        await answer(update, context, "stale_button")


# ---------------------------------------------------------------- officers of an entity


async def officers_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await require_coordinator(update, context):
        return
    query = " ".join(context.args or []).strip()
    if not query:
        await _ask_entity(update, context, OFFICERS_FLOW)
        return
    await _pick_entity(update, context, query, "of")


async def _list_officers(
    update: Update, context: ContextTypes.DEFAULT_TYPE, entity_id: int
) -> None:
    s = services(context)
    entity = await s.entities.get(entity_id)
    views = await s.officers.of_entity(entity_id)
    rows = [
        [
            button(
                label(context, "remove_officer", name=(v.officer.full_name or "?")[:40]),
                cb("of", "rm", v.officer.id),
            )
        ]
        for v in views
    ]
    await reply(
        update, context, "coordination/officers_of_entity", inline(rows), entity=entity, views=views
    )


async def on_officers_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    if not await require_coordinator(update, context):
        return
    args = parse_cb(query.data, "of", 2)
    if args is None or not args[1].isdigit():
        await answer(update, context, "stale_button")
        return
    s = services(context)
    user = update.effective_user
    assert user is not None
    target = int(args[1])
    if args[0] == "ent":
        await answer(update, context)
        await _list_officers(update, context, target)
    elif args[0] == "rm":
        view = await s.officers.by_id(target)
        if view is None:
            await answer(update, context, "stale_button", alert=True)
            return
        await answer(update, context)
        markup = two_buttons(
            context, "confirm_remove", cb("of", "ok", target),
            "keep", cb("of", "no", target),
        )
        await reply(
            update,
            context,
            "coordination/confirm_remove",
            markup,
            officer=view.officer,
            entity=view.entity,
        )
    elif args[0] == "ok":
        decision = await s.officers.remove(target, user.id)
        if decision.outcome is not DecisionOutcome.DONE or decision.officer is None:
            await answer(update, context, "already_removed", alert=True)
            await edit_or_send(update, context, "coordination/remove_stale")
            return
        await answer(update, context)
        await edit_or_send(
            update,
            context,
            "coordination/officer_removed",
            officer=decision.officer,
            entity=decision.entity,
        )
        tg_id = decision.officer.telegram_user_id
        if tg_id:
            await services(context).dialogs.clear(tg_id)
            try:
                await send(
                    context,
                    tg_id,
                    "registration/removed_notice",
                    main_menu(context, await s.roles.role_of(tg_id)),
                    entity=decision.entity,
                )
            except TelegramError as exc:
                log.warning("could not tell officer %s of the removal: %s", target, exc)
    elif args[0] == "no":
        await answer(update, context)
        await edit_or_send(update, context, "coordination/remove_kept")
    else:
        await answer(update, context, "stale_button")


async def on_entity_text(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog
) -> None:
    """Typed entity name after 'Invitar entidad' / 'Oficiales' from the menu."""
    if not await require_coordinator(update, context):
        user = update.effective_user
        if user is not None:
            await services(context).dialogs.clear(user.id)
        return
    message = update.effective_message
    assert message is not None
    await _pick_entity(
        update, context, message.text or "", "iv" if dialog.flow == INVITE_FLOW else "of"
    )


async def reprompt_entity(
    update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog
) -> None:
    await reply(update, context, f"coordination/{dialog.flow}_ask_entity")


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("pendientes", pending_command, filters=private))
    app.add_handler(CommandHandler("invitar", invite_command, filters=private))
    app.add_handler(CommandHandler("oficiales", officers_command, filters=private))
    app.add_handler(CallbackQueryHandler(on_approval, pattern=r"^ap:"))
    app.add_handler(CallbackQueryHandler(on_invite_button, pattern=r"^iv:"))
    app.add_handler(CallbackQueryHandler(on_officers_button, pattern=r"^of:"))
    for flow in (INVITE_FLOW, OFFICERS_FLOW):
        ROUTER.dialog(flow, text=on_entity_text, prompt=reprompt_entity)
    ROUTER.menu("menu_pending", pending_command)
    ROUTER.menu("menu_invite", lambda u, c: _menu_entity(u, c, INVITE_FLOW))
    ROUTER.menu("menu_officers", lambda u, c: _menu_entity(u, c, OFFICERS_FLOW))


async def _menu_entity(update: Update, context: ContextTypes.DEFAULT_TYPE, flow: str) -> None:
    if await require_coordinator(update, context):
        await _ask_entity(update, context, flow)
