"""Every odd input gets a clear Spanish answer and loses nothing already typed."""

from __future__ import annotations

from tests.conftest import BotFactory, BotHarness
from tests.fakebot import FakeTelegram, FakeUser
from tests.flows import fill_profile, press, register_by_search, say, start


async def _at_name_step(bot: BotHarness, user: FakeUser) -> None:
    await start(bot, user)
    await press(bot, user, "✅ Acepto")
    await say(bot, user, "minsa")
    await press(bot, user, "✅ Sí, es mi entidad")
    assert "Paso 2 de 5" in user.last.text


async def _summary_shows(bot: BotHarness, user: FakeUser, *expected: str) -> None:
    """Finishing the form shows everything typed before the odd input."""
    for text in expected:
        assert text in user.last.text, user.last.text


async def test_free_text_where_a_button_is_expected(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot = await make_bot()
    user = fake.user("Eva")
    await _at_name_step(bot, user)
    await fill_profile(bot, user, name="Eva Paz Soldán", email=None)
    replies = await say(bot, user, "sí, envíelo por favor")
    assert "use los botones" in replies[0].text
    assert "Revise sus datos" in replies[-1].text and "Eva Paz Soldán" in replies[-1].text
    assert fake.errors() == []


async def test_consent_buttons_expected_but_text_typed(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot = await make_bot()
    user = fake.user("Gus")
    await start(bot, user)
    replies = await say(bot, user, "acepto")
    assert "/start" in replies[0].text  # not registered: pointed to the start
    replies = await press(bot, user, "✅ Acepto", message=user.messages[0])
    assert "Paso 1 de 5" in replies[-1].text  # the welcome's buttons still work


async def test_buttons_from_an_old_message(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot = await make_bot()
    user = fake.user("Hugo")
    await start(bot, user)
    await press(bot, user, "✅ Acepto")
    levels_message = user.last
    await say(bot, user, "mininter")
    await press(bot, user, "✅ Sí, es mi entidad")
    await say(bot, user, "Hugo Salas Mora")
    # the level keyboard of step 1 is pressed again while at step 3
    replies = await press(bot, user, "Poder Judicial", message=levels_message)
    assert "paso anterior" in replies[0].text
    assert "Paso 3 de 5" in replies[-1].text
    await say(bot, user, "Oficial de Integridad")
    await press(bot, user, "Omitir")
    await press(bot, user, "Omitir")
    await _summary_shows(bot, user, "Hugo Salas Mora", "Ministerio del Interior")
    assert fake.unanswered_callback_queries() == []


async def test_forged_and_unknown_callback_data(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot = await make_bot()
    user = fake.user("Iván")
    await start(bot, user)
    message_id = user.last.message_id
    for data in ("zz:1", "rg:ent:999999", "rg:sum:submit", "rg:lvl:no-existe", "rg:net:x:y",
                 "ap:y:abc", "pf:edit:password", "bj"):
        await user.press_data(data, message_id)
        await bot.settle()
    assert fake.unanswered_callback_queries() == []
    assert fake.errors() == []


async def test_cancel_at_any_time(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot = await make_bot()
    user = fake.user("Julia")
    await _at_name_step(bot, user)
    replies = await say(bot, user, "/cancelar")
    assert "cancelé" in replies[0].text
    replies = await say(bot, user, "Julia Ramos Paz")
    assert "/start" in replies[0].text  # no dialog any more
    replies = await say(bot, user, "/cancelar")
    assert "No había nada" in replies[0].text


async def test_very_long_text_emoji_and_markup(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot = await make_bot()
    user = fake.user("Kike")
    await _at_name_step(bot, user)
    replies = await say(bot, user, "A" * 4000)
    assert "demasiado largo" in replies[0].text and "120" in replies[0].text
    replies = await say(bot, user, "😀🎉🙏")
    assert "solo puede tener letras" in replies[0].text
    replies = await say(bot, user, "<b>Kike</b> & <script>")
    assert "solo puede tener letras" in replies[0].text
    assert "&lt;b&gt;" in replies[0].raw_text or "<b>Kike</b>" in replies[0].text
    await say(bot, user, "Enrique Paz Ruiz")
    replies = await say(bot, user, "x" * 300)
    assert "demasiado largo" in replies[0].text
    await say(bot, user, "Oficial")
    replies = await say(bot, user, "no-es-un-correo")
    assert "no parece válido" in replies[0].text
    await say(bot, user, "kike@minsa.gob.pe")
    replies = await say(bot, user, "123")
    assert "teléfono no parece válido" in replies[0].text
    await say(bot, user, "+51 912 345 678")
    await _summary_shows(bot, user, "Enrique Paz Ruiz", "kike@minsa.gob.pe", "+51 912 345 678")
    assert fake.errors() == []


async def test_photos_stickers_documents_mid_registration(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot = await make_bot()
    user = fake.user("Lola")
    await _at_name_step(bot, user)
    await say(bot, user, "Lola Flores Díaz")
    for send in (user.send_photo, user.send_sticker):
        before = len(user.messages)
        await send()
        await bot.settle()
        replies = user.messages[before:]
        assert "necesito texto" in replies[0].text and "cargo" in replies[0].text
        assert "Paso 3 de 5" in replies[-1].text
    before = len(user.messages)
    await user.send_document("cv.pdf", b"%PDF-1.4")
    await bot.settle()
    assert "necesito texto" in user.messages[before].text
    await say(bot, user, "Analista")
    await press(bot, user, "Omitir")
    before = len(user.messages)
    await user.send_contact("+51987000111")  # sharing the contact answers the phone step
    await bot.settle()
    await _summary_shows(bot, user, "Lola Flores Díaz", "Analista", "+51 987 000 111")


async def test_media_and_unknown_command_outside_a_dialog(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot = await make_bot()
    user = fake.user("Manu")
    before = len(user.messages)
    await user.send_sticker()
    await bot.settle()
    assert "Solo puedo leer texto" in user.messages[before].text
    replies = await say(bot, user, "/foo")
    assert "No conozco el comando /foo" in replies[0].text


async def test_unknown_command_mid_registration_reasks(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot = await make_bot()
    user = fake.user("Nora")
    await _at_name_step(bot, user)
    replies = await say(bot, user, "/registrarme")
    assert "No conozco el comando" in replies[0].text and "Paso 2 de 5" in replies[-1].text


async def test_edited_message(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot = await make_bot()
    user = fake.user("Olga")
    await _at_name_step(bot, user)
    sent = await user.send("Olga Ruiz Soto")
    await bot.settle()
    before = len(user.messages)
    await user.edit(sent, "Olga Ruiz Sotomayor")
    await bot.settle()
    replies = user.messages[before:]
    assert "editó un mensaje" in replies[0].text
    assert "Paso 3 de 5" in replies[-1].text  # the edit did not move the dialog
    await say(bot, user, "Oficial")
    await press(bot, user, "Omitir")
    await press(bot, user, "Omitir")
    assert "Olga Ruiz Soto" in user.last.text and "Sotomayor" not in user.last.text


async def test_start_when_already_registered(fake: FakeTelegram, make_bot: BotFactory) -> None:
    admin = fake.user("Admin")
    await admin.send("/start")
    bot = await make_bot(admins=[admin])
    await bot.settle()
    user = fake.user("Pia")
    await register_by_search(bot, user, "reniec", name="Pía Loayza Reyes")
    replies = await start(bot, user)
    assert "pendiente de aprobación" in replies[0].text
    await press(bot, admin, "✅ Aprobar")
    replies = await start(bot, user)
    assert "ya está registrado(a)" in replies[0].text
    assert "Registro Nacional de Identificación" in replies[0].text


async def test_group_chat_gets_a_pointer_only(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot = await make_bot()
    group = fake.group("Oficiales de Salud")
    user = fake.user("Quique")
    await user.send("/start", chat=group)
    await bot.settle()
    await user.send("/perfil@IntegridadTestBot", chat=group)
    await bot.settle()
    messages = group.messages
    assert len(messages) == 2
    assert all("chat privado" in m.text and len(m.text.splitlines()) == 1 for m in messages)
    await user.send("hola a todos @alguien", chat=group)  # plain group chatter is ignored
    await user.send("/start@OtroBot", chat=group)  # and so are other bots' commands
    await bot.settle()
    assert len(group.messages) == 2
    await user.send("@IntegridadTestBot ¿me registro aquí?", chat=group)
    await bot.settle()
    assert len(group.messages) == 3 and "chat privado" in group.messages[-1].text
    assert user.messages == []


async def test_welcome_button_pressed_again_mid_registration(
    fake: FakeTelegram, make_bot: BotFactory
) -> None:
    bot = await make_bot()
    user = fake.user("Rita")
    await _at_name_step(bot, user)
    welcome = user.messages[0]  # its buttons were replaced; a late double tap still arrives
    await say(bot, user, "Rita Mora Vílchez")
    consent = welcome.history[0].reply_markup.buttons[0].callback_data  # type: ignore
    await user.press_data(consent, welcome.message_id)
    await bot.settle()
    assert "Continuemos" in user.messages[-2].text and "Paso 3 de 5" in user.last.text
    await say(bot, user, "Analista")
    await press(bot, user, "Omitir")
    await press(bot, user, "Omitir")
    await _summary_shows(bot, user, "Rita Mora Vílchez", "Ministerio de Salud")
    assert fake.errors() == [] and fake.unanswered_callback_queries() == []


async def test_regional_networks_are_paginated(fake: FakeTelegram, make_bot: BotFactory) -> None:
    bot = await make_bot()
    user = fake.user("Saúl")
    await start(bot, user)
    await press(bot, user, "✅ Acepto")
    await press(bot, user, "Gobiernos Regionales")
    first_page = user.last
    assert "página 1 de 2" in first_page.text
    assert len([b for b in first_page.buttons if "(" in b]) == 14
    assert "Tacna" not in " ".join(first_page.buttons)
    await press(bot, user, "Siguiente »")
    assert "página 2 de 2" in user.last.text
    await press(bot, user, "Tacna")
    await press(bot, user, "Gobierno Regional de Tacna")
    await press(bot, user, "✅ Sí, es mi entidad")
    assert "Paso 2 de 5" in user.last.text
    assert fake.errors() == []
