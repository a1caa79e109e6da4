"""The official MCP SDK's own client against an operator's /mcp, for the test tiers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent


@asynccontextmanager
async def mcp_session(base_url: str, token: str | None) -> AsyncIterator[ClientSession]:
    """An initialised MCP session with ``/mcp`` of the operator at ``base_url``."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(f"{base_url}/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def text_of(result: CallToolResult) -> str:
    """The text a tool answered (every tool answers one text block)."""
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


async def call(session: ClientSession, tool: str, **arguments: Any) -> tuple[str, bool]:
    """(the tool's text, whether the result is marked as an error)."""
    result = await session.call_tool(tool, arguments)
    return text_of(result), bool(result.is_error)
