"""Setting the scene for broadcast and reminder tests: registered officers (through the
services, as registration does) whose Telegram chats exist in the fake, and sessions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.db import Database, utcnow
from bot.models import Delivery, InvitationKind, Officer, Session, SessionInvite
from bot.officers import RegistrationDraft, SubmitOutcome
from bot.services import Services
from scheduling.broadcast import BroadcastConfig, BroadcastEngine, OutgoingMessage
from tests.fakebot import FakeTelegram, FakeUser

NAMES = ["Ana", "Luis", "Rosa", "Jorge", "Carmen", "Pedro", "Elena", "Víctor", "Julia", "Raúl"]

#: Short waits so the failure-path tests stay quick.
QUICK = BroadcastConfig(send_timeout=0.4, backoff=0.05, max_attempts=3, progress_every=0.0)


async def register_officers(
    services: Services, fake: FakeTelegram, n: int, entity_code: str = "minsa"
) -> list[tuple[FakeUser, Officer]]:
    """``n`` approved officers who once talked to the bot (entity invitation link)."""
    entity = await services.entities.by_code(entity_code)
    assert entity is not None and entity.id is not None
    link = await services.invitations.issue(InvitationKind.ENTITY, entity_id=entity.id)
    people: list[tuple[FakeUser, Officer]] = []
    for i in range(n):
        first = NAMES[i % len(NAMES)]
        user = fake.user(first, last_name=f"Prueba{i}")
        fake.mark_known(user.id)
        draft = RegistrationDraft(entity.id, f"{first} Prueba{i}", "Oficial de integridad")
        result = await services.officers.submit(user.id, draft, utcnow(), link.payload)
        assert result.outcome is SubmitOutcome.APPROVED and result.officer is not None
        people.append((user, result.officer))
    return people


def messages_for(
    people: list[tuple[FakeUser, Officer]], text: Callable[[int], str] = lambda i: f"Aviso {i}"
) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(chat_id=u.id, officer_id=o.id, text=text(i))
        for i, (u, o) in enumerate(people)
    ]


def received(fake: FakeTelegram, user: FakeUser, needle: str = "") -> list[str]:
    """Text messages the bot sent to the user's chat (containing ``needle``)."""
    return [
        m.text for m in fake.chat_messages(user.id) if m.text is not None and needle in m.text
    ]


async def wait_for(check: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def deliveries(db: Database, broadcast_id: int) -> list[Delivery]:
    async with db.session() as s:
        rows = await s.execute(
            select(Delivery).where(Delivery.broadcast_id == broadcast_id).order_by(Delivery.id)
        )
        return list(rows.scalars())


def quick(engine: BroadcastEngine, **changes: Any) -> BroadcastEngine:
    engine.config = BroadcastConfig(**{**QUICK.__dict__, **changes})
    return engine


async def make_session(
    db: Database,
    officers: list[Officer],
    *,
    start: datetime,
    kind: str = "grupal",
    title: str = "Alcances de la Guía de Evaluación 1",
    **fields: Any,
) -> int:
    """A scheduled session with these officers invited (pending answer)."""
    async with db.session() as s:
        session = Session(
            uid=f"test-{start.timestamp()}-{kind}-{title[:20]}",
            kind=kind,
            title=title,
            start_at=start,
            end_at=start + timedelta(hours=2),
            **fields,
        )
        s.add(session)
        await s.flush()
        assert session.id is not None
        for officer in officers:
            s.add(
                SessionInvite(
                    session_id=session.id, officer_id=officer.id or 0, entity_id=officer.entity_id
                )
            )
        return session.id
