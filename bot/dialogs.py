"""Durable dialog state: the step a user is at and what they typed, kept in the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete

from bot.db import Database, utcnow
from bot.models import DialogState


@dataclass
class Dialog:
    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


class DialogStore:
    """One open dialog per user; each change is committed at once so a restart loses nothing."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> Dialog | None:
        async with self._db.session() as session:
            row = await session.get(DialogState, user_id)
            if row is None:
                return None
            return Dialog(flow=row.flow, step=row.step, data=dict(row.data or {}))

    async def save(self, user_id: int, dialog: Dialog) -> None:
        async with self._db.session() as session:
            row = await session.get(DialogState, user_id)
            if row is None:
                row = DialogState(telegram_user_id=user_id, flow=dialog.flow, step=dialog.step)
                session.add(row)
            row.flow = dialog.flow
            row.step = dialog.step
            row.data = dict(dialog.data)
            row.updated_at = utcnow()

    async def clear(self, user_id: int) -> bool:
        async with self._db.session() as session:
            result = await session.execute(
                delete(DialogState).where(DialogState.telegram_user_id == user_id)  # type: ignore[arg-type]
            )
            return bool(result.rowcount)
