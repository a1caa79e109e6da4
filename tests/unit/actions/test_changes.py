"""The patch each action makes, computed from the live objects, and that it is idempotent."""

from __future__ import annotations

import copy
from typing import Any

from highpeaks_agent.actions.changes import (
    JSON_PATCH,
    RESTARTED_AT,
    Change,
    Refusal,
    last_healthy_revision,
    restart,
    restored_template,
    rollback,
    set_paused,
)
from highpeaks_agent.engine.redact import Redactor
from highpeaks_agent.engine.snapshot import Snapshot
from tests.unit.actions.objects import (
    CRASHING,
    GOOD,
    controller_revision,
    deployment,
    replicaset,
    statefulset,
    template,
)


def rolled_out() -> tuple[dict[str, Any], Snapshot]:
    workload = deployment()
    snapshot = Snapshot.from_objects(
        [workload, replicaset(1, GOOD, "aaa"), replicaset(2, CRASHING, "bbb")]
    )
    return workload, snapshot


def apply_json_patch(obj: dict[str, Any], patch: list[dict[str, Any]]) -> dict[str, Any]:
    result = copy.deepcopy(obj)
    for op in patch:
        assert op["op"] == "replace" and op["path"] == "/spec/template"
        result["spec"]["template"] = copy.deepcopy(op["value"])
    return result


def test_a_deployment_rolls_back_to_the_old_replicasets_template_less_its_hash() -> None:
    workload, snapshot = rolled_out()
    change = rollback(workload, snapshot, 1, Redactor())
    assert isinstance(change, Change)
    assert change.id == "rollback-to-1" and change.content_type == JSON_PATCH
    assert change.patch == [{"op": "replace", "path": "/spec/template", "value": template(GOOD)}]
    assert change.description == (
        f"pod template back to revision 1: container app image: {CRASHING} -> {GOOD}"
    )
    # applied twice, the second application changes nothing
    once = apply_json_patch(workload, change.patch)
    assert apply_json_patch(once, change.patch) == once


def test_once_restored_the_revision_is_found_by_its_history() -> None:
    # the Deployment controller gave the restored ReplicaSet the newest number, the old in history
    workload = deployment(GOOD, revision=3)
    snapshot = Snapshot.from_objects(
        [workload, replicaset(3, GOOD, "aaa", history="1"), replicaset(2, CRASHING, "bbb")]
    )
    assert restored_template(workload, snapshot, 1) == template(GOOD)
    change = rollback(workload, snapshot, 1, Redactor())
    assert isinstance(change, Change)
    assert change.description.endswith("the template is already that of the revision")


def test_the_last_healthy_revision_is_the_diagnosis_else_the_one_before_the_current() -> None:
    workload, snapshot = rolled_out()
    assert last_healthy_revision(workload, snapshot, 1) == 1
    assert last_healthy_revision(workload, snapshot, None) == 1
    only = Snapshot.from_objects([workload, replicaset(2, CRASHING, "bbb")])
    assert last_healthy_revision(workload, only, None) is None


def test_a_pruned_revision_or_a_paused_rollout_is_refused() -> None:
    workload, snapshot = rolled_out()
    missing = rollback(workload, snapshot, 7, Redactor())
    assert isinstance(missing, Refusal) and missing.reason == "RevisionNotFound"
    paused = copy.deepcopy(workload)
    paused["spec"]["paused"] = True
    refused = rollback(paused, snapshot, 1, Redactor())
    assert isinstance(refused, Refusal) and "resume it first" in refused.message


def test_a_statefulset_rolls_back_to_the_controller_revisions_template() -> None:
    workload = statefulset()
    snapshot = Snapshot.from_objects(
        [workload, controller_revision(1, "db:1"), controller_revision(2, "db:2")]
    )
    assert last_healthy_revision(workload, snapshot, None) == 1
    change = rollback(workload, snapshot, 1, Redactor())
    assert isinstance(change, Change)
    assert change.patch[0]["value"] == template("db:1")  # without the "$patch: replace" marker
    assert "db:2 -> db:1" in change.description


def test_restart_writes_the_started_time_so_a_retry_writes_the_same() -> None:
    workload, _ = rolled_out()
    change = restart(workload, "2026-12-07T10:00:07Z")
    assert change.id == "restart"
    assert change.patch == {
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: "2026-12-07T10:00:07Z"}}}}
    }
    assert restart(workload, "2026-12-07T10:00:07Z") == change


def test_pause_and_resume_set_spec_paused_of_a_deployment_only() -> None:
    workload, _ = rolled_out()
    paused = set_paused(workload, True)
    assert isinstance(paused, Change) and paused.patch == {"spec": {"paused": True}}
    assert paused.description == "Deployment spec.paused: false -> true"
    refused = set_paused(statefulset(), False)
    assert isinstance(refused, Refusal) and refused.reason == "NotADeployment"
