"""A task whose status already answers its generation is not diagnosed again when the operator
meets it as new: a create event delivered late, or a task the operator never recorded as
handled. Only tasks whose status does not answer their spec are run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client

from tests.support.apiserver.serve import RunningApiServer
from tests.support.operator_process import OperatorProcess

from .conftest import eventually, read_json
from .test_agenttasks import GROUP, PLURAL, VERSION

pytestmark = pytest.mark.integration
NAMESPACE = "settled"
ANSWERED = {
    "phase": "Succeeded",
    "severity": "none",
    "summary": "Answered before this operator started.",
    "observedGeneration": 1,
    "startedAt": "2026-11-01T10:00:00Z",
    "completedAt": "2026-11-01T10:00:02Z",
}


def create_task(api: client.ApiClient, name: str) -> dict[str, Any]:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AgentTask",
        "metadata": {"name": name},
        "spec": {"target": {"kind": "Deployment", "name": "absent"}},
    }
    created: dict[str, Any] = client.CustomObjectsApi(api).create_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, body
    )
    return created


def read_task(api: client.ApiClient, name: str) -> dict[str, Any]:
    task: dict[str, Any] = client.CustomObjectsApi(api).get_namespaced_custom_object(
        GROUP, VERSION, NAMESPACE, PLURAL, name
    )
    return task


@pytest.fixture
def tasks_before_start(api: client.ApiClient) -> dict[str, Any]:
    """One task already answered for its generation (and without Kopf's record of having
    handled it), one never answered; both there before the operator starts."""
    client.CoreV1Api(api).create_namespace({"metadata": {"name": NAMESPACE}})
    answered = create_task(api, "answered")
    client.CustomObjectsApi(api).patch_namespaced_custom_object_status(
        GROUP, VERSION, NAMESPACE, PLURAL, "answered", {"status": ANSWERED}
    )
    create_task(api, "unanswered")
    return answered


@pytest.fixture
def operator_after(
    tasks_before_start: dict[str, Any],
    apiserver: RunningApiServer,
    kubeconfig: Path,
    tmp_path: Path,
) -> Iterator[OperatorProcess]:
    process = OperatorProcess(
        kubeconfig, tmp_path / "operator.log", env={"WATCH_NAMESPACES": NAMESPACE}
    )
    process.start()
    yield process
    process.stop()


def tasks_seen(operator: OperatorProcess) -> float:
    """The AgentTasks the operator's watch has delivered (its tasks-by-phase gauge, summed)."""
    text = httpx.get(f"{operator.url}/metrics").text
    lines = [x for x in text.splitlines() if x.startswith("highpeaks_agent_agenttasks{")]
    return sum(float(line.split()[-1]) for line in lines)


def test_a_settled_task_met_as_new_is_not_diagnosed_again(
    tasks_before_start: dict[str, Any], operator_after: OperatorProcess, api: client.ApiClient
) -> None:
    # The operator has seen both tasks (its gauge counts them) and run the unanswered one.
    eventually(lambda: tasks_seen(operator_after) == 2, what="both tasks seen")
    eventually(
        lambda: read_task(api, "unanswered")["status"]["phase"] == "Failed",
        what="the unanswered task run",
    )
    time.sleep(2)  # room for a wrong second diagnosis to show up
    answered = read_task(api, "answered")
    assert answered["status"] == ANSWERED
    uid = tasks_before_start["metadata"]["uid"]
    events = read_json(client.CoreV1Api(api).list_namespaced_event, NAMESPACE)["items"]
    assert [e for e in events if e["involvedObject"].get("uid") == uid] == []
