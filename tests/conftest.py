"""Shared fixtures: a real database (SQLite file, and PostgreSQL when TEST_DATABASE_URL is set),
the fake Telegram Bot API over HTTP, and the real bot Application polling it."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.application import build_application
from bot.db import Database
from bot.roles import Role
from bot.schema import upgrade
from bot.services import Services, build_services
from bot.settings import Settings, normalise_database_url
from tests.fakebot import FakeTelegram, FakeUser

PG_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated, empty database: a fresh SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
        await upgrade(db)
        yield db
        await db.dispose()
        return
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL not set: PostgreSQL tests skipped")
    url = normalise_database_url(PG_URL)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(url, connect_args={"server_settings": {"search_path": schema}})
    try:
        await upgrade(db)
        yield db
    finally:
        await db.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


def make_settings(fake: FakeTelegram | None, db: Database, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": fake.token if fake else "123:TEST",
        "telegram_api_base_url": fake.base_url if fake else "http://127.0.0.1:9/bot",
        "database_url": db.url,
        "admin_telegram_ids": [],
        "coordinators_chat_id": None,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def services(database: Database) -> Services:
    s = build_services(make_settings(None, database), database)
    await s.seed_entities()
    return s


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


class BotHarness:
    """The real Application, polling the fake server; can be restarted on the same database."""

    def __init__(self, fake: FakeTelegram, db: Database, settings: Settings) -> None:
        self.fake = fake
        self.db = db
        self.settings = settings
        self.services: Services | None = None
        self.app: Any = None
        self.in_flight = 0

    async def start(self) -> None:
        self.services = build_services(self.settings, self.db)
        await self.services.seed_entities()
        self.app = build_application(self.services)
        self._count_updates_in_flight()
        await self.app.initialize()
        if self.app.post_init is not None:  # as run_polling() would
            await self.app.post_init(self.app)
        await self.app.start()
        await self.app.updater.start_polling(timeout=5, poll_interval=0.0)

    def _count_updates_in_flight(self) -> None:
        """Instrument the Application so tests can wait until every update was handled."""
        process = self.app.process_update

        async def counted(update: object) -> None:
            self.in_flight += 1
            try:
                await process(update)
            finally:
                self.in_flight -= 1

        self.app.process_update = counted

    async def settle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until the bot fetched and fully handled every update, and went quiet."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.fake.idle(timeout=max(deadline - loop.time(), 0.1))
            if self.in_flight == 0 and self.app.update_queue.empty():
                return
            if loop.time() > deadline:
                raise AssertionError("the bot is still handling updates")
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        if self.app is None:
            return
        if self.app.updater.running:
            await self.app.updater.stop()
        await self.app.stop()
        await self.app.shutdown()
        self.app = None

    async def restart(self) -> None:
        """As a process restart: a new Application and new services; only the database stays."""
        await self.stop()
        await self.start()

    @property
    def s(self) -> Services:
        assert self.services is not None
        return self.services

    async def appoint(self, user: FakeUser) -> None:
        await self.s.roles.appoint(user.id, user.full_name, by=None)

    async def role(self, user: FakeUser) -> Role:
        return await self.s.roles.role_of(user.id)


BotFactory = Callable[..., Awaitable[BotHarness]]


@pytest.fixture
async def make_bot(fake: FakeTelegram, database: Database) -> AsyncIterator[BotFactory]:
    """``bot = await make_bot(admins=[user], coordinators_chat=group)``."""
    harnesses: list[BotHarness] = []

    async def factory(**overrides: Any) -> BotHarness:
        admins = overrides.pop("admins", [])
        group = overrides.pop("coordinators_chat", None)
        settings = make_settings(
            fake,
            database,
            admin_telegram_ids=[a.id for a in admins],
            coordinators_chat_id=group.id if group is not None else None,
            **overrides,
        )
        harness = BotHarness(fake, database, settings)
        await harness.start()
        harnesses.append(harness)
        return harness

    yield factory
    for harness in harnesses:
        await harness.stop()
