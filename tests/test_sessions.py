"""Sessions through the real bot and the fake Bot API: convening, answers, agenda, changes and
their notices, attendance, mandatory nudges, refusals; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.db import utcnow
from bot.models import (
    Entity,
    Officer,
    OfficerStatus,
    Reminder,
    ReminderStatus,
    Session,
    SessionInvite,
    SessionStatus,
)
from bot.sessions import Outcome, SessionDraft
from scheduling.broadcast import engine_of
from scheduling.nudges import send_nudges
from tests.conftest import BotFactory, BotHarness
from tests.fakebot import BotMessage, FakeTelegram, FakeUser
from tests.flows import press, say

# ---------------------------------------------------------------- helpers (shared by the
# dialog tests in test_sessions_dialogs.py)


async def world(fake: FakeTelegram, make_bot: BotFactory) -> tuple[BotHarness, FakeUser]:
    """A running bot and an appointed coordinator who has talked to it."""
    coordinator = fake.user("Carla", last_name="Coordinadora")
    bot = await make_bot()
    await bot.settle()
    await bot.appoint(coordinator)
    await say(bot, coordinator, "/menu")
    return bot, coordinator


async def officer(
    bot: BotHarness, fake: FakeTelegram, entity_code: str, name: str
) -> tuple[FakeUser, int]:
    """An approved officer of an entity, who has opened the chat with the bot."""
    user = fake.user(name.split()[0], last_name=name.split()[-1])
    async with bot.s.db.session() as s:
        entity = (await s.execute(select(Entity).where(Entity.code == entity_code))).scalar_one()
        row = Officer(
            telegram_user_id=user.id,
            entity_id=entity.id or 0,
            full_name=name,
            position="Jefe de la Oficina de Integridad",
            status=OfficerStatus.APPROVED.value,
            source="self",
            consent_at=utcnow(),
        )
        s.add(row)
        await s.flush()
        officer_id = row.id or 0
    await say(bot, user, "/agenda")  # the chat becomes known to the bot
    return user, officer_id


async def new_session(
    bot: BotHarness,
    coordinator: FakeUser,
    *,
    kind: str = "grupal",
    title: str = "Alcances de la Guía de Evaluación 1",
    days: float = 20,
    audience: dict[str, object] | None = None,
) -> Session:
    start = (utcnow() + timedelta(days=days)).replace(second=0, microsecond=0)
    return await bot.s.sessions.create(
        SessionDraft(
            kind=kind,
            title=title,
            start_at=start,
            end_at=start + timedelta(hours=2),
            modality="virtual",
            link="https://reuniones.example.gob.pe/sip-1",
            audience=audience or {"all": True},
            topics=["Etapas de la evaluación", "Evidencias"],
        ),
        by=coordinator.id,
    )


async def finish_broadcasts(bot: BotHarness) -> None:
    await bot.settle()
    await engine_of(bot.app).wait_idle()
    await bot.settle()


async def open_card(bot: BotHarness, coordinator: FakeUser, title: str) -> BotMessage:
    replies = await say(bot, coordinator, "/sesiones")
    listing = replies[-1]
    button = next(b for b in listing.buttons if title[:30] in b)
    await press(bot, coordinator, button, message=listing)
    card = coordinator.fake.message(coordinator.id, listing.message_id)
    assert card is not None
    return card


async def convene(bot: BotHarness, coordinator: FakeUser, title: str) -> list[BotMessage]:
    card = await open_card(bot, coordinator, title)
    shown = await press(bot, coordinator, "📣 Convocar", message=card)
    confirm = shown[-1]
    assert "¿Enviar la convocatoria" in confirm.text
    await press(bot, coordinator, "✅ Confirmar y enviar", message=confirm)
    await finish_broadcasts(bot)
    return shown


async def rows(bot: BotHarness, model: type, *where: object) -> list:  # type: ignore[type-arg]
    async with bot.s.db.session() as s:
        return list((await s.execute(select(model).where(*where))).scalars())  # type: ignore[arg-type]


def texts_with(user: FakeUser, needle: str) -> list[str]:
    return [m.body for m in user.messages if needle in m.body]


# ---------------------------------------------------------------- convening, answers, agenda


async def test_convene_answer_change_and_agenda(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot, coordinator = await world(fake, make_bot)
    ana, ana_id = await officer(bot, fake, "minsa", "Ana Salas")
    beto, beto_id = await officer(bot, fake, "minsa", "Beto Rojas")
    mario, _ = await officer(bot, fake, "mef", "Mario Vega")
    session = await new_session(
        bot,
        coordinator,
        kind="sectorial",
        title="Asistencia sectorial de Salud",
        audience={"networks": ["red-salud"]},
    )

    replies = await say(bot, coordinator, "/sesiones")
    assert "Asistencia sectorial de Salud" in replies[-1].text
    assert "Convocados: 0" in replies[-1].text

    shown = await convene(bot, coordinator, "Asistencia sectorial de Salud")
    sample = shown[-2]
    # the preview is the exact message an officer gets, with the network's 2024 scores
    assert "Prioridades de su red (Salud)" in sample.text and "obligatoria" in sample.text
    assert sample.buttons == ["✅ Asistiré", "❌ No podré", "📅 Añadir al calendario"]
    assert "Se enviará a 2 oficiales de 1 entidad" in shown[-1].text
    invitation = ana.last
    assert invitation is not None and invitation.text == sample.text
    assert invitation.buttons == sample.buttons
    assert texts_with(beto, "Convocatoria") and not texts_with(mario, "Convocatoria")
    progress = coordinator.last
    assert progress is not None and "Envío terminado" in progress.text
    assert "Enviados: 2 de 2" in progress.text and "Fallidos: 0" in progress.text
    pending = await rows(bot, Reminder, Reminder.session_id == session.id)
    assert {(r.officer_id, r.status) for r in pending} == {
        (ana_id, ReminderStatus.PENDING),
        (beto_id, ReminderStatus.PENDING),
    }
    assert len(pending) == 6  # 7d, 1d, 1h each

    # convening again: nobody new; then a new officer joins and only they are invited
    card = await open_card(bot, coordinator, "Asistencia sectorial de Salud")
    again = await press(bot, coordinator, "📣 Convocar", message=card)
    assert "No hay oficiales nuevos" in again[-1].text
    carla, _ = await officer(bot, fake, "minsa", "Carla Quispe")
    before = len(ana.messages)
    shown = await convene(bot, coordinator, "Asistencia sectorial de Salud")
    assert "Se enviará a 1 oficial de 1 entidad" in shown[-1].text
    assert "2 oficiales ya convocados antes no recibirán" in shown[-1].text
    assert len(ana.messages) == before and texts_with(carla, "Convocatoria")

    # answers, changed; declining drops the reminders and accepting restores them
    await press(bot, ana, "✅ Asistiré", message=invitation)
    assert "asistirá" in ana.last.text  # type: ignore[union-attr]
    await press(bot, ana, "❌ No podré", message=invitation)
    assert "no podrá asistir" in ana.last.text  # type: ignore[union-attr]
    mine = await rows(bot, Reminder, Reminder.officer_id == ana_id)
    assert mine and all(r.status == ReminderStatus.DROPPED for r in mine)
    await press(bot, ana, "✅ Asistiré", message=invitation)
    mine = await rows(bot, Reminder, Reminder.officer_id == ana_id)
    assert mine and all(r.status == ReminderStatus.PENDING for r in mine)

    # /agenda: own sessions with the answer, changeable from there
    replies = await say(bot, ana, "/agenda")
    assert "Sus próximas sesiones (1)" in replies[0].text
    assert "Asistirá" in replies[1].text and "❌ No podré" in replies[1].buttons
    await press(bot, ana, "❌ No podré", message=replies[1])
    invite = (await rows(bot, SessionInvite, SessionInvite.officer_id == ana_id))[0]
    assert invite.response == "no"
    replies = await say(bot, mario, "/agenda")
    assert "No tiene sesiones próximas" in replies[0].text and len(replies) == 1

    # the calendar file
    await press(bot, beto, "📅 Añadir al calendario", message=beto.last)
    document = beto.last.document  # type: ignore[union-attr]
    assert document is not None and document.filename.endswith(".ics")
    ics = document.content.decode()
    assert f"UID:{session.uid}" in ics and "TZID=America/Lima" in ics

    # someone not invited pressing those buttons is told so and nothing changes
    record = await mario.press_data(f"ses:y:{session.id}", mario.last.message_id)  # type: ignore[union-attr]
    await bot.settle()
    assert record.alert and "no está convocado" in (record.answer_text or "")
    record = await coordinator.press_data(f"ses:ics:{session.id}", sample.message_id)
    await bot.settle()
    assert "no está convocado" in (record.answer_text or "")
    assert len(await rows(bot, SessionInvite, SessionInvite.session_id == session.id)) == 3
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


# ---------------------------------------------------------------- reschedule, place, cancel


async def test_notices_reach_exactly_the_invitees(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot, coordinator = await world(fake, make_bot)
    ana, ana_id = await officer(bot, fake, "minsa", "Ana Salas")
    mario, _ = await officer(bot, fake, "mef", "Mario Vega")
    session = await new_session(bot, coordinator, title="Uso del Sistema ICP")
    await convene(bot, coordinator, "Uso del Sistema ICP")
    late, _ = await officer(bot, fake, "minedu", "Luis Tello")  # registered after: not invited
    due_before = {r.offset_minutes: r.due_at for r in await rows(bot, Reminder)}

    card = await open_card(bot, coordinator, "Uso del Sistema ICP")
    await press(bot, coordinator, "🔁 Reprogramar", message=card)
    assert "Reprogramar «Uso del Sistema ICP»" in coordinator.last.text  # type: ignore[union-attr]
    for typed, expected in [
        ("31/02 10:00", "no existe"),
        ("ayer 10am", "ya pasó"),
        (f"{(utcnow() + timedelta(days=30)):%d/%m}", "Falta la hora"),
        ("hola", "No entendí"),
    ]:
        replies = await say(bot, coordinator, typed)
        assert expected in replies[0].text, typed
        assert "14/4 10am" in replies[0].text  # shows the accepted shapes
    target = (utcnow() + timedelta(days=30)).astimezone(bot.s.settings.tz)
    replies = await say(bot, coordinator, f"{target:%d-%m-%Y} 15:30")
    assert "¿Reprogramar «Uso del Sistema ICP»?" in replies[-1].text
    assert "Se avisará a 2 oficiales" in replies[-1].text
    await press(bot, coordinator, "✅ Confirmar nueva fecha", message=replies[-1])
    await finish_broadcasts(bot)
    for user in (ana, mario):
        assert "Sesión reprogramada" in user.last.text  # type: ignore[union-attr]
        assert "15:30" in user.last.text  # type: ignore[union-attr]
    assert not texts_with(late, "reprogramada")
    [moved] = await rows(bot, Session, Session.id == session.id)
    local = moved.start_at.astimezone(bot.s.settings.tz)
    assert (local.day, local.month, local.hour, local.minute) == (
        target.day,
        target.month,
        15,
        30,
    )
    assert moved.end_at - moved.start_at == timedelta(hours=2)
    assert moved.sequence == 1 and moved.edited_by == coordinator.id
    assert moved.updated_at > session.updated_at
    due_after = {r.offset_minutes: r.due_at for r in await rows(bot, Reminder)}
    assert due_after != due_before
    assert all(due == moved.start_at - timedelta(minutes=m) for m, due in due_after.items())

    card = await open_card(bot, coordinator, "Uso del Sistema ICP")
    await press(bot, coordinator, "📍 Cambiar enlace o lugar", message=card)
    await say(bot, coordinator, "https://reuniones.example.gob.pe/nueva-sala")
    await finish_broadcasts(bot)
    for user in (ana, mario):
        assert "Cambió el enlace o el lugar" in user.last.text  # type: ignore[union-attr]
        assert "nueva-sala" in user.last.text  # type: ignore[union-attr]
    assert not texts_with(late, "Cambió el enlace")
    [moved] = await rows(bot, Session, Session.id == session.id)
    assert moved.sequence == 2 and moved.link.endswith("nueva-sala")  # type: ignore[union-attr]

    card = await open_card(bot, coordinator, "Uso del Sistema ICP")
    stale_convene = card.button_data("📣 Convocar")
    shown = await press(bot, coordinator, "🚫 Cancelar sesión", message=card)
    assert "Se avisará a 2 oficiales" in shown[-1].text
    await press(bot, coordinator, "Sí, cancelar la sesión", message=shown[-1])
    await finish_broadcasts(bot)
    for user in (ana, mario):
        assert "Sesión cancelada" in user.last.text  # type: ignore[union-attr]
        assert user.last.buttons == []  # type: ignore[union-attr]
    assert not texts_with(late, "cancelada")
    [gone] = await rows(bot, Session, Session.id == session.id)
    assert gone.status == SessionStatus.CANCELLED and gone.cancelled_at is not None
    assert gone.sequence == 3
    assert all(r.status == ReminderStatus.DROPPED for r in await rows(bot, Reminder))

    # stale buttons on a cancelled session
    record = await coordinator.press_data(stale_convene, card.message_id)
    await bot.settle()
    assert record.alert and "cancelada" in (record.answer_text or "")
    invitation = next(m for m in ana.messages if "Convocatoria" in m.body)
    record = await ana.press_data(invitation.button_data("✅ Asistiré"), invitation.message_id)
    await bot.settle()
    assert record.alert and "cancelada" in (record.answer_text or "")
    assert (await rows(bot, SessionInvite, SessionInvite.officer_id == ana_id))[0].response == (
        "pending"
    )
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


async def test_changes_without_invitees_send_nothing(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot, coordinator = await world(fake, make_bot)
    ana, _ = await officer(bot, fake, "minsa", "Ana Salas")
    session = await new_session(bot, coordinator, title="Sesión sin convocar")
    card = await open_card(bot, coordinator, "Sesión sin convocar")
    await press(bot, coordinator, "🔁 Reprogramar", message=card)
    target = (utcnow() + timedelta(days=40)).astimezone(bot.s.settings.tz)
    replies = await say(bot, coordinator, f"{target:%d/%m} 10am")
    assert "no tiene convocados" in replies[-1].text
    done = await press(bot, coordinator, "✅ Confirmar nueva fecha", message=replies[-1])
    assert "no se envió ningún aviso" in done[-1].text
    card = await open_card(bot, coordinator, "Sesión sin convocar")
    shown = await press(bot, coordinator, "🚫 Cancelar sesión", message=card)
    done = await press(bot, coordinator, "Sí, cancelar la sesión", message=shown[-1])
    assert "Sesión cancelada" in done[-1].text and "no se envió ningún aviso" in done[-1].text
    await finish_broadcasts(bot)
    [row] = await rows(bot, Session, Session.id == session.id)
    assert row.status == SessionStatus.CANCELLED and row.sequence == 2
    assert [m.body for m in ana.messages if "Sesión" in m.body] == []


async def test_reschedule_and_place_changed_meanwhile_are_refused(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    """Two coordinators on one session: the later confirmation does not undo the earlier
    change, and gets back what it typed."""
    bot, coordinator = await world(fake, make_bot)
    other = fake.user("Omar", last_name="Otro")
    await bot.appoint(other)
    session = await new_session(bot, coordinator, title="Sesión disputada")
    target = (utcnow() + timedelta(days=30)).astimezone(bot.s.settings.tz)
    typed = f"{target:%d/%m} 16:45"

    card = await open_card(bot, coordinator, "Sesión disputada")
    await press(bot, coordinator, "🔁 Reprogramar", message=card)
    confirm = (await say(bot, coordinator, typed))[-1]
    moved = await bot.s.sessions.reschedule(
        session.id or 0, session.start_at + timedelta(days=2), by=other.id
    )
    assert moved.outcome is Outcome.DONE and moved.session is not None
    record = await coordinator.press_data(
        confirm.button_data("✅ Confirmar nueva fecha"), confirm.message_id
    )
    await bot.settle()
    assert record.alert
    assert "Otra persona cambió esa sesión" in coordinator.last.text  # type: ignore[union-attr]
    assert typed in coordinator.last.text  # type: ignore[union-attr]
    [row] = await rows(bot, Session, Session.id == session.id)
    assert row.start_at == moved.session.start_at and row.edited_by == other.id
    assert await bot.s.dialogs.get(coordinator.id) is None

    card = await open_card(bot, coordinator, "Sesión disputada")
    await press(bot, coordinator, "📍 Cambiar enlace o lugar", message=card)
    await bot.s.sessions.change_location(session.id or 0, "Sala B, piso 3", by=other.id)
    replies = await say(bot, coordinator, "https://reuniones.example.gob.pe/sala-carla")
    assert "Otra persona cambió esa sesión" in replies[-1].text
    assert "https://reuniones.example.gob.pe/sala-carla" in replies[-1].text
    [row] = await rows(bot, Session, Session.id == session.id)
    assert row.place == "Sala B, piso 3" and row.link is None

    # without anyone else, the same steps go through
    card = await open_card(bot, coordinator, "Sesión disputada")
    await press(bot, coordinator, "📍 Cambiar enlace o lugar", message=card)
    await say(bot, coordinator, "https://reuniones.example.gob.pe/sala-carla")
    [row] = await rows(bot, Session, Session.id == session.id)
    assert row.link == "https://reuniones.example.gob.pe/sala-carla"
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


# ---------------------------------------------------------------- refusals and stale input


async def test_forged_coordinator_presses_refused(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot, coordinator = await world(fake, make_bot)
    ana, _ = await officer(bot, fake, "minsa", "Ana Salas")
    session = await new_session(bot, coordinator, title="Sesión protegida")
    sid = session.id
    for command in ("/sesiones", "/nueva_sesion", "/difundir"):
        replies = await say(bot, ana, command)
        assert "solo para" in replies[0].text, command
    own = ana.last.message_id  # type: ignore[union-attr]
    forged = [
        f"sc:cv:{sid}",
        f"sc:cvok:{sid}",
        f"sc:rp:{sid}",
        f"sc:rpok:{sid}",
        f"sc:ln:{sid}",
        f"sc:cxok:{sid}",
        f"sc:as:{sid}:0",
        f"sc:at:{sid}:1:0",
        f"sc:ex:{sid}",
        "sl:0",
        "ns:k:grupal",
        "ns:ok",
        "df:a:all",
        "df:ok",
    ]
    for data in forged:
        record = await ana.press_data(data, own)
        await bot.settle()
        assert record.answered and record.alert, data
        assert "solo para" in (record.answer_text or ""), data
    [row] = await rows(bot, Session, Session.id == sid)
    assert row.status == SessionStatus.SCHEDULED and row.sequence == 0 and row.convened_at is None
    assert await rows(bot, SessionInvite) == []
    assert await bot.s.dialogs.get(ana.id) is None
    assert fake.unanswered_callback_queries() == []


async def test_stale_and_malformed_buttons(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot, coordinator = await world(fake, make_bot)
    ana, _ = await officer(bot, fake, "minsa", "Ana Salas")
    session = await new_session(bot, coordinator, title="Sesión pronta", days=0.05)
    await convene(bot, coordinator, "Sesión pronta")
    own = ana.last.message_id  # type: ignore[union-attr]
    for data, expected in [
        ("ses:y:999999", "ya no está vigente"),
        ("ses:y:abc", "ya no está vigente"),
        ("ses:zz:1", "ya no está vigente"),
        ("ses:ics:999999", "ya no está vigente"),
    ]:
        record = await ana.press_data(data, own)
        await bot.settle()
        assert expected in (record.answer_text or ""), data
    for data in ("sc:v:999999", "sc:zz:1", "sc:cv", "sl:x", "ns:k:grupal", "df:ok"):
        record = await coordinator.press_data(data, coordinator.last.message_id)  # type: ignore[union-attr]
        await bot.settle()
        assert "ya no está vigente" in (record.answer_text or ""), data
    # the session started: answers are closed
    await bot.s.sessions.reschedule(
        session.id or 0, utcnow() - timedelta(minutes=10), by=coordinator.id
    )
    record = await ana.press_data(f"ses:y:{session.id}", own)
    await bot.settle()
    assert record.alert and "ya empezó" in (record.answer_text or "")
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


# ---------------------------------------------------------------- attendance


async def test_attendance_marking_and_export(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot, coordinator = await world(fake, make_bot)
    ana, _ = await officer(bot, fake, "minsa", "Ana Salas")
    await officer(bot, fake, "minsa", "Beto Rojas")
    await officer(bot, fake, "mef", "Mario Vega")
    await officer(bot, fake, "minedu", "Nora Ríos")  # not in the audience
    await new_session(
        bot,
        coordinator,
        kind="sectorial",
        title="Sectorial Salud y Economía",
        audience={"networks": ["red-salud", "red-economia-finanzas"]},
    )
    await convene(bot, coordinator, "Sectorial Salud y Economía")
    await press(bot, ana, "✅ Asistiré", message=next(m for m in ana.messages if m.buttons))

    card = await open_card(bot, coordinator, "Sectorial Salud y Economía")
    assert "Confirmados: 1" in card.text and "Convocados: 3" in card.text
    await press(bot, coordinator, "📋 Asistencia", message=card)
    view = fake.message(coordinator.id, card.message_id)
    assert view is not None
    assert "Sin confirmación (1): Ministerio de Economía y Finanzas" in view.text
    assert "Ministerio de Salud — confirmada" in view.text
    assert "Ministerio de Educación" not in view.text
    await press(bot, coordinator, "⬜ Ana Salas", message=view)
    view = fake.message(coordinator.id, card.message_id)
    assert view is not None and "✅ Ana Salas" in view.buttons
    assert "Asistentes marcados: 1" in view.text
    await press(bot, coordinator, "⬇️ Exportar CSV", message=view)
    document = coordinator.last.document  # type: ignore[union-attr]
    assert document is not None and document.filename.endswith(".csv")
    table = list(csv.reader(io.StringIO(document.content.decode("utf-8-sig"))))
    assert table[0] == ["entidad", "red", "nivel", "oficial", "respuesta", "asistio"]
    by_name = {row[3]: row for row in table[1:]}
    assert set(by_name) == {"Ana Salas", "Beto Rojas", "Mario Vega"}
    assert by_name["Ana Salas"] == [
        "Ministerio de Salud",
        "Red de Integridad de Salud",
        "Poder Ejecutivo",
        "Ana Salas",
        "asistirá",
        "sí",
    ]
    assert by_name["Mario Vega"][4:] == ["sin respuesta", ""]
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


# ---------------------------------------------------------------- mandatory nudges


async def test_nudges_once_to_unconfirmed_entities_of_mandatory_sessions(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot, coordinator = await world(fake, make_bot)
    ana, _ = await officer(bot, fake, "minsa", "Ana Salas")
    beto, _ = await officer(bot, fake, "minsa", "Beto Rojas")
    mario, _ = await officer(bot, fake, "mef", "Mario Vega")
    audience = {"networks": ["red-salud", "red-economia-finanzas"]}
    sectoral = await new_session(
        bot, coordinator, kind="sectorial", title="Sectorial obligatoria", audience=audience
    )
    await new_session(bot, coordinator, title="Grupal abierta", audience=audience)
    await convene(bot, coordinator, "Sectorial obligatoria")
    await convene(bot, coordinator, "Grupal abierta")
    invitation = next(m for m in ana.messages if "Sectorial obligatoria" in m.body)
    await press(bot, ana, "✅ Asistiré", message=invitation)
    engine = engine_of(bot.app)
    assert bot.app.job_queue.get_jobs_by_name("mandatory_session_nudges")  # the repeating job

    def at(days_before: float) -> datetime:
        return sectoral.start_at - timedelta(days=days_before)

    assert await send_nudges(bot.s, engine, now=at(5)) == 0  # too early
    assert await send_nudges(bot.s, engine, now=at(2.9)) == 1
    await bot.settle()
    nudged = texts_with(mario, "aún no confirma")
    assert len(nudged) == 1 and "Sectorial obligatoria" in nudged[0]
    assert "Ministerio de Economía y Finanzas" in nudged[0]
    assert mario.last.buttons == ["✅ Asistiré", "❌ No podré", "📅 Añadir al calendario"]  # type: ignore[union-attr]
    assert not texts_with(ana, "aún no confirma") and not texts_with(beto, "aún no confirma")
    assert await send_nudges(bot.s, engine, now=at(2)) == 0  # never twice
    assert await send_nudges(bot.s, engine, now=at(0.5)) == 0
    await bot.settle()
    assert len(texts_with(mario, "aún no confirma")) == 1
    invites = await rows(bot, SessionInvite, SessionInvite.nudged_at.is_not(None))  # type: ignore[union-attr]
    assert [i.session_id for i in invites] == [sectoral.id]
    assert fake.errors() == []
