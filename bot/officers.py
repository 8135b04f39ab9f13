"""Officers: registration, approval, removal, profile and erasure of personal data."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select, update

from bot.db import Database, utcnow
from bot.feeds import revoke_tokens
from bot.invitations import InvitationProblem, InvitationService
from bot.models import (
    DialogState,
    Entity,
    FaqQuestion,
    InvitationKind,
    Officer,
    OfficerStatus,
    RegistrationSource,
)

PROFILE_FIELDS = ("full_name", "position", "email", "phone")


@dataclass(frozen=True, slots=True)
class RegistrationDraft:
    entity_id: int
    full_name: str
    position: str
    email: str | None = None
    phone: str | None = None


class SubmitOutcome(StrEnum):
    PENDING = "pending"  # waits for a coordinator
    APPROVED = "approved"  # came through an invitation
    INVITATION_INVALID = "invitation_invalid"
    ALREADY_REGISTERED = "already_registered"
    ENTITY_UNKNOWN = "entity_unknown"


@dataclass(frozen=True, slots=True)
class SubmitResult:
    outcome: SubmitOutcome
    officer: Officer | None = None
    entity: Entity | None = None
    problem: InvitationProblem | None = None


class DecisionOutcome(StrEnum):
    DONE = "done"
    ALREADY_DECIDED = "already_decided"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: DecisionOutcome
    officer: Officer | None = None
    entity: Entity | None = None


@dataclass(frozen=True, slots=True)
class InvitationStart:
    """What an invitation link brings to a registration: its entity and, for a personal link
    from SIP's directory, the profile fields SIP already has."""

    problem: InvitationProblem | None
    entity: Entity | None = None
    prefill: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OfficerView:
    officer: Officer
    entity: Entity


class OfficerService:
    def __init__(self, db: Database, invitations: InvitationService) -> None:
        self._db = db
        self._invitations = invitations

    async def by_user(self, user_id: int) -> OfficerView | None:
        async with self._db.session() as session:
            row = (
                await session.execute(
                    select(Officer, Entity)
                    .join(Entity, Entity.id == Officer.entity_id)  # type: ignore[arg-type]
                    .where(Officer.telegram_user_id == user_id)  # type: ignore[arg-type]
                )
            ).first()
            return OfficerView(row[0], row[1]) if row else None

    async def by_id(self, officer_id: int) -> OfficerView | None:
        async with self._db.session() as session:
            row = (
                await session.execute(
                    select(Officer, Entity)
                    .join(Entity, Entity.id == Officer.entity_id)  # type: ignore[arg-type]
                    .where(Officer.id == officer_id)  # type: ignore[arg-type]
                )
            ).first()
            return OfficerView(row[0], row[1]) if row else None

    async def invitation_start(self, payload: str) -> InvitationStart:
        check = await self._invitations.check(payload)
        invitation = check.invitation
        if check.problem is not None or invitation is None or check.entity is None:
            return InvitationStart(check.problem or InvitationProblem.UNKNOWN)
        prefill: dict[str, str] = {}
        if invitation.kind == InvitationKind.PERSONAL.value and invitation.officer_id:
            invited = await self.by_id(invitation.officer_id)
            if invited is not None:
                prefill = {
                    name: value
                    for name in PROFILE_FIELDS
                    if (value := getattr(invited.officer, name))
                }
        return InvitationStart(None, check.entity, prefill)

    async def submit(
        self, user_id: int, draft: RegistrationDraft, consent_at: Any, payload: str | None = None
    ) -> SubmitResult:
        """Record a completed registration; approved at once when it came by invitation."""
        async with self._db.session() as session:
            existing = (
                await session.execute(
                    select(Officer).where(Officer.telegram_user_id == user_id)  # type: ignore[arg-type]
                )
            ).scalar_one_or_none()
            if existing is not None and existing.status in (
                OfficerStatus.APPROVED.value,
                OfficerStatus.PENDING.value,
            ):
                return SubmitResult(SubmitOutcome.ALREADY_REGISTERED, existing)
            entity = await session.get(Entity, draft.entity_id)
            if entity is None:
                return SubmitResult(SubmitOutcome.ENTITY_UNKNOWN)
            now = utcnow()
            officer = existing
            source = RegistrationSource.SELF
            status = OfficerStatus.PENDING
            if payload:
                check = await self._invitations.check(payload, session)
                if check.problem is not None or check.invitation is None:
                    return SubmitResult(
                        SubmitOutcome.INVITATION_INVALID,
                        problem=check.problem or InvitationProblem.UNKNOWN,
                    )
                invitation = check.invitation
                if not await self._invitations.consume(session, invitation.id or 0):
                    return SubmitResult(
                        SubmitOutcome.INVITATION_INVALID, problem=InvitationProblem.USED
                    )
                status = OfficerStatus.APPROVED
                if invitation.kind == InvitationKind.PERSONAL.value and invitation.officer_id:
                    invited = await session.get(Officer, invitation.officer_id)
                    if invited is not None and invited.status == OfficerStatus.INVITED.value:
                        if officer is not None and officer.id != invited.id:
                            # the same Telegram user left or was refused before: free the id
                            officer.telegram_user_id = None
                            await session.flush()
                        officer = invited
                    source = RegistrationSource.PERSONAL_LINK
                else:
                    source = RegistrationSource.ENTITY_LINK
                draft_entity = invitation.entity_id or draft.entity_id
                entity = await session.get(Entity, draft_entity) or entity
            if officer is None:
                officer = Officer(
                    entity_id=entity.id or 0, status=status.value, source=source.value
                )
                session.add(officer)
            officer.telegram_user_id = user_id
            officer.entity_id = entity.id or 0
            officer.full_name = draft.full_name
            officer.position = draft.position
            officer.email = draft.email
            officer.phone = draft.phone
            officer.status = status.value
            officer.source = source.value
            officer.consent_at = consent_at
            officer.unreachable_at = None
            officer.updated_at = now
            if status is OfficerStatus.APPROVED:
                officer.decided_at = now
                officer.decided_by = None
            else:
                officer.decided_at = None
                officer.decided_by = None
            await session.flush()
            outcome = (
                SubmitOutcome.APPROVED
                if status is OfficerStatus.APPROVED
                else SubmitOutcome.PENDING
            )
            return SubmitResult(outcome, officer, entity)

    async def decide(self, officer_id: int, approve: bool, by: int) -> Decision:
        """Approve or reject a pending registration; the first coordinator to press wins."""
        new_status = OfficerStatus.APPROVED if approve else OfficerStatus.REJECTED
        async with self._db.session() as session:
            result = await session.execute(
                update(Officer)
                .where(
                    Officer.id == officer_id,  # type: ignore[arg-type]
                    Officer.status == OfficerStatus.PENDING.value,  # type: ignore[arg-type]
                )
                .values(
                    status=new_status.value, decided_at=utcnow(), decided_by=by, updated_at=utcnow()
                )
            )
            done = result.rowcount == 1
        view = await self.by_id(officer_id)
        if view is None:
            return Decision(DecisionOutcome.NOT_FOUND)
        outcome = DecisionOutcome.DONE if done else DecisionOutcome.ALREADY_DECIDED
        return Decision(outcome, view.officer, view.entity)

    async def remove(self, officer_id: int, by: int) -> Decision:
        """A coordinator takes an approved or pending officer off the programme."""
        async with self._db.session() as session:
            result = await session.execute(
                update(Officer)
                .where(
                    Officer.id == officer_id,  # type: ignore[arg-type]
                    Officer.status.in_(  # type: ignore[attr-defined]
                        [OfficerStatus.APPROVED.value, OfficerStatus.PENDING.value]
                    ),
                )
                .values(
                    status=OfficerStatus.REMOVED.value,
                    decided_at=utcnow(),
                    decided_by=by,
                    updated_at=utcnow(),
                )
            )
            done = result.rowcount == 1
        view = await self.by_id(officer_id)
        if view is None:
            return Decision(DecisionOutcome.NOT_FOUND)
        return Decision(
            DecisionOutcome.DONE if done else DecisionOutcome.ALREADY_DECIDED,
            view.officer,
            view.entity,
        )

    async def update_field(self, user_id: int, field: str, value: str | None) -> Officer | None:
        if field not in PROFILE_FIELDS:
            raise ValueError(f"not a profile field: {field}")
        async with self._db.session() as session:
            officer = (
                await session.execute(
                    select(Officer).where(Officer.telegram_user_id == user_id)  # type: ignore[arg-type]
                )
            ).scalar_one_or_none()
            if officer is None:
                return None
            setattr(officer, field, value)
            officer.updated_at = utcnow()
            return officer

    async def set_reachable(self, user_id: int, reachable: bool) -> bool:
        """The user blocked the bot (``reachable=False``) or unblocked it: broadcasts skip an
        unreachable officer and resume once they are back. False when nothing changed."""
        async with self._db.session() as session:
            result = await session.execute(
                update(Officer)
                .where(
                    Officer.telegram_user_id == user_id,  # type: ignore[arg-type]
                    (
                        Officer.unreachable_at.is_not(None)  # type: ignore[union-attr]
                        if reachable
                        else Officer.unreachable_at.is_(None)  # type: ignore[union-attr]
                    ),
                )
                .values(unreachable_at=None if reachable else utcnow())
            )
            return bool(result.rowcount)

    async def erase(self, user_id: int) -> bool:
        """``/baja``: delete every personal field; the anonymous row stays for the counts."""
        async with self._db.session() as session:
            officer = (
                await session.execute(
                    select(Officer).where(Officer.telegram_user_id == user_id)  # type: ignore[arg-type]
                )
            ).scalar_one_or_none()
            dialog = await session.get(DialogState, user_id)
            if dialog is not None:
                await session.delete(dialog)
            await session.execute(  # questions stay for the FAQ's review, anonymous
                update(FaqQuestion)
                .where(FaqQuestion.telegram_user_id == user_id)  # type: ignore[arg-type]
                .values(telegram_user_id=None)
            )
            if officer is None:
                return False
            officer.telegram_user_id = None
            officer.full_name = None
            officer.position = None
            officer.email = None
            officer.phone = None
            officer.consent_at = None
            officer.decided_by = None
            officer.status = OfficerStatus.DELETED.value
            officer.updated_at = utcnow()
            await self._invitations.revoke_for_officer(session, officer.id or 0)
            await revoke_tokens(session, officer.id or 0)  # calendar feed links (issue 6)
            return True

    async def pending(self) -> list[OfficerView]:
        return await self._list(Officer.status == OfficerStatus.PENDING.value)  # type: ignore[arg-type]

    async def of_entity(self, entity_id: int) -> list[OfficerView]:
        return await self._list(
            Officer.entity_id == entity_id,  # type: ignore[arg-type]
            Officer.status.in_(  # type: ignore[attr-defined]
                [OfficerStatus.APPROVED.value, OfficerStatus.PENDING.value]
            ),
        )

    async def _list(self, *conditions: Any) -> list[OfficerView]:
        async with self._db.session() as session:
            rows = await session.execute(
                select(Officer, Entity)
                .join(Entity, Entity.id == Officer.entity_id)  # type: ignore[arg-type]
                .where(*conditions)
                .order_by(Officer.created_at)
            )
            return [OfficerView(o, e) for o, e in rows.all()]

    async def count_by_status(self) -> dict[str, int]:
        async with self._db.session() as session:
            rows = await session.execute(
                select(Officer.status, func.count()).group_by(Officer.status)
            )
            return {status: count for status, count in rows.all()}
