"""A fault-injecting HTTP proxy between the operator and an API server.

The API server behind it (the emulator, or a real one reached over TLS) keeps the cluster's
state; this proxy, on its own port and thread, is what the operator's kubeconfig points at.
It can go away and come back on the same port (open watch connections are cut, new
connections refused, the store behind it kept), answer chosen requests with an error, answer
a random fraction with 500/429, deliver the watch events of one resource late, and hold the
answer to a chosen request so a test can kill the operator at exactly that moment. The tests'
own client talks to the API server directly, so setting up a scenario is never disturbed by
the faults it injects.
"""

from __future__ import annotations

import asyncio
import json
import random
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from aiohttp import web

#: Headers that describe one hop's connection, not the request itself.
HOP_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "host"})


@dataclass(frozen=True, slots=True)
class Seen:
    """What a fault rule may look at: the request line and its JSON body."""

    method: str
    path: str
    query: dict[str, str]
    body: Any

    @property
    def is_watch(self) -> bool:
        return self.query.get("watch") in ("true", "1")

    def creates(self, plural: str, reason: str | None = None) -> bool:
        """A POST creating a ``plural`` object (an Event with ``reason``, when given)."""
        if self.method != "POST" or not self.path.rstrip("/").endswith(f"/{plural}"):
            return False
        return reason is None or (isinstance(self.body, dict) and self.body.get("reason") == reason)


Match = Callable[[Seen], bool]


@dataclass(slots=True)
class Rule:
    """Answer the next ``times`` requests that ``match`` with ``status`` (not forwarded)."""

    match: Match
    status: int
    times: int = 1


@dataclass(slots=True)
class Trap:
    """Forward the first request that ``match``, then do ``then`` instead of answering it.

    ``then`` is "hold" (never answer: the test kills the operator meanwhile) or "outage"
    (the API server goes away for ``seconds`` right after it did the write)."""

    match: Match
    then: Literal["hold", "outage"]
    seconds: float = 0.0
    claimed: bool = False
    #: Set once the trapped request has been done by the API server behind the proxy.
    sprung: threading.Event = field(default_factory=threading.Event)


class FaultyProxy:
    """Serves ``upstream`` on 127.0.0.1:``port`` with faults; thread-safe controls."""

    def __init__(
        self, upstream: str, *, seed: int = 7, upstream_ssl: ssl.SSLContext | None = None
    ) -> None:
        self.upstream = upstream
        self.upstream_ssl = upstream_ssl  # trusts a real API server's CA; None for plain HTTP
        self.port = 0
        self.url = ""
        self.error_rate = 0.0
        self.watch_delay: dict[str, float] = {}  # plural → seconds each watch event is late
        self.answered: list[tuple[str, str, int]] = []  # (method, path, status) of faults
        self._rules: list[Rule] = []
        self._traps: list[Trap] = []
        self._random = random.Random(seed)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="faulty-proxy")
        self._thread.daemon = True
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self._lock = threading.Lock()
        self._back = threading.Event()
        self._held: set[asyncio.Task[Any]] = set()
        self.back_at = 0.0

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()
        self._run(self._open_session())
        self._run(self._listen())
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._run(self._go_away())
        if self._session is not None:
            self._run(self._session.close())
        self._run(self._finish_tasks())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _finish_tasks(self) -> None:
        """Cancel and await what is left (pending comebacks, stream readers), so nothing is
        garbage-collected half-run when the loop stops."""
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def go_away(self) -> None:
        """Stop listening and cut every open connection (watches included)."""
        self._run(self._go_away())

    def come_back(self) -> None:
        """Listen again on the same port; the cluster's state is what it was."""
        self._run(self._listen())

    def outage(self, seconds: float) -> None:
        """Go away now and come back after ``seconds`` (without blocking the caller)."""
        self.go_away()
        self._loop.call_soon_threadsafe(lambda: self._loop.create_task(self._later(seconds)))

    async def _later(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self._listen()

    async def _outage(self, seconds: float) -> None:
        await self._go_away()
        await self._later(seconds)

    def wait_healthy(self, timeout: float) -> float:
        """Block until the proxy listens again; returns ``time.monotonic()`` of its return."""
        if not self._back.wait(timeout):
            raise AssertionError(f"the API server did not come back within {timeout:g}s")
        return self.back_at

    # --- faults ------------------------------------------------------------------------

    def fail(self, match: Match, status: int = 500, times: int = 1) -> None:
        with self._lock:
            self._rules.append(Rule(match, status, times))

    def trap(self, match: Match, then: Literal["hold", "outage"], seconds: float = 0.0) -> Trap:
        trap = Trap(match, then, seconds)
        with self._lock:
            self._traps.append(trap)
        return trap

    def clear(self) -> None:
        """No more faults: every request is forwarded and answered at once, and a held
        answer is cut off (its client sees the connection drop, as after a network fault)."""
        with self._lock:
            self._rules.clear()
            self._traps.clear()
            self.error_rate = 0.0
            self.watch_delay.clear()
            held, self._held = self._held, set()
        for task in held:
            self._loop.call_soon_threadsafe(task.cancel)

    # --- serving -----------------------------------------------------------------------

    def _run(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout=30)

    async def _open_session(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=5),
            auto_decompress=False,
            connector=aiohttp.TCPConnector(ssl=self.upstream_ssl or True),
        )

    async def _listen(self) -> None:
        if self._runner is not None:
            return
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, shutdown_timeout=0.5, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port, reuse_address=True)
        await site.start()
        self.port = runner.addresses[0][1]
        self._runner = runner
        self.back_at = time.monotonic()
        self._back.set()

    async def _go_away(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._back.clear()
        for task in list(self._handlers):
            task.cancel()
        await runner.cleanup()

    def _pick_fault(self, seen: Seen) -> int | Trap | None:
        with self._lock:
            for rule in self._rules:
                if rule.times > 0 and rule.match(seen):
                    rule.times -= 1
                    return rule.status
            for trap in self._traps:
                if not trap.claimed and trap.match(seen):
                    trap.claimed = True
                    return trap
            if self._random.random() < self.error_rate:
                return self._random.choice((500, 429))
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            return await self._answer(request)
        finally:
            self._handlers.discard(task)

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        # The body goes on as it came: none for none, and no Content-Type where the client
        # sent none (the Kubernetes client sends none; a real API server reads JSON then,
        # but refuses the application/octet-stream aiohttp would add with 415).
        data = await request.read()
        seen = Seen(request.method, request.path, dict(request.query), _json_or_none(data))
        fault = self._pick_fault(seen)
        if isinstance(fault, int):
            self.answered.append((seen.method, seen.path, fault))
            return _failure(fault)
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        if isinstance(fault, Trap):
            # The write reaches the API server even if the client hangs up meanwhile.
            await asyncio.shield(self._forward_only(request, data, headers))
            return await self._spring(fault)
        async with self._session.request(
            request.method,
            self.upstream + request.path_qs,
            data=data or None,
            headers=headers,
            skip_auto_headers=_untyped(headers),
        ) as upstream:
            if seen.is_watch:
                return await self._stream(request, upstream, seen)
            body = await upstream.read()
            return web.Response(body=body, status=upstream.status, headers=_copied(upstream))

    async def _forward_only(self, request: web.Request, data: bytes, headers: Any) -> None:
        assert self._session is not None
        async with self._session.request(
            request.method,
            self.upstream + request.path_qs,
            data=data or None,
            headers=headers,
            skip_auto_headers=_untyped(headers),
        ) as upstream:
            await upstream.read()

    async def _spring(self, trap: Trap) -> web.StreamResponse:
        if trap.then == "outage":
            # Down before anyone hears the trap sprang: a test that then waits for the API
            # server to be back must wait for this comeback, not see the previous one.
            self._back.clear()
            asyncio.get_running_loop().create_task(self._outage(trap.seconds))
        trap.sprung.set()
        task = asyncio.current_task()
        assert task is not None
        with self._lock:
            self._held.add(task)
        await asyncio.Event().wait()  # cancelled by clear() or go_away()
        raise AssertionError("unreachable")

    async def _stream(
        self, request: web.Request, upstream: aiohttp.ClientResponse, seen: Seen
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=upstream.status, headers=_copied(upstream))
        await response.prepare(request)
        plural = seen.path.rstrip("/").rsplit("/", 1)[-1]
        delay = self.watch_delay.get(plural, 0.0)
        lines: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def read() -> None:
            async for line in upstream.content:
                await lines.put((loop.time() + delay, line))
            await lines.put(None)

        reader = asyncio.create_task(read())
        try:
            while (item := await lines.get()) is not None:
                due, line = item
                await asyncio.sleep(max(0.0, due - loop.time()))
                await response.write(line)
            await response.write_eof()
        finally:
            reader.cancel()
        return response


def _json_or_none(data: bytes) -> Any:
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None


def _untyped(headers: dict[str, str]) -> tuple[str, ...]:
    """Keep aiohttp from adding a Content-Type the client did not send."""
    return () if any(k.lower() == "content-type" for k in headers) else ("Content-Type",)


def _copied(upstream: aiohttp.ClientResponse) -> dict[str, str]:
    return {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS}


def _failure(status: int) -> web.Response:
    reason = {429: "TooManyRequests", 500: "InternalError"}.get(status, "InternalError")
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f"injected fault: {status}",
        "reason": reason,
        "code": status,
    }
    headers = {"Retry-After": "1"} if status == 429 else {}
    return web.json_response(body, status=status, headers=headers)
