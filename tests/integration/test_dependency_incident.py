"""A crash on a Service through the real operator: the IncidentNote names the workload behind it.

``api`` crash-loops on connection refused to db:5432; ``db`` is a StatefulSet whose pod cannot
pull its image, behind Service ``db`` (one endpoint, not ready). The operator reads the
Service, its EndpointSlice and the StatefulSet only because the crashed log names the host,
and says in one sentence that api fails because db does.
"""

from __future__ import annotations

import pytest

from tests.support.controllers import SimulatedControllers
from tests.support.operator_process import OperatorProcess

from .test_incidents import notes, one_incident

pytestmark = pytest.mark.integration

API_LOG = (
    "2026-11-25T10:00:00Z INFO api 4.2.0 starting\n"
    "2026-11-25T10:00:01Z ERROR o.s.boot.SpringApplication : Application run failed\n"
    "Caused by: java.net.ConnectException: Connection refused: db/10.96.12.7:5432\n"
    "\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)\n"
)
DB_IMAGE = "registry.example.com/shop/postgres:16.9-missing"


def test_the_incident_note_says_the_crash_is_the_failing_statefulsets_doing(
    cluster: SimulatedControllers, operator: OperatorProcess
) -> None:
    cluster.statefulset_pull_failing("db", DB_IMAGE)
    cluster.service("db", {"app": "db"}, "10.96.12.7", 5432)
    # api (named checkout, as the incident helpers expect): r1 healthy, r2 crash-loops on db
    cluster.deployment("checkout", "registry.example.com/shop/api:4.1.0")
    cluster.rollout("checkout", 1, "registry.example.com/shop/api:4.1.0")
    cluster.deployment_status("checkout", updated=2, available=2)
    new = cluster.rollout("checkout", 2, "registry.example.com/shop/api:4.2.0")
    for pod in [cluster.pod(new) for _ in range(2)]:
        cluster.crash_loop(pod, restarts=4, log=API_LOG)
    cluster.deployment_status("checkout", updated=2, available=0)

    note, task = one_incident(cluster)
    status = task["status"]
    assert status["rootCause"] == "CrashLoopBackOff.DependencyUnreachable"
    sentence = (
        f"It fails because StatefulSet/{cluster.ns}/db is failing: Container app cannot pull "
    )
    assert sentence in status["summary"], status["summary"]
    assert "(ImagePullError.NotFound)." in status["summary"]
    assert sentence in note["message"] and "(ImagePullError.NotFound)." in note["message"]
    assert len(notes(cluster, "checkout")) == 1
