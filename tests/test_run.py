"""``integridad-bot run`` as a real process against the fake Bot API: it serves users, answers
``/healthz``, sets the command menus, stops cleanly on signals, runs in webhook mode, and fails
with one clear line (no traceback, no hang) when it cannot start."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fakebot import BotMessage, FakeTelegram, FakeUser

RUN = [sys.executable, "-m", "bot.cli", "run"]
INHERITED = ("TELEGRAM_", "DATABASE_", "WEBHOOK_", "ADMIN_", "HTTP_", "COORDINATORS_", "PUBLIC_")
START_TIMEOUT = 30.0  # imports, migrations and the entity catalogue: ~3 s on a laptop
REPLY_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
SECRET = "s3cret_Token-for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def closed_url() -> str:
    """An address where nothing listens."""
    return f"http://127.0.0.1:{free_port()}/bot"


def run_env(tmp_path: Path, port: int, **settings: str) -> dict[str, str]:
    """The environment of an admin's shell: none of ours inherited, a fresh SQLite file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(INHERITED)}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
        HTTP_PORT=str(port),
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    env.update(settings)
    return env


def fake_env(fake: FakeTelegram, tmp_path: Path, port: int, **settings: str) -> dict[str, str]:
    telegram = {"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url}
    return run_env(tmp_path, port, **{**telegram, **settings})


@dataclass
class BotProcess:
    """A running ``integridad-bot run``; its stdout and stderr go to files in ``tmp_path``."""

    proc: asyncio.subprocess.Process
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stderr(self) -> str:
        return (self.folder / "stderr.txt").read_text(encoding="utf-8", errors="replace")

    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    async def wait_exit(self, timeout: float = STOP_TIMEOUT) -> int:  # noqa: ASYNC109
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"the process still runs after {timeout} s") from None

    async def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        return await self.wait_exit()

    async def wait_healthy(self, timeout: float = START_TIMEOUT) -> httpx.Response:  # noqa: ASYNC109
        """Poll ``GET /healthz`` until it answers 200; fail early if the process exits."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                if self.proc.returncode is not None:
                    raise AssertionError(f"run exited with {self.proc.returncode} at start")
                try:
                    response = await client.get(f"{self.url}/healthz")
                    if response.status_code == 200:
                        return response
                except httpx.HTTPError:
                    pass
                if loop.time() >= deadline:
                    raise AssertionError(f"/healthz not 200 within {timeout} s")
                await asyncio.sleep(0.1)


@asynccontextmanager
async def launched(tmp_path: Path, env: dict[str, str]) -> AsyncIterator[BotProcess]:
    """Start ``integridad-bot run`` in ``tmp_path``; always killed at the end, and its stderr
    printed (shown by pytest) when the test fails."""
    with (tmp_path / "stdout.txt").open("wb") as out, (tmp_path / "stderr.txt").open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            *RUN, cwd=tmp_path, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=err
        )
    bot = BotProcess(proc, int(env["HTTP_PORT"]), tmp_path)
    try:
        yield bot
    except BaseException:
        print(f"--- stderr of integridad-bot run (exit {proc.returncode}) ---\n{bot.stderr}")
        raise
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await asyncio.wait_for(proc.wait(), 10)


async def run_to_exit(tmp_path: Path, env: dict[str, str], timeout: float) -> BotProcess:  # noqa: ASYNC109
    """Run a process that is expected to exit on its own within ``timeout`` seconds."""
    async with launched(tmp_path, env) as bot:
        await bot.wait_exit(timeout)
        return bot


def assert_clean_exit(bot: BotProcess, code: int) -> None:
    assert code == 0, bot.stderr
    assert "Traceback" not in bot.stderr
    assert bot.stderr_lines()[-1].endswith("bot.runner: stopped"), bot.stderr


def assert_one_clear_line(bot: BotProcess, code: int, *fragments: str) -> str:
    """Exit ``code``, no traceback, and the last line of stderr is the message."""
    assert bot.proc.returncode == code, bot.stderr
    assert "Traceback" not in bot.stderr, bot.stderr
    last = bot.stderr_lines()[-1]
    for fragment in fragments:
        assert fragment in last, bot.stderr
    return last


def containing(fragment: str) -> Callable[[BotMessage], bool]:
    return lambda message: fragment in (message.text or "")


async def act(
    user: FakeUser, action: Awaitable[object], *, expect: str | None = None
) -> BotMessage:
    """Do something as ``user`` (an awaitable), wait for the bot's answer (the one containing
    ``expect``, if given), then until the bot is quiet, so the next step sees the whole reply."""
    await action
    reply = await user.wait_reply(
        predicate=containing(expect) if expect else None, timeout=REPLY_TIMEOUT
    )
    await user.fake.idle(timeout=REPLY_TIMEOUT, quiet=0.3)
    return reply


def assert_telegram_clean(fake: FakeTelegram) -> None:
    assert fake.errors() == []
    assert fake.unanswered_callback_queries() == []


# ---------------------------------------------------------------------------------------------
# a running bot
# ---------------------------------------------------------------------------------------------


async def test_a_registration_and_its_approval_are_served_by_the_process(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    admin = fake.user("Ada", last_name="Administradora")
    await admin.start()  # before the process starts: its chat exists for the bot
    port = free_port()
    env = fake_env(fake, tmp_path, port, ADMIN_TELEGRAM_IDS=str(admin.id))
    async with launched(tmp_path, env) as bot:
        await bot.wait_healthy()
        await admin.wait_reply(timeout=REPLY_TIMEOUT)  # the /start queued before the start
        await fake.idle(timeout=REPLY_TIMEOUT, quiet=0.3)

        officer = fake.user("María", last_name="Quispe")
        await act(officer, officer.start(), expect="Ley N.º 29733")
        await act(officer, officer.press("✅ Acepto"))
        await act(officer, officer.send("minsa"), expect="Ministerio de Salud")
        await act(officer, officer.press("✅ Sí, es mi entidad"))
        await act(officer, officer.send("María Quispe Huamán"))
        await act(officer, officer.send("Jefa de la Oficina de Integridad"))
        await act(officer, officer.press("Omitir"))  # e-mail
        await act(officer, officer.press("Omitir"))  # phone
        sent = await act(officer, officer.press("✅ Enviar registro"), expect="aprobación")
        assert "fue enviado a la coordinación" in sent.text

        request = await fake.wait_message(
            admin.chat_id, containing("Nuevo registro por aprobar"), timeout=REPLY_TIMEOUT
        )
        assert "María Quispe Huamán" in request.text and "✅ Aprobar" in request.buttons
        await admin.press("✅ Aprobar", message=request)
        approved = await officer.wait_reply(
            predicate=containing("aprobó su registro"), timeout=REPLY_TIMEOUT
        )
        assert "Ministerio de Salud" in approved.text
        await fake.idle(timeout=REPLY_TIMEOUT, quiet=0.3)
        assert_telegram_clean(fake)
        assert_clean_exit(bot, await bot.stop())


async def test_health_and_command_menus_of_a_running_process(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    admin = fake.user("Ada")
    await admin.start()
    env = fake_env(fake, tmp_path, free_port(), ADMIN_TELEGRAM_IDS=str(admin.id))
    async with launched(tmp_path, env) as bot:
        response = await bot.wait_healthy()
        assert response.json() == {"status": "ok", "database": True, "bot": True}
        async with httpx.AsyncClient(timeout=5.0) as client:
            head = await client.head(f"{bot.url}/healthz")
        assert head.status_code == 200 and head.content == b""

        officer_menu = [name for name, _ in fake.commands("all_private_chats")]
        assert {"start", "perfil", "ayuda", "menu", "cancelar", "baja"} <= set(officer_menu)
        assert not {"pendientes", "coordinadores"} & set(officer_menu)
        admin_menu = [name for name, _ in fake.commands_for(admin.chat_id)]
        assert {"start", "perfil", "ayuda"} <= set(admin_menu)
        assert {"pendientes", "invitar", "oficiales", "coordinadores"} <= set(admin_menu)
        await fake.idle(timeout=REPLY_TIMEOUT, quiet=0.3)
        assert_telegram_clean(fake)
        assert_clean_exit(bot, await bot.stop())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_stops_the_process_cleanly(
    fake: FakeTelegram, tmp_path: Path, sig: signal.Signals
) -> None:
    async with launched(tmp_path, fake_env(fake, tmp_path, free_port())) as bot:
        await bot.wait_healthy()
        user = fake.user("Ana")
        await act(user, user.start())  # it really serves before being stopped
        assert_clean_exit(bot, await bot.stop(sig))
        assert f"received {sig.name}" in bot.stderr
        assert fake.errors() == []  # its long poll was not left to fail
        async with httpx.AsyncClient(timeout=2.0) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(f"{bot.url}/healthz")


# ---------------------------------------------------------------------------------------------
# webhook mode
# ---------------------------------------------------------------------------------------------


async def wait_for_webhook(fake: FakeTelegram, timeout: float = REPLY_TIMEOUT) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while fake.webhook is None:
        assert loop.time() < deadline, "the bot never called setWebhook"
        await asyncio.sleep(0.05)


async def test_webhook_mode_registers_checks_the_secret_and_serves(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    port = free_port()
    webhook_url = f"http://127.0.0.1:{port}/telegram"
    env = fake_env(fake, tmp_path, port, WEBHOOK_URL=webhook_url, WEBHOOK_SECRET=SECRET)
    async with launched(tmp_path, env) as bot:
        await bot.wait_healthy()
        await wait_for_webhook(fake)
        assert fake.webhook is not None
        assert fake.webhook.url == webhook_url
        assert fake.webhook.secret_token == SECRET
        assert fake.webhook.allowed_updates == [
            "message",
            "edited_message",
            "callback_query",
            "inline_query",
            "my_chat_member",
        ]
        assert fake.calls_to("getUpdates") == []

        intruder = fake.user("Intrusa")
        forged = {
            "update_id": 999_999,
            "message": {
                "message_id": 1,
                "date": 0,
                "from": intruder.as_api(),
                "chat": intruder.private_chat_api(),
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        async with httpx.AsyncClient(timeout=5.0) as client:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"}):
                refused = await client.post(webhook_url, json=forged, headers=headers)
                assert refused.status_code == 403

        user = fake.user("Ana")
        welcome = await act(user, user.start())  # delivered by the fake's webhook POSTs
        assert welcome.text
        assert fake.webhook.last_error_message is None
        # updates are handled in order: had the forged one been queued, it would have come first
        assert [c for c in fake.calls if c.params.get("chat_id") == intruder.id] == []
        assert_telegram_clean(fake)
        assert_clean_exit(bot, await bot.stop())


async def test_webhook_without_secret_is_refused_at_once(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    env = fake_env(fake, tmp_path, free_port(), WEBHOOK_URL="https://bot.example.gob.pe/telegram")
    bot = await run_to_exit(tmp_path, env, timeout=30)
    assert_one_clear_line(bot, 2, "WEBHOOK_SECRET")
    assert len(bot.stderr_lines()) == 1
    assert fake.calls == []


# ---------------------------------------------------------------------------------------------
# failing to start
# ---------------------------------------------------------------------------------------------


async def test_a_port_in_use_fails_fast_before_touching_telegram(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        bot = await run_to_exit(tmp_path, fake_env(fake, tmp_path, port), timeout=20)
    assert_one_clear_line(bot, 1, str(port), "en uso", "HTTP_PORT")
    assert len(bot.stderr_lines()) == 1
    assert fake.calls == []  # a second instance never steals the first one's updates


async def test_telegram_unreachable_is_retried_briefly_then_reported(tmp_path: Path) -> None:
    url = closed_url()
    env = run_env(tmp_path, free_port(), TELEGRAM_BOT_TOKEN="123:x", TELEGRAM_API_BASE_URL=url)
    bot = await run_to_exit(tmp_path, env, timeout=30)
    assert_one_clear_line(bot, 1, "Telegram", url, "TELEGRAM_API_BASE_URL")
    retries = [line for line in bot.stderr_lines() if "retrying in" in line]
    assert len(retries) == 2, bot.stderr
    assert "123:x" not in bot.stderr  # the token is never printed


async def test_a_rejected_token_is_reported(fake: FakeTelegram, tmp_path: Path) -> None:
    env = fake_env(fake, tmp_path, free_port(), TELEGRAM_BOT_TOKEN="999:WRONG")
    bot = await run_to_exit(tmp_path, env, timeout=30)
    assert_one_clear_line(bot, 1, "TELEGRAM_BOT_TOKEN")
    assert "WRONG" not in bot.stderr
    assert [c.method for c in fake.calls] == ["getMe"]


async def test_an_unreachable_database_is_reported(tmp_path: Path) -> None:
    database = f"postgresql://bot:hidden@127.0.0.1:{free_port()}/integridad"
    env = run_env(tmp_path, free_port(), TELEGRAM_BOT_TOKEN="123:x", DATABASE_URL=database)
    env["TELEGRAM_API_BASE_URL"] = closed_url()
    bot = await run_to_exit(tmp_path, env, timeout=30)
    assert_one_clear_line(bot, 1, "DATABASE_URL", "127.0.0.1")
    assert "hidden" not in bot.stderr
