"""Two operator replicas with Kopf peering (``PEERING``) against one API server (CONTRACT §6):
exactly one acts, so each incident gets one note; when the active one is killed, the other
finishes the incident it left open."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from tests.support.apiserver.faults import FaultyProxy
from tests.support.apiserver.serve import RunningApiServer
from tests.support.controllers import SimulatedControllers
from tests.support.operator_process import OperatorProcess, acting_replica

from .conftest import eventually
from .test_faults import FAILING, assert_converges_after, converged, note_posts
from .test_incidents import broken_rollout

pytestmark = pytest.mark.integration

PEERING = "highpeaks-agent"
ENV = {"PEERING": PEERING, "RESYNC_SECONDS": "3", "INCIDENT_DEBOUNCE_SECONDS": "0.5"}


@pytest.fixture(scope="module")
def apiserver() -> Iterator[RunningApiServer]:
    server = RunningApiServer()
    server.emulator.declare(
        "kopf.dev", "v1", "clusterkopfpeerings", kind="ClusterKopfPeering", namespaced=False
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(apiserver: RunningApiServer, tmp_path_factory: pytest.TempPathFactory) -> client.ApiClient:
    path = apiserver.write_kubeconfig(tmp_path_factory.mktemp("direct") / "config")
    api_client = config.new_client_from_config(str(path))
    peering = {
        "apiVersion": "kopf.dev/v1",
        "kind": "ClusterKopfPeering",
        "metadata": {"name": PEERING},
    }
    client.CustomObjectsApi(api_client).create_cluster_custom_object(
        "kopf.dev", "v1", "clusterkopfpeerings", peering
    )
    return api_client


@pytest.fixture
def replicas(
    apiserver: RunningApiServer, proxy: FaultyProxy, tmp_path: Path
) -> Iterator[list[OperatorProcess]]:
    proxy.clear()
    kubeconfig = apiserver.write_kubeconfig(tmp_path / "config", via=proxy.url)
    started = []
    for index in range(2):
        process = OperatorProcess(kubeconfig, tmp_path / f"operator-{index}.log", env=ENV)
        process.start()
        started.append(process)
    yield started
    proxy.clear()
    for process in started:
        process.stop()
        print(process.logs()[-4000:])


@pytest.fixture
def operator(replicas: list[OperatorProcess]) -> OperatorProcess:
    """What the shared ``cluster`` fixture waits for: the replicas are running."""
    return replicas[0]


def peers(api: client.ApiClient) -> dict[str, Any]:
    custom = client.CustomObjectsApi(api)
    found = custom.get_cluster_custom_object("kopf.dev", "v1", "clusterkopfpeerings", PEERING)
    status: dict[str, Any] = found.get("status") or {}
    return status


def active(api: client.ApiClient, replicas: list[OperatorProcess]) -> OperatorProcess:
    """The replica Kopf lets act."""
    return acting_replica(peers(api), replicas)


def test_two_replicas_post_one_note(
    cluster: SimulatedControllers, api: client.ApiClient, replicas: list[OperatorProcess]
) -> None:
    eventually(lambda: active(api, replicas), what="both replicas registered, one leading")
    broken_rollout(cluster)
    assert_converges_after(cluster, FAILING["Deployment"], time.monotonic())


def test_the_standby_finishes_what_the_killed_replica_left_open(
    cluster: SimulatedControllers,
    api: client.ApiClient,
    proxy: FaultyProxy,
    replicas: list[OperatorProcess],
) -> None:
    leader = eventually(lambda: active(api, replicas), what="both replicas registered")
    trap = proxy.trap(note_posts, "hold")
    broken_rollout(cluster)
    assert trap.sprung.wait(60), "no replica posted the note"
    leader.kill()  # the note is in the cluster; its record is not
    proxy.clear()
    killed = time.monotonic()
    assert_converges_after(cluster, FAILING["Deployment"], killed)
    assert converged(cluster, FAILING["Deployment"])["count"] == 1
