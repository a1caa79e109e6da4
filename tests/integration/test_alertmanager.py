"""POST /alertmanager on the real operator process against the emulated API server.

Bodies are Alertmanager's webhook payload (version 4): the sample, and workload alerts
derived from it. Alertmanager is configured with ``http_config.authorization``, so the
operator runs with a token, read as ``k8s/`` gives it: ``ALERTMANAGER_TOKEN_FILE`` names a
file of a mounted Secret (written with a trailing newline, as ``echo`` writes it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client

from tests.support.alertmanager import alert, group, sample
from tests.support.controllers import SimulatedControllers
from tests.support.operator_process import OperatorProcess

from .conftest import eventually
from .test_agenttasks import CRASH_LOG, GROUP, PLURAL, VERSION

pytestmark = pytest.mark.integration

TOKEN = "am-token-7f3c1e9a"
FINGERPRINT = "D2B1E4C7A9F03B11"
TASK = "alert-d2b1e4c7a9f03b11"


@pytest.fixture(scope="module")
def operator(
    kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    workdir = tmp_path_factory.mktemp("alert-operator")
    (workdir / "secrets").mkdir()
    (workdir / "secrets" / "alertmanager-token").write_text(TOKEN + "\n")
    env = {"ALERTMANAGER_TOKEN_FILE": str(workdir / "secrets" / "alertmanager-token")}
    process = OperatorProcess(kubeconfig, workdir / "operator.log", env=env)
    process.start()
    yield process
    process.stop()


def send(operator: OperatorProcess, body: Any, token: str = TOKEN) -> httpx.Response:
    return httpx.post(
        f"{operator.url}/alertmanager",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def alert_tasks(cluster: SimulatedControllers) -> list[Any]:
    custom = client.CustomObjectsApi(cluster.core.api_client)
    found = custom.list_namespaced_custom_object(
        GROUP, VERSION, cluster.ns, PLURAL, label_selector="devops.highpeaks.io/trigger=alert"
    )
    return list(found["items"])


def crash_looping_checkout(cluster: SimulatedControllers) -> list[str]:
    cluster.deployment("checkout", "registry.example.com/shop/checkout:2.14.0")
    rs = cluster.rollout("checkout", 1, "registry.example.com/shop/checkout:2.14.0")
    pods = [cluster.pod(rs) for _ in range(2)]
    for pod in pods:
        cluster.crash_loop(pod, restarts=5, log=CRASH_LOG)
    return pods


def test_the_sample_payload_creates_nothing(
    cluster: SimulatedControllers, operator: OperatorProcess
) -> None:
    response = send(operator, sample())
    assert response.status_code == 202, response.text
    (result,) = response.json()["results"]
    assert (result["outcome"], result["reason"]) == ("ignored", "no namespace label")
    assert alert_tasks(cluster) == []


def test_a_pod_alert_becomes_one_task_on_its_deployment_diagnosed_then_resolved(
    cluster: SimulatedControllers, operator: OperatorProcess
) -> None:
    pods = crash_looping_checkout(cluster)
    labels = {"namespace": cluster.ns, "pod": pods[0], "container": "app"}
    firing = group(
        alert(FINGERPRINT, labels, summary=f"Pod {cluster.ns}/{pods[0]} is crash looping")
    )

    (result,) = send(operator, firing).json()["results"]
    assert result["outcome"] == "created" and result["task"] == TASK
    assert result["target"] == {"kind": "Deployment", "name": "checkout"}

    def diagnosed() -> Any:
        (task,) = alert_tasks(cluster)
        assert task["status"]["phase"] == "Succeeded"
        return task

    task = eventually(diagnosed, what="the alert task to be diagnosed")
    assert task["metadata"]["name"] == TASK
    assert task["metadata"]["labels"]["devops.highpeaks.io/trigger"] == "alert"
    assert task["spec"]["target"] == {"kind": "Deployment", "name": "checkout"}
    assert task["spec"]["question"].startswith("KubePodCrashLooping: Pod ")
    assert task["status"]["rootCause"] == "CrashLoopBackOff.ConfigMissing"
    generation = task["metadata"]["generation"]

    # Alertmanager re-sends the group every repeat_interval: nothing new
    for _ in range(2):
        (again,) = send(operator, firing).json()["results"]
        assert again["outcome"] == "exists"
    (task,) = alert_tasks(cluster)
    assert task["metadata"]["generation"] == generation

    resolved = group(alert(FINGERPRINT, labels, status="resolved"))
    (done,) = send(operator, resolved).json()["results"]
    assert done["outcome"] == "resolved"
    (task,) = alert_tasks(cluster)
    conditions = {c["type"]: c for c in task["status"]["conditions"]}
    assert conditions["Resolved"]["status"] == "True"
    assert conditions["Resolved"]["reason"] == "AlertResolved"
    assert conditions["Diagnosed"]["status"] == "True"  # the diagnosis is kept
    assert task["status"]["phase"] == "Succeeded"


def test_unscoped_and_unknown_alerts_in_one_group(
    cluster: SimulatedControllers, operator: OperatorProcess
) -> None:
    crash_looping_checkout(cluster)
    body = group(
        alert("a1", {"namespace": cluster.ns, "deployment": "checkout"}),
        alert("a2", {"namespace": cluster.ns, "deployment": "no-such-thing"}),
        alert("a3", {"namespace": cluster.ns}),  # only job="kube-state-metrics"
        alert("a4", {"instance": "node-1:9100"}),
    )
    results = send(operator, body).json()["results"]
    assert [r["outcome"] for r in results] == ["created", "ignored", "ignored", "ignored"]
    assert "Deployment" in results[1]["reason"] and "not found" in results[1]["reason"]
    assert "job_name" in results[2]["reason"]
    assert results[3]["reason"] == "no namespace label"
    assert [t["metadata"]["name"] for t in alert_tasks(cluster)] == ["alert-a1"]
    metrics = httpx.get(f"{operator.url}/metrics").text
    for result in ("created", "ignored"):
        assert f'highpeaks_agent_alerts_received_total{{result="{result}"}}' in metrics


def test_a_wrong_token_changes_nothing(
    cluster: SimulatedControllers, operator: OperatorProcess
) -> None:
    crash_looping_checkout(cluster)
    body = group(alert("b1", {"namespace": cluster.ns, "deployment": "checkout"}))
    response = send(operator, body, token="not-the-token")
    assert response.status_code == 401
    assert alert_tasks(cluster) == []
    assert response.json()["error"] == "Unauthorized"
