"""The sessions service on a real database, without Telegram: nudge timing rules, answers and
reminders, the typed location, the iCalendar fields a change touches."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db import utcnow
from bot.models import Entity, Officer, OfficerStatus, Reminder, ReminderStatus, SessionInvite
from bot.services import Services
from bot.sessions import Outcome, SessionDraft, split_location


async def _officer(services: Services, code: str, telegram_id: int, **kw: object) -> int:
    async with services.db.session() as s:
        entity = (await s.execute(select(Entity).where(Entity.code == code))).scalar_one()
        row = Officer(
            telegram_user_id=telegram_id,
            entity_id=entity.id or 0,
            full_name=f"Oficial {telegram_id}",
            status=str(kw.get("status", OfficerStatus.APPROVED.value)),
            source="self",
        )
        s.add(row)
        await s.flush()
        return row.id or 0


def _draft(days: float, **kw: object) -> SessionDraft:
    start = utcnow() + timedelta(days=days)
    values: dict[str, object] = {
        "kind": "sectorial",
        "title": "Sectorial",
        "start_at": start,
        "end_at": start + timedelta(hours=2),
        "audience": {"networks": ["red-salud", "red-economia-finanzas"]},
    }
    values.update(kw)
    return SessionDraft(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typed", "link", "place"),
    [
        ("https://zoom.us/j/123", "https://zoom.us/j/123", None),
        ("Jr. Carabaya 123, Lima", None, "Jr. Carabaya 123, Lima"),
        (
            "Auditorio PCM - https://meet.example.org/x.",
            "https://meet.example.org/x",
            "Auditorio PCM",
        ),
        ("  ", None, None),
    ],
)
def test_split_location(typed: str, link: str | None, place: str | None) -> None:
    assert split_location(typed) == (link, place)


async def test_nudge_rules(services: Services) -> None:
    sessions = services.sessions
    salud_a = await _officer(services, "minsa", 1001)
    await _officer(services, "minsa", 1002)
    await _officer(services, "mef", 1003)
    await _officer(services, "mef", 1004, status=OfficerStatus.PENDING.value)  # not invited
    now = utcnow()
    mandatory = await sessions.create(_draft(10), by=1)
    optional = await sessions.create(_draft(10, kind="grupal"), by=1)
    late = await sessions.create(_draft(2), by=1)  # convened inside the three days
    for session in (mandatory, optional, late):
        done = await sessions.convene(session.id or 0, by=1, now=now)
        assert done.outcome is Outcome.DONE
    assert optional.mandatory is False and mandatory.mandatory is True
    assert (await sessions.respond(mandatory.id or 0, 1001, True)).outcome is Outcome.DONE
    assert await sessions.claim_nudges(now=now) == []
    due = await sessions.claim_nudges(now=mandatory.start_at - timedelta(days=2))
    assert [(n.session.id, n.recipient.officer.telegram_user_id) for n in due] == [
        (mandatory.id, 1003)
    ]
    assert await sessions.claim_nudges(now=mandatory.start_at - timedelta(days=1)) == []
    # a later "no" from the confirmed officer makes Salud unconfirmed: its officers get one
    assert (await sessions.respond(mandatory.id or 0, 1001, False)).outcome is Outcome.DONE
    again = await sessions.claim_nudges(now=mandatory.start_at - timedelta(hours=20))
    assert sorted(n.recipient.officer.telegram_user_id for n in again) == [1001, 1002]
    assert await sessions.claim_nudges(now=mandatory.start_at - timedelta(hours=10)) == []
    assert await sessions.claim_nudges(now=mandatory.start_at + timedelta(minutes=1)) == []
    async with services.db.session() as s:
        nudged = (
            await s.execute(
                select(SessionInvite.officer_id).where(SessionInvite.nudged_at.is_not(None))  # type: ignore[union-attr]
            )
        ).scalars()
        assert salud_a in set(nudged)


async def test_answers_keep_reminders_in_step(services: Services) -> None:
    sessions = services.sessions
    officer_id = await _officer(services, "minsa", 2001)
    session = await sessions.create(_draft(10), by=7)
    await sessions.convene(session.id or 0, by=7)

    async def statuses() -> set[str]:
        async with services.db.session() as s:
            return set(
                (
                    await s.execute(
                        select(Reminder.status).where(Reminder.officer_id == officer_id)
                    )
                ).scalars()
            )

    assert await statuses() == {ReminderStatus.PENDING}
    assert (await sessions.respond(session.id or 0, 2001, False)).outcome is Outcome.DONE
    assert await statuses() == {ReminderStatus.DROPPED}
    assert (await sessions.respond(session.id or 0, 2001, False)).outcome is Outcome.UNCHANGED
    assert (await sessions.respond(session.id or 0, 2001, True)).outcome is Outcome.DONE
    assert await statuses() == {ReminderStatus.PENDING}
    assert (await sessions.respond(session.id or 0, 9999, True)).outcome is Outcome.NOT_INVITED
    assert (await sessions.respond(123456, 2001, True)).outcome is Outcome.NOT_FOUND

    moved = await sessions.change_location(session.id or 0, "Auditorio https://x.example/y", by=8)
    assert moved.outcome is Outcome.DONE and moved.session is not None
    assert moved.session.modality == "mixta" and moved.session.sequence == 1
    assert moved.session.edited_by == 8
    same = await sessions.change_location(session.id or 0, "Auditorio https://x.example/y", by=8)
    assert same.outcome is Outcome.UNCHANGED
    gone = await sessions.cancel(session.id or 0, by=9)
    assert gone.outcome is Outcome.DONE and gone.session is not None
    assert gone.session.sequence == 2 and gone.session.cancelled_at is not None
    assert await statuses() == {ReminderStatus.DROPPED}
    assert (await sessions.cancel(session.id or 0, by=9)).outcome is Outcome.CANCELLED
    assert (await sessions.respond(session.id or 0, 2001, True)).outcome is Outcome.CANCELLED
    later = utcnow() + timedelta(days=20)
    assert (await sessions.reschedule(session.id or 0, later, by=9)).outcome is Outcome.CANCELLED


async def test_individual_meetings_belong_to_their_request(services: Services) -> None:
    """An assistance meeting is a session too, but /sesiones neither lists nor changes it: it
    is moved or cancelled from its request, whose history must know."""
    from bot.models import Session, SessionKind

    group = await services.sessions.create(_draft(5, kind="grupal", audience={"all": True}), by=1)
    start = utcnow() + timedelta(days=3)
    async with services.db.session() as s:
        meeting = Session(
            uid="meeting-1@integridad-bot",
            kind=SessionKind.INDIVIDUAL,
            title="Reunión",
            audience={"officers": [await _officer(services, "minsa", 1001)]},
            start_at=start,
            end_at=start + timedelta(hours=1),
        )
        s.add(meeting)
        await s.flush()
        meeting_id = meeting.id or 0
    page = await services.sessions.upcoming()
    assert [line.session.id for line in page.lines] == [group.id]
    assert await services.sessions.line(meeting_id) is None
    moved = await services.sessions.reschedule(meeting_id, start + timedelta(days=1), by=1)
    assert moved.outcome is Outcome.NOT_FOUND
    assert (await services.sessions.convene_preview(meeting_id)).outcome is Outcome.NOT_FOUND


async def test_two_changes_from_the_same_view_only_one_wins(services: Services) -> None:
    """Two coordinators confirm a new time (or place) for a session they saw at the same
    ``updated_at``: one change is saved, the other is refused as STALE, never both."""
    start = (utcnow() + timedelta(days=10)).replace(microsecond=0)
    session = await services.sessions.create(
        SessionDraft(
            kind="grupal",
            title="Sesión en carrera",
            start_at=start,
            end_at=start + timedelta(hours=2),
        ),
        by=1,
    )
    seen = session.updated_at
    moved = await asyncio.gather(
        *(
            services.sessions.reschedule(
                session.id or 0, start + timedelta(days=n), by=n, expected=seen
            )
            for n in (1, 2)
        )
    )
    assert sorted(c.outcome.value for c in moved) == ["done", "stale"]
    winner = next(c for c in moved if c.outcome is Outcome.DONE)
    row = await services.sessions.get(session.id or 0)
    assert row is not None and winner.session is not None
    assert (row.start_at, row.sequence) == (winner.session.start_at, 1)

    seen = row.updated_at
    placed = await asyncio.gather(
        *(
            services.sessions.change_location(session.id or 0, f"Sala {n}", by=n, expected=seen)
            for n in (1, 2)
        )
    )
    assert sorted(c.outcome.value for c in placed) == ["done", "stale"]
    row = await services.sessions.get(session.id or 0)
    assert row is not None and row.place in ("Sala 1", "Sala 2") and row.sequence == 2
