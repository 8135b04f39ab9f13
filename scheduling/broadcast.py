"""The broadcast engine: every message sent to many people (invitations, reminders, notices,
announcements) is a ``Broadcast`` with one ``Delivery`` row per chat, written before anything is
sent, so a crash never loses what was not delivered and never repeats what was recorded.

Contract used by the rest of the bot (keep it stable):

- ``OutgoingMessage`` — one rendered message (Telegram HTML, optional inline keyboard as a dict,
  optional attached file).
- ``BroadcastService(db).create(kind, messages, ...)`` → broadcast id (no Telegram involved);
  ``create_in(session, ...)`` does the same inside the caller's transaction.
- ``engine_of(application)`` → the one ``BroadcastEngine`` of the running bot;
  ``await engine.run(broadcast_id, progress)`` sends what is pending and returns the summary;
  ``engine.start(broadcast_id, progress)`` does it in the background (handlers use this).

How a delivery moves: ``pending`` → ``sending`` (claimed by this process, in batches) → one of
``sent``, ``unreachable`` (403, or the officer was already known unreachable: Telegram is not
called), ``failed`` (400 with Telegram's reason, or network errors/timeouts after
``max_attempts`` tries with backoff, or too many 429s in a row). A 429 pauses every sender for
``retry_after`` seconds and the delivery is tried again.

Stopping and crashing (the choice, documented):

- Graceful stop (the Application stops, or the engine task is cancelled): no new delivery is
  started, the calls already in flight are awaited and their outcome recorded, claimed but
  unsent deliveries go back to ``pending``. The broadcast stays unfinished and is resumed at the
  next start, so nothing is lost and nothing is sent twice.
- Hard crash (the process is killed): deliveries left ``sending`` are put back to ``pending``
  when the bot starts (:meth:`BroadcastEngine.recover`) and sent then — at-least-once. Only the
  few calls that were in flight at the moment of the crash (at most ``concurrency``) can reach a
  person twice; Telegram has no idempotency key that would let us tell. We prefer a rare
  duplicate over an invitation or reminder silently lost. This assumes one bot process per
  database (as polling requires anyway).

Pacing: every call waits for its slot in the bot's :class:`~scheduling.pacing.Pacer` (30/s
overall, one per second per chat), shared with the handlers' replies through the bot's
:class:`~scheduling.pacing.PacedRateLimiter`; several calls are in flight at once so the HTTP
round trip does not limit the throughput.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, InlineKeyboardMarkup, InputFile
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.db import Database, utcnow
from bot.models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus, Officer
from scheduling.pacing import PacedRateLimiter, Pacer, retry_after_seconds

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: str  # text content (an .ics file)
    caption: str | None = None


@dataclass(frozen=True)
class OutgoingMessage:
    chat_id: int
    text: str
    officer_id: int | None = None
    markup: dict[str, Any] | None = None  # InlineKeyboardMarkup.to_dict()
    attachment: Attachment | None = None  # sent as a document after the text


@dataclass
class BroadcastSummary:
    broadcast_id: int
    total: int = 0
    sent: int = 0
    unreachable: int = 0
    failed: int = 0
    pending: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        return self.pending == 0


Progress = Callable[[BroadcastSummary], Awaitable[None]]

#: Recorded as the error of a delivery skipped because its officer was already unreachable.
SKIPPED_UNREACHABLE = "unreachable: skipped, the officer blocked the bot earlier"


class BroadcastService:
    """Broadcast records: creating them and reading their state (no Telegram here)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self,
        kind: str,
        messages: Iterable[OutgoingMessage],
        *,
        session_id: int | None = None,
        created_by: int | None = None,
        report_chat_id: int | None = None,
        description: dict[str, Any] | None = None,
    ) -> int:
        """Record a broadcast and its deliveries (one per chat: a repeated chat is skipped)."""
        async with self.db.session() as s:
            broadcast_id, _ = await self.create_in(
                s,
                kind,
                messages,
                session_id=session_id,
                created_by=created_by,
                report_chat_id=report_chat_id,
                description=description,
            )
            return broadcast_id

    async def create_in(
        self,
        s: AsyncSession,
        kind: str,
        messages: Iterable[OutgoingMessage],
        *,
        session_id: int | None = None,
        created_by: int | None = None,
        report_chat_id: int | None = None,
        description: dict[str, Any] | None = None,
    ) -> tuple[int, dict[int, int]]:
        """As :meth:`create`, inside the caller's transaction (so the caller can record, in the
        same commit, what the deliveries are for). Returns the broadcast id and the delivery id
        of each chat."""
        broadcast = Broadcast(
            kind=kind,
            session_id=session_id,
            created_by=created_by,
            report_chat_id=report_chat_id,
            description=description or {},
        )
        s.add(broadcast)
        await s.flush()
        assert broadcast.id is not None
        deliveries: dict[int, Delivery] = {}
        for m in messages:
            if m.chat_id in deliveries:
                continue
            delivery = Delivery(
                broadcast_id=broadcast.id,
                officer_id=m.officer_id,
                chat_id=m.chat_id,
                text=m.text,
                markup=m.markup,
                attachment=(
                    {
                        "filename": m.attachment.filename,
                        "data": m.attachment.data,
                        "caption": m.attachment.caption,
                    }
                    if m.attachment
                    else None
                ),
            )
            deliveries[m.chat_id] = delivery
            s.add(delivery)
        broadcast.total = len(deliveries)
        await s.flush()
        return broadcast.id, {chat: d.id for chat, d in deliveries.items() if d.id is not None}

    async def summary(self, broadcast_id: int) -> BroadcastSummary:
        async with self.db.session() as s:
            rows = (
                await s.execute(
                    select(Delivery.status, func.count())
                    .where(Delivery.broadcast_id == broadcast_id)
                    .group_by(Delivery.status)
                )
            ).all()
            errors = (
                await s.execute(
                    select(Delivery.error, func.count())
                    .where(
                        Delivery.broadcast_id == broadcast_id,
                        Delivery.status == DeliveryStatus.FAILED,
                    )
                    .group_by(Delivery.error)
                )
            ).all()
        counts = {status: n for status, n in rows}
        return BroadcastSummary(
            broadcast_id=broadcast_id,
            total=sum(counts.values()),
            sent=counts.get(DeliveryStatus.SENT, 0),
            unreachable=counts.get(DeliveryStatus.UNREACHABLE, 0),
            failed=counts.get(DeliveryStatus.FAILED, 0),
            pending=counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0),
            errors={e or "": n for e, n in errors},
        )

    async def unfinished(self) -> list[int]:
        async with self.db.session() as s:
            rows = await s.execute(
                select(Broadcast.id)
                .where(Broadcast.status != BroadcastStatus.DONE)
                .order_by(Broadcast.id)
            )
            return [r for (r,) in rows]


@dataclass
class BroadcastConfig:
    """Tuning of the engine (tests shorten the waits)."""

    concurrency: int = 8  # calls in flight at once (the pacer decides when each may go)
    claim_batch: int = 100  # deliveries claimed per database round trip
    send_timeout: float = 15.0  # seconds for one Bot API call before it counts as a timeout
    max_attempts: int = 4  # tries of one delivery on network errors / timeouts
    backoff: float = 2.0  # first wait after a network error, doubled each time
    max_backoff: float = 60.0
    max_flood_retries: int = 10  # 429s in a row for one delivery before it is failed
    progress_every: float = 2.0  # seconds between two progress callbacks


@dataclass
class _Job:
    """A claimed delivery being worked on."""

    id: int
    chat_id: int
    officer_id: int | None
    text: str
    markup: dict[str, Any] | None
    attachment: dict[str, Any] | None
    attempts: int
    text_sent: int | None = None  # message id, once the text went (the document may follow)
    floods: int = 0


@dataclass
class _Outcome:
    job: _Job
    status: str
    error: str | None = None


class _Stopped(Exception):
    """The engine was asked to stop before this delivery was attempted."""


class _Run:
    """One broadcast being sent by this process."""

    def __init__(self, engine: BroadcastEngine, broadcast_id: int) -> None:
        self.engine = engine
        self.broadcast_id = broadcast_id
        self.listeners: list[Progress] = []
        self.queue: deque[_Job] = deque()
        self.exhausted = False
        self.claim_lock = asyncio.Lock()
        self.results: list[_Outcome] = []
        self.results_ready = asyncio.Event()
        self.flush_lock = asyncio.Lock()
        self.last_progress = 0.0
        self.stop = False  # asked to stop: no new call is started
        self.closing = False  # the workers ended: the writer flushes and ends


_deliveries = Delivery.__table__  # type: ignore[attr-defined]
#: One executemany statement records a batch of outcomes (Core: no ORM work per row).
_RECORD_OUTCOME = (
    update(_deliveries)
    .where(_deliveries.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        error=bindparam("b_error"),
        attempts=bindparam("b_attempts"),
        telegram_message_id=bindparam("b_message_id"),
        sent_at=bindparam("b_sent_at"),
    )
)


class BroadcastEngine:
    """Sends pending deliveries through the bot, paced by the bot's :class:`Pacer`."""

    def __init__(
        self,
        db: Database,
        bot: Bot,
        *,
        pacer: Pacer | None = None,
        application: Any = None,
        config: BroadcastConfig | None = None,
    ) -> None:
        self.db = db
        self.bot = bot
        self.application = application
        self.config = config or BroadcastConfig()
        limiter = getattr(bot, "rate_limiter", None)
        self._through_limiter = isinstance(limiter, PacedRateLimiter)
        if pacer is None:
            pacer = limiter.pacer if isinstance(limiter, PacedRateLimiter) else Pacer()
        self.pacer = pacer
        self.records = BroadcastService(db)
        self._runs: dict[int, asyncio.Task[BroadcastSummary]] = {}
        self._state: dict[int, _Run] = {}
        self._stopping = False
        self.flood_waits = 0  # 429s received by the engine (reports, benchmarks)

    # ---------------------------------------------------------------- public contract

    def start(self, broadcast_id: int, progress: Progress | None = None) -> None:
        """Send the broadcast in the background (no-op if it is already being sent: the
        progress callback is then added to the running one)."""
        self._launch(broadcast_id, progress)

    async def run(self, broadcast_id: int, progress: Progress | None = None) -> BroadcastSummary:
        """Send what is pending of the broadcast and return its summary (``done`` is false if
        the engine was stopped half-way)."""
        return await self._launch(broadcast_id, progress)

    async def wait_idle(self) -> None:
        """Wait until every background broadcast finished (tests, shutdown)."""
        while self._runs:
            await asyncio.gather(*list(self._runs.values()), return_exceptions=True)

    def running(self) -> list[int]:
        """Broadcasts being sent by this process now."""
        return [b for b, t in self._runs.items() if not t.done()]

    async def stop(self) -> None:
        """Stop gracefully: finish the calls in flight, record them, leave the rest pending."""
        self._stopping = True
        for state in self._state.values():
            state.stop = True
        await self.wait_idle()

    async def recover(self) -> int:
        """At start-up only: deliveries a dead process left ``sending`` go back to ``pending``
        (see the module docstring: at-least-once for the calls in flight at a crash)."""
        left = (
            Delivery.status == DeliveryStatus.SENDING,
            Delivery.broadcast_id.not_in(self.running()),  # type: ignore[attr-defined]
        )
        async with self.db.session() as s:  # read first: no write transaction when clean
            if not (await s.execute(select(Delivery.id).where(*left).limit(1))).first():
                return 0
        async with self.db.session() as s:
            result = await s.execute(
                update(Delivery)
                .where(*left)
                .values(status=DeliveryStatus.PENDING)
                .execution_options(synchronize_session=False)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def resume_unfinished(self) -> list[int]:
        """Start every unfinished broadcast that is not already being sent."""
        started = []
        for broadcast_id in await self.records.unfinished():
            if broadcast_id not in self.running():
                self.start(broadcast_id)
                started.append(broadcast_id)
        return started

    # ---------------------------------------------------------------- internals

    def _launch(
        self, broadcast_id: int, progress: Progress | None
    ) -> asyncio.Task[BroadcastSummary]:
        task = self._runs.get(broadcast_id)
        if task is not None and not task.done():
            if progress is not None:
                self._state[broadcast_id].listeners.append(progress)
            return task
        state = _Run(self, broadcast_id)
        if progress is not None:
            state.listeners.append(progress)
        self._state[broadcast_id] = state
        task = self._create_task(self._run(state))
        self._runs[broadcast_id] = task

        def _done(t: asyncio.Task[BroadcastSummary], bid: int = broadcast_id) -> None:
            if self._runs.get(bid) is t:
                del self._runs[bid]
                self._state.pop(bid, None)
            if not t.cancelled() and t.exception() is not None:
                log.error("broadcast %s failed", bid, exc_info=t.exception())

        task.add_done_callback(_done)
        return task

    def _create_task(self, coro: Any) -> asyncio.Task[Any]:
        app = self.application
        if app is not None and getattr(app, "running", False):
            # Application.stop() waits for these: the run notices the stop and ends gracefully
            return app.create_task(coro, name="broadcast")  # type: ignore[no-any-return]
        return asyncio.create_task(coro, name="broadcast")

    def _should_stop(self, state: _Run) -> bool:
        if self._stopping or state.stop:
            return True
        app = self.application
        return app is not None and not getattr(app, "running", True)

    async def _run(self, state: _Run) -> BroadcastSummary:
        """Run the broadcast; a cancellation never cuts a database write or an HTTP call in
        half: it asks the run to stop, waits for it to end gracefully, then propagates."""
        inner = asyncio.ensure_future(self._run_inner(state))
        try:
            return await asyncio.shield(inner)
        except asyncio.CancelledError:
            state.stop = True
            with contextlib.suppress(Exception):
                await inner
            raise

    async def _run_inner(self, state: _Run) -> BroadcastSummary:
        bid = state.broadcast_id
        async with self.db.session() as s:
            await s.execute(
                update(Broadcast)
                .where(Broadcast.id == bid, Broadcast.started_at.is_(None))  # type: ignore[union-attr]
                .values(started_at=utcnow(), status=BroadcastStatus.RUNNING)
            )
        writer = asyncio.ensure_future(self._writer(state))
        workers = [
            asyncio.ensure_future(self._worker(state)) for _ in range(self.config.concurrency)
        ]
        try:
            await asyncio.gather(*workers)
        finally:
            state.closing = True
            state.results_ready.set()
            await asyncio.gather(*workers, return_exceptions=True)
            await writer
            await self._finish(state)
        summary = await self.records.summary(bid)
        if summary.done:
            async with self.db.session() as s:
                await s.execute(
                    update(Broadcast)
                    .where(Broadcast.id == bid)
                    .values(finished_at=utcnow(), status=BroadcastStatus.DONE)
                )
        await self._notify(state, summary)
        return summary

    async def _finish(self, state: _Run) -> None:
        """Record every outcome, release what was claimed but not sent."""
        await self._flush(state)
        leftovers = [j.id for j in state.queue]
        state.queue.clear()
        if leftovers:
            async with self.db.session() as s:
                await s.execute(
                    update(Delivery)
                    .where(
                        Delivery.id.in_(leftovers),  # type: ignore[union-attr]
                        Delivery.status == DeliveryStatus.SENDING,
                    )
                    .values(status=DeliveryStatus.PENDING)
                    .execution_options(synchronize_session=False)
                )

    async def _worker(self, state: _Run) -> None:
        while True:
            job = await self._next_job(state)
            if job is None:
                return
            outcome = await self._deliver(state, job)
            if outcome is not None:
                self._record(state, outcome)

    async def _next_job(self, state: _Run) -> _Job | None:
        while True:
            if self._should_stop(state):
                return None
            if state.queue:
                return state.queue.popleft()
            if state.exhausted:
                return None
            async with state.claim_lock:
                if not state.queue and not state.exhausted and not self._should_stop(state):
                    claimed = await self._claim(state.broadcast_id)
                    state.queue.extend(claimed)
                    if not claimed:
                        state.exhausted = True

    async def _claim(self, broadcast_id: int) -> list[_Job]:
        """Skip deliveries to officers known unreachable; claim the next batch."""
        async with self.db.session() as s:
            unreachable = select(Officer.id).where(
                Officer.unreachable_at.is_not(None)  # type: ignore[union-attr]
            )
            await s.execute(
                update(Delivery)
                .where(
                    Delivery.broadcast_id == broadcast_id,
                    Delivery.status == DeliveryStatus.PENDING,
                    Delivery.officer_id.in_(unreachable),  # type: ignore[union-attr]
                )
                .values(status=DeliveryStatus.UNREACHABLE, error=SKIPPED_UNREACHABLE)
                .execution_options(synchronize_session=False)
            )
            ids = (
                await s.execute(
                    select(Delivery.id)
                    .where(
                        Delivery.broadcast_id == broadcast_id,
                        Delivery.status == DeliveryStatus.PENDING,
                    )
                    .order_by(Delivery.id)
                    .limit(self.config.claim_batch)
                )
            ).scalars().all()
            if not ids:
                return []
            rows = (
                await s.execute(
                    update(Delivery)
                    .where(
                        Delivery.id.in_(ids),  # type: ignore[union-attr]
                        Delivery.status == DeliveryStatus.PENDING,
                    )
                    .values(status=DeliveryStatus.SENDING)
                    .returning(
                        Delivery.id,
                        Delivery.chat_id,
                        Delivery.officer_id,
                        Delivery.text,
                        Delivery.markup,
                        Delivery.attachment,
                        Delivery.attempts,
                    )
                    .execution_options(synchronize_session=False)
                )
            ).all()
        jobs = [_Job(*row) for row in rows]
        jobs.sort(key=lambda j: j.id)
        return jobs

    async def _deliver(self, state: _Run, job: _Job) -> _Outcome | None:
        """Send one delivery (text, then its file) with the retry policy; ``None`` when the
        engine stopped before trying it (it goes back to pending)."""
        cfg = self.config
        network_tries = 0
        while True:
            if self._should_stop(state) and job.text_sent is None and network_tries == 0:
                state.queue.appendleft(job)  # released as pending by _finish
                return None
            try:
                await self._send(state, job)
                return _Outcome(job, DeliveryStatus.SENT)
            except _Stopped:
                state.queue.appendleft(job)  # released as pending by _finish
                return None
            except RetryAfter as exc:
                self.flood_waits += 1
                job.floods += 1
                self.pacer.pause(retry_after_seconds(exc))
                if job.floods > cfg.max_flood_retries:
                    return _Outcome(job, DeliveryStatus.FAILED, f"flood control: {exc}"[:500])
                continue  # the next acquire waits for the end of the pause
            except Forbidden as exc:
                return _Outcome(job, DeliveryStatus.UNREACHABLE, f"forbidden: {exc}"[:500])
            except BadRequest as exc:
                return _Outcome(job, DeliveryStatus.FAILED, str(exc)[:500])
            except NetworkError as exc:  # includes TimedOut
                network_tries += 1
                if network_tries >= cfg.max_attempts:
                    reason = f"network: {type(exc).__name__}: {exc}"
                    return _Outcome(job, DeliveryStatus.FAILED, reason[:500])
                if self._should_stop(state):
                    state.queue.appendleft(job)
                    return None
                wait = min(cfg.backoff * 2 ** (network_tries - 1), cfg.max_backoff)
                log.info("delivery %s: %s, retrying in %.1f s", job.id, exc, wait)
                await asyncio.sleep(wait)
            except TelegramError as exc:
                return _Outcome(job, DeliveryStatus.FAILED, f"{type(exc).__name__}: {exc}"[:500])
            except Exception as exc:  # a bug must not stop the whole broadcast
                log.exception("delivery %s failed unexpectedly", job.id)
                return _Outcome(job, DeliveryStatus.FAILED, f"{type(exc).__name__}: {exc}"[:500])

    def _call_args(self) -> dict[str, Any]:
        t = self.config.send_timeout
        args: dict[str, Any] = {
            "read_timeout": t,
            "write_timeout": t,
            "connect_timeout": t,
            "pool_timeout": t,
        }
        if self._through_limiter:
            args["rate_limit_args"] = {"paced": True}
        return args

    async def _send(self, state: _Run, job: _Job) -> None:
        if job.text_sent is None:
            markup = InlineKeyboardMarkup.de_json(job.markup, self.bot) if job.markup else None
            await self.pacer.acquire(job.chat_id, broadcast=True)
            if self._should_stop(state):
                raise _Stopped
            job.attempts += 1
            sent = await self.bot.send_message(
                job.chat_id,
                job.text,
                parse_mode="HTML",
                reply_markup=markup,
                **self._call_args(),
            )
            job.text_sent = sent.message_id
        if job.attachment:
            await self.pacer.acquire(job.chat_id, broadcast=True)
            await self.bot.send_document(
                job.chat_id,
                InputFile(job.attachment["data"].encode(), filename=job.attachment["filename"]),
                caption=job.attachment.get("caption"),
                parse_mode="HTML",
                **self._call_args(),
            )

    def _record(self, state: _Run, outcome: _Outcome) -> None:
        state.results.append(outcome)
        state.results_ready.set()

    async def _writer(self, state: _Run) -> None:
        """Write outcomes as they come (batched when many come at once)."""
        while True:
            await state.results_ready.wait()
            state.results_ready.clear()
            await self._flush(state)
            if state.closing:
                return
            now = time.monotonic()
            if state.listeners and now - state.last_progress >= self.config.progress_every:
                state.last_progress = now
                await self._notify(state, await self.records.summary(state.broadcast_id))

    async def _flush(self, state: _Run) -> None:
        async with state.flush_lock:
            batch, state.results = state.results, []
            if not batch:
                return
            now = utcnow()
            rows = [
                {
                    "b_id": o.job.id,
                    "b_status": str(o.status),
                    "b_error": o.error,
                    "b_attempts": o.job.attempts,
                    "b_message_id": o.job.text_sent,
                    "b_sent_at": now if o.status == DeliveryStatus.SENT else None,
                }
                for o in batch
            ]
            blocked = [
                o.job.officer_id
                for o in batch
                if o.status == DeliveryStatus.UNREACHABLE and o.job.officer_id is not None
            ]
            try:
                async with self.db.session() as s:
                    await s.execute(_RECORD_OUTCOME, rows)
                    if blocked:
                        await s.execute(
                            update(Officer)
                            .where(Officer.id.in_(blocked))  # type: ignore[union-attr]
                            .values(unreachable_at=now)
                            .execution_options(synchronize_session=False)
                        )
            except BaseException:
                state.results[:0] = batch  # keep them for the next flush
                raise

    async def _notify(self, state: _Run, summary: BroadcastSummary) -> None:
        for listener in list(state.listeners):
            try:
                await listener(summary)
            except Exception:
                log.exception("broadcast %s: progress callback failed", state.broadcast_id)


def engine_of(application: Any) -> BroadcastEngine:
    """The application's engine (created on first use, one per running bot)."""
    engine = application.bot_data.get("broadcast_engine")
    if engine is None:
        engine = BroadcastEngine(
            application.bot_data["services"].db,
            application.bot,
            application=application,
            config=application.bot_data.get("broadcast_config"),
        )
        application.bot_data["broadcast_engine"] = engine
    return engine
