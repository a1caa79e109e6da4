"""/mcp on the real API server: a real TokenReview and real SubjectAccessReviews per tool call.

alice may view the namespace (the built-in ``view`` ClusterRole: pods, their logs, events,
workloads) and reads the crashed container's log through the SDK's own client; bob has no
rights there, and is told the log is withheld; a token the server does not know is 401. The
operator reads with its own ServiceAccount and only the shipped ClusterRole (the
least-privilege check of the tier sees these reads too).
"""

from __future__ import annotations

import httpx
import pytest

from tests.support.cluster import TestCluster
from tests.support.mcp_client import call, mcp_session
from tests.support.operator_process import OperatorProcess

from .conftest import crash_looping, deployment
from .test_assist_rights import first_pod, grant

pytestmark = pytest.mark.cluster
LOG_LINE = "payments: connection refused"
PASSWORD = "pl4nted-cluster-pass"


@pytest.fixture
def shop(installed: TestCluster, namespace: str) -> str:
    kube = installed
    app = deployment(
        "checkout",
        "registry.test/shop/checkout:2.14.0",
        command=[
            "sh",
            "-c",
            f"echo 'starting checkout with password {PASSWORD}'; echo '{LOG_LINE}'; exit 1",
        ],
    )
    container = app["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "DB_PASSWORD", "value": PASSWORD}]
    kube.apply({**app, "metadata": {"name": "checkout", "namespace": namespace}})
    grant(kube, namespace, "alice", {"kind": "ClusterRole", "name": "view"})
    crash_looping(kube, namespace, "checkout")
    return namespace


async def test_alice_reads_the_log_and_bob_is_told_it_is_withheld(
    installed: TestCluster, operator: OperatorProcess, shop: str
) -> None:
    kube = installed
    pod = first_pod(kube, shop)
    async with mcp_session(operator.url, kube.user_token("alice")) as session:
        tools = {tool.name for tool in (await session.list_tools()).tools}
        log, log_error = await call(session, "logs", namespace=shop, pod=pod, previous=True)
        diagnosis, _ = await call(
            session, "diagnose", namespace=shop, kind="Deployment", name="checkout"
        )
        got, _ = await call(session, "get", namespace=shop, kind="Deployment", name="checkout")
        events, _ = await call(session, "events", namespace=shop, kind="Pod", name=pod)
        history, _ = await call(
            session, "rollout_history", namespace=shop, kind="Deployment", name="checkout"
        )
    assert tools == {"diagnose", "logs", "events", "get", "rollout_history", "node"}
    assert not log_error and LOG_LINE in log, log
    assert "CrashLoopBackOff" in diagnosis and '"withheld":[]' in diagnosis
    assert '"name":"checkout"' in got and "managedFields" not in got
    assert "Back-off" in events or "BackOff" in events
    assert '"revision":1' in history
    for text in (log, diagnosis, got, events, history):
        assert PASSWORD not in text

    async with mcp_session(operator.url, kube.user_token("bob")) as session:
        withheld, withheld_error = await call(
            session, "logs", namespace=shop, pod=pod, previous=True
        )
        refused_get, _ = await call(
            session, "get", namespace=shop, kind="Deployment", name="checkout"
        )
    assert not withheld_error and withheld.startswith("withheld:") and "pods/log" in withheld
    assert LOG_LINE not in withheld
    assert refused_get.startswith("withheld:")

    async with httpx.AsyncClient(timeout=60) as plain:
        unknown = await plain.post(
            f"{operator.url}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"Authorization": "Bearer not-a-token"},
        )
    assert unknown.status_code == 401 and unknown.json()["error"] == "Unauthorized"
