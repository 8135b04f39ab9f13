"""Repeating work of the running bot, on PTB's JobQueue (durable state lives in the database).

- At start-up: deliveries a dead process left ``sending`` go back to ``pending`` (see
  :mod:`scheduling.broadcast`), every unfinished broadcast is resumed, due reminders are sent.
- Every :data:`TICK_SECONDS` seconds: due reminders are queued as one broadcast and sent; any
  unfinished broadcast this process is not sending is resumed.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from telegram.ext import ContextTypes

from scheduling.broadcast import engine_of
from scheduling.reminders import DispatchResult, ReminderDispatcher, ReminderRace

log = logging.getLogger(__name__)

#: How often due reminders are looked for (the issue asks for at most every 30 seconds).
TICK_SECONDS = 30.0


def register_jobs(app: Any) -> None:
    """Schedule the start-up recovery and the periodic reminder/broadcast job."""
    if app.job_queue is None:  # PTB installed without the job-queue extra
        log.warning("no JobQueue: reminders and broadcast resumption will not run")
        return
    app.job_queue.run_once(_on_start, when=0, name="broadcasts:start")
    app.job_queue.run_repeating(
        _on_tick, interval=TICK_SECONDS, first=TICK_SECONDS, name="reminders:tick"
    )


async def dispatch_reminders(app: Any, *, now: datetime | None = None) -> DispatchResult:
    """Queue the due reminders and start sending them (also callable from tests with ``now``)."""
    services = app.bot_data["services"]
    dispatcher = ReminderDispatcher(services.db, services.texts)
    try:
        result = await dispatcher.dispatch(now=now)
    except ReminderRace:
        log.warning("reminder dispatch raced with another one; nothing queued this time")
        return DispatchResult()
    if result.broadcast_id is not None:
        engine_of(app).start(result.broadcast_id)
    return result


async def _on_start(context: ContextTypes.DEFAULT_TYPE) -> None:
    app = context.application
    engine = engine_of(app)
    try:
        recovered = await engine.recover()
        if recovered:
            log.warning("%d delivery(ies) were being sent when the bot stopped: resent", recovered)
        await engine.resume_unfinished()
        await dispatch_reminders(app)
    except Exception:
        log.exception("start-up resumption of broadcasts failed")
    await warm_feeds(app)


async def _on_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    app = context.application
    try:
        await dispatch_reminders(app)
        await engine_of(app).resume_unfinished()
    except Exception:
        log.exception("reminder dispatch failed")
    await warm_feeds(app)


async def warm_feeds(app: Any) -> int:
    """Serialise the calendar events a feed would need and the cache lacks (see
    ``FeedService.warm``); a failure is logged and only costs the next feed request time."""
    services = app.bot_data["services"]
    try:
        built = await services.feeds.warm(services.feeds.builder(services.texts))
    except Exception:
        log.exception("warming the calendar feeds' cache failed")
        return 0
    if built:
        log.info("calendar feeds: %d event(s) serialised ahead of requests", built)
    return built
