"""What the fake remembers: calls, messages the bot sent, callback and inline queries.

These are plain dataclasses that tests read. :class:`BotMessage` objects handed to tests are
snapshots: later edits by the bot do not change a snapshot a test already holds.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .markup import InlineButton, KeyboardButton, Markup


@dataclass
class Call:
    """One request the bot made. ``ok`` is ``None`` while the request is still being served,
    and stays ``None`` for a long poll the client ``abandoned`` (hung up on).

    ``time`` is :func:`time.monotonic` when the request arrived.
    """

    method: str
    params: dict[str, Any]
    time: float
    ok: bool | None = None
    error_code: int | None = None
    description: str | None = None
    result: Any = None
    abandoned: bool = False

    def __repr__(self) -> str:
        status = "pending" if self.ok is None else ("ok" if self.ok else f"{self.error_code}")
        status = "abandoned" if self.abandoned else status
        extra = f" {self.description!r}" if self.description else ""
        return f"<Call {self.method} {status}{extra} {_short_params(self.params)}>"


def _short_params(params: dict[str, Any]) -> str:
    parts = []
    for key, value in params.items():
        text = repr(value)
        parts.append(f"{key}={text if len(text) <= 60 else text[:57] + '...'}")
    return "{" + ", ".join(parts) + "}"


@dataclass(frozen=True, slots=True)
class SentFile:
    """A file the bot uploaded (``sendDocument``, ``sendPhoto``) or a simulated user sent."""

    file_id: str
    file_unique_id: str
    kind: Literal["document", "photo", "sticker"]
    filename: str | None
    content: bytes
    mime_type: str | None = None

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.content)

    def __repr__(self) -> str:
        return f"SentFile({self.kind}, {self.filename!r}, {self.size} bytes, {self.mime_type!r})"


@dataclass(frozen=True, slots=True)
class MessageVersion:
    """A past state of an edited message."""

    text: str | None
    caption: str | None
    raw_text: str | None
    parse_mode: str | None
    reply_markup: Markup | None
    date: int


@dataclass
class BotMessage:
    """A message the bot sent, as the chat shows it.

    ``text`` (or ``caption`` for a document or photo) is what the user sees: markup removed,
    HTML entities decoded, surrounding whitespace trimmed. ``raw_text`` is what the bot sent and
    ``parse_mode`` how it asked Telegram to read it. ``history`` holds the earlier versions of
    an edited message, oldest first.
    """

    chat_id: int
    message_id: int
    date: int
    text: str | None = None
    raw_text: str | None = None
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: Markup | None = None
    document: SentFile | None = None
    photo: SentFile | None = None
    caption: str | None = None
    reply_to_message_id: int | None = None
    edited: bool = False
    edit_date: int | None = None
    deleted: bool = False
    history: list[MessageVersion] = field(default_factory=list)

    # -- reading --------------------------------------------------------------------------

    @property
    def body(self) -> str:
        """The visible text whatever the kind of message: ``text``, else ``caption``, else ''."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def inline_buttons(self) -> list[InlineButton]:
        """The buttons of the inline keyboard attached to this message, row by row."""
        if self.reply_markup is None or self.reply_markup.kind != "inline":
            return []
        return [b for b in self.reply_markup.buttons if isinstance(b, InlineButton)]

    @property
    def buttons(self) -> list[str]:
        """The labels of the inline keyboard attached to this message, row by row."""
        return [b.text for b in self.inline_buttons]

    @property
    def keyboard(self) -> list[str]:
        """The labels of the reply keyboard this message sets (empty if it sets none)."""
        if self.reply_markup is None or self.reply_markup.kind != "reply":
            return []
        return [b.text for b in self.reply_markup.buttons if isinstance(b, KeyboardButton)]

    def find_button(self, label_or_data: str) -> InlineButton:
        """Find an inline button by its exact label, its exact callback_data, or a unique
        case-insensitive substring of its label. Raises AssertionError listing the buttons."""
        buttons = self.inline_buttons
        for candidates in (
            [b for b in buttons if b.text == label_or_data],
            [b for b in buttons if b.callback_data == label_or_data],
        ):
            if candidates:
                return candidates[0]
        needle = label_or_data.casefold()
        partial = [b for b in buttons if needle in b.text.casefold()]
        if len(partial) == 1:
            return partial[0]
        listing = ", ".join(f"{b.text!r} ({b.callback_data or b.url or b.action})" for b in buttons)
        if len(partial) > 1:
            problem = f"{label_or_data!r} matches several buttons"
        else:
            problem = f"no button {label_or_data!r}"
        raise AssertionError(
            f"{problem} on message {self.message_id} in chat {self.chat_id} "
            f"({self.body[:80]!r}); buttons: [{listing or 'none'}]"
        )

    def button_data(self, label: str) -> str:
        """The callback_data of the inline button with this label (see :meth:`find_button`)."""
        button = self.find_button(label)
        if button.callback_data is None:
            raise AssertionError(f"button {button.text!r} has no callback_data ({button.action})")
        return button.callback_data

    def snapshot(self) -> BotMessage:
        """A copy that later edits will not change."""
        clone = copy.copy(self)
        clone.entities = list(self.entities)
        clone.history = list(self.history)
        return clone

    def __repr__(self) -> str:
        flags = "".join(
            f" {name}" for name, on in (("edited", self.edited), ("deleted", self.deleted)) if on
        )
        extra = f" buttons={self.buttons}" if self.buttons else ""
        if self.keyboard:
            extra += f" keyboard={self.keyboard}"
        if self.document:
            extra += f" document={self.document.filename!r}"
        return f"<BotMessage {self.chat_id}/{self.message_id}{flags} {self.body[:100]!r}{extra}>"


MessagePredicate = Callable[[BotMessage], bool]


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """The bot sent, edited or deleted a message; ``message`` is the state right after."""

    seq: int
    kind: Literal["sent", "edited", "deleted"]
    chat_id: int
    message: BotMessage


@dataclass
class UserMessage:
    """A message a simulated person sent (returned by ``FakeUser.send`` and friends)."""

    chat_id: int
    message_id: int
    date: int
    text: str | None
    payload: dict[str, Any] = field(repr=False, default_factory=dict)


@dataclass
class CallbackQueryRecord:
    """A button press delivered to the bot; ``answer`` holds the answerCallbackQuery params."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str | None
    time: float
    answered: bool = False
    answer: dict[str, Any] | None = None

    @property
    def answer_text(self) -> str | None:
        """The notification or alert text the bot answered with, if any."""
        return (self.answer or {}).get("text")

    @property
    def alert(self) -> bool:
        return bool((self.answer or {}).get("show_alert"))


@dataclass
class InlineQueryRecord:
    """An inline query delivered to the bot; ``results`` holds what answerInlineQuery sent."""

    id: str
    user_id: int
    query: str
    time: float
    answered: bool = False
    results: list[dict[str, Any]] | None = None
    answer: dict[str, Any] | None = None


@dataclass
class WebhookState:
    """What setWebhook recorded."""

    url: str
    secret_token: str | None = None
    allowed_updates: list[str] | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
