"""A loopback API server's TokenReview and SubjectAccessReview endpoints, with RBAC-like
grants per user, namespace, verb and resource, and the clients the /assist tests use."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web
from kubernetes import client

from highpeaks_agent.http.auth import KubernetesAuth

TOKENS = {
    "alice-token": {"username": "alice", "groups": ["sre"]},
    "bob-token": {"username": "bob", "groups": ["dev"]},
    "carol-token": {"username": "carol", "groups": ["support"]},
    "dave-token": {"username": "dave", "groups": ["support"]},
    "erin-token": {"username": "erin", "groups": ["release"]},
}
#: (user, namespace): every verb on every resource there
GRANTS = {("alice", "shop"), ("bob", "sandbox")}
#: (user, namespace, verb, resource[/subresource]): one permission each
RESOURCE_GRANTS = {
    ("alice", "", "get", "nodes"),  # cluster-scoped: no namespace
    ("carol", "shop", "get", "pods"),
    ("dave", "shop", "list", "pods"),
    ("erin", "shop", "get", "deployments"),
    ("erin", "shop", "get", "replicasets"),
}


def granted(spec: dict[str, Any]) -> bool:
    """An RBAC-like answer for a SubjectAccessReview spec."""
    attributes = spec["resourceAttributes"]
    user, namespace = spec["user"], attributes["namespace"]
    resource = attributes["resource"]
    if attributes.get("subresource"):
        resource += "/" + attributes["subresource"]
    return (user, namespace) in GRANTS or (
        user,
        namespace,
        attributes["verb"],
        resource,
    ) in RESOURCE_GRANTS


@dataclass
class FakeReviews:
    """TokenReview and SubjectAccessReview endpoints with the real response shapes.

    ``failure`` makes every review answer that HTTP status instead (an API server in
    trouble); ``delay`` makes it answer late.
    """

    calls: list[str] = field(default_factory=list)
    sar_specs: list[dict[str, Any]] = field(default_factory=list)
    failure: int | None = None
    delay: float = 0.0

    async def _trouble(self) -> web.Response | None:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failure is not None:
            status = {"kind": "Status", "status": "Failure", "code": self.failure}
            return web.json_response(status, status=self.failure)
        return None

    async def token_review(self, request: web.Request) -> web.Response:
        self.calls.append("TokenReview")
        if (trouble := await self._trouble()) is not None:
            return trouble
        body = await request.json()
        user = TOKENS.get(body["spec"]["token"])
        status: dict[str, Any] = (
            {"authenticated": True, "user": {"uid": "u-1", **user}}
            if user
            else {"authenticated": False, "error": "invalid bearer token"}
        )
        return web.json_response({**body, "status": status}, status=201)

    async def access_review(self, request: web.Request) -> web.Response:
        self.calls.append("SubjectAccessReview")
        if (trouble := await self._trouble()) is not None:
            return trouble
        body = await request.json()
        self.sar_specs.append(body["spec"])
        return web.json_response({**body, "status": {"allowed": granted(body["spec"])}}, status=201)


def make_auth(api_url: str, **options: Any) -> KubernetesAuth:
    configuration = client.Configuration()
    configuration.host = api_url
    return KubernetesAuth(client.ApiClient(configuration), cache_seconds=60, **options)


def http(app: Any, client_address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(client_address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://agent")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
