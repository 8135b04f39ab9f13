"""Individual assistance requests through the real bot and the fake Bot API: the whole
lifecycle with two coordinators and three officers, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import select

from bot.db import utcnow
from bot.models import (
    AssistanceRequest,
    Delivery,
    Reminder,
    ReminderStatus,
    Session,
    SessionInvite,
)
from scheduling.broadcast import engine_of
from scheduling.jobs import dispatch_reminders
from tests.assistance_flows import cast, code_in, intake
from tests.conftest import BotFactory, BotHarness
from tests.fakebot import FakeTelegram
from tests.flows import press, say


async def idle(bot: BotHarness) -> None:
    """Wait for the bot and for the broadcast engine's background sends."""
    await bot.settle()
    await engine_of(bot.app).wait_idle()
    await bot.settle()


def lima_text(days_ahead: int, hour: int = 10) -> tuple[str, str]:
    """A date ``days_ahead`` in Lima typed as d/m/yyyy HH:MM, and how the bot shows its day."""
    when = (utcnow() + timedelta(days=days_ahead)).astimezone()
    from zoneinfo import ZoneInfo

    local = (utcnow() + timedelta(days=days_ahead)).astimezone(ZoneInfo("America/Lima"))
    del when
    return f"{local.day}/{local.month}/{local.year} {hour}:00", f"{local.day} de"


async def test_whole_lifecycle(fake: FakeTelegram, make_bot: BotFactory) -> None:
    c = await cast(fake, make_bot)
    bot, ana, beto, group = c.bot, c.ana, c.beto, c.group
    assert group is not None
    rosa, raul, sara = c.officers

    # three officers ask; codes are sequential for the year
    confirmations = [
        await intake(bot, rosa),
        await intake(bot, raul, component="Otro tema", channel="Correo electrónico",
                     topic="Necesito orientación sobre el informe anual."),
        await intake(bot, sara, component="2. Gestión de Riesgos", channel="Presencial"),
    ]
    codes = [code_in(m.text) for m in confirmations]
    year = utcnow().year
    assert codes == [f"AT-{year}-0001", f"AT-{year}-0002", f"AT-{year}-0003"] or \
        codes[0].endswith("-0001")
    posted = [m for m in group.messages if "Nueva solicitud" in m.text]
    assert len(posted) == 3
    first = posted[0]
    assert codes[0] in first.text and "Ministerio de Salud" in first.text
    assert "Canal de Denuncias" in first.text and "Virtual" in first.text
    assert first.buttons == ["🙋 Tomar", "📅 Programar", "💬 Responder",
                             "⏳ Esperando a la entidad", "✅ Cerrar", "📜 Historial"]

    # Ana takes Rosa's request in the group; the officer is told who has it
    record = await ana.press("🙋 Tomar", message=first, chat=group)
    await idle(bot)
    assert record.answer_text and "a su cargo" in record.answer_text
    assert "Ana Coordinadora" in rosa.last.text and codes[0] in rosa.last.text
    # Beto presses Tomar on the same (old) card: told who took it
    record = await beto.press_data(first.button_data("🙋 Tomar"), first.message_id,
                                   chat=group)
    await idle(bot)
    assert record.alert and "Ana Coordinadora" in (record.answer_text or "")

    # Ana answers with her own words, in her private chat
    record = await ana.press_data(first.button_data("💬 Responder"), first.message_id,
                                  chat=group)
    await idle(bot)
    assert "privado" in (record.answer_text or "")
    assert "Escriba la respuesta" in ana.last.text
    replies = await say(bot, ana, "Use el formato del anexo 3 de la guía.")
    await idle(bot)
    assert "Respuesta enviada" in replies[-1].text
    assert "Use el formato del anexo 3 de la guía." in rosa.last.text
    # the card in the group, where Ana pressed Responder, now shows the answer too
    card = next(m for m in group.messages if m.message_id == first.message_id)
    assert "Respondida" in card.text and "Nueva solicitud" not in card.text
    assert "Ana Coordinadora" in rosa.last.text

    # Rosa adds information; the coordinators see it
    listing = await say(bot, rosa, "/mis_solicitudes")
    assert codes[0] in listing[-1].text and "Respondida" in listing[-1].text
    await press(bot, rosa, f"➕ Agregar información · {codes[0]}")
    await say(bot, rosa, "Adjunto el detalle: son 14 denuncias pendientes.")
    await idle(bot)
    assert "Agregué su información" in rosa.last.text
    assert "14 denuncias pendientes" in group.last.text

    # Beto uses a canned reply on Raúl's request (from his private chat via /solicitud)
    replies = await say(bot, beto, f"/solicitud {codes[1]}")
    assert "Historial" in replies[-1].text and "Solicitud registrada" in replies[-1].text
    await press(bot, beto, "💬 Responder", message=replies[-1])
    await press(bot, beto, "Proponer una reunión")
    assert "¿La envío al oficial?" in beto.last.text
    await press(bot, beto, "✅ Enviar esta respuesta")
    await idle(bot)
    assert "le proponemos una reunión" in raul.last.text

    # Beto schedules the meeting: the officer gets the .ics; reminders are planned
    await press(bot, beto, "📅 Programar", message=beto.last)
    typed, shown = lima_text(10)
    await say(bot, beto, typed)
    await press(bot, beto, "Virtual")
    await say(bot, beto, "https://meet.example.gob.pe/at-2")
    await idle(bot)
    assert "Reunión programada" in beto.messages[-1].text
    notice = next(m for m in reversed(raul.messages) if m.text and "reunión" in m.text)
    assert shown in notice.text and "https://meet.example.gob.pe/at-2" in notice.text
    [ics] = [f for f in fake.sent_documents(raul.id) if f.filename and f.filename.endswith(".ics")]
    calendar = Calendar.from_ical(ics.content)
    [event] = list(calendar.walk("VEVENT"))
    assert codes[1] in str(event["SUMMARY"]) and str(event["STATUS"]) == "CONFIRMED"
    async with bot.s.db.session() as s:
        request = (await s.execute(select(AssistanceRequest).where(
            AssistanceRequest.code == codes[1]))).scalar_one()
        session = await s.get(Session, request.session_id)
        assert session is not None and session.kind == "individual"
        invites = list((await s.execute(select(SessionInvite).where(
            SessionInvite.session_id == session.id))).scalars())
        reminders = list((await s.execute(select(Reminder).where(
            Reminder.session_id == session.id))).scalars())
    assert str(event["UID"]) == session.uid
    assert [i.response for i in invites] == ["yes"]
    assert sorted(r.offset_minutes for r in reminders) == [60, 1440, 10080]
    assert all(r.status == ReminderStatus.PENDING for r in reminders)
    assert {r.due_at for r in reminders} == {
        session.start_at - timedelta(minutes=r.offset_minutes) for r in reminders
    }

    # Beto moves the meeting: same UID, SEQUENCE 1, reminders moved, a new .ics for the officer
    replies = await say(bot, beto, f"/solicitud {codes[1]}")
    await press(bot, beto, "📅 Programar", message=replies[-1])
    assert "Hoy está programada" in beto.last.text
    typed, shown = lima_text(12, hour=16)
    await say(bot, beto, typed)
    await press(bot, beto, "Presencial")
    await say(bot, beto, "Jr. Carabaya s/n, sala 3")
    await idle(bot)
    assert "Reunión cambiada" in beto.last.text
    moved = next(m for m in reversed(raul.messages) if m.text and "Cambió la reunión" in m.text)
    assert shown in moved.text and "16:00" in moved.text and "Jr. Carabaya" in moved.text
    *_, moved_ics = [f for f in fake.sent_documents(raul.id)
                     if f.filename and f.filename.endswith(".ics")]
    [moved_event] = list(Calendar.from_ical(moved_ics.content).walk("VEVENT"))
    assert str(moved_event["UID"]) == str(event["UID"]) and int(moved_event["SEQUENCE"]) == 1
    assert "Jr. Carabaya" in str(moved_event["LOCATION"])
    async with bot.s.db.session() as s:
        session = await s.get(Session, session.id)
        reminders = list((await s.execute(select(Reminder).where(
            Reminder.session_id == session.id))).scalars())
    assert session is not None
    assert len(reminders) == 3 and {r.due_at for r in reminders} == {
        session.start_at - timedelta(minutes=r.offset_minutes) for r in reminders
    }
    history = await say(bot, beto, f"/solicitud {codes[1]}")
    assert history[-1].text.count("Reunión programada (Beto Coordinador)") == 2

    # an hour before the meeting the reminder job reminds Raúl, once
    before = len(raul.messages)
    hour_before = session.start_at - timedelta(minutes=59)
    assert (await dispatch_reminders(bot.app, now=hour_before)).queued == 1
    await engine_of(bot.app).wait_idle()
    [reminder] = raul.messages[before:]
    assert "Jr. Carabaya" in reminder.text and "16:00" in reminder.text
    assert (await dispatch_reminders(bot.app, now=hour_before)).queued == 0
    await engine_of(bot.app).wait_idle()
    assert len(raul.messages) == before + 1
    assert "Jr. Carabaya s/n, sala 3" in history[-1].text

    # Beto closes it: the meeting is cancelled, reminders dropped, the officer told
    replies = await say(bot, beto, f"/solicitud {codes[1]}")
    await press(bot, beto, "✅ Cerrar", message=replies[-1])
    await say(bot, beto, "Consulta absuelta por correo.")
    await idle(bot)
    closed = next(m for m in reversed(raul.messages) if m.text and "fue cerrada" in m.text)
    assert "Consulta absuelta por correo." in closed.text and "cancelada" in closed.text
    *_, cancelled_ics = [f for f in fake.sent_documents(raul.id)
                         if f.filename and f.filename.endswith(".ics")]
    [cancelled_event] = list(Calendar.from_ical(cancelled_ics.content).walk("VEVENT"))
    assert str(cancelled_event["STATUS"]) == "CANCELLED"
    assert str(cancelled_event["UID"]) == str(event["UID"])
    assert int(cancelled_event["SEQUENCE"]) == 2
    async with bot.s.db.session() as s:
        session = await s.get(Session, session.id)
        reminders = list((await s.execute(select(Reminder).where(
            Reminder.session_id == session.id))).scalars())
    assert session is not None and session.status == "cancelled" and session.sequence == 2
    # the one already sent stays queued (sent); every other is dropped
    assert sorted(r.status for r in reminders) == [
        ReminderStatus.DROPPED, ReminderStatus.DROPPED, ReminderStatus.QUEUED
    ]

    # a stale button on the closed request is answered clearly
    card = beto.messages[-1]
    record = await beto.press_data(f"rq:ans:{request.id}", card.message_id)
    await idle(bot)
    assert record.alert and "cerrada" in (record.answer_text or "")

    # deliveries went through the broadcast engine
    async with bot.s.db.session() as s:
        statuses = {d.status for d in (await s.execute(select(Delivery))).scalars()}
    assert statuses == {"sent"}
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []
