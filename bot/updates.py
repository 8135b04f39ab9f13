"""Each Telegram ``update_id`` is handled once.

``getUpdates`` and webhooks are both at-least-once: an update handled just before a crash (or
before the polling offset was confirmed, or a webhook answer that Telegram did not receive) is
delivered again. The first time an ``update_id`` is seen it is recorded in
``processed_updates``; a second delivery finds the row and is dropped.

Telegram keeps an undelivered update for at most 24 hours, so a row older than
:data:`KEEP` can never be needed again; old rows are pruned while inserting, at most once per
:data:`PRUNE_EVERY` in each process. (Telegram may restart ``update_id`` at a random number
after a week without updates: pruning also keeps such a restart from colliding with old rows.)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bot.db import Database, utcnow
from bot.models import ProcessedUpdate

KEEP = timedelta(hours=48)
PRUNE_EVERY = timedelta(hours=1)


class UpdateLog:
    """Records the ``update_id``s already handled; see the module docstring."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pruned_at: datetime | None = None
        dialect = db.engine.dialect.name
        if dialect == "postgresql":
            self._insert = pg_insert
        elif dialect == "sqlite":
            self._insert = sqlite_insert
        else:  # pragma: no cover - only the two supported databases
            raise ValueError(f"unsupported database for update de-duplication: {dialect}")

    async def first_time(self, update_id: int) -> bool:
        """Record ``update_id``; True the first time it is seen, False for a repeat delivery."""
        now = utcnow()
        statement = (
            self._insert(ProcessedUpdate)
            .values(update_id=update_id, received_at=now)
            .on_conflict_do_nothing(index_elements=["update_id"])
        )
        async with self._db.session() as session:
            if self._pruned_at is None or now - self._pruned_at >= PRUNE_EVERY:
                self._pruned_at = now
                await session.execute(
                    delete(ProcessedUpdate).where(
                        ProcessedUpdate.received_at < now - KEEP  # type: ignore[arg-type]
                    )
                )
            result = await session.execute(statement)
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]
