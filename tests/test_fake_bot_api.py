"""Tests of the fake Bot API server (tests/fakebot) and of the Telegram HTML validator.

The fake is driven with PTB's own ``telegram.Bot`` over real HTTP, so what passes here is what
the bot under test will meet.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    KeyboardButton,
    MaybeInaccessibleMessage,
    MenuButtonCommands,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.telegram_html import parse_telegram_html, utf16_length
from tests.fakebot import AsgiServer, FakeError, FakeTelegram, FakeUser, too_many_requests
from tests.fakebot import errors as E

# ----------------------------------------------------------------------------------------
# fixtures and helpers
# ----------------------------------------------------------------------------------------


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    client = Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url)
    async with client:
        yield client


def keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    """One row of inline buttons."""
    return InlineKeyboardMarkup([list(buttons)])


async def refusal(fake: FakeTelegram, call: Any, exc_type: type[Exception] = BadRequest) -> str:
    """Await ``call``, expect PTB to raise ``exc_type``, return the fake's exact description."""
    before = len(fake.errors())
    with pytest.raises(exc_type):
        await call
    assert len(fake.errors()) == before + 1
    description = fake.errors()[-1].description
    assert description is not None
    return description


async def known_user(fake: FakeTelegram, bot: Bot, name: str = "Ana") -> FakeUser:
    """A user who has talked to the bot (so the bot may write to them); updates confirmed."""
    user = fake.user(name)
    await user.send("hola")
    updates = await bot.get_updates(timeout=1)
    await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    return user


async def raw_call(fake: FakeTelegram, method: str, **kwargs: Any) -> httpx.Response:
    """Call the fake with plain httpx (any encoding), bypassing PTB's own checks."""
    async with httpx.AsyncClient() as client:
        return await client.post(f"{fake.base_url}{fake.token}/{method}", **kwargs)


# ----------------------------------------------------------------------------------------
# parse_telegram_html
# ----------------------------------------------------------------------------------------

VALID_HTML = [
    ("plain text", "plain text"),
    ("<b>bold</b> <strong>strong</strong>", "bold strong"),
    ("<i>i</i><em>em</em><u>u</u><ins>ins</ins>", "iemuins"),
    ("<s>s</s><strike>strike</strike><del>del</del>", "sstrikedel"),
    ('<a href="https://www.gob.pe/pcm?a=1&amp;b=2">PCM</a>', "PCM"),
    ('<a href="https://x.pe/?a=1&b=2">x</a>', "x"),
    ("<code>x &lt; y</code>", "x < y"),
    ('<pre><code class="language-python">print(1)</code></pre>', "print(1)"),
    ("<blockquote>cita</blockquote>", "cita"),
    ("<blockquote expandable>larga</blockquote>", "larga"),
    ("<tg-spoiler>oculto</tg-spoiler>", "oculto"),
    ('<span class="tg-spoiler">oculto</span>', "oculto"),
    ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍"),
    ("<b>negrita <i>y cursiva</i></b>", "negrita y cursiva"),
    ("&lt;&gt;&amp;&quot;&#39;&#x27;&#128512;", "<>&\"''😀"),
    ("<B>mayúsculas</B>", "mayúsculas"),
    ("<b>cerrada con</>", "cerrada con"),
    ("<a href='https://x.pe'>comillas simples</a>", "comillas simples"),
    ("línea 1\nlínea 2", "línea 1\nlínea 2"),
]

INVALID_HTML = [
    ("hola <div>x</div>", 'Unsupported start tag "div" at byte offset 5'),
    ("ñ<div>", 'Unsupported start tag "div" at byte offset 2'),  # offsets are UTF-8 bytes
    ("salto<br/>", 'Unsupported start tag "br/" at byte offset 5'),
    ("a < b", 'Unsupported start tag "" at byte offset 2'),
    ("a <", "Unclosed start tag at byte offset 2"),
    ("a > b", 'Unescaped ">" at byte offset 2'),
    ("Sí & no", 'Unescaped "&" at byte offset 4'),
    ("&nbsp;", 'Unescaped "&" at byte offset 0'),
    ("&#xZZ;", 'Unescaped "&" at byte offset 0'),
    ("<b>sin cerrar", 'Can\'t find end tag corresponding to start tag "b"'),
    ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
    ("x</b>", "Unexpected end tag at byte offset 1"),
    ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ('<span class="rojo">x</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ("<a>x</a>", 'Tag "a" must have attribute "href" at byte offset 0'),
    ("<tg-emoji>x</tg-emoji>", 'Tag "tg-emoji" must have attribute "emoji-id" at byte offset 0'),
    ('<a href="https://x.pe>x</a>', "Unclosed start tag at byte offset 0"),
    ("<b bold>x</b>", 'Expected equal sign in declaration of an attribute of the tag "b"'),
]


@pytest.mark.parametrize(("html", "plain"), VALID_HTML)
def test_valid_html_passes_and_gives_the_visible_text(html: str, plain: str) -> None:
    parsed = parse_telegram_html(html)
    assert parsed.error is None
    assert parsed.plain_text == plain


@pytest.mark.parametrize(("html", "problem"), INVALID_HTML)
def test_invalid_html_fails_with_telegrams_description(html: str, problem: str) -> None:
    parsed = parse_telegram_html(html)
    assert parsed.error is not None
    assert parsed.error.startswith("Bad Request: can't parse entities: ")
    assert problem in parsed.error


def test_html_entities_are_reported_in_utf16_units() -> None:
    parsed = parse_telegram_html('😀 <b>hola</b> <a href="https://x.pe">enlace</a>')
    assert parsed.entities == [
        {"type": "bold", "offset": 3, "length": 4},
        {"type": "text_link", "offset": 8, "length": 6, "url": "https://x.pe"},
    ]


def test_utf16_length_counts_astral_characters_twice() -> None:
    assert utf16_length("abc") == 3
    assert utf16_length("ñá") == 2
    assert utf16_length("😀") == 2
    assert utf16_length("") == 0


# ----------------------------------------------------------------------------------------
# the server: addresses, identity, wire formats
# ----------------------------------------------------------------------------------------


async def test_get_me_over_real_http(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "IntegridadTestBot" == fake.bot_username
    assert me.id == fake.bot_id == 123456
    assert fake.base_url == f"{fake.url}/bot"
    assert fake.base_file_url == f"{fake.url}/file/bot"
    assert fake.calls_to("getMe")[-1].ok is True


async def test_unknown_method_is_404_and_wrong_token_is_401(fake: FakeTelegram) -> None:
    response = await raw_call(fake, "sendTelepathy", data={"chat_id": "1"})
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{fake.base_url}999:WRONG/getMe")
    assert response.status_code == 401
    assert response.json()["description"] == "Unauthorized"
    wrong = Bot("999:WRONG", base_url=fake.base_url)
    with pytest.raises(InvalidToken):
        await wrong.get_me()
    assert [c.error_code for c in fake.errors()] == [404, 401, 401]


async def test_json_bodies_are_understood_like_form_bodies(fake: FakeTelegram, bot: Bot) -> None:
    ana = await known_user(fake, bot)
    markup = {"inline_keyboard": [[{"text": "Sí", "callback_data": "si"}]]}
    response = await raw_call(
        fake, "sendMessage", json={"chat_id": ana.id, "text": "¿Confirma?", "reply_markup": markup}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True
    message = Message.de_json(body["result"], bot)
    assert message.text == "¿Confirma?"
    assert message.reply_markup is not None
    assert ana.last is not None and ana.last.buttons == ["Sí"]
    assert ana.last.button_data("Sí") == "si"


async def test_methods_are_case_insensitive_like_telegram(fake: FakeTelegram) -> None:
    response = await raw_call(fake, "getme")
    assert response.json()["result"]["username"] == "IntegridadTestBot"
    assert fake.calls[-1].method == "getMe"


# ----------------------------------------------------------------------------------------
# refusals
# ----------------------------------------------------------------------------------------


async def test_sending_to_a_chat_that_never_talked_to_the_bot_is_refused(
    fake: FakeTelegram, bot: Bot
) -> None:
    ana = fake.user("Ana")
    assert await refusal(fake, bot.send_message(ana.id, "hola")) == E.CHAT_NOT_FOUND
    assert await refusal(fake, bot.send_message(424242, "hola")) == E.CHAT_NOT_FOUND
    await ana.send("buenas")
    sent = await bot.send_message(ana.id, "hola")
    assert sent.text == "hola"
    assert fake.is_known_chat(ana.id)


@pytest.mark.parametrize(
    ("text", "parse_mode"),
    [("", None), ("   \n ", None), ("<b> </b>", "HTML"), ("<i></i>", "HTML")],
)
async def test_empty_text_after_entity_parsing_is_refused(
    fake: FakeTelegram, bot: Bot, text: str, parse_mode: str | None
) -> None:
    ana = await known_user(fake, bot)
    description = await refusal(fake, bot.send_message(ana.id, text, parse_mode=parse_mode))
    assert description == "Bad Request: message text is empty"


async def test_text_length_is_counted_in_utf16_after_parsing(fake: FakeTelegram, bot: Bot) -> None:
    ana = await known_user(fake, bot)
    await bot.send_message(ana.id, "a" * 4096)
    await bot.send_message(ana.id, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(ana.id, "😀" * 2048)
    assert fake.errors() == []
    too_long = [
        bot.send_message(ana.id, "a" * 4097),
        bot.send_message(ana.id, "&amp;" * 4097, parse_mode="HTML"),
        bot.send_message(ana.id, "😀" * 2049),  # 2049 characters, 4098 UTF-16 units
    ]
    for call in too_long:
        assert await refusal(fake, call) == "Bad Request: message is too long"


async def test_caption_over_1024_is_refused(fake: FakeTelegram, bot: Bot) -> None:
    ana = await known_user(fake, bot)
    await bot.send_document(ana.id, b"x", filename="a.txt", caption="c" * 1024)
    description = await refusal(
        fake, bot.send_document(ana.id, b"x", filename="a.txt", caption="c" * 1025)
    )
    assert description == "Bad Request: message caption is too long"


async def test_invalid_html_is_refused_and_valid_html_is_shown_as_plain_text(
    fake: FakeTelegram, bot: Bot
) -> None:
    ana = await known_user(fake, bot)
    description = await refusal(
        fake, bot.send_message(ana.id, "Hola <div>Ana</div>", parse_mode="HTML")
    )
    assert description == (
        'Bad Request: can\'t parse entities: Unsupported start tag "div" at byte offset 5'
    )
    description = await refusal(fake, bot.send_message(ana.id, "5 < 6", parse_mode="HTML"))
    assert "can't parse entities" in description
    sent = await bot.send_message(ana.id, "<b>Sesión</b> &amp; <i>taller</i>\n", parse_mode="HTML")
    assert sent.text == "Sesión & taller"
    assert [e.type for e in sent.entities] == ["bold", "italic"]
    assert ana.last is not None
    assert ana.last.text == "Sesión & taller"
    assert ana.last.raw_text == "<b>Sesión</b> &amp; <i>taller</i>\n"
    # without parse_mode the same characters are just text
    plain = await bot.send_message(ana.id, "5 < 6 & <div>")
    assert plain.text == "5 < 6 & <div>"


async def test_callback_data_limit_is_64_bytes_not_characters(fake: FakeTelegram, bot: Bot) -> None:
    ana = await known_user(fake, bot)
    await bot.send_message(
        ana.id, "ok", reply_markup=keyboard(InlineKeyboardButton("a", callback_data="x" * 64))
    )
    await bot.send_message(
        ana.id, "ok", reply_markup=keyboard(InlineKeyboardButton("a", callback_data="ñ" * 32))
    )
    assert fake.errors() == []
    for data in ("x" * 65, "ñ" * 33):  # 33 characters are 66 bytes
        markup = keyboard(InlineKeyboardButton("a", callback_data=data))
        description = await refusal(fake, bot.send_message(ana.id, "x", reply_markup=markup))
        assert description == "Bad Request: BUTTON_DATA_INVALID"


@pytest.mark.parametrize(
    ("button", "problem"),
    [
        (InlineKeyboardButton("Sin acción"), E.TEXT_BUTTONS_UNALLOWED),
        (InlineKeyboardButton("Vacío", callback_data=""), E.TEXT_BUTTONS_UNALLOWED),
        (InlineKeyboardButton("", callback_data="x"), 'Field "text" must be non-empty'),
        (
            InlineKeyboardButton("Dos", callback_data="x", url="https://x.pe"),
            "exactly one of the optional fields must be used",
        ),
    ],
)
async def test_bad_inline_buttons_are_refused(
    fake: FakeTelegram, bot: Bot, button: InlineKeyboardButton, problem: str
) -> None:
    ana = await known_user(fake, bot)
    description = await refusal(fake, bot.send_message(ana.id, "x", reply_markup=keyboard(button)))
    assert description.startswith("Bad Request: ")
    assert problem in description
    assert ana.messages == []


async def test_editing_refusals(fake: FakeTelegram, bot: Bot) -> None:
    ana = await known_user(fake, bot)
    description = await refusal(fake, bot.edit_message_text("x", chat_id=ana.id, message_id=999))
    assert description == "Bad Request: message to edit not found"

    markup = keyboard(InlineKeyboardButton("Sí", callback_data="si"))
    sent = await bot.send_message(ana.id, "<b>Hola</b>", parse_mode="HTML", reply_markup=markup)
    same = bot.edit_message_text(
        "<b>Hola</b>",
        chat_id=ana.id,
        message_id=sent.message_id,
        parse_mode="HTML",
        reply_markup=markup,
    )
    assert await refusal(fake, same) == E.MESSAGE_NOT_MODIFIED
    assert E.MESSAGE_NOT_MODIFIED.startswith("Bad Request: message is not modified: ")
    # <strong> is the same entity as <b>: still not modified
    same_entities = bot.edit_message_text(
        "<strong>Hola</strong>",
        chat_id=ana.id,
        message_id=sent.message_id,
        parse_mode="HTML",
        reply_markup=markup,
    )
    assert await refusal(fake, same_entities) == E.MESSAGE_NOT_MODIFIED
    same_markup = bot.edit_message_reply_markup(
        chat_id=ana.id, message_id=sent.message_id, reply_markup=markup
    )
    assert await refusal(fake, same_markup) == E.MESSAGE_NOT_MODIFIED

    # the same text without the keyboard is a change (the keyboard goes away)
    edited = await bot.edit_message_text(
        "<b>Hola</b>", chat_id=ana.id, message_id=sent.message_id, parse_mode="HTML"
    )
    assert isinstance(edited, Message) and edited.reply_markup is None
    current = fake.message(ana.id, sent.message_id)
    assert current is not None and current.edited and current.buttons == []
    assert current.history[0].reply_markup is not None

    invalid = bot.edit_message_text(
        "<p>x</p>", chat_id=ana.id, message_id=sent.message_id, parse_mode="HTML"
    )
    assert 'Unsupported start tag "p"' in await refusal(fake, invalid)


async def test_delete_message(fake: FakeTelegram, bot: Bot) -> None:
    ana = await known_user(fake, bot)
    sent = await bot.send_message(ana.id, "temporal")
    assert await bot.delete_message(ana.id, sent.message_id) is True
    assert ana.messages == []
    assert fake.chat_messages(ana.id, include_deleted=True)[0].deleted
    again = bot.delete_message(ana.id, sent.message_id)
    assert await refusal(fake, again) == "Bad Request: message to delete not found"


# ----------------------------------------------------------------------------------------
# callback queries
# ----------------------------------------------------------------------------------------


async def test_a_press_is_unanswered_until_the_bot_answers_it_once(
    fake: FakeTelegram, bot: Bot
) -> None:
    ana = await known_user(fake, bot)
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Confirmar asistencia", callback_data="rsvp:yes")],
            [InlineKeyboardButton("No podré asistir", callback_data="rsvp:no")],
        ]
    )
    await bot.send_message(ana.id, "¿Asistirá?", reply_markup=markup)
    record = await ana.press("Confirmar")  # a unique substring of the label
    assert record.data == "rsvp:yes"
    assert fake.unanswered_callback_queries() == [record]

    updates = await bot.get_updates(timeout=1)
    query = updates[-1].callback_query
    assert isinstance(query, CallbackQuery)
    assert query.data == "rsvp:yes" and query.from_user.id == ana.id
    assert query.message is not None and query.message.text == "¿Asistirá?"

    assert await query.answer("Registrado") is True
    assert fake.unanswered_callback_queries() == []
    assert record.answer is not None and record.answer["text"] == "Registrado"

    assert await refusal(fake, query.answer()) == E.QUERY_TOO_OLD
    assert await refusal(fake, bot.answer_callback_query("123")) == E.QUERY_TOO_OLD


async def test_answering_after_the_timeout_fails(fake: FakeTelegram, bot: Bot) -> None:
    fake.callback_answer_timeout = 0.1
    ana = await known_user(fake, bot)
    await bot.send_message(
        ana.id, "x", reply_markup=keyboard(InlineKeyboardButton("a", callback_data="a"))
    )
    record = await ana.press("a")
    await asyncio.sleep(0.2)
    assert await refusal(fake, bot.answer_callback_query(record.id)) == E.QUERY_TOO_OLD


async def test_press_explains_what_buttons_exist(fake: FakeTelegram, bot: Bot) -> None:
    ana = await known_user(fake, bot)
    with pytest.raises(AssertionError, match="no message with inline buttons"):
        await ana.press("Sí")
    await bot.send_message(
        ana.id,
        "¿Modalidad?",
        reply_markup=keyboard(
            InlineKeyboardButton("Virtual", callback_data="m:v"),
            InlineKeyboardButton("Presencial virtual", callback_data="m:p"),
            InlineKeyboardButton("Guía", url="https://www.gob.pe"),
        ),
    )
    with pytest.raises(AssertionError, match=r"no button 'Híbrida'.*'Virtual' \(m:v\)"):
        await ana.press("Híbrida")
    with pytest.raises(AssertionError, match="matches several buttons"):
        await ana.press("virt")
    with pytest.raises(AssertionError, match="does not send a callback query"):
        await ana.press("Guía")
    assert (await ana.press("Virtual")).data == "m:v"  # exact label wins
    assert (await ana.press("m:p")).data == "m:p"  # by callback_data


async def test_forged_press_on_a_missing_message(fake: FakeTelegram, bot: Bot) -> None:
    ana = await known_user(fake, bot)
    await ana.press_data("admin:delete_all", message_id=777)
    updates = await bot.get_updates(timeout=1)
    query = updates[-1].callback_query
    assert query is not None and query.data == "admin:delete_all"
    assert isinstance(query.message, MaybeInaccessibleMessage)
    assert query.message.is_accessible is False  # Telegram's InaccessibleMessage (date 0)
    assert query.message.message_id == 777


# ----------------------------------------------------------------------------------------
# getUpdates
# ----------------------------------------------------------------------------------------


async def test_long_poll_returns_as_soon_as_an_update_is_queued(
    fake: FakeTelegram, bot: Bot
) -> None:
    ana = fake.user("Ana")

    async def later() -> None:
        await asyncio.sleep(0.3)
        await ana.send("hola")

    task = asyncio.create_task(later())
    started = time.monotonic()
    updates = await bot.get_updates(timeout=10)
    elapsed = time.monotonic() - started
    await task
    assert 0.25 <= elapsed < 2.0
    assert [u.message.text for u in updates if u.message] == ["hola"]


async def test_long_poll_honours_timeout_when_nothing_comes(fake: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 3.0


async def test_offset_confirms_and_unconfirmed_updates_come_again(
    fake: FakeTelegram, bot: Bot
) -> None:
    ana = fake.user("Ana")
    for text in ("uno", "dos", "tres"):
        await ana.send(text)
    first = await bot.get_updates(timeout=0, limit=2)
    assert [u.message.text for u in first if u.message] == ["uno", "dos"]
    again = await bot.get_updates(timeout=0)  # nothing confirmed: at-least-once delivery
    assert [u.message.text for u in again if u.message] == ["uno", "dos", "tres"]
    rest = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in rest if u.message] == ["tres"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1, timeout=0) == ()
    assert fake.pending_updates == []


async def test_allowed_updates_filters_update_types(fake: FakeTelegram, bot: Bot) -> None:
    ana = await known_user(fake, bot)
    await bot.send_message(
        ana.id, "x", reply_markup=keyboard(InlineKeyboardButton("a", callback_data="a"))
    )
    await ana.press("a")
    await ana.send("texto")
    updates = await bot.get_updates(timeout=0, allowed_updates=["message"])
    assert [type_of(u) for u in updates] == ["message"]


def type_of(update: Update) -> str:
    """The update type, e.g. ``message`` or ``callback_query``."""
    data = update.to_dict()
    return next(k for k in data if k != "update_id")


async def test_a_second_poller_conflicts_with_the_first(fake: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    async with Bot(fake.token, base_url=fake.base_url) as second_instance:
        assert await second_instance.get_updates(timeout=0) == ()
    with pytest.raises(Conflict):
        await first
    assert fake.errors()[-1].description == E.OTHER_GET_UPDATES


async def test_a_poll_the_client_abandons_is_not_an_error(fake: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    poll.cancel()  # what PTB's Updater.stop() does
    with pytest.raises(asyncio.CancelledError):
        await poll
    abandoned = fake.calls_to("getUpdates")[0]
    for _ in range(50):
        if abandoned.abandoned:
            break
        await asyncio.sleep(0.02)
    assert abandoned.abandoned and abandoned.ok is None
    await fake.user("Ana").send("hola")
    assert await bot.get_updates(timeout=0) != ()
    assert fake.errors() == []


# ----------------------------------------------------------------------------------------
# webhook
# ----------------------------------------------------------------------------------------


async def test_webhook_blocks_get_updates_and_is_recorded(fake: FakeTelegram, bot: Bot) -> None:
    assert await bot.set_webhook("https://bot.example.pe/telegram", secret_token="s3cr3t_-x")
    assert fake.webhook is not None and fake.webhook.secret_token == "s3cr3t_-x"
    info = await bot.get_webhook_info()
    assert info.url == "https://bot.example.pe/telegram"
    description = await refusal(fake, bot.get_updates(timeout=0), Conflict)
    assert description == E.WEBHOOK_ACTIVE
    bad_secret = bot.set_webhook("https://bot.example.pe/telegram", secret_token="no válido")
    assert "secret token" in await refusal(fake, bad_secret)
    assert await bot.delete_webhook()
    assert fake.webhook is None
    assert await bot.get_updates(timeout=0) == ()


async def test_webhook_receives_updates_with_the_secret_header(fake: FakeTelegram) -> None:
    received: list[tuple[dict[str, Any], str | None]] = []

    async def endpoint(request: Request) -> Response:
        received.append(
            (await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        return Response(status_code=200)

    receiver = Starlette(routes=[Route("/telegram", endpoint, methods=["POST"])])
    async with AsgiServer(receiver) as server:
        client = Bot(fake.token, base_url=fake.base_url)
        async with client:
            await client.set_webhook(f"{server.url}/telegram", secret_token="abc")
        await fake.user("Ana").send("por webhook")
        await fake.idle(timeout=5)
    assert len(received) == 1
    update, secret = received[0]
    assert update["message"]["text"] == "por webhook"
    assert secret == "abc"
    assert fake.pending_updates == []


# ----------------------------------------------------------------------------------------
# commands, menu button, chat actions, getChat, close
# ----------------------------------------------------------------------------------------


async def test_commands_are_stored_per_scope_and_language(fake: FakeTelegram, bot: Bot) -> None:
    ana = await known_user(fake, bot, "Ana")
    beto = await known_user(fake, bot, "Beto")
    await bot.set_my_commands([BotCommand("start", "Iniciar"), BotCommand("ayuda", "Ayuda")])
    await bot.set_my_commands(
        [BotCommand("start", "Start")], scope=BotCommandScopeAllPrivateChats(), language_code="en"
    )
    await bot.set_my_commands(
        [BotCommand("start", "Iniciar"), BotCommand("convocar", "Convocar sesión")],
        scope=BotCommandScopeChat(beto.id),
    )
    assert fake.commands() == [("start", "Iniciar"), ("ayuda", "Ayuda")]
    assert fake.commands("chat", chat_id=beto.id) == [
        ("start", "Iniciar"),
        ("convocar", "Convocar sesión"),
    ]
    assert ana.visible_commands() == [("start", "Iniciar"), ("ayuda", "Ayuda")]
    assert fake.commands_for(ana.id, language_code="en") == [("start", "Start")]
    assert [c for c, _ in beto.visible_commands()] == ["start", "convocar"]
    got = await bot.get_my_commands(scope=BotCommandScopeChat(beto.id))
    assert [c.command for c in got] == ["start", "convocar"]

    await bot.delete_my_commands(scope=BotCommandScopeChat(beto.id))
    assert [c for c, _ in beto.visible_commands()] == ["start", "ayuda"]

    stranger = fake.user("Nadie")
    unknown_scope = bot.set_my_commands(
        [BotCommand("start", "x")], scope=BotCommandScopeChat(stranger.id)
    )
    assert await refusal(fake, unknown_scope) == E.CHAT_NOT_FOUND
    bad = bot.set_my_commands([BotCommand("Start-Now", "x")])
    assert await refusal(fake, bad) == "Bad Request: BOT_COMMAND_INVALID"


async def test_menu_button_chat_action_get_chat_close(fake: FakeTelegram, bot: Bot) -> None:
    ana = await known_user(fake, bot)
    assert await bot.set_chat_menu_button(ana.id, MenuButtonCommands())
    assert fake.menu_button(ana.id) == {"type": "commands"}
    assert await bot.send_chat_action(ana.id, "typing")
    bad_action = bot.send_chat_action(ana.id, "dancing")
    assert "action" in await refusal(fake, bad_action)
    chat = await bot.get_chat(ana.id)
    assert chat.first_name == "Ana" and chat.type == "private"
    assert await bot.close() and fake.closed
    assert await bot.log_out() and fake.logged_out


# ----------------------------------------------------------------------------------------
# documents and files
# ----------------------------------------------------------------------------------------


async def test_send_document_stores_filename_and_bytes(fake: FakeTelegram, bot: Bot) -> None:
    ana = await known_user(fake, bot)
    content = "código,estado\nSIP-001,abierta\n".encode()
    sent = await bot.send_document(
        ana.id,
        content,
        filename="solicitudes.csv",
        caption="<b>Exportación</b>",
        parse_mode="HTML",
    )
    assert sent.document is not None and sent.document.file_name == "solicitudes.csv"
    assert sent.caption == "Exportación"
    [document] = fake.sent_documents(ana.id)
    assert document.filename == "solicitudes.csv"
    assert document.content == content
    assert document.mime_type == "text/csv"
    assert ana.last is not None and ana.last.document == document

    # the file_id can be sent again, and downloaded through getFile
    await bot.send_document(ana.id, sent.document.file_id)
    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == content


async def test_send_document_refusals(fake: FakeTelegram, bot: Bot) -> None:
    ana = await known_user(fake, bot)
    response = await raw_call(fake, "sendDocument", data={"chat_id": str(ana.id)})
    assert response.status_code == 400
    assert response.json()["description"] == "Bad Request: there is no document in the request"
    empty = bot.send_document(ana.id, b"", filename="vacío.txt")
    assert await refusal(fake, empty) == "Bad Request: file must be non-empty"
    unknown = bot.send_document(ana.id, "not-a-file-id")
    assert "wrong file identifier" in await refusal(fake, unknown)


async def test_bot_downloads_a_document_a_user_sent(fake: FakeTelegram, bot: Bot) -> None:
    ana = fake.user("Ana")
    await ana.send_document("directorio.csv", b"ruc,entidad\n", caption="Directorio")
    [update] = await bot.get_updates(timeout=1)
    assert update.message is not None and update.message.document is not None
    assert update.message.document.file_name == "directorio.csv"
    assert update.message.caption == "Directorio"
    data = await (await update.message.document.get_file()).download_as_bytearray()
    assert bytes(data) == b"ruc,entidad\n"


# ----------------------------------------------------------------------------------------
# interceptors and blocked chats
# ----------------------------------------------------------------------------------------


async def test_a_blocked_user_gives_403(fake: FakeTelegram, bot: Bot) -> None:
    ana = await known_user(fake, bot)
    ana.block_bot()
    description = await refusal(fake, bot.send_message(ana.id, "recordatorio"), Forbidden)
    assert description == "Forbidden: bot was blocked by the user"
    assert fake.errors()[-1].error_code == 403
    ana.unblock_bot()
    await bot.send_message(ana.id, "recordatorio")


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # retry_after
async def test_interceptors_can_refuse_any_call(fake: FakeTelegram, bot: Bot) -> None:
    ana = await known_user(fake, bot)
    seen: list[str] = []

    def flood(method: str, params: dict[str, Any]) -> FakeError | None:
        seen.append(method)
        return too_many_requests(7) if method == "sendMessage" else None

    fake.interceptors.append(flood)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ana.id, "x")
    assert caught.value.retry_after in (7, timedelta(seconds=7))
    assert fake.errors()[-1].error_code == 429
    await bot.send_chat_action(ana.id, "typing")
    assert seen == ["sendMessage", "sendChatAction"]
    assert ana.messages == []


# ----------------------------------------------------------------------------------------
# simulated people
# ----------------------------------------------------------------------------------------


async def test_user_updates_deserialise_in_ptb(fake: FakeTelegram, bot: Bot) -> None:
    ana = fake.user("Ana", last_name="Quispe", username="anaq")
    group = fake.group("Coordinación SIP")
    await ana.start("inv_ABC123")
    first = await ana.send("/ayuda@IntegridadTestBot", chat=group)
    await ana.send_photo(caption="foto")
    await ana.send_sticker()
    await ana.send_contact()
    await ana.edit(first, "/ayuda")
    query = await ana.inline_query("guía")
    updates = await bot.get_updates(timeout=1)
    start, in_group, photo, sticker, contact, edited, inline = updates
    assert start.message is not None and start.message.text == "/start inv_ABC123"
    assert start.message.entities[0].length == len("/start")
    assert start.message.from_user is not None
    assert start.message.from_user.username == "anaq"
    assert in_group.message is not None and in_group.message.chat.id == group.id < 0
    assert in_group.message.chat.title == "Coordinación SIP"
    assert in_group.message.entities[0].length == len("/ayuda@IntegridadTestBot")
    assert photo.message is not None and photo.message.photo and photo.message.caption == "foto"
    assert sticker.message is not None and sticker.message.sticker is not None
    assert contact.message is not None and contact.message.contact is not None
    assert contact.message.contact.user_id == ana.id
    assert edited.edited_message is not None and edited.edited_message.text == "/ayuda"
    assert inline.inline_query is not None and inline.inline_query.query == "guía"
    result = InlineQueryResultArticle("1", "Guía 1", InputTextMessageContent("Guía 1"))
    assert await bot.answer_inline_query(query.id, [result])
    assert query.answered and query.results is not None and query.results[0]["id"] == "1"


async def test_tap_uses_the_current_reply_keyboard(fake: FakeTelegram, bot: Bot) -> None:
    ana = await known_user(fake, bot)
    with pytest.raises(AssertionError, match="no reply keyboard"):
        await ana.tap("Mi perfil")
    markup = ReplyKeyboardMarkup(
        [["Mi perfil", "Preguntar"], [KeyboardButton("Compartir teléfono", request_contact=True)]]
    )
    await bot.send_message(ana.id, "Menú", reply_markup=markup)
    assert ana.last is not None and ana.last.keyboard == [
        "Mi perfil",
        "Preguntar",
        "Compartir teléfono",
    ]
    await ana.tap("Mi perfil")
    await ana.tap("teléfono")
    with pytest.raises(AssertionError, match="no such button"):
        await ana.tap("Salir")
    updates = await bot.get_updates(offset=None, timeout=0)
    assert updates[-2].message is not None and updates[-2].message.text == "Mi perfil"
    assert updates[-1].message is not None and updates[-1].message.contact is not None
    await bot.send_message(ana.id, "Listo", reply_markup=ReplyKeyboardRemove())
    assert fake.reply_keyboard(ana.id) is None


async def test_wait_reply_sees_sends_and_edits_after_the_last_action(
    fake: FakeTelegram, bot: Bot
) -> None:
    ana = await known_user(fake, bot)
    await bot.send_message(ana.id, "antes")  # before the next action: not a reply to it
    await ana.send("¿hay sesión?")

    async def bot_answers() -> None:
        await asyncio.sleep(0.1)
        sent = await bot.send_message(ana.id, "Sí, el martes")
        await bot.edit_message_text(
            "Sí, el martes 10:00", chat_id=ana.id, message_id=sent.message_id
        )

    task = asyncio.create_task(bot_answers())
    reply = await ana.wait_reply()
    edit = await ana.wait_reply()
    await task
    assert reply.text == "Sí, el martes" and not reply.edited
    assert edit.text == "Sí, el martes 10:00" and edit.edited
    assert edit.message_id == reply.message_id
    assert [m.text for m in ana.messages] == ["antes", "Sí, el martes 10:00"]


async def test_wait_reply_timeout_explains_what_the_chat_got(fake: FakeTelegram, bot: Bot) -> None:
    ana = await known_user(fake, bot)
    await bot.send_message(ana.id, "Bienvenida")
    await ana.send("hola")
    with pytest.raises(BadRequest):
        await bot.send_message(ana.id, "<x>", parse_mode="HTML")
    with pytest.raises(AssertionError) as caught:
        await ana.wait_reply(timeout=0.2)
    text = str(caught.value)
    assert "Bienvenida" in text
    assert "never fetched" in text  # nobody polled the last update
    assert "Unsupported start tag" in text


async def test_group_messages_and_wait_message(fake: FakeTelegram, bot: Bot) -> None:
    ana = fake.user("Ana")
    group = fake.group("Coordinación SIP")
    await ana.send("/convocar", chat=group)
    await bot.send_message(group.id, "Convocatoria enviada")
    got = await fake.wait_message(group.id, lambda m: "Convocatoria" in m.body, timeout=1)
    assert got.chat_id == group.id
    assert group.last is not None and group.last.text == "Convocatoria enviada"
    assert ana.messages == []


async def test_idle_waits_for_the_bot_and_fails_when_nobody_polls(
    fake: FakeTelegram, bot: Bot
) -> None:
    await fake.idle(timeout=1)
    await fake.user("Ana").send("hola")
    with pytest.raises(AssertionError, match="1 update"):
        await fake.idle(timeout=0.3)
    await bot.get_updates(timeout=0)
    await fake.idle(timeout=1)


# ----------------------------------------------------------------------------------------
# end to end: a PTB Application polling the fake, and a bot in another process
# ----------------------------------------------------------------------------------------


async def test_ptb_application_end_to_end(fake: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        payload = " ".join(context.args or [])
        await update.effective_message.reply_html(
            f"<b>Bienvenida</b> ({payload or 'sin invitación'})",
            reply_markup=keyboard(InlineKeyboardButton("Registrarme", callback_data="reg")),
        )

    async def register(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text("Elija su nivel de gobierno")

    app: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(register, pattern="^reg$"))
    ana = fake.user("Ana")
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        try:
            await ana.start("inv_42")
            welcome = await ana.wait_reply()
            assert welcome.text == "Bienvenida (inv_42)"
            assert welcome.buttons == ["Registrarme"]
            await ana.press("Registrarme")
            edited = await ana.wait_reply()
            assert edited.text == "Elija su nivel de gobierno" and edited.edited
            await fake.idle()
        finally:
            await app.updater.stop()
            await app.stop()
    assert fake.errors() == []
    assert fake.unanswered_callback_queries() == []
    assert len(ana.messages) == 1


SUBPROCESS_BOT = """
import asyncio, sys
from telegram import Bot

async def main():
    async with Bot(sys.argv[1], base_url=sys.argv[2]) as bot:
        [update] = await bot.get_updates(timeout=5)
        await bot.send_message(update.message.chat.id, "Hola desde otro proceso")

asyncio.run(main())
"""


async def test_a_bot_in_another_process_talks_over_http(fake: FakeTelegram) -> None:
    ana = fake.user("Ana")
    await ana.send("hola")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SUBPROCESS_BOT,
        fake.token,
        fake.base_url,
        stderr=asyncio.subprocess.PIPE,
    )
    reply = await ana.wait_reply(timeout=20)
    _, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    assert reply.text == "Hola desde otro proceso"


def test_fake_error_payload_has_telegrams_shape() -> None:
    error = too_many_requests(3)
    assert error.payload() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert json.loads(json.dumps(error.payload()))["parameters"]["retry_after"] == 3


# ----------------------------------------------------------------------------------------
# flood control and injected faults (opt-in; used by the broadcast engine's tests)
# ----------------------------------------------------------------------------------------


def known_chats(fake: FakeTelegram, n: int) -> list[FakeUser]:
    users = [fake.user(f"Oficial{i}") for i in range(n)]
    for user in users:
        fake.mark_known(user.id)
    return users


async def test_flood_limits_are_off_by_default(fake: FakeTelegram, bot: Bot) -> None:
    users = known_chats(fake, 40)
    await asyncio.gather(*[bot.send_message(u.id, "aviso") for u in users])
    await bot.send_message(users[0].id, "otro aviso")
    assert fake.errors() == [] and all(u.messages for u in users)


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # retry_after
async def test_flood_control_refuses_beyond_30_per_second(fake: FakeTelegram, bot: Bot) -> None:
    flood = fake.enforce_flood_limits()
    users = known_chats(fake, 35)
    outcomes = await asyncio.gather(
        *[bot.send_message(u.id, "aviso") for u in users], return_exceptions=True
    )
    refused = [o for o in outcomes if isinstance(o, RetryAfter)]
    assert len(refused) == 5 and len(outcomes) - len(refused) == 30
    assert refused[0].retry_after in (1, timedelta(seconds=1))
    assert flood.stats.refused == 5 and flood.stats.accepted == 30
    assert flood.stats.max_per_second == 30
    assert {c.error_code for c in fake.errors()} == {429}
    await asyncio.sleep(1.05)
    late = [u for u, o in zip(users, outcomes, strict=True) if isinstance(o, RetryAfter)]
    await asyncio.gather(*[bot.send_message(u.id, "aviso") for u in late])
    assert all(len(u.messages) == 1 for u in users)


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # retry_after
async def test_flood_control_per_chat_and_per_group(fake: FakeTelegram, bot: Bot) -> None:
    flood = fake.enforce_flood_limits()
    [ana] = known_chats(fake, 1)
    await bot.send_message(ana.id, "uno")
    with pytest.raises(RetryAfter):
        await bot.send_message(ana.id, "dos")  # less than a second after
    await asyncio.sleep(1.0)
    await bot.send_message(ana.id, "dos")
    assert [m.text for m in ana.messages] == ["uno", "dos"]
    assert flood.stats.min_chat_gap >= 1.0

    group = fake.group("Coordinación SIP")
    fake.mark_known(group.id)
    flood.per_second = None  # only the group limit now
    for i in range(20):
        await bot.send_message(group.id, f"aviso {i}")
    with pytest.raises(RetryAfter):
        await bot.send_message(group.id, "aviso 21")
    assert len(fake.chat_messages(group.id)) == 20
    assert len(flood.stats.violations) == 2


async def test_flood_control_can_only_count(fake: FakeTelegram, bot: Bot) -> None:
    flood = fake.enforce_flood_limits(refuse=False)
    [ana] = known_chats(fake, 1)
    await bot.send_message(ana.id, "uno")
    await bot.send_message(ana.id, "dos")
    assert fake.errors() == [] and flood.stats.refused == 0
    assert len(flood.stats.violations) == 1 and flood.stats.min_chat_gap < 1.0


async def test_chosen_chats_can_fail_or_time_out(fake: FakeTelegram, bot: Bot) -> None:
    ana, luis = known_chats(fake, 2)
    fake.fail_chat(ana.id, E.bad_request("chat not found"), times=1)
    description = await refusal(fake, bot.send_message(ana.id, "hola"), BadRequest)
    assert description == "Bad Request: chat not found"
    await bot.send_message(ana.id, "hola")  # only once
    assert [m.text for m in ana.messages] == ["hola"]

    fake.time_out_chat(luis.id, times=1, delay=1.0)
    with pytest.raises(TimedOut):
        await bot.send_message(luis.id, "hola", read_timeout=0.2)
    assert luis.messages == []  # held, then dropped: not delivered
    await bot.send_message(luis.id, "hola")
    assert [m.text for m in luis.messages] == ["hola"]
    fake.fail_chat(luis.id, E.forbidden("bot was blocked by the user"))
    await refusal(fake, bot.send_message(luis.id, "x"), Forbidden)
    fake.clear_faults(luis.id)
    await bot.send_message(luis.id, "de nuevo")
