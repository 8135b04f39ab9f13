"""Assistance requests through the real bot: restart mid-intake, the concurrent Tomar, refusals
(forged presses of every triage button), bad input, the FAQ hand-off, requests recorded by
coordinators, /solicitudes, the export in chat and an officer who left; SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import openpyxl
from sqlalchemy import select, update

from bot.db import utcnow
from bot.models import AssistanceRequest, Delivery, FaqQuestion
from scheduling.broadcast import engine_of
from tests.assistance_flows import approved_officer, cast, code_in, intake
from tests.conftest import BotFactory, BotHarness
from tests.fakebot import FakeTelegram
from tests.flows import press, say

LIMA = ZoneInfo("America/Lima")


async def idle(bot: BotHarness) -> None:
    await bot.settle()
    await engine_of(bot.app).wait_idle()
    await bot.settle()


async def _request(bot: BotHarness, code: str) -> AssistanceRequest:
    async with bot.s.db.session() as s:
        return (await s.execute(select(AssistanceRequest).where(
            AssistanceRequest.code == code))).scalar_one()


async def test_restart_in_the_middle_of_an_intake(fake: FakeTelegram, make_bot: BotFactory) -> None:
    c = await cast(fake, make_bot, group=False)
    bot, rosa = c.bot, c.officers[0]
    await say(bot, rosa, "/solicitar")
    replies = await press(bot, rosa, "3. Políticas de Integridad")
    assert "Escriba la consulta" in replies[-1].text and "2000" in replies[-1].text
    await say(bot, rosa, "¿Quién aprueba la política de integridad?")
    await bot.restart()
    replies = await press(bot, rosa, "Llamada telefónica")
    assert "disponibilidad" in replies[-1].text
    await bot.restart()
    replies = await say(bot, rosa, "/solicitar")  # asked again after the restart: resumes
    assert "la retomamos" in replies[0].text and "disponibilidad" in replies[-1].text
    replies = await say(bot, rosa, "lunes de 9 a 11")
    summary = replies[-1]
    assert "Políticas de Integridad" in summary.text and "Llamada telefónica" in summary.text
    assert "¿Quién aprueba la política de integridad?" in summary.text
    # edit the topic from the summary, then send
    await press(bot, rosa, "✏️ Consulta")
    replies = await say(bot, rosa, "¿Quién aprueba la política de integridad institucional?")
    assert "institucional" in replies[-1].text and "Revise su solicitud" in replies[-1].text
    await press(bot, rosa, "✅ Enviar solicitud")
    await idle(bot)
    code = code_in(rosa.last.text)
    request = await _request(bot, code)
    assert request.component == 3 and request.channel == "llamada"
    assert request.availability == "lunes de 9 a 11" and request.source == "bot"
    assert request.topic.endswith("institucional?")
    # with no coordinators' group, each coordinator (and admin) got the card privately
    for coordinator in (c.ana, c.beto):
        assert code in coordinator.last.text and "🙋 Tomar" in coordinator.last.buttons
    # /cancelar at any point
    await say(bot, rosa, "/solicitar")
    await press(bot, rosa, "Otro tema")
    replies = await say(bot, rosa, "/cancelar")
    assert "cancelé" in replies[0].text
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


async def test_concurrent_tomar_in_the_group(fake: FakeTelegram, make_bot: BotFactory) -> None:
    c = await cast(fake, make_bot)
    bot, group = c.bot, c.group
    assert group is not None
    await intake(bot, c.officers[1])
    await idle(bot)
    card = group.last
    assert card is not None
    data = card.button_data("🙋 Tomar")
    await asyncio.gather(c.ana.press_data(data, card.message_id, chat=group),
                         c.beto.press_data(data, card.message_id, chat=group))
    await idle(bot)
    answers = {q.user_id: q.answer_text or "" for q in fake.callback_queries()}
    winners = [u for u, text in answers.items() if "a su cargo" in text and "ya" not in text]
    losers = [u for u, text in answers.items() if "ya la tomó" in text]
    assert len(winners) == 1 and len(losers) == 1
    winner = c.ana if winners[0] == c.ana.id else c.beto
    assert winner.full_name in answers[losers[0]]
    request = await _request(bot, code_in(card.text))
    assert request.assignee_telegram_id == winner.id and request.version == 1
    told = [m for m in c.officers[1].messages if m.text and "fue asignada" in m.text]
    assert len(told) == 1  # the officer hears once
    # a coordinator who never opened the private chat is asked to, and nothing is half-open
    carla = fake.user("Carla", last_name="Nueva")
    await bot.appoint(carla)
    record = await carla.press_data(card.button_data("💬 Responder"), card.message_id,
                                    chat=group)
    await idle(bot)
    assert record.alert and "Abra el chat privado" in (record.answer_text or "")
    assert await bot.s.dialogs.get(carla.id) is None
    assert fake.unanswered_callback_queries() == []


async def test_non_coordinators_are_refused(fake: FakeTelegram, make_bot: BotFactory) -> None:
    c = await cast(fake, make_bot)
    bot, rosa, raul = c.bot, c.officers[0], c.officers[1]
    await intake(bot, rosa)
    await idle(bot)
    code = code_in(rosa.last.text)
    request = await _request(bot, code)
    guest = fake.user("Intruso")
    for user in (raul, guest):
        for command in ("/solicitudes", "/solicitudes todas", "/registrar_solicitud minsa",
                        "/exportar_solicitudes 2026"):
            replies = await say(bot, user, command)
            assert replies and "solo para coordinadores" in replies[0].text, (user, command)
    rid = request.id
    forged = [f"rq:take:{rid}", f"rq:sched:{rid}", f"rq:ans:{rid}", f"rq:wait:{rid}",
              f"rq:close:{rid}", f"rq:reopen:{rid}", f"rq:hist:{rid}", f"rq:view:{rid}",
              f"rq:canned:{rid}:0", f"rq:send:{rid}", f"rq:mod:{rid}:virtual",
              f"rq:skipw:{rid}", f"rq:cut:{rid}", "rl:todas:0", "rl:abiertas:1"]
    own = raul.last.message_id
    for data in forged:
        record = await raul.press_data(data, own)
        await bot.settle()
        assert record.answered and "solo para coordinadores" in (record.answer_text or ""), data
        assert code not in (raul.last.text or ""), data
    # the officer who owns it cannot triage it either
    record = await rosa.press_data(f"rq:close:{rid}", rosa.last.message_id)
    await bot.settle()
    assert "solo para coordinadores" in (record.answer_text or "")
    # a coordinator removed later loses the buttons at once, and a half-typed answer with them
    await c.beto.press_data(f"rq:ans:{rid}", c.beto.last.message_id)
    await bot.settle()
    assert "Escriba la respuesta" in c.beto.last.text
    coordinators = await bot.s.roles.coordinators()
    beto_row = next(x for x in coordinators if x.telegram_user_id == c.beto.id)
    await bot.s.roles.remove(beto_row.id or 0)
    record = await c.beto.press_data(f"rq:take:{rid}", c.beto.last.message_id)
    await bot.settle()
    assert "solo para coordinadores" in (record.answer_text or "")
    replies = await say(bot, c.beto, "Una respuesta que ya no puede enviar.")
    assert "solo para coordinadores" in replies[0].text
    unchanged = await _request(bot, code)
    assert unchanged.version == 0 and unchanged.status == "new"
    # another officer's request by code: the same answer as an unknown code
    other = await say(bot, raul, f"/solicitud {code}")
    year = code.split("-")[1]
    unknown = await say(bot, raul, f"/solicitud AT-{year}-9999")
    assert other[0].text == unknown[0].text.replace(f"AT-{year}-9999", code)
    assert "Ministerio de Salud" not in other[0].text
    mine = await say(bot, rosa, f"/solicitud {code.lower()}")
    assert "Historial" in mine[0].text and code in mine[0].text
    # another officer's "Agregar información", forged
    record = await raul.press_data(f"ri:{rid}", own)
    await bot.settle()
    assert "ya no está vigente" in (record.answer_text or "")
    history = await bot.s.assistance.history(rid or 0)
    assert [e.kind for e in history] == ["created"]
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


async def test_bad_input(fake: FakeTelegram, make_bot: BotFactory) -> None:
    c = await cast(fake, make_bot)
    bot, rosa, ana = c.bot, c.officers[0], c.ana
    # an over-long topic is kept: the limit is said and a button uses the first 2000 characters
    await say(bot, rosa, "/solicitar")
    replies = await say(bot, rosa, "hola")  # text where a button is expected
    assert "use los botones" in replies[0].text and "componente" in replies[-1].text
    await press(bot, rosa, "1. Compromiso de la Alta Dirección")
    long_text = "Consulta detallada. " * 130  # 2600 characters
    replies = await say(bot, rosa, long_text)
    assert f"{len(long_text.strip())} caracteres" in replies[0].text
    assert "máximo es 2000" in replies[0].text
    await rosa.send_sticker()
    await bot.settle()
    assert "solo puedo leer texto" in rosa.messages[-2].text
    replies = await press(bot, rosa, "✂️ Usar los primeros 2000 caracteres", message=replies[0])
    assert "prefiere recibir" in replies[-1].text
    await press(bot, rosa, "Virtual")
    await say(bot, rosa, "x" * 501)
    assert "501 caracteres" in rosa.last.text
    await say(bot, rosa, "cualquier día")
    await press(bot, rosa, "✅ Enviar solicitud")
    await idle(bot)
    code = code_in(rosa.last.text)
    request = await _request(bot, code)
    assert request.topic == long_text[:2000].strip()  # cut at 2000, trailing space trimmed

    # dates: impossible, past, without time, many accepted shapes
    card = c.group.last  # type: ignore[union-attr]
    assert card is not None
    await ana.press_data(card.button_data("📅 Programar"), card.message_id, chat=c.group)
    await idle(bot)
    assert "Formas aceptadas" in ana.last.text
    yesterday = (utcnow() - timedelta(days=1)).astimezone(LIMA)
    cases = {
        "31/02 10:00": "no existe",
        f"{yesterday.day}/{yesterday.month}/{yesterday.year} 10:00": "ya pasó",
        "el próximo jueves": "",
        "14/4": "Falta la hora",
        "mañana temprano": "",
        "x" * 150: "demasiado largo",
    }
    for typed, expected in cases.items():
        replies = await say(bot, ana, typed)
        assert "⚠️" in replies[0].text and expected in replies[0].text, (typed, replies[0].text)
        assert "14/4 10:00" in replies[0].text  # the accepted shapes are shown again
    ahead = (utcnow() + timedelta(days=20)).astimezone(LIMA)
    shapes = [f"{ahead.day}/{ahead.month} 10am",
              f"{ahead.day:02d}-{ahead.month:02d}-{ahead.year} 15:00",
              f"{ahead.year}-{ahead.month:02d}-{ahead.day:02d} 09:30"]
    expected_hours = [10, 15, 9]
    for typed, hour in zip(shapes, expected_hours, strict=True):
        replies = await say(bot, ana, typed)
        assert "¿En qué modalidad" in replies[0].text, (typed, replies[0].text)
        assert f"{ahead.day} de" in replies[0].text and f"{hour:02d}:" in replies[0].text
        await say(bot, ana, "/cancelar")
        await ana.press_data(card.button_data("📅 Programar"), card.message_id, chat=c.group)
        await idle(bot)
    await say(bot, ana, shapes[0])
    where_prompt = (await press(bot, ana, "Presencial"))[-1]
    replies = await say(bot, ana, "y" * 600)
    assert "600 caracteres" in replies[0].text and "máximo es 500" in replies[0].text
    await press(bot, ana, "Omitir", message=where_prompt)
    await idle(bot)
    assert "Reunión programada" in ana.last.text
    notice = next(m for m in reversed(rosa.messages) if m.text and "reunión" in m.text)
    assert "Presencial" in notice.text

    # an over-long answer is kept; the coordinator can send its first 2000 characters
    await ana.press_data(card.button_data("💬 Responder"), card.message_id, chat=c.group)
    await idle(bot)
    long_answer = "Revise el numeral 5 de la guía. " * 80
    replies = await say(bot, ana, long_answer)
    assert f"{len(long_answer.strip())} caracteres" in replies[0].text
    await press(bot, ana, "✂️ Usar los primeros 2000 caracteres", message=replies[0])
    await idle(bot)
    answer_message = next(m for m in reversed(rosa.messages)
                          if m.text and "Respuesta de la Secretaría" in m.text)
    assert long_answer[:2000].strip() in answer_message.text
    # and so is an officer's over-long "Agregar información"
    listing = await say(bot, rosa, "/mis_solicitudes")
    await press(bot, rosa, f"➕ Agregar información · {code}", message=listing[0])
    long_info = "Más detalles del caso. " * 100
    replies = await say(bot, rosa, long_info)
    assert f"{len(long_info.strip())} caracteres" in replies[0].text
    await press(bot, rosa, "✂️ Usar los primeros 2000 caracteres", message=replies[0])
    await idle(bot)
    assert "Agregué su información" in rosa.last.text
    history = await bot.s.assistance.history(request.id or 0)
    assert history[-1].kind == "info_added" and history[-1].text == long_info[:2000].strip()

    # an officer's unknown or malformed codes
    for typed in ("/solicitud", "/solicitud hola", "/solicitud AT-1999-0001"):
        replies = await say(bot, rosa, typed)
        assert "AT-2026-0001" in replies[0].text or "código" in replies[0].text
    replies = await say(bot, ana, "/solicitudes cerradas")
    assert "No reconozco" in replies[0].text
    replies = await say(bot, ana, "/exportar_solicitudes pdf")
    assert "No reconozco" in replies[0].text

    # stale buttons on a closed request
    await ana.press_data(card.button_data("✅ Cerrar"), card.message_id, chat=c.group)
    await idle(bot)
    await say(bot, ana, "Atendida en la reunión.")
    await idle(bot)
    for label in ("🙋 Tomar", "💬 Responder", "⏳ Esperando a la entidad", "✅ Cerrar"):
        record = await c.beto.press_data(card.button_data(label), card.message_id, chat=c.group)
        await idle(bot)
        assert record.alert and "ya está cerrada" in (record.answer_text or ""), label
    refreshed = fake.message(card.chat_id, card.message_id)
    assert refreshed is not None and refreshed.buttons == ["↩️ Reabrir", "📜 Historial"]
    listing = await say(bot, rosa, "/mis_solicitudes")
    assert "Cerrada" in listing[0].text and listing[0].buttons == []
    record = await rosa.press_data(f"ri:{request.id}", listing[0].message_id)
    await bot.settle()
    assert "cerrada" in (record.answer_text or "")
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


async def test_officer_who_left(fake: FakeTelegram, make_bot: BotFactory) -> None:
    c = await cast(fake, make_bot)
    bot, rosa, ana = c.bot, c.officers[0], c.ana
    await intake(bot, rosa)
    await idle(bot)
    code = code_in(rosa.last.text)
    await say(bot, rosa, "/baja")
    await press(bot, rosa, "Sí, eliminar mis datos")
    request = await _request(bot, code)
    assert request.officer_id is not None  # the request stays for the record
    before = len(rosa.messages)
    card = c.group.last  # type: ignore[union-attr]
    await ana.press_data(card.button_data("💬 Responder"), card.message_id, chat=c.group)
    await idle(bot)
    replies = await say(bot, ana, "Respuesta que ya no llegará.")
    await idle(bot)
    assert "dejó el programa" in replies[-1].text
    assert len(rosa.messages) == before  # nothing sent to them
    replies = await say(bot, ana, f"/solicitud {code}")
    assert "(dejó el programa)" in replies[0].text and "Respuesta que ya no llegará." in \
        replies[0].text
    async with bot.s.db.session() as s:
        assert list((await s.execute(select(Delivery))).scalars()) == []
    assert fake.errors() == []


async def test_faq_hand_off_opens_the_intake(fake: FakeTelegram, make_bot: BotFactory) -> None:
    c = await cast(fake, make_bot)
    bot, rosa = c.bot, c.officers[0]
    question = "quien gano el partido de futbol anoche"
    replies = await say(bot, rosa, question)
    assert "No encontré una respuesta" in replies[-1].text
    replies = await press(bot, rosa, "🙋 Pedir asistencia a la SIP")
    assert question in replies[-1].text and "componente" in replies[-1].text
    async with bot.s.db.session() as s:
        [row] = list((await s.execute(select(FaqQuestion))).scalars())
    assert row.handed_off
    await press(bot, rosa, "Otro tema")
    replies = await press(bot, rosa, "Correo electrónico")  # the topic step is skipped
    assert "disponibilidad" in replies[-1].text
    replies = await say(bot, rosa, "por correo, cuando puedan")
    assert question in replies[-1].text
    await press(bot, rosa, "✅ Enviar solicitud")
    await idle(bot)
    request = await _request(bot, code_in(rosa.last.text))
    assert request.topic == question and request.source == "faq" and request.component is None
    assert "Pregunta al bot" in c.group.last.text  # type: ignore[union-attr]


async def test_coordinator_records_a_phone_request(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    c = await cast(fake, make_bot)
    bot, ana, raul = c.bot, c.ana, c.officers[1]
    replies = await say(bot, ana, "/solicitar")
    assert "/registrar_solicitud" in replies[0].text
    replies = await say(bot, ana, "/registrar_solicitud")
    assert "nombre o la sigla" in replies[0].text
    replies = await say(bot, ana, "zzzz entidad inexistente")
    assert "No encontré" in replies[0].text
    replies = await say(bot, ana, "mef")
    assert "¿Cómo llegó" in replies[-1].text
    await press(bot, ana, "Teléfono")
    replies = await press(bot, ana, "Raúl Vera Ñique")
    assert "componente" in replies[-1].text
    await press(bot, ana, "5. Controles y Auditoría")
    await say(bot, ana, "Llamó para preguntar por el informe de control.")
    await press(bot, ana, "Llamada telefónica")
    summary = (await say(bot, ana, "mañanas"))[-1]
    assert "Ministerio de Economía" in summary.text and "Raúl Vera Ñique" in summary.text
    assert "Teléfono" in summary.text
    await press(bot, ana, "✅ Enviar solicitud")
    await idle(bot)
    code = code_in(next(m.text for m in reversed(ana.messages)
                        if "registrada con el código" in (m.text or "")))
    request = await _request(bot, code)
    assert request.source == "phone" and request.created_by == ana.id
    assert request.officer_id is not None
    assert code in raul.last.text and "registró una solicitud" in raul.last.text
    # without an officer, for an entity with nobody registered
    await say(bot, ana, "/registrar_solicitud poder judicial")
    await press(bot, ana, "Correo electrónico")
    await press(bot, ana, "Sin oficial (solo la entidad)")
    await press(bot, ana, "Otro tema")
    await say(bot, ana, "Correo sobre la guía.")
    await press(bot, ana, "Correo electrónico")
    await say(bot, ana, "-")
    await press(bot, ana, "✅ Enviar solicitud")
    await idle(bot)
    async with bot.s.db.session() as s:
        rows = list((await s.execute(select(AssistanceRequest).order_by(
            AssistanceRequest.id))).scalars())
    assert rows[-1].officer_id is None and rows[-1].source == "email"
    assert fake.errors() == []


async def test_listing_overdue_and_export_in_chat(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    c = await cast(fake, make_bot, request_overdue_days=2)
    bot, ana = c.bot, c.ana
    for officer in c.officers:
        await intake(bot, officer)
    for i in range(8):  # enough for two pages
        await approved_officer(bot, fake.user(f"Extra{i}"), "minsa", f"Extra Persona{'n' * i}")
    extra_users = [u for u in fake.users() if u.first_name.startswith("Extra")]
    for user in extra_users:
        await intake(bot, user)
    await idle(bot)
    codes = sorted({code_in(m.text) for u in [*c.officers, *extra_users]
                    for m in u.messages if m.text and "registrada con el código" in m.text})
    assert len(codes) == 11
    async with bot.s.db.session() as s:  # the first one arrived two weeks ago
        await s.execute(update(AssistanceRequest).where(AssistanceRequest.code == codes[0])
                        .values(created_at=utcnow() - timedelta(days=14)))
    replies = await say(bot, ana, "/solicitudes")
    page = replies[0]
    assert "abiertas</b>: 11" in page.raw_text or "abiertas: 11" in page.text
    assert "página 1 de 2" in page.text
    first_line = next(line for line in page.text.splitlines() if codes[0] in line)
    assert first_line.startswith("⚠️")
    assert "hace 2 semanas" in page.text and "sin respuesta" in page.text
    assert sum(line.startswith("⚠️ AT-") for line in page.text.splitlines()) == 1
    await press(bot, ana, "Siguiente »", message=page)
    second = fake.message(page.chat_id, page.message_id)
    assert second is not None and "página 2 de 2" in second.text
    await press(bot, ana, codes[-1], message=second)
    assert codes[-1] in ana.last.text and "🙋 Tomar" in ana.last.buttons
    await press(bot, ana, "🙋 Tomar")
    mine = await say(bot, ana, "/solicitudes mias")
    assert codes[-1] in mine[0].text and "abiertas a su cargo</b>: 1" in mine[0].raw_text
    # the export in chat, read back
    await say(bot, ana, "/exportar_solicitudes")
    document = ana.last.document
    assert document is not None and document.filename == "solicitudes-todas.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(document.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Código" and [r[0] for r in rows[1:]] == codes
    year = codes[0].split("-")[1]
    await say(bot, ana, f"/exportar_solicitudes {year} csv")
    document = ana.last.document
    assert document is not None and document.filename == f"solicitudes-{year}.csv"
    table = list(csv.reader(io.StringIO(document.content.decode("utf-8-sig"))))
    assert [r[0] for r in table[1:]] == codes
    taken = next(r for r in table if r[0] == codes[-1])
    assert taken[10] == "Asignada" and taken[11] == "Ana Coordinadora"
    assert "11" in (ana.last.caption or "")
    assert fake.errors() == []
