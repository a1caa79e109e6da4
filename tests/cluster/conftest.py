"""The cluster tier: a real kube-apiserver, etcd, controller-manager and scheduler on loopback.

The control plane is built from the published Kubernetes modules (``make cluster``) and
shared by the whole session; each test works in a namespace of its own. There is no kubelet:
:class:`tests.support.cluster.kubelet.KubeletPlayer` keeps the Nodes Ready and plays kubelet
for the pods the scheduler binds, so everything above it — admission, RBAC, the controllers'
ReplicaSets, revisions and conditions, garbage collection, watches — is the real server's.
"""

from __future__ import annotations

import itertools
import json
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.support.apiserver.faults import FaultyProxy
from tests.support.cluster import TestCluster
from tests.support.operator_process import OperatorProcess
from tests.support.waiting import eventually as wait_until

pytestmark = pytest.mark.cluster
T = TypeVar("T")
AGENT_NAMESPACE = "highpeaks-system"
_namespaces = itertools.count(1)


@pytest.fixture(scope="session")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestCluster]:
    cluster = TestCluster(tmp_path_factory.mktemp("cluster"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def installed(kube: TestCluster) -> TestCluster:
    """The CRDs established and the dev overlay applied: the agent's namespace, account, rights."""
    kube.kubectl("apply", "-k", "crds")
    kube.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
    kube.kubectl("apply", "-k", "k8s/overlays/dev")
    return kube


@pytest.fixture(scope="session")
def agent_kubeconfig(installed: TestCluster) -> Path:
    """The operator's identity: the highpeaks-agent ServiceAccount, with only the shipped ClusterRole."""
    return installed.service_account_kubeconfig(AGENT_NAMESPACE, "highpeaks-agent")


@pytest.fixture(scope="module")
def operator(
    agent_kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    process = OperatorProcess(
        agent_kubeconfig, tmp_path_factory.mktemp("operator") / "operator.log"
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def proxy(installed: TestCluster) -> Iterator[FaultyProxy]:
    trust = ssl.create_default_context(cafile=str(installed.ca))
    faulty = FaultyProxy(installed.url, upstream_ssl=trust)
    faulty.start()
    yield faulty
    faulty.close()


@pytest.fixture
def namespace(installed: TestCluster) -> str:
    return installed.namespace(f"ct-{next(_namespaces)}")


def eventually(check: Callable[[], T], *, timeout: float = 90, what: str = "") -> T:
    """Poll ``check``: a real controller-manager and a played kubelet take seconds, not ms."""
    return wait_until(
        check,
        timeout=timeout,
        interval=0.5,
        what=what,
        expected=(AssertionError, KeyError, StopIteration, IndexError, json.JSONDecodeError),
    )


def deployment(
    name: str, image: str, *, replicas: int = 2, command: list[str] | None = None
) -> dict[str, Any]:
    """A Deployment as a person would write it, with a short progress deadline for the tests."""
    container: dict[str, Any] = {
        "name": "app",
        "image": image,
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
    }
    if command:
        container["command"] = command
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "progressDeadlineSeconds": 15,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container]},
            },
        },
    }


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The least-privilege check reads what every other test of the tier made the operator do."""
    last = [item for item in items if "test_least_privilege" in item.nodeid]
    items[:] = [item for item in items if item not in last] + last
