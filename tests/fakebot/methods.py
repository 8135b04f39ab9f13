"""The Bot API methods of the fake server, and the state helpers they share.

:class:`BotApi` is a mixin of :class:`.server.FakeTelegram`: each ``_api_<name>`` coroutine
takes the decoded parameters and returns the ``result`` of method ``<name>`` or raises
:class:`.errors.FakeError` with Telegram's error. To support one more method, add one more
``_api_<name>``. The state they use is created in ``FakeTelegram.__init__``.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import re
import time
from typing import TYPE_CHECKING, Any

import httpx

from bot.telegram_html import (
    MAX_CAPTION_LENGTH,
    MAX_MESSAGE_LENGTH,
    parse_telegram_html,
    utf16_length,
)

from . import errors as E
from .errors import FakeError, bad_request
from .markup import Markup, parse_reply_markup
from .records import (
    BotMessage,
    CallbackQueryRecord,
    InlineQueryRecord,
    MessageEvent,
    MessageVersion,
    SentFile,
    WebhookState,
)
from .wire import UploadedFile

if TYPE_CHECKING:
    from .users import FakeGroup, FakeUser

#: Every update type of the Bot API.
ALL_UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
#: What Telegram sends when ``allowed_updates`` was never set (or set to ``[]``).
DEFAULT_UPDATE_TYPES = tuple(
    t
    for t in ALL_UPDATE_TYPES
    if t not in ("chat_member", "message_reaction", "message_reaction_count")
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
ScopeKey = tuple[Any, ...]


class BotApi:
    """Bot API methods over the fake's state (see ``FakeTelegram.__init__`` for the state)."""

    bot_id: int
    bot_username: str
    bot_first_name: str
    webhook: WebhookState | None
    webhook_retry_delay: float
    require_https_webhook: bool
    callback_answer_timeout: float | None
    closed: bool
    logged_out: bool
    _users: dict[int, FakeUser]
    _groups: dict[int, FakeGroup]
    _chats: dict[int, dict[str, Any]]
    _known_chats: set[int]
    _next_message_id: dict[int, int]
    _messages: dict[tuple[int, int], BotMessage]
    _user_messages: dict[tuple[int, int], dict[str, Any]]
    _events: list[MessageEvent]
    _updates: list[dict[str, Any]]
    _fetched_upto: int
    _allowed_updates: list[str] | None
    _poll_generation: int
    _callbacks: dict[str, CallbackQueryRecord]
    _inline_queries: dict[str, InlineQueryRecord]
    _commands: dict[tuple[ScopeKey, str], list[dict[str, str]]]
    _menu_buttons: dict[int | None, dict[str, Any]]
    _profile: dict[tuple[str, str], str]
    _files: dict[str, SentFile]
    _file_paths: dict[str, SentFile]
    _file_ids: Any
    _last_activity: float
    _change: asyncio.Event
    _closing: bool
    _webhook_task: asyncio.Task[None] | None

    def bot_user(self) -> dict[str, Any]:
        """The bot's own ``User`` object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ------------------------------------------------------------------------------------
    # shared state
    # ------------------------------------------------------------------------------------

    def _notify(self) -> None:
        """Wake everything waiting for a change (long polls, wait_reply, idle...)."""
        event, self._change = self._change, asyncio.Event()
        event.set()

    async def _wait_change(self, seconds: float) -> None:
        """Wait until :meth:`_notify` is called or ``seconds`` pass."""
        event = self._change
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=max(seconds, 0))

    def _alloc_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _chat_api(self, chat_id: int) -> dict[str, Any]:
        return dict(self._chats[chat_id])

    def _message_payload(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        bot_message = self._messages.get((chat_id, message_id))
        if bot_message is not None and not bot_message.deleted:
            return self._message_api(bot_message, with_reply=False)
        return self._user_messages.get((chat_id, message_id))

    def _store_file(
        self, kind: str, filename: str | None, content: bytes, mime_type: str | None
    ) -> SentFile:
        n = next(self._file_ids)
        if mime_type is None and filename:
            mime_type = mimetypes.guess_type(filename)[0]
        stored = SentFile(
            file_id=f"BQACAgEAAx{kind[:3].upper()}{n:08d}",
            file_unique_id=f"AgAD{n:06d}",
            kind=kind,  # type: ignore[arg-type]
            filename=filename,
            content=content,
            mime_type=mime_type,
        )
        self._files[stored.file_id] = stored
        return stored

    def _allowed_types(self, allowed: list[str] | None) -> tuple[str, ...]:
        return tuple(allowed) if allowed else DEFAULT_UPDATE_TYPES

    @staticmethod
    def _update_type(update: dict[str, Any]) -> str:
        return next(k for k in update if k != "update_id")

    def _drop_disallowed(self, allowed: list[str] | None) -> None:
        types = self._allowed_types(allowed)
        self._updates = [u for u in self._updates if self._update_type(u) in types]

    # ------------------------------------------------------------------------------------
    # helpers for methods
    # ------------------------------------------------------------------------------------

    def _target_chat(self, params: dict[str, Any], *, required: bool = True) -> int:
        """Resolve ``chat_id`` to a chat the bot knows, or refuse like Telegram."""
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            if required:
                raise bad_request("chat_id is empty")
            return 0
        if isinstance(chat_id, str):
            wanted = chat_id.removeprefix("@").lower()
            matches = [
                cid
                for cid, chat in self._chats.items()
                if chat.get("type") != "private" and str(chat.get("username", "")).lower() == wanted
            ]
            chat_id = matches[0] if matches else None
        if not isinstance(chat_id, int) or chat_id not in self._known_chats:
            raise FakeError(400, E.CHAT_NOT_FOUND)
        return chat_id

    @staticmethod
    def _render(
        text: str, parse_mode: str | None, entities: Any, limit: int, *, caption: bool
    ) -> tuple[str, list[dict[str, Any]]]:
        """What Telegram makes of a text: (visible text trimmed, entities), or FakeError.

        Only HTML is validated; Markdown and MarkdownV2 texts are taken as they are.
        """
        if parse_mode:
            mode = parse_mode.lower()
            if mode == "html":
                parsed = parse_telegram_html(text)
                if parsed.error is not None:
                    raise FakeError(400, parsed.error)
                visible, found = parsed.plain_text, list(parsed.entities)
            elif mode in ("markdown", "markdownv2"):
                visible, found = text, []
            else:
                raise bad_request("unsupported parse_mode")
        else:
            visible = text
            found = list(entities) if isinstance(entities, list) else []
        stripped = visible.strip()
        if stripped != visible:
            shift = utf16_length(visible) - utf16_length(visible.lstrip())
            total = utf16_length(stripped)
            trimmed = []
            for entity in found:
                start = max(entity["offset"] - shift, 0)
                end = min(entity["offset"] - shift + entity["length"], total)
                if end > start:
                    trimmed.append({**entity, "offset": start, "length": end - start})
            visible, found = stripped, trimmed
        if not visible and not caption:
            raise FakeError(400, E.MESSAGE_TEXT_EMPTY)
        if utf16_length(visible) > limit:
            raise FakeError(400, E.CAPTION_TOO_LONG if caption else E.MESSAGE_TOO_LONG)
        return visible, found

    def _reply_to(self, chat_id: int, params: dict[str, Any]) -> int | None:
        """The message a new message replies to, checked like Telegram."""
        reply = params.get("reply_parameters")
        message_id: Any = None
        allow_missing = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id"):
            message_id = params["reply_to_message_id"]
        if message_id is None:
            return None
        if self._message_payload(chat_id, int(message_id)) is None:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return int(message_id)

    def _message_api(self, message: BotMessage, *, with_reply: bool = True) -> dict[str, Any]:
        """The Bot API ``Message`` object of a message the bot sent."""
        api: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self.bot_user(),
            "chat": self._chat_api(message.chat_id),
            "date": message.date,
        }
        if message.text is not None:
            api["text"] = message.text
            if message.entities:
                api["entities"] = message.entities
        for stored in (message.document, message.photo):
            if stored is None:
                continue
            if stored.kind == "photo":
                api["photo"] = [
                    {
                        "file_id": stored.file_id,
                        "file_unique_id": stored.file_unique_id,
                        "width": 320,
                        "height": 320,
                        "file_size": stored.size,
                    }
                ]
            else:
                document: dict[str, Any] = {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": stored.size,
                }
                if stored.filename:
                    document["file_name"] = stored.filename
                if stored.mime_type:
                    document["mime_type"] = stored.mime_type
                api["document"] = document
            if message.caption:
                api["caption"] = message.caption
                if message.entities:
                    api["caption_entities"] = message.entities
        if message.reply_markup is not None and message.reply_markup.kind == "inline":
            api["reply_markup"] = message.reply_markup.raw
        if message.edit_date is not None:
            api["edit_date"] = message.edit_date
        if with_reply and message.reply_to_message_id is not None:
            replied = self._message_payload(message.chat_id, message.reply_to_message_id)
            if replied is not None:
                api["reply_to_message"] = replied
        return api

    def _record_event(self, kind: str, message: BotMessage) -> None:
        self._events.append(
            MessageEvent(len(self._events) + 1, kind, message.chat_id, message.snapshot())  # type: ignore[arg-type]
        )
        self._notify()

    def _store_sent(self, message: BotMessage) -> dict[str, Any]:
        self._messages[(message.chat_id, message.message_id)] = message
        self._record_event("sent", message)
        return self._message_api(message)

    def _editable(self, params: dict[str, Any]) -> BotMessage:
        """The bot message an ``editMessage*`` call is about, or the error Telegram gives."""
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat_id = self._target_chat(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = self._messages.get((chat_id, message_id))
        if message is None or message.deleted:
            if (chat_id, message_id) in self._user_messages:
                raise bad_request("message can't be edited")
            raise FakeError(400, E.MESSAGE_TO_EDIT_NOT_FOUND)
        return message

    @staticmethod
    def _apply_edit(
        message: BotMessage,
        *,
        text: str | None,
        caption: str | None,
        raw_text: str | None,
        parse_mode: str | None,
        entities: list[dict[str, Any]],
        markup: Markup | None,
    ) -> None:
        message.history.append(
            MessageVersion(
                text=message.text,
                caption=message.caption,
                raw_text=message.raw_text,
                parse_mode=message.parse_mode,
                reply_markup=message.reply_markup,
                date=message.edit_date or message.date,
            )
        )
        message.text, message.caption = text, caption
        message.raw_text, message.parse_mode = raw_text, parse_mode
        message.entities = entities
        message.reply_markup = markup
        message.edited = True
        message.edit_date = int(time.time())

    @staticmethod
    def _current_inline(message: BotMessage) -> Markup | None:
        markup = message.reply_markup
        return markup if markup is not None and markup.kind == "inline" else None

    # ------------------------------------------------------------------------------------
    # Bot API methods (every ``_api_<name>`` coroutine is served as ``<name>``)
    # ------------------------------------------------------------------------------------

    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return {
            **self.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise FakeError(409, E.WEBHOOK_ACTIVE)
        offset = params.get("offset") or 0
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if "allowed_updates" in params and params["allowed_updates"] is not None:
            self._allowed_updates = list(params["allowed_updates"])
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        self._poll_generation += 1
        generation = self._poll_generation
        deadline = time.monotonic() + timeout
        while True:
            if self.webhook is not None:
                raise FakeError(409, E.WEBHOOK_ACTIVE)
            if generation != self._poll_generation:
                raise FakeError(409, E.OTHER_GET_UPDATES)
            self._drop_disallowed(self._allowed_updates)
            batch = self._updates[:limit]
            remaining = deadline - time.monotonic()
            if batch or self._closing or remaining <= 0:
                break
            await self._wait_change(remaining)
        if batch:
            self._fetched_upto = max(self._fetched_upto, batch[-1]["update_id"])
            self._last_activity = time.monotonic()
        return batch

    async def _api_setWebhook(self, params: dict[str, Any]) -> Any:
        url = params.get("url") or ""
        if not url:
            return await self._api_deleteWebhook(params)
        if not re.match(r"^https?://[^/\s]+", url):
            raise bad_request("bad webhook: invalid webhook URL specified")
        if self.require_https_webhook and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.match(secret):
            raise bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        allowed = params.get("allowed_updates")
        self.webhook = WebhookState(
            url=url,
            secret_token=secret,
            allowed_updates=list(allowed) if allowed is not None else self._allowed_updates,
            max_connections=int(params.get("max_connections") or 40),
            params=dict(params),
        )
        if allowed is not None:
            self._allowed_updates = list(allowed)
        self._poll_generation += 1  # a pending long poll ends with a conflict
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver_to_webhook())
        self._notify()
        return True

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._notify()
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook.url if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook is not None:
            info["max_connections"] = self.webhook.max_connections
            if self.webhook.allowed_updates is not None:
                info["allowed_updates"] = self.webhook.allowed_updates
            if self.webhook.last_error_date is not None:
                info["last_error_date"] = self.webhook.last_error_date
                info["last_error_message"] = self.webhook.last_error_message
        return info

    async def _deliver_to_webhook(self) -> None:
        """POST queued updates, one at a time and in order, to the webhook while it is set."""
        async with httpx.AsyncClient(timeout=10) as client:
            while self.webhook is not None and not self._closing:
                state = self.webhook
                self._drop_disallowed(self._allowed_updates)
                if not self._updates:
                    await self._wait_change(1.0)
                    continue
                update = self._updates[0]
                headers = {}
                if state.secret_token:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = state.secret_token
                try:
                    response = await client.post(state.url, json=update, headers=headers)
                    error = (
                        None
                        if 200 <= response.status_code < 300
                        else f"Wrong response from the webhook: {response.status_code} "
                        f"{response.reason_phrase}"
                    )
                except httpx.HTTPError as exc:
                    error = f"Connection failed: {type(exc).__name__}"
                if error is None:
                    if self._updates and self._updates[0] is update:
                        self._updates.pop(0)
                    self._fetched_upto = max(self._fetched_upto, update["update_id"])
                    self._last_activity = time.monotonic()
                    self._notify()
                else:
                    state.last_error_date = int(time.time())
                    state.last_error_message = error
                    await asyncio.sleep(self.webhook_retry_delay)

    async def _api_setMyCommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned: list[dict[str, str]] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.match(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = (self._scope_key(params.get("scope")), params.get("language_code") or "")
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        return True

    async def _api_getMyCommands(self, params: dict[str, Any]) -> Any:
        key = (self._scope_key(params.get("scope")), params.get("language_code") or "")
        return list(self._commands.get(key, []))

    async def _api_deleteMyCommands(self, params: dict[str, Any]) -> Any:
        key = (self._scope_key(params.get("scope")), params.get("language_code") or "")
        self._commands.pop(key, None)
        return True

    def _scope_key(self, scope: Any) -> ScopeKey:
        """A hashable key for a ``BotCommandScope``; refuses unknown types and chats."""
        if scope is None:
            return ("default",)
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat_id = self._target_chat({"chat_id": scope.get("chat_id")})
            if kind == "chat_member":
                user_id = scope.get("user_id")
                if not isinstance(user_id, int) or user_id not in self._users:
                    raise bad_request("user not found")
                return (kind, chat_id, user_id)
            return (kind, chat_id)
        return (kind,)

    async def _api_setChatMenuButton(self, params: dict[str, Any]) -> Any:
        chat_id = self._target_chat(params, required=False) or None
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "commands",
            "web_app",
            "default",
        ):
            raise bad_request("can't parse MenuButton JSON object")
        self._menu_buttons[chat_id] = button
        return True

    async def _api_getChatMenuButton(self, params: dict[str, Any]) -> Any:
        chat_id = self._target_chat(params, required=False) or None
        return (
            self._menu_buttons.get(chat_id) or self._menu_buttons.get(None) or {"type": "default"}
        )

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = self._target_chat(params)
        raw_text = params.get("text")
        if not isinstance(raw_text, str) or not raw_text:
            raise FakeError(400, E.MESSAGE_TEXT_EMPTY)
        text, entities = self._render(
            raw_text,
            params.get("parse_mode"),
            params.get("entities"),
            MAX_MESSAGE_LENGTH,
            caption=False,
        )
        markup = parse_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat_id, params)
        message = BotMessage(
            chat_id=chat_id,
            message_id=self._alloc_message_id(chat_id),
            date=int(time.time()),
            text=text,
            raw_text=raw_text,
            parse_mode=params.get("parse_mode"),
            entities=entities,
            reply_markup=markup,
            reply_to_message_id=reply_to,
        )
        return self._store_sent(message)

    async def _send_file(self, params: dict[str, Any], kind: str) -> Any:
        chat_id = self._target_chat(params)
        value = params.get(kind)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.get(value.removeprefix("attach://"))
        if value is None or value == "":
            raise bad_request(f"there is no {kind} in the request")
        if isinstance(value, UploadedFile):
            if not value.content:
                raise bad_request("file must be non-empty")
            if len(value.content) > MAX_UPLOAD_BYTES:
                raise FakeError(413, "Request Entity Too Large")
            content_type = value.content_type
            if content_type in (None, "application/octet-stream"):
                content_type = None
            stored = self._store_file(kind, value.filename, value.content, content_type)
        elif isinstance(value, str) and value in self._files:
            stored = self._files[value]
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        raw_caption = params.get("caption")
        caption, entities = (None, [])
        if raw_caption:
            caption, entities = self._render(
                raw_caption,
                params.get("parse_mode"),
                params.get("caption_entities"),
                MAX_CAPTION_LENGTH,
                caption=True,
            )
        markup = parse_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat_id, params)
        message = BotMessage(
            chat_id=chat_id,
            message_id=self._alloc_message_id(chat_id),
            date=int(time.time()),
            raw_text=raw_caption,
            parse_mode=params.get("parse_mode"),
            entities=entities,
            reply_markup=markup,
            caption=caption or None,
            reply_to_message_id=reply_to,
            **{kind: stored},
        )
        return self._store_sent(message)

    async def _api_sendDocument(self, params: dict[str, Any]) -> Any:
        return await self._send_file(params, "document")

    async def _api_sendPhoto(self, params: dict[str, Any]) -> Any:
        return await self._send_file(params, "photo")

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        message = self._editable(params)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        raw_text = params.get("text")
        if not isinstance(raw_text, str) or not raw_text:
            raise FakeError(400, E.MESSAGE_TEXT_EMPTY)
        text, entities = self._render(
            raw_text,
            params.get("parse_mode"),
            params.get("entities"),
            MAX_MESSAGE_LENGTH,
            caption=False,
        )
        markup = parse_reply_markup(params.get("reply_markup"), inline_only=True)
        current = self._current_inline(message)
        if text == message.text and entities == message.entities and markup == current:
            raise FakeError(400, E.MESSAGE_NOT_MODIFIED)
        if markup is None and current is None:
            markup = message.reply_markup  # a reply keyboard is not the message's to lose
        self._apply_edit(
            message,
            text=text,
            caption=None,
            raw_text=raw_text,
            parse_mode=params.get("parse_mode"),
            entities=entities,
            markup=markup,
        )
        self._record_event("edited", message)
        return self._message_api(message)

    async def _api_editMessageCaption(self, params: dict[str, Any]) -> Any:
        message = self._editable(params)
        if message.document is None and message.photo is None:
            raise bad_request("there is no caption in the message to edit")
        raw_caption = params.get("caption") or ""
        caption, entities = self._render(
            raw_caption,
            params.get("parse_mode"),
            params.get("caption_entities"),
            MAX_CAPTION_LENGTH,
            caption=True,
        )
        markup = parse_reply_markup(params.get("reply_markup"), inline_only=True)
        current = self._current_inline(message)
        if (
            (caption or None) == message.caption
            and entities == message.entities
            and (markup == current)
        ):
            raise FakeError(400, E.MESSAGE_NOT_MODIFIED)
        self._apply_edit(
            message,
            text=None,
            caption=caption or None,
            raw_text=raw_caption or None,
            parse_mode=params.get("parse_mode"),
            entities=entities,
            markup=markup,
        )
        self._record_event("edited", message)
        return self._message_api(message)

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        message = self._editable(params)
        markup = parse_reply_markup(params.get("reply_markup"), inline_only=True)
        if markup == self._current_inline(message):
            raise FakeError(400, E.MESSAGE_NOT_MODIFIED)
        self._apply_edit(
            message,
            text=message.text,
            caption=message.caption,
            raw_text=message.raw_text,
            parse_mode=message.parse_mode,
            entities=message.entities,
            markup=markup,
        )
        self._record_event("edited", message)
        return self._message_api(message)

    async def _api_deleteMessage(self, params: dict[str, Any]) -> Any:
        chat_id = self._target_chat(params)
        message_id = params.get("message_id")
        message = self._messages.get((chat_id, message_id))  # type: ignore[arg-type]
        if message is not None and not message.deleted:
            message.deleted = True
            self._record_event("deleted", message)
            return True
        if self._user_messages.pop((chat_id, message_id), None) is not None:  # type: ignore[arg-type]
            return True
        raise FakeError(400, E.MESSAGE_TO_DELETE_NOT_FOUND)

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        record = self._callbacks.get(str(params.get("callback_query_id", "")))
        if record is None or record.answered:
            raise FakeError(400, E.QUERY_TOO_OLD)
        if (
            self.callback_answer_timeout is not None
            and time.monotonic() - record.time > self.callback_answer_timeout
        ):
            raise FakeError(400, E.QUERY_TOO_OLD)
        text = params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answered = True
        record.answer = dict(params)
        return True

    async def _api_answerInlineQuery(self, params: dict[str, Any]) -> Any:
        record = self._inline_queries.get(str(params.get("inline_query_id", "")))
        if record is None or record.answered:
            raise FakeError(400, E.QUERY_TOO_OLD)
        results = params.get("results")
        if not isinstance(results, list):
            raise bad_request("can't parse inline query results JSON object")
        if len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        ids = [r.get("id") if isinstance(r, dict) else None for r in results]
        if any(not isinstance(i, str) or not i for i in ids) or any(
            not isinstance(r, dict) or not r.get("type") for r in results
        ):
            raise bad_request("can't parse InlineQueryResult JSON object")
        if len(set(ids)) != len(ids):
            raise bad_request("RESULT_ID_DUPLICATE")
        record.answered = True
        record.results = results
        record.answer = dict(params)
        return True

    async def _api_sendChatAction(self, params: dict[str, Any]) -> Any:
        self._target_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    async def _api_getChat(self, params: dict[str, Any]) -> Any:
        chat_id = self._target_chat(params)
        return {
            **self._chat_api(chat_id),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _api_getFile(self, params: dict[str, Any]) -> Any:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise bad_request("invalid file_id")
        path = f"{stored.kind}s/{stored.file_unique_id}_{stored.filename or 'file'}"
        self._file_paths[path] = stored
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": path,
        }

    async def _api_close(self, params: dict[str, Any]) -> Any:
        self.closed = True
        return True

    async def _api_logOut(self, params: dict[str, Any]) -> Any:
        self.logged_out = True
        return True

    def _set_profile(self, field: str, params: dict[str, Any], limit: int) -> bool:
        value = params.get(field) or ""
        if len(value) > limit:
            raise bad_request(f"{field.upper()}_INVALID")
        self._profile[(field, params.get("language_code") or "")] = value
        return True

    def _get_profile(self, field: str, params: dict[str, Any]) -> dict[str, str]:
        return {field: self._profile.get((field, params.get("language_code") or ""), "")}

    async def _api_setMyName(self, params: dict[str, Any]) -> Any:
        return self._set_profile("name", params, 64)

    async def _api_getMyName(self, params: dict[str, Any]) -> Any:
        return self._get_profile("name", params)

    async def _api_setMyDescription(self, params: dict[str, Any]) -> Any:
        return self._set_profile("description", params, 512)

    async def _api_getMyDescription(self, params: dict[str, Any]) -> Any:
        return self._get_profile("description", params)

    async def _api_setMyShortDescription(self, params: dict[str, Any]) -> Any:
        return self._set_profile("short_description", params, 120)

    async def _api_getMyShortDescription(self, params: dict[str, Any]) -> Any:
        return self._get_profile("short_description", params)
