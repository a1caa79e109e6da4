"""A real Kubernetes control plane for the cluster test tier, with kubelet played by the tests."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.cluster.controlplane import ROOT, ControlPlane, write_kubeconfig
from tests.support.cluster.kubelet import KubeletPlayer

__all__ = ["ROOT", "TestCluster"]


class TestCluster:
    """The control plane, its played kubelet, and the ways a test talks to them."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.control_plane = ControlPlane(directory)
        self.kubelet: KubeletPlayer | None = None
        self.admin_kubeconfig = self.control_plane.admin_kubeconfig

    def start(self) -> None:
        self.control_plane.start()
        self.http = self.control_plane.admin_http()
        self.kubelet = KubeletPlayer(self.url, self.http, self.control_plane.ca)
        self.kubelet.start()
        self._wait_until_usable()

    def stop(self) -> None:
        if self.kubelet is not None:
            self.kubelet.stop()
        self.control_plane.stop()

    @property
    def url(self) -> str:
        return self.control_plane.url

    @property
    def ca(self) -> Path:
        return self.control_plane.ca.cert

    def _wait_until_usable(self, timeout: float = 120) -> None:
        """Nodes schedulable (the not-ready taint gone) and the default ServiceAccount made."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            self.control_plane.check_running()
            nodes = self.http.get("/api/v1/nodes").json().get("items", [])
            tainted = [n["metadata"]["name"] for n in nodes if n["spec"].get("taints")]
            account = self.http.get("/api/v1/namespaces/default/serviceaccounts/default")
            if nodes and not tainted and account.status_code == 200:
                return
            last = f"nodes tainted: {tainted}, default ServiceAccount: {account.status_code}"
            time.sleep(0.5)
        raise RuntimeError(
            f"cluster not usable: {last}\n{self.control_plane.logs('kube-controller-manager')}"
        )

    # --- kubectl -------------------------------------------------------------------------

    def kubectl_run(
        self, *args: str, kubeconfig: Path | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                str(self.control_plane.kubectl_path),
                "--kubeconfig",
                str(kubeconfig or self.admin_kubeconfig),
                *args,
            ],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=ROOT,
        )

    def kubectl(self, *args: str, kubeconfig: Path | None = None, stdin: str | None = None) -> str:
        result = self.kubectl_run(*args, kubeconfig=kubeconfig, stdin=stdin)
        if result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr}"
            )
        return result.stdout

    def kubectl_json(self, *args: str, kubeconfig: Path | None = None) -> Any:
        return json.loads(self.kubectl(*args, "-o", "json", kubeconfig=kubeconfig))

    # --- identities ----------------------------------------------------------------------

    def user_kubeconfig(self, user: str, namespace: str = "default") -> Path:
        """A kubeconfig for one of the static test users (alice, bob, carol)."""
        path = self.directory / f"{user}-{namespace}.kubeconfig"
        return write_kubeconfig(
            path,
            self.url,
            self.ca,
            user=user,
            token=self.control_plane.tokens[user],
            namespace=namespace,
        )

    def user_token(self, user: str) -> str:
        return self.control_plane.tokens[user]

    def service_account_token(self, namespace: str, name: str, seconds: int = 3600) -> str:
        """A token from the TokenRequest API, as a pod's projected token would be."""
        response = self.http.post(
            f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
            json={
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenRequest",
                "spec": {"expirationSeconds": seconds},
            },
        )
        response.raise_for_status()
        token: str = response.json()["status"]["token"]
        return token

    def service_account_kubeconfig(self, namespace: str, name: str) -> Path:
        path = self.directory / f"sa-{namespace}-{name}.kubeconfig"
        token = self.service_account_token(namespace, name)
        return write_kubeconfig(
            path, self.url, self.ca, user=f"{namespace}-{name}", token=token, namespace=namespace
        )

    def namespace(self, name: str, labels: dict[str, str] | None = None) -> str:
        body = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": labels or {}},
        }
        response = self.http.post("/api/v1/namespaces", json=body)
        if response.status_code != 409:
            response.raise_for_status()
        return name

    def apply(
        self, manifest: dict[str, Any] | list[dict[str, Any]], kubeconfig: Path | None = None
    ) -> str:
        documents = manifest if isinstance(manifest, list) else [manifest]
        return self.kubectl(
            "apply",
            "-f",
            "-",
            kubeconfig=kubeconfig,
            stdin="\n---\n".join(json.dumps(d) for d in documents),
        )

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)
