"""/mcp loads its SDK once, on the first request that reaches it, and stops it with the server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from highpeaks_agent.mcp.lazy import LazyMcp


class FakeSessions:
    def __init__(self) -> None:
        self.running = False
        self.stopped = False

    @contextlib.asynccontextmanager
    async def run(self) -> AsyncIterator[None]:
        self.running = True
        try:
            yield
        finally:
            self.stopped = True


class FakeTransport:
    def __init__(self) -> None:
        self.sessions = FakeSessions()
        self.served = 0

    async def asgi(self, scope: Any, receive: Any, send: Any) -> None:
        assert self.sessions.running  # never served before its task group runs
        await asyncio.sleep(0)
        self.served += 1


async def test_the_transport_is_built_once_on_first_use_and_stopped_with_the_server() -> None:
    built: list[FakeTransport] = []

    def build() -> Any:
        built.append(FakeTransport())
        return built[-1]

    lazy = LazyMcp(build)
    async with lazy.lifespan(None):
        assert not lazy.loaded and not built
        await asyncio.gather(*(lazy({"type": "http"}, None, None) for _ in range(5)))  # type: ignore[arg-type]
        assert len(built) == 1 and built[0].served == 5 and lazy.loaded
    assert built[0].sessions.stopped


async def test_a_transport_that_cannot_start_is_an_error_and_tried_again() -> None:
    attempts: list[int] = []

    class Broken(FakeTransport):
        def __init__(self) -> None:
            super().__init__()
            self.sessions.run = self._fail  # type: ignore[method-assign]

        @contextlib.asynccontextmanager
        async def _fail(self) -> AsyncIterator[None]:
            raise OSError("no task group")
            yield  # pragma: no cover

    def build() -> Any:
        attempts.append(1)
        return Broken() if len(attempts) == 1 else FakeTransport()

    lazy = LazyMcp(build)
    async with lazy.lifespan(None):
        try:
            await lazy({"type": "http"}, None, None)  # type: ignore[arg-type]
        except OSError as exc:
            assert "no task group" in str(exc)
        else:
            raise AssertionError("the broken start was not reported")
        await lazy({"type": "http"}, None, None)  # type: ignore[arg-type]
    assert len(attempts) == 2
