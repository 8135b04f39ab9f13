"""Serving an ASGI app with uvicorn inside the running event loop (for tests).

uvicorn's own ``Server.serve()`` installs signal handlers (pytest's Ctrl+C would stop the
server instead of the run) and polls for shutdown every 0.1 s, then sleeps another 0.1 s;
with hundreds of tests that adds up. :class:`AsgiServer` uses uvicorn's protocol and startup,
without its main loop, and shuts down as soon as open connections are closed.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn


class AsgiServer:
    """Serve ``app`` on ``host`` and a free (or given) port until :meth:`stop`.

    ``async with AsgiServer(app) as server: ... server.port ...``
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self._requested_port = port
        self.port: int | None = None
        self._server: uvicorn.Server | None = None

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        """Bind the socket and start accepting connections."""
        if self._server is not None:
            raise RuntimeError("already started")
        # IPPROTO_TCP, so that asyncio sets TCP_NODELAY on accepted connections (else Nagle
        # and delayed ACKs add 40 ms to every response written in two parts).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="h11",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = config.lifespan_class(config)
        await server.startup(sockets=[sock])
        self._server = server

    async def stop(self) -> None:
        """Stop accepting connections, close the open ones, and cancel what still runs."""
        server, self._server = self._server, None
        if server is None:
            return
        for listener in server.servers:
            listener.close()
        for connection in list(server.server_state.connections):
            connection.shutdown()  # closes idle keep-alive connections at once
        for _ in range(400):  # up to 2 s for responses in progress
            if not server.server_state.connections:
                break
            await asyncio.sleep(0.005)
        for task in list(server.server_state.tasks):
            task.cancel()
        for connection in list(server.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.close()
        for listener in server.servers:
            await listener.wait_closed()

    async def __aenter__(self) -> AsgiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
