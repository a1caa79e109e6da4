"""The shipped manifests on a real API server: CRDs established, the dev overlay admitted."""

from __future__ import annotations

import json

import pytest

from tests.support.cluster import TestCluster

from .conftest import AGENT_NAMESPACE, eventually

pytestmark = pytest.mark.cluster


def test_crds_are_established(installed: TestCluster) -> None:
    for crd in ("agenttasks.devops.highpeaks.io", "clusterkopfpeerings.kopf.dev"):
        conditions = installed.kubectl_json("get", "crd", crd)["status"]["conditions"]
        assert {"type": "Established", "status": "True"}.items() <= next(
            c for c in conditions if c["type"] == "Established"
        ).items()


def test_the_dev_overlay_runs_under_restricted_pod_security(installed: TestCluster) -> None:
    labels = installed.kubectl_json("get", "namespace", AGENT_NAMESPACE)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    # The real ReplicaSet controller made the pods, so PodSecurity admitted them; the played
    # kubelet then reports them Ready and the Deployment controller completes the rollout.
    installed.kubectl(
        "-n", AGENT_NAMESPACE, "rollout", "status", "deploy/highpeaks-agent", "--timeout=90s"
    )


def test_a_pod_of_the_shipped_template_is_admitted_and_a_lax_one_refused(
    installed: TestCluster,
) -> None:
    template = installed.kubectl_json("-n", AGENT_NAMESPACE, "get", "deploy", "highpeaks-agent")[
        "spec"
    ]["template"]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "template-check", "namespace": AGENT_NAMESPACE},
        "spec": template["spec"],
    }
    installed.kubectl("apply", "--dry-run=server", "-f", "-", stdin=json.dumps(pod))

    lax = json.loads(json.dumps(pod))
    del lax["spec"]["containers"][0]["securityContext"]
    refused = installed.kubectl_run("apply", "--dry-run=server", "-f", "-", stdin=json.dumps(lax))
    assert refused.returncode != 0
    assert 'violates PodSecurity "restricted:latest"' in refused.stderr


def test_nodes_stay_ready(installed: TestCluster) -> None:
    """The played kubelet renews the Leases: the node controller keeps the Nodes untainted."""
    nodes = eventually(lambda: installed.kubectl_json("get", "nodes")["items"], what="nodes")
    for node in nodes:
        ready = next(c for c in node["status"]["conditions"] if c["type"] == "Ready")
        assert ready["status"] == "True"
        assert not node["spec"].get("taints")
