"""Actions on the real control plane (CONTRACT §10): who may, and a rollback done once.

The actions component (``k8s/components/actions``, as ``k8s/overlays/actions`` renders it) is
applied beside the dev overlay; its ValidatingAdmissionPolicy runs in the real API server
with the real RBAC authorizer behind CEL's ``authorizer``. The test users are alice (may
patch Deployments in the test's namespace and write AgentTasks) and bob (may only create and
read AgentTasks). What alice approves is the rules' own proposal, in the status of the
incident task the operator made for the failing rollout. The operator runs through the fault proxy, one process
per test (two for the replicas test); the tests' own kubectl talks to the API server directly.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.apiserver.faults import FaultyProxy, Seen
from tests.support.cluster import ROOT, TestCluster
from tests.support.cluster.controlplane import write_kubeconfig
from tests.support.operator_process import OperatorProcess

from .conftest import AGENT_NAMESPACE, deployment, eventually
from .test_approve import plugin
from .test_incidents import CRASHING, GOOD, roll_to_crashing_revision
from .test_revisions import workload

pytestmark = pytest.mark.cluster
POLICY = "highpeaks-agent-actions"
AGENT = "system:serviceaccount:highpeaks-system:highpeaks-agent"
ENV = {
    "RESYNC_SECONDS": "3",
    "INCIDENT_DEBOUNCE_SECONDS": "0.5",
    "KUBE_REQUEST_TIMEOUT_SECONDS": "3",
}
OUTAGE_SECONDS = 15


# --- the component and who may do what ----------------------------------------------------


def component_objects(kube: TestCluster) -> list[dict[str, Any]]:
    """What the component adds to the base, rendered from k8s/overlays/actions."""
    rendered = kube.kubectl("kustomize", str(ROOT / "k8s" / "overlays" / "actions"))
    return [d for d in yaml.safe_load_all(rendered) if d and d["metadata"]["name"] == POLICY]


def policy_in_force(kube: TestCluster, namespace: str) -> bool:
    """A server-side dry run of a forged request is refused by the policy."""
    forged = task_body("probe", action={"name": "restart", "by": "nobody"})
    result = kube.kubectl_run(
        "-n", namespace, "create", "--dry-run=server", "-f", "-", stdin=json.dumps(forged)
    )
    return result.returncode != 0 and "must name you" in result.stderr


def install_component(kube: TestCluster, namespace: str) -> None:
    kube.apply(component_objects(kube))
    eventually(lambda: policy_in_force(kube, namespace) or None, what="the policy in force")


@pytest.fixture
def users(installed: TestCluster, namespace: str) -> dict[str, Path]:
    """alice may patch Deployments and write tasks; bob may only create and read tasks."""
    rules = {
        "alice": [
            {
                "apiGroups": ["apps"],
                "resources": ["deployments", "daemonsets", "statefulsets"],
                "verbs": ["get", "patch"],
            },
            {
                "apiGroups": ["devops.highpeaks.io"],
                "resources": ["agenttasks"],
                "verbs": ["create", "get", "list", "patch"],
            },
        ],
        "bob": [
            {
                "apiGroups": ["devops.highpeaks.io"],
                "resources": ["agenttasks"],
                "verbs": ["create", "get"],
            }
        ],
    }
    for user, granted in rules.items():
        installed.apply(
            [
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "Role",
                    "metadata": {"name": user, "namespace": namespace},
                    "rules": granted,
                },
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "RoleBinding",
                    "metadata": {"name": user, "namespace": namespace},
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "Role",
                        "name": user,
                    },
                    "subjects": [
                        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}
                    ],
                },
            ]
        )
    install_component(installed, namespace)
    return {user: installed.user_kubeconfig(user, namespace) for user in rules}


def start_operators(
    kube: TestCluster, proxy: FaultyProxy, directory: Path, count: int, env: dict[str, str]
) -> list[OperatorProcess]:
    token = kube.service_account_token(AGENT_NAMESPACE, "highpeaks-agent")
    kubeconfig = write_kubeconfig(
        directory / "config", proxy.url, kube.ca, user="agent", token=token
    )
    started = []
    for index in range(count):
        process = OperatorProcess(kubeconfig, directory / f"operator-{index}.log", env=env)
        process.start()
        started.append(process)
    return started


@pytest.fixture
def operator(
    installed: TestCluster, proxy: FaultyProxy, tmp_path: Path
) -> Iterator[OperatorProcess]:
    proxy.clear()
    proxy.come_back()
    (process,) = start_operators(installed, proxy, tmp_path, 1, ENV)
    yield process
    proxy.clear()
    process.stop()
    print(process.logs()[-6000:])


# --- tasks, proposals, approvals -----------------------------------------------------------


def task_body(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "devops.highpeaks.io/v1alpha1",
        "kind": "AgentTask",
        "metadata": {"name": name},
        "spec": {"target": {"kind": "Deployment", "name": "checkout"}, **spec},
    }


def create_task(kube: TestCluster, namespace: str, body: dict[str, Any], user: Path) -> None:
    kube.kubectl("-n", namespace, "create", "-f", "-", kubeconfig=user, stdin=json.dumps(body))


def approve(
    kube: TestCluster, namespace: str, task: str, user: Path, by: str, action_id: str
) -> subprocess.CompletedProcess[str]:
    patch = {"spec": {"approval": {"action": action_id, "by": by}}}
    return kube.kubectl_run(
        "-n", namespace, "patch", "agt", task, "--type=merge", "-p", json.dumps(patch),
        kubeconfig=user,
    )  # fmt: skip


def proposed_and_diagnosed(kube: TestCluster, namespace: str, users: dict[str, Path]) -> str:
    """A crash-looping rollout and its incident task, whose rules propose the rollback to
    revision 1; the task's name."""
    roll_to_crashing_revision(kube, namespace)
    task = "incident-checkout-r2"

    def proposed() -> Any:
        status = read_task(kube, namespace, task)["status"]
        assert status["phase"] == "Succeeded", status.get("phase")
        (proposal,) = [p for p in status["proposedActions"] if p["id"] == "rollback-to-1"]
        return proposal

    proposal = eventually(proposed, what="the rules' proposal")
    assert proposal["change"] == f"container app image: {CRASHING} -> {GOOD}", proposal
    assert not proposal.get("refused"), proposal
    return task


def read_task(kube: TestCluster, namespace: str, name: str) -> Any:
    return kube.kubectl_json("-n", namespace, "get", "agt", name)


def finished(kube: TestCluster, namespace: str, name: str) -> dict[str, Any]:
    """The task's one action record, once it is finished."""
    records = read_task(kube, namespace, name)["status"]["actions"]
    assert len(records) == 1 and records[0]["result"] != "Started", records
    return dict(records[0])


def events(kube: TestCluster, namespace: str, name: str) -> list[Any]:
    found = kube.kubectl_json(
        "-n", namespace, "get", "events", "--field-selector", f"involvedObject.name={name}"
    )["items"]
    return [e for e in found if str(e["reason"]).startswith("Action")]


def revisions(kube: TestCluster, namespace: str) -> dict[str, tuple[int, str]]:
    """ReplicaSet image → (revision, revision history)."""
    items = kube.kubectl_json("-n", namespace, "get", "rs", "-l", "app=checkout")["items"]
    return {
        rs["spec"]["template"]["spec"]["containers"][0]["image"]: (
            int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"]),
            rs["metadata"]["annotations"].get("deployment.kubernetes.io/revision-history", ""),
        )
        for rs in items
    }


def deployment_patches(kube: TestCluster, namespace: str) -> int:
    """The operator's PATCHes of the Deployment the API server answered with success."""
    return sum(
        1
        for e in kube.control_plane.audit(AGENT)
        if e.get("stage") == "ResponseComplete"
        and e["verb"] == "patch"
        and (e.get("objectRef") or {}).get("resource") == "deployments"
        and (e.get("objectRef") or {}).get("namespace") == namespace
        and int(e.get("responseStatus", {}).get("code", 0)) < 400
    )


def assert_rolled_back_once(kube: TestCluster, namespace: str, task: str, by: str) -> None:
    record = eventually(lambda: finished(kube, namespace, task), timeout=120, what="the record")
    print(
        f"action {record['id']}: started {record['at']}, {record['result']} {record['finishedAt']}"
    )
    assert record["result"] == "Succeeded", record
    assert (record["id"], record["action"], record["by"]) == ("rollback-to-1", "rollback", by)
    assert f"{CRASHING} -> {GOOD}" in record["change"]
    assert "rollout complete" in record["message"] and record["at"] and record["finishedAt"]
    live = kube.kubectl_json("-n", namespace, "get", "deploy", "checkout")
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == GOOD
    assert "pod-template-hash" not in live["spec"]["template"]["metadata"]["labels"]
    kube.kubectl("-n", namespace, "rollout", "status", "deploy/checkout", "--timeout=60s")
    # The old ReplicaSet became revision 3, remembering 1; no fourth revision was made.
    assert revisions(kube, namespace) == {GOOD: (3, "1"), CRASHING: (2, "")}
    assert deployment_patches(kube, namespace) == 1
    (on_task,) = events(kube, namespace, task)
    (on_deployment,) = events(kube, namespace, "checkout")
    for event in (on_task, on_deployment):
        assert event["reason"] == "ActionSucceeded" and event.get("count", 1) == 1
        assert f"rollback by {by}" in event["message"]


# --- who may -------------------------------------------------------------------------------


def test_a_user_who_may_patch_approves_the_proposed_rollback(
    installed: TestCluster, operator: OperatorProcess, namespace: str, users: dict[str, Path]
) -> None:
    task = proposed_and_diagnosed(installed, namespace, users)
    # as a person does it: the plugin finds alice's name with a SelfSubjectReview
    done = plugin(installed, users["alice"], "approve", task, "rollback-to-1", "-n", namespace)
    assert done.returncode == 0, done.stderr
    assert "by alice" in done.stdout
    assert_rolled_back_once(installed, namespace, task, "alice")
    described = " ".join(installed.kubectl("-n", namespace, "describe", "agt", task).split())
    assert "ActionSucceeded" in described and "rollback-to-1" in described
    listed = plugin(installed, users["alice"], "actions", task, "-n", namespace).stdout
    assert "Succeeded (by alice)" in listed and "rollback-to-1 by alice at" in listed


def test_a_user_who_may_not_patch_the_target_is_refused_at_admission(
    installed: TestCluster, namespace: str, users: dict[str, Path]
) -> None:
    installed.apply(
        {**deployment("checkout", GOOD), "metadata": {"name": "checkout", "namespace": namespace}}
    )
    body = task_body("bob-asks", action={"name": "restart", "by": "bob"})
    refused = installed.kubectl_run(
        "-n", namespace, "create", "-f", "-", kubeconfig=users["bob"], stdin=json.dumps(body)
    )
    assert refused.returncode != 0
    assert "ValidatingAdmissionPolicy 'highpeaks-agent-actions'" in refused.stderr
    assert f"bob may not patch Deployment {namespace}/checkout" in refused.stderr
    assert "could make the change themselves" in refused.stderr
    # The same create without an action is bob's right: nothing else is checked.
    create_task(installed, namespace, task_body("bob-asks"), users["bob"])


def test_a_forged_by_is_refused_at_admission(
    installed: TestCluster, namespace: str, users: dict[str, Path]
) -> None:
    body = task_body("forged", action={"name": "restart", "by": "carol"})
    refused = installed.kubectl_run(
        "-n", namespace, "create", "-f", "-", kubeconfig=users["alice"], stdin=json.dumps(body)
    )
    assert refused.returncode != 0
    assert "spec.action.by must name you as the API server knows you (alice), not carol" in (
        refused.stderr
    )
    create_task(installed, namespace, task_body("later"), users["alice"])
    forged = approve(installed, namespace, "later", users["alice"], "carol", "restart")
    assert forged.returncode != 0 and "spec.approval.by must name you" in forged.stderr


def test_without_the_component_an_action_is_refused_with_the_condition(
    installed: TestCluster, operator: OperatorProcess, namespace: str, users: dict[str, Path]
) -> None:
    installed.apply(
        {**deployment("checkout", GOOD), "metadata": {"name": "checkout", "namespace": namespace}}
    )
    for kind in ("validatingadmissionpolicybinding", "validatingadmissionpolicy"):
        installed.kubectl("delete", kind, POLICY)
    try:
        eventually(lambda: not policy_in_force(installed, namespace) or None, what="no policy")
        body = task_body("unchecked", action={"name": "restart", "by": "alice"})
        create_task(installed, namespace, body, users["alice"])
        record = eventually(lambda: finished(installed, namespace, "unchecked"), what="the refusal")
    finally:
        install_component(installed, namespace)
    assert record["result"] == "Refused" and "k8s/components/actions" in record["message"]
    status = read_task(installed, namespace, "unchecked")["status"]
    (enabled,) = [c for c in status["conditions"] if c["type"] == "ActionsEnabled"]
    assert (enabled["status"], enabled["reason"]) == ("False", "ComponentMissing")
    assert "actions.enabled=true" in enabled["message"]
    live = installed.kubectl_json("-n", namespace, "get", "deploy", "checkout")
    assert "annotations" not in live["spec"]["template"]["metadata"], "not restarted"
    assert deployment_patches(installed, namespace) == 0


def test_an_argo_cd_managed_deployment_is_refused_with_the_gitops_way(
    installed: TestCluster, operator: OperatorProcess, namespace: str, users: dict[str, Path]
) -> None:
    managed = deployment("checkout", GOOD)
    managed["metadata"] = {
        "name": "checkout",
        "namespace": namespace,
        "annotations": {
            "argocd.argoproj.io/tracking-id": f"shop-checkout:apps/Deployment:{namespace}/checkout"
        },
    }
    installed.apply(managed)
    body = task_body("undo", action={"name": "rollback", "by": "alice"})
    create_task(installed, namespace, body, users["alice"])
    record = eventually(lambda: finished(installed, namespace, "undo"), what="the refusal")
    assert record["result"] == "Refused", record
    assert "managed by Argo CD Application argocd/shop-checkout" in record["message"]
    assert "self-heal" in record["message"]
    assert "The GitOps way:" in record["message"] and "argocd app" in record["message"]
    assert deployment_patches(installed, namespace) == 0
    (event,) = events(installed, namespace, "undo")
    assert event["reason"] == "ActionRefused" and event["type"] == "Warning"


def roll_to_failing_revision(kube: TestCluster, namespace: str, kind: str, name: str) -> str:
    """A DaemonSet or StatefulSet rolled from a good image to a crashing one; the bad image."""
    short = {"DaemonSet": "ds", "StatefulSet": "sts"}[kind]
    good, bad = f"registry.test/infra/{name}:1.0", f"registry.test/infra/{name}:1.1-crash"
    kube.apply({**workload(kind, name, good), "metadata": {"name": name, "namespace": namespace}})
    kube.kubectl("-n", namespace, "rollout", "status", f"{short}/{name}", "--timeout=90s")
    kube.kubectl("-n", namespace, "set", "image", f"{short}/{name}", f"main={bad}")
    return bad


def roll_back(
    kube: TestCluster, namespace: str, users: dict[str, Path], kind: str, name: str
) -> dict[str, Any]:
    body = task_body("undo", action={"name": "rollback", "by": "alice"})
    body["spec"]["target"] = {"kind": kind, "name": name}
    create_task(kube, namespace, body, users["alice"])
    record = eventually(lambda: finished(kube, namespace, "undo"), timeout=120, what="the record")
    print(
        f"{kind} {record['id']}: started {record['at']}, {record['result']} {record['finishedAt']}"
    )
    assert (record["id"], record["by"]) == ("rollback-to-1", "alice"), record
    good = f"registry.test/infra/{name}:1.0"
    live = kube.kubectl_json("-n", namespace, "get", kind.lower(), name)
    assert live["spec"]["template"]["spec"]["containers"][0]["image"] == good
    revisions = kube.kubectl_json("-n", namespace, "get", "controllerrevisions")["items"]
    # revision 1's template came back as revision 3: no new revision object was made
    numbers = sorted(
        (r["revision"], r["data"]["spec"]["template"]["spec"]["containers"][0]["image"])
        for r in revisions
    )
    assert numbers == [(2, f"registry.test/infra/{name}:1.1-crash"), (3, good)]
    patches = [
        e
        for e in kube.control_plane.audit(AGENT)
        if e.get("stage") == "ResponseComplete"
        and e["verb"] == "patch"
        and (e.get("objectRef") or {}).get("namespace") == namespace
        and (e.get("objectRef") or {}).get("resource") in ("daemonsets", "statefulsets")
    ]
    assert len(patches) == 1
    return record


def test_a_daemonset_rolls_back_to_its_previous_controller_revision(
    installed: TestCluster, operator: OperatorProcess, namespace: str, users: dict[str, Path]
) -> None:
    bad = roll_to_failing_revision(installed, namespace, "DaemonSet", "agent")
    record = roll_back(installed, namespace, users, "DaemonSet", "agent")
    assert record["result"] == "Succeeded" and "rollout complete" in record["message"]
    assert f"{bad} -> registry.test/infra/agent:1.0" in record["change"]


def test_a_statefulset_waiting_on_a_pod_of_the_failing_revision_says_what_to_delete(
    installed: TestCluster, operator: OperatorProcess, namespace: str, users: dict[str, Path]
) -> None:
    roll_to_failing_revision(installed, namespace, "StatefulSet", "db")
    eventually(
        lambda: any(
            s.get("restartCount", 0) >= 1
            for p in installed.kubectl_json("-n", namespace, "get", "pods", "-l", "app=db")["items"]
            for s in p["status"].get("containerStatuses", [])
        ),
        what="a pod of the new revision crashing",
    )
    record = roll_back(installed, namespace, users, "StatefulSet", "db")
    # Kubernetes' forced rollback: the controller never replaces the crashing pod by itself
    assert record["result"] == "Failed", record
    assert "forced rollback" in record["message"] and "Delete its pods" in record["message"]
    revision = installed.kubectl_json("-n", namespace, "get", "sts", "db")["status"][
        "updateRevision"
    ]
    pods = installed.kubectl_json("-n", namespace, "get", "pods", "-l", "app=db")["items"]
    for pod in pods:  # the step the record names
        if pod["metadata"]["labels"]["controller-revision-hash"] != revision:
            installed.kubectl("-n", namespace, "delete", "pod", pod["metadata"]["name"])
    installed.kubectl("-n", namespace, "rollout", "status", "sts/db", "--timeout=90s")


# --- once, whatever happens ----------------------------------------------------------------


def patches_checkout(seen: Seen) -> bool:
    return seen.method == "PATCH" and seen.path.endswith("/deployments/checkout")


def test_an_outage_right_after_the_approval_rolls_back_once(
    installed: TestCluster,
    proxy: FaultyProxy,
    operator: OperatorProcess,
    namespace: str,
    users: dict[str, Path],
) -> None:
    task = proposed_and_diagnosed(installed, namespace, users)
    done = approve(installed, namespace, task, users["alice"], "alice", "rollback-to-1")
    assert done.returncode == 0, done.stderr
    proxy.outage(OUTAGE_SECONDS)  # whatever the operator heard or wrote by now, it hears nothing
    proxy.wait_healthy(OUTAGE_SECONDS + 10)
    assert_rolled_back_once(installed, namespace, task, "alice")


def test_an_outage_right_after_the_started_record_rolls_back_once(
    installed: TestCluster,
    proxy: FaultyProxy,
    operator: OperatorProcess,
    namespace: str,
    users: dict[str, Path],
) -> None:
    task = proposed_and_diagnosed(installed, namespace, users)
    trap = proxy.trap(patches_checkout, "outage", OUTAGE_SECONDS)
    done = approve(installed, namespace, task, users["alice"], "alice", "rollback-to-1")
    assert done.returncode == 0, done.stderr
    assert trap.sprung.wait(60), "the operator never patched the Deployment"
    proxy.wait_healthy(OUTAGE_SECONDS + 10)  # the template is back; nobody heard the answer
    assert_rolled_back_once(installed, namespace, task, "alice")


def test_killed_between_the_patch_and_its_record_rolls_back_once(
    installed: TestCluster,
    proxy: FaultyProxy,
    operator: OperatorProcess,
    namespace: str,
    users: dict[str, Path],
) -> None:
    task = proposed_and_diagnosed(installed, namespace, users)
    trap = proxy.trap(patches_checkout, "hold")
    assert (
        approve(installed, namespace, task, users["alice"], "alice", "rollback-to-1").returncode
        == 0
    )
    assert trap.sprung.wait(60), "the operator never patched the Deployment"
    operator.kill()  # the template is back; the record still says Started
    assert finished_or_started(installed, namespace, task) == "Started"
    proxy.clear()
    operator.start()
    assert_rolled_back_once(installed, namespace, task, "alice")


def finished_or_started(kube: TestCluster, namespace: str, task: str) -> str:
    (record,) = read_task(kube, namespace, task)["status"]["actions"]
    return str(record["result"])


def test_two_replicas_roll_back_once(
    installed: TestCluster,
    proxy: FaultyProxy,
    namespace: str,
    users: dict[str, Path],
    tmp_path: Path,
) -> None:
    proxy.clear()
    replicas = start_operators(installed, proxy, tmp_path, 2, ENV | {"PEERING": "highpeaks-agent"})
    try:
        time.sleep(3)  # both registered in the peering object: one acts, one stands by
        task = proposed_and_diagnosed(installed, namespace, users)
        assert (
            approve(installed, namespace, task, users["alice"], "alice", "rollback-to-1").returncode
            == 0
        )
        assert_rolled_back_once(installed, namespace, task, "alice")
        time.sleep(8)  # a few resync periods of both: nothing more happens
        assert deployment_patches(installed, namespace) == 1
        assert finished(installed, namespace, task)["result"] == "Succeeded"
    finally:
        for process in replicas:
            process.stop()
            print(process.logs()[-4000:])
