"""The reminder outbox: one ``Reminder`` row per (session, officer, offset).

``plan_reminders`` is called whenever a session's invitees, answers or time change; it keeps the
outbox in step (moving pending reminders, dropping those no longer wanted). Sending what is due is
the dispatcher's work (a job at most every 30 seconds, through the broadcast engine).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import utcnow
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
