"""``integridad-bot run``: migrations, the bot (polling or webhook) and HTTP in one event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator

import uvicorn

from bot.application import ALLOWED_UPDATES, build_application
from bot.db import Database
from bot.http import build_http_app
from bot.schema import upgrade
from bot.services import build_services
from bot.settings import Settings

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the runner owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or ``stop`` is set), then shut everything down cleanly."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    db = Database(settings.database_url)
    await upgrade(db)
    services = build_services(settings, db)
    report = await services.seed_entities()
    log.info("entity catalogue: %d added, %d already present", report.added, report.unchanged)
    app = build_application(services)
    http_app = build_http_app(services, app)
    server = _Server(
        uvicorn.Config(
            http_app,
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            lifespan="off",
            access_log=False,
        )
    )
    async with app:
        if app.post_init is not None:  # run_polling()/run_webhook() would call it
            await app.post_init(app)
        await app.start()
        if settings.webhook_mode:
            secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
            await app.bot.set_webhook(
                settings.webhook_url or "", secret_token=secret, allowed_updates=ALLOWED_UPDATES
            )
            log.info("webhook registered at %s", settings.webhook_url)
        else:
            assert app.updater is not None
            await app.bot.delete_webhook()
            await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES, timeout=20)
            log.info("polling for updates")
        http_task = asyncio.create_task(server.serve())
        stop_task = asyncio.create_task(stop.wait())
        log.info("HTTP on http://%s:%d", settings.http_host, settings.http_port)
        try:
            await asyncio.wait({http_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            log.info("shutting down")
            server.should_exit = True
            with contextlib.suppress(BaseException):
                await http_task
            stop_task.cancel()
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            await app.stop()
    await db.dispose()
    log.info("stopped")
