"""The operator in a real cluster: a broken Deployment, AgentTasks, kubectl's own views."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.diagnose_cli import validate_output

from .conftest import KUBECONFIG, eventually, kubectl, kubectl_json, kubectl_run

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
NS = "shop"


@pytest.fixture(scope="module", autouse=True)
def broken_checkout() -> Any:
    kubectl("apply", "-f", str(ROOT / "examples" / "broken-deployment.yaml"))
    yield
    kubectl("delete", "namespace", NS, "--wait=false", check=False)


def incident_notes() -> list[Any]:
    events = kubectl_json("-n", NS, "get", "events", "--field-selector", "reason=IncidentNote")
    return [e for e in events["items"] if e["involvedObject"]["name"] == "checkout"]


def test_crash_looping_deployment_gets_one_incident() -> None:
    task = eventually(
        lambda: next(
            t
            for t in kubectl_json("-n", NS, "get", "agt", "-l", "devops.highpeaks.io/trigger=auto")[
                "items"
            ]
            if t.get("status", {}).get("phase") == "Succeeded"
        ),
        what="the incident task",
    )
    assert task["metadata"]["name"] == "incident-checkout-r1"
    assert task["status"]["rootCause"] in ("CrashLoopBackOff", "ContainerExitsImmediately")
    (note,) = eventually(incident_notes, what="the IncidentNote")
    assert note["type"] == "Warning"
    assert "IncidentNote" in kubectl("-n", NS, "describe", "deploy", "checkout")
    time.sleep(60)  # a few more restarts: still one note
    (again,) = incident_notes()
    assert again["metadata"]["name"] == note["metadata"]["name"] and again.get("count", 1) == 1


def test_printer_columns_and_describe() -> None:
    kubectl("apply", "-f", str(ROOT / "examples" / "agenttasks" / "why-checkout.yaml"))
    eventually(
        lambda: (
            kubectl_json("-n", NS, "get", "agt", "why-checkout")["status"]["phase"] == "Succeeded"
        ),
        what="why-checkout to finish",
    )
    table = kubectl("-n", NS, "get", "agt", "why-checkout")
    header = table.splitlines()[0].split()
    assert header[:6] == ["NAME", "TARGET", "PHASE", "SEVERITY", "ROOT", "CAUSE"]
    assert "checkout" in table and "Succeeded" in table
    described = kubectl("-n", NS, "describe", "agt", "why-checkout")
    assert "Root Cause" in described and "Diagnosed" in described


def test_invalid_task_is_rejected_by_the_schema() -> None:
    bad = (
        "apiVersion: devops.highpeaks.io/v1alpha1\nkind: AgentTask\nmetadata: {name: bad, namespace: shop}\n"
        "spec: {target: {kind: CronTab, name: x}}\n"
    )
    result = kubectl_run("apply", "-f", "-", stdin=bad)
    assert result.returncode != 0 and "spec.target.kind" in result.stderr
    assert "agenttask.devops.highpeaks.io/bad" not in kubectl("-n", NS, "get", "agt", "-o", "name")


def test_the_kubectl_plugin_diagnoses_the_broken_deployment_live() -> None:
    """``kubectl highpeaks diagnose --live``: kubectl finds the plugin on PATH and passes it the
    arguments; the user's kubeconfig (KUBECONFIG, as kubectl passes it on) reads the cluster."""
    env = {
        **os.environ,
        "KUBECONFIG": KUBECONFIG,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = ["kubectl", "highpeaks", "diagnose", "--live", "-n", NS, "deploy/checkout"]

    def diagnosed() -> Any:
        ran = subprocess.run(
            [*command, "-o", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert ran.returncode == 1, ran.stderr
        return json.loads(ran.stdout)

    document = eventually(diagnosed, what="the live diagnosis to find the crash loop")
    validate_output(document)
    (diagnosis,) = document["diagnoses"]
    assert diagnosis["target"] == {"kind": "Deployment", "namespace": NS, "name": "checkout"}
    assert diagnosis["findings"][0]["code"] in ("CrashLoopBackOff", "ContainerExitsImmediately")
    table = subprocess.run(
        ["kubectl", "highpeaks", "diagnose", "--live", "-A", "-o", "table"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert table.returncode == 1, table.stderr
    assert table.stdout.splitlines()[0].split() == [
        "NAMESPACE",
        "KIND",
        "NAME",
        "SEVERITY",
        "ROOT-CAUSE",
        "PODS",
        "AGE",
    ]
    assert any(
        row.split()[:3] == [NS, "Deployment", "checkout"] for row in table.stdout.splitlines()
    )
