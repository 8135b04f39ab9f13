"""Benchmark of the calendar feeds: building a personal feed of 120 events, the 304 path, and
requests per second served by one uvicorn worker.

    .venv/bin/python -m tests.benchmarks.feeds                  # SQLite file in a temp folder
    .venv/bin/python -m tests.benchmarks.feeds --database-url postgresql://...   # an EMPTY db

The database gets the shipped entities, one officer of the Ministerio de Salud and a year of
sessions: 120 in the officer's feed (group sessions, sectoral ones of the officer's network
and level, the officer's individual meetings, a few cancelled) and 300 that are not (other
networks' sectoral sessions, other officers' meetings), so the query has something to skip.

Printed figures:

- build: ``FeedService.personal`` (token → owner → sessions → validators) plus the feed's
  text, as a request without validators does — *cold* (a new builder each time: every event
  serialised by ``icalendar``, as after a restart or a content reload) and *warm* (events
  already serialised by an earlier request; the usual case, since a session changes rarely);
- the 304 path: the same lookup and validators, no text built;
- HTTP on one uvicorn worker (a separate process; the load comes from this one with httpx,
  which is likely the bottleneck on a small machine): latency and requests per second for a
  full personal feed, a 304 answer and the public feed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx
from sqlalchemy import select

from bot.db import Database, utcnow
from bot.models import Session, SessionInvite
from bot.officers import RegistrationDraft
from bot.schema import upgrade
from bot.services import Services, build_services
from bot.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FEED_EVENTS = 120
ROUNDS = 200
COLD_ROUNDS = 40
HTTP_SECONDS = 5.0
CONCURRENCY = 16
TARGET_P95_MS = 20.0


def settings_for(database_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token="123:BENCH", database_url=database_url
    )


async def populate(s: Services) -> str:
    """The officer, their 120 sessions and 300 others; returns the officer's token."""
    await s.seed_entities()
    minsa = await s.entities.by_code("minsa")
    minedu = await s.entities.by_code("minedu")
    assert minsa is not None and minsa.id is not None and minedu is not None
    submitted = await s.officers.submit(
        1, RegistrationDraft(minsa.id, "Ana Benchmark", "Oficial"), consent_at=utcnow()
    )
    other = await s.officers.submit(
        2, RegistrationDraft(minedu.id, "Otro Oficial", "Oficial"), consent_at=utcnow()
    )
    assert submitted.officer is not None and other.officer is not None
    officer_id, other_id = submitted.officer.id or 0, other.officer.id or 0
    await s.officers.decide(officer_id, approve=True, by=1)
    await s.officers.decide(other_id, approve=True, by=1)
    start = utcnow().replace(hour=15, minute=0, second=0, microsecond=0) - timedelta(days=180)
    mine: list[tuple[str, dict[str, Any], int | None]] = (
        [("grupal", {"all": True}, None)] * 40
        + [("sectorial", {"networks": ["red-salud"]}, None)] * 30
        + [("sectorial", {"levels": ["poder-ejecutivo"]}, None)] * 20
        + [("individual", {"officers": [officer_id]}, officer_id)] * 30
    )
    others: list[tuple[str, dict[str, Any], int | None]] = (
        [("sectorial", {"networks": ["red-educacion"]}, None)] * 150
        + [("sectorial", {"levels": ["poder-judicial"]}, None)] * 50
        + [("individual", {"officers": [other_id]}, other_id)] * 100
    )
    async with s.db.session() as db:
        for n, (kind, audience, invited) in enumerate(mine + others):
            when = start + timedelta(hours=(n * 21) % (365 * 24))
            cancelled = n % 25 == 0
            session = Session(
                uid=f"bench-{n}@integridad.test",
                kind=kind,
                title=f"Asistencia técnica {kind} número {n}",
                description="Sesión de asistencia técnica sobre el Modelo de Integridad.",
                topics=["Alcances de la Guía de Evaluación 1", "Uso del Sistema ICP"],
                components=[2, 8, 9],
                audience=audience,
                mandatory=kind == "sectorial",
                start_at=when,
                end_at=when + timedelta(hours=2),
                link=f"https://reuniones.example.gob.pe/sesion-{n}",
                status="cancelled" if cancelled else "scheduled",
                cancelled_at=utcnow() - timedelta(days=5) if cancelled else None,
                sequence=n % 3,
            )
            db.add(session)
            await db.flush()
            if invited is not None:
                entity = minsa.id if invited == officer_id else minedu.id or 0
                db.add(SessionInvite(session_id=session.id or 0, officer_id=invited,
                                     entity_id=entity))
    issued = await s.feeds.issue(officer_id)
    return issued.token


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


async def timed(rounds: int, step: Callable[[], Awaitable[Any]]) -> tuple[list[float], float]:
    """Wall-clock seconds of each round, and the mean CPU seconds of the process (all threads:
    aiosqlite works in its own) per round — on a shared machine the second is steadier."""
    samples = []
    cpu = time.process_time()
    for _ in range(rounds):
        started = time.perf_counter()
        await step()
        samples.append(time.perf_counter() - started)
    return samples, (time.process_time() - cpu) / rounds


async def measure_build(s: Services, token: str) -> None:
    builder = s.feeds.builder(s.texts)
    snapshot = await s.feeds.personal(token, builder)
    assert snapshot is not None
    count = len(snapshot.entries)
    print(f"personal feed: {count} events, {len(await snapshot.render()):,} bytes")
    if count != FEED_EVENTS:
        raise SystemExit(f"expected {FEED_EVENTS} events in the feed, got {count}")

    async def cold() -> None:
        from scheduling.ical import CalendarBuilder  # a new builder: nothing serialised yet

        fresh = CalendarBuilder(builder.texts, builder.words, builder.tz)
        fresh.timezone()  # built once per process in real life
        shot = await s.feeds.personal(token, fresh)
        assert shot is not None
        await shot.render()

    async def warm() -> None:
        shot = await s.feeds.personal(token, builder)
        assert shot is not None
        await shot.render()

    async def not_modified() -> None:
        shot = await s.feeds.personal(token, builder)
        assert shot is not None and shot.etag == snapshot.etag

    for name, rounds, step in (
        ("build, cold (every event serialised)", COLD_ROUNDS, cold),
        ("build, warm (events serialised before)", ROUNDS, warm),
        ("304 path (lookup + validators)", ROUNDS, not_modified),
    ):
        await step()
        samples, cpu = await timed(rounds, step)
        p50, p95 = percentiles(samples)
        met = "met" if p95 <= TARGET_P95_MS else "NOT met"
        verdict = "" if "304" in name else f"  (target p95 <= {TARGET_P95_MS:.0f} ms: {met})"
        print(f"{name:42} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   cpu {cpu * 1000:6.2f} ms"
              f"{verdict}")

    # What the bot does at start-up and after a content reload (scheduling/jobs.py): every
    # session in the feeds' window serialised before any client asks, so no request is cold.
    from scheduling.ical import CalendarBuilder

    fresh = CalendarBuilder(builder.texts, builder.words, builder.tz)
    started = time.perf_counter()
    built = await s.feeds.warm(fresh)
    took = time.perf_counter() - started
    print(f"{'start-up warm-up (sessions in the window)':42} {built} events, {took * 1000:.0f} ms")

    async with s.db.session() as db:
        rows = await db.execute(select(Session).where(Session.id.in_(snapshot.session_ids)))
        sessions = sorted(rows.scalars(), key=lambda row: (row.start_at, row.id))
    samples, cpu = await timed(COLD_ROUNDS, cold_render(sessions, builder))
    p50, p95 = percentiles(samples)
    print(f"{'  of which icalendar, 120 events (cold)':42} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms"
          f"   cpu {cpu * 1000:6.2f} ms")


def cold_render(sessions: Any, builder: Any) -> Callable[[], Awaitable[None]]:
    async def step() -> None:
        from scheduling.ical import CalendarBuilder

        fresh = CalendarBuilder(builder.texts, builder.words, builder.tz)
        fresh._timezone = builder.timezone()
        fresh.feed(sessions, name_key="personal")

    return step


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(database_url: str, port: int) -> None:
    """The child process: the bot's HTTP app on one uvicorn worker."""
    import uvicorn

    from bot.application import build_application
    from bot.http import build_http_app

    services = build_services(settings_for(database_url))
    app = build_http_app(services, build_application(services))
    uvicorn.run(app, host="127.0.0.1", port=port, workers=1, log_level="warning",
                access_log=False, lifespan="off")


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process used so far, from /proc (Linux), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(
    url: str, headers: dict[str, str], expect: int
) -> tuple[int, float, float, float, int]:
    """CONCURRENCY clients for HTTP_SECONDS: (requests, requests/s, p50 ms, p95 ms, failures)."""
    samples: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
        deadline = time.perf_counter() + HTTP_SECONDS

        async def worker() -> None:
            nonlocal failures
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.get(url, headers=headers)
                samples.append(time.perf_counter() - started)
                failures += response.status_code != expect

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - began
    p50, p95 = percentiles(samples)
    return len(samples), len(samples) / elapsed, p50, p95, failures


async def measure_http(database_url: str, token: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.benchmarks.feeds", "--serve", database_url, str(port),
        cwd=PROJECT_ROOT,
    )
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            for _ in range(300):
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{base}/calendario/publico.ics")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            else:
                raise SystemExit("the HTTP server did not start")
            personal = f"{base}/calendario/{token}.ics"
            etag = (await client.get(personal)).headers["etag"]
        print(f"HTTP, one uvicorn worker, {CONCURRENCY} concurrent clients, "
              f"{HTTP_SECONDS:.0f} s each:")
        for name, url, headers, expect in (
            ("personal feed, 200", personal, {}, 200),
            ("personal feed, 304 (If-None-Match)", personal, {"If-None-Match": etag}, 304),
            ("public feed, 200", f"{base}/calendario/publico.ics", {}, 200),
        ):
            cpu_before = cpu_seconds(child.pid)
            count, rate, p50, p95, failures = await load(url, headers, expect)
            cpu_after = cpu_seconds(child.pid)
            server = ""
            if cpu_before is not None and cpu_after is not None and count:
                per_request = (cpu_after - cpu_before) / count
                server = (f"   server cpu {per_request * 1000:5.2f} ms/req"
                          f" (~{1 / per_request:5.0f} req/s per core)" if per_request else "")
            print(f"  {name:36} {rate:6.0f} req/s   p50 {p50:7.2f} ms   p95 {p95:7.2f} ms"
                  f"   unexpected: {failures}{server}")
    finally:
        child.terminate()
        await asyncio.wait_for(child.wait(), 10)


async def main(database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = database_url or f"sqlite+aiosqlite:///{folder}/feeds.db"
        db = Database(settings_for(url).database_url)
        await upgrade(db)
        services = build_services(settings_for(url), db)
        token = await populate(services)
        print(f"database: {db.engine.dialect.name}; cpus: {os.cpu_count()}; "
              f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        await measure_build(services, token)
        await db.dispose()
        await measure_http(settings_for(url).database_url, token)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="an empty database (default: a temp SQLite file)")
    parser.add_argument(
        "--serve", nargs=2, metavar=("DATABASE_URL", "PORT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
    else:
        asyncio.run(main(args.database_url))
