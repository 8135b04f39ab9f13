"""Who may do what: admins (settings), coordinators (appointed in chat), officers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select

from bot.db import Database, utcnow
from bot.invitations import InvitationProblem, InvitationService
from bot.models import Coordinator, InvitationKind, Officer, OfficerStatus


class Role(StrEnum):
    GUEST = "guest"  # not registered, or registration pending
    OFFICER = "officer"
    COORDINATOR = "coordinator"
    ADMIN = "admin"

    @property
    def is_coordinator(self) -> bool:
        """Admins can do everything a coordinator can."""
        return self in (Role.COORDINATOR, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class Appointment:
    """The outcome of opening an admin's coordinator link."""

    coordinator: Coordinator | None
    problem: InvitationProblem | None = None
    invited_by: int | None = None


class RoleService:
    def __init__(
        self, db: Database, admin_ids: Iterable[int], invitations: InvitationService
    ) -> None:
        self._db = db
        self.admin_ids = frozenset(admin_ids)
        self._invitations = invitations

    async def accept_invitation(self, payload: str, user_id: int, display_name: str) -> Appointment:
        """``/start c_<token>``: the person opening an admin's single-use link is appointed."""
        async with self._db.session() as session:
            check = await self._invitations.check(payload, session)
            invitation = check.invitation
            if invitation is None or invitation.kind != InvitationKind.COORDINATOR.value:
                return Appointment(None, check.problem or InvitationProblem.UNKNOWN)
            if check.problem is not None:
                return Appointment(None, check.problem)
            if not await self._invitations.consume(session, invitation.id or 0):
                return Appointment(None, InvitationProblem.USED)
        coordinator = await self.appoint(user_id, display_name, invitation.created_by)
        return Appointment(coordinator, None, invitation.created_by)

    async def role_of(self, user_id: int) -> Role:
        """Read from the database every time: a removed coordinator loses access at once."""
        if user_id in self.admin_ids:
            return Role.ADMIN
        async with self._db.session() as session:
            coordinator = (
                await session.execute(
                    select(Coordinator.id).where(
                        Coordinator.telegram_user_id == user_id,  # type: ignore[arg-type]
                        Coordinator.active.is_(True),  # type: ignore[attr-defined]
                    )
                )
            ).scalar_one_or_none()
            if coordinator is not None:
                return Role.COORDINATOR
            officer = (
                await session.execute(
                    select(Officer.id).where(
                        Officer.telegram_user_id == user_id,  # type: ignore[arg-type]
                        Officer.status == OfficerStatus.APPROVED.value,  # type: ignore[arg-type]
                    )
                )
            ).scalar_one_or_none()
        return Role.OFFICER if officer is not None else Role.GUEST

    async def appoint(self, user_id: int, display_name: str, by: int | None) -> Coordinator:
        async with self._db.session() as session:
            row = (
                await session.execute(
                    select(Coordinator).where(Coordinator.telegram_user_id == user_id)  # type: ignore[arg-type]
                )
            ).scalar_one_or_none()
            if row is None:
                row = Coordinator(telegram_user_id=user_id, display_name=display_name)
                session.add(row)
            row.display_name = display_name[:120]
            row.active = True
            row.appointed_by = by
            row.appointed_at = utcnow()
            row.removed_at = None
            await session.flush()
            return row

    async def remove(self, coordinator_id: int) -> Coordinator | None:
        """Deactivate; returns the row if it was active."""
        async with self._db.session() as session:
            row = await session.get(Coordinator, coordinator_id)
            if row is None or not row.active:
                return None
            row.active = False
            row.removed_at = utcnow()
            return row

    async def coordinators(self) -> list[Coordinator]:
        async with self._db.session() as session:
            rows = await session.execute(
                select(Coordinator)
                .where(Coordinator.active.is_(True))  # type: ignore[attr-defined]
                .order_by(Coordinator.display_name)
            )
            return list(rows.scalars())

    async def display_name(self, user_id: int) -> str | None:
        async with self._db.session() as session:
            return (
                await session.execute(
                    select(Coordinator.display_name).where(
                        Coordinator.telegram_user_id == user_id  # type: ignore[arg-type]
                    )
                )
            ).scalar_one_or_none()
