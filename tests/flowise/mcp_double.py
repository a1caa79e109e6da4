"""TEST DOUBLE of the operator's ``/mcp``, for the real Flowise tier only — not the product.

It exists to prove what the shipped flow does inside the real Flowise 3.1.4: that the Custom
MCP node reaches an MCP server over Streamable HTTP with the one-request bearer token the
bridge passes as a Flowise variable, lists the tools, and calls them step by step. It is built
on the official ``mcp`` SDK, offers the six read-only tool names of CONTRACT §11, and honours
the operator's own :class:`~highpeaks_agent.flowise.grants.FlowGrants` exactly as ``/mcp``
does: an unknown or revoked token is refused, each call is counted on the grant and refused
past its budget, and each is recorded as a :class:`Step`. What a tool *answers* is scripted
by the test (``answers``), since reading the cluster is ``/mcp``'s job, not this double's.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.transport_security import TransportSecuritySettings

from highpeaks_agent.flowise.grants import FlowGrants, Step
from tests.support.operator_process import free_port

TOOLS = ("diagnose", "logs", "events", "get", "rollout_history", "node")


class McpDouble:
    """The six tool names over Streamable HTTP on loopback, bound by ``grants``."""

    def __init__(self, grants: FlowGrants) -> None:
        self.grants = grants
        self.answers: dict[str, str] = {tool: f"{tool}: nothing unusual" for tool in TOOLS}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.refused_tokens = 0
        self.http_requests: list[str] = []  # "POST", "GET", "DELETE": what Flowise's client sends
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.server = MCPServer("highpeaks-agent (test double)")
        self._register()
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def _register(self) -> None:
        server = self.server

        @server.tool(description="Diagnose a target (KIND/NAME) or a whole namespace.")
        def diagnose(ctx: Context, target: str = "", namespace: str = "") -> str:
            return self._step(ctx, "diagnose", {"target": target, "namespace": namespace})

        @server.tool(description="A container's log tail; previous=true for the last run.")
        def logs(
            ctx: Context, pod: str, container: str = "", previous: bool = False, tail: int = 50
        ) -> str:
            arguments = {"pod": pod, "container": container, "previous": previous, "tail": tail}
            return self._step(ctx, "logs", arguments)

        @server.tool(description="The Events of one object.")
        def events(ctx: Context, kind: str, name: str) -> str:
            return self._step(ctx, "events", {"kind": kind, "name": name})

        @server.tool(description="One object, trimmed and redacted.")
        def get(ctx: Context, kind: str, name: str) -> str:
            return self._step(ctx, "get", {"kind": kind, "name": name})

        @server.tool(description="A workload's revisions and what changed between them.")
        def rollout_history(ctx: Context, kind: str, name: str) -> str:
            return self._step(ctx, "rollout_history", {"kind": kind, "name": name})

        @server.tool(description="A node's conditions, taints and pressure.")
        def node(ctx: Context, name: str) -> str:
            return self._step(ctx, "node", {"name": name})

    def _step(self, ctx: Context, tool: str, arguments: dict[str, Any]) -> str:
        started = time.monotonic()
        headers = ctx.headers or {}
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        grant = self.grants.lookup(token)
        if grant is None:
            self.refused_tokens += 1
            raise PermissionError("unauthorized: the flow's credential is unknown or expired")
        self.calls.append((tool, arguments))
        line = " ".join(f"{k}={v}" for k, v in arguments.items() if v not in ("", None))
        if not grant.take_step():
            grant.record(Step(tool, line, "the step budget is spent", 0, outcome="budget"))
            return "refused: the step budget of this question is spent; answer now"
        result = self.answers[tool]
        elapsed = int((time.monotonic() - started) * 1000)
        grant.record(Step(tool, line, result.splitlines()[0][:200], elapsed))
        return result

    def start(self) -> None:
        app = self.server.streamable_http_app(
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

        async def counted(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                self.http_requests.append(scope["method"])
            await app(scope, receive, send)

        config = uvicorn.Config(
            counted, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self._uvicorn = uvicorn.Server(config)
        self._thread = threading.Thread(target=asyncio.run, args=(self._uvicorn.serve(),))
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._uvicorn.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the MCP test double did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._uvicorn is not None and self._thread is not None:
            self._uvicorn.should_exit = True
            self._thread.join(timeout=10)
