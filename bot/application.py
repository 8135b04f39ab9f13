"""The python-telegram-bot Application: wiring of handlers, rate limiter and start-up work."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder

from bot.services import Services
from scheduling.jobs import register_jobs  # broadcast engine (issue 5)
from scheduling.pacing import PacedRateLimiter  # broadcast engine (issue 5)

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.INLINE_QUERY,
    Update.MY_CHAT_MEMBER,  # an officer blocking or unblocking the bot
]


def build_application(
    services: Services, *, rate_limiter: bool = True
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Build the Application talking to ``TELEGRAM_API_BASE_URL`` with every handler."""
    from handlers import (
        admin,
        assistance,
        calendar,
        coordination,
        faq,
        general,
        membership,
        profile,
        registration,
        reports,
        sessions,
        updates,
    )

    settings = services.settings
    token = settings.token
    if not token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_api_base_url.replace("/bot", "/file/bot", 1))
        .post_init(_post_init)
        .concurrent_updates(False)
    )
    if rate_limiter:
        # broadcast engine (issue 5): one pacer shared by replies and broadcasts
        builder = builder.rate_limiter(PacedRateLimiter(max_retries=3))
    app = builder.build()
    app.bot_data["services"] = services
    updates.register(app)  # before every other handler: drops repeated update_ids
    membership.register(app)
    general.register_first(app)
    general.register(app)
    registration.register(app)
    profile.register(app)
    coordination.register(app)
    admin.register(app)
    faq.register(app)
    assistance.register(app)
    sessions.register(app)  # sessions, answers, /agenda, nudges
    calendar.register(app)
    reports.register(app)  # reports for coordinators: /reporte
    general.register_last(app)
    register_jobs(app)  # broadcast engine (issue 5): reminders, resumption of broadcasts
    return app


async def _post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    from handlers.command_menu import set_all_commands

    services: Services = app.bot_data["services"]
    try:
        await set_all_commands(app.bot, services)
    except Exception:
        log.exception("could not set the command menus")
