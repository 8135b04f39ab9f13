"""Interceptors: rules consulted before a Bot API method runs, able to refuse the call.

An interceptor is ``fn(method, params) -> FakeError | None`` (it may also be ``async``, e.g. to
delay the answer and make the bot's request time out). The fake calls every interceptor in
``fake.interceptors`` in order, with the canonical method name (``sendMessage``) and the decoded
parameters; the first :class:`FakeError` returned is sent back instead of running the method.

This is where Telegram's limits live. :class:`BlockedChats` (403 for a user who blocked the bot)
is here now; flood control (about 30 messages/s overall, 1/s per chat, 20/min per group, answered
with 429 and ``parameters.retry_after`` via :func:`errors.too_many_requests`) belongs here too, as
one more interceptor keyed on :data:`SENDING_METHODS` and :func:`target_chat`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .errors import FakeError

Interceptor = Callable[[str, dict[str, Any]], "FakeError | Awaitable[FakeError | None] | None"]

#: Methods that put something into a chat (what Telegram's blocks and flood limits apply to).
SENDING_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "sendChatAction",
        "sendMediaGroup",
        "sendSticker",
        "sendLocation",
        "sendContact",
        "sendPoll",
        "copyMessage",
        "forwardMessage",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)


def target_chat(params: dict[str, Any]) -> int | str | None:
    """The chat a call is about (its ``chat_id``), or ``None``."""
    return params.get("chat_id")


class BlockedChats:
    """Answers 403 to every sending call to a chat in it, as Telegram does for a user who
    blocked the bot (or a group that removed it)."""

    def __init__(self) -> None:
        self._blocked: dict[int, FakeError] = {}

    def block(self, chat_id: int, error: FakeError) -> None:
        """Refuse sends to ``chat_id`` with ``error`` from now on."""
        self._blocked[chat_id] = error

    def unblock(self, chat_id: int) -> None:
        """Accept sends to ``chat_id`` again."""
        self._blocked.pop(chat_id, None)

    def __contains__(self, chat_id: object) -> bool:
        return chat_id in self._blocked

    def __call__(self, method: str, params: dict[str, Any]) -> FakeError | None:
        if method not in SENDING_METHODS:
            return None
        chat_id = target_chat(params)
        return self._blocked.get(chat_id) if isinstance(chat_id, int) else None
