"""``highpeaks-agent diagnose --live`` against the emulated API server, as a terminal user runs it.

The command runs with a kubeconfig of its own (a user token, contexts with and without a
namespace) and reads over HTTP through the operator's live reader: previous logs of crashed
containers, KIND/NAME with kubectl's names, -n/-A/--context, a forbidden read, an
unreachable server, a namespace with nothing in it; and, with no kubeconfig at all, as a
pod's service account over HTTPS (a TLS front on the emulator). No operator process is
needed. The first and the unreachable-server tests run the real process; the others call the
console script's ``main`` in this process (the same code, without importing the Kubernetes
client each time).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.config import incluster_config

from tests.support.apiserver.serve import RunningApiServer
from tests.support.controllers import SimulatedControllers
from tests.support.diagnose_cli import Ran, run_diagnose, run_in_process
from tests.support.operator_process import free_port
from tests.support.tls import loopback_certificate, tls_front

pytestmark = pytest.mark.integration
USER_TOKEN = "jane-token"
POD_TOKEN = "pod-service-account-token"
CRASH_LOG = "starting checkout 2.14.0\nERROR login failed for user checkout\npanic: cannot reach the orders database\n"
_names = itertools.count(1)


def write_kubeconfig(path: Path, server: str, namespace: str, token: str = USER_TOKEN) -> Path:
    """Two contexts, as a person's kubeconfig has them: the current one in ``namespace``,
    ``elsewhere`` without a namespace."""
    config: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "emulated", "cluster": {"server": server}}],
        "users": [{"name": "jane", "user": {"token": token}}],
        "contexts": [
            {
                "name": "shop",
                "context": {"cluster": "emulated", "user": "jane", "namespace": namespace},
            },
            {"name": "elsewhere", "context": {"cluster": "emulated", "user": "jane"}},
        ],
        "current-context": "shop",
    }
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def shop(api: client.ApiClient, apiserver: RunningApiServer) -> SimulatedControllers:
    """A namespace where checkout's revision 2 crash-loops with a log, and web is healthy."""
    apiserver.emulator.tokens[USER_TOKEN] = {"username": "jane", "groups": ["developers"]}
    cluster = SimulatedControllers(api, apiserver, f"live-{next(_names)}")
    cluster.deployment("checkout", "registry.example.com/shop/checkout:2.13.4", replicas=2)
    cluster.rollout("checkout", 1, "registry.example.com/shop/checkout:2.13.4")
    new_rs = cluster.rollout("checkout", 2, "registry.example.com/shop/checkout:2.14.0")
    for _ in range(2):
        pod = cluster.pod(new_rs)
        cluster.crash_loop(pod, restarts=6, log=CRASH_LOG)
    cluster.deployment_status("checkout", updated=2, available=0)
    cluster.deployment("web", "registry.example.com/shop/web:1.0", replicas=1)
    web_rs = cluster.rollout("web", 1, "registry.example.com/shop/web:1.0")
    cluster.running(cluster.pod(web_rs))
    cluster.deployment_status("web", updated=1, available=1)
    return cluster


@pytest.fixture
def kubeconfig_for(
    apiserver: RunningApiServer, tmp_path: Path, shop: SimulatedControllers
) -> dict[str, str]:
    path = write_kubeconfig(tmp_path / "config", apiserver.url, shop.ns)
    return {"KUBECONFIG": str(path)}


def live(env: dict[str, str], *args: str) -> Ran:
    return run_in_process(["--live", *args], env)


def live_process(env: dict[str, str], *args: str) -> Ran:
    return run_diagnose(["--live", *args], env)


def test_the_contexts_namespace_is_diagnosed_with_the_crashed_containers_previous_logs(
    kubeconfig_for: dict[str, str], shop: SimulatedControllers
) -> None:
    ran = live_process(kubeconfig_for, "-o", "json")
    assert ran.code == 1, ran.err
    document = ran.json()
    assert [d["target"]["name"] for d in document["diagnoses"]] == ["checkout"]
    diagnosis = document["diagnoses"][0]
    root = diagnosis["findings"][0]
    assert root["code"] == "CrashLoopBackOff.DependencyUnreachable"
    assert any("panic: cannot reach the orders database" in line for line in root["evidence"])
    assert (diagnosis["podsAffected"], diagnosis["podsTotal"]) == (2, 2)
    assert diagnosis["rollout"]["changes"] == [
        "container app image: registry.example.com/shop/checkout:2.13.4 -> registry.example.com/shop/checkout:2.14.0"
    ]
    assert document["podsChecked"] == 3
    assert ran.err == ""


def test_kind_name_with_kubectl_short_names_text_and_table(
    kubeconfig_for: dict[str, str], shop: SimulatedControllers
) -> None:
    for spelling in ("deploy/checkout", "deployment/checkout", "deployments.apps/checkout"):
        ran = live(kubeconfig_for, spelling, "-n", shop.ns)
        assert ran.code == 1, ran.err
        assert f"Deployment {shop.ns}/checkout  [critical]" in ran.out
        assert "CrashLoopBackOff.DependencyUnreachable (root cause)" in ran.out
        assert "panic: cannot reach the orders database" in ran.out
    healthy = live(kubeconfig_for, "deploy/web")
    assert (healthy.code, healthy.out) == (
        0,
        f"Deployment {shop.ns}/web is healthy: 1/1 replicas ready.\n",
    )
    table = live(kubeconfig_for, "-o", "table")
    assert table.code == 1, table.err
    header, row = table.out.splitlines()
    assert header.split() == ["NAMESPACE", "KIND", "NAME", "SEVERITY", "ROOT-CAUSE", "PODS", "AGE"]
    assert row.split()[:6] == [
        shop.ns,
        "Deployment",
        "checkout",
        "critical",
        "CrashLoopBackOff.DependencyUnreachable",
        "2/2",
    ]


def test_all_namespaces_and_another_context(
    kubeconfig_for: dict[str, str], shop: SimulatedControllers
) -> None:
    everywhere = live(kubeconfig_for, "-A", "-o", "json")
    assert everywhere.code == 1, everywhere.err
    found = {
        (d["target"]["namespace"], d["target"]["name"]) for d in everywhere.json()["diagnoses"]
    }
    assert (shop.ns, "checkout") in found
    # a context without a namespace means "default", exactly as kubectl reads it
    default = live(kubeconfig_for, "--context", "elsewhere")
    assert default.code == 2
    assert "nothing to diagnose in namespace 'default'" in default.err
    named = live(kubeconfig_for, "--context", "elsewhere", "-n", shop.ns, "-o", "json")
    assert named.code == 1, named.err
    unknown = live(kubeconfig_for, "--context", "nope")
    assert unknown.code == 2
    assert "no context 'nope' in the kubeconfig (contexts: shop, elsewhere)" in unknown.err


def test_a_forbidden_list_names_the_verb_and_the_resource(
    apiserver: RunningApiServer, kubeconfig_for: dict[str, str], shop: SimulatedControllers
) -> None:
    apiserver.emulator.denied[USER_TOKEN] = {("list", "pods")}
    try:
        ran = live(kubeconfig_for)
    finally:
        apiserver.emulator.denied.pop(USER_TOKEN)
    assert (ran.code, ran.out) == (2, "")
    assert ran.err.count("\n") == 1, ran.err
    assert ran.err.startswith(
        f"highpeaks-agent: error: {apiserver.url} refused the read (forbidden): "
        f"not allowed to list pods in namespace {shop.ns}: "
    )
    assert 'User "jane" cannot list resource "pods"' in ran.err


def test_logs_the_user_may_not_read_are_left_out_with_a_warning(
    apiserver: RunningApiServer, kubeconfig_for: dict[str, str], shop: SimulatedControllers
) -> None:
    apiserver.emulator.denied[USER_TOKEN] = {("get", "pods/log")}
    try:
        ran = live(kubeconfig_for, "deploy/checkout", "-o", "json")
    finally:
        apiserver.emulator.denied.pop(USER_TOKEN)
    assert ran.code == 1, ran.err
    evidence = ran.json()["diagnoses"][0]["findings"][0]["evidence"]
    assert not any("panic" in line for line in evidence)
    assert f"not allowed to get pods/log in namespace {shop.ns}: diagnosed without it" in ran.err


def test_an_unreachable_server_is_one_line_naming_it(tmp_path: Path) -> None:
    server = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    path = write_kubeconfig(tmp_path / "config", server, "shop")
    ran = live_process({"KUBECONFIG": str(path)})
    assert (ran.code, ran.out) == (2, "")
    assert ran.err == (
        f"highpeaks-agent: error: cannot reach the Kubernetes API server at {server}: "
        "connection refused\n"
    )


def test_a_missing_target_an_empty_namespace_and_no_kubeconfig(
    kubeconfig_for: dict[str, str], shop: SimulatedControllers, tmp_path: Path
) -> None:
    missing = live(kubeconfig_for, "sts/db")
    assert (missing.code, missing.err) == (
        2,
        f"highpeaks-agent: error: StatefulSet {shop.ns}/db not found\n",
    )
    empty = live(kubeconfig_for, "-n", "nosuch")
    assert empty.code == 2
    assert "nothing to diagnose in namespace 'nosuch'" in empty.err
    nothing = live({"KUBECONFIG": str(tmp_path / "absent")})
    assert nothing.code == 2
    assert nothing.err.startswith(f"highpeaks-agent: error: kubeconfig {tmp_path / 'absent'}: ")
    assert nothing.err.count("\n") == 1


def test_a_cronjob_by_its_short_name_is_diagnosed_from_its_most_recent_job(
    kubeconfig_for: dict[str, str], shop: SimulatedControllers
) -> None:
    nightly = shop.cronjob("nightly", "registry.example.com/shop/report:3.1.0")
    job = shop.job("nightly-29001", "registry.example.com/shop/report:3.1.0", cronjob=nightly)
    shop.job_pod_failed(job, "ERROR export failed: disk full\n", exit_code=2)
    shop.job_failed(
        "nightly-29001",
        failed=1,
        reason="BackoffLimitExceeded",
        message="Job has reached the specified backoff limit",
    )
    for spelling in ("cj/nightly", "cronjob/nightly", "cronjobs.batch/nightly"):
        ran = live(kubeconfig_for, spelling, "-o", "json")
        assert ran.code == 1, ran.err
        (diagnosis,) = ran.json()["diagnoses"]
        assert diagnosis["target"] == {"kind": "CronJob", "namespace": shop.ns, "name": "nightly"}
        assert diagnosis["findings"][0]["code"] == "JobFailed.BackoffLimitExceeded"
        assert "most recent Job is nightly-29001" in diagnosis["summary"]


def test_inside_a_pod_without_a_kubeconfig_the_service_account_reads_over_https(
    apiserver: RunningApiServer,
    shop: SimulatedControllers,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """kubectl's in-cluster fallback end to end: no KUBECONFIG, no ~/.kube/config, the
    service's address in the environment, the token, CA and namespace in the service-account
    directory; the emulator is reached through TLS checked against that CA."""
    account = tmp_path / "serviceaccount"
    account.mkdir()
    certificate = loopback_certificate(account)
    (account / "token").write_text(POD_TOKEN)
    (account / "namespace").write_text(shop.ns)
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(account / "token"))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(certificate.ca))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    apiserver.emulator.tokens[POD_TOKEN] = {
        "username": f"system:serviceaccount:{shop.ns}:default",
        "groups": ["system:serviceaccounts"],
    }
    with tls_front(apiserver.url, certificate) as port:
        monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(port))
        ran = live({}, "-o", "json")
        apiserver.emulator.denied[POD_TOKEN] = {("get", "pods/log")}  # the token is what is sent
        try:
            without_logs = live({}, "deploy/checkout")
        finally:
            apiserver.emulator.denied.pop(POD_TOKEN)
        other = tmp_path / "other"
        other.mkdir()
        monkeypatch.setattr(
            incluster_config, "SERVICE_CERT_FILENAME", str(loopback_certificate(other).ca)
        )
        untrusted = live({})  # the mounted CA is the one the server's certificate is checked by
    assert ran.code == 1, ran.err
    (diagnosis,) = ran.json()["diagnoses"]
    assert diagnosis["target"]["namespace"] == shop.ns  # the service account's namespace
    assert any(
        "panic: cannot reach the orders database" in e for e in diagnosis["findings"][0]["evidence"]
    )
    assert ran.err == ""
    assert without_logs.code == 1, without_logs.err
    assert f"not allowed to get pods/log in namespace {shop.ns}: diagnosed without it" in (
        without_logs.err
    )
    assert (untrusted.code, untrusted.out) == (2, "")
    assert untrusted.err.startswith(
        f"highpeaks-agent: error: cannot reach the Kubernetes API server at https://127.0.0.1:{port}: "
    )
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.err
    assert untrusted.err.count("\n") == 1
