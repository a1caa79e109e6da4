"""Real HTTP servers on 127.0.0.1 for tests that must cross a socket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from kubernetes import client


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on a free loopback port; yields its base URL and stops it afterwards."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def api_client_for(app: web.Application) -> AsyncIterator[client.ApiClient]:
    """A Kubernetes API client for ``app``, served on a free loopback port."""
    async with serve(app) as url:
        configuration = client.Configuration()
        configuration.host = url
        with client.ApiClient(configuration) as api_client:
            yield api_client
