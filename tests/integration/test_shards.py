"""Two shards (``k8s/overlays/shards``): two operators against one API server, each serving
the namespaces its ``WATCH_NAMESPACE_SELECTOR`` picks, each with its own peering name.

Every namespace is served by exactly one shard (its incidents are noted by that shard and no
other), and a namespace relabelled from one shard to the other keeps what it had (the note
already posted is not posted again) and gets what comes next from its new shard.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client, config

from tests.support.apiserver.serve import RunningApiServer
from tests.support.controllers import SimulatedControllers
from tests.support.operator_process import OperatorProcess

from .conftest import eventually, read_json
from .test_agenttasks import CRASH_LOG

pytestmark = pytest.mark.integration

SHARD_LABEL = "highpeaks.io/shard"
SHARDS = ("a", "b")
_names = itertools.count()


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
    for shard in SHARDS:  # shipped with each shard: Kopf never creates its peering object
        client.CustomObjectsApi(api_client).create_cluster_custom_object(
            "kopf.dev",
            "v1",
            "clusterkopfpeerings",
            {
                "apiVersion": "kopf.dev/v1",
                "kind": "ClusterKopfPeering",
                "metadata": {"name": f"shard-{shard}"},
            },
        )
    return api_client


@pytest.fixture(scope="module")
def shards(
    apiserver: RunningApiServer, api: client.ApiClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, OperatorProcess]]:
    directory = tmp_path_factory.mktemp("shards")
    kubeconfig = apiserver.write_kubeconfig(directory / "config")
    started: dict[str, OperatorProcess] = {}
    try:
        for shard in SHARDS:
            env = {
                "WATCH_NAMESPACE_SELECTOR": f"{SHARD_LABEL}={shard}",
                "PEERING": f"shard-{shard}",
                "RESYNC_SECONDS": "3",
            }
            started[shard] = OperatorProcess(kubeconfig, directory / f"{shard}.log", env=env)
            started[shard].start()
        yield started
    finally:
        for shard, process in started.items():
            process.stop()
            print(f"--- shard {shard}\n{process.logs()[-3000:]}")


def namespace_of(
    api: client.ApiClient, apiserver: RunningApiServer, shard: str | None
) -> SimulatedControllers:
    cluster = SimulatedControllers(api, apiserver, f"shard-it-{next(_names)}")
    if shard is not None:
        relabel(cluster, shard)
    return cluster


def relabel(cluster: SimulatedControllers, shard: str) -> None:
    cluster.core.patch_namespace(cluster.ns, {"metadata": {"labels": {SHARD_LABEL: shard}}})


def failing_revision(cluster: SimulatedControllers, revision: int) -> None:
    """checkout at ``revision``, its three pods crash-looping (a new Deployment at 1)."""
    image = f"registry.example.com/shop/checkout:2.{revision}.0"
    if revision == 1:
        cluster.deployment("checkout", image)
    replicaset = cluster.rollout("checkout", revision, image)
    pods = [cluster.pod(replicaset) for _ in range(3)]
    for pod in pods:
        cluster.crash_loop(pod, restarts=4, log=CRASH_LOG)
    cluster.deployment_status("checkout", updated=3, available=0)


def notes(cluster: SimulatedControllers) -> list[Any]:
    events = read_json(cluster.core.list_namespaced_event, cluster.ns)["items"]
    return [e for e in events if e["reason"] == "IncidentNote"]


def noted_revisions(cluster: SimulatedControllers) -> list[tuple[str, int]]:
    """(revision named in the message, count) of every note in the namespace."""
    found = []
    for note in notes(cluster):
        match = re.match(r"Revision (\d+) is failing", note["message"])
        assert match, note["message"]
        found.append((match[1], note["count"]))
    return sorted(found)


def noted_by(process: OperatorProcess, cluster: SimulatedControllers) -> int:
    """How many IncidentNotes this shard wrote in the namespace (its own log says)."""
    return process.logs().count(f"posted IncidentNote Event {cluster.ns}/")


def test_every_namespace_is_served_by_exactly_one_shard(
    api: client.ApiClient, apiserver: RunningApiServer, shards: dict[str, OperatorProcess]
) -> None:
    served = {
        "a": [namespace_of(api, apiserver, "a") for _ in range(2)],
        "b": [namespace_of(api, apiserver, "b")],
    }
    unserved = namespace_of(api, apiserver, None)
    for cluster in [*served["a"], *served["b"], unserved]:
        failing_revision(cluster, 1)
    for shard, clusters in served.items():
        other = shards["b" if shard == "a" else "a"]
        for cluster in clusters:
            eventually(lambda c=cluster: notes(c), what=f"the note in {cluster.ns}")
            time.sleep(1)  # a second note, or the other shard's, would show by now
            assert noted_revisions(cluster) == [("1", 1)]
            assert (noted_by(shards[shard], cluster), noted_by(other, cluster)) == (1, 0)
    time.sleep(4)  # past a resync of either shard
    assert notes(unserved) == []


def test_a_namespace_moving_between_shards_is_neither_lost_nor_noted_twice(
    api: client.ApiClient, apiserver: RunningApiServer, shards: dict[str, OperatorProcess]
) -> None:
    cluster = namespace_of(api, apiserver, "a")
    failing_revision(cluster, 1)
    eventually(lambda: noted_revisions(cluster) == [("1", 1)] or None, what="shard a's note")

    relabel(cluster, "b")
    time.sleep(4)  # shard b has resynced the moved namespace: its open incident is known
    assert noted_revisions(cluster) == [("1", 1)], "the note already posted is not posted again"

    failing_revision(cluster, 2)
    eventually(
        lambda: noted_revisions(cluster) == [("1", 1), ("2", 1)] or None,
        what="the next incident, noted once",
    )
    time.sleep(4)  # past another resync of both shards
    assert noted_revisions(cluster) == [("1", 1), ("2", 1)]
    assert (noted_by(shards["a"], cluster), noted_by(shards["b"], cluster)) == (1, 1)
