"""`highpeaks-agent diagnose --live` with a test user's kubeconfig, against the real API server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.cluster import ROOT, TestCluster

from .conftest import deployment, eventually
from .test_assist_rights import grant

pytestmark = pytest.mark.cluster


def live(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "highpeaks_agent", "diagnose", "--live", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
    )


def test_live_diagnosis_with_a_users_kubeconfig(installed: TestCluster, namespace: str) -> None:
    kube = installed
    script = "echo 'loading /etc/orders/config.yaml'; echo 'yaml: line 12: did not find expected key'; exit 3"
    app = deployment("orders", "registry.test/shop/orders:3.0", command=["sh", "-c", script])
    kube.apply({**app, "metadata": {"name": "orders", "namespace": namespace}})
    grant(kube, namespace, "alice", {"kind": "ClusterRole", "name": "view"})
    alice = kube.user_kubeconfig("alice", namespace)

    def failing() -> Any:
        run = live(alice, "-o", "json")
        assert run.returncode == 1, run.stderr or run.stdout
        return json.loads(run.stdout)

    report = eventually(failing, what="the crash loop seen by --live")
    text = json.dumps(report)
    assert "CrashLoopBackOff" in text and "did not find expected key" in text
    table = live(alice, "-o", "table", "deploy/orders")
    assert table.returncode == 1 and "orders" in table.stdout and "CrashLoopBackOff" in table.stdout

    # bob may read nothing in the namespace: exit 2, one line naming what was refused.
    refused = live(kube.user_kubeconfig("bob", namespace))
    assert refused.returncode == 2, refused.stdout
    assert "forbidden" in refused.stderr and 'User "bob" cannot list' in refused.stderr
