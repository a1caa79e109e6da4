"""HTTPS in front of the emulated API server, for clients that only speak HTTPS to it.

The emulator serves plain HTTP. A pod's service-account configuration always means
``https://HOST:PORT`` with the mounted CA, so a test of that path puts this TLS front on
loopback, with a certificate for ``127.0.0.1`` from a throwaway CA (``trustme``), and forwards
the decrypted bytes to the emulator unchanged.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import trustme


@dataclass(frozen=True)
class LoopbackCertificate:
    """A server certificate for ``127.0.0.1`` and the CA that signed it, as files."""

    ca: Path
    """The CA certificate a client trusts (what a pod mounts as ``ca.crt``)."""
    chain: Path
    """The server's certificate followed by the CA's."""
    key: Path


def loopback_certificate(directory: Path) -> LoopbackCertificate:
    """A new CA and a certificate it signed for ``127.0.0.1``, written into ``directory``."""
    authority = trustme.CA()
    issued = authority.issue_cert("127.0.0.1")
    files = LoopbackCertificate(directory / "ca.crt", directory / "tls.crt", directory / "tls.key")
    authority.cert_pem.write_to_path(str(files.ca))
    files.chain.write_bytes(b"".join(blob.bytes() for blob in issued.cert_chain_pems))
    issued.private_key_pem.write_to_path(str(files.key))
    return files


@contextmanager
def tls_front(upstream: str, certificate: LoopbackCertificate) -> Iterator[int]:
    """Serve TLS on a free loopback port (yielded) and pass every connection to ``upstream``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.chain, certificate.key)
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
