"""Admins appoint and remove coordinators (single-use links, so nobody types numeric ids)."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.invitations import InvitationProblem
from bot.models import InvitationKind
from bot.roles import Role
from handlers.command_menu import set_all_commands, set_commands_for
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
    user_display_name,
)
from handlers.router import ROUTER

log = logging.getLogger(__name__)


async def _require_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    return await require(update, context, lambda r: r is Role.ADMIN, "only_admins")


async def coordinators_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await _require_admin(update, context):
        return
    s = services(context)
    coordinators = await s.roles.coordinators()
    rows = [
        [
            button(
                label(context, "remove_coordinator", name=c.display_name[:40]), cb("co", "rm", c.id)
            )
        ]
        for c in coordinators
    ]
    rows.append([button(label(context, "appoint_coordinator"), cb("co", "new", 0))])
    await reply(update, context, "admin/coordinators", inline(rows), coordinators=coordinators)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    if not await _require_admin(update, context):
        return
    args = parse_cb(query.data, "co", 2)
    if args is None or not args[1].isdigit():
        await answer(update, context, "stale_button")
        return
    s = services(context)
    user = update.effective_user
    assert user is not None
    if args[0] == "new":
        issued = await s.invitations.issue(InvitationKind.COORDINATOR, created_by=user.id)
        await answer(update, context)
        await reply(
            update,
            context,
            "admin/coordinator_link",
            link=issued.link(context.bot.username),
            expires_at=issued.invitation.expires_at,
        )
    elif args[0] == "rm":
        removed = await s.roles.remove(int(args[1]))
        if removed is None:
            await answer(update, context, "stale_button", alert=True)
            return
        await answer(update, context)
        await edit_or_send(update, context, "admin/coordinator_removed", coordinator=removed)
        new_role = await s.roles.role_of(removed.telegram_user_id)
        await set_commands_for(context.bot, s, removed.telegram_user_id, new_role)
        try:
            await send(
                context,
                removed.telegram_user_id,
                "admin/you_were_removed",
                main_menu(context, new_role),
            )
        except TelegramError as exc:
            log.info("could not tell coordinator %s: %s", removed.id, exc)
    else:
        await answer(update, context, "stale_button")


async def accept_coordinator_invitation(
    update: Update, context: ContextTypes.DEFAULT_TYPE, payload: str
) -> None:
    """``/start c_<token>``: the person opening an admin's link becomes a coordinator."""
    s = services(context)
    user = update.effective_user
    assert user is not None
    appointment = await s.roles.accept_invitation(payload, user.id, user_display_name(update))
    coordinator = appointment.coordinator
    if coordinator is None:
        problem = (appointment.problem or InvitationProblem.UNKNOWN).value
        await reply(update, context, "registration/link_invalid", problem=problem)
        return
    new_role = await s.roles.role_of(user.id)
    await set_commands_for(context.bot, s, user.id, new_role)
    await reply(
        update,
        context,
        "admin/welcome_coordinator",
        main_menu(context, new_role),
        coordinator=coordinator,
    )
    if appointment.invited_by:
        try:
            await send(
                context, appointment.invited_by, "admin/coordinator_joined", coordinator=coordinator
            )
        except TelegramError as exc:
            log.info("could not tell the admin: %s", exc)


async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Reload content/ without restarting; a bad file keeps the old content live."""
    if not await _require_admin(update, context):
        return
    s = services(context)
    problems = s.reload_content()
    if problems:
        log.warning("content reload refused: %d problem(s)", len(problems))
        await reply(update, context, "admin/reload_failed", problems=[str(p) for p in problems])
        return
    await set_all_commands(context.bot, s)
    await reply(update, context, "admin/reloaded", entries=len(s.faq.knowledge.entries))


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(
        CommandHandler("coordinadores", coordinators_command, filters=filters.ChatType.PRIVATE)
    )
    app.add_handler(CommandHandler("recargar", reload_command, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(on_button, pattern=r"^co:"))
    ROUTER.menu("menu_coordinators", coordinators_command)
