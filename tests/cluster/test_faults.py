"""CONTRACT §6 on the real API server: the fault proxy between the operator and kube-apiserver.

The same faults as the emulator tier's (tests/integration/test_faults.py): an outage right
after the incident task is created, a 500 on the note, a fifth of all requests failing, the
operator killed between the note and its record, a note whose answer never comes, and late
watch events. The rollout is a real one (kubectl set image, the real controllers); the test's
own kubectl talks to the API server directly and is never faulted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.apiserver.faults import FaultyProxy, Seen
from tests.support.cluster import TestCluster
from tests.support.cluster.controlplane import write_kubeconfig
from tests.support.operator_process import OperatorProcess

from .conftest import AGENT_NAMESPACE, eventually
from .test_incidents import notes, roll_to_crashing_revision, tasks

pytestmark = pytest.mark.cluster
CONVERGE_SECONDS = 90
OUTAGE_SECONDS = 20
OPERATOR_ENV = {
    "RESYNC_SECONDS": "3",
    "INCIDENT_DEBOUNCE_SECONDS": "0.5",
    "KUBE_REQUEST_TIMEOUT_SECONDS": "3",
}


@pytest.fixture
def operator(
    installed: TestCluster, proxy: FaultyProxy, tmp_path: Path
) -> Iterator[OperatorProcess]:
    proxy.clear()
    proxy.come_back()
    token = installed.service_account_token(AGENT_NAMESPACE, "highpeaks-agent")
    # Plain HTTP to the proxy, which speaks TLS to the API server; the token passes through.
    kubeconfig = write_kubeconfig(
        tmp_path / "config", proxy.url, installed.ca, user="agent", token=token
    )
    process = OperatorProcess(kubeconfig, tmp_path / "operator.log", env=OPERATOR_ENV)
    process.start()
    yield process
    proxy.clear()
    process.stop()
    print(process.logs()[-6000:])


def note_posts(seen: Seen) -> bool:
    return seen.creates("events", "IncidentNote")


def converged(kube: TestCluster, namespace: str) -> Any:
    found, incident_tasks = notes(kube, namespace, "checkout"), tasks(kube, namespace)
    assert len(found) == 1 and len(incident_tasks) == 1, (found, incident_tasks)
    note, task = found[0], incident_tasks[0]
    assert note.get("count", 1) == 1, note
    assert task["metadata"]["annotations"]["devops.highpeaks.io/failure-signature"]
    assert task["status"]["phase"] == "Succeeded"
    return note


def assert_converges_after(kube: TestCluster, namespace: str, healthy_at: float) -> None:
    budget = healthy_at + CONVERGE_SECONDS - time.monotonic()
    eventually(lambda: converged(kube, namespace), timeout=budget, what="the incident to converge")
    print(f"converged {time.monotonic() - healthy_at:.1f}s after the API server was healthy again")
    time.sleep(8)  # a few resync periods: nothing more may be posted
    converged(kube, namespace)


def test_outage_right_after_the_incident_task_is_created(
    installed: TestCluster, proxy: FaultyProxy, operator: OperatorProcess, namespace: str
) -> None:
    trap = proxy.trap(lambda s: s.creates("agenttasks"), "outage", OUTAGE_SECONDS)
    roll_to_crashing_revision(installed, namespace)
    assert trap.sprung.wait(90), "the operator never created the incident task"
    assert_converges_after(installed, namespace, proxy.wait_healthy(OUTAGE_SECONDS + 10))


def test_a_fifth_of_all_requests_fail(
    installed: TestCluster, proxy: FaultyProxy, operator: OperatorProcess, namespace: str
) -> None:
    proxy.error_rate = 0.2
    roll_to_crashing_revision(installed, namespace)
    time.sleep(OUTAGE_SECONDS)
    proxy.error_rate = 0.0
    assert proxy.answered, "no fault was injected"
    assert_converges_after(installed, namespace, time.monotonic())


def test_killed_between_the_note_and_its_record(
    installed: TestCluster, proxy: FaultyProxy, operator: OperatorProcess, namespace: str
) -> None:
    trap = proxy.trap(note_posts, "hold")
    roll_to_crashing_revision(installed, namespace)
    assert trap.sprung.wait(90), "the operator never posted the note"
    operator.kill()  # the note is in the cluster; the operator never learnt it
    proxy.clear()
    started = time.monotonic()
    operator.start()
    assert_converges_after(installed, namespace, started)


def test_one_500_on_the_note_post(
    installed: TestCluster, proxy: FaultyProxy, operator: OperatorProcess, namespace: str
) -> None:
    proxy.fail(note_posts, 500, times=1000)
    roll_to_crashing_revision(installed, namespace)
    eventually(lambda: proxy.answered, timeout=90, what="the injected 500")
    time.sleep(3)
    proxy.clear()
    assert_converges_after(installed, namespace, time.monotonic())


def test_late_watch_events_still_one_note(
    installed: TestCluster, proxy: FaultyProxy, operator: OperatorProcess, namespace: str
) -> None:
    proxy.watch_delay["pods"] = 4.0
    proxy.watch_delay["agenttasks"] = 4.0
    roll_to_crashing_revision(installed, namespace)
    assert_converges_after(installed, namespace, time.monotonic())
