"""/mcp on the HTTP port, with the SDK loaded on the first request that passes the gate.

The operator loads what is used (README "Footprint"): the MCP SDK and what it brings cost
about 29 MB resident, so it is imported, and its session manager started, only when someone
calls /mcp with a credential the gate accepts — never for a flood of made-up tokens. The
session manager's task group then runs in a task of its own until the HTTP server stops
(:meth:`LazyMcp.lifespan`, the HTTP app's lifespan).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from starlette.types import Receive, Scope, Send

if TYPE_CHECKING:
    from highpeaks_agent.mcp.server import McpTransport

PATH = "/mcp"


class LazyMcp:
    """An ASGI app that builds the MCP transport (``build``) on its first request."""

    def __init__(self, build: Callable[[], McpTransport]) -> None:
        self._build = build
        self._transport: McpTransport | None = None
        self._runner: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()
        self._stopping = asyncio.Event()

    @property
    def loaded(self) -> bool:
        return self._transport is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = await self._started()
        await transport.asgi(scope, receive, send)

    async def _started(self) -> McpTransport:
        async with self._starting:
            if self._transport is None:
                transport = self._build()
                ready = asyncio.Event()
                runner = asyncio.create_task(self._run(transport, ready), name="mcp sessions")
                waiting = asyncio.create_task(ready.wait())
                await asyncio.wait({runner, waiting}, return_when=asyncio.FIRST_COMPLETED)
                if runner.done():  # it could not start: say why, and try again next time
                    waiting.cancel()
                    runner.result()
                    raise RuntimeError("the MCP session manager stopped as it started")
                self._transport, self._runner = transport, runner
            return self._transport

    async def _run(self, transport: McpTransport, ready: asyncio.Event) -> None:
        async with transport.sessions.run():
            ready.set()
            await self._stopping.wait()

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Any) -> AsyncIterator[None]:
        """Stop the session manager (if it was started) when the HTTP server stops."""
        try:
            yield
        finally:
            self._stopping.set()
            if self._runner is not None:
                await self._runner
