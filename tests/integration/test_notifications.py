"""IncidentNotes sent to Slack and a JSON webhook by the real operator process: a local
receiver stands in for both. One message per incident and sink, across suppressed notes and
an operator restart, in the shape Slack documents, without the secrets planted in the pods."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.support.controllers import SimulatedControllers
from tests.support.operator_process import OperatorProcess
from tests.support.receiver import Receiver

from .conftest import eventually
from .test_agenttasks import GROUP, PLURAL, VERSION

pytestmark = pytest.mark.integration

SLACK_PATH = "/slack/services/T0HPK0001/B0HPK0002/p1anted5lackw3bh00kpath"
HOOK_PATH = "/hook/incidents/9c2d7e61-secret-path"
PASSWORD = "Pl4nted-db-passw0rd-7d1e"
PLANTED_LOG = (
    "2026-11-25T10:00:00Z INFO starting checkout 2.14.0\n"
    f"2026-11-25T10:00:01Z INFO connecting to postgres://checkout:{PASSWORD}@db:5432/shop\n"
    f"2026-11-25T10:00:01Z ERROR login failed for DB_PASSWORD={PASSWORD}\n"
    "panic: cannot reach the database\n"
)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def operator(
    kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory, receiver: Receiver
) -> Iterator[OperatorProcess]:
    log = tmp_path_factory.mktemp("notify-operator") / "operator.log"
    env = {
        "NOTIFY_SLACK_WEBHOOK_URL": receiver.url + SLACK_PATH,
        "NOTIFY_WEBHOOK_URL": receiver.url + HOOK_PATH,
    }
    process = OperatorProcess(kubeconfig, log, env=env)
    process.start()
    yield process
    process.stop()


def broken_rollout(cluster: SimulatedControllers) -> list[str]:
    """checkout r1 healthy, then r2 (with a secret env var) whose pods crash-loop."""
    cluster.deployment("checkout", "registry.example.com/shop/checkout:2.13.4")
    cluster.rollout("checkout", 1, "registry.example.com/shop/checkout:2.13.4")
    cluster.deployment_status("checkout", updated=3, available=3)
    env = [{"name": "DB_PASSWORD", "value": PASSWORD}]
    new = cluster.rollout("checkout", 2, "registry.example.com/shop/checkout:2.14.0", env)
    pods = [cluster.pod(new) for _ in range(3)]
    for pod in pods:
        cluster.crash_loop(pod, restarts=4, log=PLANTED_LOG)
    cluster.deployment_status("checkout", updated=3, available=0)
    return pods


def mine(receiver: Receiver, prefix: str, cluster: SimulatedControllers) -> list[Any]:
    """Messages about this test's namespace."""
    return [b for b in receiver.bodies(prefix) if cluster.ns in str(b)]


def one_message_each(receiver: Receiver, cluster: SimulatedControllers) -> tuple[Any, Any]:
    def arrived() -> tuple[Any, Any]:
        slack, hook = mine(receiver, SLACK_PATH, cluster), mine(receiver, HOOK_PATH, cluster)
        assert (len(slack), len(hook)) == (1, 1)
        return slack[0], hook[0]

    return eventually(arrived, timeout=45, what="one Slack message and one webhook POST")


def incident_task(cluster: SimulatedControllers) -> Any:
    custom = client.CustomObjectsApi(cluster.core.api_client)
    return custom.get_namespaced_custom_object(
        GROUP, VERSION, cluster.ns, PLURAL, "incident-checkout-r2"
    )


def assert_slack_block_kit(message: Any) -> None:
    """The incoming-webhook shape Slack documents, within its limits."""
    assert isinstance(message["text"], str) and message["text"]
    blocks = message["blocks"]
    assert 1 <= len(blocks) <= 50
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["type"] == "plain_text"
    assert len(blocks[0]["text"]["text"]) <= 150
    for block in blocks[1:]:
        assert block["type"] in ("section", "context")
        for text in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if text is not None:
                assert text["type"] == "mrkdwn" and 0 < len(text["text"]) <= 3000


def test_one_message_per_incident_across_suppressed_notes_and_a_restart(
    cluster: SimulatedControllers, operator: OperatorProcess, receiver: Receiver
) -> None:
    pods = broken_rollout(cluster)
    slack, hook = one_message_each(receiver, cluster)

    assert_slack_block_kit(slack)
    assert slack["blocks"][0]["text"]["text"] == (
        f"Deployment {cluster.ns}/checkout is failing: CrashLoopBackOff.DependencyUnreachable"
    )
    blocks = [b for b in slack["blocks"] if b["type"] != "context"]
    everything = str(slack)
    assert "2.13.4 -&gt; registry.example.com/shop/checkout:2.14.0" in everything
    # each fact once: the change in the diff block only, the target in the header only
    assert str(blocks).count("checkout:2.14.0") == 1
    assert str(blocks[1:]).count(f"{cluster.ns}/checkout") == 0
    assert hook["summary"].count("2.14.0") == 0 and hook["rollout"]["changes"][0].count("2.14.0")
    assert f"kubectl -n {cluster.ns} describe agenttask incident-checkout-r2" in everything
    assert hook["type"] == "IncidentNote" and hook["task"] == "incident-checkout-r2"
    assert hook["target"] == {"kind": "Deployment", "namespace": cluster.ns, "name": "checkout"}
    assert (hook["revision"], hook["rootCause"]) == (2, "CrashLoopBackOff.DependencyUnreachable")
    assert hook["rollout"]["changes"]

    annotations = incident_task(cluster)["metadata"]["annotations"]
    assert (
        annotations["devops.highpeaks.io/notified-slack"]
        == "CrashLoopBackOff.DependencyUnreachable"
    )
    assert (
        annotations["devops.highpeaks.io/notified-webhook"]
        == "CrashLoopBackOff.DependencyUnreachable"
    )

    # restarts ticking: suppressed notes, nothing sent
    for restarts in (5, 6):
        for pod in pods:
            cluster.crash_loop(pod, restarts=restarts, log=PLANTED_LOG)
    time.sleep(3)
    operator.stop()
    operator.start()
    cluster.crash_loop(pods[0], restarts=9, log=PLANTED_LOG)
    time.sleep(4)
    assert len(mine(receiver, SLACK_PATH, cluster)) == 1
    assert len(mine(receiver, HOOK_PATH, cluster)) == 1

    # no planted secret in anything received, nor the webhook URLs in the operator's log
    received = receiver.raw()
    assert PASSWORD not in received
    logs = operator.log_path.read_text(errors="replace")  # all of it, both runs
    assert SLACK_PATH not in logs and HOOK_PATH not in logs
    assert "notified slack of" in logs


def test_metrics_count_per_sink(
    cluster: SimulatedControllers, operator: OperatorProcess, receiver: Receiver
) -> None:
    import httpx

    broken_rollout(cluster)
    one_message_each(receiver, cluster)
    text = httpx.get(f"{operator.url}/metrics").text
    for sink in ("slack", "webhook"):
        assert f'highpeaks_agent_notifications_total{{result="sent",sink="{sink}"}} 1.0' in text
