"""A real Kubernetes control plane on loopback: etcd, kube-apiserver, controller-manager, scheduler.

The binaries come from ``tools/controlplane`` (one Go binary built from the published
Kubernetes modules, cached outside the repository by ``make cluster``). Everything runs from
a temporary directory on random loopback ports with TLS everywhere, RBAC and Node
authorization, PodSecurity and ValidatingAdmissionPolicy admission, and service-account keys
made at start. There is no kubelet: :mod:`tests.support.cluster.kubelet` plays it.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from tests.support.cluster.pki import CertificateAuthority, KeyPair, service_account_keys

ROOT = Path(__file__).resolve().parents[3]
SERVICE_CIDR = "10.96.0.0/16"

#: Test users authenticated by static bearer tokens; their rights come from the RBAC
#: bindings each test makes, so a user starts with none beyond discovery.
TEST_USERS = ("alice", "bob", "carol")

#: Who asked for what, and the answer's code: the operator's and the test users' requests only
#: (the components' own traffic would be most of the log and says nothing about the agent).
AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived"],
    "rules": [
        # What the operator wrote into task status and what the server kept: nothing pruned.
        {
            "level": "RequestResponse",
            "userGroups": ["system:serviceaccounts:highpeaks-system"],
            "verbs": ["patch", "update"],
            "resources": [{"group": "devops.highpeaks.io", "resources": ["agenttasks/status"]}],
        },
        {
            "level": "Metadata",
            "userGroups": ["system:serviceaccounts:highpeaks-system", "test-users"],
        },
        {"level": "None"},
    ],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def binaries() -> Path:
    """The directory of the control-plane binary, built on first use (then cached)."""
    given = os.environ.get("HIGHPEAKS_CONTROLPLANE_DIR")
    if given:
        return Path(given)
    result = subprocess.run(
        [str(ROOT / "tools" / "build-go-tool.sh"), "tools/controlplane", "kubectl"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"building the control plane failed:\n{result.stderr[-4000:]}")
    return Path(result.stdout.strip())


def tls_context(ca: Path, client: KeyPair) -> ssl.SSLContext:
    """Trust the test CA and present ``client``'s certificate."""
    context = ssl.create_default_context(cafile=str(ca))
    context.load_cert_chain(client.cert, client.key)
    return context


def write_kubeconfig(
    path: Path,
    server: str,
    ca: Path,
    *,
    user: str,
    client: KeyPair | None = None,
    token: str | None = None,
    namespace: str = "default",
) -> Path:
    credentials: dict[str, str] = {}
    if client is not None:
        credentials = {"client-certificate": str(client.cert), "client-key": str(client.key)}
    if token is not None:
        credentials = {"token": token}
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "test", "cluster": {"server": server, "certificate-authority": str(ca)}}
        ],
        "users": [{"name": user, "user": credentials}],
        "contexts": [
            {"name": user, "context": {"cluster": "test", "user": user, "namespace": namespace}}
        ],
        "current-context": user,
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path


@dataclass
class _Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path


@dataclass
class ControlPlane:
    """Start with :meth:`start`, stop with :meth:`stop`; every process it started is ended."""

    directory: Path
    bin_dir: Path = field(default_factory=binaries)
    processes: list[_Process] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.pki = self.directory / "pki"
        self.pki.mkdir(parents=True, exist_ok=True)
        self.ca = CertificateAuthority(self.pki)
        self.apiserver_port = free_port()
        self.kubelet_port = free_port()
        self.url = f"https://127.0.0.1:{self.apiserver_port}"
        self.tokens = {user: f"{user}-{os.urandom(12).hex()}" for user in TEST_USERS}
        self.admin_kubeconfig = self.directory / "admin.kubeconfig"
        self.audit_log = self.directory / "audit.log"

    @property
    def binary(self) -> Path:
        return self.bin_dir / "controlplane"

    @property
    def kubectl_path(self) -> Path:
        return self.bin_dir / "kubectl"

    # --- lifecycle ---------------------------------------------------------------------

    def start(self, timeout: float = 180) -> None:
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        etcd_url = self._start_etcd()
        self._wait_http(etcd_url + "/health", deadline, "etcd", client=self._etcd_client)
        self._start_apiserver(etcd_url)
        self._wait_http(self.url + "/readyz", deadline, "kube-apiserver", client=self._admin_client)
        self._start_controller_manager()
        self._start_scheduler()

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait(timeout=15)
        self.processes.clear()

    def logs(self, name: str, chars: int = 8000) -> str:
        for process in self.processes:
            if process.name == name:
                return process.log.read_text(errors="replace")[-chars:]
        return ""

    def check_running(self) -> None:
        """Raise with the component's log when one of the processes has died."""
        for process in self.processes:
            if process.popen.poll() is not None:
                raise RuntimeError(f"{process.name} exited:\n{self.logs(process.name)}")

    # --- the components ----------------------------------------------------------------

    def _spawn(self, name: str, *args: str) -> None:
        log = self.directory / f"{name}.log"
        popen = subprocess.Popen(
            [str(self.binary), name, *args],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            cwd=self.directory,
            start_new_session=True,
        )
        self.processes.append(_Process(name, popen, log))

    def _start_etcd(self) -> str:
        client_port, peer_port = free_port(), free_port()
        self.etcd_pair = self.ca.issue(
            "etcd", "etcd", hosts=("127.0.0.1", "localhost"), server=True
        )
        self.etcd_client = self.ca.issue("etcd-client", "kube-apiserver-etcd-client")
        client_url = f"https://127.0.0.1:{client_port}"
        peer_url = f"http://127.0.0.1:{peer_port}"
        self._spawn(
            "etcd",
            "--name=default",
            f"--data-dir={self.directory / 'etcd'}",
            f"--listen-client-urls={client_url}",
            f"--advertise-client-urls={client_url}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster=default={peer_url}",
            f"--cert-file={self.etcd_pair.cert}",
            f"--key-file={self.etcd_pair.key}",
            f"--trusted-ca-file={self.ca.cert}",
            "--client-cert-auth",
            # A test cluster lives for one session: durability costs fsyncs and buys nothing.
            "--unsafe-no-fsync",
            "--log-level=warn",
        )
        return client_url

    def _start_apiserver(self, etcd_url: str) -> None:
        serving = self.ca.issue(
            "apiserver",
            "kube-apiserver",
            hosts=(
                "127.0.0.1",
                "localhost",
                "10.96.0.1",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
            ),
            server=True,
        )
        kubelet_client = self.ca.issue(
            "apiserver-kubelet-client",
            "kube-apiserver-kubelet-client",
            groups=("kubeadm:cluster-admins",),
        )
        self.admin = self.ca.issue("admin", "test-admin", groups=("system:masters",))
        self.sa_keys = service_account_keys(self.pki)
        tokens = self.directory / "tokens.csv"
        tokens.write_text(
            "".join(
                f'{token},{user},uid-{user},"test-users"\n' for user, token in self.tokens.items()
            )
        )
        write_kubeconfig(
            self.admin_kubeconfig, self.url, self.ca.cert, user="admin", client=self.admin
        )
        policy = self.directory / "audit-policy.yaml"
        policy.write_text(yaml.safe_dump(AUDIT_POLICY))
        self._spawn(
            "kube-apiserver",
            f"--etcd-servers={etcd_url}",
            f"--etcd-cafile={self.ca.cert}",
            f"--etcd-certfile={self.etcd_client.cert}",
            f"--etcd-keyfile={self.etcd_client.key}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={self.apiserver_port}",
            f"--tls-cert-file={serving.cert}",
            f"--tls-private-key-file={serving.key}",
            f"--client-ca-file={self.ca.cert}",
            f"--token-auth-file={tokens}",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            f"--service-account-key-file={self.sa_keys.cert}",
            f"--service-account-signing-key-file={self.sa_keys.key}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            f"--kubelet-client-certificate={kubelet_client.cert}",
            f"--kubelet-client-key={kubelet_client.key}",
            f"--kubelet-certificate-authority={self.ca.cert}",
            "--kubelet-preferred-address-types=InternalIP",
            # The built-in `kubernetes` Endpoints would name 127.0.0.1, which Endpoints refuse.
            "--endpoint-reconciler-type=none",
            f"--audit-policy-file={policy}",
            f"--audit-log-path={self.audit_log}",
            "--audit-log-format=json",
            "--profiling=false",
            "--v=1",
        )

    def audit(self, username: str) -> list[dict[str, Any]]:
        """Every request ``username`` made so far, as the API server's audit log records it."""
        if not self.audit_log.exists():
            return []
        entries = (json.loads(line) for line in self.audit_log.read_text().splitlines() if line)
        return [e for e in entries if e.get("user", {}).get("username") == username]

    def _start_component(self, name: str, user: str, *flags: str) -> None:
        """A controller-manager or scheduler: its own client certificate, one replica (no
        leader election), its secure port on loopback."""
        pair = self.ca.issue(name, user)
        kubeconfig = write_kubeconfig(
            self.directory / f"{name}.kubeconfig", self.url, self.ca.cert, user=user, client=pair
        )
        self._spawn(
            name,
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={free_port()}",
            "--leader-elect=false",
            "--v=1",
            *flags,
        )

    def _start_controller_manager(self) -> None:
        self._start_component(
            "kube-controller-manager",
            "system:kube-controller-manager",
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={self.sa_keys.key}",
            f"--root-ca-file={self.ca.cert}",
            # Fewer and shorter waits than a production cluster: tests count in seconds.
            "--node-monitor-period=2s",
        )

    def _start_scheduler(self) -> None:
        self._start_component("kube-scheduler", "system:kube-scheduler")

    # --- readiness -----------------------------------------------------------------------

    def _etcd_client(self) -> httpx.Client:
        return httpx.Client(verify=tls_context(self.ca.cert, self.etcd_client))

    def _admin_client(self) -> httpx.Client:
        return httpx.Client(verify=tls_context(self.ca.cert, self.admin))

    def admin_http(self) -> httpx.Client:
        """An HTTP client authenticated as the cluster's administrator."""
        return httpx.Client(
            base_url=self.url, verify=tls_context(self.ca.cert, self.admin), timeout=30
        )

    def _wait_http(self, url: str, deadline: float, what: str, *, client: object) -> None:
        make = client
        assert callable(make)
        with make() as http:
            last = ""
            while time.monotonic() < deadline:
                self.check_running()
                try:
                    response = http.get(url, timeout=2)
                    if response.status_code == 200:
                        return
                    last = f"{response.status_code} {response.text[:500]}"
                except httpx.HTTPError as exc:
                    last = repr(exc)
                time.sleep(0.3)
        raise RuntimeError(f"{what} not ready: {last}\n{self.logs(what)}")
