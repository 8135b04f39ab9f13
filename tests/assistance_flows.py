"""Shared set-up of the assistance-request tests: coordinators, approved officers, an intake."""

from __future__ import annotations

from dataclasses import dataclass

from bot.db import utcnow
from bot.officers import RegistrationDraft
from tests.conftest import BotFactory, BotHarness
from tests.fakebot import BotMessage, FakeGroup, FakeTelegram, FakeUser
from tests.flows import press, say


@dataclass
class Cast:
    bot: BotHarness
    ana: FakeUser  # coordinator
    beto: FakeUser  # coordinator
    officers: list[FakeUser]
    group: FakeGroup | None


async def approved_officer(bot: BotHarness, user: FakeUser, entity_query: str, name: str,
                           approver: int = 1) -> int:
    """An officer registered and approved through the services the bot uses."""
    [match, *_] = await bot.s.entities.search(entity_query, limit=1)
    result = await bot.s.officers.submit(
        user.id, RegistrationDraft(int(match.id), name, "Oficial de Integridad"), utcnow()
    )
    assert result.officer is not None and result.officer.id is not None
    await bot.s.officers.decide(result.officer.id, True, approver)
    return result.officer.id


async def cast(fake: FakeTelegram, make_bot: BotFactory, *, group: bool = True,
               **settings: object) -> Cast:
    ana = fake.user("Ana", last_name="Coordinadora")
    beto = fake.user("Beto", last_name="Coordinador")
    officers = [fake.user("Rosa", last_name="Díaz"), fake.user("Raúl", last_name="Vera"),
                fake.user("Sara", last_name="Pinto")]
    for user in (ana, beto, *officers):
        await user.send("/ayuda")
    coordinators_group = fake.group("Coordinación SIP") if group else None
    if coordinators_group is not None:
        await ana.send("hola", chat=coordinators_group)  # the group exists for the bot
    bot = await make_bot(coordinators_chat=coordinators_group, **settings)
    await bot.settle()
    await bot.appoint(ana)
    await bot.appoint(beto)
    for user, entity, name in zip(
        officers,
        ("minsa", "mef", "gobierno regional de cusco"),
        ("Rosa Díaz Paredes", "Raúl Vera Ñique", "Sara Pinto Loza"),
        strict=True,
    ):
        await approved_officer(bot, user, entity, name)
    return Cast(bot, ana, beto, officers, coordinators_group)


async def intake(bot: BotHarness, officer: FakeUser, *, component: str = "7. Canal de Denuncias",
                 topic: str = "¿Cómo registro las denuncias en el canal de mi entidad?",
                 channel: str = "Virtual",
                 availability: str = "martes y jueves por la mañana") -> BotMessage:
    """/solicitar to the end; returns the confirmation with the code."""
    await say(bot, officer, "/solicitar")
    await press(bot, officer, component)
    await say(bot, officer, topic)
    await press(bot, officer, channel)
    await say(bot, officer, availability)
    replies = await press(bot, officer, "✅ Enviar solicitud")
    assert officer.last is not None and "AT-" in officer.last.text, replies
    return officer.last


def code_in(text: str) -> str:
    word = next(w for w in text.replace(".", " ").split() if w.startswith("AT-"))
    return word.strip(".,;:")
