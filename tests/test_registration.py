"""Officers register under their entity, through the real bot and the fake Bot API over HTTP."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.models import DialogState, Officer, OfficerStatus
from bot.roles import Role
from tests.conftest import BotFactory, BotHarness
from tests.fakebot import FakeTelegram
from tests.flows import fill_profile, payload_of, press, say, start


def assert_clean(fake: FakeTelegram) -> None:
    """Telegram refused nothing and every pressed button was answered."""
    assert fake.errors() == []
    assert fake.unanswered_callback_queries() == []


async def _officer_rows(bot: BotHarness) -> list[Officer]:
    async with bot.s.db.session() as session:
        return list((await session.execute(select(Officer))).scalars())


async def test_registration_by_menu_and_approval(fake: FakeTelegram, make_bot: BotFactory) -> None:
    coordinator = fake.user("Carla", last_name="Coordinadora")
    bot = await make_bot()
    await start(bot, coordinator)  # the coordinator's chat exists for the bot
    await bot.appoint(coordinator)
    officer = fake.user("Rosa")

    welcome = await start(bot, officer)
    assert "Ley N.º 29733" in welcome[0].text and welcome[0].buttons == ["✅ Acepto", "No acepto"]
    assert await _officer_rows(bot) == []  # nothing personal before consent

    replies = await press(bot, officer, "✅ Acepto")
    assert "Paso 1 de 5" in replies[-1].text
    await press(bot, officer, "Poder Ejecutivo")
    assert "página 1 de 2" in officer.last.text
    await press(bot, officer, "Siguiente »")
    salud = [e for e in bot.s.content.entities if e.network == "red-salud"]
    await press(bot, officer, f"Salud ({len(salud)})")
    assert "Red de Integridad de Salud" in officer.last.text
    # the ministry first, then its attached bodies by name
    others = sorted(e.name for e in salud if e.code != "minsa")
    assert officer.last.buttons[: len(salud)] == ["Ministerio de Salud", *others]
    await press(bot, officer, "Ministerio de Salud")
    assert "¿Su entidad es esta?" in officer.last.text
    await press(bot, officer, "✅ Sí, es mi entidad")
    assert "Paso 2 de 5" in officer.last.text
    await fill_profile(bot, officer, email="rosa.diaz@minsa.gob.pe", phone="987 654 321")
    summary = officer.last
    assert "Ministerio de Salud" in summary.text and "+51 987 654 321" in summary.text
    replies = await press(bot, officer, "✅ Enviar registro")
    assert "enviado a la coordinación" in replies[-1].text

    request = coordinator.last
    assert "Nuevo registro por aprobar" in request.text and "María Quispe Huamán" in request.text
    assert await bot.role(officer) is Role.GUEST
    await press(bot, coordinator, "✅ Aprobar", message=request)
    assert "aprobado" in coordinator.messages[-1].text.lower()
    approved = officer.last
    assert "aprobó su registro" in approved.text
    assert "👤 Mi perfil" in approved.keyboard  # the main menu arrives with the approval
    assert await bot.role(officer) is Role.OFFICER
    [row] = await _officer_rows(bot)
    assert row.consent_at is not None and row.status == OfficerStatus.APPROVED.value
    assert row.decided_by == coordinator.id
    assert_clean(fake)


async def test_registration_by_search_and_rejection_in_coordinators_group(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    group = fake.group("Coordinación SIP")
    coordinator = fake.user("Carla")
    await coordinator.send("hola", chat=group)  # the group exists for the bot
    bot = await make_bot(coordinators_chat=group)
    await bot.appoint(coordinator)
    officer = fake.user("Luis")
    await start(bot, officer)
    await press(bot, officer, "✅ Acepto")
    replies = await say(bot, officer, "gob reg cusco")
    assert "Gobierno Regional de Cusco" in replies[-1].text
    await press(bot, officer, "✅ Sí, es mi entidad")
    await fill_profile(bot, officer, name="Luis Huamán Puma", email=None)
    await press(bot, officer, "✅ Enviar registro")
    request = group.last
    assert request is not None and "Luis Huamán Puma" in request.text
    assert "Red de Integridad del Gobierno Regional de Cusco" in request.text
    await coordinator.press("❌ Rechazar", message=request, chat=group)
    await bot.settle()
    assert "rechazado" in group.last.text  # type: ignore[union-attr]
    assert "no fue aprobado" in officer.last.text
    assert await bot.role(officer) is Role.GUEST
    # a rejected officer may try again
    replies = await start(bot, officer)
    assert replies[-1].buttons == ["✅ Acepto", "No acepto"]
    assert_clean(fake)


async def test_entity_invitation_link_registers_approved(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    coordinator = fake.user("Carla")
    bot = await make_bot()
    await bot.appoint(coordinator)
    replies = await say(bot, coordinator, "/invitar contraloria")
    link_message = replies[-1]
    assert "Contraloría General de la República" in link_message.text
    payload = payload_of(link_message.text)
    assert len(payload) <= 64 and payload.startswith("e_")

    officers = [fake.user("Ana"), fake.user("Beto")]
    for number, officer in enumerate(officers):
        welcome = await start(bot, officer, payload)
        assert "Contraloría General de la República" in welcome[-1].text
        replies = await press(bot, officer, "✅ Acepto")
        assert "Paso 2 de 5" in replies[-1].text  # the entity comes with the link
        await fill_profile(bot, officer, name=f"Oficial Prueba{'ab'[number]}", email=None)
        replies = await press(bot, officer, "✅ Enviar registro")
        assert "Quedó registrado(a)" in replies[-1].text
        assert await bot.role(officer) is Role.OFFICER
    assert coordinator.last is link_message or "Nuevo registro" not in coordinator.last.text

    # revoking the link stops it at once
    await press(bot, coordinator, "🚫 Revocar enlace", message=link_message)
    late = fake.user("Tardío")
    replies = await start(bot, late, payload)
    assert "revocado" in replies[0].text
    assert_clean(fake)


async def test_personal_link_from_sip_directory(
    fake: FakeTelegram, make_bot: BotFactory, tmp_path: object
) -> None:
    from pathlib import Path

    from bot.directory import import_officers

    bot = await make_bot()
    folder = Path(str(tmp_path))
    directory = folder / "directorio.csv"
    directory.write_text("nombre,entidad,correo,cargo\n"
                         "Rosa Díaz Paredes,MINSA,rdiaz@minsa.gob.pe,Jefa de la OII\n",
                         encoding="utf-8")
    out = folder / "links.csv"
    report = await import_officers(bot.s.db, bot.settings, directory, out, fake.bot_username)
    assert report.invited == 1 and not report.rejected
    link = out.read_text(encoding="utf-8").splitlines()[1].split(",")[3]
    payload = payload_of(link)

    rosa = fake.user("Rosa")
    await start(bot, rosa, payload)
    replies = await press(bot, rosa, "✅ Acepto")
    summary = replies[-1]
    assert "Rosa Díaz Paredes" in summary.text and "rdiaz@minsa.gob.pe" in summary.text
    assert "Ministerio de Salud" in summary.text
    await press(bot, rosa, "✅ Enviar registro")
    assert await bot.role(rosa) is Role.OFFICER
    rows = await _officer_rows(bot)
    assert len(rows) == 1 and rows[0].telegram_user_id == rosa.id  # the directory row was used

    intruder = fake.user("Otro")
    replies = await start(bot, intruder, payload)
    assert "ya fue usado" in replies[0].text
    assert_clean(fake)


async def test_declining_consent_stores_nothing(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot = await make_bot()
    user = fake.user("Pedro")
    await start(bot, user)
    replies = await press(bot, user, "No acepto")
    assert "No guardamos ningún dato" in (replies[-1].text if replies else user.last.text)
    async with bot.s.db.session() as session:
        assert (await session.execute(select(func.count()).select_from(DialogState))).scalar() == 0
    assert await _officer_rows(bot) == []
    assert_clean(fake)


async def test_restart_in_the_middle_keeps_what_was_typed(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot = await make_bot()
    user = fake.user("Marta")
    await start(bot, user)
    await press(bot, user, "✅ Acepto")
    await say(bot, user, "mef")
    await press(bot, user, "✅ Sí, es mi entidad")
    await say(bot, user, "Marta Ríos Castro")
    await bot.restart()
    replies = await say(bot, user, "Directora de Integridad")
    assert "Paso 4 de 5" in replies[-1].text
    await press(bot, user, "Omitir")
    await press(bot, user, "Omitir")
    summary = user.last.text
    assert "Marta Ríos Castro" in summary and "Ministerio de Economía y Finanzas" in summary
    await bot.restart()
    replies = await start(bot, user)  # /start after a restart resumes, it does not reset
    assert "Continuemos" in replies[0].text and "Revise sus datos" in replies[-1].text
    assert_clean(fake)


async def test_editing_from_the_summary(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot = await make_bot()
    user = fake.user("Iris")
    await start(bot, user)
    await press(bot, user, "✅ Acepto")
    await say(bot, user, "minedu")
    await press(bot, user, "✅ Sí, es mi entidad")
    await fill_profile(bot, user, name="Iris Vega Luna", email=None)
    await press(bot, user, "✏️ Correo")
    replies = await say(bot, user, "iris@minedu.gob.pe")
    assert "iris@minedu.gob.pe" in replies[-1].text and "Revise sus datos" in replies[-1].text
    await press(bot, user, "✏️ Entidad")
    choices = await say(bot, user, "sunat ministerio de economia")  # two entities: a choice
    buttons = choices[-1].buttons
    assert "Ministerio de Economía y Finanzas" in buttons
    assert any(b.startswith("SUNAT · Superintendencia Nacional de Aduanas") for b in buttons)
    await press(bot, user, "Ministerio de Economía y Finanzas")
    await press(bot, user, "✅ Sí, es mi entidad")
    assert "Ministerio de Economía y Finanzas" in user.last.text
    assert "Iris Vega Luna" in user.last.text  # nothing typed before was lost
    assert_clean(fake)
