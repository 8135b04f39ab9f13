"""Invitation links: random tokens, stored hashed, single-use or shared, expiring, revocable."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database, utcnow
from bot.models import Entity, Invitation, InvitationKind

TOKEN_BYTES = 24  # 192 random bits, 32 URL-safe characters
_PREFIX = {
    InvitationKind.ENTITY: "e",
    InvitationKind.PERSONAL: "p",
    InvitationKind.COORDINATOR: "c",
}
_KIND = {v: k for k, v in _PREFIX.items()}
PAYLOAD_RE = re.compile(r"^([epc])_([A-Za-z0-9_-]{20,60})$")


class InvitationProblem(StrEnum):
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"
    USED = "used"


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    invitation: Invitation
    payload: str  # the deep-link payload, at most 64 characters of A-Za-z0-9_-

    def link(self, bot_username: str) -> str:
        return deep_link(bot_username, self.payload)


@dataclass(frozen=True, slots=True)
class InvitationCheck:
    invitation: Invitation | None
    problem: InvitationProblem | None
    entity: Entity | None = None


def deep_link(bot_username: str, payload: str) -> str:
    return f"https://t.me/{bot_username}?start={payload}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def looks_like_invitation(payload: str) -> bool:
    return PAYLOAD_RE.match(payload) is not None


class InvitationService:
    def __init__(self, db: Database, ttl_days: int) -> None:
        self._db = db
        self._ttl = timedelta(days=ttl_days)

    async def issue(
        self,
        kind: InvitationKind,
        *,
        entity_id: int | None = None,
        officer_id: int | None = None,
        created_by: int | None = None,
        session: AsyncSession | None = None,
        now: datetime | None = None,
    ) -> IssuedInvitation:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = now or utcnow()
        invitation = Invitation(
            token_hash=hash_token(token),
            kind=kind.value,
            entity_id=entity_id,
            officer_id=officer_id,
            created_by=created_by,
            created_at=now,
            expires_at=now + self._ttl,
            max_uses=None if kind is InvitationKind.ENTITY else 1,
        )
        if session is not None:
            session.add(invitation)
            await session.flush()
        else:
            async with self._db.session() as own:
                own.add(invitation)
                await own.flush()
        return IssuedInvitation(invitation, f"{_PREFIX[kind]}_{token}")

    async def check(self, payload: str, session: AsyncSession | None = None) -> InvitationCheck:
        """What a payload opens, or why it opens nothing; consumes nothing."""
        if session is None:
            async with self._db.session() as own:
                return await self.check(payload, own)
        match = PAYLOAD_RE.match(payload)
        if not match:
            return InvitationCheck(None, InvitationProblem.UNKNOWN)
        kind = _KIND[match.group(1)]
        invitation = (
            await session.execute(
                select(Invitation).where(
                    Invitation.token_hash == hash_token(match.group(2)),  # type: ignore[arg-type]
                    Invitation.kind == kind.value,  # type: ignore[arg-type]
                )
            )
        ).scalar_one_or_none()
        if invitation is None:
            return InvitationCheck(None, InvitationProblem.UNKNOWN)
        entity = await session.get(Entity, invitation.entity_id) if invitation.entity_id else None
        if invitation.revoked_at is not None:
            return InvitationCheck(invitation, InvitationProblem.REVOKED, entity)
        if invitation.max_uses is not None and invitation.uses >= invitation.max_uses:
            return InvitationCheck(invitation, InvitationProblem.USED, entity)
        if invitation.expires_at <= utcnow():
            return InvitationCheck(invitation, InvitationProblem.EXPIRED, entity)
        return InvitationCheck(invitation, None, entity)

    async def consume(self, session: AsyncSession, invitation_id: int) -> bool:
        """Use the invitation once; False if it was used up, revoked or expired meanwhile."""
        result = await session.execute(
            update(Invitation)
            .where(
                Invitation.id == invitation_id,  # type: ignore[arg-type]
                Invitation.revoked_at.is_(None),  # type: ignore[union-attr]
                Invitation.expires_at > utcnow(),  # type: ignore[arg-type]
                (Invitation.max_uses.is_(None))  # type: ignore[union-attr]
                | (Invitation.uses < Invitation.max_uses),  # type: ignore[operator]
            )
            .values(uses=Invitation.uses + 1)
        )
        return result.rowcount == 1

    async def revoke(self, invitation_id: int) -> bool:
        async with self._db.session() as session:
            result = await session.execute(
                update(Invitation)
                .where(
                    Invitation.id == invitation_id,  # type: ignore[arg-type]
                    Invitation.revoked_at.is_(None),  # type: ignore[union-attr]
                )
                .values(revoked_at=utcnow())
            )
            return result.rowcount == 1

    async def revoke_for_officer(self, session: AsyncSession, officer_id: int) -> None:
        await session.execute(
            update(Invitation)
            .where(
                Invitation.officer_id == officer_id,  # type: ignore[arg-type]
                Invitation.revoked_at.is_(None),  # type: ignore[union-attr]
            )
            .values(revoked_at=utcnow())
        )

    async def get(self, invitation_id: int) -> Invitation | None:
        async with self._db.session() as session:
            return await session.get(Invitation, invitation_id)
