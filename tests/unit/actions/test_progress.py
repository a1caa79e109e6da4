"""When the rollout an action started has completed, failed, or is still going."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from highpeaks_agent.actions.progress import progress
from tests.unit.actions.objects import deployment, statefulset

STARTED = datetime(2026, 12, 7, 10, 0, 0, tzinfo=UTC)


def with_status(obj: dict[str, Any], **status: Any) -> dict[str, Any]:
    obj["status"] = status
    return obj


def test_a_deployment_completes_when_every_replica_is_updated_and_available() -> None:
    done = with_status(
        deployment(), observedGeneration=2, replicas=2, updatedReplicas=2, availableReplicas=2
    )
    assert progress(done, "rollback", started=STARTED, now=STARTED).state == "Succeeded"
    old_left = with_status(
        deployment(), observedGeneration=2, replicas=3, updatedReplicas=2, availableReplicas=2
    )
    assert progress(old_left, "rollback", started=STARTED, now=STARTED).state == "Progressing"


def test_nothing_counts_before_the_controller_observed_the_patch() -> None:
    stale = with_status(
        deployment(), observedGeneration=1, replicas=2, updatedReplicas=2, availableReplicas=2
    )
    assert progress(stale, "rollback", started=STARTED, now=STARTED).state == "Progressing"
    assert progress(stale, "pause", started=STARTED, now=STARTED).state == "Progressing"


def deadline(when: datetime) -> dict[str, Any]:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "type": "Progressing",
        "status": "False",
        "reason": "ProgressDeadlineExceeded",
        "message": 'ReplicaSet "checkout-ccc" has timed out progressing.',
        "lastUpdateTime": stamp,
    }


def test_a_deadline_exceeded_after_the_action_fails_it_one_from_before_does_not() -> None:
    before = with_status(
        deployment(), observedGeneration=2, conditions=[deadline(STARTED - timedelta(minutes=3))]
    )
    assert progress(before, "restart", started=STARTED, now=STARTED).state == "Progressing"
    after = with_status(
        deployment(), observedGeneration=2, conditions=[deadline(STARTED + timedelta(seconds=70))]
    )
    failed = progress(after, "restart", started=STARTED, now=STARTED + timedelta(seconds=71))
    assert failed.state == "Failed" and "timed out progressing" in failed.message


def test_past_the_deadline_without_the_controller_saying_so_fails_too() -> None:
    going = with_status(deployment(), observedGeneration=1)
    # never sooner than 600 s: an outage may have delayed the patch past a short deadline
    assert (
        progress(going, "rollback", started=STARTED, now=STARTED + timedelta(seconds=91)).state
        == "Progressing"
    )
    late = STARTED + timedelta(seconds=600 + 31)
    failed = progress(going, "rollback", started=STARTED, now=late)
    assert (
        failed.state == "Failed" and failed.message == "the rollout did not complete within 600 s"
    )


def test_pause_is_done_once_observed() -> None:
    paused = deployment()
    paused["spec"]["paused"] = True
    state = progress(paused, "pause", started=STARTED, now=STARTED)
    assert state.state == "Succeeded"


def test_a_statefulset_is_done_at_its_update_revision() -> None:
    going = statefulset()
    assert progress(going, "rollback", started=STARTED, now=STARTED).state == "Progressing"
    going["status"] = {
        "observedGeneration": 2,
        "currentRevision": "db-3",
        "updateRevision": "db-3",
        "readyReplicas": 1,
        "updatedReplicas": 1,
    }
    assert progress(going, "rollback", started=STARTED, now=STARTED).state == "Succeeded"


def test_a_statefulset_waiting_on_a_pod_of_the_failing_revision_is_named() -> None:
    stuck = statefulset()
    stuck["status"] = {
        "observedGeneration": 2,
        "currentRevision": "db-5d8f",
        "updateRevision": "db-5d8f",  # the restored revision is the one that never stopped
        "replicas": 2,
        "readyReplicas": 1,
        "updatedReplicas": 1,
        "currentReplicas": 1,
    }
    stuck["spec"]["replicas"] = 2
    early = progress(stuck, "rollback", started=STARTED, now=STARTED + timedelta(seconds=10))
    assert early.state == "Progressing"
    late = progress(stuck, "rollback", started=STARTED, now=STARTED + timedelta(seconds=31))
    assert late.state == "Failed"
    assert "forced rollback" in late.message and "not at revision db-5d8f" in late.message
    stuck["spec"]["podManagementPolicy"] = "Parallel"
    parallel = progress(stuck, "rollback", started=STARTED, now=STARTED + timedelta(seconds=31))
    assert parallel.state == "Progressing"
