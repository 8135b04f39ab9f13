"""Coordinators edit a session's title and topics from its card ("✏️ Título y temas"): the
dialog, its bad inputs, the confirmation, the personal feed that follows (same UID and
SEQUENCE), forged and stale presses; through the real bot and the fake Bot API, on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.db import utcnow
from bot.models import Session, SessionStatus
from bot.services import Services
from bot.sessions import (
    Outcome,
    SessionDraft,
    TitleTopics,
    TitleTopicsError,
    parse_title_topics,
)
from tests.conftest import BotFactory
from tests.fakebot import BotMessage, FakeTelegram
from tests.flows import press, say
from tests.test_feeds import events, link_of, serve_http
from tests.test_sessions import (
    convene,
    finish_broadcasts,
    new_session,
    officer,
    open_card,
    rows,
    world,
)

BUTTON = "✏️ Título y temas"
SAVE = "✅ Guardar"
NEW_TEXT = (
    "Uso del Sistema ICP para la Etapa 2\n"
    "• Registro de evidencias en el sistema\n"
    "- Plazos de la Etapa 2\n"
    "3. Consultas frecuentes"
)
NEW_TOPICS = [
    "Registro de evidencias en el sistema",
    "Plazos de la Etapa 2",
    "Consultas frecuentes",
]


def copied(prompt: BotMessage) -> str:
    """The current title and topics as the prompt shows them, ready to copy."""
    text = prompt.text or ""
    return text.split("editarlo y enviarlo:", 1)[1].split("El título puede tener", 1)[0].strip()


# ---------------------------------------------------------------- parsing (no Telegram)


def test_parsing_the_typed_title_and_topics() -> None:
    typed = (
        "  Nuevo   título \n\n• Uno\n- Dos\n* Tres\n1. Cuatro\n2) Cinco\n3.- Seis\n4 - Siete\n"
        "1.5 horas de práctica\n   \n–Ocho\n"
    )
    parsed = parse_title_topics(typed)
    assert parsed.ok and parsed.title == "Nuevo título"
    assert parsed.topics == [
        "Uno", "Dos", "Tres", "Cuatro", "Cinco", "Seis", "Siete", "1.5 horas de práctica", "Ocho"
    ]
    assert parse_title_topics("Solo el título").topics == []
    assert parse_title_topics("T\n•\n- \n").topics == []  # bullets alone are no topics
    for typed, error in [
        ("", TitleTopicsError.EMPTY),
        (" \n \t\n", TitleTopicsError.EMPTY),
        ("• Un tema\n• Otro tema", TitleTopicsError.NO_TITLE),
        ("x" * 301, TitleTopicsError.TITLE_LONG),
        ("T\n" + "\n".join(f"- tema {n}" for n in range(13)), TitleTopicsError.TOO_MANY),
        ("T\n- corto\n- " + "a" * 201, TitleTopicsError.TOPIC_LONG),
        ("T\n" + "\n".join("- " + "b" * 190 for _ in range(8)), TitleTopicsError.TOO_LONG),
    ]:
        assert parse_title_topics(typed).error is error, typed
    assert parse_title_topics("x" * 300).ok
    assert parse_title_topics("T\n" + "\n".join(f"- tema {n}" for n in range(12))).ok
    long_topic = parse_title_topics("T\n- corto\n- " + "a" * 201)
    assert (long_topic.number, long_topic.length) == (2, 201)
    # a long topic the session already has (the yearly plan's) may be sent back as it is
    assert parse_title_topics("T\n- " + "a" * 201, keep=["a" * 201]).ok


# ---------------------------------------------------------------- the whole flow


async def test_a_coordinator_edits_title_and_topics_and_the_feed_follows(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot, coordinator = await world(fake, make_bot)
    ana, ana_id = await officer(bot, fake, "minsa", "Ana Salas")
    session = await new_session(bot, coordinator, title="Uso del Sistema ICP")
    await convene(bot, coordinator, "Uso del Sistema ICP")
    [before_row] = await rows(bot, Session, Session.id == session.id)
    path = await link_of(bot.s, ana_id)
    async for http in serve_http(bot.s):
        before = await http.get(path)
        assert before.status_code == 200
        old = events(before.content)[session.uid]
        assert str(old["SUMMARY"]) == "Uso del Sistema ICP"
        assert "Etapas de la evaluación" in str(old["DESCRIPTION"])

        card = await open_card(bot, coordinator, "Uso del Sistema ICP")
        assert BUTTON in card.buttons
        prompt = (await press(bot, coordinator, BUTTON, message=card))[-1]
        assert "Cambiar el título y los temas de «Uso del Sistema ICP»" in prompt.text
        assert copied(prompt) == "Uso del Sistema ICP\n• Etapas de la evaluación\n• Evidencias"
        assert any(e["type"] == "pre" for e in prompt.entities)  # one tap copies it

        confirm = (await say(bot, coordinator, NEW_TEXT))[-1]
        assert "¿Guardar el nuevo título y los temas?" in confirm.text
        assert "Título: Uso del Sistema ICP para la Etapa 2" in confirm.text
        for topic in NEW_TOPICS:
            assert f"• {topic}" in confirm.text
        assert "Antes: «Uso del Sistema ICP», con 2 temas." in confirm.text
        assert (
            "No se avisará a los invitados; los calendarios suscritos se actualizarán solos."
            in confirm.text
        )
        assert confirm.buttons == [SAVE, "Cancelar"]
        officer_messages = len(ana.messages)

        replies = await press(bot, coordinator, SAVE, message=confirm)
        await finish_broadcasts(bot)
        done = fake.message(coordinator.id, confirm.message_id)
        assert done is not None and "Título y temas actualizados" in (done.text or "")
        assert done.buttons == []  # the confirmation cannot be pressed again
        fresh = replies[-1]  # the card again, with the new values and its buttons
        assert "Uso del Sistema ICP para la Etapa 2" in fresh.text
        assert "• Registro de evidencias en el sistema" in fresh.text
        assert "Etapas de la evaluación" not in fresh.text
        assert BUTTON in fresh.buttons and "📣 Convocar" in fresh.buttons
        assert len(ana.messages) == officer_messages  # invitees are not messaged

        [row] = await rows(bot, Session, Session.id == session.id)
        assert row.title == "Uso del Sistema ICP para la Etapa 2" and row.topics == NEW_TOPICS
        assert row.sequence == before_row.sequence == 0  # SUMMARY/DESCRIPTION: minor changes
        assert row.edited_by == coordinator.id and row.updated_at > before_row.updated_at
        assert await bot.s.dialogs.get(coordinator.id) is None

        after = await http.get(path, **{"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
        new = events(after.content)[session.uid]
        assert str(new["UID"]) == str(old["UID"]) == session.uid
        assert int(new["SEQUENCE"]) == int(old["SEQUENCE"]) == 0
        assert str(new["SUMMARY"]) == "Uso del Sistema ICP para la Etapa 2"
        description = str(new["DESCRIPTION"])
        assert all(f"- {topic}" in description for topic in NEW_TOPICS)
        assert "Etapas de la evaluación" not in description
        assert new["DTSTAMP"].dt > old["DTSTAMP"].dt
        assert new["LAST-MODIFIED"].dt == row.updated_at.replace(microsecond=0)
        assert new["DTSTART"].dt == old["DTSTART"].dt

        # sending the same values back: nothing to save, nothing changes
        card = await open_card(bot, coordinator, "Uso del Sistema ICP para la Etapa 2")
        prompt = (await press(bot, coordinator, BUTTON, message=card))[-1]
        replies = await say(bot, coordinator, copied(prompt))
        assert "No hubo cambios: el título y los temas son los mismos." in replies[-1].text
        [same] = await rows(bot, Session, Session.id == session.id)
        assert same.updated_at == row.updated_at
        assert await bot.s.dialogs.get(coordinator.id) is None
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


async def test_bad_input_is_answered_and_nothing_is_lost(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot, coordinator = await world(fake, make_bot)
    session = await new_session(bot, coordinator, title="Sesión con temas")
    card = await open_card(bot, coordinator, "Sesión con temas")
    await press(bot, coordinator, BUTTON, message=card)
    thirteen = "Título\n" + "\n".join(f"• Tema número {n}" for n in range(1, 14))
    long_topic = "Título\n- Un tema corto\n- " + "Un tema muy largo " * 12
    for typed, expected in [
        ("   ", "El mensaje no tiene texto"),
        ("• Tema sin título\n• Otro tema", "falta el título"),
        ("Título " * 50, "El título tiene 349 caracteres y el máximo es 300"),
        (thirteen, "Escribió 13 temas y el máximo es 12"),
        (long_topic, "El tema 2 tiene 215 caracteres y el máximo es 200 por tema"),
    ]:
        replies = await say(bot, coordinator, typed)
        assert len(replies) == 1, typed
        assert expected in replies[0].text, typed
        if typed.strip():
            shown = replies[0].text.split("Recibí:", 1)[1]
            assert typed.strip().splitlines()[-1].strip() in shown, typed  # repeated to copy
        assert "/cancelar" in replies[0].text
        dialog = await bot.s.dialogs.get(coordinator.id)
        assert dialog is not None and dialog.flow == "ses_topics" and dialog.step == "text"
    # a sticker: the question again
    await coordinator.send_sticker()
    await bot.settle()
    assert "Cambiar el título y los temas" in coordinator.last.text  # type: ignore[union-attr]
    # after a mistake the right text still works; typed again at the confirmation, it replaces
    confirm = (await say(bot, coordinator, "Título corregido\n- Tema A"))[-1]
    assert "• Tema A" in confirm.text
    confirm = (await say(bot, coordinator, "Título corregido otra vez\n- Tema B"))[-1]
    assert "Título corregido otra vez" in confirm.text and "• Tema B" in confirm.text
    await press(bot, coordinator, SAVE, message=confirm)
    [row] = await rows(bot, Session, Session.id == session.id)
    assert (row.title, row.topics) == ("Título corregido otra vez", ["Tema B"])

    # /cancelar leaves the dialog; "Cancelar" on the confirmation too
    card = await open_card(bot, coordinator, "Título corregido otra vez")
    await press(bot, coordinator, BUTTON, message=card)
    replies = await say(bot, coordinator, "/cancelar")
    assert "cancelé el paso en curso" in replies[0].text
    assert await bot.s.dialogs.get(coordinator.id) is None
    replies = await say(bot, coordinator, "Esto ya no es un título")
    assert "¿Guardar" not in replies[-1].text
    card = await open_card(bot, coordinator, "Título corregido otra vez")
    await press(bot, coordinator, BUTTON, message=card)
    confirm = (await say(bot, coordinator, "Otro título\n- Otro tema"))[-1]
    await press(bot, coordinator, "Cancelar", message=confirm)
    assert "no se cambió nada" in (fake.message(coordinator.id, confirm.message_id).text or "")  # type: ignore[union-attr]
    assert await bot.s.dialogs.get(coordinator.id) is None
    record = await coordinator.press_data(confirm.button_data(SAVE), confirm.message_id)
    await bot.settle()
    assert record.alert and "ya no está vigente" in (record.answer_text or "")
    [same] = await rows(bot, Session, Session.id == session.id)
    assert (same.title, same.topics, same.updated_at) == (row.title, row.topics, row.updated_at)
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


# ---------------------------------------------------------------- refusals


async def test_officers_forging_the_buttons_are_refused(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot, coordinator = await world(fake, make_bot)
    ana, _ = await officer(bot, fake, "minsa", "Ana Salas")
    session = await new_session(bot, coordinator, title="Sesión protegida")
    own = ana.last.message_id  # type: ignore[union-attr]
    for data in (f"sc:tt:{session.id}", f"sc:ttok:{session.id}"):
        record = await ana.press_data(data, own)
        await bot.settle()
        assert record.answered and record.alert, data
        assert "solo para coordinadores" in (record.answer_text or ""), data
    assert await bot.s.dialogs.get(ana.id) is None

    # a coordinator removed in the middle of the dialog: the typed text is refused
    card = await open_card(bot, coordinator, "Sesión protegida")
    await press(bot, coordinator, BUTTON, message=card)
    [appointed] = await bot.s.roles.coordinators()
    await bot.s.roles.remove(appointed.id or 0)
    replies = await say(bot, coordinator, "Título de alguien sin permiso\n- Tema")
    assert "solo para" in replies[0].text
    assert await bot.s.dialogs.get(coordinator.id) is None
    [row] = await rows(bot, Session, Session.id == session.id)
    assert row.title == "Sesión protegida" and row.edited_by == coordinator.id
    assert row.updated_at == session.updated_at
    assert fake.unanswered_callback_queries() == []


async def test_stale_confirmations_are_refused(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot, coordinator = await world(fake, make_bot)
    other = fake.user("Omar", last_name="Otro")
    await bot.appoint(other)
    await say(bot, other, "/menu")
    await new_session(bot, coordinator, title="Sesión disputada")

    # edited by someone else between the prompt and the confirmation
    card = await open_card(bot, coordinator, "Sesión disputada")
    await press(bot, coordinator, BUTTON, message=card)
    confirm = (await say(bot, coordinator, "Título de Carla\n- Tema de Carla"))[-1]
    other_card = await open_card(bot, other, "Sesión disputada")
    await press(bot, other, BUTTON, message=other_card)
    other_confirm = (await say(bot, other, "Título de Omar\n- Tema de Omar"))[-1]
    await press(bot, other, SAVE, message=other_confirm)
    record = await coordinator.press_data(confirm.button_data(SAVE), confirm.message_id)
    await bot.settle()
    assert record.alert and "ya no está vigente" in (record.answer_text or "")
    refused = fake.message(coordinator.id, confirm.message_id)
    assert refused is not None and "Otra persona cambió esa sesión" in (refused.text or "")
    assert "Título de Carla\n• Tema de Carla" in (refused.text or "")  # what they typed, kept
    assert refused.buttons == []
    [row] = await rows(bot, Session, Session.title == "Título de Omar")
    assert row.topics == ["Tema de Omar"] and row.edited_by == other.id
    assert await bot.s.dialogs.get(coordinator.id) is None

    # a reschedule by someone else counts too; here seen when the text arrives
    card = await open_card(bot, coordinator, "Título de Omar")
    await press(bot, coordinator, BUTTON, message=card)
    await bot.s.sessions.reschedule(row.id or 0, row.start_at + timedelta(days=1), by=other.id)
    replies = await say(bot, coordinator, "Título de Carla\n- Tema de Carla")
    assert "Otra persona cambió esa sesión" in replies[-1].text
    assert "Título de Carla\n• Tema de Carla" in replies[-1].text
    assert await bot.s.dialogs.get(coordinator.id) is None

    # cancelled between the prompt and the confirmation
    card = await open_card(bot, coordinator, "Título de Omar")
    await press(bot, coordinator, BUTTON, message=card)
    confirm = (await say(bot, coordinator, "Título tardío\n- Tema"))[-1]
    await bot.s.sessions.cancel(row.id or 0, by=other.id)
    record = await coordinator.press_data(confirm.button_data(SAVE), confirm.message_id)
    await bot.settle()
    assert record.alert and "cancelada" in (record.answer_text or "")
    [gone] = await rows(bot, Session, Session.id == row.id)
    assert gone.status == SessionStatus.CANCELLED and gone.title == "Título de Omar"
    card = await open_card(bot, coordinator, "Título de Omar")
    assert BUTTON not in card.buttons  # a cancelled session's card does not offer it
    record = await coordinator.press_data(f"sc:tt:{row.id}", card.message_id)
    await bot.settle()
    assert record.alert and "cancelada" in (record.answer_text or "")

    # ended between the prompt and the confirmation
    ending = await new_session(bot, coordinator, title="Sesión que termina")
    card = await open_card(bot, coordinator, "Sesión que termina")
    await press(bot, coordinator, BUTTON, message=card)
    confirm = (await say(bot, coordinator, "Título sin tiempo\n- Tema"))[-1]
    await bot.s.sessions.reschedule(ending.id or 0, utcnow() - timedelta(hours=3), by=other.id)
    record = await coordinator.press_data(confirm.button_data(SAVE), confirm.message_id)
    await bot.settle()
    assert record.alert and "ya pasó" in (record.answer_text or "")
    [ended] = await rows(bot, Session, Session.id == ending.id)
    assert ended.title == "Sesión que termina"
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


async def test_individual_meetings_are_not_edited_here(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot, coordinator = await world(fake, make_bot)
    meeting = await new_session(bot, coordinator, kind="individual", title="Reunión con MINSA")
    replies = await say(bot, coordinator, "/sesiones")
    assert "Reunión con MINSA" not in replies[-1].text  # not listed: no card, no button
    record = await coordinator.press_data(f"sc:tt:{meeting.id}", replies[-1].message_id)
    await bot.settle()
    assert record.alert and "ya no está vigente" in (record.answer_text or "")
    assert await bot.s.dialogs.get(coordinator.id) is None
    assert fake.unanswered_callback_queries() == []


# ---------------------------------------------------------------- the service


async def test_two_saves_at_once_only_one_wins(services: Services) -> None:
    start = (utcnow() + timedelta(days=10)).replace(microsecond=0)
    session = await services.sessions.create(
        SessionDraft(
            kind="grupal",
            title="Sesión en carrera",
            start_at=start,
            end_at=start + timedelta(hours=2),
            topics=["Uno"],
        ),
        by=1,
    )
    seen = session.updated_at
    edits = [TitleTopics(f"Título {n}", [f"Tema {n}"]) for n in (1, 2)]
    done = await asyncio.gather(
        *(
            services.sessions.edit_title_topics(session.id or 0, e, expected=seen, by=n)
            for n, e in enumerate(edits, start=1)
        )
    )
    assert sorted(c.outcome.value for c in done) == ["done", "stale"]
    row = await services.sessions.get(session.id or 0)
    assert row is not None and row.sequence == 0
    winner = next(c for c in done if c.outcome is Outcome.DONE)
    assert winner.session is not None and (row.title, row.topics) == (
        winner.session.title,
        winner.session.topics,
    )
    # the same values again: nothing written; an old version: refused
    again = await services.sessions.edit_title_topics(
        session.id or 0, TitleTopics(row.title, list(row.topics)), expected=row.updated_at, by=3
    )
    assert again.outcome is Outcome.UNCHANGED
    late = await services.sessions.check_title_topics(
        session.id or 0, TitleTopics("Otro", []), expected=seen
    )
    assert late.outcome is Outcome.STALE
    assert (await services.sessions.get(session.id or 0)).updated_at == row.updated_at  # type: ignore[union-attr]
