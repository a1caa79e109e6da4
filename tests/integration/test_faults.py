"""CONTRACT §6 under injected faults: the operator reaches the API server through
:class:`FaultyProxy`, which goes away, answers errors, delivers watch events late or holds an
answer (while the test kills the operator, or past the operator's request deadline). Every
incident must end as exactly one IncidentNote Event (count 1) within 90 s of the API server
answering again, with no further change to the workload or its pods; a finished task is
diagnosed once however late its events arrive. Each fault is tried on a Deployment's failing
rollout and on a StatefulSet's failing update revision; a StatefulSet whose own status looks
fine while its pods fail is found by the resync alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from tests.support.apiserver.faults import FaultyProxy, Seen
from tests.support.apiserver.serve import RunningApiServer
from tests.support.controllers import SimulatedControllers
from tests.support.operator_process import OperatorProcess

from .conftest import eventually, read_json
from .test_agenttasks import CRASH_LOG, GROUP, PLURAL, VERSION
from .test_incident_kinds import DB_NEW, DB_OLD, broken_statefulset, kind_notes
from .test_incidents import broken_rollout, tasks

pytestmark = pytest.mark.integration

CONVERGE_SECONDS = 90  # CONTRACT §6: finished within 90 s after the API answers again
OUTAGE_SECONDS = 20
#: Short in tests so the tier stays fast; the contract only needs "≤ 60".
OPERATOR_ENV = {
    "RESYNC_SECONDS": "3",
    "INCIDENT_DEBOUNCE_SECONDS": "0.5",
    "KUBE_REQUEST_TIMEOUT_SECONDS": "3",
}


@pytest.fixture(scope="module")
def apiserver() -> Iterator[RunningApiServer]:
    server = RunningApiServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(apiserver: RunningApiServer, tmp_path_factory: pytest.TempPathFactory) -> client.ApiClient:
    """The tests' own client talks to the emulator directly: never faulted."""
    path = apiserver.write_kubeconfig(tmp_path_factory.mktemp("direct") / "config")
    return config.new_client_from_config(str(path))


@pytest.fixture
def operator(
    apiserver: RunningApiServer, proxy: FaultyProxy, tmp_path: Path
) -> Iterator[OperatorProcess]:
    proxy.clear()
    proxy.come_back()
    kubeconfig = apiserver.write_kubeconfig(tmp_path / "config", via=proxy.url)
    process = OperatorProcess(kubeconfig, tmp_path / "operator.log", env=OPERATOR_ENV)
    process.start()
    yield process
    proxy.clear()
    process.stop()
    print(process.logs()[-6000:])


@dataclass(frozen=True)
class Failing:
    """A workload that fails, and what its incident is called."""

    kind: str
    name: str
    task: str
    start: Callable[[SimulatedControllers], object]


FAILING = {
    "Deployment": Failing("Deployment", "checkout", "incident-checkout-r2", broken_rollout),
    "StatefulSet": Failing("StatefulSet", "db", "incident-sts-db-r2", broken_statefulset),
}


@pytest.fixture(params=sorted(FAILING))
def failing(request: pytest.FixtureRequest) -> Failing:
    return FAILING[request.param]


def note_posts(seen: Seen) -> bool:
    return seen.creates("events", "IncidentNote")


def converged(cluster: SimulatedControllers, failing: Failing) -> Any:
    """One note, count 1, and the incident task finished and annotated with its signature."""
    found, incident_tasks = kind_notes(cluster, failing.kind, failing.name), tasks(cluster)
    assert len(found) == 1 and len(incident_tasks) == 1, (found, incident_tasks)
    note, task = found[0], incident_tasks[0]
    assert note["count"] == 1, note
    assert task["metadata"]["name"] == failing.task
    assert task["metadata"]["annotations"]["devops.highpeaks.io/failure-signature"]
    assert task["status"]["phase"] == "Succeeded"
    return note


def assert_converges_after(
    cluster: SimulatedControllers, failing: Failing, healthy_at: float
) -> None:
    """Converged within CONVERGE_SECONDS of ``healthy_at``, and still exactly once later."""
    budget = healthy_at + CONVERGE_SECONDS - time.monotonic()
    eventually(lambda: converged(cluster, failing), timeout=budget, what="the incident to converge")
    took = time.monotonic() - healthy_at
    print(f"{failing.kind}: converged {took:.1f}s after the API server was healthy again")
    time.sleep(8)  # a few resync periods: nothing more may be posted
    note = converged(cluster, failing)
    assert note["count"] == 1 and len(tasks(cluster)) == 1


def test_outage_right_after_the_incident_task_is_created(
    cluster: SimulatedControllers, proxy: FaultyProxy, operator: OperatorProcess, failing: Failing
) -> None:
    trap = proxy.trap(lambda s: s.creates("agenttasks"), "outage", OUTAGE_SECONDS)
    failing.start(cluster)
    assert trap.sprung.wait(60), "the operator never created the incident task"
    assert_converges_after(cluster, failing, proxy.wait_healthy(OUTAGE_SECONDS + 10))


def test_one_500_on_the_note_post(
    cluster: SimulatedControllers, proxy: FaultyProxy, operator: OperatorProcess, failing: Failing
) -> None:
    # Every note POST fails until the rollout's last change has been looked at, so no later
    # watch event can hide a lost note: only the operator itself may bring it back.
    proxy.fail(note_posts, 500, times=1000)
    failing.start(cluster)
    eventually(lambda: proxy.answered, timeout=60, what="the injected 500")
    time.sleep(3)
    proxy.clear()
    assert_converges_after(cluster, failing, time.monotonic())


def test_a_fifth_of_all_requests_fail(
    cluster: SimulatedControllers, proxy: FaultyProxy, operator: OperatorProcess, failing: Failing
) -> None:
    proxy.error_rate = 0.2
    failing.start(cluster)
    time.sleep(OUTAGE_SECONDS)
    proxy.error_rate = 0.0
    assert proxy.answered, "no fault was injected"
    assert_converges_after(cluster, failing, time.monotonic())


def test_cut_off_between_the_note_and_its_record(
    cluster: SimulatedControllers, proxy: FaultyProxy, operator: OperatorProcess, failing: Failing
) -> None:
    trap = proxy.trap(note_posts, "outage", OUTAGE_SECONDS)
    failing.start(cluster)
    assert trap.sprung.wait(60), "the operator never posted the note"
    assert_converges_after(cluster, failing, proxy.wait_healthy(OUTAGE_SECONDS + 10))


def test_killed_between_the_note_and_its_record(
    cluster: SimulatedControllers, proxy: FaultyProxy, operator: OperatorProcess, failing: Failing
) -> None:
    trap = proxy.trap(note_posts, "hold")
    failing.start(cluster)
    assert trap.sprung.wait(60), "the operator never posted the note"
    operator.kill()  # the note is in the cluster; the operator never learnt it
    proxy.clear()
    started = time.monotonic()
    operator.start()
    assert_converges_after(cluster, failing, started)


def test_a_note_post_never_answered(
    cluster: SimulatedControllers, proxy: FaultyProxy, operator: OperatorProcess, failing: Failing
) -> None:
    """The API server takes the note but its answer never comes: the call fails at its
    deadline, and the operator, still running, finds its note when it looks again."""
    trap = proxy.trap(note_posts, "hold")
    failing.start(cluster)
    assert trap.sprung.wait(60), "the operator never posted the note"
    assert_converges_after(cluster, failing, time.monotonic())


def test_a_finished_task_is_diagnosed_once_when_its_events_are_late(
    cluster: SimulatedControllers, proxy: FaultyProxy, operator: OperatorProcess
) -> None:
    proxy.watch_delay["agenttasks"] = 6.0
    time.sleep(1)
    cluster.deployment("web", "registry.example.com/web:1.0", replicas=1)
    cluster.rollout("web", 1, "registry.example.com/web:1.0")
    cluster.deployment_status("web", updated=1, available=1)
    custom = client.CustomObjectsApi(cluster.core.api_client)
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AgentTask",
        "metadata": {"name": "why-web"},
        "spec": {"target": {"kind": "Deployment", "name": "web"}},
    }
    custom.create_namespaced_custom_object(GROUP, VERSION, cluster.ns, PLURAL, body)

    def finished() -> Any:
        task = custom.get_namespaced_custom_object(GROUP, VERSION, cluster.ns, PLURAL, "why-web")
        assert task.get("status", {}).get("phase") == "Succeeded"
        return task

    first = eventually(finished, timeout=60, what="the task to finish")
    time.sleep(20)  # every late event (each 6 s behind) has arrived and been handled
    task = finished()
    assert task["status"]["startedAt"] == first["status"]["startedAt"]
    events = read_json(cluster.core.list_namespaced_event, cluster.ns)["items"]
    (diagnosed,) = [
        e for e in events if e["reason"] == "Diagnosed" and e["involvedObject"]["name"] == "why-web"
    ]
    assert diagnosed["count"] == 1


def test_a_statefulset_that_looks_fine_while_its_pods_fail_is_found_by_the_resync(
    cluster: SimulatedControllers, proxy: FaultyProxy, operator: OperatorProcess
) -> None:
    """The StatefulSet's own status says every replica is ready (written before the kubelet's
    news reached its controller), and the pods' watch events never arrive: only the resync's
    list of pods can tell."""
    proxy.watch_delay["pods"] = 600.0  # later than this test lasts
    operator.stop()
    operator.start()
    cluster.revisioned("StatefulSet", "db", DB_OLD)
    cluster.revision("StatefulSet", "db", 1, DB_OLD)
    new = cluster.revision("StatefulSet", "db", 2, DB_NEW)
    pods = [cluster.revisioned_pod("StatefulSet", "db", new, n) for n in (0, 1)]
    cluster.statefulset_status("db", ready=2, updated=2, current=new, update=new)
    for pod in pods:
        cluster.crash_loop(pod, restarts=4, log=CRASH_LOG)
    failing = Failing("StatefulSet", "db", "incident-sts-db-r2", broken_statefulset)
    assert_converges_after(cluster, failing, time.monotonic())
