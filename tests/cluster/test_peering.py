"""Two peered operator replicas on the real API server: one note; the standby finishes.

The ClusterKopfPeering is the one the dev overlay ships; both replicas run as the
highpeaks-agent ServiceAccount, through the fault proxy so a note's answer can be held.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.apiserver.faults import FaultyProxy
from tests.support.cluster import TestCluster
from tests.support.cluster.controlplane import write_kubeconfig
from tests.support.operator_process import OperatorProcess, acting_replica

from .conftest import AGENT_NAMESPACE, eventually
from .test_faults import assert_converges_after, converged, note_posts
from .test_incidents import roll_to_crashing_revision

pytestmark = pytest.mark.cluster
PEERING = "highpeaks-agent"
ENV = {"PEERING": PEERING, "RESYNC_SECONDS": "3", "INCIDENT_DEBOUNCE_SECONDS": "0.5"}


@pytest.fixture
def replicas(
    installed: TestCluster, proxy: FaultyProxy, tmp_path: Path
) -> Iterator[list[OperatorProcess]]:
    proxy.clear()
    token = installed.service_account_token(AGENT_NAMESPACE, "highpeaks-agent")
    kubeconfig = write_kubeconfig(
        tmp_path / "config", proxy.url, installed.ca, user="agent", token=token
    )
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


def active(kube: TestCluster, replicas: list[OperatorProcess]) -> OperatorProcess:
    """The replica Kopf lets act."""
    return acting_replica(
        kube.kubectl_json("get", "clusterkopfpeering", PEERING).get("status") or {}, replicas
    )


def test_two_replicas_post_one_note_and_the_standby_finishes(
    installed: TestCluster, proxy: FaultyProxy, replicas: list[OperatorProcess], namespace: str
) -> None:
    leader = eventually(lambda: active(installed, replicas), what="both replicas registered")
    trap = proxy.trap(note_posts, "hold")
    roll_to_crashing_revision(installed, namespace)
    assert trap.sprung.wait(90), "no replica posted the note"
    leader.kill()  # the note is in the cluster; its record is not
    proxy.clear()
    assert_converges_after(installed, namespace, time.monotonic())
    assert converged(installed, namespace).get("count", 1) == 1
