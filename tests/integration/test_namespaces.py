"""Which namespaces the operator serves: all, a list (WATCH_NAMESPACES), or a label selector."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support.apiserver.serve import RunningApiServer
from tests.support.operator_process import OperatorProcess

from .conftest import eventually
from .test_agenttasks import GROUP, PLURAL, VERSION

pytestmark = pytest.mark.integration


def namespace(api: client.ApiClient, name: str, labels: dict[str, str] | None = None) -> None:
    client.CoreV1Api(api).create_namespace({"metadata": {"name": name, "labels": labels or {}}})


def task_in(api: client.ApiClient, namespace: str) -> None:
    client.CustomObjectsApi(api).create_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        PLURAL,
        {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "AgentTask",
            "metadata": {"name": "probe"},
            "spec": {"target": {"kind": "Pod", "name": "absent"}},
        },
    )


def phase(api: client.ApiClient, namespace: str) -> Any:
    task = client.CustomObjectsApi(api).get_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "probe"
    )
    return (task.get("status") or {}).get("phase")


@pytest.fixture
def scoped_operator(
    request: pytest.FixtureRequest, apiserver: RunningApiServer, kubeconfig: Path, tmp_path: Path
) -> Iterator[OperatorProcess]:
    process = OperatorProcess(kubeconfig, tmp_path / "operator.log", env=request.param)
    process.start()
    yield process
    process.stop()


@pytest.mark.parametrize(
    "scoped_operator", [{"WATCH_NAMESPACE_SELECTOR": "highpeaks.io/watch=true"}], indirect=True
)
def test_label_selector_limits_the_namespaces(
    scoped_operator: OperatorProcess, api: client.ApiClient
) -> None:
    # Each namespace comes with its task at once, as one `kubectl apply` would bring them.
    namespace(api, "sel-watched", {"highpeaks.io/watch": "true"})
    task_in(api, "sel-watched")
    namespace(api, "sel-ignored", {"highpeaks.io/watch": "false"})
    task_in(api, "sel-ignored")
    assert eventually(
        lambda: phase(api, "sel-watched") == "Failed", what="the watched namespace's task"
    )
    time.sleep(2)
    assert phase(api, "sel-ignored") is None


@pytest.fixture
def listed_namespaces(api: client.ApiClient) -> None:
    """Listed namespaces exist before the operator starts: Kopf learns of a namespace created
    during its own start-up only at its next restart (its first listing and its watch race)."""
    for name in ("list-a", "list-c"):
        namespace(api, name)


@pytest.mark.parametrize("scoped_operator", [{"WATCH_NAMESPACES": "list-a,list-b"}], indirect=True)
def test_namespace_list_limits_the_namespaces(
    listed_namespaces: None, scoped_operator: OperatorProcess, api: client.ApiClient
) -> None:
    task_in(api, "list-a")
    task_in(api, "list-c")
    assert eventually(lambda: phase(api, "list-a") == "Failed", what="a listed namespace's task")
    time.sleep(2)
    assert phase(api, "list-c") is None
