"""Every entry of each role's reply keyboard leads to its action, never to the FAQ."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.models import FaqQuestion
from tests.assistance_flows import cast
from tests.conftest import BotFactory
from tests.fakebot import FakeTelegram
from tests.flows import say


@pytest.mark.parametrize("role", ["officer", "coordinator", "admin"])
async def test_each_keyboard_entry_is_an_action(
    fake: FakeTelegram, make_bot: BotFactory, role: str
) -> None:
    admin = fake.user("Adela", last_name="Admin")
    await admin.send("/ayuda")
    crew = await cast(fake, make_bot, group=False, admins=[admin])
    user = {"officer": crew.officers[0], "coordinator": crew.ana, "admin": admin}[role]
    [menu, *_] = await say(crew.bot, user, "/menu")
    labels = [label for label in menu.keyboard]
    assert len(labels) >= 8, labels
    for label in labels:
        replies = await say(crew.bot, user, label)
        assert replies, f"{label!r} got no reply"
        await say(crew.bot, user, "/cancelar")  # leave any dialog the entry opened
        async with crew.bot.s.db.session() as s:
            asked = (await s.execute(select(func.count()).select_from(FaqQuestion))).scalar()
        assert asked == 0, f"{label!r} was taken as a question to the FAQ"
