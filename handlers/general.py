"""What every user meets: /ayuda, /menu, /cancelar, the text router, and every odd input
(unknown commands, stickers and photos, edited messages, group chats, stale buttons, errors)."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.models import OfficerStatus
from bot.roles import Role
from handlers.command_menu import commands_for
from handlers.common import answer, main_menu, reply, role, services
from handlers.router import ROUTER

log = logging.getLogger(__name__)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user_role = await role(update, context)
    await reply(
        update,
        context,
        "general/help",
        main_menu(context, user_role),
        role=user_role.value,
        commands=commands_for(services(context), user_role),
    )


async def menu_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user_role = await role(update, context)
    await reply(
        update, context, "general/menu", main_menu(context, user_role), role=user_role.value
    )


async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    dialog = await s.dialogs.get(user.id)
    cleared = await s.dialogs.clear(user.id)
    user_role = await role(update, context)
    await reply(
        update,
        context,
        "general/cancelled",
        main_menu(context, user_role),
        flow=dialog.flow if dialog else None,
        cleared=cleared,
    )


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Private text: a main-menu button, else the open dialog's step, else a pointer."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    s = services(context)
    text = (message.text or "").strip()
    for key, action in ROUTER.menu_actions.items():
        if text == s.texts.label(key):
            await s.dialogs.clear(user.id)
            await action(update, context)
            return
    dialog = await s.dialogs.get(user.id)
    if dialog is not None and dialog.flow in ROUTER.text_by_flow:
        await ROUTER.text_by_flow[dialog.flow](update, context, dialog)
        return
    if ROUTER.free_text is not None and await role(update, context) is not Role.GUEST:
        await ROUTER.free_text(update, context)
        return
    await _no_dialog(update, context, "general/free_text")


async def on_other_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Photos, stickers, voice, documents, contacts… in a private chat."""
    user = update.effective_user
    assert user is not None
    dialog = await services(context).dialogs.get(user.id)
    if dialog is not None and dialog.flow in ROUTER.media_by_flow:
        await ROUTER.media_by_flow[dialog.flow](update, context, dialog)
        return
    if dialog is not None and dialog.flow in ROUTER.prompt_by_flow:
        await reply(update, context, "registration/media_in_step", step=dialog.step)
        await ROUTER.prompt_by_flow[dialog.flow](update, context, dialog)
        return
    await _no_dialog(update, context, "general/unsupported_message")


async def _no_dialog(update: Update, context: ContextTypes.DEFAULT_TYPE, template: str) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    user_role = await s.roles.role_of(user.id)
    view = await s.officers.by_user(user.id)
    status = view.officer.status if view else None
    await reply(
        update,
        context,
        template,
        main_menu(context, user_role),
        role=user_role.value,
        status=status,
        removed=status == OfficerStatus.REMOVED.value,
        rejected=status == OfficerStatus.REJECTED.value,
    )


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    command = (message.text or "").split()[0][:40]
    await reply(update, context, "general/unknown_command", command=command)
    user = update.effective_user
    if user is None:
        return
    dialog = await services(context).dialogs.get(user.id)
    if dialog is not None and dialog.flow in ROUTER.prompt_by_flow:
        await ROUTER.prompt_by_flow[dialog.flow](update, context, dialog)


async def edited_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    user = update.effective_user
    if chat is not None and user is not None and chat.type == chat.PRIVATE:
        dialog = await services(context).dialogs.get(user.id)
        await reply(update, context, "general/edited_message", in_dialog=dialog is not None)
        if dialog is not None and dialog.flow in ROUTER.prompt_by_flow:
            await ROUTER.prompt_by_flow[dialog.flow](update, context, dialog)
    raise ApplicationHandlerStop


async def group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups the bot serves no officer flow: one line pointing to the private chat.

    Only commands addressed to this bot (``/cmd`` or ``/cmd@this_bot``) and mentions of it get
    the pointer; other bots' commands and plain chatter are left alone.
    """
    message = update.effective_message
    if message is None or not message.text:
        return
    username = (context.bot.username or "").casefold()
    first = message.text.split()[0]
    addressed = (
        first.startswith("/")
        and ("@" not in first or first.split("@", 1)[1].casefold() == username)
    ) or f"@{username}" in message.text.casefold()
    if not addressed:
        return
    await reply(update, context, "general/group_pointer", bot_username=context.bot.username)
    raise ApplicationHandlerStop


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await answer(update, context, "stale_button", alert=True)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log with context, tell the user their data is safe, never crash the bot."""
    user_id = chat_id = None
    detail = ""
    if isinstance(update, Update):
        user_id = update.effective_user.id if update.effective_user else None
        chat_id = update.effective_chat.id if update.effective_chat else None
        if update.callback_query is not None:
            detail = f"callback={update.callback_query.data!r}"
        elif update.effective_message is not None:
            detail = f"text={(update.effective_message.text or '')[:80]!r}"
    log.error(
        "error handling update user=%s chat=%s %s", user_id, chat_id, detail, exc_info=context.error
    )
    if not isinstance(update, Update) or chat_id is None:
        return
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):  # it may have been answered already
            await update.callback_query.answer()
    try:
        await reply(update, context, "general/error")
    except TelegramError:
        log.exception("could not report the error to chat %s", chat_id)
    except Exception:  # the error text itself failed: nothing more to do but log
        log.exception("error while reporting an error")


def register_first(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Handlers that must win over the capability modules (group -1)."""
    app.add_handler(MessageHandler(filters.UpdateType.EDITED, edited_message), group=-1)
    app.add_handler(
        MessageHandler(
            filters.ChatType.GROUPS & (filters.COMMAND | filters.Entity("mention")), group_message
        ),
        group=-1,
    )


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("ayuda", help_command, filters=private))
    app.add_handler(CommandHandler("help", help_command, filters=private))
    app.add_handler(CommandHandler("menu", menu_command, filters=private))
    app.add_handler(CommandHandler("cancelar", cancel_command, filters=private))
    ROUTER.menu("menu_help", help_command)


def register_last(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Fallbacks, after every capability module registered its own handlers."""
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    app.add_handler(MessageHandler(private & filters.COMMAND, unknown_command))
    app.add_handler(MessageHandler(private & filters.TEXT, on_text))
    app.add_handler(MessageHandler(private, on_other_message))
    app.add_handler(CallbackQueryHandler(stale_button))
    app.add_error_handler(on_error)
