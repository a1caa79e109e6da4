"""The one Kubernetes call helper: API paths built from the table, requests sent through the
client's ApiClient for their raw JSON, and errors kept as the client's ApiException."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import urllib3
from aiohttp import web
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.config import kube_config

from highpeaks_agent.engine.kinds import BY_KIND, KindInfo
from highpeaks_agent.kubeapi import (
    api_path,
    get_json,
    make_api_client,
    request_json,
    resource_path,
)
from tests.support.loopback import api_client_for, serve


@pytest.mark.parametrize(
    ("kind", "namespace", "name", "sub", "path"),
    [
        ("Deployment", "shop", None, None, "/apis/apps/v1/namespaces/shop/deployments"),
        ("Job", "shop", "nightly", None, "/apis/batch/v1/namespaces/shop/jobs/nightly"),
        ("Pod", "shop", "web-0", "log", "/api/v1/namespaces/shop/pods/web-0/log"),
        ("Event", None, None, None, "/api/v1/events"),
        ("Node", None, "worker-1", None, "/api/v1/nodes/worker-1"),
        ("Node", "shop", "worker-1", None, "/api/v1/nodes/worker-1"),
    ],
)
def test_resource_paths(
    kind: str, namespace: str | None, name: str | None, sub: str | None, path: str
) -> None:
    assert resource_path(BY_KIND[kind], namespace, name, sub) == path


def test_cluster_scoped_kinds_ignore_the_namespace_and_names_are_quoted() -> None:
    node = KindInfo(
        "Node", "", "v1", "nodes", ("no",), target=False, workload=False, namespaced=False
    )
    assert resource_path(node, "shop", "a/b") == "/api/v1/nodes/a%2Fb"


async def test_request_json_sends_the_body_as_the_content_type_says_and_decodes_the_answer() -> (
    None
):
    seen: list[tuple[str, str, str, Any]] = []

    async def record(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        seen.append((request.method, request.path_qs, request.content_type, body))
        return web.json_response({"kind": "Event", "count": 2})

    async def a_list(request: web.Request) -> web.Response:
        return web.json_response([1, 2])

    app = web.Application()
    app.router.add_get("/api/v1/pods", a_list)
    app.router.add_route("*", "/{tail:.*}", record)
    async with api_client_for(app) as api:
        path = api_path("", "v1", "events", "shop", "note")
        patched = await request_json(
            api, "PATCH", path, body={"count": 2}, content_type="application/merge-patch+json"
        )
        created = await request_json(api, "POST", api_path("", "v1", "events", "shop"), body=_EVENT)
        listed = await request_json(
            api,
            "GET",
            api_path("devops.highpeaks.io", "v1alpha1", "agenttasks"),
            [("labelSelector", "a=b")],
        )
        not_an_object = await request_json(api, "GET", "/api/v1/pods")
    assert patched == created == listed == {"kind": "Event", "count": 2}
    assert not_an_object == {}  # every answer the API server gives is an object; else nothing
    assert seen == [
        (
            "PATCH",
            "/api/v1/namespaces/shop/events/note",
            "application/merge-patch+json",
            {"count": 2},
        ),
        ("POST", "/api/v1/namespaces/shop/events", "application/json", _EVENT),
        (
            "GET",
            "/apis/devops.highpeaks.io/v1alpha1/agenttasks?labelSelector=a%3Db",
            "application/octet-stream",
            None,
        ),
    ]


@pytest.fixture
async def api_client() -> AsyncIterator[client.ApiClient]:
    async def forbidden(request: web.Request) -> web.Response:
        body = {"kind": "Status", "reason": "Forbidden", "code": 403}
        return web.json_response(body, status=403)

    app = web.Application()
    app.router.add_get("/{tail:.*}", forbidden)
    async with api_client_for(app) as api:
        yield api


async def test_errors_stay_the_clients_api_exception(api_client: client.ApiClient) -> None:
    with pytest.raises(ApiException) as raised:
        await get_json(api_client, "/api/v1/namespaces/shop/pods")
    assert raised.value.status == 403
    assert '"Forbidden"' in str(raised.value.body)


async def test_a_request_never_answered_fails_at_its_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator's client gives up on an API server that holds the connection open."""
    release = asyncio.Event()
    held = 0

    async def never_answer(request: web.Request) -> web.Response:
        nonlocal held
        held += 1
        await release.wait()
        return web.json_response({})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", never_answer)
    async with serve(app) as url:
        # the client reads $KUBECONFIG when it is imported, as a process start would
        monkeypatch.setattr(
            kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(_kubeconfig(tmp_path, url))
        )
        monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
        api = make_api_client(request_timeout=0.3)
        try:
            for call in (
                get_json(api, "/api/v1/namespaces/shop/pods"),
                request_json(api, "POST", api_path("", "v1", "events", "shop"), body=_EVENT),
            ):
                started = time.monotonic()
                with pytest.raises(urllib3.exceptions.HTTPError):
                    await asyncio.wait_for(call, timeout=20)
                assert time.monotonic() - started < 5  # a GET is retried (urllib3's 3), a POST not
        finally:
            release.set()
            api.close()
    assert held >= 2


_EVENT = {"metadata": {"name": "note"}, "involvedObject": {"kind": "Deployment", "name": "web"}}


def _kubeconfig(directory: Path, server: str) -> Path:
    path = directory / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    return path
