"""The action runner: refusals, the record before and after, exactly once across retries."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import urllib3
from kubernetes.client.exceptions import ApiException

from highpeaks_agent import metrics
from highpeaks_agent.actions.executor import ActionRunner, DiagnosisFirst, RetryLater
from highpeaks_agent.actions.gate import PolicyGate
from highpeaks_agent.actions.request import is_unfinished
from highpeaks_agent.errors import TargetNotFound
from tests.unit.actions.fakes import POLICY_NAME, Clock, Cluster, no_sleep, policy_objects
from tests.unit.actions.objects import (
    CRASHING,
    GOOD,
    PROPOSED_ROLLBACK,
    deployment,
    replicaset,
    task,
    template,
)

APPROVAL = {"approval": {"action": "rollback-to-1", "by": "alice"}}


class Notices:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def notify(self, task: Any, record: Any) -> None:
        self.sent.append((record["id"], record["result"]))


def cluster(spec: dict[str, Any] = APPROVAL, **kwargs: Any) -> Cluster:
    status = {"proposedActions": [PROPOSED_ROLLBACK]}
    return Cluster(
        task(spec, status=status, **kwargs),
        deployment(),
        [replicaset(1, GOOD, "aaa"), replicaset(2, CRASHING, "bbb")],
    )


def runner(kube: Cluster, notices: Notices | None = None) -> ActionRunner:
    return ActionRunner(
        kube, kube, kube, PolicyGate(kube.get), notifier=notices, clock=Clock(), sleep=no_sleep
    )


def count(action: str, result: str) -> float:
    return metrics.ACTIONS.labels(action, result)._value.get()  # type: ignore[attr-defined]


async def test_an_approved_rollback_restores_the_template_and_records_before_and_after() -> None:
    kube, notices = cluster(), Notices()
    before = count("rollback", "Succeeded")
    await runner(kube, notices).run(kube.task)
    assert kube.workload["spec"]["template"] == template(GOOD)
    assert len(kube.patches) == 1
    (record,) = kube.task["status"]["actions"]
    assert record["id"] == "rollback-to-1" and record["by"] == "alice"
    assert record["result"] == "Succeeded" and record["at"] == "2026-12-07T10:00:10Z"
    assert record["change"] == (
        f"pod template back to revision 1: container app image: {CRASHING} -> {GOOD}"
    )
    assert "rollout complete" in record["message"] and record["finishedAt"]
    assert kube.status_writes == 3  # Started, patched, Succeeded
    assert sorted(e["on"] for e in kube.events) == ["AgentTask", "Deployment"]
    assert {e["reason"] for e in kube.events} == {"ActionSucceeded"}
    assert notices.sent == [("rollback-to-1", "Succeeded")]
    assert count("rollback", "Succeeded") == before + 1
    assert not is_unfinished(kube.task)


async def test_a_retry_after_a_lost_record_patches_nothing_new_and_finishes() -> None:
    kube = cluster()
    kube.fail_status_write_after_patch = True  # the answer after the patch is lost
    with pytest.raises(RetryLater):
        await runner(kube).run(kube.task)
    assert kube.task["status"]["actions"][0]["result"] == "Started"
    # the Deployment controller made the old ReplicaSet the newest revision meanwhile
    kube.owned = [replicaset(3, GOOD, "aaa", history="1"), replicaset(2, CRASHING, "bbb")]
    generation = kube.workload["metadata"]["generation"]
    await runner(kube).run(kube.task)  # a fresh process: nothing in memory
    assert kube.workload["metadata"]["generation"] == generation, "no second change"
    (record,) = kube.task["status"]["actions"]
    assert record["result"] == "Succeeded" and record["at"] == "2026-12-07T10:00:10Z"


class HandedOver(Cluster):
    """Another replica, acting after a leadership handover, finishes the action while this
    one still follows the rollout."""

    async def get(self, path: str) -> dict[str, Any]:
        workload = await super().get(path)
        for entry in self.task["status"].get("actions", []):
            if not path.endswith(POLICY_NAME) and entry["result"] == "Started":
                entry |= {"result": "Succeeded", "finishedAt": "2026-12-07T10:00:20Z"}
                self.bump()
        return workload


async def test_an_action_another_replica_finished_is_recorded_counted_and_told_once() -> None:
    base = cluster()
    kube = HandedOver(base.task, base.workload, base.owned)
    before = count("rollback", "Succeeded")
    await runner(kube).run(kube.task)
    assert len(kube.patches) == 1
    (record,) = kube.task["status"]["actions"]
    assert (record["result"], record["finishedAt"]) == ("Succeeded", "2026-12-07T10:00:20Z")
    assert count("rollback", "Succeeded") == before, "the other replica counted it"
    assert kube.events == [], "the other replica posted the Events"


async def test_two_writers_start_it_once() -> None:
    kube = cluster()
    stale = copy.deepcopy(kube.task)
    kube.bump()  # another writer changed the task after this copy was read
    kube_read = kube.read_task

    async def read_stale(namespace: str, name: str) -> dict[str, Any]:
        kube.read_task = kube_read  # type: ignore[method-assign]
        return stale

    kube.read_task = read_stale  # type: ignore[method-assign]
    with pytest.raises(RetryLater, match="409"):
        await runner(kube).run(kube.task)
    assert kube.patches == [] and "actions" not in kube.task["status"]


async def test_without_the_policy_it_is_refused_with_the_condition() -> None:
    kube, notices = cluster(), Notices()
    del kube.policy["validatingadmissionpolicybindings"]
    await runner(kube, notices).run(kube.task)
    assert kube.patches == []
    (record,) = kube.task["status"]["actions"]
    assert record["result"] == "Refused" and "k8s/components/actions" in record["message"]
    (cond,) = kube.task["status"]["conditions"]
    assert (cond["type"], cond["status"], cond["reason"]) == (
        "ActionsEnabled",
        "False",
        "ComponentMissing",
    )
    assert "actions.enabled=true" in cond["message"]
    assert notices.sent == [("rollback-to-1", "Refused")]
    assert {e["reason"] for e in kube.events} == {"ActionRefused"}


async def test_an_approval_written_before_the_policy_existed_was_never_checked() -> None:
    kube = cluster(written="2026-12-07T09:29:59Z")
    await runner(kube).run(kube.task)
    assert kube.patches == []
    record = kube.task["status"]["actions"][0]
    assert record["result"] == "Refused" and "before the admission policy" in record["message"]


@pytest.mark.parametrize(
    ("proposal", "words"),
    [
        (None, "no proposed action has the id 'rollback-to-1'"),
        (
            PROPOSED_ROLLBACK | {"refused": "Argo CD manages it", "instead": "revert c4d1a9e"},
            "refused: Argo CD manages it. Instead: revert c4d1a9e",
        ),
    ],
)
async def test_an_approval_needs_an_unrefused_proposal(
    proposal: dict[str, Any] | None, words: str
) -> None:
    kube = cluster()
    kube.task["status"]["proposedActions"] = [proposal] if proposal else []
    await runner(kube).run(kube.task)
    assert kube.patches == []
    record = kube.task["status"]["actions"][0]
    assert record["result"] == "Refused" and words in record["message"]


async def test_an_id_naming_no_action_is_refused_by_a_condition() -> None:
    kube = cluster({"approval": {"action": "delete-everything", "by": "alice"}})
    await runner(kube).run(kube.task)
    assert kube.patches == [] and "actions" not in kube.task["status"]
    (cond,) = kube.task["status"]["conditions"]
    assert cond["type"] == "ActionRefused" and cond["reason"] == "NotProposed"
    assert not is_unfinished(kube.task)


async def test_an_argo_cd_managed_deployment_is_refused_with_the_gitops_way() -> None:
    kube = cluster()
    kube.workload["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] = (
        "shop-checkout:apps/Deployment:shop/checkout"
    )
    await runner(kube).run(kube.task)
    assert kube.patches == []
    message = kube.task["status"]["actions"][0]["message"]
    assert "managed by Argo CD Application argocd/shop-checkout" in message
    assert "self-heal" in message and "argocd app history shop-checkout" in message


def application(namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"source": {"repoURL": "https://github.com/example/shop-deploy", "path": "shop"}},
        "status": {"sync": {"revision": "c4d1a9e"}, "history": []},
    }


async def test_the_instance_label_alone_is_argo_cds_once_its_application_is_read() -> None:
    kube = cluster()
    kube.workload["metadata"].setdefault("labels", {})["app.kubernetes.io/instance"] = "shop"
    kube.owned.append(application("gitops", "shop"))
    await runner(kube).run(kube.task)
    assert kube.patches == []
    record = kube.task["status"]["actions"][0]
    assert record["result"] == "Refused"
    assert "managed by Argo CD Application gitops/shop" in record["message"]


async def test_the_instance_label_without_an_application_is_helms_or_anyones_and_runs() -> None:
    kube = cluster()
    kube.workload["metadata"].setdefault("labels", {})["app.kubernetes.io/instance"] = "shop"
    await runner(kube).run(kube.task)
    assert len(kube.patches) == 1
    assert kube.task["status"]["actions"][0]["result"] == "Succeeded"


async def test_a_direct_rollback_goes_to_the_last_healthy_revision() -> None:
    kube = cluster({"action": {"name": "rollback", "by": "bob"}}, field="action")
    await runner(kube).run(kube.task)
    (record,) = kube.task["status"]["actions"]
    assert (record["id"], record["by"], record["result"]) == ("rollback-to-1", "bob", "Succeeded")
    assert kube.workload["spec"]["template"] == template(GOOD)


async def test_a_restart_writes_the_recorded_time() -> None:
    kube = cluster({"action": {"name": "restart", "by": "bob"}}, field="action")
    await runner(kube).run(kube.task)
    (record,) = kube.task["status"]["actions"]
    annotations = kube.workload["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"kubectl.kubernetes.io/restartedAt": record["at"]}
    assert record["result"] == "Succeeded"


async def test_a_finished_action_is_not_run_again() -> None:
    kube = cluster()
    await runner(kube).run(kube.task)
    writes, events = kube.status_writes, len(kube.events)
    await runner(kube).run(kube.task)
    assert kube.status_writes == writes and len(kube.patches) == 1
    assert len(kube.events) == events  # its Events exist already


async def test_a_forbidden_patch_fails_the_action_with_the_reason() -> None:
    kube = cluster()

    async def forbidden(path: str, body: Any, content_type: str) -> dict[str, Any]:
        raise ApiException(status=403, reason="Forbidden")

    kube.patch = forbidden  # type: ignore[method-assign]
    await runner(kube).run(kube.task)
    record = kube.task["status"]["actions"][0]
    assert record["result"] == "Failed" and "may not patch deployments" in record["message"]


async def test_a_persons_task_waits_for_its_diagnosis_an_incident_task_does_not() -> None:
    kube = cluster()
    kube.task["status"]["observedGeneration"] = 1  # the approval's generation: diagnosing
    with pytest.raises(DiagnosisFirst):
        await runner(kube).run(kube.task)
    assert kube.patches == [] and "actions" not in kube.task["status"]
    kube.task["metadata"]["labels"] = {"devops.highpeaks.io/trigger": "auto"}
    await runner(kube).run(kube.task)
    assert kube.task["status"]["actions"][0]["result"] == "Succeeded"


def test_the_policy_objects_fake_is_the_shipped_name() -> None:
    assert set(policy_objects()) == {
        "validatingadmissionpolicies",
        "validatingadmissionpolicybindings",
    }


async def test_a_target_that_is_no_workload_or_does_not_exist_is_refused() -> None:
    kube = cluster({"action": {"name": "restart", "by": "bob"}}, field="action")
    kube.task["spec"]["target"] = {"kind": "Job", "name": "nightly"}
    await runner(kube).run(kube.task)
    record = kube.task["status"]["actions"][0]
    assert record["result"] == "Refused" and "not a Job" in record["message"]

    gone = cluster({"action": {"name": "restart", "by": "bob"}}, field="action")

    async def missing(namespace: str, kind: str, name: str) -> Any:
        raise TargetNotFound(kind, namespace, name)

    gone.target_snapshot = missing  # type: ignore[method-assign]
    await runner(gone).run(gone.task)
    record = gone.task["status"]["actions"][0]
    assert (
        record["result"] == "Refused" and "Deployment shop/checkout not found" in record["message"]
    )
    assert gone.patches == []


async def test_a_connection_lost_mid_request_is_a_retry_not_an_error() -> None:
    kube = cluster()

    async def unreachable(namespace: str, name: str) -> Any:
        raise urllib3.exceptions.ProtocolError("Connection aborted.")

    kube.read_task = unreachable  # type: ignore[method-assign]
    with pytest.raises(RetryLater, match="unreachable"):
        await runner(kube).run(kube.task)
