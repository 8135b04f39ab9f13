"""The broadcast engine: every message sent to many people (invitations, reminders, notices,
announcements) is a ``Broadcast`` with one ``Delivery`` row per chat, written before anything is
sent, so a crash never loses nor repeats what was delivered.

Contract used by the rest of the bot (keep it stable):

- ``OutgoingMessage`` — one rendered message (Telegram HTML, optional inline keyboard as a dict,
  optional attached file).
- ``BroadcastService(db).create(kind, messages, ...)`` → broadcast id (no Telegram involved).
- ``engine_of(application)`` → the one ``BroadcastEngine`` of the running bot;
  ``await engine.run(broadcast_id, progress)`` sends what is pending and returns the summary;
  ``engine.start(broadcast_id, progress)`` does it in the background (handlers use this).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from telegram import Bot, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden

from bot.db import Database, utcnow
from bot.models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus, Officer

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
            seen: set[int] = set()
            for m in messages:
                if m.chat_id in seen:
                    continue
                seen.add(m.chat_id)
                s.add(
                    Delivery(
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
                )
            broadcast.total = len(seen)
            return broadcast.id

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


class BroadcastEngine:
    """Sends pending deliveries through the bot (whose AIORateLimiter paces the calls)."""

    def __init__(self, db: Database, bot: Bot) -> None:
        self.db = db
        self.bot = bot
        self.records = BroadcastService(db)
        self._tasks: set[asyncio.Task[BroadcastSummary]] = set()

    def start(self, broadcast_id: int, progress: Progress | None = None) -> None:
        task = asyncio.create_task(self.run(broadcast_id, progress))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait_idle(self) -> None:
        """Wait until every background broadcast finished (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def run(self, broadcast_id: int, progress: Progress | None = None) -> BroadcastSummary:
        async with self.db.session() as s:
            await s.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast_id, Broadcast.started_at.is_(None))  # type: ignore[union-attr]
                .values(started_at=utcnow(), status=BroadcastStatus.RUNNING)
            )
            pending = (
                (
                    await s.execute(
                        select(Delivery)
                        .where(
                            Delivery.broadcast_id == broadcast_id,
                            Delivery.status.in_([DeliveryStatus.PENDING]),  # type: ignore[attr-defined]
                        )
                        .order_by(Delivery.id)
                    )
                )
                .scalars()
                .all()
            )
        for delivery in pending:
            await self._send_one(delivery)
            if progress is not None:
                await progress(await self.records.summary(broadcast_id))
        async with self.db.session() as s:
            await s.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast_id)
                .values(finished_at=utcnow(), status=BroadcastStatus.DONE)
            )
        return await self.records.summary(broadcast_id)

    async def _send_one(self, delivery: Delivery) -> None:
        status, error, message_id = DeliveryStatus.SENT, None, None
        try:
            markup = (
                InlineKeyboardMarkup.de_json(delivery.markup, self.bot) if delivery.markup else None
            )
            sent = await self.bot.send_message(
                delivery.chat_id, delivery.text, parse_mode="HTML", reply_markup=markup
            )
            message_id = sent.message_id
            if delivery.attachment:
                await self.bot.send_document(
                    delivery.chat_id,
                    InputFile(
                        delivery.attachment["data"].encode(),
                        filename=delivery.attachment["filename"],
                    ),
                    caption=delivery.attachment.get("caption"),
                    parse_mode="HTML",
                )
        except Forbidden:
            status, error = DeliveryStatus.UNREACHABLE, "forbidden"
        except BadRequest as exc:
            status, error = DeliveryStatus.FAILED, str(exc)[:500]
        async with self.db.session() as s:
            await s.execute(
                update(Delivery)
                .where(Delivery.id == delivery.id)
                .values(
                    status=status,
                    error=error,
                    telegram_message_id=message_id,
                    attempts=Delivery.attempts + 1,
                    sent_at=utcnow() if status == DeliveryStatus.SENT else None,
                )
            )
            if status == DeliveryStatus.UNREACHABLE and delivery.officer_id is not None:
                await s.execute(
                    update(Officer)
                    .where(Officer.id == delivery.officer_id)
                    .values(unreachable_at=utcnow())
                )


def engine_of(application: Any) -> BroadcastEngine:
    """The application's engine (created on first use, one per running bot)."""
    engine = application.bot_data.get("broadcast_engine")
    if engine is None:
        engine = BroadcastEngine(application.bot_data["services"].db, application.bot)
        application.bot_data["broadcast_engine"] = engine
    return engine
