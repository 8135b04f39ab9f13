"""``integridad-bot run``: migrations, the bot (polling or webhook) and HTTP in one event loop.

Start-up order, chosen so that a broken start fails fast and touches nothing:

1. bind the HTTP socket (a port already in use stops here, before Telegram is even called,
   so a second instance never steals the first one's updates);
2. migrate the database and add the shipped entities;
3. check the token with Telegram (``getMe``), retrying briefly when Telegram is unreachable,
   then set the command menus;
4. start the Application, then serve HTTP, then receive updates (polling, or webhook
   registration once ``POST /telegram`` can already answer).

Shutdown (SIGINT/SIGTERM) runs the other way round: stop receiving updates (polling and HTTP),
let the Application finish the updates it already has, then close Telegram's client and the
database. Problems an admin must fix are raised as :class:`RunError`, whose ``key`` names
the message in ``content/cli.yaml`` that the CLI prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator
from typing import Any

import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from bot.application import ALLOWED_UPDATES, build_application
from bot.db import Database
from bot.http import build_http_app
from bot.schema import upgrade
from bot.services import Services, build_services
from bot.settings import Settings

log = logging.getLogger(__name__)

PTBApp = Application[Any, Any, Any, Any, Any, Any]

#: Attempts at reaching Telegram at start, and the pause before each retry (seconds). A
#: network that is not up yet (boot) is waited for briefly; a longer outage ends the process
#: with a clear message, and the service manager (systemd ``Restart=on-failure``) takes over.
TELEGRAM_RETRY_DELAYS = (2.0, 4.0)
#: Seconds uvicorn waits for requests in progress at shutdown before cancelling them.
HTTP_GRACEFUL_SHUTDOWN = 5
#: Seconds to wait for uvicorn to start listening on the already-bound socket.
HTTP_START_TIMEOUT = 10.0


class RunError(Exception):
    """The bot cannot (or can no longer) run for a reason the admin must fix; ``key`` names
    the message in ``content/cli.yaml`` and ``values`` fill it."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key, values)
        self.key = key
        self.values = values


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the runner owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind_http_socket(host: str, port: int) -> socket.socket:
    """Bind (without listening yet) the HTTP side's socket, or raise :class:`RunError`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # As uvicorn does: lets a restart reuse a port in TIME_WAIT, never a port in use.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise RunError("port_in_use", host=host, port=port) from None
        reason = exc.strerror or str(exc)
        raise RunError("http_bind_failed", host=host, port=port, reason=reason) from None
    return sock


def _reason(exc: BaseException) -> str:
    """One line about an exception, for a log line or a CLI message."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _safe_database_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "?"


def _install_signal_handlers(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set():  # a second Ctrl+C: the admin does not want to wait
            log.warning("received %s again: exiting at once", sig.name)
            sys.stderr.flush()
            os._exit(128 + sig.value)
        log.info("received %s: shutting down (a second signal stops at once)", sig.name)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, on_signal, sig)


def _install_reload_handler(loop: asyncio.AbstractEventLoop, services: Services) -> None:
    """SIGHUP reloads content/; a bad file keeps the old content live and is logged."""

    def on_hangup() -> None:
        problems = services.reload_content()
        if problems:
            log.error(
                "content reload refused, the old content stays live: %s",
                "; ".join(str(p) for p in problems[:20]),
            )
        else:
            log.info("content reloaded: %d FAQ entries", len(services.faq.knowledge.entries))

    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError, AttributeError):
        loop.add_signal_handler(signal.SIGHUP, on_hangup)


def _remove_signal_handlers(loop: asyncio.AbstractEventLoop) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(sig)


async def _migrate(db: Database) -> None:
    try:
        await upgrade(db)
    except (OSError, OperationalError, InterfaceError) as exc:
        log.debug("database unavailable", exc_info=True)
        raise RunError(
            "database_unavailable", url=_safe_database_url(db.url), reason=_reason(exc)
        ) from None


async def _sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds``; return True early if ``stop`` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


async def _initialize(app: PTBApp, settings: Settings, stop: asyncio.Event) -> bool:
    """Initialize the Application (``getMe``); False if stopped while waiting for Telegram."""
    url = settings.telegram_api_base_url
    attempts = len(TELEGRAM_RETRY_DELAYS) + 1
    for attempt in range(1, attempts + 1):
        try:
            await app.initialize()
        except InvalidToken:
            raise RunError("token_rejected") from None
        except NetworkError as exc:
            if isinstance(exc, BadRequest) or attempt == attempts:
                raise RunError("telegram_unreachable", url=url, reason=_reason(exc)) from None
            delay = TELEGRAM_RETRY_DELAYS[attempt - 1]
            log.warning(
                "Telegram not reachable at %s (%s); retrying in %.0f s (attempt %d of %d)",
                url,
                _reason(exc),
                delay,
                attempt,
                attempts,
            )
            if await _sleep_unless_stopped(stop, delay):
                return False
        except TelegramError as exc:
            raise RunError("telegram_unreachable", url=url, reason=_reason(exc)) from None
        else:
            bot = app.bot.bot
            log.info("connected to Telegram as @%s (id %d)", bot.username, bot.id)
            return True
    return False  # not reached


async def _start_http(server: uvicorn.Server, sock: socket.socket) -> asyncio.Task[None]:
    """Serve HTTP on ``sock`` in a task; return once it listens, or raise RunError.

    uvicorn reports start-up failures with ``sys.exit``: inside a task that would escape the
    event loop, so it is turned into an exception here.
    """

    async def run() -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit as exc:
            raise RuntimeError(f"uvicorn exited with code {exc.code}") from None

    task = asyncio.create_task(run(), name="http")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HTTP_START_TIMEOUT
    while not server.started:
        if task.done() or loop.time() >= deadline:
            task.cancel()
            failure = None if task.cancelled() or not task.done() else task.exception()
            reason = _reason(failure) if failure is not None else "timeout"
            host, port = sock.getsockname()[:2]
            raise RunError("http_bind_failed", host=host, port=port, reason=reason)
        await asyncio.sleep(0.01)
    return task


async def _stop_http(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    if task.done():  # it failed, and that was reported
        if not task.cancelled():
            task.exception()
        return
    server.should_exit = True
    try:
        await asyncio.wait_for(asyncio.shield(task), HTTP_GRACEFUL_SHUTDOWN + 2)
    except TimeoutError:
        log.warning("HTTP server did not stop in time; cancelling it")
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    except Exception:
        log.exception("HTTP server failed")


async def _receive_updates(app: PTBApp, settings: Settings) -> None:
    """Register the webhook, or start polling (which deletes any webhook first)."""
    try:
        if settings.webhook_mode:
            url = settings.webhook_url or ""
            secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
            try:
                await app.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
            except BadRequest as exc:
                raise RunError("webhook_refused", url=url, reason=_reason(exc)) from None
            log.info("webhook registered at %s", url)
        else:
            assert app.updater is not None
            await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES, timeout=20)
            log.info("polling for updates")
    except NetworkError as exc:
        raise RunError(
            "telegram_unreachable", url=settings.telegram_api_base_url, reason=_reason(exc)
        ) from None


async def _stop_polling(app: PTBApp) -> None:
    if app.updater is not None and app.updater.running:
        await app.updater.stop()


async def _stop_application(app: PTBApp) -> None:
    await _stop_polling(app)
    if app.running:
        await app.stop()


async def _shutdown_application(app: PTBApp) -> None:
    if app.running:  # stopping failed part-way
        return
    await app.shutdown()
    await app.bot.shutdown()  # closes the HTTP client even if initialize() failed


async def _wait_for_stop(stop: asyncio.Event, http_task: asyncio.Task[None]) -> None:
    stop_task = asyncio.create_task(stop.wait(), name="stop")
    try:
        await asyncio.wait({http_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop_task.cancel()
    if http_task.done() and not stop.is_set():
        exc = None if http_task.cancelled() else http_task.exception()
        raise RunError("http_stopped", reason=_reason(exc) if exc else "stopped")


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or ``stop`` is set), then shut everything down cleanly.

    Raises :class:`RunError` when the bot cannot start for a reason the admin must fix.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    _install_signal_handlers(loop, stop)
    try:
        sock = bind_http_socket(settings.http_host, settings.http_port)
        try:
            await _run(settings, stop, sock)
        finally:
            sock.close()
    finally:
        _remove_signal_handlers(loop)
    log.info("stopped")


async def _run(settings: Settings, stop: asyncio.Event, sock: socket.socket) -> None:
    async with contextlib.AsyncExitStack() as stack:
        db = Database(settings.database_url)
        stack.push_async_callback(db.dispose)
        await _migrate(db)
        services = build_services(settings, db)
        report = await services.seed_entities()
        log.info("entity catalogue: %d added, %d already present", report.added, report.unchanged)
        if stop.is_set():
            return

        app = build_application(services)
        stack.push_async_callback(_shutdown_application, app)
        if not await _initialize(app, settings, stop) or stop.is_set():
            return
        if app.post_init is not None:  # run_polling()/run_webhook() would call it
            await app.post_init(app)

        await app.start()
        stack.push_async_callback(_stop_application, app)
        server = _Server(
            uvicorn.Config(
                build_http_app(services, app),
                host=settings.http_host,
                port=settings.http_port,
                log_config=None,
                lifespan="off",
                access_log=False,
                timeout_graceful_shutdown=HTTP_GRACEFUL_SHUTDOWN,
            )
        )
        http_task = await _start_http(server, sock)
        stack.push_async_callback(_stop_http, server, http_task)
        log.info("HTTP on http://%s:%d", settings.http_host, sock.getsockname()[1])

        await _receive_updates(app, settings)
        stack.push_async_callback(_stop_polling, app)
        _install_reload_handler(asyncio.get_running_loop(), services)
        await _wait_for_stop(stop, http_task)
        log.info("shutting down")
