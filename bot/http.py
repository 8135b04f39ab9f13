"""The HTTP side (Starlette), served by uvicorn in the bot's own event loop."""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from bot.services import Services

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def build_http_app(
    services: Services, bot_app: Application[Any, Any, Any, Any, Any, Any]
) -> Starlette:
    async def healthz(request: Request) -> Response:
        database = await services.db.ping()
        running = bool(bot_app.running)
        ok = database and running
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "database": database, "bot": running},
            status_code=200 if ok else 503,
        )

    async def telegram_webhook(request: Request) -> Response:
        secret = services.settings.webhook_secret
        if not services.settings.webhook_mode or secret is None:
            return Response(status_code=404)
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
            return Response(status_code=403)
        if not bot_app.running:  # starting or stopping: Telegram will deliver it again
            return Response(status_code=503)
        try:
            payload = json.loads(await request.body())
            if not isinstance(payload, dict):
                raise TypeError("not a JSON object")
            update = Update.de_json(payload, bot_app.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("webhook: malformed update refused")
            return Response(status_code=400)
        await bot_app.update_queue.put(update)
        return Response(status_code=200)

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/telegram", telegram_webhook, methods=["POST"]),
        ]
    )
