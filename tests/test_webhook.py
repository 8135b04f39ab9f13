"""Webhook mode in process: the bot's HTTP side on a real socket, registered with the fake Bot
API as Telegram would be (``setWebhook`` with the secret and the update types used). A request
without the right secret is refused and never handled; an update delivered twice is handled
once (webhook and polling); a burst of 500 updates is accepted at once and every one handled."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from telegram import Update

from bot.application import ALLOWED_UPDATES, build_application
from bot.db import Database, utcnow
from bot.http import SECRET_HEADER, build_http_app
from bot.models import ProcessedUpdate
from bot.services import Services, build_services
from bot.updates import UpdateLog
from tests.conftest import BotFactory, make_settings
from tests.fakebot import FakeTelegram, FakeUser
from tests.fakebot.serving import AsgiServer
from tests.flows import say

SECRET = "webhook_Secret-0123456789"
WAIT = 60.0
BURST = 500


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class WebhookBot:
    fake: FakeTelegram
    services: Services
    app: Any
    url: str  # the webhook URL, ending in /telegram

    async def register(self) -> None:
        """What ``integridad-bot run`` does once ``POST /telegram`` can answer."""
        await self.app.bot.set_webhook(
            self.url, secret_token=SECRET, allowed_updates=ALLOWED_UPDATES
        )

    async def processed(self) -> int:
        async with self.services.db.session() as session:
            return int(
                (await session.execute(select(func.count()).select_from(ProcessedUpdate))).scalar()
                or 0
            )

    async def is_recorded(self, update_id: int) -> bool:
        async with self.services.db.session() as session:
            return await session.get(ProcessedUpdate, update_id) is not None


@asynccontextmanager
async def webhook_bot(
    fake: FakeTelegram, database: Database, *, rate_limiter: bool = True
) -> AsyncIterator[WebhookBot]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    settings = make_settings(fake, database, webhook_url=url, webhook_secret=SECRET)
    services = build_services(settings, database)
    await services.seed_entities()
    app = build_application(services, rate_limiter=rate_limiter)
    await app.initialize()
    await app.start()
    server = AsgiServer(build_http_app(services, app), port=port)
    await server.start()
    try:
        yield WebhookBot(fake, services, app, url)
    finally:
        await server.stop()
        await app.stop()
        await app.shutdown()


async def until(condition: Callable[[], bool], timeout: float = WAIT) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out waiting"
        await asyncio.sleep(0.05)


async def quiet(bot: WebhookBot) -> None:
    """Until the fake has nothing left to deliver and the bot has handled what it received."""
    await until(lambda: not bot.fake.pending_updates and bot.app.update_queue.empty())
    await bot.fake.idle(timeout=WAIT, quiet=0.3)


def forged_start(user: FakeUser, update_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "from": user.as_api(),
            "chat": user.private_chat_api(),
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def test_a_request_without_the_right_secret_is_refused_and_never_handled(
    fake: FakeTelegram, database: Database
) -> None:
    async with webhook_bot(fake, database) as bot:
        await bot.register()
        assert fake.webhook is not None and fake.webhook.secret_token == SECRET
        assert fake.webhook.allowed_updates == list(ALLOWED_UPDATES)

        intruder = fake.user("Intrusa")
        forged = forged_start(intruder, 777_001)
        async with httpx.AsyncClient(timeout=10.0) as client:
            for headers in (
                {},
                {SECRET_HEADER: ""},
                {SECRET_HEADER: SECRET + "x"},
                {SECRET_HEADER: SECRET[:-1]},
                {SECRET_HEADER: SECRET.upper()},
                {"X-Telegram-Bot-Api-Secret": SECRET},
            ):
                refused = await client.post(bot.url, json=forged, headers=headers)
                assert refused.status_code == 403, headers
                assert refused.content == b""
            assert (await client.get(bot.url)).status_code == 405
            malformed = await client.post(
                bot.url, content=b"not json", headers={SECRET_HEADER: SECRET}
            )
            assert malformed.status_code == 400

        user = fake.user("Ana")  # the genuine path works meanwhile
        await user.start()
        await user.wait_reply(timeout=WAIT)
        await quiet(bot)
        assert [c for c in fake.calls if c.params.get("chat_id") == intruder.id] == []
        assert not await bot.is_recorded(777_001)
        assert await bot.processed() == 1
        assert fake.webhook.last_error_message is None
        assert fake.errors() == []


async def test_an_update_delivered_twice_is_handled_once(
    fake: FakeTelegram, database: Database
) -> None:
    async with webhook_bot(fake, database) as bot:
        user = fake.user("Ana")
        await user.send("/ayuda")  # waits at the fake until the webhook is registered
        raw = fake.pending_updates[-1]
        await bot.register()
        await user.wait_reply(timeout=WAIT)
        await quiet(bot)
        assert len(user.messages) == 1

        async with httpx.AsyncClient(timeout=10.0) as client:
            again = [
                client.post(bot.url, json=raw, headers={SECRET_HEADER: SECRET}) for _ in range(3)
            ]
            assert [r.status_code for r in await asyncio.gather(*again)] == [200] * 3
        await quiet(bot)
        assert len(user.messages) == 1
        assert await bot.processed() == 1
        assert fake.errors() == []


async def test_a_repeated_update_is_handled_once_when_polling_too(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot = await make_bot()
    user = fake.user("Ana")
    first = await say(bot, user, "/ayuda")
    assert len(first) == 1
    repeated = forged_start(user, 555_000)
    for _ in range(2):  # as getUpdates would hand it again after a crash before the offset
        await bot.app.update_queue.put(Update.de_json(repeated, bot.app.bot))
    await bot.settle()
    assert len(user.messages) == 2  # /ayuda's reply and one welcome, not two
    assert "29733" in (user.messages[-1].text or "")
    assert fake.errors() == []


async def test_a_burst_of_500_updates_is_accepted_at_once_and_all_handled(
    fake: FakeTelegram, database: Database
) -> None:
    # Without the rate limiter: it paces replies at 30 a second, which is not under test here.
    async with webhook_bot(fake, database, rate_limiter=False) as bot:
        users = [fake.user(f"Persona{n}") for n in range(BURST)]
        for user in users:
            await user.send("/ayuda")
        burst = fake.pending_updates
        assert len(burst) == len(users) and len({u["update_id"] for u in burst}) == len(users)

        # Telegram opens up to 40 connections to a webhook
        limits = httpx.Limits(max_connections=40, max_keepalive_connections=40)
        async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:
            gate = asyncio.Semaphore(40)

            async def deliver(update: dict[str, Any]) -> int:
                async with gate:
                    response = await client.post(
                        bot.url, json=update, headers={SECRET_HEADER: SECRET}
                    )
                    return response.status_code

            codes = await asyncio.gather(*(deliver(u) for u in burst))
        assert codes == [200] * len(users)
        await until(lambda: all(user.messages for user in users), timeout=180)

        # then the fake delivers the same 500 again (it never got them acknowledged itself)
        await bot.register()
        await quiet(bot)
        assert [len(user.messages) for user in users] == [1] * len(users)
        assert await bot.processed() == len(users)
        assert fake.errors() == []


async def test_old_update_ids_are_pruned_as_new_ones_arrive(database: Database) -> None:
    log = UpdateLog(database)
    async with database.session() as session:
        session.add(ProcessedUpdate(update_id=1, received_at=utcnow() - timedelta(hours=49)))
        session.add(ProcessedUpdate(update_id=2, received_at=utcnow() - timedelta(hours=47)))
    assert await log.first_time(3)
    assert not await log.first_time(3)
    assert not await log.first_time(2)  # within 48 hours: still a repeat
    async with database.session() as session:
        kept = sorted((await session.execute(select(ProcessedUpdate.update_id))).scalars())
    assert kept == [2, 3]
    assert await log.first_time(1)  # gone: Telegram can no longer deliver it twice
