"""POST /alertmanager without ALERTMANAGER_TOKEN: the caller is reviewed like /assist's, and
each alert's namespace needs ``create agenttasks`` (SubjectAccessReview), in the real operator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.alertmanager import alert, group
from tests.support.apiserver.serve import RunningApiServer
from tests.support.controllers import SimulatedControllers
from tests.support.operator_process import OperatorProcess

from .test_alertmanager import alert_tasks, crash_looping_checkout

pytestmark = pytest.mark.integration

ALLOWED = "it-am-allowed"


@pytest.fixture
def reviewer(apiserver: RunningApiServer) -> Iterator[list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []

    def authorizer(spec: dict[str, Any]) -> bool:
        seen.append(spec)
        attributes = spec.get("resourceAttributes") or {}
        return (
            spec.get("user") == "system:serviceaccount:monitoring:alertmanager"
            and attributes.get("verb") == "create"
            and attributes.get("resource") == "agenttasks"
            and attributes.get("group") == "devops.highpeaks.io"
            and attributes.get("namespace") == ALLOWED
        )

    emulator = apiserver.emulator
    previous = emulator.authorizer
    emulator.tokens["alertmanager-sa-token"] = {
        "username": "system:serviceaccount:monitoring:alertmanager",
        "groups": ["system:serviceaccounts"],
    }
    emulator.authorizer = authorizer
    yield seen
    emulator.authorizer = previous


def test_kubernetes_auth_per_namespace(
    api: Any, apiserver: RunningApiServer, operator: OperatorProcess, reviewer: list[Any]
) -> None:
    allowed = SimulatedControllers(api, apiserver, ALLOWED)
    other = SimulatedControllers(api, apiserver, "it-am-other")
    crash_looping_checkout(allowed)
    crash_looping_checkout(other)
    body = group(
        alert("c1", {"namespace": allowed.ns, "deployment": "checkout"}),
        alert("c2", {"namespace": other.ns, "deployment": "checkout"}),
    )
    url = f"{operator.url}/alertmanager"
    assert httpx.post(url, json=body, timeout=30).status_code == 401
    forged = {"Authorization": "Bearer forged"}
    assert httpx.post(url, json=body, headers=forged, timeout=30).status_code == 401
    good = {"Authorization": "Bearer alertmanager-sa-token"}
    response = httpx.post(url, json=body, headers=good, timeout=30)
    assert response.status_code == 202, response.text
    assert [r["outcome"] for r in response.json()["results"]] == ["created", "forbidden"]
    assert [t["metadata"]["name"] for t in alert_tasks(allowed)] == ["alert-c1"]
    assert alert_tasks(other) == []
    assert any(s["resourceAttributes"]["namespace"] == other.ns for s in reviewer)
