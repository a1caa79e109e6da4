"""Fixtures of the real Flowise tier: the deterministic model, a recording proxy, Flowise."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from tests.flowise.harness import FlowiseServer
from tests.flowise.model_server import ModelServer
from tests.support.operator_process import free_port


class Background:
    """An event loop in a thread for the loopback servers the tests need."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)  # type: ignore[arg-type]

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


class RecordingProxy:
    """A TCP proxy in front of Flowise that keeps every byte the client sends."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.sent = bytearray()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, record: bool) -> None:
            try:
                while data := await src.read(65536):
                    if record:
                        self.sent.extend(data)
                    dst.write(data)
                    await dst.drain()
            finally:
                dst.close()

        await asyncio.gather(
            pump(reader, up_writer, True), pump(up_reader, writer, False), return_exceptions=True
        )


@pytest.fixture(scope="session")
def background() -> Iterator[Background]:
    bg = Background()
    yield bg
    bg.stop()


@pytest.fixture(scope="session")
def model(background: Background) -> ModelServer:
    server = ModelServer()
    port = free_port()

    async def start() -> None:
        runner = web.AppRunner(server.app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()

    background.run(start())
    server.url = f"http://127.0.0.1:{port}/v1"  # type: ignore[attr-defined]
    return server


@pytest.fixture(scope="session")
def flowise(
    model: ModelServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FlowiseServer]:
    server = FlowiseServer(tmp_path_factory.mktemp("flowise"))
    server.start()
    try:
        server.provision(model.url)  # type: ignore[attr-defined]
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def proxy(flowise: FlowiseServer, background: Background) -> RecordingProxy:
    recorder = RecordingProxy(flowise.port)
    background.run(recorder.start())
    return recorder


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("flowise-work")
