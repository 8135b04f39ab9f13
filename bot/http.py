"""The HTTP side (Starlette), served by uvicorn in the bot's own event loop: ``/healthz``, the
calendar feeds (``/calendario/publico.ics``, ``/calendario/<token>.ics``) and the webhook
(``POST /telegram``)."""

from __future__ import annotations

import hmac
import json
import logging
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from bot.feeds import PUBLIC_FEED_PATH, FeedSnapshot
from bot.services import Services

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CALENDAR_TYPE = "text/calendar; charset=utf-8"
#: Personal feeds: no shared cache may keep them; clients revalidate (cheap: ETag, 304).
PERSONAL_CACHE = "private, no-cache"
PUBLIC_CACHE = "public, max-age=300"
#: The one answer to every token that opens nothing (unknown, revoked, malformed).
NOT_FOUND = b"Not Found"


def not_modified(request: Request, etag: str, last_modified: datetime | None) -> bool:
    """RFC 9110 conditional GET: If-None-Match wins; If-Modified-Since only without it."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip() for tag in if_none_match.split(",")]
        return "*" in tags or any(tag.removeprefix("W/") == etag for tag in tags)
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since is None or last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return last_modified.replace(microsecond=0) <= since


async def feed_response(
    request: Request, snapshot: FeedSnapshot, *, personal: bool
) -> Response:
    """The feed, or 304 when the client's copy is current; HEAD gets the headers only."""
    headers = {
        "ETag": snapshot.etag,
        "Cache-Control": PERSONAL_CACHE if personal else PUBLIC_CACHE,
    }
    if snapshot.last_modified is not None:
        headers["Last-Modified"] = format_datetime(
            snapshot.last_modified.astimezone(UTC), usegmt=True
        )
    if personal:
        headers["X-Robots-Tag"] = "noindex"
        headers["Referrer-Policy"] = "no-referrer"
    if not_modified(request, snapshot.etag, snapshot.last_modified):
        return Response(status_code=304, headers=headers)
    body = await snapshot.render()
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        body = b""
    return Response(body, headers=headers, media_type=CALENDAR_TYPE)


def feed_not_found() -> Response:
    return Response(
        NOT_FOUND, status_code=404, media_type="text/plain", headers={"Cache-Control": "no-store"}
    )


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

    async def public_feed(request: Request) -> Response:
        snapshot = await services.feeds.public(services.feeds.builder(services.texts))
        return await feed_response(request, snapshot, personal=False)

    async def personal_feed(request: Request) -> Response:
        token = str(request.path_params["token"])
        builder = services.feeds.builder(services.texts)
        snapshot = await services.feeds.personal(token, builder)
        if snapshot is None:
            return feed_not_found()
        return await feed_response(request, snapshot, personal=True)

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET", "HEAD"]),
            Route("/telegram", telegram_webhook, methods=["POST"]),
            Route(PUBLIC_FEED_PATH, public_feed, methods=["GET", "HEAD"]),
            Route("/calendario/{token}.ics", personal_feed, methods=["GET", "HEAD"]),
        ]
    )
