"""Interceptors: rules consulted before a Bot API method runs, able to refuse the call.

An interceptor is ``fn(method, params) -> FakeError | None`` (it may also be ``async``, e.g. to
delay the answer and make the bot's request time out). The fake calls every interceptor in
``fake.interceptors`` in order, with the canonical method name (``sendMessage``) and the decoded
parameters; the first :class:`FakeError` returned is sent back instead of running the method.

This is where Telegram's limits live: :class:`BlockedChats` (403 for a user who blocked the bot),
:class:`FloodControl` (about 30 messages/s overall, 1/s per chat, 20/min per group, answered with
429 and ``parameters.retry_after``; opt-in with ``fake.enforce_flood_limits()``, so the rest of
the suite is neither refused nor slowed) and :class:`ChatFaults` (chosen errors or timeouts on
chosen chats: ``fake.fail_chat()``, ``fake.time_out_chat()``).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import FakeError, too_many_requests

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


@dataclass
class FloodStats:
    """What :class:`FloodControl` saw (sending calls only)."""

    accepted: int = 0
    refused: int = 0  # answered 429
    max_per_second: int = 0  # most calls accepted in any sliding 1-second window
    min_chat_gap: float = float("inf")  # shortest gap between two accepted calls to one chat
    violations: list[str] = field(default_factory=list)  # calls over a limit (refused or not)


class FloodControl:
    """Telegram's flood limits as an interceptor: more than ``per_second`` sending calls in any
    sliding second, two calls to one private chat less than ``chat_interval`` seconds apart, or
    more than ``group_per_minute`` calls to one group in a minute are answered with 429
    ``retry_after`` (when ``refuse``; otherwise only counted in :attr:`stats`). A limit set to
    ``None`` is not checked. Refused calls do not count towards the limits."""

    def __init__(
        self,
        per_second: int | None = 30,
        chat_interval: float | None = 1.0,
        group_per_minute: int | None = 20,
        *,
        retry_after: int = 1,
        refuse: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_second = per_second
        self.chat_interval = chat_interval
        self.group_per_minute = group_per_minute
        self.retry_after = retry_after
        self.refuse = refuse
        self.clock = clock
        self.stats = FloodStats()
        self._window: deque[float] = deque()
        self._last: dict[int | str, float] = {}
        self._groups: dict[int | str, deque[float]] = {}

    def __call__(self, method: str, params: dict[str, Any]) -> FakeError | None:
        if method not in SENDING_METHODS:
            return None
        now = self.clock()
        while self._window and self._window[0] <= now - 1.0:
            self._window.popleft()
        chat = target_chat(params)
        group = isinstance(chat, str) or (isinstance(chat, int) and chat < 0)
        problem = None
        if self.per_second is not None and len(self._window) >= self.per_second:
            problem = f"{len(self._window) + 1} calls within one second"
        elif chat is not None and not group and self.chat_interval is not None:
            last = self._last.get(chat)
            if last is not None and now - last < self.chat_interval:
                problem = f"two calls to chat {chat} {now - last:.3f} s apart"
        elif chat is not None and group and self.group_per_minute is not None:
            log = self._groups.setdefault(chat, deque())
            while log and log[0] <= now - 60.0:
                log.popleft()
            if len(log) >= self.group_per_minute:
                problem = f"{len(log) + 1} calls to group {chat} within a minute"
        if problem is not None:
            self.stats.violations.append(f"{method}: {problem}")
            if self.refuse:
                self.stats.refused += 1
                return too_many_requests(self.retry_after)
        self._window.append(now)
        self.stats.accepted += 1
        self.stats.max_per_second = max(self.stats.max_per_second, len(self._window))
        if chat is not None:
            last = self._last.get(chat)
            if last is not None:
                self.stats.min_chat_gap = min(self.stats.min_chat_gap, now - last)
            self._last[chat] = now
            if group:
                self._groups.setdefault(chat, deque()).append(now)
        return None


@dataclass
class _Fault:
    error: FakeError | None  # None: a timeout (no answer within ``delay``)
    remaining: int | None  # None: forever
    delay: float = 0.0


class ChatFaults:
    """Chosen answers for sending calls to chosen chats: an error (e.g. a 400 ``chat not
    found``, a 403) or a timeout (the answer is held ``delay`` seconds, longer than the bot
    waits, and the message is not delivered), for the next ``times`` calls or forever."""

    def __init__(self) -> None:
        self._faults: dict[int, list[_Fault]] = {}

    def add(
        self,
        chat_id: int,
        error: FakeError | None,
        *,
        times: int | None = None,
        delay: float = 0.0,
    ) -> None:
        self._faults.setdefault(chat_id, []).append(_Fault(error, times, delay))

    def clear(self, chat_id: int) -> None:
        self._faults.pop(chat_id, None)

    def __call__(
        self, method: str, params: dict[str, Any]
    ) -> FakeError | Awaitable[FakeError | None] | None:
        if method not in SENDING_METHODS:
            return None
        chat = target_chat(params)
        faults = self._faults.get(chat) if isinstance(chat, int) else None
        if not faults:
            return None
        fault = faults[0]
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                faults.pop(0)
        if fault.error is not None:
            return fault.error
        return self._hold(fault.delay)

    @staticmethod
    async def _hold(delay: float) -> FakeError:
        await asyncio.sleep(delay)
        return FakeError(504, "Gateway Timeout")
