"""Benchmark of the broadcast engine: one invitation to 1,500 registered officers through the
fake Bot API over HTTP.

    .venv/bin/python -m tests.benchmarks.broadcast              # Telegram's limits enforced
    .venv/bin/python -m tests.benchmarks.broadcast --no-limits  # the bot's own throughput
    .venv/bin/python -m tests.benchmarks.broadcast --no-limits --in-process  # without HTTP
    .venv/bin/python -m tests.benchmarks.broadcast --database-url postgresql+asyncpg://...

With limits, the fake answers 429 (``retry_after`` 1 s) to any sending call beyond 30 in a
sliding second or a second call to one chat within a second; target: at least 28 messages per
second sustained, no duplicate, nobody missing. With ``--no-limits`` the fake refuses nothing
and the pacer's overall rate is off: what is left is our own code (database claims and writes,
PTB, HTTP); target: at least 500 messages per second. ``--in-process`` also takes the HTTP
stack out (PTB calls the fake directly, :class:`tests.fakebot.InProcessRequest`): what remains is
the engine, PTB and the fake's own bookkeeping.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a file: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from telegram.ext import ExtBot

from bot.db import Database, utcnow
from bot.models import InvitationKind, Officer, OfficerStatus, RegistrationSource, Session
from bot.officers import RegistrationDraft
from bot.schema import upgrade
from bot.settings import normalise_database_url
from scheduling.broadcast import BroadcastEngine, BroadcastService, OutgoingMessage, engine_of
from scheduling.pacing import PacedRateLimiter, Pacer
from scheduling.reminders import render_reminder
from tests.conftest import BotHarness, make_settings
from tests.fakebot import FakeTelegram, FakeUser, InProcessRequest


async def register(
    harness: BotHarness, fake: FakeTelegram, n: int
) -> list[tuple[FakeUser, Officer]]:
    """``n`` officers registered by invitation link (as the registration dialog does)."""
    services = harness.s
    entities = [e for e in services.content.entities][:50]
    links = {}
    people: list[tuple[FakeUser, Officer]] = []
    for i in range(n):
        entity = await services.entities.by_code(entities[i % len(entities)].code)
        assert entity is not None and entity.id is not None
        if entity.id not in links:
            links[entity.id] = (
                await services.invitations.issue(InvitationKind.ENTITY, entity_id=entity.id)
            ).payload
        user = fake.user(f"Oficial{i}", last_name="Benchmark")
        fake.mark_known(user.id)
        draft = RegistrationDraft(entity.id, f"Oficial{i} Benchmark", "Oficial de integridad")
        result = await services.officers.submit(user.id, draft, utcnow(), links[entity.id])
        assert result.officer is not None and result.officer.status == OfficerStatus.APPROVED
        assert result.officer.source == RegistrationSource.ENTITY_LINK
        people.append((user, result.officer))
    return people


async def bare_throughput(
    bot: ExtBot, messages: list[OutgoingMessage], engine: BroadcastEngine
) -> float:
    """Messages per second of a bare loop sending the same messages with as many calls in
    flight: the ceiling set by PTB, the transport and the fake, without our engine."""
    gate = asyncio.Semaphore(engine.config.concurrency)
    args = {"rate_limit_args": {"paced": True}} if bot.rate_limiter else {}

    async def one(message: OutgoingMessage) -> None:
        async with gate:
            await bot.send_message(message.chat_id, message.text, parse_mode="HTML", **args)

    began = time.monotonic()
    await asyncio.gather(*[one(m) for m in messages])
    return len(messages) / (time.monotonic() - began)


async def open_database(url: str | None) -> tuple[Database, object]:
    if url is None:
        folder = tempfile.mkdtemp(prefix="bench-broadcast-")
        db = Database(f"sqlite+aiosqlite:///{folder}/bench.db")
        await upgrade(db)
        return db, None
    url = normalise_database_url(url)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(url, connect_args={"server_settings": {"search_path": schema}})
    await upgrade(db)
    return db, (admin, schema)


async def close_database(db: Database, cleanup: object) -> None:
    await db.dispose()
    if cleanup is not None:
        admin, schema = cleanup  # type: ignore[misc]
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


async def main(args: argparse.Namespace) -> int:
    db, cleanup = await open_database(args.database_url)
    async with FakeTelegram() as fake:
        harness = BotHarness(fake, db, make_settings(fake, db))
        await harness.start()
        try:
            began = time.monotonic()
            people = await register(harness, fake, args.officers)
            print(f"registered {len(people)} officers in {time.monotonic() - began:.1f} s")

            start = (utcnow() + timedelta(days=14)).replace(second=0, microsecond=0)
            session = Session(
                uid="bench",
                kind="grupal",
                title="Alcances de la Guía de Evaluación 1",
                start_at=start,
                end_at=start + timedelta(hours=2),
                link="https://reuniones.example.gob.pe/sip",
                topics=["Guía de Evaluación 1"],
            )
            texts = harness.s.texts
            messages = [
                OutgoingMessage(
                    chat_id=user.id,
                    officer_id=officer.id,
                    text=render_reminder(texts, session, officer, utcnow()),
                )
                for user, officer in people
            ]
            broadcast_id = await BroadcastService(db).create("invitation", messages)

            engine = engine_of(harness.app)
            local_bot = None
            if args.in_process:
                # A second engine sends this broadcast: the application's own periodic job must
                # not resume it at the same time (one sending engine per database).
                for job in harness.app.job_queue.jobs():
                    job.schedule_removal()
                local_bot = ExtBot(
                    fake.token,
                    base_url=fake.base_url,
                    request=InProcessRequest(fake),
                    rate_limiter=PacedRateLimiter(Pacer()),
                )
                await local_bot.initialize()
                engine = BroadcastEngine(db, local_bot, application=harness.app)
            if args.concurrency:
                engine.config.concurrency = args.concurrency
            if args.no_limits:
                engine.pacer.rate = None
                engine.pacer.chat_interval = 0.0
                flood = None
            else:
                flood = fake.enforce_flood_limits(retry_after=1)
            first_call = len(fake.calls)
            began = time.monotonic()
            summary = await engine.run(broadcast_id)
            duration = time.monotonic() - began
            calls = [c for c in fake.calls[first_call:] if c.method == "sendMessage" and c.ok]
            baseline = None
            if args.no_limits:  # the same messages, bare: PTB and the fake alone, no engine/DB
                baseline = await bare_throughput(local_bot or harness.app.bot, messages, engine)
            if local_bot is not None:
                await local_bot.shutdown()
        finally:
            await harness.stop()
            await close_database(db, cleanup)

    per_chat = Counter(c.params.get("chat_id") for c in calls)
    duplicates = sum(n - 1 for n in per_chat.values() if n > 1)
    missing = sum(1 for user, _ in people if per_chat.get(user.id, 0) == 0)
    times = sorted(c.time for c in calls)
    cut = len(times) // 10  # sustained: leave out the first and last tenth
    middle = times[cut : len(times) - cut]
    sustained = (len(middle) - 1) / (middle[-1] - middle[0]) if len(middle) > 1 else 0.0
    per_second = Counter(int(t - times[0]) for t in times) if times else Counter()
    full_seconds = [per_second[s] for s in range(1, int(times[-1] - times[0]))] if times else []

    mode = "limits off (bot's own throughput)" if args.no_limits else "Telegram limits enforced"
    print(f"mode:                 {mode}")
    print(f"database:             {'PostgreSQL' if args.database_url else 'SQLite'}")
    print(f"transport:            {'in process (no HTTP)' if args.in_process else 'HTTP'}")
    print(f"calls in flight:      {engine.config.concurrency}")
    print(f"recipients:           {summary.total}")
    print(f"sent / failed:        {summary.sent} / {summary.failed} (pending {summary.pending})")
    print(f"duration:             {duration:.2f} s")
    print(f"messages per second:  {summary.sent / duration:.1f} overall, {sustained:.1f} sustained")
    if full_seconds:
        print(
            f"per whole second:     min {min(full_seconds)}, median "
            f"{statistics.median(full_seconds):.0f}, max {max(full_seconds)}"
        )
    if flood is not None:
        print(f"429s received:        {flood.stats.refused} (engine saw {engine.flood_waits})")
        print(f"max in any 1 s:       {flood.stats.max_per_second}")
    else:
        print(f"429s received:        {engine.flood_waits}")
    if baseline is not None:
        print(f"bare PTB + fake:      {baseline:.1f} msg/s (same messages, no engine, no database)")
    print(f"duplicates:           {duplicates}")
    print(f"missing:              {missing}")
    target = 500.0 if args.no_limits else 28.0
    ok = sustained >= target and duplicates == 0 and missing == 0
    print(f"target:               >= {target:.0f} msg/s, 0 duplicates, 0 missing: "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=1500)
    parser.add_argument("--no-limits", action="store_true", help="measure our own throughput")
    parser.add_argument("--concurrency", type=int, default=0, help="calls in flight (engine)")
    parser.add_argument("--in-process", action="store_true", help="PTB calls the fake directly")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default SQLite)")
    return parser.parse_args()


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse_args())))
