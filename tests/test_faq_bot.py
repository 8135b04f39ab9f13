"""Officers' questions through the real bot: answers, suggestions, hand-off, feedback, inline
mode, the ICP calculator and /brechas; on SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

from bot.models import FaqQuestion
from bot.roles import Role
from bot.settings import DEFAULT_CONTENT_DIR
from tests.conftest import BotFactory, BotHarness
from tests.fakebot import FakeTelegram, FakeUser
from tests.flows import press, register_by_search, say

OFF_TOPIC = "quien gano el partido de futbol anoche"


async def _officer(
    bot: BotHarness, fake: FakeTelegram, admin: FakeUser, entity: str = "minsa"
) -> FakeUser:
    officer = fake.user("Oficial")
    await register_by_search(bot, officer, entity, name="Olga Paredes Ruiz")
    await press(bot, admin, "✅ Aprobar", message=admin.last)
    assert await bot.role(officer) is Role.OFFICER
    return officer


async def _setup(
    fake: FakeTelegram, make_bot: BotFactory, **kw: object
) -> tuple[BotHarness, FakeUser, FakeUser]:
    admin = fake.user("Admin")
    await admin.send("/start")
    bot = await make_bot(admins=[admin], **kw)
    await bot.settle()
    return bot, admin, await _officer(bot, fake, admin)


async def _questions(bot: BotHarness) -> list[FaqQuestion]:
    async with bot.s.db.session() as session:
        return list((await session.execute(select(FaqQuestion).order_by(FaqQuestion.id))).scalars())


def _query_with_band(bot: BotHarness, band: str, candidates: list[str]) -> str:
    for text in candidates:
        if bot.s.faq.search(text).band == band:
            return text
    raise AssertionError(f"none of the candidates lands in band {band}")


async def test_question_answered_and_feedback_stored(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot, _admin, officer = await _setup(fake, make_bot)
    entry = next(e for e in bot.s.faq.knowledge.entries.values() if not e.generated)
    replies = await say(bot, officer, entry.question.lower().strip("¿?"))
    answer = replies[-1]
    assert entry.question in answer.text and "Fuente:" in answer.text
    assert answer.buttons == ["👍 Sí", "👎 No"]
    await press(bot, officer, "👎 No", message=answer)
    [row] = await _questions(bot)
    assert row.band == "answer" and row.entry_id == entry.id and row.helpful is False
    assert row.telegram_user_id == officer.id
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


async def test_suggestions_pressed(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot, _admin, officer = await _setup(fake, make_bot)
    text = _query_with_band(
        bot,
        "suggest",
        [
            "etapa",
            "guia",
            "componentes",
            "sistema",
            "capacitacion",
            "asistencia",
            "red de integridad",
            "formatos",
            "directiva",
            "evaluacion",
        ],
    )
    replies = await say(bot, officer, text)
    suggestion = replies[-1]
    assert "¿Se refiere" in suggestion.text and 2 <= len(suggestion.buttons) <= 4
    first = suggestion.buttons[0]
    await press(bot, officer, first, message=suggestion)
    shown = officer.messages[-1]
    assert "Fuente:" in shown.text
    [row] = await _questions(bot)
    assert row.band == "suggest" and row.entry_id is not None
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


async def test_fallback_hand_off_and_pending_list(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot, admin, officer = await _setup(fake, make_bot)
    replies = await say(bot, officer, OFF_TOPIC)
    assert "No encontré una respuesta" in replies[-1].text
    await press(bot, officer, "🙋 Pedir asistencia a la SIP")
    assert OFF_TOPIC in officer.last.text
    [row] = await _questions(bot)
    assert row.band == "fallback" and row.handed_off
    listing = await say(bot, admin, "/faq_pendientes")
    assert OFF_TOPIC in listing[-1].text and "pidió asistencia" in listing[-1].text
    refused = await say(bot, officer, "/faq_pendientes")
    assert "solo para coordinadores" in refused[-1].text
    # someone else's question cannot be rated or handed off
    intruder = fake.user("Intruso")
    record = await intruder.press_data(f"fq:y:{row.id}", officer.last.message_id)
    await bot.settle()
    assert record.answered
    [row] = await _questions(bot)
    assert row.helpful is None


async def test_bad_input_gets_a_sensible_reply(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot, _admin, officer = await _setup(fake, make_bot)
    for text in [
        "?",
        "a",
        "😀😀😀",
        "!!!???...",
        "x" * 4000,
        "<b>hola</b> & '; DROP TABLE x; --",
        "what is the ICP score of my entity please",
        OFF_TOPIC,
    ]:
        replies = await say(bot, officer, text)
        assert replies, text
    assert fake.errors() == []
    assert await bot.role(officer) is Role.OFFICER


async def test_inline_query_answered(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot, _admin, officer = await _setup(fake, make_bot)
    entry = next(e for e in bot.s.faq.knowledge.entries.values() if not e.generated)
    record = await officer.inline_query(entry.question)
    await bot.settle()
    assert record.answered and record.results
    assert entry.question[:100] in [r["title"] for r in record.results]
    empty = await officer.inline_query(OFF_TOPIC)
    await bot.settle()
    assert empty.answered and empty.results == []
    rated = await officer.inline_query("etapa 2 con 1.75")  # the calculator, ready to share
    await bot.settle()
    assert rated.answered and rated.results
    first = rated.results[0]
    assert first["title"] == "Etapa 2, puntaje 1.75: Aceptable"
    assert "Aceptable" in first["input_message_content"]["message_text"]
    # then the entries on that rating and on the scale, to share as well
    titles = [r["title"] for r in rated.results[1:]]
    assert titles[:2] == [
        bot.s.faq.knowledge.entries[i].question[:100] for i in ("icp-aceptable", "icp-escala")
    ]
    assert fake.errors() == []


async def test_icp_calculator(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot, _admin, officer = await _setup(fake, make_bot)
    replies = await say(bot, officer, "/icp 2 1.75")
    assert "Aceptable" in replies[-1].text and "1.90" in replies[-1].text
    replies = await say(bot, officer, "/icp 2 1,895")
    assert "Apto" in replies[-1].text and "etapa 3" in replies[-1].text
    replies = await say(bot, officer, "/icp 7 1")
    assert "del 1 al 5" in replies[-1].text
    replies = await say(bot, officer, "/icp 2 2.5")
    assert "entre 1.00 y 2.00" in replies[-1].text
    await say(bot, officer, "/icp")
    await press(bot, officer, "Etapa 1")
    replies = await say(bot, officer, "cero coma ocho")
    assert "debe estar entre 0.00 y 1.00" in replies[-1].text
    replies = await say(bot, officer, "0.8")
    assert "Aceptable" in replies[-1].text
    replies = await say(bot, officer, "saque 1.75 en la etapa 2, que calificacion es")
    assert "Aceptable" in replies[-1].text
    assert fake.errors() == []


async def test_gaps_of_own_network_and_any_network_for_coordinators(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot, admin, officer = await _setup(fake, make_bot)
    replies = await say(bot, officer, "/brechas")
    text = replies[-1].text
    assert "Red de Integridad de Salud" in text and "0.42" in text
    replies = await say(bot, admin, "/brechas gore cusco")
    assert "Gobierno Regional de Cusco" in replies[-1].text
    replies = await say(bot, admin, "/brechas")
    replies = await say(bot, admin, "educacion")
    assert "Red de Integridad de Educación" in replies[-1].text
    replies = await say(bot, admin, "/brechas marte")
    assert "No encontré una red" in replies[-1].text
    replies = await say(bot, officer, "/brechas gore cusco")  # officers see their own network
    assert "Red de Integridad de Salud" in replies[-1].text
    # asked in words about "mi red", the answer is followed by the officer's own network
    replies = await say(bot, officer, "q componentes debe mejorar mi red")
    assert "/brechas" in replies[0].text
    assert "Red de Integridad de Salud" in replies[-1].text and "0.42" in replies[-1].text
    # a coordinator asking the same gets the answer alone (they have no network of their own)
    replies = await say(bot, admin, "q componentes debe mejorar mi red")
    assert "/brechas" in replies[-1].text and "Red de Integridad de Salud" not in replies[-1].text


async def test_reload_keeps_old_content_on_a_bad_file(
    fake: FakeTelegram, make_bot: BotFactory, tmp_path: Path
) -> None:
    content = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, content)
    bot, admin, officer = await _setup(fake, make_bot, content_dir=content)
    before = len(bot.s.faq.knowledge.entries)
    faq_file = sorted((content / "faq").glob("*.yaml"))[0]
    good = faq_file.read_text(encoding="utf-8")
    faq_file.write_text(good + "\n  - id: roto\n    question: [sin cerrar\n", encoding="utf-8")
    replies = await say(bot, admin, "/recargar")
    assert "No recargué" in replies[-1].text and faq_file.name in replies[-1].text
    assert len(bot.s.faq.knowledge.entries) == before
    faq_file.write_text(good, encoding="utf-8")
    replies = await say(bot, admin, "/recargar")
    assert "Contenido recargado" in replies[-1].text
    refused = await say(bot, officer, "/recargar")
    assert "solo para administradores" in refused[-1].text


async def test_leaving_detaches_questions(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot, _admin, officer = await _setup(fake, make_bot)
    await say(bot, officer, OFF_TOPIC)
    await say(bot, officer, "/baja")
    await press(bot, officer, "Sí, eliminar mis datos")
    [row] = await _questions(bot)
    assert row.telegram_user_id is None  # the text stays for review, no longer linked to anyone
    replies = await say(bot, officer, "que es el icp")
    assert "/start" in replies[-1].text  # no longer registered: no answering
