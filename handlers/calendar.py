"""``/calendario``: the officer's personal feed link, how to subscribe, and "Cambiar enlace".

A link is shown once, when issued (only its hash is stored), so each ``/calendario`` issues a
new one; "Cambiar enlace" asks for confirmation in a new message (the link's message stays, in
case the officer keeps it), then revokes every earlier link and shows the new one there.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.feeds import PUBLIC_FEED_PATH, FeedLinks
from bot.models import OfficerStatus
from bot.officers import OfficerView
from handlers.common import (
    answer,
    button,
    cb,
    edit_or_send,
    inline,
    label,
    parse_cb,
    reply,
    role,
    services,
)
from handlers.router import ROUTER

PREFIX = "cal"


def _public_links(context: ContextTypes.DEFAULT_TYPE) -> FeedLinks | None:
    base = services(context).settings.public_base_url
    return FeedLinks.at(base, PUBLIC_FEED_PATH) if base else None


def _link_keyboard(context: ContextTypes.DEFAULT_TYPE) -> InlineKeyboardMarkup:
    return inline([[button(label(context, "calendar_change"), cb(PREFIX, "ask"))]])


async def _approved_officer(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> OfficerView | None:
    """The user's officer record if approved (read again at every command and press)."""
    user = update.effective_user
    if user is None:
        return None
    view = await services(context).officers.by_user(user.id)
    if view is None or view.officer.status != OfficerStatus.APPROVED.value:
        return None
    return view


async def calendar_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    s = services(context)
    view = await _approved_officer(update, context)
    if view is None:
        user = update.effective_user
        record = await s.officers.by_user(user.id) if user is not None else None
        await reply(
            update,
            context,
            "calendar/refused",
            status=record.officer.status if record is not None else None,
            coordinator=(await role(update, context)).is_coordinator,
            public=_public_links(context),
        )
        return
    base = s.settings.public_base_url
    if not base:
        await reply(update, context, "calendar/unavailable")
        return
    issued = await s.feeds.issue(view.officer.id or 0)
    await reply(
        update,
        context,
        "calendar/link",
        _link_keyboard(context),
        links=issued.links(base),
        public=_public_links(context),
        changed=False,
    )


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    s = services(context)
    args = parse_cb(query.data, PREFIX, 1) or parse_cb(query.data, PREFIX, 2)
    if args is None or args[0] not in ("ask", "do", "keep"):
        await answer(update, context, "stale_button", alert=True)
        return
    view = await _approved_officer(update, context)
    if view is None:
        await answer(update, context, "calendar_only_officers", alert=True)
        return
    officer_id = view.officer.id or 0
    action = args[0]
    if action == "ask" and len(args) == 1:
        latest = await s.feeds.latest_token_id(officer_id) or 0
        await answer(update, context)
        await reply(
            update,
            context,
            "calendar/change_confirm",
            inline(
                [
                    [button(label(context, "calendar_change_confirm"), cb(PREFIX, "do", latest))],
                    [button(label(context, "keep"), cb(PREFIX, "keep"))],
                ]
            ),
        )
        return
    if action == "keep" and len(args) == 1:
        await answer(update, context)
        await edit_or_send(update, context, "calendar/change_kept")
        return
    base = s.settings.public_base_url
    if action != "do" or len(args) != 2 or not args[1].isdigit() or not base:
        await answer(update, context, "stale_button", alert=True)
        return
    issued = await s.feeds.change(officer_id, int(args[1]))
    if issued is None:  # pressed twice, or the links changed since the question
        await answer(update, context, "stale_button", alert=True)
        return
    await answer(update, context)
    await edit_or_send(
        update,
        context,
        "calendar/link",
        _link_keyboard(context),
        links=issued.links(base),
        public=_public_links(context),
        changed=True,
    )


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("calendario", calendar_command, filters=private))
    app.add_handler(CallbackQueryHandler(on_button, pattern=rf"^{PREFIX}:"))
    ROUTER.menu("menu_calendar", calendar_command)
