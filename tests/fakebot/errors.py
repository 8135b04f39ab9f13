"""Errors the fake Bot API answers with, worded as Telegram words them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class FakeError(Exception):
    """A refused Bot API call: becomes ``{"ok": false, "error_code": ..., "description": ...}``.

    ``parameters`` is Telegram's ``ResponseParameters`` (``retry_after``,
    ``migrate_to_chat_id``). Method implementations ``raise`` it; interceptors ``return`` it.
    """

    error_code: int
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.error_code, self.description)

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body

    def __str__(self) -> str:
        return f"{self.error_code} {self.description}"


def bad_request(detail: str) -> FakeError:
    """A 400 ``Bad Request: <detail>``."""
    return FakeError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> FakeError:
    """A 403 ``Forbidden: <detail>`` (e.g. ``bot was blocked by the user``)."""
    return FakeError(403, f"Forbidden: {detail}")


def conflict(detail: str) -> FakeError:
    """A 409 ``Conflict: <detail>``."""
    return FakeError(409, f"Conflict: {detail}")


def too_many_requests(retry_after: int) -> FakeError:
    """A 429 flood-control error carrying ``parameters.retry_after`` (seconds)."""
    return FakeError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        {"retry_after": retry_after},
    )


def not_found() -> FakeError:
    """Telegram's answer to an unknown method (or a malformed token): 404 ``Not Found``."""
    return FakeError(404, "Not Found")


def unauthorized() -> FakeError:
    """Telegram's answer to a well-formed but wrong token: 401 ``Unauthorized``."""
    return FakeError(401, "Unauthorized")


# Descriptions used in several places, kept here so tests can refer to them.
CHAT_NOT_FOUND = "Bad Request: chat not found"
MESSAGE_TEXT_EMPTY = "Bad Request: message text is empty"
MESSAGE_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
MESSAGE_TO_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
MESSAGE_TO_DELETE_NOT_FOUND = "Bad Request: message to delete not found"
MESSAGE_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
TEXT_BUTTONS_UNALLOWED = (
    "Bad Request: can't parse inline keyboard button: "
    "Text buttons are unallowed in the inline keyboard"
)
BOT_BLOCKED = "Forbidden: bot was blocked by the user"
BOT_KICKED = "Forbidden: bot was kicked from the group chat"
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
OTHER_GET_UPDATES = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
