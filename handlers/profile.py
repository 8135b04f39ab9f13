"""``/perfil`` (see and edit one's data) and ``/baja`` (leave and erase one's data)."""

from __future__ import annotations

from typing import Any

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.dialogs import Dialog
from bot.models import OfficerStatus
from bot.officers import PROFILE_FIELDS
from bot.validation import check_email, check_name, check_phone, check_position
from handlers.common import (
    answer,
    button,
    cb,
    edit_or_send,
    inline,
    label,
    parse_cb,
    reply,
    services,
    two_buttons,
)
from handlers.router import ROUTER

FLOW = "profile"
CHECKS = {
    "full_name": check_name,
    "position": check_position,
    "email": check_email,
    "phone": check_phone,
}
OPTIONAL = ("email", "phone")


def _profile_keyboard(context: ContextTypes.DEFAULT_TYPE) -> Any:
    edits = [button(label(context, f"edit_{f}"), cb("pf", "edit", f)) for f in PROFILE_FIELDS]
    rows = [edits[i : i + 2] for i in range(0, len(edits), 2)]
    rows.append([button(label(context, "leave"), cb("bj", "ask"))])
    return inline(rows)


async def profile_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    view = await s.officers.by_user(user.id)
    if view is None or view.officer.status not in (
        OfficerStatus.APPROVED.value,
        OfficerStatus.PENDING.value,
    ):
        await reply(update, context, "profile/not_registered")
        return
    network = s.content.catalog.maybe_network(view.entity.network)
    await reply(
        update,
        context,
        "profile/card",
        _profile_keyboard(context),
        officer=view.officer,
        entity=view.entity,
        network=network,
    )


async def on_profile_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    args = parse_cb(query.data, "pf", 2)
    s = services(context)
    view = await s.officers.by_user(user.id)
    if (
        args is None
        or args[0] not in ("edit", "skip")
        or args[1] not in PROFILE_FIELDS
        or (
            view is None
            or view.officer.status
            not in (OfficerStatus.APPROVED.value, OfficerStatus.PENDING.value)
        )
    ):
        await answer(update, context, "stale_button", alert=True)
        return
    field = args[1]
    if args[0] == "skip":
        dialog = await s.dialogs.get(user.id)
        if dialog is None or dialog.flow != FLOW or dialog.step != field or field not in OPTIONAL:
            await answer(update, context, "stale_button")
            return
        await answer(update, context)
        await _save(update, context, field, None)
        return
    dialog = Dialog(FLOW, field)
    await s.dialogs.save(user.id, dialog)
    await answer(update, context)
    await prompt(update, context, dialog)


async def prompt(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    markup = None
    if dialog.step in OPTIONAL:
        markup = inline([[button(label(context, "remove_value"), cb("pf", "skip", dialog.step))]])
    await reply(update, context, "profile/ask_field", markup, field=dialog.step)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    message = update.effective_message
    assert message is not None
    text = message.text or ""
    checked = CHECKS[dialog.step](text)
    if not checked.ok:
        await reply(
            update,
            context,
            "registration/invalid",
            error=checked.error,
            field=dialog.step,
            typed=text[:200],
        )
        return
    await _save(update, context, dialog.step, checked.value)


async def on_media(update: Update, context: ContextTypes.DEFAULT_TYPE, dialog: Dialog) -> None:
    message = update.effective_message
    if dialog.step == "phone" and message is not None and message.contact is not None:
        checked = check_phone(message.contact.phone_number)
        if checked.ok:
            await _save(update, context, "phone", checked.value)
            return
    await reply(update, context, "registration/media_in_step", step=dialog.step)
    await prompt(update, context, dialog)


async def _save(
    update: Update, context: ContextTypes.DEFAULT_TYPE, field: str, value: str | None
) -> None:
    user = update.effective_user
    assert user is not None
    s = services(context)
    await s.officers.update_field(user.id, field, value)
    await s.dialogs.clear(user.id)
    await reply(update, context, "profile/updated", field=field)
    await profile_command(update, context)


# ---------------------------------------------------------------- /baja


async def leave_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    markup = two_buttons(context, "confirm_leave", cb("bj", "yes"), "keep", cb("bj", "no"))
    await reply(update, context, "profile/confirm_leave", markup)


async def on_leave_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    args = parse_cb(query.data, "bj", 1)
    if args is None:
        await answer(update, context, "stale_button")
        return
    await answer(update, context)
    if args[0] == "ask":
        await leave_command(update, context)
    elif args[0] == "yes":
        s = services(context)
        erased = await s.officers.erase(user.id)
        await edit_or_send(update, context, "profile/left", erased=erased)
        await reply(update, context, "profile/left_menu", ReplyKeyboardRemove())
    elif args[0] == "no":
        await edit_or_send(update, context, "profile/leave_kept")


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("perfil", profile_command, filters=private))
    app.add_handler(CommandHandler("baja", leave_command, filters=private))
    app.add_handler(CallbackQueryHandler(on_profile_button, pattern=r"^pf:"))
    app.add_handler(CallbackQueryHandler(on_leave_button, pattern=r"^bj:"))
    ROUTER.dialog(FLOW, text=on_text, prompt=prompt, media=on_media)
    ROUTER.menu("menu_profile", profile_command)
