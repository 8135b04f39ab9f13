"""The services under the handlers, on a real database (SQLite file and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.db import utcnow
from bot.invitations import InvitationProblem
from bot.models import Invitation, InvitationKind, Officer, OfficerStatus
from bot.officers import DecisionOutcome, RegistrationDraft, SubmitOutcome
from bot.services import Services


async def _entity_id(services: Services, code: str) -> int:
    entity = await services.entities.by_code(code)
    assert entity is not None and entity.id is not None
    return entity.id


async def test_shipped_entities_seeded_once(services: Services) -> None:
    again = await services.seed_entities()
    assert again.added == 0
    assert again.unchanged == len(services.content.entities)
    assert await services.entities.by_code("minsa") is not None


async def test_invitation_tokens_are_random_hashed_and_short(services: Services) -> None:
    entity_id = await _entity_id(services, "minsa")
    issued = [await services.invitations.issue(InvitationKind.ENTITY, entity_id=entity_id)
              for _ in range(20)]
    payloads = {i.payload for i in issued}
    assert len(payloads) == 20
    for item in issued:
        assert len(item.payload) <= 64
        assert item.payload.startswith("e_")
        token = item.payload[2:]
        assert token not in item.invitation.token_hash  # only the hash is stored
    async with services.db.session() as session:
        stored = (await session.execute(select(Invitation.token_hash))).scalars().all()
    assert all(len(h) == 64 for h in stored)


async def test_personal_invitation_single_use_and_expiry(services: Services) -> None:
    entity_id = await _entity_id(services, "mef")
    issued = await services.invitations.issue(InvitationKind.PERSONAL, entity_id=entity_id)
    assert (await services.invitations.check(issued.payload)).problem is None
    async with services.db.session() as session:
        assert await services.invitations.consume(session, issued.invitation.id or 0)
    async with services.db.session() as session:
        assert not await services.invitations.consume(session, issued.invitation.id or 0)
    assert (await services.invitations.check(issued.payload)).problem is InvitationProblem.USED

    old = await services.invitations.issue(InvitationKind.ENTITY, entity_id=entity_id,
                                           now=utcnow() - timedelta(days=400))
    assert (await services.invitations.check(old.payload)).problem is InvitationProblem.EXPIRED

    fresh = await services.invitations.issue(InvitationKind.ENTITY, entity_id=entity_id)
    assert await services.invitations.revoke(fresh.invitation.id or 0)
    assert (await services.invitations.check(fresh.payload)).problem is InvitationProblem.REVOKED
    assert (await services.invitations.check("e_" + "A" * 32)).problem is InvitationProblem.UNKNOWN
    assert (await services.invitations.check("<script>")).problem is InvitationProblem.UNKNOWN


async def test_concurrent_uses_of_a_single_use_link(services: Services) -> None:
    entity_id = await _entity_id(services, "minedu")
    issued = await services.invitations.issue(InvitationKind.PERSONAL, entity_id=entity_id)
    drafts = [RegistrationDraft(entity_id, f"Oficial Número{chr(65 + i)}", "Oficial de integridad")
              for i in range(5)]
    results = await asyncio.gather(*[
        services.officers.submit(1000 + i, d, utcnow(), issued.payload)
        for i, d in enumerate(drafts)
    ], return_exceptions=True)
    outcomes = [r.outcome for r in results if not isinstance(r, BaseException)]
    assert outcomes.count(SubmitOutcome.APPROVED) == 1


async def test_concurrent_decisions_one_wins(services: Services) -> None:
    entity_id = await _entity_id(services, "minsa")
    result = await services.officers.submit(
        42, RegistrationDraft(entity_id, "Rosa Díaz Paredes", "Jefa de la OII"), utcnow())
    assert result.outcome is SubmitOutcome.PENDING and result.officer is not None
    officer_id = result.officer.id or 0
    decisions = await asyncio.gather(
        services.officers.decide(officer_id, True, by=7),
        services.officers.decide(officer_id, False, by=8),
    )
    outcomes = sorted(d.outcome.value for d in decisions)
    assert outcomes == [DecisionOutcome.ALREADY_DECIDED.value, DecisionOutcome.DONE.value]
    view = await services.officers.by_id(officer_id)
    assert view is not None
    winner = next(d for d in decisions if d.outcome is DecisionOutcome.DONE)
    assert view.officer.status == winner.officer.status  # type: ignore[union-attr]


async def test_erase_keeps_only_an_anonymous_row(services: Services) -> None:
    entity_id = await _entity_id(services, "minsa")
    await services.officers.submit(
        77, RegistrationDraft(entity_id, "Luis Torres Vega", "Especialista", "luis@minsa.gob.pe",
                              "+51 987 654 321"), utcnow())
    assert await services.officers.erase(77)
    assert await services.officers.by_user(77) is None
    async with services.db.session() as session:
        rows = (await session.execute(select(Officer))).scalars().all()
    assert len(rows) == 1
    row = rows[0]
    assert row.status == OfficerStatus.DELETED.value
    assert (row.telegram_user_id, row.full_name, row.position, row.email, row.phone,
            row.consent_at) == (None, None, None, None, None, None)
    assert row.entity_id == entity_id  # the anonymous count per entity stays
    assert await services.officers.count_by_status() == {"deleted": 1}


async def test_times_come_back_aware_utc(services: Services) -> None:
    entity_id = await _entity_id(services, "minsa")
    result = await services.officers.submit(
        5, RegistrationDraft(entity_id, "Ana Ríos Soto", "Oficial"), utcnow())
    view = await services.officers.by_id(result.officer.id or 0)  # type: ignore[union-attr]
    assert view is not None
    assert view.officer.created_at.utcoffset() == timedelta(0)
    assert view.officer.consent_at is not None and view.officer.consent_at.tzinfo is not None
