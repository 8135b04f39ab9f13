"""Coordinators' and admins' actions, and their refusal to everyone else (forged presses too)."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.models import Invitation, Officer, OfficerStatus
from bot.roles import Role
from tests.conftest import BotFactory, BotHarness
from tests.fakebot import FakeTelegram, FakeUser
from tests.flows import payload_of, press, register_by_search, say, start


async def _approved_officer(bot: BotHarness, fake: FakeTelegram, admin: FakeUser,
                            name: str = "Rosa Díaz Paredes") -> FakeUser:
    officer = fake.user(name.split()[0])
    await register_by_search(bot, officer, "minsa", name=name)
    await press(bot, admin, "✅ Aprobar", message=admin.last)
    assert await bot.role(officer) is Role.OFFICER
    return officer


async def _officer_row(bot: BotHarness, user: FakeUser) -> Officer | None:
    view = await bot.s.officers.by_user(user.id)
    return view.officer if view else None


async def test_coordinator_actions_refused_to_officers(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    admin = fake.user("Admin")
    await admin.send("/start")
    bot = await make_bot(admins=[admin])
    await bot.settle()
    officer = await _approved_officer(bot, fake, admin)
    pending = fake.user("Pendiente")
    await register_by_search(bot, pending, "mef", name="Pedro Pendiente Ruiz")
    pending_row = await _officer_row(bot, pending)
    assert pending_row is not None and pending_row.status == OfficerStatus.PENDING.value
    link = await say(bot, admin, "/invitar minsa")
    invitation_message = link[-1]

    for command in ("/pendientes", "/invitar minsa", "/oficiales minsa", "/coordinadores"):
        replies = await say(bot, officer, command)
        assert "solo para" in replies[0].text, command
        assert "https://t.me/" not in replies[0].text

    # forged presses of coordinator buttons, on the officer's own messages
    own = officer.last.message_id
    async with bot.s.db.session() as session:
        invitation = (await session.execute(select(Invitation))).scalars().first()
    assert invitation is not None
    forged = [f"ap:y:{pending_row.id}", f"ap:n:{pending_row.id}", f"iv:rv:{invitation.id}",
              "iv:ent:1", f"of:ok:{pending_row.id}", f"of:rm:{pending_row.id}", "co:new:0",
              "co:rm:1"]
    for data in forged:
        record = await officer.press_data(data, own)
        await bot.settle()
        assert record.answered and "solo para" in (record.answer_text or ""), data
    # nothing changed
    assert (await _officer_row(bot, pending)).status == OfficerStatus.PENDING.value  # type: ignore[union-attr]
    assert (await bot.s.invitations.check(payload_of(invitation_message.text))).problem is None
    assert await bot.s.roles.coordinators() == []
    # a forwarded approval message pressed by an officer is refused the same way
    request = next(m for m in reversed(admin.messages) if "Pedro Pendiente Ruiz" in m.text)
    record = await officer.press_data(request.button_data("✅ Aprobar"), own)
    await bot.settle()
    assert "solo para" in (record.answer_text or "")
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


async def test_two_coordinators_press_approve_at_once(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    ana, beto = fake.user("Ana", last_name="Coord"), fake.user("Beto", last_name="Coord")
    for user in (ana, beto):
        await user.send("/start")
    bot = await make_bot()
    await bot.settle()
    await bot.appoint(ana)
    await bot.appoint(beto)
    officer = fake.user("Raúl")
    await register_by_search(bot, officer, "minsa", name="Raúl Vera Ñique")
    await asyncio.gather(ana.press("✅ Aprobar", message=ana.last),
                         beto.press("❌ Rechazar", message=beto.last))
    await bot.settle()
    answers = {q.user_id: q.answer_text for q in fake.callback_queries()}
    losers = [text for text in answers.values() if text and "ya fue atendido" in text]
    assert len(losers) == 1
    row = await _officer_row(bot, officer)
    assert row is not None and row.status in ("approved", "rejected")
    told = [m for m in officer.messages if "aprobó" in m.text or "no fue aprobado" in m.text]
    assert len(told) == 1  # the officer hears one outcome, not two


async def test_removed_officer(fake: FakeTelegram, make_bot: BotFactory) -> None:
    admin = fake.user("Admin")
    await admin.send("/start")
    bot = await make_bot(admins=[admin])
    await bot.settle()
    officer = await _approved_officer(bot, fake, admin, "Sara Pinto Loza")
    replies = await say(bot, admin, "/oficiales minsa")
    assert "Sara Pinto Loza" in replies[-1].text
    await press(bot, admin, "Dar de baja a Sara Pinto Loza")
    confirmation = admin.last
    confirm_data = confirmation.button_data("Sí, dar de baja")
    await press(bot, admin, "Sí, dar de baja")
    assert "dio de baja su registro" in officer.last.text
    assert await bot.role(officer) is Role.GUEST
    replies = await say(bot, officer, "hola, quiero ver mis sesiones")
    assert "dado de baja por la coordinación" in replies[0].text
    replies = await say(bot, officer, "/perfil")
    assert "no tiene un registro activo" in replies[0].text
    replies = await start(bot, officer)
    assert "fue dado de baja" in replies[0].text and replies[0].buttons[0] == "✅ Acepto"
    # the same confirmation pressed again (a double tap) changes nothing and says so
    record = await admin.press_data(confirm_data, confirmation.message_id)
    await bot.settle()
    assert "ya no está activo" in (record.answer_text or "")
    assert fake.unanswered_callback_queries() == []


async def test_admin_appoints_and_removes_a_coordinator(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    admin = fake.user("Admin")
    await admin.send("/start")
    bot = await make_bot(admins=[admin])
    await bot.settle()
    assert [c for c, _ in fake.commands_for(admin.id)][:1] == ["start"]
    assert "coordinadores" in [c for c, _ in fake.commands_for(admin.id)]
    await say(bot, admin, "/coordinadores")
    replies = await press(bot, admin, "➕ Nombrar coordinador(a)")
    payload = payload_of(replies[-1].text)
    assert payload.startswith("c_") and len(payload) <= 64

    carla = fake.user("Carla", last_name="Mendoza")
    replies = await start(bot, carla, payload)
    assert "ahora es <b>coordinador(a)</b>" in replies[0].raw_text or \
        "ahora es coordinador(a)" in replies[0].text
    assert "📝 Pendientes" in replies[0].keyboard
    assert "Carla Mendoza" in admin.last.text
    assert await bot.role(carla) is Role.COORDINATOR
    carla_commands = [c for c, _ in fake.commands_for(carla.id)]
    assert "pendientes" in carla_commands and "coordinadores" not in carla_commands
    officer_commands = [c for c, _ in fake.commands_for(999_000_111)]
    assert "pendientes" not in officer_commands and "perfil" in officer_commands

    second = fake.user("Otro")
    replies = await start(bot, second, payload)  # single use
    assert "ya fue usado" in replies[0].text
    assert await bot.role(second) is Role.GUEST

    await say(bot, admin, "/coordinadores")
    await press(bot, admin, "Quitar a Carla Mendoza")
    assert await bot.role(carla) is Role.GUEST
    assert "pendientes" not in [c for c, _ in fake.commands_for(carla.id)]
    replies = await say(bot, carla, "/pendientes")
    assert "solo para coordinadores" in replies[0].text
    assert fake.errors() == []


async def test_leave_deletes_personal_data(fake: FakeTelegram, make_bot: BotFactory) -> None:
    admin = fake.user("Admin")
    await admin.send("/start")
    bot = await make_bot(admins=[admin])
    await bot.settle()
    officer = await _approved_officer(bot, fake, admin, "Tania Ccori Mamani")
    replies = await say(bot, officer, "/baja")
    assert "¿Desea darse de baja?" in replies[0].text
    await press(bot, officer, "No, mantener")
    assert await bot.role(officer) is Role.OFFICER
    await say(bot, officer, "/baja")
    await press(bot, officer, "Sí, eliminar mis datos")
    assert await bot.role(officer) is Role.GUEST
    async with bot.s.db.session() as session:
        rows = list((await session.execute(select(Officer))).scalars())
    assert len(rows) == 1
    assert rows[0].status == "deleted" and rows[0].full_name is None
    assert rows[0].telegram_user_id is None and rows[0].email is None
    assert officer.last.keyboard == []  # the menu keyboard is removed
    replies = await say(bot, officer, "/perfil")
    assert "no tiene un registro activo" in replies[0].text
    replies = await say(bot, admin, "/oficiales minsa")
    assert "Tania" not in replies[-1].text


async def test_profile_edit(fake: FakeTelegram, make_bot: BotFactory) -> None:
    admin = fake.user("Admin")
    await admin.send("/start")
    bot = await make_bot(admins=[admin])
    await bot.settle()
    officer = await _approved_officer(bot, fake, admin, "Ulises Paredes Soto")
    await officer.tap("👤 Mi perfil")
    await bot.settle()
    assert "Ulises Paredes Soto" in officer.last.text
    await press(bot, officer, "✏️ Correo")
    replies = await say(bot, officer, "correo-malo")
    assert "no parece válido" in replies[0].text
    replies = await say(bot, officer, "ulises@minsa.gob.pe")
    assert "Se actualizó" in replies[0].text and "ulises@minsa.gob.pe" in replies[-1].text
    await press(bot, officer, "✏️ Teléfono")
    await press(bot, officer, "Quitar este dato")
    assert "(no indicado)" in officer.last.text.split("Teléfono:")[1]
    assert fake.errors() == []


async def test_help_depends_on_role(fake: FakeTelegram, make_bot: BotFactory) -> None:
    admin = fake.user("Admin")
    guest = fake.user("Guest")
    bot = await make_bot(admins=[admin])
    admin_help = (await say(bot, admin, "/ayuda"))[0].text
    guest_help = (await say(bot, guest, "/ayuda"))[0].text
    assert "/coordinadores" in admin_help and "/pendientes" in admin_help
    assert "/coordinadores" not in guest_help and "/start" in guest_help
