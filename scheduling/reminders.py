"""The reminder outbox: one ``Reminder`` row per (session, officer, offset).

``plan_reminders`` is called whenever a session's invitees, answers or time change; it keeps the
outbox in step (moving pending reminders, dropping those no longer wanted). Sending what is due is
the dispatcher's work (:class:`ReminderDispatcher`, run by a job at most every 30 seconds, see
:mod:`scheduling.jobs`): due pending reminders become one broadcast of kind ``reminder`` and are
marked ``queued`` with their delivery id in the same transaction, so a reminder is handed to the
engine exactly once; the engine's durability does the rest.

Rules of the dispatcher (``now`` can be given, so tests control the clock):

- A due reminder is sent if its session is still scheduled and has not started, even if it fell
  due while the bot was down; otherwise it is dropped (never sent late for a past session).
- It is dropped if the officer is no longer approved, has no Telegram account, declined, or is
  no longer invited.
- When several offsets of one session are due at once for an officer (after downtime), only the
  nearest one is sent; the older ones are dropped as superseded.
- An officer gets at most one reminder per run (one delivery per chat and broadcast); another
  session's reminder due at the same time waits for the next run, 30 seconds later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database, utcnow
from bot.models import (
    Officer,
    OfficerStatus,
    Reminder,
    ReminderStatus,
    RsvpResponse,
    Session,
    SessionInvite,
    SessionStatus,
)
from bot.texts import Texts
from scheduling.broadcast import BroadcastService, OutgoingMessage

#: The broadcast kind of reminders.
REMINDER_KIND = "reminder"
#: The template of the reminder message (content/templates/reminders/reminder.html).
REMINDER_TEMPLATE = "reminders/reminder"


async def plan_reminders(
    s: AsyncSession,
    session_id: int,
    offsets: list[timedelta],
    *,
    now: datetime | None = None,
) -> int:
    """Bring the session's pending reminders in line with it; return how many are pending.

    Wanted: for each invitee who has not declined and is still approved, each offset whose due
    time (start - offset) is still ahead. A pending reminder no longer wanted is dropped; one whose
    due time changed (reschedule) is moved. Queued ones (already handed to the engine) are kept.
    A cancelled session drops everything pending.
    """
    now = now or utcnow()
    session = await s.get(Session, session_id)
    if session is None:
        return 0
    existing = {
        (r.officer_id, r.offset_minutes): r
        for r in (
            await s.execute(select(Reminder).where(Reminder.session_id == session_id))
        ).scalars()
    }
    wanted: dict[tuple[int, int], datetime] = {}
    if session.status == SessionStatus.SCHEDULED and session.start_at > now:
        invitees = (
            await s.execute(
                select(SessionInvite.officer_id)
                .join(Officer, Officer.id == SessionInvite.officer_id)
                .where(
                    SessionInvite.session_id == session_id,
                    SessionInvite.response != RsvpResponse.NO,
                    Officer.status == OfficerStatus.APPROVED,
                    Officer.telegram_user_id.is_not(None),  # type: ignore[union-attr]
                )
            )
        ).scalars()
        for officer_id in invitees:
            for offset in offsets:
                due = session.start_at - offset
                if due > now:
                    wanted[(officer_id, int(offset.total_seconds() // 60))] = due
    pending = 0
    for key, due in wanted.items():
        row = existing.get(key)
        if row is None:
            s.add(
                Reminder(
                    session_id=session_id,
                    officer_id=key[0],
                    offset_minutes=key[1],
                    due_at=due,
                )
            )
            pending += 1
        elif row.status in (ReminderStatus.PENDING, ReminderStatus.DROPPED):
            if row.due_at != due or row.status != ReminderStatus.PENDING:
                row.due_at, row.status, row.updated_at = due, ReminderStatus.PENDING, now
            pending += 1
        elif row.due_at != due:
            # Queued for the old time: a reschedule wants a new reminder at the new time.
            row.due_at, row.status, row.delivery_id, row.updated_at = (
                due,
                ReminderStatus.PENDING,
                None,
                now,
            )
            pending += 1
    stale = [k for k, r in existing.items() if k not in wanted and r.status == "pending"]
    if stale:
        await s.execute(
            update(Reminder)
            .where(
                Reminder.id.in_([existing[k].id for k in stale]),  # type: ignore[union-attr]
            )
            .values(status=ReminderStatus.DROPPED, updated_at=now)
        )
    await s.flush()
    return pending


@dataclass
class DispatchResult:
    """What one run of the dispatcher did."""

    broadcast_id: int | None = None  # the reminder broadcast to send (None: nothing due)
    queued: int = 0
    dropped: int = 0
    waiting: int = 0  # due, but the officer already gets another reminder in this run


def reminder_markup(texts: Texts, session_id: int) -> dict[str, Any]:
    """The reminder's buttons, with the sessions UI's callback data (``ses:n``, ``ses:ics``)."""
    return {
        "inline_keyboard": [
            [
                {"text": texts.label("reminder_decline"), "callback_data": f"ses:n:{session_id}"},
                {
                    "text": texts.label("reminder_add_calendar"),
                    "callback_data": f"ses:ics:{session_id}",
                },
            ]
        ]
    }


def time_left(start: datetime, now: datetime) -> tuple[int, int, int]:
    """(days, hours, minutes) left, rounded to the unit that reads naturally; only one of the
    three is non-zero (a 1-day reminder sent 20 seconds late still says "1 día")."""
    minutes = max(int((start - now).total_seconds() // 60), 1)
    if minutes >= 24 * 60 - 30:
        return round(minutes / (24 * 60)), 0, 0
    if minutes >= 55:
        return 0, round(minutes / 60), 0
    return 0, 0, minutes


def render_reminder(texts: Texts, session: Session, officer: Officer, now: datetime) -> str:
    """The reminder message of one session for one officer (Telegram HTML)."""
    days, hours, minutes = time_left(session.start_at, now)
    return texts.render(
        REMINDER_TEMPLATE,
        kind=session.kind,
        title=session.title,
        start=session.start_at,
        end=session.end_at,
        modality=session.modality,
        place=session.place,
        link=session.link,
        mandatory=session.mandatory,
        topics=list(session.topics or []),
        days=days,
        hours=hours,
        minutes=minutes,
        officer_name=officer.full_name,
    )


class ReminderDispatcher:
    """Turns due reminders into one broadcast (see the module docstring)."""

    def __init__(self, db: Database, texts: Texts) -> None:
        self.db = db
        self.texts = texts
        self.broadcasts = BroadcastService(db)

    async def dispatch(self, *, now: datetime | None = None) -> DispatchResult:
        """Queue every due reminder; return the broadcast the engine must send (if any)."""
        now = now or utcnow()
        result = DispatchResult()
        async with self.db.session() as s:
            rows = (
                await s.execute(
                    select(Reminder, Session, Officer, SessionInvite.response)
                    .join(Session, Session.id == Reminder.session_id)
                    .join(Officer, Officer.id == Reminder.officer_id)
                    .outerjoin(
                        SessionInvite,
                        (SessionInvite.session_id == Reminder.session_id)
                        & (SessionInvite.officer_id == Reminder.officer_id),
                    )
                    .where(
                        Reminder.status == ReminderStatus.PENDING,
                        Reminder.due_at <= now,
                    )
                    .order_by(Session.start_at, Session.id, Reminder.offset_minutes)
                    .with_for_update(of=Reminder, skip_locked=True)  # type: ignore[arg-type]
                )
            ).all()
            drop: list[int] = []
            chosen: dict[int, tuple[Reminder, Session, Officer]] = {}  # by officer
            seen: set[tuple[int, int]] = set()
            for reminder, session, officer, response in rows:
                key = (session.id or 0, officer.id or 0)
                wanted = (
                    session.status == SessionStatus.SCHEDULED
                    and session.start_at > now
                    and officer.status == OfficerStatus.APPROVED
                    and officer.telegram_user_id is not None
                    and response is not None
                    and response != RsvpResponse.NO
                )
                if not wanted or key in seen:
                    drop.append(reminder.id or 0)  # stale, or superseded by a nearer offset
                    continue
                seen.add(key)
                if officer.id in chosen:
                    result.waiting += 1  # next run: one reminder per officer and broadcast
                    continue
                chosen[officer.id or 0] = (reminder, session, officer)
            if drop:
                await s.execute(
                    update(Reminder)
                    .where(
                        Reminder.id.in_(drop),  # type: ignore[union-attr]
                        Reminder.status == ReminderStatus.PENDING,
                    )
                    .values(status=ReminderStatus.DROPPED, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
                result.dropped = len(drop)
            if not chosen:
                return result
            messages = [
                OutgoingMessage(
                    chat_id=officer.telegram_user_id or 0,
                    officer_id=officer.id,
                    text=render_reminder(self.texts, session, officer, now),
                    markup=reminder_markup(self.texts, session.id or 0),
                )
                for reminder, session, officer in chosen.values()
            ]
            broadcast_id, delivery_of = await self.broadcasts.create_in(
                s,
                REMINDER_KIND,
                messages,
                description={"reminders": len(messages)},
            )
            for reminder, _session, officer in chosen.values():
                done = await s.execute(
                    update(Reminder)
                    .where(
                        Reminder.id == reminder.id,
                        Reminder.status == ReminderStatus.PENDING,
                    )
                    .values(
                        status=ReminderStatus.QUEUED,
                        delivery_id=delivery_of[officer.telegram_user_id or 0],
                        updated_at=now,
                    )
                    .execution_options(synchronize_session=False)
                )
                if done.rowcount != 1:  # type: ignore[attr-defined]
                    # another dispatcher took it meanwhile: undo everything, send nothing
                    raise ReminderRace(reminder.id or 0)
            result.broadcast_id = broadcast_id
            result.queued = len(messages)
        return result


class ReminderRace(Exception):
    """Two dispatchers raced for the same reminder; the transaction was rolled back."""
