"""The mandatory-session nudge: three days before a sectoral (mandatory) session, each convened
entity with no officer confirmed gets one message through the broadcast engine — never twice
(``SessionInvite.nudged_at`` is claimed before anything is sent)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot.services import Services
from scheduling import session_messages
from scheduling.broadcast import BroadcastEngine, BroadcastService, engine_of

log = logging.getLogger(__name__)
JOB_NAME = "mandatory_session_nudges"
INTERVAL_SECONDS = 600


async def send_nudges(
    services: Services, engine: BroadcastEngine, *, now: datetime | None = None
) -> int:
    """Claim the nudges due at ``now`` and send them (one broadcast per session)."""
    nudges = await services.sessions.claim_nudges(now=now)
    by_session: dict[int, list[Any]] = {}
    for n in nudges:
        by_session.setdefault(n.session.id or 0, []).append(n)
    sent = 0
    for session_id, group in by_session.items():
        messages = [session_messages.nudge(services.texts, n.session, n.recipient) for n in group]
        broadcast_id = await BroadcastService(services.db).create(
            "nudge", messages, session_id=session_id
        )
        summary = await engine.run(broadcast_id)
        sent += summary.sent
    return sent


async def _job(context: Any) -> None:
    app = context.application
    try:
        await send_nudges(app.bot_data["services"], engine_of(app))
    except Exception:
        log.exception("mandatory-session nudges failed")


def register(app: Any) -> None:
    """Add the repeating job (once, even if called twice)."""
    queue = app.job_queue
    if queue is None or queue.get_jobs_by_name(JOB_NAME):
        return
    queue.run_repeating(_job, interval=INTERVAL_SECONDS, first=60, name=JOB_NAME)
