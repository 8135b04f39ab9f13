"""The bot's own membership of a private chat: an officer blocking or unblocking the bot.

Telegram sends ``my_chat_member`` when a user blocks the bot (new status ``kicked``) and when
they unblock it or press "Reiniciar" (``member``). Broadcasts already learn of a block from a
403; this also brings an officer back, who would otherwise stay skipped until they register again.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import ChatMember, Update
from telegram.constants import ChatType
from telegram.ext import Application, ChatMemberHandler, ContextTypes

from handlers.common import services

log = logging.getLogger(__name__)


async def on_my_chat_member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    change = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE:
        return  # groups: the coordinators' chat is configured, not followed
    status = change.new_chat_member.status
    if status == ChatMember.BANNED:
        reachable = False
    elif status == ChatMember.MEMBER:
        reachable = True
    else:
        return
    if await services(context).officers.set_reachable(change.from_user.id, reachable):
        log.info("user %s %s the bot", change.from_user.id, "unblocked" if reachable else "blocked")


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
