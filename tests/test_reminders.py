"""Reminders: the outbox (plan_reminders) and the dispatcher that sends what is due through the
broadcast engine, with the clock under the test's control; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from bot.db import Database, utcnow
from bot.models import (
    Delivery,
    Reminder,
    ReminderStatus,
    RsvpResponse,
    Session,
    SessionInvite,
    SessionStatus,
)
from bot.texts import format_lima
from scheduling.broadcast import engine_of
from scheduling.jobs import dispatch_reminders
from scheduling.reminders import ReminderDispatcher, plan_reminders
from tests.broadcast_helpers import make_session, received, register_officers, wait_for
from tests.conftest import BotFactory, BotHarness
from tests.fakebot import FakeTelegram

OFFSETS = [timedelta(days=7), timedelta(days=1), timedelta(hours=1)]


async def plan(db: Database, session_id: int, now: datetime) -> int:
    async with db.session() as s:
        return await plan_reminders(s, session_id, OFFSETS, now=now)


async def reminders_of(db: Database, session_id: int) -> list[Reminder]:
    async with db.session() as s:
        rows = await s.execute(
            select(Reminder)
            .where(Reminder.session_id == session_id)
            .order_by(Reminder.officer_id, Reminder.offset_minutes.desc())  # type: ignore[attr-defined]
        )
        return list(rows.scalars())


async def dispatch(bot: BotHarness, now: datetime) -> tuple[int, int]:
    """Run the dispatcher at ``now``, wait for the engine; return (queued, dropped)."""
    result = await dispatch_reminders(bot.app, now=now)
    await engine_of(bot.app).wait_idle()
    return result.queued, result.dropped


def next_start(days: int = 10) -> datetime:
    return (utcnow() + timedelta(days=days)).replace(second=0, microsecond=0)


async def test_due_reminders_are_sent_once_with_the_session_and_buttons(
    make_bot: BotFactory, fake: FakeTelegram
) -> None:
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 3)
    start = next_start()
    sid = await make_session(
        bot.db,
        [o for _, o in people],
        start=start,
        link="https://reuniones.example.gob.pe/sip-abril",
        topics=["Guía de Evaluación 1", "Uso del Sistema ICP"],
    )
    assert await plan(bot.db, sid, utcnow()) == 9

    assert await dispatch(bot, start - timedelta(days=7, minutes=1)) == (0, 0)  # not yet due
    assert await dispatch(bot, start - timedelta(days=7) + timedelta(seconds=20)) == (3, 0)
    for user, _ in people:
        [message] = fake.chat_messages(user.id)
        text = message.text or ""
        assert "Recordatorio" in text and "Alcances de la Guía de Evaluación 1" in text
        assert format_lima(start) in text and "Faltan 7 días" in text
        assert "https://reuniones.example.gob.pe/sip-abril" in text
        assert "Modalidad: virtual" in text and "Uso del Sistema ICP" in text
        assert message.button_data("🚫 No podré") == f"ses:n:{sid}"
        assert message.button_data("📅 Añadir al calendario") == f"ses:ics:{sid}"
    rows = await reminders_of(bot.db, sid)
    week = [r for r in rows if r.offset_minutes == 7 * 24 * 60]
    assert all(r.status == ReminderStatus.QUEUED and r.delivery_id for r in week)
    async with bot.db.session() as s:
        sent = (
            await s.execute(
                select(Delivery.status).where(
                    Delivery.id.in_([r.delivery_id for r in week])  # type: ignore[union-attr]
                )
            )
        ).scalars().all()
    assert sent == ["sent"] * 3

    # the same moment again, or a little later: nothing new
    assert await dispatch(bot, start - timedelta(days=7) + timedelta(seconds=50)) == (0, 0)
    assert all(len(fake.chat_messages(u.id)) == 1 for u, _ in people)
    # the next offset
    assert await dispatch(bot, start - timedelta(days=1)) == (3, 0)
    assert all("Falta 1 día" in received(fake, u)[-1] for u, _ in people)


async def test_reminder_due_during_downtime_is_sent_late_but_once(
    make_bot: BotFactory, fake: FakeTelegram
) -> None:
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 2)
    start = next_start()
    sid = await make_session(bot.db, [o for _, o in people], start=start)
    await plan(bot.db, sid, utcnow())

    # the bot was down from before the 7-day reminder until 12 hours before the session
    assert await dispatch(bot, start - timedelta(hours=12)) == (2, 2)  # the 7-day one dropped
    for user, _ in people:
        assert [("Faltan 12 horas" in t) for t in received(fake, user)] == [True]
    assert await dispatch(bot, start - timedelta(hours=11)) == (0, 0)
    assert await dispatch(bot, start - timedelta(minutes=30)) == (2, 0)  # the 1-hour one
    assert await dispatch(bot, start - timedelta(minutes=29)) == (0, 0)
    for user, _ in people:
        texts = received(fake, user)
        assert len(texts) == 2 and "Faltan 30 minutos" in texts[1]
    statuses = sorted(r.status for r in await reminders_of(bot.db, sid))
    assert statuses == ["dropped"] * 2 + ["queued"] * 4


async def test_reminders_never_doubled_across_a_restart(
    make_bot: BotFactory, fake: FakeTelegram
) -> None:
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 30)
    fake.enforce_flood_limits()
    start = next_start()
    sid = await make_session(bot.db, [o for _, o in people], start=start)
    await plan(bot.db, sid, utcnow())
    due = start - timedelta(days=1) + timedelta(seconds=5)

    result = await dispatch_reminders(bot.app, now=due)
    assert result.queued == 30
    await wait_for(lambda: sum(len(u.messages) for u, _ in people) >= 6)
    await bot.stop()  # the bot stops while the reminders are going out
    assert sum(len(u.messages) for u, _ in people) < 30

    await bot.start()  # resumes the reminder broadcast by itself
    await wait_for(lambda: sum(len(u.messages) for u, _ in people) >= 30)
    await engine_of(bot.app).wait_idle()
    assert await dispatch(bot, due) == (0, 0)  # and the dispatcher does not queue them again
    assert await dispatch(bot, due + timedelta(minutes=1)) == (0, 0)
    assert all(len(received(fake, u, "Recordatorio")) == 1 for u, _ in people)


async def test_reminders_queued_before_a_crash_are_sent_after_it(
    make_bot: BotFactory, fake: FakeTelegram
) -> None:
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 2)
    start = next_start()
    sid = await make_session(bot.db, [o for _, o in people], start=start)
    await plan(bot.db, sid, utcnow())
    # queued in the database, then the process died before the engine sent anything
    queued = await ReminderDispatcher(bot.db, bot.s.texts).dispatch(now=start - timedelta(hours=1))
    assert queued.queued == 2 and queued.broadcast_id is not None
    await bot.restart()
    await wait_for(lambda: all(u.messages for u, _ in people))
    await engine_of(bot.app).wait_idle()
    assert await dispatch(bot, start - timedelta(minutes=59)) == (0, 0)
    assert [len(received(fake, u)) for u, _ in people] == [1, 1]


async def test_reminders_of_a_started_session_are_dropped(
    make_bot: BotFactory, fake: FakeTelegram
) -> None:
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 2)
    start = next_start()
    sid = await make_session(bot.db, [o for _, o in people], start=start)
    await plan(bot.db, sid, utcnow())
    # down from before the first reminder until after the start: nothing is sent late
    assert await dispatch(bot, start + timedelta(minutes=1)) == (0, 6)
    assert all(fake.chat_messages(u.id) == [] for u, _ in people)
    assert {r.status for r in await reminders_of(bot.db, sid)} == {ReminderStatus.DROPPED}


async def test_rescheduling_moves_pending_reminders(
    make_bot: BotFactory, fake: FakeTelegram
) -> None:
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 2)
    start = next_start()
    sid = await make_session(bot.db, [o for _, o in people], start=start)
    await plan(bot.db, sid, utcnow())
    later = start + timedelta(days=2, hours=3)
    async with bot.db.session() as s:
        await s.execute(
            update(Session)
            .where(Session.id == sid)
            .values(start_at=later, end_at=later + timedelta(hours=2), sequence=1)
        )
        assert await plan_reminders(s, sid, OFFSETS, now=utcnow()) == 6
    dues = {r.due_at for r in await reminders_of(bot.db, sid)}
    assert dues == {later - o for o in OFFSETS}

    assert await dispatch(bot, start - timedelta(days=7) + timedelta(seconds=5)) == (0, 0)
    assert all(fake.chat_messages(u.id) == [] for u, _ in people)
    assert await dispatch(bot, later - timedelta(days=7) + timedelta(seconds=5)) == (2, 0)
    for user, _ in people:
        [text] = received(fake, user)
        assert format_lima(later) in text


async def test_cancelling_drops_pending_reminders(make_bot: BotFactory, fake: FakeTelegram) -> None:
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 2)
    start = next_start()
    cancelled = await make_session(bot.db, [o for _, o in people], start=start)
    forgotten = await make_session(bot.db, [o for _, o in people], start=start, title="Otra")
    await plan(bot.db, cancelled, utcnow())
    await plan(bot.db, forgotten, utcnow())
    async with bot.db.session() as s:
        await s.execute(
            update(Session)
            .where(Session.id.in_([cancelled, forgotten]))  # type: ignore[union-attr]
            .values(status=SessionStatus.CANCELLED, cancelled_at=utcnow())
        )
        assert await plan_reminders(s, cancelled, OFFSETS, now=utcnow()) == 0
    assert {r.status for r in await reminders_of(bot.db, cancelled)} == {ReminderStatus.DROPPED}
    # even without plan_reminders, the dispatcher never reminds of a cancelled session
    assert await dispatch(bot, start - timedelta(days=7) + timedelta(seconds=5)) == (0, 2)
    assert all(fake.chat_messages(u.id) == [] for u, _ in people)


async def test_an_officer_who_declined_is_not_reminded(
    make_bot: BotFactory, fake: FakeTelegram
) -> None:
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 2)
    (coming, _), (declining, declined) = people
    start = next_start()
    sid = await make_session(bot.db, [o for _, o in people], start=start)
    await plan(bot.db, sid, utcnow())
    async with bot.db.session() as s:
        await s.execute(
            update(SessionInvite)
            .where(SessionInvite.session_id == sid, SessionInvite.officer_id == declined.id)
            .values(response=RsvpResponse.NO, responded_at=utcnow())
        )
    # both due offsets of the one who declined dropped, and the superseded 7-day one
    assert await dispatch(bot, start - timedelta(days=1)) == (1, 3)
    assert len(received(fake, coming)) == 1 and received(fake, declining) == []


async def test_each_kind_of_session_reads_well_one_reminder_per_run(
    make_bot: BotFactory, fake: FakeTelegram
) -> None:
    bot = await make_bot()
    [(user, officer)] = await register_officers(bot.s, fake, 1)
    start = next_start()
    group = await make_session(bot.db, [officer], start=start)
    sectoral = await make_session(
        bot.db,
        [officer],
        start=start + timedelta(hours=3),
        kind="sectorial",
        title="Red de Integridad de Salud: Componente 4",
        mandatory=True,
        modality="presencial",
        place="Jr. Carabaya 1125, Lima",
    )
    individual = await make_session(
        bot.db,
        [officer],
        start=start + timedelta(hours=6),
        kind="individual",
        title="Absolución de consultas del MINSA",
        link="https://reuniones.example.gob.pe/minsa",
    )
    for sid in (group, sectoral, individual):
        await plan(bot.db, sid, utcnow())
    now = start - timedelta(hours=12)
    # all three are due (their 7-day reminders superseded by the 1-day ones); one delivery per
    # chat and broadcast: one each run, nearest session first
    assert await dispatch(bot, now) == (1, 3)
    assert await dispatch(bot, now + timedelta(seconds=30)) == (1, 0)
    assert await dispatch(bot, now + timedelta(seconds=60)) == (1, 0)
    assert await dispatch(bot, now + timedelta(seconds=90)) == (0, 0)
    first, second, third = received(fake, user)
    assert "asistencia técnica grupal" in first
    assert "Red de Integridad de Salud" in second and "obligatoria" in second
    assert "Modalidad: presencial" in second and "Jr. Carabaya 1125, Lima" in second
    assert "reunión de asistencia técnica individual" in third
    assert "https://reuniones.example.gob.pe/minsa" in third
    assert "Estimado(a) Ana Prueba0:" in first


async def test_the_reminder_job_runs_at_most_every_30_seconds(make_bot: BotFactory) -> None:
    bot = await make_bot()
    [tick] = bot.app.job_queue.get_jobs_by_name("reminders:tick")
    assert tick.trigger.interval <= timedelta(seconds=30)
