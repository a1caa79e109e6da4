"""HTTPS in front of the emulated API server, for clients that only speak HTTPS to it.

The emulator serves plain HTTP. A pod's service-account configuration always means
``https://HOST:PORT`` with the mounted CA, so a test of that path puts this TLS front on
loopback, with a certificate made for ``127.0.0.1`` by the ``openssl`` command, and forwards
the decrypted bytes to the emulator unchanged.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit


def loopback_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``127.0.0.1`` and its key; the certificate is its own CA."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise FileNotFoundError("the openssl command is needed to make a test certificate")
    cert, key = directory / "tls.crt", directory / "tls.key"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-nodes",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextmanager
def tls_front(upstream: str, cert: Path, key: Path) -> Iterator[int]:
    """Serve TLS on a free loopback port (yielded) and pass every connection to ``upstream``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    target = urlsplit(upstream)
    loop = asyncio.new_event_loop()
    started: Future[tuple[int, asyncio.Event]] = Future()

    async def serve() -> None:
        stop = asyncio.Event()
        server = await asyncio.start_server(
            lambda r, w: _relay(r, w, target.hostname or "127.0.0.1", target.port or 80),
            "127.0.0.1",
            0,
            ssl=context,
        )
        started.set_result((server.sockets[0].getsockname()[1], stop))
        async with server:
            await stop.wait()
            relays = asyncio.all_tasks() - {asyncio.current_task()}
            for relay in relays:
                relay.cancel()
            await asyncio.gather(*relays, return_exceptions=True)

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    port, stop = started.result(timeout=10)
    try:
        yield port
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
        loop.close()


async def _relay(
    client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter, host: str, port: int
) -> None:
    upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
    await asyncio.gather(
        _pipe(client_reader, upstream_writer),
        _pipe(upstream_reader, client_writer),
    )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        with suppress(ConnectionError, ssl.SSLError, RuntimeError):
            writer.close()
