"""Benchmark of ticket-code allocation under concurrency (``AT-AAAA-NNNN``, max + 1 with retry).

    .venv/bin/python -m tests.benchmarks.request_codes                      # SQLite file
    .venv/bin/python -m tests.benchmarks.request_codes --url postgresql://postgres@127.0.0.1/test
    .venv/bin/python -m tests.benchmarks.request_codes --concurrent 50 --rounds 3

Each round creates ``--concurrent`` requests at once and checks that the codes are exactly the
next numbers of the year, with no gap and no duplicate; it prints the wall time per round.
On PostgreSQL it works in a scratch schema that is dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as a file: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.assistance import AssistanceService, RequestDraft
from bot.db import Database, utcnow
from bot.models import Entity
from bot.schema import upgrade
from bot.settings import normalise_database_url

LIMA = ZoneInfo("America/Lima")


async def run(url: str | None, concurrent: int, rounds: int) -> None:
    schema = None
    admin = None
    if url:
        url = normalise_database_url(url)
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        db = Database(url, connect_args={"server_settings": {"search_path": schema}},
                      pool_size=20, max_overflow=40)
    else:
        folder = tempfile.mkdtemp()
        db = Database(f"sqlite+aiosqlite:///{folder}/bench.db")
    try:
        await upgrade(db)
        async with db.session() as s:
            entity = Entity(code="bench", name="Entidad de prueba", level="poder-ejecutivo")
            s.add(entity)
            await s.flush()
            entity_id = entity.id or 0
        service = AssistanceService(db, LIMA)
        draft = RequestDraft(entity_id=entity_id, topic="Consulta", channel="virtual")
        year = utcnow().astimezone(LIMA).year
        times = []
        expected = 1
        for round_no in range(rounds):
            start = time.perf_counter()
            views = await asyncio.gather(
                *[service.create(draft, actor_id=None, actor_name=None)
                  for _ in range(concurrent)]
            )
            elapsed = time.perf_counter() - start
            times.append(elapsed)
            codes = sorted(v.code for v in views)
            wanted = [f"AT-{year}-{n:04d}" for n in range(expected, expected + concurrent)]
            status = "ok" if codes == wanted else f"WRONG: {codes[:3]}…"
            expected += concurrent
            print(f"round {round_no + 1}: {concurrent} requests at once in {elapsed:.3f} s "
                  f"({concurrent / elapsed:.1f}/s), codes {status}")
        print(f"{db.url.split(':', 1)[0]}: median {statistics.median(times):.3f} s per round of "
              f"{concurrent}")
    finally:
        await db.dispose()
        if admin is not None and schema is not None:
            async with admin.connect() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="PostgreSQL URL (default: a temporary SQLite file)")
    parser.add_argument("--concurrent", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.url, args.concurrent, args.rounds))


if __name__ == "__main__":
    main()
