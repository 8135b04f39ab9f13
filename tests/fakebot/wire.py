"""Reading Bot API requests the way Telegram does.

Clients send parameters as ``application/x-www-form-urlencoded`` (PTB's default: every value is
a string, nested objects such as ``reply_markup`` are JSON strings), ``multipart/form-data``
(when a file is uploaded) or ``application/json``; query-string parameters are accepted too.
:func:`read_params` turns any of them into one dictionary of typed values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from .errors import FakeError, bad_request

#: Parameters whose value is a JSON object or array.
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "scope",
        "commands",
        "allowed_updates",
        "results",
        "menu_button",
        "link_preview_options",
        "reply_parameters",
        "media",
        "button",
        "message_ids",
        "permissions",
        "rights",
        "reaction",
    }
)
#: Parameters whose value is an integer (``chat_id`` may also be ``@channelusername``).
INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "max_connections",
        "message_thread_id",
        "reply_to_message_id",
        "until_date",
    }
)
#: Parameters whose value is a boolean.
BOOL_FIELDS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "is_personal",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "disable_content_type_detection",
        "has_spoiler",
        "show_caption_above_media",
        "allow_paid_broadcast",
        "for_channels",
    }
)


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file part of a ``multipart/form-data`` request."""

    filename: str
    content: bytes
    content_type: str | None = None

    def __repr__(self) -> str:
        return f"UploadedFile({self.filename!r}, {len(self.content)} bytes, {self.content_type!r})"


def coerce(name: str, value: Any) -> Any:
    """Turn a raw (usually string) parameter into the type the Bot API defines for it."""
    if not isinstance(value, str):
        return value
    if name in JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError as exc:
            raise bad_request(f"can't parse {name} JSON object") from exc
    if name in INT_FIELDS:
        try:
            return int(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                return value  # e.g. chat_id="@channelusername"
            return int(number) if number.is_integer() else number
    if name in BOOL_FIELDS:
        return value.strip().lower() in ("true", "1")
    return value


_PARAM_RE = r';\s*{name}="((?:[^"\\]|\\.)*)"'


def _header_param(header: str, name: str) -> str | None:
    """Read ``name="value"`` (or RFC 5987 ``name*=utf-8''value``) from a header value."""
    extended = re.search(rf";\s*{name}\*=([^;]+)", header, re.IGNORECASE)
    if extended:
        _charset, _, encoded = extended.group(1).strip().partition("''")
        return unquote(encoded)
    match = re.search(_PARAM_RE.format(name=name), header, re.IGNORECASE)
    if not match:
        return None
    value = match.group(1)
    return value.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n").replace("\\\\", "\\")


def parse_multipart(body: bytes, content_type: str) -> list[tuple[str, Any]]:
    """Split a ``multipart/form-data`` body into ``(name, str | UploadedFile)`` pairs."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise bad_request("multipart boundary is missing")
    delimiter = b"\r\n--" + match.group(1).encode("latin-1")
    fields: list[tuple[str, Any]] = []
    for part in (b"\r\n" + body).split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", errors="replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = _header_param(disposition, "name")
        if name is None:
            continue
        filename = _header_param(disposition, "filename")
        if filename is None:
            fields.append((name, content.decode("utf-8", errors="replace")))
        else:
            fields.append((name, UploadedFile(filename, content, headers.get("content-type"))))
    return fields


def read_params(content_type: str, body: bytes, query: list[tuple[str, str]]) -> dict[str, Any]:
    """Decode a Bot API request into a dictionary of typed parameters.

    Raises :class:`FakeError` (400) when the body cannot be decoded.
    """
    raw: list[tuple[str, Any]] = list(query)
    ctype = content_type.split(";")[0].strip().lower()
    if body:
        if ctype == "application/json":
            try:
                decoded = json.loads(body)
            except ValueError as exc:
                raise bad_request("can't parse JSON request body") from exc
            if not isinstance(decoded, dict):
                raise bad_request("JSON request body must be an object")
            raw.extend(decoded.items())
        elif ctype == "multipart/form-data":
            raw.extend(parse_multipart(body, content_type))
        else:
            raw.extend(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    params: dict[str, Any] = {}
    for name, value in raw:
        params[name] = coerce(name, value)
    return params


__all__ = ["FakeError", "UploadedFile", "coerce", "parse_multipart", "read_params"]
