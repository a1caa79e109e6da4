"""Which actions the rules propose (CONTRACT §10): each rule, its exact change, and the
diagnoses that get none."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from highpeaks_agent.engine.actions import propose
from highpeaks_agent.engine.diagnose import diagnose, diagnose_target
from highpeaks_agent.engine.model import Dependency, Diagnosis, ObjectRef, ProposedAction
from highpeaks_agent.engine.snapshot import Snapshot

from . import gitops
from .builders import (
    NOW,
    container,
    controller_revision,
    deployment,
    pod,
    replicaset,
    revisioned_set,
    running,
    terminated,
    waiting,
    with_revision_label,
)

OLD_IMAGE = "registry.example.com/shop/app:1.0.0"
NEW_IMAGE = "registry.example.com/shop/app:1.1.0"
CRASH = waiting(restarts=6, last=terminated(1))


def only(objects: list[dict[str, Any]]) -> Diagnosis:
    found = diagnose(Snapshot.from_objects(objects), now=NOW)
    assert len(found) == 1, found
    return found[0]


def proposals(objects: list[dict[str, Any]]) -> dict[str, ProposedAction]:
    return {a.id: a for a in only(objects).proposed_actions}


def rolled_out_deployment(
    *, old_ready: int = 0, paused: bool = False, old_fails: bool = False
) -> list[dict[str, Any]]:
    """checkout: revision 1 (app:1.0.0) → revision 2 (app:1.1.0, a new env var), which
    crash-loops; ``old_ready`` pods of revision 1 still serve."""
    new_container = container(image=NEW_IMAGE, env=[{"name": "DB_POOL", "value": "9"}])
    dep = deployment(revision=2, replicas=3, available=old_ready, containers=[new_container])
    dep["spec"]["paused"] = paused
    old = replicaset(
        dep, "6b9f7c5d4", revision=1, replicas=old_ready, ready=old_ready,
        containers=[container(image=OLD_IMAGE)],
    )  # fmt: skip
    new = replicaset(dep, "7c9f8d6b5", revision=2)
    objects = [dep, old, new, pod("checkout-7c9f8d6b5-x2k4q", owner=new, statuses=[CRASH])]
    for index in range(old_ready):
        statuses = [CRASH] if old_fails else [running()]
        objects.append(pod(f"checkout-6b9f7c5d4-{index}", owner=old, statuses=statuses))
    return objects


def rolled_out_set(kind: str) -> list[dict[str, Any]]:
    """A StatefulSet or DaemonSet rolled from revision 1 (app:1.0.0) to revision 2 (app:1.1.0,
    a new env var), whose pod crash-loops while revision 1's pod runs."""
    workload = revisioned_set(kind, ready=1)
    env = [{"name": "DB_POOL", "value": "9"}]
    old = controller_revision(workload, "5d8c7b9f6", 1, OLD_IMAGE)
    new = controller_revision(workload, "7f9b6c4d2", 2, NEW_IMAGE, env=env)
    workload["spec"]["template"]["spec"]["containers"] = [container(image=NEW_IMAGE, env=env)]
    if kind == "StatefulSet":
        workload["status"]["updateRevision"] = new["metadata"]["name"]

    def label(revision: dict[str, Any]) -> str:
        if kind == "StatefulSet":
            return str(revision["metadata"]["name"])
        return str(revision["metadata"]["labels"]["controller-revision-hash"])

    old_pod = with_revision_label(pod("db-0", owner=workload, statuses=[running()]), label(old))
    new_pod = with_revision_label(pod("db-1", owner=workload, statuses=[CRASH]), label(new))
    return [workload, old, new, old_pod, new_pod]


# --- rollback ------------------------------------------------------------------------------


def test_a_deployment_whose_new_revision_crashes_is_proposed_the_rollback_with_its_change() -> None:
    action = proposals(rolled_out_deployment())["rollback-to-1"]
    assert action.action == "rollback"
    assert action.target == ObjectRef(kind="Deployment", namespace="shop", name="checkout")
    assert (
        action.change
        == f"container app image: {NEW_IMAGE} -> {OLD_IMAGE}; container app env DB_POOL removed"
    )
    assert action.why == (
        "The root cause (CrashLoopBackOff: Container app keeps crashing (exit code 1)) started "
        "with revision 2; revision 1 before it is the last healthy one."
    )
    assert (action.refused, action.instead) == ("", "")


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet"])
def test_a_set_whose_update_revision_crashes_is_proposed_the_rollback_to_its_previous_revision(
    kind: str,
) -> None:
    diagnosis = only(rolled_out_set(kind))
    assert [a.id for a in diagnosis.proposed_actions] == ["rollback-to-1"]
    action = diagnosis.proposed_actions[0]
    assert action.target == ObjectRef(kind=kind, namespace="shop", name="db")
    assert (
        action.change
        == f"container app image: {NEW_IMAGE} -> {OLD_IMAGE}; container app env DB_POOL removed"
    )
    assert "started with revision 2; revision 1 before it" in action.why


def test_no_rollback_to_a_revision_whose_own_pods_fail_too() -> None:
    assert "rollback-to-1" not in proposals(rolled_out_deployment(old_ready=1, old_fails=True))


def test_no_rollback_when_the_workload_already_has_the_previous_template() -> None:
    objects = rolled_out_deployment()
    objects[0]["spec"]["template"]["spec"]["containers"] = [container(image=OLD_IMAGE)]
    assert proposals(objects) == {}


def test_no_proposal_without_a_rollout() -> None:
    dep = deployment()
    rs = replicaset(dep, "7c9f8d6b5", revision=1)
    assert proposals([dep, rs, pod("checkout-7c9f8d6b5-a", owner=rs, statuses=[CRASH])]) == {}


def _unschedulable_rollout(resources_changed: bool) -> list[dict[str, Any]]:
    extra = {"resources": {"requests": {"cpu": "8"}}} if resources_changed else {}
    dep = deployment(revision=2, containers=[container(image=NEW_IMAGE, **extra)])
    old = replicaset(dep, "6b9f7c5d4", revision=1, containers=[container(image=OLD_IMAGE)])
    new = replicaset(dep, "7c9f8d6b5", revision=2)
    condition = {
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": "0/3 nodes are available: 3 Insufficient cpu.",
    }
    pending = pod(
        "checkout-7c9f8d6b5-p", owner=new, phase="Pending", statuses=[], conditions=[condition]
    )
    del pending["spec"]["nodeName"]
    return [dep, old, new, pending]


def test_a_scheduling_failure_is_rolled_back_only_when_the_rollout_changed_the_requests() -> None:
    with_requests = only(_unschedulable_rollout(resources_changed=True))
    assert with_requests.root_cause == "Unschedulable.InsufficientResources"
    assert [a.change for a in with_requests.proposed_actions] == [
        f"container app image: {NEW_IMAGE} -> {OLD_IMAGE}; container app requests.cpu: 8 -> none"
    ]
    without = only(_unschedulable_rollout(resources_changed=False))
    assert without.root_cause == "Unschedulable.InsufficientResources"
    assert without.proposed_actions == []


def test_a_quota_that_keeps_the_new_revision_from_starting_gets_no_rollback() -> None:
    objects = rolled_out_deployment()
    objects[0]["status"]["conditions"] = [
        {
            "type": "ReplicaFailure",
            "status": "True",
            "reason": "FailedCreate",
            "message": 'pods "checkout-7c9f8d6b5-z" is forbidden: exceeded quota: compute, '
            "requested: cpu=2, used: cpu=8, limited: cpu=8",
        }
    ]
    objects = objects[:3]  # no pod could be created
    diagnosis = only(objects)
    assert diagnosis.root_cause == "ReplicaCreateFailed.QuotaExceeded"
    assert diagnosis.proposed_actions == []


def test_a_crash_that_is_the_consequence_of_another_failing_workload_gets_no_rollback() -> None:
    diagnosis = only(rolled_out_deployment())
    root = diagnosis.findings[0]
    behind = Dependency(
        host="db:5432",
        workload=ObjectRef(kind="StatefulSet", namespace="shop", name="db"),
        workload_root_cause="OOMKilled",
        workload_title="Container db was killed for exceeding its memory limit",
    )
    consequence = replace(diagnosis, findings=[replace(root, dependency=behind)])
    assert propose(consequence, Snapshot.from_objects(rolled_out_deployment())) == []


def test_the_change_never_shows_a_secret_value() -> None:
    objects = rolled_out_deployment()
    objects[0]["spec"]["template"]["spec"]["containers"][0]["args"] = [
        "--db-password=hunter2-new-value"
    ]
    objects[1]["spec"]["template"]["spec"]["containers"][0]["args"] = [
        "--db-password=hunter2-old-value"
    ]
    action = proposals(objects)["rollback-to-1"]
    assert "hunter2" not in action.change
    assert "container app args changed (values redacted)" in action.change


# --- pause and resume ----------------------------------------------------------------------


def test_a_rollout_that_would_replace_ready_pods_of_the_old_revision_is_proposed_a_pause() -> None:
    found = proposals(rolled_out_deployment(old_ready=2))
    assert list(found) == ["rollback-to-1", "pause"]
    pause = found["pause"]
    assert pause.change == "spec.paused: false -> true"
    assert pause.why == (
        "Revision 2 is still rolling out and its pods fail (CrashLoopBackOff: Container app "
        "keeps crashing (exit code 1)); pausing keeps it from replacing the 2 ready pods of "
        "older revisions."
    )


def test_no_pause_when_no_old_pod_is_left_to_replace_or_the_strategy_is_recreate() -> None:
    assert "pause" not in proposals(rolled_out_deployment(old_ready=0))
    recreate = rolled_out_deployment(old_ready=2)
    recreate[0]["spec"]["strategy"] = {"type": "Recreate"}
    assert "pause" not in proposals(recreate)


def test_a_paused_deployment_gets_no_pause_and_its_rollback_says_it_needs_a_resume() -> None:
    found = proposals(rolled_out_deployment(old_ready=2, paused=True))
    assert list(found) == ["rollback-to-1"]
    assert found["rollback-to-1"].why.endswith(
        "The Deployment is paused: the rollback rolls out once it is resumed."
    )


def test_a_paused_deployment_whose_template_holds_a_fix_is_proposed_the_resume() -> None:
    objects = rolled_out_deployment(old_ready=2, paused=True)
    objects[0]["spec"]["template"]["spec"]["containers"] = [container(image=OLD_IMAGE)]
    found = proposals(objects)
    assert list(found) == ["resume"]
    assert found["resume"].change == (
        f"spec.paused: true -> false (rolls out: container app image: {NEW_IMAGE} -> "
        f"{OLD_IMAGE}; container app env DB_POOL removed)"
    )
    assert found["resume"].why.startswith("The Deployment is paused, so the change in its pod")


# --- GitOps --------------------------------------------------------------------------------


def test_an_argo_cd_managed_rollback_is_refused_with_the_argo_cd_way() -> None:
    objects = [*gitops.rollout(annotations=gitops.TRACKING), gitops.application()]
    action = proposals(objects)["rollback-to-1"]
    assert action.change == "container app image: shop/checkout:2.14.0 -> shop/checkout:2.13.4"
    assert action.refused == (
        "Argo CD Application argocd/checkout manages this workload: its self-heal would put "
        "the change back on the next sync."
    )
    assert "Revert commit 9a8b7c6 in https://github.com/example/shop-deploy" in action.instead
    assert "`argocd app rollback checkout 4`" in action.instead


def test_a_flux_managed_rollback_and_pause_are_refused_with_suspending_the_kustomization() -> None:
    objects = gitops.rollout(labels=gitops.FLUX_LABELS) + gitops.kustomization()
    objects[1]["spec"]["replicas"] = objects[1]["status"]["availableReplicas"] = 1
    found = proposals(objects)
    assert list(found) == ["rollback-to-1", "pause"]
    for action in found.values():
        assert action.refused.startswith("Flux Kustomization flux-system/apps manages this")
        assert action.instead == (
            "`flux suspend kustomization apps -n flux-system`, then revert commit 9a8b7c6 in "
            "https://gitlab.com/example/fleet and `flux resume kustomization apps -n flux-system`."
        )


def test_a_plain_helm_release_is_not_refused() -> None:
    annotations = {
        "meta.helm.sh/release-name": "checkout",
        "meta.helm.sh/release-namespace": "shop",
    }
    action = proposals(gitops.rollout(annotations=annotations))["rollback-to-1"]
    assert (action.refused, action.instead) == ("", "")


# --- outputs -------------------------------------------------------------------------------


def test_the_json_lists_the_proposals_and_leaves_the_key_out_when_there_are_none() -> None:
    data = only(rolled_out_deployment()).to_json_dict()
    assert data["proposedActions"] == [
        {
            "id": "rollback-to-1",
            "action": "rollback",
            "target": {"kind": "Deployment", "namespace": "shop", "name": "checkout"},
            "change": f"container app image: {NEW_IMAGE} -> {OLD_IMAGE}; container app env DB_POOL removed",
            "why": (
                "The root cause (CrashLoopBackOff: Container app keeps crashing (exit code 1)) "
                "started with revision 2; revision 1 before it is the last healthy one."
            ),
            "refused": "",
            "instead": "",
        }
    ]
    dep = deployment()
    rs = replicaset(dep, "7c9f8d6b5", revision=1)
    quiet = [dep, rs, pod("checkout-7c9f8d6b5-a", owner=rs, statuses=[CRASH])]
    assert "proposedActions" not in only(quiet).to_json_dict()


def test_a_healthy_target_gets_no_proposal() -> None:
    objects = rolled_out_deployment()
    objects[-1] = pod("checkout-7c9f8d6b5-x2k4q", owner=objects[2], statuses=[running()])
    snapshot = Snapshot.from_objects(objects)
    target = ObjectRef(kind="Deployment", namespace="shop", name="checkout")
    healthy = diagnose_target(snapshot, target, now=NOW)
    assert healthy is not None and not healthy.findings
    assert healthy.proposed_actions == []
    assert diagnose(snapshot, now=NOW) == []
