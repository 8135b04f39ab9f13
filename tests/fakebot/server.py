"""A fake Telegram Bot API server, over real HTTP, for the test suite.

:class:`FakeTelegram` serves ``http://127.0.0.1:<port>/bot<TOKEN>/<method>`` with Starlette and
uvicorn inside the running event loop, so the bot under test can talk to it through its
ordinary HTTP client, in the same process (``ApplicationBuilder().base_url(fake.base_url)``) or
in another one (``TELEGRAM_API_BASE_URL=fake.base_url integridad-bot run``)::

    async with FakeTelegram() as fake:
        ana = fake.user("Ana")
        await ana.start()
        reply = await ana.wait_reply()
        await ana.press("Registrarme")
        ...
        await fake.idle()
        assert fake.errors() == []

It answers like Telegram (``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": 400,
"description": "Bad Request: ..."}`` with that HTTP status), refuses what Telegram refuses, and
records every call (:attr:`FakeTelegram.calls`). Rules that may refuse any call (blocked users,
injected failures and timeouts, and — opt-in, :meth:`FakeTelegram.enforce_flood_limits` —
Telegram's flood limits) are interceptors, see :mod:`.limits`. :class:`.InProcessRequest` lets
PTB call the fake without HTTP (benchmarks).

Layout of the package: :mod:`.server` (this: lifecycle, HTTP, simulated people, inspection and
waiting), :mod:`.methods` (the Bot API methods), :mod:`.wire` (decoding requests),
:mod:`.markup` (keyboards), :mod:`.records` (what tests read), :mod:`.users` (FakeUser,
FakeGroup), :mod:`.limits` (interceptors), :mod:`.errors` (Telegram's error wording),
:mod:`.serving` (uvicorn in the loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.telegram_html import utf16_length

from . import errors as E
from .errors import FakeError
from .limits import BlockedChats, ChatFaults, FloodControl, Interceptor
from .markup import Markup
from .methods import BotApi, ScopeKey
from .records import (
    BotMessage,
    Call,
    CallbackQueryRecord,
    InlineQueryRecord,
    MessageEvent,
    MessagePredicate,
    SentFile,
    UserMessage,
    WebhookState,
)
from .serving import AsgiServer
from .users import FakeGroup, FakeUser
from .wire import read_params

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456:TEST-TOKEN"

#: An ``idle()`` period with no API call after which the bot is considered done.
DEFAULT_QUIET = 0.15


class _ClientGone(Exception):
    """The client hung up before its long poll ended."""


class FakeTelegram(BotApi):
    """A fake Bot API server with simulated users; see the module docstring.

    Public state: :attr:`calls` (every request), :attr:`interceptors` (rules consulted before a
    method runs), :attr:`webhook` (what setWebhook recorded), :attr:`callback_answer_timeout`
    (seconds after which answering a callback query fails, ``None`` = never).
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "IntegridadTestBot",
        bot_first_name: str = "Integridad (pruebas)",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.bot_id = int(token.split(":", 1)[0])
        self.host = host
        self._http = AsgiServer(None, host, port)

        self.calls: list[Call] = []
        self.blocked = BlockedChats()
        self.faults = ChatFaults()
        self.interceptors: list[Interceptor] = [self.blocked, self.faults]
        self.callback_answer_timeout: float | None = None
        self.require_https_webhook = False
        self.webhook_retry_delay = 0.2
        self.webhook: WebhookState | None = None
        self.closed = False
        self.logged_out = False

        self._users: dict[int, FakeUser] = {}
        self._groups: dict[int, FakeGroup] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._known_chats: set[int] = set()
        self._user_ids = itertools.count(700_000_001)
        self._group_ids = itertools.count(1)
        self._next_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], BotMessage] = {}
        self._user_messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._events: list[MessageEvent] = []
        self._chat_cursor: dict[int, int] = {}

        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._fetched_upto = 0
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0

        self._query_ids = itertools.count(4_000_000_000_001)
        self._callbacks: dict[str, CallbackQueryRecord] = {}
        self._inline_queries: dict[str, InlineQueryRecord] = {}
        self._commands: dict[tuple[ScopeKey, str], list[dict[str, str]]] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}
        self._profile: dict[tuple[str, str], str] = {}
        self._files: dict[str, SentFile] = {}
        self._file_paths: dict[str, SentFile] = {}
        self._file_ids = itertools.count(1)

        self._inflight = 0
        self._last_activity = 0.0
        self._change = asyncio.Event()
        self._closing = False
        self._webhook_task: asyncio.Task[None] | None = None

        self._methods: dict[str, tuple[str, Callable[[dict[str, Any]], Awaitable[Any]]]] = {}
        for attr in dir(self):
            if attr.startswith("_api_"):
                name = attr[len("_api_") :]
                self._methods[name.lower()] = (name, getattr(self, attr))

        self._http.app = self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._handle, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._handle_file, methods=["GET"]),
            ]
        )

    # ------------------------------------------------------------------------------------
    # lifecycle and addresses
    # ------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start serving on a free port (or the one given), inside the running loop."""
        self._closing = False
        await self._http.start()

    async def stop(self) -> None:
        """Stop serving: pending long polls return at once, open connections are closed."""
        self._closing = True
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        await self._http.stop()

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port the server listens on (known once started)."""
        if self._http.port is None:
            raise RuntimeError("FakeTelegram is not started")
        return self._http.port

    @property
    def url(self) -> str:
        """The server root, e.g. ``http://127.0.0.1:53211``."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What ``ApplicationBuilder().base_url()`` / ``TELEGRAM_API_BASE_URL`` take: the
        token is appended by PTB (``http://127.0.0.1:PORT/bot``)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """What ``ApplicationBuilder().base_file_url()`` takes (``.../file/bot``)."""
        return f"{self.url}/file/bot"

    # ------------------------------------------------------------------------------------
    # simulated people
    # ------------------------------------------------------------------------------------

    def user(
        self,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        user_id: int | None = None,
        language_code: str | None = "es",
        phone: str | None = None,
    ) -> FakeUser:
        """Create a simulated Telegram user. Their private chat (id == user id) becomes known
        to the bot only once they send it something."""
        if user_id is None:
            user_id = next(self._user_ids)
            while user_id in self._chats:
                user_id = next(self._user_ids)
        elif user_id in self._chats or user_id <= 0:
            raise ValueError(f"user id {user_id} is taken or invalid")
        person = FakeUser(self, user_id, first_name, last_name, username, language_code, phone)
        self._users[user_id] = person
        self._chats[user_id] = person.private_chat_api()
        return person

    def group(self, title: str, *, supergroup: bool = False) -> FakeGroup:
        """Create a group chat (negative id) that users can post in with ``send(chat=group)``."""
        n = next(self._group_ids)
        chat_id = -1_000_000_000_000 - n if supergroup else -900_000 - n
        group = FakeGroup(self, chat_id, title, "supergroup" if supergroup else "group")
        self._groups[chat_id] = group
        self._chats[chat_id] = group.as_api()
        return group

    def users(self) -> list[FakeUser]:
        """Every simulated user."""
        return list(self._users.values())

    # ------------------------------------------------------------------------------------
    # updates
    # ------------------------------------------------------------------------------------

    def queue_update(self, update_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (``{"update_id": n, update_type: payload}``) for the bot; for the
        update types the simulated people do not cover (``my_chat_member``...)."""
        update = {"update_id": next(self._update_ids), update_type: payload}
        self._updates.append(update)
        self._notify()
        return update

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet confirmed by the bot (via ``offset`` or webhook)."""
        return list(self._updates)

    def _mark_action(self, chat_id: int) -> None:
        """A simulated person acted in ``chat_id``: replies are awaited from now on."""
        self._chat_cursor[chat_id] = len(self._events)

    def _deliver_user_message(
        self, person: FakeUser, chat_id: int, fields: dict[str, Any]
    ) -> UserMessage:
        if chat_id not in self._chats:
            raise AssertionError(f"chat {chat_id} does not exist in the fake")
        if chat_id > 0 and chat_id != person.id:
            raise AssertionError(f"{person!r} cannot post in the private chat of {chat_id}")
        reply_to = fields.pop("reply_to_message_id", None)
        payload: dict[str, Any] = {
            "message_id": self._alloc_message_id(chat_id),
            "from": person.as_api(),
            "chat": self._chat_api(chat_id),
            "date": int(time.time()),
            **fields,
        }
        if reply_to is not None:
            replied = self._message_payload(chat_id, reply_to)
            if replied is not None:
                payload["reply_to_message"] = replied
        self._user_messages[(chat_id, payload["message_id"])] = payload
        self._known_chats.add(chat_id)
        self._mark_action(chat_id)
        self.queue_update("message", payload)
        return UserMessage(
            chat_id, payload["message_id"], payload["date"], fields.get("text"), payload
        )

    def _deliver_user_edit(self, person: FakeUser, message: UserMessage, text: str) -> UserMessage:
        original = self._user_messages.get((message.chat_id, message.message_id))
        if original is None or original["from"]["id"] != person.id or "text" not in original:
            raise AssertionError(f"{person!r} has no text message {message.message_id} to edit")
        payload = {k: v for k, v in original.items() if k not in ("text", "entities")}
        payload["text"] = text
        payload["edit_date"] = int(time.time())
        if text.startswith("/"):
            payload["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_length(text.split()[0])}
            ]
        self._user_messages[(message.chat_id, message.message_id)] = payload
        self._mark_action(message.chat_id)
        self.queue_update("edited_message", payload)
        return UserMessage(message.chat_id, message.message_id, payload["date"], text, payload)

    def _deliver_callback(
        self, person: FakeUser, chat_id: int, message_id: int, data: str
    ) -> CallbackQueryRecord:
        if chat_id not in self._chats:
            raise AssertionError(f"chat {chat_id} does not exist in the fake")
        message = self._message_payload(chat_id, message_id) or {
            "chat": self._chat_api(chat_id),
            "message_id": message_id,
            "date": 0,  # an InaccessibleMessage
        }
        query_id = str(next(self._query_ids))
        record = CallbackQueryRecord(
            id=query_id,
            user_id=person.id,
            chat_id=chat_id,
            message_id=message_id,
            data=data,
            time=time.monotonic(),
        )
        self._callbacks[query_id] = record
        self._known_chats.add(chat_id)
        self._mark_action(chat_id)
        self.queue_update(
            "callback_query",
            {
                "id": query_id,
                "from": person.as_api(),
                "message": message,
                "chat_instance": str(abs(chat_id) * 7 + 13),
                "data": data,
            },
        )
        return record

    def _deliver_inline_query(self, person: FakeUser, query: str) -> InlineQueryRecord:
        query_id = str(next(self._query_ids))
        record = InlineQueryRecord(
            id=query_id, user_id=person.id, query=query, time=time.monotonic()
        )
        self._inline_queries[query_id] = record
        self.queue_update(
            "inline_query",
            {
                "id": query_id,
                "from": person.as_api(),
                "query": query,
                "offset": "",
                "chat_type": "sender",
            },
        )
        return record

    # ------------------------------------------------------------------------------------
    # HTTP
    # ------------------------------------------------------------------------------------

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        status, payload = await self._serve(
            request.path_params["token"],
            request.path_params["method"],
            request.headers.get("content-type", ""),
            body,
            list(request.query_params.multi_items()),
            request,
        )
        return JSONResponse(payload, status_code=status)

    async def serve_in_process(
        self, token: str, method: str, content_type: str, body: bytes
    ) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call without HTTP (see :class:`.serving.InProcessRequest`): the
        same checks, interceptors and records as over HTTP; no long polling."""
        return await self._serve(token, method, content_type, body, [], None)

    async def _serve(
        self,
        token: str,
        raw_method: str,
        content_type: str,
        body: bytes,
        query: list[tuple[str, str]],
        request: Request | None,
    ) -> tuple[int, dict[str, Any]]:
        entry = self._methods.get(raw_method.lower())
        name = entry[0] if entry else raw_method
        call = Call(name, {}, time.monotonic())
        self.calls.append(call)
        polling = name == "getUpdates"
        if not polling:
            self._inflight += 1
            self._last_activity = time.monotonic()
        status = 200
        try:
            call.params = read_params(content_type, body, query)
            if token != self.token:
                raise E.unauthorized()
            if entry is None:
                raise E.not_found()
            for interceptor in list(self.interceptors):
                outcome = interceptor(name, call.params)
                if inspect.isawaitable(outcome):
                    outcome = await outcome
                if outcome is not None:
                    raise outcome
            if polling:
                if request is None:
                    raise E.bad_request("getUpdates needs HTTP (long polling)")
                result = await self._long_poll(request, entry[1], call.params)
            else:
                result = await entry[1](call.params)
        except _ClientGone:
            call.abandoned, call.description = True, "the client disconnected"
            status, payload = 499, {"ok": False, "error_code": 499, "description": "gone"}
        except FakeError as exc:
            call.ok, call.error_code, call.description = False, exc.error_code, exc.description
            status, payload = exc.error_code, exc.payload()
        except Exception as exc:  # a bug in the fake itself: make it loud in errors()
            logger.exception("fake Bot API failed on %s", name)
            description = f"Internal Server Error: fake bug: {type(exc).__name__}: {exc}"
            call.ok, call.error_code, call.description = False, 500, description
            status = 500
            payload = {"ok": False, "error_code": 500, "description": description}
        else:
            call.ok, call.result = True, result
            payload = {"ok": True, "result": result}
        finally:
            if not polling:
                self._inflight -= 1
                self._last_activity = time.monotonic()
            self._notify()
        return status, payload

    async def _long_poll(
        self,
        request: Request,
        method: Callable[[dict[str, Any]], Awaitable[Any]],
        params: dict[str, Any],
    ) -> Any:
        """Run getUpdates, but give up (raising :class:`_ClientGone`) if the client hangs up
        first, e.g. PTB cancelling its poll on shutdown: such a poll takes no updates and is
        not a refused call."""
        work = asyncio.ensure_future(method(params))
        gone = asyncio.ensure_future(self._disconnected(request))
        try:
            done, _ = await asyncio.wait({work, gone}, return_when=asyncio.FIRST_COMPLETED)
            if work in done:
                try:
                    return work.result()
                except FakeError as exc:
                    if exc.description != E.OTHER_GET_UPDATES:
                        raise
                    # a poll superseded by a newer one usually belongs to a client that left
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(gone), timeout=0.3)
                    if gone.done():
                        raise _ClientGone from exc
                    raise
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
            raise _ClientGone
        finally:
            gone.cancel()

    @staticmethod
    async def _disconnected(request: Request) -> None:
        """Return when the client of ``request`` (whose body was read) disconnects."""
        while True:
            message = await request.receive()
            if message["type"] == "http.disconnect":
                return

    async def _handle_file(self, request: Request) -> Response:
        stored = self._file_paths.get(request.path_params["path"])
        if request.path_params["token"] != self.token or stored is None:
            return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        return Response(stored.content, media_type=stored.mime_type or "application/octet-stream")

    # ------------------------------------------------------------------------------------
    # inspection for tests
    # ------------------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """Calls of one method (case-insensitive name), in arrival order."""
        wanted = method.lower()
        return [c for c in self.calls if c.method.lower() == wanted]

    def errors(self) -> list[Call]:
        """Calls the fake refused (4xx/5xx), in arrival order; tests assert it is empty."""
        return [c for c in self.calls if c.ok is False]

    def block_chat(self, chat_id: int) -> None:
        """From now on, answer sends to ``chat_id`` with 403 (the user blocked the bot, or the
        bot was removed from the group)."""
        chat = self._chats.get(chat_id, {})
        description = E.BOT_BLOCKED if chat.get("type", "private") == "private" else E.BOT_KICKED
        self.blocked.block(chat_id, FakeError(403, description))

    def unblock_chat(self, chat_id: int) -> None:
        """Undo :meth:`block_chat`."""
        self.blocked.unblock(chat_id)

    def enforce_flood_limits(
        self,
        per_second: int | None = 30,
        chat_interval: float | None = 1.0,
        group_per_minute: int | None = 20,
        *,
        retry_after: int = 1,
        refuse: bool = True,
    ) -> FloodControl:
        """From now on, answer sending calls beyond Telegram's flood limits with 429
        ``retry_after`` (see :class:`.limits.FloodControl`); returns it, its ``stats`` count
        what it saw. Off by default."""
        flood = FloodControl(
            per_second, chat_interval, group_per_minute, retry_after=retry_after, refuse=refuse
        )
        self.interceptors.insert(0, flood)
        return flood

    def fail_chat(self, chat_id: int, error: FakeError, *, times: int | None = None) -> None:
        """Answer sending calls to ``chat_id`` with ``error`` (e.g. ``bad_request("chat not
        found")``), the next ``times`` times or forever."""
        self.faults.add(chat_id, error, times=times)

    def time_out_chat(self, chat_id: int, *, times: int | None = 1, delay: float = 2.0) -> None:
        """Hold the answer to sending calls to ``chat_id`` for ``delay`` seconds (make it longer
        than the bot's timeout) without delivering the message, the next ``times`` times."""
        self.faults.add(chat_id, None, times=times, delay=delay)

    def clear_faults(self, chat_id: int) -> None:
        """Undo :meth:`fail_chat` and :meth:`time_out_chat` for ``chat_id``."""
        self.faults.clear(chat_id)

    def mark_known(self, chat_id: int) -> None:
        """Let the bot write to ``chat_id`` as if the person had talked to it long ago."""
        if chat_id not in self._chats:
            raise AssertionError(f"chat {chat_id} does not exist in the fake")
        self._known_chats.add(chat_id)

    def is_known_chat(self, chat_id: int) -> bool:
        """Whether the chat ever sent the bot an update (so the bot may write to it)."""
        return chat_id in self._known_chats

    def message(self, chat_id: int, message_id: int) -> BotMessage | None:
        """The current state of a bot message (deleted ones included), or ``None``."""
        message = self._messages.get((chat_id, message_id))
        return message.snapshot() if message is not None else None

    def chat_messages(self, chat_id: int, *, include_deleted: bool = False) -> list[BotMessage]:
        """Messages the bot sent to a chat, oldest first (current state of each)."""
        found = [
            m.snapshot()
            for (cid, _), m in sorted(self._messages.items())
            if cid == chat_id and (include_deleted or not m.deleted)
        ]
        return found

    def sent_documents(self, chat_id: int | None = None) -> list[SentFile]:
        """Files the bot sent with sendDocument (to one chat, or to any), oldest first."""
        return [
            m.document
            for (cid, _), m in self._messages.items()  # insertion order == sending order
            if m.document is not None and (chat_id is None or cid == chat_id)
        ]

    def reply_keyboard(self, chat_id: int) -> Markup | None:
        """The reply keyboard currently shown in a chat: the latest one the bot set, unless a
        later message removed it."""
        for (cid, _), message in sorted(self._messages.items(), reverse=True):
            if cid != chat_id or message.reply_markup is None:
                continue
            if message.reply_markup.kind == "reply":
                return message.reply_markup
            if message.reply_markup.kind == "remove":
                return None
        return None

    def callback_queries(self) -> list[CallbackQueryRecord]:
        """Every callback query delivered, oldest first."""
        return list(self._callbacks.values())

    def unanswered_callback_queries(self) -> list[CallbackQueryRecord]:
        """Callback queries the bot has not answered (Telegram's spinner keeps spinning)."""
        return [r for r in self._callbacks.values() if not r.answered]

    def inline_queries(self) -> list[InlineQueryRecord]:
        """Every inline query delivered, oldest first."""
        return list(self._inline_queries.values())

    def commands(
        self,
        scope_type: str = "default",
        chat_id: int | None = None,
        user_id: int | None = None,
        language_code: str = "",
    ) -> list[tuple[str, str]]:
        """The commands stored by setMyCommands for exactly this scope and language."""
        key: ScopeKey = (scope_type,)
        if scope_type in ("chat", "chat_administrators"):
            key = (scope_type, chat_id)
        elif scope_type == "chat_member":
            key = (scope_type, chat_id, user_id)
        return [
            (c["command"], c["description"]) for c in self._commands.get((key, language_code), [])
        ]

    def commands_for(
        self,
        chat_id: int,
        user_id: int | None = None,
        language_code: str | None = None,
        *,
        is_admin: bool = False,
    ) -> list[tuple[str, str]]:
        """The command menu a user sees in a chat, resolved with Telegram's scope order
        (chat_member, chat_administrators, chat, all_chat_administrators, all_group_chats or
        all_private_chats, default; each first with the user's language, then without)."""
        if language_code is None and user_id in self._users:
            language_code = self._users[user_id].language_code
        languages = [language_code, ""] if language_code else [""]
        if self._chats.get(chat_id, {}).get("type", "private") == "private":
            scopes: list[ScopeKey] = [("chat", chat_id), ("all_private_chats",), ("default",)]
        else:
            scopes = []
            if user_id is not None:
                scopes.append(("chat_member", chat_id, user_id))
            if is_admin:
                scopes.append(("chat_administrators", chat_id))
            scopes.append(("chat", chat_id))
            if is_admin:
                scopes.append(("all_chat_administrators",))
            scopes += [("all_group_chats",), ("default",)]
        for scope in scopes:
            for language in languages:
                found = self._commands.get((scope, language))
                if found:
                    return [(c["command"], c["description"]) for c in found]
        return []

    def menu_button(self, chat_id: int | None = None) -> dict[str, Any] | None:
        """The menu button set for a chat (or the default one), as setChatMenuButton sent it."""
        return self._menu_buttons.get(chat_id)

    def profile(self, field: str, language_code: str = "") -> str | None:
        """What setMyName/setMyDescription/setMyShortDescription stored (field: ``name``,
        ``description``, ``short_description``)."""
        return self._profile.get((field, language_code))

    # ------------------------------------------------------------------------------------
    # waiting
    # ------------------------------------------------------------------------------------

    async def wait_message(
        self,
        chat_id: int,
        predicate: MessagePredicate | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 (the API tests call)
    ) -> BotMessage:
        """Wait until the bot sends or edits a message in ``chat_id`` (matching ``predicate``)
        after the last simulated action in that chat; each call returns the next one.

        Raises AssertionError describing the chat if nothing comes within ``timeout`` seconds.
        """
        return (await self.wait_messages(chat_id, 1, timeout, predicate))[0]

    async def wait_messages(
        self,
        chat_id: int,
        n: int,
        timeout: float = 5.0,  # noqa: ASYNC109 (the API tests call)
        predicate: MessagePredicate | None = None,
    ) -> list[BotMessage]:
        """Wait for the next ``n`` messages sent or edited in ``chat_id`` (see
        :meth:`wait_message`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        start_cursor = self._chat_cursor.get(chat_id, 0)
        found: list[BotMessage] = []
        while True:
            cursor = self._chat_cursor.get(chat_id, 0)
            for event in self._events[cursor:]:
                if event.chat_id != chat_id or event.kind == "deleted":
                    continue
                if predicate is not None and not predicate(event.message):
                    continue
                found.append(event.message)
                self._chat_cursor[chat_id] = event.seq
                if len(found) == n:
                    return found
            else:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise AssertionError(
                        self._describe_wait(chat_id, start_cursor, n, found, timeout)
                    )
                await self._wait_change(remaining)

    def _describe_wait(
        self, chat_id: int, cursor: int, n: int, found: list[BotMessage], timeout: float
    ) -> str:
        chat = self._chats.get(chat_id, {})
        who = chat.get("title") or chat.get("first_name") or "?"
        lines = [
            f"waited {timeout:.1f} s for {n} message(s) from the bot in chat {chat_id} ({who}) "
            f"after the last action there; got {len(found)}."
        ]
        events = [e for e in self._events if e.chat_id == chat_id]
        if events:
            lines.append("Messages in this chat (* = after the last action):")
            for event in events[-12:]:
                mark = "*" if event.seq > cursor else " "
                lines.append(f"  {mark} #{event.seq} {event.kind}: {event.message!r}")
        else:
            lines.append("The bot never wrote in this chat.")
        unfetched = [u for u in self._updates if u["update_id"] > self._fetched_upto]
        if unfetched:
            lines.append(f"{len(unfetched)} update(s) never fetched by the bot (is it running?).")
        refused = self.errors()[-5:]
        if refused:
            lines.append("Latest refused calls: " + "; ".join(repr(c) for c in refused))
        return "\n".join(lines)

    async def idle(self, timeout: float = 5.0, quiet: float = DEFAULT_QUIET) -> None:  # noqa: ASYNC109
        """Wait until the bot fetched every queued update and made no API call (other than
        long polling) for ``quiet`` seconds; then a test can assert nothing else was sent."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            unfetched = [u for u in self._updates if u["update_id"] > self._fetched_upto]
            calm_for = time.monotonic() - self._last_activity
            if not unfetched and self._inflight == 0 and calm_for >= quiet:
                return
            if loop.time() >= deadline:
                raise AssertionError(
                    f"the bot did not become idle within {timeout} s: "
                    f"{len(unfetched)} update(s) not fetched, {self._inflight} call(s) in "
                    f"progress, last call {calm_for:.2f} s ago"
                )
            await asyncio.sleep(min(0.02, max(quiet - calm_for, 0.005)))
