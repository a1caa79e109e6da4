"""Which cluster ``diagnose --live`` connects to: the kubeconfig, else the pod's service account.

With no kubeconfig file at all, kubectl uses the in-cluster configuration when the pod's
environment has one; these tests build that environment in a temporary directory (the client's
token and CA paths pointed there, ``HOME`` somewhere without ``.kube/config``) and check the
client ``connect`` returns, without sending a request.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from kubernetes.config import incluster_config

from highpeaks_agent.terminal.cluster import (
    CONNECT_RETRIES,
    Cluster,
    KubeconfigError,
    _ObservedRest,
    connect,
)
from tests.support.diagnose_cli import run_in_process

POD_TOKEN = "pod-token"
#: A placeholder: the client only checks the file is not empty, and no request is sent here.
CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ``HOME`` without ``~/.kube/config``, and no ``KUBECONFIG``."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    return home


@pytest.fixture
def service_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, home: Path) -> Path:
    """What a pod has: the service's address in the environment, the token, CA and namespace."""
    directory = tmp_path / "serviceaccount"
    directory.mkdir()
    (directory / "token").write_text(POD_TOKEN)
    (directory / "ca.crt").write_text(CA_PEM)
    (directory / "namespace").write_text("shop")
    monkeypatch.setattr(incluster_config, "SERVICE_TOKEN_FILENAME", str(directory / "token"))
    monkeypatch.setattr(incluster_config, "SERVICE_CERT_FILENAME", str(directory / "ca.crt"))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    monkeypatch.delenv("POD_NAMESPACE", raising=False)
    return directory


def connected(context: str | None = None) -> Cluster:
    cluster = connect(context)
    cluster.close()
    return cluster


def write_kubeconfig(path: Path, server: str, namespace: str) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": "user-token"}}],
        "contexts": [
            {"name": "x", "context": {"cluster": "c", "user": "u", "namespace": namespace}}
        ],
        "current-context": "x",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config))
    return path


def test_without_a_kubeconfig_the_pods_service_account_reads_its_namespace(
    service_account: Path,
) -> None:
    cluster = connected()
    assert (cluster.server, cluster.namespace) == ("https://10.96.0.1:443", "shop")
    configuration = cluster.api_client.configuration
    assert configuration.ssl_ca_cert == str(service_account / "ca.crt")
    assert configuration.auth_settings()["BearerToken"]["value"] == f"bearer {POD_TOKEN}"
    assert configuration.retries == CONNECT_RETRIES
    assert isinstance(cluster.api_client.rest_client, _ObservedRest)  # deadlines and refusals


@pytest.mark.parametrize(
    ("pod_namespace", "namespace_file", "expected"),
    [
        ("payments", "shop", "payments"),  # POD_NAMESPACE first, as kubectl reads it
        ("", "shop\n", "shop"),
        ("", None, "default"),
        ("", "  \n", "default"),
    ],
)
def test_the_in_cluster_namespace_is_pod_namespace_else_the_service_accounts_else_default(
    service_account: Path,
    monkeypatch: pytest.MonkeyPatch,
    pod_namespace: str,
    namespace_file: str | None,
    expected: str,
) -> None:
    monkeypatch.setenv("POD_NAMESPACE", pod_namespace)
    if namespace_file is None:
        (service_account / "namespace").unlink()
    else:
        (service_account / "namespace").write_text(namespace_file)
    assert connected().namespace == expected


def test_an_ipv6_service_host_is_bracketed(
    service_account: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1")
    assert connected().server == "https://[fd00:10:96::1]:443"


def test_a_context_is_refused_in_one_line_when_there_is_no_kubeconfig(
    service_account: Path,
) -> None:
    with pytest.raises(KubeconfigError) as refused:
        connect("prod")
    assert str(refused.value) == (
        "no kubeconfig at ~/.kube/config (KUBECONFIG unset), so no context 'prod' to use"
    )
    ran = run_in_process(["--live", "--context", "prod"])
    assert (ran.code, ran.out) == (2, "")
    assert ran.err == f"highpeaks-agent: error: {refused.value}\n"


def test_neither_a_kubeconfig_nor_a_cluster_names_both_in_one_line(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    ran = run_in_process(["--live"])
    assert (ran.code, ran.out) == (2, "")
    assert ran.err == (
        "highpeaks-agent: error: no kubeconfig at ~/.kube/config (KUBECONFIG unset) "
        "and not running in a cluster (KUBERNETES_SERVICE_HOST unset)\n"
    )


def test_what_is_missing_of_the_pods_environment_is_named(
    service_account: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", "")  # empty is unset, for kubectl too
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "")
    with pytest.raises(
        KubeconfigError, match=r"\(KUBECONFIG empty\) .*\(KUBERNETES_SERVICE_PORT empty\)$"
    ):
        connect(None)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    (service_account / "token").unlink()
    with pytest.raises(KubeconfigError) as absent:
        connect(None)
    assert str(absent.value).endswith(
        f"not running in a cluster (no service-account token at {service_account / 'token'})"
    )


def test_a_service_account_without_its_ca_is_one_line(service_account: Path) -> None:
    (service_account / "ca.crt").unlink()
    with pytest.raises(KubeconfigError) as broken:
        connect(None)
    assert (
        str(broken.value)
        == "in-cluster service account: Service certification file does not exist."
    )


def test_a_kubeconfig_wins_over_the_pods_service_account(
    service_account: Path, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_kubeconfig(home / ".kube" / "config", "https://home.example:6443", "from-home")
    cluster = connected()
    assert (cluster.server, cluster.namespace) == ("https://home.example:6443", "from-home")
    assert cluster.api_client.configuration.api_key["BearerToken"] == "Bearer user-token"
    named = write_kubeconfig(tmp_path / "named", "https://named.example:6443", "from-named")
    monkeypatch.setenv("KUBECONFIG", str(named))
    cluster = connected()
    assert (cluster.server, cluster.namespace) == ("https://named.example:6443", "from-named")


def test_a_broken_kubeconfig_is_an_error_not_a_reason_to_fall_back(
    service_account: Path, home: Path
) -> None:
    (home / ".kube").mkdir()
    (home / ".kube" / "config").write_text("apiVersion: v1\nkind: Config\ncurrent-context: gone\n")
    with pytest.raises(KubeconfigError) as broken:
        connect(None)
    assert str(broken.value).startswith("kubeconfig ~/.kube/config: ")
    assert "\n" not in str(broken.value)


def test_a_kubeconfig_that_is_not_yaml_is_one_line_naming_where(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("clusters: [unclosed\n")
    ran = run_in_process(["--live"], {"KUBECONFIG": str(path)})
    assert (ran.code, ran.out) == (2, "")
    assert ran.err == (
        f"highpeaks-agent: error: kubeconfig {path}: malformed YAML at line 2 column 1: "
        "expected ',' or ']', but got '<stream end>'\n"
    )
