"""An operator scoped by WATCH_NAMESPACE_SELECTOR on the real API server: it watches the
Namespaces themselves, so a namespace labelled later is taken in, and one it does not select
is left alone."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import TestCluster
from tests.support.operator_process import OperatorProcess

from .conftest import deployment, eventually

pytestmark = pytest.mark.cluster
LABEL = "highpeaks.io/shard"
_names = itertools.count(1)


@pytest.fixture
def scoped(agent_kubeconfig: Path, tmp_path: Path) -> Iterator[OperatorProcess]:
    process = OperatorProcess(
        agent_kubeconfig,
        tmp_path / "operator.log",
        env={"WATCH_NAMESPACE_SELECTOR": f"{LABEL}=a", "RESYNC_SECONDS": "3"},
    )
    process.start()
    yield process
    process.stop()


def notes(kube: TestCluster, namespace: str) -> list[str]:
    events = kube.kubectl_json(
        "-n", namespace, "get", "events", "--field-selector", "reason=IncidentNote"
    )["items"]
    return [e["involvedObject"]["name"] for e in events]


def test_only_selected_namespaces_are_watched(
    installed: TestCluster, scoped: OperatorProcess
) -> None:
    kube = installed
    index = next(_names)
    selected = kube.namespace(f"sel-a-{index}", {LABEL: "a"})
    other = kube.namespace(f"sel-b-{index}", {LABEL: "b"})
    for namespace in (selected, other):
        app = deployment("worker", "registry.test/jobs/worker:1.0-crash")
        kube.apply({**app, "metadata": {"name": "worker", "namespace": namespace}})
    assert eventually(lambda: notes(kube, selected), what="the note in the selected namespace")
    assert notes(kube, other) == []

    # Labelled later: the operator's watch of Namespaces takes it in.
    kube.kubectl("label", "namespace", other, f"{LABEL}=a", "--overwrite")
    assert eventually(lambda: notes(kube, other), what="the note once the namespace is selected")
