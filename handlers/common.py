"""Shared plumbing of the Telegram adapters: services, rendering, keyboards, callback data."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.roles import Role
from bot.services import Services

log = logging.getLogger(__name__)
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None
CALLBACK_MAX_BYTES = 64
SEP = ":"


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]  # type: ignore[no-any-return]


def cb(*parts: object) -> str:
    """Callback data from parts; refuses anything Telegram would refuse (over 64 bytes)."""
    data = SEP.join(str(p) for p in parts)
    if not data or len(data.encode("utf-8")) > CALLBACK_MAX_BYTES:
        raise ValueError(f"callback_data must be 1-64 bytes: {data!r}")
    return data


def parse_cb(data: str | None, prefix: str, size: int) -> list[str] | None:
    """Split ``prefix:a:b`` into exactly ``size`` parts after the prefix, or None if malformed."""
    if not data:
        return None
    parts = data.split(SEP)
    if parts[0] != prefix or len(parts) != size + 1:
        return None
    return parts[1:]


def button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def inline(rows: Sequence[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(r) for r in rows if r])


def two_buttons(
    context: ContextTypes.DEFAULT_TYPE, first: str, first_data: str, second: str, second_data: str
) -> InlineKeyboardMarkup:
    """One row of two buttons (confirm / cancel, approve / reject…), labels from labels.yaml."""
    return inline(
        [[button(label(context, first), first_data), button(label(context, second), second_data)]]
    )


def render(context: ContextTypes.DEFAULT_TYPE, template: str, **values: Any) -> str:
    return services(context).texts.render(template, **values)


def label(context: ContextTypes.DEFAULT_TYPE, key: str, **values: Any) -> str:
    return services(context).texts.label(key, **values)


async def send(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    template: str,
    markup: Markup = None,
    **values: Any,
) -> Message:
    return await context.bot.send_message(
        chat_id,
        render(context, template, **values),
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
        disable_web_page_preview=True,
    )


async def reply(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    template: str,
    markup: Markup = None,
    **values: Any,
) -> Message:
    chat = update.effective_chat
    assert chat is not None
    return await send(context, chat.id, template, markup, **values)


async def edit_or_send(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    template: str,
    markup: InlineKeyboardMarkup | None = None,
    **values: Any,
) -> None:
    """Replace the message whose button was pressed (keeps the chat tidy), else send anew."""
    query = update.callback_query
    text = render(context, template, **values)
    if query is not None and query.message is not None and isinstance(query.message, Message):
        if query.message.text_html == text and query.message.reply_markup == markup:
            return
        await query.edit_message_text(
            text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True
        )
        return
    await reply(update, context, template, markup, **values)


async def answer(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    key: str | None = None,
    alert: bool = False,
    **values: Any,
) -> None:
    """Answer the pressed button (always, so the client stops its spinner)."""
    query = update.callback_query
    if query is None:
        return
    text = label(context, key, **values) if key else None
    await query.answer(text, show_alert=alert)


async def require(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    allowed: Callable[[Role], bool],
    refusal: str,
) -> bool:
    """True when the user's role, read again from the database, passes ``allowed``.

    Otherwise the attempt is logged and refused: a pressed button gets the ``refusal`` label as
    an alert, a command gets the ``general/<refusal>`` template.
    """
    if allowed(await role(update, context)):
        return True
    user = update.effective_user
    log.warning(
        "refused (%s): user=%s data=%r text=%r",
        refusal,
        user.id if user else None,
        update.callback_query.data if update.callback_query else None,
        update.effective_message.text if update.effective_message else None,
    )
    if update.callback_query is not None:
        await answer(update, context, refusal, alert=True)
    else:
        await reply(update, context, f"general/{refusal}")
    return False


async def role(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Role:
    user = update.effective_user
    if user is None:
        return Role.GUEST
    return await services(context).roles.role_of(user.id)


def main_menu(
    context: ContextTypes.DEFAULT_TYPE, user_role: Role
) -> ReplyKeyboardMarkup | ReplyKeyboardRemove:
    """The persistent keyboard of main actions of each role."""
    keys: list[list[str]]
    if user_role is Role.ADMIN:
        keys = [
            ["menu_sessions", "menu_requests"],
            ["menu_pending", "menu_invite"],
            ["menu_officers", "menu_coordinators"],
            ["menu_reports", "menu_ask"],
            ["menu_help"],
        ]
    elif user_role is Role.COORDINATOR:
        keys = [
            ["menu_sessions", "menu_requests"],
            ["menu_pending", "menu_invite"],
            ["menu_officers", "menu_reports"],
            ["menu_ask", "menu_gaps"],
            ["menu_help"],
        ]
    elif user_role is Role.OFFICER:
        keys = [
            ["menu_ask", "menu_request"],
            ["menu_agenda", "menu_calendar"],
            ["menu_icp", "menu_gaps"],
            ["menu_profile", "menu_help"],
        ]
    else:
        return ReplyKeyboardRemove()
    texts = services(context).texts
    return ReplyKeyboardMarkup(
        [[texts.label(k) for k in row] for row in keys],
        resize_keyboard=True,
        is_persistent=True,
        input_field_placeholder=texts.label("menu_placeholder"),
    )


def user_display_name(update: Update) -> str:
    user = update.effective_user
    if user is None:
        return "?"
    return " ".join(p for p in (user.first_name, user.last_name) if p)[:120] or str(user.id)
