"""The broadcast engine through the fake Bot API over HTTP, on SQLite and PostgreSQL: pacing
within Telegram's limits, 429/403/400/timeouts, and a broadcast killed half-way and resumed."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.db import utcnow
from bot.models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus, Officer
from scheduling.broadcast import (
    SKIPPED_UNREACHABLE,
    Attachment,
    BroadcastService,
    BroadcastSummary,
    OutgoingMessage,
    engine_of,
)
from tests.broadcast_helpers import (
    deliveries,
    messages_for,
    quick,
    received,
    register_officers,
    wait_for,
)
from tests.conftest import BotFactory
from tests.fakebot import FakeError, FakeTelegram, bad_request, too_many_requests

# PTB's own RetryAfter warns about its int retry_after when a 429 arrives (not our code)
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def test_pacing_within_telegrams_limits(make_bot: BotFactory, fake: FakeTelegram) -> None:
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 45)
    flood = fake.enforce_flood_limits()  # 30/s overall, 1/s per chat, 429 beyond
    messages = messages_for(people)
    # three of them also get a file: a second call to the same chat, paced one second apart
    for i in range(3):
        messages[i] = OutgoingMessage(
            chat_id=messages[i].chat_id,
            officer_id=messages[i].officer_id,
            text=messages[i].text,
            attachment=Attachment("sesion.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
        )
    seen: list[BroadcastSummary] = []

    async def progress(summary: BroadcastSummary) -> None:
        seen.append(summary)

    broadcast_id = await BroadcastService(bot.s.db).create("announcement", messages)
    summary = await quick(engine_of(bot.app)).run(broadcast_id, progress)

    assert (summary.total, summary.sent, summary.failed, summary.pending) == (45, 45, 0, 0)
    assert flood.stats.violations == [] and flood.stats.refused == 0
    assert flood.stats.max_per_second <= 30
    assert flood.stats.min_chat_gap >= 1.0
    rows = await deliveries(bot.s.db, broadcast_id)
    assert all(d.sent_at is not None and d.sent_at.tzinfo is not None for d in rows)
    assert all(abs((utcnow() - (d.sent_at or utcnow())).total_seconds()) < 60 for d in rows)
    assert all(d.telegram_message_id and d.attempts == 1 for d in rows)
    for i, (user, _) in enumerate(people):
        assert received(fake, user) == [f"Aviso {i}"]
    assert len(fake.sent_documents()) == 3
    assert seen and seen[-1].done and seen[-1].sent == 45
    async with bot.s.db.session() as s:
        broadcast = await s.get(Broadcast, broadcast_id)
        assert broadcast is not None and broadcast.status == BroadcastStatus.DONE
        assert broadcast.finished_at is not None


async def test_429_waits_retry_after_and_continues(
    make_bot: BotFactory, fake: FakeTelegram
) -> None:
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 20)
    flood = fake.enforce_flood_limits(per_second=8, retry_after=1)  # a stricter Telegram
    engine = quick(engine_of(bot.app))
    broadcast_id = await BroadcastService(bot.s.db).create("announcement", messages_for(people))
    summary = await engine.run(broadcast_id)

    assert (summary.sent, summary.failed, summary.pending) == (20, 0, 0)
    assert flood.stats.refused > 0 and engine.flood_waits == flood.stats.refused
    for i, (user, _) in enumerate(people):
        assert received(fake, user) == [f"Aviso {i}"]


async def test_injected_429s_on_some_calls(make_bot: BotFactory, fake: FakeTelegram) -> None:
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 6)
    refusals = {"left": 3}

    def flood(method: str, params: dict[str, Any]) -> FakeError | None:
        if method == "sendMessage" and refusals["left"] > 0:
            refusals["left"] -= 1
            return too_many_requests(1)
        return None

    fake.interceptors.insert(0, flood)
    loop = asyncio.get_running_loop()
    began = loop.time()
    broadcast_id = await BroadcastService(bot.s.db).create("announcement", messages_for(people))
    summary = await quick(engine_of(bot.app)).run(broadcast_id)
    assert (summary.sent, summary.failed) == (6, 0)
    assert loop.time() - began >= 1.0  # it did wait retry_after
    assert all(len(received(fake, u)) == 1 for u, _ in people)


async def test_403_marks_unreachable_and_later_broadcasts_skip_them(
    make_bot: BotFactory, fake: FakeTelegram
) -> None:
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 4)
    blocked_user, blocked_officer = people[1]
    blocked_user.block_bot()
    service = BroadcastService(bot.s.db)
    engine = quick(engine_of(bot.app))

    first = await engine.run(await service.create("announcement", messages_for(people)))
    assert (first.sent, first.unreachable, first.failed) == (3, 1, 0)
    async with bot.s.db.session() as s:
        officer = await s.get(Officer, blocked_officer.id)
        assert officer is not None and officer.unreachable_at is not None
    calls_before = len(
        [c for c in fake.calls_to("sendMessage") if c.params.get("chat_id") == blocked_user.id]
    )

    second_id = await service.create("announcement", messages_for(people, lambda i: f"Otro {i}"))
    second = await engine.run(second_id)
    assert (second.sent, second.unreachable) == (3, 1)
    calls_after = [
        c for c in fake.calls_to("sendMessage") if c.params.get("chat_id") == blocked_user.id
    ]
    assert len(calls_after) == calls_before == 1  # Telegram not called again for them
    skipped = [d for d in await deliveries(bot.s.db, second_id) if d.chat_id == blocked_user.id]
    assert skipped[0].status == DeliveryStatus.UNREACHABLE
    assert skipped[0].error == SKIPPED_UNREACHABLE and skipped[0].attempts == 0
    assert blocked_user.messages == []


async def test_blocking_and_unblocking_the_bot_is_followed(
    make_bot: BotFactory, fake: FakeTelegram
) -> None:
    """Telegram tells the bot when an officer blocks it (my_chat_member ``kicked``) and when
    they unblock it (``member``): no 403 is needed to skip them, and they are reached again."""
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 3)
    user, officer = people[0]
    user.block_bot(notify=True)
    await bot.settle()
    async with bot.s.db.session() as s:
        row = await s.get(Officer, officer.id)
        assert row is not None and row.unreachable_at is not None
    service = BroadcastService(bot.s.db)
    engine = quick(engine_of(bot.app))
    first = await engine.run(await service.create("announcement", messages_for(people)))
    assert (first.sent, first.unreachable, first.failed) == (2, 1, 0)
    assert fake.errors() == []  # skipped without asking Telegram

    user.unblock_bot(notify=True)
    await bot.settle()
    second = await engine.run(
        await service.create("announcement", messages_for(people, lambda i: f"Otra vez {i}"))
    )
    assert (second.sent, second.unreachable) == (3, 0)
    assert [m.text for m in user.messages] == ["Otra vez 0"]
    assert fake.errors() == []


async def test_400_recorded_with_its_reason(make_bot: BotFactory, fake: FakeTelegram) -> None:
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 3)
    fake.fail_chat(people[0][0].id, bad_request("chat not found"))
    broadcast_id = await BroadcastService(bot.s.db).create("announcement", messages_for(people))
    summary = await quick(engine_of(bot.app)).run(broadcast_id)
    assert (summary.sent, summary.failed, summary.unreachable) == (2, 1, 0)
    assert summary.errors == {"Chat not found": 1}
    failed = [d for d in await deliveries(bot.s.db, broadcast_id) if d.status == "failed"]
    assert failed[0].chat_id == people[0][0].id and failed[0].attempts == 1


async def test_timeouts_are_retried_with_backoff_then_failed(
    make_bot: BotFactory, fake: FakeTelegram
) -> None:
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 3)
    slow, lost, fine = (u for u, _ in people)
    fake.time_out_chat(slow.id, times=2, delay=1.0)  # two timeouts, then it goes through
    fake.time_out_chat(lost.id, times=None, delay=1.0)  # never answers in time
    broadcast_id = await BroadcastService(bot.s.db).create("announcement", messages_for(people))
    summary = await quick(engine_of(bot.app), max_attempts=3).run(broadcast_id)

    assert (summary.sent, summary.failed) == (2, 1)
    assert received(fake, slow) == ["Aviso 0"] and received(fake, fine) == ["Aviso 2"]
    assert received(fake, lost) == []
    by_chat = {d.chat_id: d for d in await deliveries(bot.s.db, broadcast_id)}
    assert by_chat[slow.id].status == DeliveryStatus.SENT and by_chat[slow.id].attempts == 3
    assert by_chat[lost.id].status == DeliveryStatus.FAILED and by_chat[lost.id].attempts == 3
    assert (by_chat[lost.id].error or "").startswith("network: TimedOut")


async def test_stopped_half_way_and_resumed_reaches_everyone_exactly_once(
    make_bot: BotFactory, fake: FakeTelegram
) -> None:
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 40)
    fake.enforce_flood_limits()
    broadcast_id = await BroadcastService(bot.s.db).create("invitation", messages_for(people))
    engine_of(bot.app).start(broadcast_id)
    await wait_for(lambda: sum(len(u.messages) for u, _ in people) >= 12)

    await bot.stop()  # as a SIGTERM: the Application stops half-way through the broadcast
    got = sum(len(u.messages) for u, _ in people)
    assert 12 <= got < 40
    rows = await deliveries(bot.db, broadcast_id)
    assert sum(d.status == DeliveryStatus.SENT for d in rows) == got  # every delivery recorded
    assert not any(d.status == DeliveryStatus.SENDING for d in rows)  # nothing left claimed

    await bot.start()  # a new Application on the same database resumes it by itself
    await wait_for(lambda: sum(len(u.messages) for u, _ in people) >= 40)
    await engine_of(bot.app).wait_idle()
    summary = await BroadcastService(bot.db).summary(broadcast_id)
    assert (summary.sent, summary.failed) == (40, 0)
    for i, (user, _) in enumerate(people):
        assert received(fake, user) == [f"Aviso {i}"]


async def test_cancelled_engine_task_then_new_application_resumes_exactly_once(
    make_bot: BotFactory, fake: FakeTelegram
) -> None:
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 30)
    broadcast_id = await BroadcastService(bot.s.db).create("invitation", messages_for(people))
    task = asyncio.ensure_future(engine_of(bot.app).run(broadcast_id))
    await wait_for(lambda: sum(len(u.messages) for u, _ in people) >= 8)
    task.cancel()  # killed mid-way
    await asyncio.gather(task, return_exceptions=True)
    got = sum(len(u.messages) for u, _ in people)
    rows = await deliveries(bot.db, broadcast_id)
    assert sum(d.status == DeliveryStatus.SENT for d in rows) == got < 30

    await bot.restart()
    await wait_for(lambda: sum(len(u.messages) for u, _ in people) >= 30)
    await engine_of(bot.app).wait_idle()
    summary = await BroadcastService(bot.db).summary(broadcast_id)
    assert (summary.sent, summary.pending) == (30, 0)
    for i, (user, _) in enumerate(people):
        assert received(fake, user) == [f"Aviso {i}"]


async def test_deliveries_left_sending_by_a_dead_process_are_sent_at_start(
    make_bot: BotFactory, fake: FakeTelegram
) -> None:
    """The documented choice: what a crashed process had claimed is sent at the next start."""
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 3)
    await bot.stop()
    broadcast_id = await BroadcastService(bot.db).create("invitation", messages_for(people))
    async with bot.db.session() as s:  # as a process killed after claiming, before sending
        await s.execute(
            update(Delivery)
            .where(Delivery.broadcast_id == broadcast_id)
            .values(status=DeliveryStatus.SENDING)
        )
        await s.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id)
            .values(status=BroadcastStatus.RUNNING)
        )
    await bot.start()
    await wait_for(lambda: all(u.messages for u, _ in people))
    await engine_of(bot.app).wait_idle()
    assert [len(received(fake, u)) for u, _ in people] == [1, 1, 1]
    async with bot.db.session() as s:
        status = (
            await s.execute(select(Broadcast.status).where(Broadcast.id == broadcast_id))
        ).scalar_one()
    assert status == BroadcastStatus.DONE


async def test_the_bot_answers_people_while_a_broadcast_runs(
    make_bot: BotFactory, fake: FakeTelegram
) -> None:
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 60)
    flood = fake.enforce_flood_limits(chat_interval=None)
    visitor = fake.user("Visitante")
    broadcast_id = await BroadcastService(bot.s.db).create("announcement", messages_for(people))
    engine = engine_of(bot.app)
    engine.start(broadcast_id)
    await wait_for(lambda: sum(len(u.messages) for u, _ in people) >= 5)

    loop = asyncio.get_running_loop()
    began = loop.time()
    await visitor.start()
    reply = await fake.wait_message(visitor.id, timeout=3.0)
    assert reply.text and loop.time() - began < 1.0  # answered at once, broadcast or not
    assert sum(len(u.messages) for u, _ in people) < 60  # the broadcast still goes on
    await engine.wait_idle()
    summary = await BroadcastService(bot.s.db).summary(broadcast_id)
    assert (summary.sent, summary.failed) == (60, 0)
    assert all(len(received(fake, u)) == 1 for u, _ in people)
    assert flood.stats.max_per_second <= 30


async def test_a_repeated_chat_gets_one_delivery(make_bot: BotFactory, fake: FakeTelegram) -> None:
    bot = await make_bot()
    people = await register_officers(bot.s, fake, 2)
    messages = messages_for(people) + messages_for(people, lambda i: f"Duplicado {i}")
    broadcast_id = await BroadcastService(bot.s.db).create("announcement", messages)
    summary = await quick(engine_of(bot.app)).run(broadcast_id)
    assert (summary.total, summary.sent) == (2, 2)
    assert [received(fake, u) for u, _ in people] == [["Aviso 0"], ["Aviso 1"]]
