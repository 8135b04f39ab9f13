"""Simulated people and groups that talk to the bot through the fake Bot API.

A :class:`FakeUser` acts (sends text, presses buttons, taps the reply keyboard, sends files...)
by queuing updates on the fake server, exactly as Telegram would deliver them to the bot, and
reads what the bot sent to its private chat. A :class:`FakeGroup` is a group chat in which users
post with ``await user.send("...", chat=group)``.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import TYPE_CHECKING, Any

from bot.telegram_html import utf16_length

from .markup import KeyboardButton
from .records import (
    BotMessage,
    CallbackQueryRecord,
    InlineQueryRecord,
    MessagePredicate,
    UserMessage,
)

if TYPE_CHECKING:
    from .server import FakeTelegram

_file_counter = itertools.count(1)


_MENTION = re.compile(r"@[A-Za-z0-9_]{5,32}\b")


def _command_entities(text: str) -> list[dict[str, Any]]:
    """Entities as Telegram adds them: ``bot_command`` for a text starting with ``/cmd`` or
    ``/cmd@BotName``, and ``mention`` for each ``@username``."""
    entities: list[dict[str, Any]] = []
    if text.startswith("/") and len(text) >= 2:
        command = text.split(maxsplit=1)[0]
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_length(command)})
    for match in _MENTION.finditer(text):
        if entities and match.start() < entities[0]["length"]:
            continue  # the @BotName of /cmd@BotName belongs to the command
        entities.append({"type": "mention", "offset": utf16_length(text[: match.start()]),
                         "length": utf16_length(match.group())})
    return entities


class FakeGroup:
    """A group chat (negative id) in which simulated users can post."""

    def __init__(self, fake: FakeTelegram, chat_id: int, title: str, chat_type: str) -> None:
        self.fake = fake
        self.id = chat_id
        self.title = title
        self.type = chat_type

    def as_api(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object of this group."""
        return {"id": self.id, "type": self.type, "title": self.title}

    @property
    def messages(self) -> list[BotMessage]:
        """Messages the bot posted in this group (not deleted), oldest first."""
        return self.fake.chat_messages(self.id)

    @property
    def last(self) -> BotMessage | None:
        """The newest message the bot posted in this group."""
        messages = self.messages
        return messages[-1] if messages else None

    async def wait_message(
        self,
        predicate: MessagePredicate | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 (the API tests call)
    ) -> BotMessage:
        """Wait for the bot to send or edit a message here after the last action in the group."""
        return await self.fake.wait_message(self.id, predicate, timeout)

    async def wait_messages(
        self,
        n: int,
        timeout: float = 5.0,  # noqa: ASYNC109 (the API tests call)
    ) -> list[BotMessage]:
        """Wait for the next ``n`` messages sent or edited here (see :meth:`wait_message`)."""
        return await self.fake.wait_messages(self.id, n, timeout)

    def __repr__(self) -> str:
        return f"<FakeGroup {self.id} {self.title!r}>"


class FakeUser:
    """A person with a Telegram account. Their private chat with the bot has id == user id."""

    def __init__(
        self,
        fake: FakeTelegram,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "es",
        phone: str | None = None,
    ) -> None:
        self.fake = fake
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.phone = phone or f"+519{user_id % 100_000_000:08d}"
        self._last_chat_id = user_id

    # -- identity -------------------------------------------------------------------------

    @property
    def chat_id(self) -> int:
        """The id of this user's private chat with the bot (== the user id)."""
        return self.id

    @property
    def full_name(self) -> str:
        """First and last name."""
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    def as_api(self) -> dict[str, Any]:
        """The Bot API ``User`` object of this person."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def private_chat_api(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object of this user's private chat with the bot."""
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat

    def _chat_id(self, chat: FakeGroup | FakeUser | int | None) -> int:
        if chat is None:
            return self.id
        if isinstance(chat, int):
            return chat
        return chat.id

    def _post(self, chat: FakeGroup | FakeUser | int | None, fields: dict[str, Any]) -> UserMessage:
        chat_id = self._chat_id(chat)
        self._last_chat_id = chat_id
        return self.fake._deliver_user_message(self, chat_id, fields)

    # -- acting ---------------------------------------------------------------------------

    async def send(
        self,
        text: str,
        chat: FakeGroup | FakeUser | int | None = None,
        reply_to: BotMessage | UserMessage | int | None = None,
    ) -> UserMessage:
        """Send a text message (to the private chat, or to ``chat``). A text starting with
        ``/`` carries a ``bot_command`` entity, as Telegram adds one."""
        fields: dict[str, Any] = {"text": text}
        entities = _command_entities(text)
        if entities:
            fields["entities"] = entities
        if reply_to is not None:
            fields["reply_to_message_id"] = (
                reply_to if isinstance(reply_to, int) else reply_to.message_id
            )
        return self._post(chat, fields)

    async def start(self, payload: str | None = None) -> UserMessage:
        """Send ``/start`` (or ``/start <payload>``, what a ``t.me/bot?start=...`` link sends)."""
        return await self.send("/start" if payload is None else f"/start {payload}")

    async def press(
        self,
        label_or_data: str,
        message: BotMessage | int | None = None,
        chat: FakeGroup | FakeUser | int | None = None,
    ) -> CallbackQueryRecord:
        """Press an inline button, found by its label (exact, or a unique substring) or its
        callback_data, on ``message`` (its current state) or else on the newest message with an
        inline keyboard in the chat. Raises AssertionError listing the buttons if not found."""
        if isinstance(message, BotMessage):
            chat_id = message.chat_id
            current = self.fake.message(chat_id, message.message_id)
        else:
            chat_id = self._chat_id(chat)
            if isinstance(message, int):
                current = self.fake.message(chat_id, message)
            else:
                with_keyboard = [m for m in self.fake.chat_messages(chat_id) if m.inline_buttons]
                current = with_keyboard[-1] if with_keyboard else None
                if current is None:
                    raise AssertionError(
                        f"no message with inline buttons in chat {chat_id}; the chat has: "
                        f"{self.fake.chat_messages(chat_id)}"
                    )
        if current is None or current.deleted:
            raise AssertionError(f"message {message!r} is not (or no longer) in chat {chat_id}")
        button = current.find_button(label_or_data)
        if button.callback_data is None:
            raise AssertionError(
                f"button {button.text!r} does not send a callback query ({button.action}: "
                f"{button.url or button.raw})"
            )
        self._last_chat_id = chat_id
        return self.fake._deliver_callback(self, chat_id, current.message_id, button.callback_data)

    async def press_data(
        self,
        data: str,
        message_id: int,
        chat: FakeGroup | FakeUser | int | None = None,
    ) -> CallbackQueryRecord:
        """Forge a callback query with arbitrary ``data`` on any message id (even one that
        never had such a button, or does not exist), as a modified client could."""
        chat_id = self._chat_id(chat)
        self._last_chat_id = chat_id
        return self.fake._deliver_callback(self, chat_id, message_id, data)

    async def tap(self, text: str, chat: FakeGroup | FakeUser | int | None = None) -> UserMessage:
        """Tap a button of the reply keyboard currently shown in the chat (exact label, or a
        unique substring). A ``request_contact`` button shares this user's phone number."""
        chat_id = self._chat_id(chat)
        keyboard = self.fake.reply_keyboard(chat_id)
        if keyboard is None:
            raise AssertionError(f"no reply keyboard is shown in chat {chat_id}")
        buttons = [b for b in keyboard.buttons if isinstance(b, KeyboardButton)]
        found = [b for b in buttons if b.text == text] or [
            b for b in buttons if text.casefold() in b.text.casefold()
        ]
        if len(found) != 1:
            problem = "several buttons match" if found else "no such button"
            raise AssertionError(
                f"{problem} {text!r} on the reply keyboard of chat {chat_id}: "
                f"{[b.text for b in buttons]}"
            )
        button = found[0]
        if button.request_contact:
            return await self.send_contact(chat=chat)
        if button.request_location:
            return self._post(chat, {"location": {"latitude": -12.0464, "longitude": -77.0428}})
        return await self.send(button.text, chat=chat)

    async def send_photo(
        self, caption: str | None = None, chat: FakeGroup | FakeUser | int | None = None
    ) -> UserMessage:
        """Send a photo (a tiny fake JPEG), optionally with a caption."""
        n = next(_file_counter)
        photo = self.fake._store_file("photo", f"photo_{n}.jpg", b"\xff\xd8\xff fake", None)
        sizes = [
            {
                "file_id": photo.file_id,
                "file_unique_id": photo.file_unique_id,
                "width": w,
                "height": w,
                "file_size": photo.size,
            }
            for w in (90, 320)
        ]
        fields: dict[str, Any] = {"photo": sizes}
        if caption:
            fields["caption"] = caption
        return self._post(chat, fields)

    async def send_sticker(
        self, emoji: str = "👍", chat: FakeGroup | FakeUser | int | None = None
    ) -> UserMessage:
        """Send a sticker."""
        sticker = self.fake._store_file("sticker", "sticker.webp", b"RIFF fake webp", None)
        return self._post(
            chat,
            {
                "sticker": {
                    "file_id": sticker.file_id,
                    "file_unique_id": sticker.file_unique_id,
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "emoji": emoji,
                }
            },
        )

    async def send_document(
        self,
        filename: str,
        content: bytes,
        mime_type: str | None = None,
        caption: str | None = None,
        chat: FakeGroup | FakeUser | int | None = None,
    ) -> UserMessage:
        """Send a file; the bot can download it with getFile."""
        stored = self.fake._store_file("document", filename, content, mime_type)
        document: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": filename,
            "file_size": stored.size,
        }
        if stored.mime_type:
            document["mime_type"] = stored.mime_type
        fields: dict[str, Any] = {"document": document}
        if caption:
            fields["caption"] = caption
        return self._post(chat, fields)

    async def send_contact(
        self,
        phone: str | None = None,
        first_name: str | None = None,
        chat: FakeGroup | FakeUser | int | None = None,
    ) -> UserMessage:
        """Share a contact; by default this user's own (what a request_contact button sends)."""
        contact: dict[str, Any] = {
            "phone_number": phone or self.phone,
            "first_name": first_name or self.first_name,
        }
        if phone is None or phone == self.phone:
            contact["user_id"] = self.id
        return self._post(chat, {"contact": contact})

    async def edit(self, message: UserMessage, new_text: str) -> UserMessage:
        """Edit a text message this user sent earlier (the bot gets an ``edited_message``)."""
        self._last_chat_id = message.chat_id
        return self.fake._deliver_user_edit(self, message, new_text)

    async def inline_query(self, query: str) -> InlineQueryRecord:
        """Type ``@bot query`` in any chat (the bot gets an ``inline_query``)."""
        return self.fake._deliver_inline_query(self, query)

    def block_bot(self, notify: bool = False) -> None:
        """Block the bot: from now on sends to this user fail with 403. With ``notify``, the
        bot also gets the ``my_chat_member`` update Telegram sends (status ``kicked``); without
        it, the bot learns of the block only from a 403 (as when that update was missed)."""
        self.fake.block_chat(self.id)
        if notify:
            self._membership_changed("member", "kicked")

    def unblock_bot(self, notify: bool = False) -> None:
        """Unblock the bot; with ``notify``, the bot gets ``my_chat_member`` (``member``)."""
        self.fake.unblock_chat(self.id)
        if notify:
            self._membership_changed("kicked", "member")

    def _membership_changed(self, old: str, new: str) -> None:
        bot = self.fake.bot_user()

        def member(status: str) -> dict[str, Any]:  # "kicked" carries until_date (0: forever)
            until = {"until_date": 0} if status == "kicked" else {}
            return {"status": status, "user": bot, **until}

        self.fake.queue_update(
            "my_chat_member",
            {
                "chat": self.private_chat_api(),
                "from": self.as_api(),
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    # -- reading --------------------------------------------------------------------------

    @property
    def messages(self) -> list[BotMessage]:
        """Messages the bot sent to this user's private chat (not deleted), oldest first."""
        return self.fake.chat_messages(self.id)

    @property
    def last(self) -> BotMessage | None:
        """The newest message in this user's private chat from the bot."""
        messages = self.messages
        return messages[-1] if messages else None

    async def wait_reply(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 (the API tests call)
        predicate: MessagePredicate | None = None,
        chat: FakeGroup | FakeUser | int | None = None,
    ) -> BotMessage:
        """Wait until the bot sends or edits a message (matching ``predicate``) in the chat of
        this user's last action (or ``chat``), after that action; each call returns the next
        one. Raises AssertionError describing the chat if nothing comes within ``timeout``.

        When one action gets several replies (say, an edit and then a new message), wait for
        all of them (:meth:`wait_replies`, or ``fake.idle()``) before the next action, or the
        late ones count as replies to the next action."""
        chat_id = self._last_chat_id if chat is None else self._chat_id(chat)
        return await self.fake.wait_message(chat_id, predicate, timeout)

    async def wait_replies(
        self,
        n: int,
        timeout: float = 5.0,  # noqa: ASYNC109 (the API tests call)
        chat: FakeGroup | FakeUser | int | None = None,
    ) -> list[BotMessage]:
        """Wait for the next ``n`` messages sent or edited in the chat (see :meth:`wait_reply`)."""
        chat_id = self._last_chat_id if chat is None else self._chat_id(chat)
        return await self.fake.wait_messages(chat_id, n, timeout)

    def visible_commands(self) -> list[tuple[str, str]]:
        """The command menu this user sees in the private chat (Telegram's scope rules)."""
        return self.fake.commands_for(self.id, user_id=self.id, language_code=self.language_code)

    def __repr__(self) -> str:
        return f"<FakeUser {self.id} {self.full_name!r}>"
