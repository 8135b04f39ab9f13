"""Reply markup (inline and reply keyboards): validation as Telegram does it, and a parsed view.

:func:`parse_reply_markup` refuses what Telegram refuses (with Telegram's wording) and returns a
:class:`Markup` that tests can read: rows of :class:`InlineButton` or :class:`KeyboardButton`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import BUTTON_DATA_INVALID, TEXT_BUTTONS_UNALLOWED, FakeError, bad_request

#: The optional fields of an InlineKeyboardButton of which exactly one must be used.
INLINE_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100

MarkupKind = Literal["inline", "reply", "remove", "force_reply"]


@dataclass(frozen=True, slots=True)
class InlineButton:
    """A button of an inline keyboard. ``action`` names the one action field it uses."""

    text: str
    action: str
    callback_data: str | None = None
    url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class KeyboardButton:
    """A button of a reply keyboard (the custom keyboard under the input field)."""

    text: str
    request_contact: bool = False
    request_location: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Markup:
    """A parsed ``reply_markup``.

    ``kind`` is ``inline`` (InlineKeyboardMarkup), ``reply`` (ReplyKeyboardMarkup), ``remove``
    (ReplyKeyboardRemove) or ``force_reply`` (ForceReply). ``rows`` holds the buttons of the two
    keyboard kinds. Two markups are equal when Telegram would consider them the same.
    """

    kind: MarkupKind
    rows: tuple[tuple[InlineButton | KeyboardButton, ...], ...] = ()
    canonical: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def buttons(self) -> list[InlineButton | KeyboardButton]:
        """All buttons, row by row."""
        return [button for row in self.rows for button in row]

    @property
    def labels(self) -> list[str]:
        """The visible text of every button, row by row."""
        return [button.text for button in self.buttons]

    @property
    def one_time(self) -> bool:
        """Whether a reply keyboard hides itself after one use."""
        return bool(self.raw.get("one_time_keyboard"))


def _canonical(value: Any) -> str:
    """A stable text form of a JSON value without ``null`` members, used to compare markups."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if v is not None}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return json.dumps(strip(value), sort_keys=True, ensure_ascii=False)


def _inline_button(raw: Any) -> InlineButton:
    where = "can't parse inline keyboard button"
    if not isinstance(raw, dict):
        raise bad_request(f"{where}: InlineKeyboardButton should be an Object")
    text = raw.get("text")
    if not isinstance(text, str):
        raise bad_request(f'{where}: Field "text" must be of type String')
    if not text.strip():
        raise bad_request(f'{where}: Field "text" must be non-empty')
    # Telegram treats an empty callback_data as no action at all.
    actions = [name for name in INLINE_ACTIONS if raw.get(name) not in (None, "")]
    if not actions:
        raise FakeError(400, TEXT_BUTTONS_UNALLOWED)
    if len(actions) > 1:
        raise bad_request(
            f"{where}: exactly one of the optional fields must be used, got {', '.join(actions)}"
        )
    data = raw.get("callback_data")
    if data is not None:
        if not isinstance(data, str):
            raise bad_request(f'{where}: Field "callback_data" must be of type String')
        if len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
            raise FakeError(400, BUTTON_DATA_INVALID)
    url = raw.get("url")
    if url is not None and (not isinstance(url, str) or not url.strip() or " " in url.strip()):
        raise bad_request("BUTTON_URL_INVALID")
    return InlineButton(text=text, action=actions[0], callback_data=data, url=url, raw=raw)


def _keyboard_button(raw: Any) -> KeyboardButton:
    where = "can't parse keyboard button"
    if isinstance(raw, str):
        raw = {"text": raw}
    if not isinstance(raw, dict):
        raise bad_request(f"{where}: KeyboardButton should be a String or an Object")
    text = raw.get("text")
    if not isinstance(text, str):
        raise bad_request(f'{where}: Field "text" must be of type String')
    if not text.strip():
        raise bad_request(f'{where}: Field "text" must be non-empty')
    return KeyboardButton(
        text=text,
        request_contact=bool(raw.get("request_contact")),
        request_location=bool(raw.get("request_location")),
        raw=raw,
    )


def _rows(raw: dict[str, Any], key: str, owner: str) -> list[list[Any]]:
    rows = raw.get(key)
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'Field "{key}" of the {owner} must be an Array of Arrays')
    return rows


def parse_reply_markup(value: Any, *, inline_only: bool = False) -> Markup | None:
    """Validate a ``reply_markup`` parameter and return it parsed (``None`` when absent).

    ``inline_only`` is for methods that accept only an inline keyboard (the ``editMessage*``
    family). Raises :class:`FakeError` with Telegram's description when Telegram would refuse.
    """
    if value is None or value == "":
        return None
    if not isinstance(value, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in value:
        rows = _rows(value, "inline_keyboard", "InlineKeyboardMarkup")
        parsed = tuple(tuple(_inline_button(b) for b in row) for row in rows)
        if sum(len(row) for row in parsed) > MAX_INLINE_BUTTONS:
            raise bad_request("BUTTONS_TOO_MUCH")
        return Markup("inline", parsed, _canonical(value), value)
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in value:
        rows = _rows(value, "keyboard", "ReplyKeyboardMarkup")
        parsed_rows = tuple(tuple(_keyboard_button(b) for b in row) for row in rows)
        return Markup("reply", parsed_rows, _canonical(value), value)
    if value.get("remove_keyboard"):
        return Markup("remove", (), _canonical(value), value)
    if value.get("force_reply"):
        return Markup("force_reply", (), _canonical(value), value)
    raise bad_request("can't parse reply keyboard markup JSON object")
