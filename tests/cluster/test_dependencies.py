"""What the real controllers and scheduler show behind a failure: a Service's EndpointSlices
(the EndpointSlice controller), an unbound PersistentVolumeClaim (the volume binder and the
scheduler's own message)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.cluster import TestCluster
from tests.support.operator_process import OperatorProcess

from .conftest import crash_looping, deployment, eventually

pytestmark = pytest.mark.cluster


def incident_status(kube: TestCluster, namespace: str, task: str) -> Any:
    def finished() -> Any:
        found = kube.kubectl_json("-n", namespace, "get", "agt", task)
        assert found["status"]["phase"] == "Succeeded"
        return found["status"]

    return eventually(finished, what=f"the incident task {task}")


def test_a_crash_on_a_service_names_the_failing_workload_behind_it(
    installed: TestCluster, operator: OperatorProcess, namespace: str
) -> None:
    kube = installed
    db = deployment("db", "registry.test/data/postgres:16.9-pull-missing", replicas=1)
    script = "echo 'connecting to db:5432'; echo 'Error: connect ECONNREFUSED db:5432'; exit 1"
    api = deployment("api", "registry.test/shop/api:4.2", command=["sh", "-c", script])
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "db", "namespace": namespace},
        "spec": {"selector": {"app": "db"}, "ports": [{"port": 5432}]},
    }
    kube.apply(
        [
            {**db, "metadata": {"name": "db", "namespace": namespace}},
            {**api, "metadata": {"name": "api", "namespace": namespace}},
            service,
        ]
    )
    crash_looping(kube, namespace, "api")
    status = incident_status(kube, namespace, "incident-api-r1")
    assert status["rootCause"] == "CrashLoopBackOff.DependencyUnreachable", status
    dependency = status["findings"][0]["dependency"]
    assert dependency["workload"]["name"] == "db" and dependency["workload"]["kind"] == "Deployment"
    assert dependency["workloadRootCause"].startswith("ImagePullError"), dependency
    assert dependency["readyEndpoints"] == 0
    assert "It fails because Deployment" in status["summary"], status["summary"]


def test_a_pod_waiting_on_a_claim_names_the_claim_and_its_event(
    installed: TestCluster, operator: OperatorProcess, namespace: str
) -> None:
    kube = installed
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "reports-data", "namespace": namespace},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "fast-ssd",
            "resources": {"requests": {"storage": "1Gi"}},
        },
    }
    app = deployment("reports", "registry.test/shop/reports:1.0", replicas=1)
    app["spec"]["template"]["spec"]["volumes"] = [
        {"name": "data", "persistentVolumeClaim": {"claimName": "reports-data"}}
    ]
    app["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = [
        {"name": "data", "mountPath": "/data"}
    ]
    kube.apply([claim, {**app, "metadata": {"name": "reports", "namespace": namespace}}])
    status = incident_status(kube, namespace, "incident-reports-r1")
    assert status["rootCause"] == "Unschedulable.VolumeBinding", status
    evidence = " ".join(status["findings"][0]["evidence"])
    assert "reports-data" in evidence, evidence
