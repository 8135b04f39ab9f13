"""Steps a person takes in Telegram, shared by the integration tests."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from tests.conftest import BotHarness
from tests.fakebot import BotMessage, FakeUser


async def say(bot: BotHarness, user: FakeUser, text: str) -> list[BotMessage]:
    """Send text (or a command) and return the bot messages that arrived for it."""
    before = len(user.messages)
    await user.send(text)
    await bot.settle()
    return user.messages[before:]


async def press(bot: BotHarness, user: FakeUser, label: str,
                message: BotMessage | None = None) -> list[BotMessage]:
    before = len(user.messages)
    await user.press(label, message=message)
    await bot.settle()
    return user.messages[before:]


async def start(bot: BotHarness, user: FakeUser, payload: str | None = None) -> list[BotMessage]:
    before = len(user.messages)
    await user.start(payload)
    await bot.settle()
    return user.messages[before:]


def payload_of(text: str) -> str:
    """The deep-link payload in a message that shows a t.me link."""
    link = next(w for w in text.split() if w.startswith("https://t.me/"))
    return parse_qs(urlparse(link).query)["start"][0]


async def fill_profile(bot: BotHarness, user: FakeUser, name: str = "María Quispe Huamán",
                       position: str = "Jefa de la Oficina de Integridad",
                       email: str | None = "mquispe@entidad.gob.pe",
                       phone: str | None = None) -> None:
    await say(bot, user, name)
    await say(bot, user, position)
    if email:
        await say(bot, user, email)
    else:
        await press(bot, user, "Omitir")
    if phone:
        await say(bot, user, phone)
    else:
        await press(bot, user, "Omitir")


async def register_by_search(bot: BotHarness, user: FakeUser, query: str = "minsa",
                             **profile: str | None) -> list[BotMessage]:
    """/start → consent → typed entity → confirm → profile → submit; returns the last replies."""
    await start(bot, user)
    await press(bot, user, "✅ Acepto")
    await say(bot, user, query)
    await press(bot, user, "✅ Sí, es mi entidad")
    await fill_profile(bot, user, **profile)  # type: ignore[arg-type]
    return await press(bot, user, "✅ Enviar registro")
