"""A fake Telegram Bot API server over real HTTP, with simulated users, for the test suite.

Start with :class:`FakeTelegram` (``async with FakeTelegram() as fake: ...``); see
:mod:`.server` for the whole picture.
"""

from .errors import FakeError, bad_request, conflict, forbidden, too_many_requests
from .inprocess import InProcessRequest
from .limits import SENDING_METHODS, BlockedChats, ChatFaults, FloodControl, FloodStats, Interceptor
from .markup import InlineButton, KeyboardButton, Markup
from .records import (
    BotMessage,
    Call,
    CallbackQueryRecord,
    InlineQueryRecord,
    MessageVersion,
    SentFile,
    UserMessage,
    WebhookState,
)
from .server import DEFAULT_TOKEN, FakeTelegram
from .serving import AsgiServer
from .users import FakeGroup, FakeUser
from .wire import UploadedFile

__all__ = [
    "DEFAULT_TOKEN",
    "SENDING_METHODS",
    "AsgiServer",
    "BlockedChats",
    "BotMessage",
    "Call",
    "CallbackQueryRecord",
    "ChatFaults",
    "FakeError",
    "FakeGroup",
    "FakeTelegram",
    "FakeUser",
    "FloodControl",
    "FloodStats",
    "InProcessRequest",
    "InlineButton",
    "InlineQueryRecord",
    "Interceptor",
    "KeyboardButton",
    "Markup",
    "MessageVersion",
    "SentFile",
    "UploadedFile",
    "UserMessage",
    "WebhookState",
    "bad_request",
    "conflict",
    "forbidden",
    "too_many_requests",
]
