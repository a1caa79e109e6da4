"""A ConfigMap deleted by mistake, put back, deleted again: one incident on one revision that
resolves, comes back and resolves again, on the real API server. Its task's Events aggregate
as kubelet's do (one Event, its count raised), never a second Event for the same thing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.cluster import TestCluster
from tests.support.operator_process import OperatorProcess

from .conftest import deployment, eventually

pytestmark = pytest.mark.cluster
TASK = "incident-checkout-r1"


def config_map(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "checkout-config", "namespace": namespace},
        "data": {"PAYMENTS_URL": "http://payments:8080"},
    }


def condition(kube: TestCluster, namespace: str, kind: str) -> Any:
    task = kube.kubectl_json("-n", namespace, "get", "agt", TASK)
    return next(c for c in task["status"]["conditions"] if c["type"] == kind)


def task_events(kube: TestCluster, namespace: str, reason: str) -> list[Any]:
    events = kube.kubectl_json("-n", namespace, "get", "events")["items"]
    return [e for e in events if e["involvedObject"]["name"] == TASK and e["reason"] == reason]


def replace_pods(kube: TestCluster, namespace: str) -> None:
    kube.kubectl("-n", namespace, "delete", "pods", "-l", "app=checkout", "--wait=true")


def test_an_incident_that_comes_back_is_reopened_and_its_events_aggregate(
    installed: TestCluster, operator: OperatorProcess, namespace: str
) -> None:
    kube = installed
    app = deployment("checkout", "registry.test/shop/checkout:3.1")
    app["spec"]["template"]["spec"]["containers"][0]["envFrom"] = [
        {"configMapRef": {"name": "checkout-config"}}
    ]
    kube.apply({**app, "metadata": {"name": "checkout", "namespace": namespace}})
    eventually(
        lambda: condition(kube, namespace, "Diagnosed")["status"] == "True",
        what="the incident diagnosed",
    )
    task = kube.kubectl_json("-n", namespace, "get", "agt", TASK)
    assert task["status"]["rootCause"] == "ConfigError.ConfigMapNotFound", task["status"]

    for round_ in (1, 2):
        kube.apply(config_map(namespace))
        if round_ == 2:
            replace_pods(kube, namespace)
        eventually(
            lambda: condition(kube, namespace, "Resolved")["status"] == "True",
            what=f"resolved, round {round_}",
        )
        if round_ == 1:  # deleted by mistake again; the pods are replaced and cannot start
            kube.kubectl("-n", namespace, "delete", "configmap", "checkout-config")
            replace_pods(kube, namespace)
            eventually(
                lambda: condition(kube, namespace, "Resolved")["status"] == "False",
                what="the incident reopened",
            )

    (resolved,) = task_events(kube, namespace, "Resolved")
    assert resolved.get("count", 1) == 2, resolved
    notes = [
        e
        for e in kube.kubectl_json("-n", namespace, "get", "events")["items"]
        if e["reason"] == "IncidentNote"
    ]
    assert len(notes) == 1 and notes[0].get("count", 1) == 1, notes
