"""A PTB request backend that calls :class:`FakeTelegram` in the same process, without HTTP.

``Bot(token, base_url=fake.base_url, request=InProcessRequest(fake))`` goes through PTB's whole
request path (serialisation, error mapping, rate limiter) and the fake's checks, interceptors
and records, but skips sockets, httpx and uvicorn: benchmarks use it to measure the bot's own
throughput apart from the HTTP stack. Uploads (multipart) and long polling are not supported.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

if TYPE_CHECKING:
    from .server import FakeTelegram


class InProcessRequest(BaseRequest):
    def __init__(self, fake: FakeTelegram, read_timeout: float | None = 5.0) -> None:
        self.fake = fake
        self._read_timeout = read_timeout

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | None = None,  # type: ignore[override]
        write_timeout: float | None = None,  # type: ignore[override]
        connect_timeout: float | None = None,  # type: ignore[override]
        pool_timeout: float | None = None,  # type: ignore[override]
    ) -> tuple[int, bytes]:
        path = urlsplit(url).path  # /bot<token>/<method>
        token_part, _, api_method = path.rpartition("/")
        token = token_part.split("/bot", 1)[-1]
        if request_data is not None and request_data.contains_files:
            raise NotImplementedError("InProcessRequest does not upload files")
        body = request_data.json_payload if request_data is not None else b""
        call = self.fake.serve_in_process(token, api_method, "application/json", body)
        timeout = read_timeout if isinstance(read_timeout, int | float) else self._read_timeout
        try:
            status, payload = await asyncio.wait_for(call, timeout)
        except TimeoutError as exc:
            raise TimedOut from exc
        return status, json.dumps(payload).encode()
