"""The door of /mcp: who calls, within which rate, before the protocol sees the request.

Every HTTP request to /mcp passes here first (the transport is stateless: each request is
checked on its own, so rights and grants are never carried over from an earlier one):

* a flow credential (``hpflow_…``) is looked up locally: a live grant lets the request in
  with its rights; an unknown, revoked or expired one is 401, and never costs a TokenReview;
* any other bearer token is reviewed as /assist reviews it (``http/auth.py``): a token not
  reviewed recently is first held to ``ASSIST_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE`` per
  client address (the same count /assist keeps), a bad one is 401, a review that cannot be
  made 503;
* ``tools/call`` requests of a reviewed user are held to ``ASSIST_RATE_LIMIT_PER_MINUTE`` per
  user (protocol chatter — initialize, tools/list — costs the cluster nothing and is not
  counted); a flow grant is bounded by its step budget instead;
* with ``AUTH_MODE=none`` anyone gets in, as /assist then answers anyone.

Refusals are the JSON error bodies of the rest of the HTTP surface (``http/errors.py``).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from highpeaks_agent.errors import AgentError, PayloadTooLarge, TooManyRequests, Unauthenticated
from highpeaks_agent.flowise.grants import FlowGrants
from highpeaks_agent.http.auth import KubernetesAuth
from highpeaks_agent.http.errors import agent_error
from highpeaks_agent.http.ratelimit import RateLimiter
from highpeaks_agent.mcp.access import CALLER_SCOPE_KEY, Caller

#: How ``FlowGrants.issue`` starts its tokens: such a token is never sent to a TokenReview.
FLOW_TOKEN_PREFIX = "hpflow_"


class McpGate:
    """ASGI middleware in front of the MCP transport."""

    def __init__(
        self,
        inner: ASGIApp,
        *,
        auth: KubernetesAuth | None,
        grants: FlowGrants,
        per_user: RateLimiter,
        unauthenticated: RateLimiter,
        max_body_bytes: int,
    ) -> None:
        self._inner = inner
        self._auth = auth
        self._grants = grants
        self._per_user = per_user
        self._unauthenticated = unauthenticated
        self._max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._inner(scope, receive, send)
            return
        request = Request(scope)
        try:
            caller = await self._caller(request)
            body = await self._body(request, receive)
            self._within_rate(caller, body)
        except AgentError as exc:
            await agent_error(exc)(scope, receive, send)
            return
        scope[CALLER_SCOPE_KEY] = caller
        await self._inner(scope, _replayed(body, receive), send)

    async def _caller(self, request: Request) -> Caller:
        authorization = request.headers.get("authorization")
        token = _bearer(authorization)
        if token.startswith(FLOW_TOKEN_PREFIX):
            grant = self._grants.lookup(token)
            if grant is None:
                raise Unauthenticated("unknown or expired flow credential")
            return Caller(grant.user, grant)
        if self._auth is None:
            return Caller(None)
        known = self._auth.known_user(authorization)
        if known is not None:
            return Caller(known)
        address = request.client.host if request.client else "unknown"
        wait = self._unauthenticated.check(address)
        if wait is not None:
            raise TooManyRequests("too many requests with a token not yet reviewed", wait)
        return Caller(await self._auth.authenticate(authorization))

    async def _body(self, request: Request, receive: Receive) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self._max_body_bytes:
            raise PayloadTooLarge(f"body over {self._max_body_bytes} bytes")
        data = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            data.extend(message.get("body", b""))
            more = bool(message.get("more_body"))
            if len(data) > self._max_body_bytes:
                raise PayloadTooLarge(f"body over {self._max_body_bytes} bytes")
        return bytes(data)

    def _within_rate(self, caller: Caller, body: bytes) -> None:
        if caller.grant is not None or caller.user is None or not _calls_a_tool(body):
            return
        wait = self._per_user.check(caller.user.username)
        if wait is not None:
            raise TooManyRequests("too many tool calls a minute", wait)


def _bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _calls_a_tool(body: bytes) -> bool:
    """Whether the JSON-RPC body (one message or a batch) holds a ``tools/call``."""
    try:
        decoded: Any = json.loads(body) if body else None
    except (ValueError, RecursionError):
        return False  # the protocol layer answers a parse error
    messages = decoded if isinstance(decoded, list) else [decoded]
    return any(isinstance(m, dict) and m.get("method") == "tools/call" for m in messages)


def _replayed(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the body read here to the transport, then the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
