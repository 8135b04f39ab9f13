"""Pacing of everything the bot sends, so it stays within Telegram's flood limits.

Telegram allows about 30 messages per second overall, one per second to one chat and 20 per
minute to one group. One :class:`Pacer` per running bot holds that budget for *every* sending
call: the interactive replies of the handlers (through :class:`PacedRateLimiter`, the bot's
rate limiter) and the broadcast engine's messages share it, so a broadcast never pushes the
bot over the limit when people talk to it at the same time.

The overall limit is a GCRA ("virtual scheduling") schedule: each sending call takes the next
slot, at least ``1 / rate`` seconds after the previous one. Broadcast calls get no tolerance (they
are evenly spaced); interactive calls may run a few slots ahead of the schedule when no
broadcast is running, so a handler answering with two or three messages is not slowed down.
Whatever the mix, no sliding second holds more than ``per_second_cap`` calls.
Broadcast calls also keep ``chat_interval`` seconds between two messages to one chat; every
call to a group keeps at most ``group_per_minute`` messages per minute. After a 429 the whole
bot waits ``retry_after`` seconds (:meth:`Pacer.pause`).

Hand-written instead of PTB's ``AIORateLimiter`` (aiolimiter's leaky bucket): that one lets a
burst of 30 through and then 30 per second, i.e. up to about 60 messages in the first second
of a broadcast, and its per-chat limiter only covers groups; a strict 30/s receiver answers it
with 429s (see the report of the broadcast benchmark).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

#: Bot API methods that put something into a chat: the ones Telegram's flood limits count.
PACED_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendAnimation",
        "sendMediaGroup",
        "sendSticker",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
    }
)
_PACED_LOWER = frozenset(m.lower() for m in PACED_METHODS)


def retry_after_seconds(exc: RetryAfter) -> float:
    """The ``retry_after`` of a 429 in seconds (PTB gives an int or a timedelta)."""
    value = getattr(exc, "_retry_after", None)
    if value is None:
        value = exc.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def is_group(chat_id: int | str | None) -> bool:
    """Groups, supergroups and channels have negative ids (or an ``@username``)."""
    return isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0)


class Pacer:
    """The bot's sending budget (see the module docstring). ``rate=None`` disables the overall
    limit (benchmarks of the bot's own throughput); per-chat spacing still applies."""

    #: Fraction of an interval a late caller may take back (event-loop wake-up latency).
    LATE_SLACK = 0.3

    def __init__(
        self,
        rate: float | None = 29.0,
        *,
        chat_interval: float = 1.05,
        group_per_minute: int = 20,
        interactive_burst: int = 4,
        per_second_cap: int = 29,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.chat_interval = chat_interval
        self.group_per_minute = group_per_minute
        self.interactive_burst = interactive_burst
        self.per_second_cap = per_second_cap
        self.clock = clock
        self._tat = 0.0  # theoretical arrival time of the next evenly spaced call
        self._paused_until = 0.0
        self._last_broadcast = float("-inf")
        self._chat_next: dict[int | str, float] = {}
        self._group_log: dict[int | str, deque[float]] = {}
        self._pruned_at = 0.0
        self._urgent = 0  # interactive callers waiting
        self._recent: deque[float] = deque()  # calls of the last second
        self.pauses = 0  # how many 429s paused the bot (for reports)

    @property
    def interval(self) -> float:
        return 1.0 / self.rate if self.rate else 0.0

    def pause(self, seconds: float) -> None:
        """A 429 arrived: nothing is sent for ``seconds`` (Telegram's ``retry_after``)."""
        until = self.clock() + seconds
        if until > self._paused_until:
            self._paused_until = until
            self.pauses += 1
        self._tat = max(self._tat, self._paused_until)

    def paused_for(self) -> float:
        return max(0.0, self._paused_until - self.clock())

    async def acquire(self, chat_id: int | str | None, *, broadcast: bool) -> None:
        """Wait until this call may go and take its slot (the caller sends right after).

        The slot is taken when the caller wakes, not booked ahead: after the event loop was
        busy, late callers do not go out in a burst (a strict receiver would count them in one
        second). Interactive callers go before waiting broadcast ones."""
        urgent = not broadcast
        queued = False  # counted in self._urgent (only while waiting for the overall slot)
        try:
            while True:
                now = self.clock()
                chat_wait = self._chat_wait(chat_id, now, broadcast)
                if chat_wait > 0:
                    if queued:
                        self._urgent, queued = self._urgent - 1, False
                    await asyncio.sleep(chat_wait)
                    continue
                wait = self._paused_until - now
                if self.rate:
                    tolerance = 0.0
                    if urgent and now - self._last_broadcast > 1.0:
                        tolerance = self.interactive_burst * self.interval
                    wait = max(wait, self._tat - tolerance - now)
                    recent = self._recent
                    while recent and recent[0] <= now - 1.0:
                        recent.popleft()
                    if len(recent) >= self.per_second_cap:  # a hard cap on any second
                        wait = max(wait, recent[0] + 1.0 - now)
                if urgent and wait > 0 and not queued:
                    self._urgent, queued = self._urgent + 1, True
                if not urgent and self._urgent:
                    wait = max(wait, self.interval or 0.001)  # a reply is waiting: it goes first
                if wait > 0:
                    await asyncio.sleep(wait)
                    continue
                if self.rate:
                    # a caller woken a little late keeps its place: any 31 calls still span
                    # at least 30 intervals minus the slack (more than a second at 29/s)
                    slack = self.LATE_SLACK * self.interval
                    self._tat = max(self._tat, now - slack) + self.interval
                    self._recent.append(now)
                if broadcast:
                    self._last_broadcast = now
                self._reserve_chat(chat_id, now, broadcast)
                return
        finally:
            if queued:
                self._urgent -= 1

    def _chat_wait(self, chat_id: int | str | None, now: float, broadcast: bool) -> float:
        if chat_id is None:
            return 0.0
        wait = 0.0
        if broadcast:
            wait = self._chat_next.get(chat_id, 0.0) - now
        if is_group(chat_id):
            log_ = self._group_log.get(chat_id)
            if log_ is not None:
                while log_ and log_[0] <= now - 60.0:
                    log_.popleft()
                if len(log_) >= self.group_per_minute:
                    wait = max(wait, log_[0] + 60.0 - now)
        return wait

    def _reserve_chat(self, chat_id: int | str | None, slot: float, broadcast: bool) -> None:
        if chat_id is None:
            return
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), slot + self.chat_interval)
        if is_group(chat_id):
            self._group_log.setdefault(chat_id, deque()).append(slot)
        if slot - self._pruned_at > 60.0:
            self._prune(slot)

    def _prune(self, now: float) -> None:
        self._pruned_at = now
        self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        self._group_log = {c: d for c, d in self._group_log.items() if d and d[-1] > now - 60}


class PacedRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """The bot's rate limiter: every sending call waits for its slot in the :class:`Pacer`.

    Interactive calls (no ``rate_limit_args``) are retried after a 429, up to ``max_retries``
    times, as PTB's ``AIORateLimiter`` does. The broadcast engine passes
    ``rate_limit_args={"paced": True}``: it acquired its slot itself and handles 429s itself,
    so the call goes straight through and a 429 only pauses the pacer and reaches the engine.
    """

    def __init__(self, pacer: Pacer | None = None, max_retries: int = 3) -> None:
        self.pacer = pacer or Pacer()
        self.max_retries = max_retries

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        paced_by_caller = bool(rate_limit_args and rate_limit_args.get("paced"))
        counted = endpoint.lower() in _PACED_LOWER
        chat_id = data.get("chat_id")
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id)  # type: ignore[arg-type]
        attempt = 0
        while True:
            if counted and not paced_by_caller:
                await self.pacer.acquire(chat_id, broadcast=False)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.pacer.pause(retry_after_seconds(exc))
                if paced_by_caller or attempt >= self.max_retries:
                    raise
                attempt += 1
                log.info("429 on %s: retrying after %.1f s", endpoint, self.pacer.paused_for())
