"""Coordinators' dialogs: /nueva_sesion (surviving restarts, bad dates, typed entity search),
/difundir (network by typed name, preview, summary), dates typed in many shapes."""

from __future__ import annotations

from datetime import timedelta

from bot.db import utcnow
from bot.models import Session
from tests.conftest import BotFactory
from tests.fakebot import FakeTelegram
from tests.flows import press, say
from tests.test_sessions import finish_broadcasts, new_session, officer, open_card, rows, world

SPANISH_MONTHS = (
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
).split()


async def test_new_session_dialog_survives_restarts(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot, coordinator = await world(fake, make_bot)
    ana, _ = await officer(bot, fake, "minsa", "Ana Salas")
    replies = await say(bot, coordinator, "/nueva_sesion")
    assert "¿Qué tipo de sesión es?" in replies[-1].text
    await press(bot, coordinator, "Sectorial (obligatoria)", message=replies[-1])
    replies = await say(bot, coordinator, "ok")
    assert "entre 3 y 200 caracteres" in replies[0].text and "«ok»" in replies[0].text
    await say(bot, coordinator, "Gestión de riesgos para la Red de Salud")
    for typed, expected in [
        ("31/02 10:00", "no existe"),
        ("31/02", "no existe"),
        ("ayer 10am", "ya pasó"),
    ]:
        replies = await say(bot, coordinator, typed)
        assert expected in replies[0].text and "14/4 10am" in replies[0].text
        assert f"«{typed}»" in replies[0].text
    before = len(coordinator.messages)
    await coordinator.send_sticker()
    await bot.settle()
    assert "¿Cuándo empieza?" in coordinator.messages[-1].text  # asked again, nothing lost
    assert len(coordinator.messages) == before + 2

    await bot.restart()  # nothing typed so far is lost
    start = (utcnow() + timedelta(days=25)).astimezone(bot.s.settings.tz)
    replies = await say(bot, coordinator, f"{start.day} de {SPANISH_MONTHS[start.month - 1]} 10:00")
    assert "¿Cuánto dura?" in replies[-1].text
    replies = await say(bot, coordinator, "diez horas")
    assert "No entendí la duración" in replies[0].text
    await press(bot, coordinator, "1 h 30")  # on the duration question, still there
    replies = coordinator.messages[-1:]
    assert "¿Qué modalidad tiene?" in replies[-1].text
    await press(bot, coordinator, "💻 Virtual", message=replies[-1])
    await say(bot, coordinator, "Sala virtual: https://reuniones.example.gob.pe/riesgos")
    replies = coordinator.messages[-1:]
    assert "¿A quiénes se convocará?" in replies[-1].text
    await press(bot, coordinator, "Una entidad", message=replies[-1])
    replies = await say(bot, coordinator, "minsa")
    summary = replies[-1]
    assert "Revise la nueva sesión" in summary.text
    assert "Gestión de riesgos para la Red de Salud" in summary.text
    assert "Ministerio de Salud" in summary.text and "(1 oficial con Telegram hoy)" in summary.text
    assert "10:00 (hora de Lima), 1 h 30 min" in summary.text

    await bot.restart()  # the summary's button still works after a restart
    await press(bot, coordinator, "✅ Crear sesión", message=summary)
    assert "Sesión creada" in coordinator.fake.message(coordinator.id, summary.message_id).text  # type: ignore[union-attr]
    [session] = await rows(bot, Session)
    assert session.kind == "sectorial" and session.mandatory
    assert session.title == "Gestión de riesgos para la Red de Salud"
    local = session.start_at.astimezone(bot.s.settings.tz)
    assert (local.day, local.month, local.hour) == (start.day, start.month, 10)
    assert session.end_at - session.start_at == timedelta(minutes=90)
    assert session.link == "https://reuniones.example.gob.pe/riesgos"
    assert session.place == "Sala virtual"
    entity = await bot.s.entities.by_code("minsa")
    assert entity is not None and session.audience == {"entities": [entity.id]}
    assert session.created_by == coordinator.id and session.sequence == 0
    assert await bot.s.dialogs.get(coordinator.id) is None
    assert "Convocar" in " ".join(coordinator.last.buttons)  # type: ignore[union-attr]
    assert [m for m in ana.messages if "Convocatoria" in m.body] == []  # nothing sent yet
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


async def test_announcement_to_a_network(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot, coordinator = await world(fake, make_bot)
    ana, _ = await officer(bot, fake, "minsa", "Ana Salas")
    beto, _ = await officer(bot, fake, "minsa", "Beto Rojas")
    mario, _ = await officer(bot, fake, "mef", "Mario Vega")
    replies = await say(bot, coordinator, "/difundir")
    await press(bot, coordinator, "Una red de integridad", message=replies[-1])
    replies = await say(bot, coordinator, "red que no existe xyz")
    assert "No encontré una red" in replies[0].text
    replies = await say(bot, coordinator, "salud")
    assert "Escriba el texto del comunicado" in replies[-1].text
    beto.block_bot()
    await say(bot, coordinator, "El plazo del ICP vence el viernes. Revise sus evidencias.")
    sample, confirm = coordinator.messages[-2:]
    assert "Comunicado de la Secretaría de Integridad Pública" in sample.text
    assert "El plazo del ICP vence el viernes" in sample.text
    assert (
        "Red de Integridad de Salud" in confirm.text and "Se enviará a 2 oficiales" in confirm.text
    )
    await press(bot, coordinator, "✅ Confirmar y enviar", message=confirm)
    await finish_broadcasts(bot)
    assert ana.last.text == sample.text  # type: ignore[union-attr]
    assert not [m for m in mario.messages + beto.messages if "Comunicado" in m.body]
    summary = coordinator.last
    assert summary is not None and "Envío terminado" in summary.text
    assert "Enviados: 1 de 2" in summary.text
    assert "Sin acceso (bloquearon el bot): 1" in summary.text and "Fallidos: 0" in summary.text
    # the confirmation pressed again does not send twice
    record = await coordinator.press_data(
        confirm.button_data("✅ Confirmar y enviar"), confirm.message_id
    )
    await finish_broadcasts(bot)
    assert "ya no está vigente" in (record.answer_text or "")
    assert len([m for m in ana.messages if "Comunicado" in m.body]) == 1
    assert [c.method for c in fake.errors()] == ["sendMessage"]  # the blocked officer
    assert fake.unanswered_callback_queries() == []


async def test_session_list_is_paginated(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot, coordinator = await world(fake, make_bot)
    for n in range(8):
        await new_session(bot, coordinator, title=f"Sesión número {n + 1}", days=3 + n)
    replies = await say(bot, coordinator, "/sesiones")
    listing = replies[-1]
    assert "página 1 de 2" in listing.text and "Sesión número 6" in listing.text
    assert "Sesión número 7" not in listing.text
    assert "Grupal" in listing.text or "grupal" in listing.text
    assert "Siguiente »" in listing.buttons
    await press(bot, coordinator, "Siguiente »", message=listing)
    page = fake.message(coordinator.id, listing.message_id)
    assert page is not None and "página 2 de 2" in page.text
    assert "7. Sesión número 7" in page.text and "Sesión número 1" not in page.text
    await press(bot, coordinator, "8. Sesión número 8", message=page)
    card = fake.message(coordinator.id, listing.message_id)
    assert card is not None and "Sesión número 8" in card.text and "📣 Convocar" in card.buttons
    await press(bot, coordinator, "« Sesiones", message=card)
    assert "página 1 de 2" in fake.message(coordinator.id, listing.message_id).text  # type: ignore[union-attr]
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


async def test_reschedule_reads_many_date_shapes(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot, coordinator = await world(fake, make_bot)
    session = await new_session(bot, coordinator, title="Sesión móvil")
    tz = bot.s.settings.tz
    day = (utcnow() + timedelta(days=12)).astimezone(tz)
    month = SPANISH_MONTHS[day.month - 1]
    shapes = [
        (f"{day.day}/{day.month} 10am", 10, 0),
        (f"{day:%d-%m-%Y} 15:00", 15, 0),
        (f"{day:%Y-%m-%d} 09:30", 9, 30),
        (f"{day.day} de {month} a las 3 pm", 15, 0),
        (f"{day.day}.{day.month} 16h", 16, 0),
    ]
    for sequence, (typed, hour, minute) in enumerate(shapes, start=1):
        card = await open_card(bot, coordinator, "Sesión móvil")
        await press(bot, coordinator, "🔁 Reprogramar", message=card)
        replies = await say(bot, coordinator, typed)
        assert "¿Reprogramar" in replies[-1].text, typed
        await press(bot, coordinator, "✅ Confirmar nueva fecha", message=replies[-1])
        [row] = await rows(bot, Session, Session.id == session.id)
        local = row.start_at.astimezone(tz)
        assert (local.day, local.month, local.hour, local.minute) == (
            day.day,
            day.month,
            hour,
            minute,
        ), typed
        assert row.sequence == sequence
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


async def test_announcement_to_a_level_and_to_an_entity_chosen_among_matches(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot, coordinator = await world(fake, make_bot)
    ana, _ = await officer(bot, fake, "minsa", "Ana Salas")
    rosa, _ = await officer(bot, fake, "gr-cusco", "Rosa Huamán")
    replies = await say(bot, coordinator, "/difundir")
    await press(bot, coordinator, "Un nivel de gobierno", message=replies[-1])
    await press(bot, coordinator, "Gobiernos Regionales")
    await say(bot, coordinator, "Reunión de la red regional.")
    confirm = coordinator.messages[-1]
    assert "Gobiernos Regionales" in confirm.text and "Se enviará a 1 oficial." in confirm.text
    await press(bot, coordinator, "✅ Confirmar y enviar", message=confirm)
    await finish_broadcasts(bot)
    assert "Reunión de la red regional." in rosa.last.text  # type: ignore[union-attr]
    assert not [m for m in ana.messages if "Comunicado" in m.body]

    replies = await say(bot, coordinator, "/difundir")
    await press(bot, coordinator, "Una entidad", message=replies[-1])
    replies = await say(bot, coordinator, "zzzz qqqq")
    assert "No encontré una entidad" in replies[0].text
    replies = await say(bot, coordinator, "ministerio")
    assert "Encontré varias entidades" in replies[-1].text
    await press(bot, coordinator, "Ministerio de Defensa", message=replies[-1])
    await say(bot, coordinator, "Solo para Defensa.")
    confirm = coordinator.messages[-1]
    assert "Ministerio de Defensa" in confirm.text
    assert "no tiene oficiales aprobados" in confirm.text
    await press(bot, coordinator, "Cancelar", message=confirm)
    assert "no se envió el comunicado" in fake.message(coordinator.id, confirm.message_id).text  # type: ignore[union-attr]
    await finish_broadcasts(bot)
    assert not [m for m in ana.messages if "Comunicado" in m.body]
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []
