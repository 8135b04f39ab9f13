"""Before any other handler: an ``update_id`` delivered a second time is dropped."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from handlers.common import services

log = logging.getLogger(__name__)

#: The handler group that runs first (capability modules use -1 and above).
FIRST_GROUP = -100


async def drop_repeated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await services(context).updates.first_time(update.update_id):
        log.info("update %d delivered again: ignored", update.update_id)
        raise ApplicationHandlerStop


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(TypeHandler(Update, drop_repeated), group=FIRST_GROUP)
