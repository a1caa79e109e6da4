"""The shards example (``k8s/overlays/shards``): two whole operators, each serving its own
namespaces and peering apart, with the objects every shard shares shipped once."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from highpeaks_agent.selectors import parse_selector
from highpeaks_agent.settings import Settings
from tests.unit.shipping.shipped import (
    KUBERNETES_VERSION,
    NAME,
    Objects,
    agent_container,
    label,
    render,
)

SHARDS = {"a": NAME, "b": f"{NAME}-b"}


@pytest.fixture(scope="module")
def shards() -> Objects:
    return render("k8s/overlays/shards")


def named(objects: Objects, kind: str, name: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return found


def test_every_object_validates_and_shared_ones_ship_once(shards: Objects) -> None:
    for obj in shards:
        if obj["kind"] == "ClusterKopfPeering":
            continue  # a custom object, checked against its CRD in test_manifests
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{label(obj)} does not validate against {KUBERNETES_VERSION}: {exc}")
    kinds = [o["kind"] for o in shards]
    for shared in ("Namespace", "ServiceAccount", "ClusterRoleBinding"):
        assert kinds.count(shared) == 1, shared
    roles = sorted(o["metadata"]["name"] for o in shards if o["kind"] == "ClusterRole")
    assert roles == ["highpeaks-agent", "highpeaks-agent-edit", "highpeaks-agent-view"]
    assert kinds.count("CustomResourceDefinition") == 2
    for per_shard in ("Deployment", "ConfigMap", "Service", "PodDisruptionBudget"):
        assert kinds.count(per_shard) == 2, per_shard
    assert kinds.count("ClusterKopfPeering") == 2


def test_each_shard_has_its_own_namespaces_peering_and_pods(shards: Objects) -> None:
    settings = {}
    for shard, name in SHARDS.items():
        deployment = named(shards, "Deployment", name)
        spec = deployment["spec"]
        pods = spec["template"]["metadata"]["labels"]
        assert pods["highpeaks.io/shard"] == shard
        assert spec["selector"]["matchLabels"]["highpeaks.io/shard"] == shard
        assert spec["template"]["spec"]["serviceAccountName"] == NAME  # the one that is bound
        (source,) = agent_container(deployment)["envFrom"]
        config = named(shards, "ConfigMap", source["configMapRef"]["name"])
        settings[shard] = Settings.from_environ(config["data"])
        # shipped with the shard: Kopf never creates its peering object
        named(shards, "ClusterKopfPeering", settings[shard].peering)
        service = named(shards, "Service", name)["spec"]["selector"]
        budget = named(shards, "PodDisruptionBudget", name)["spec"]["selector"]["matchLabels"]
        assert service["highpeaks.io/shard"] == budget["highpeaks.io/shard"] == shard
    a, b = settings["a"], settings["b"]
    assert a.peering != b.peering, "shards must not pause each other"
    assert (a.watch_namespace_selector, b.watch_namespace_selector) == (
        "highpeaks.io/shard=a",
        "highpeaks.io/shard=b",
    )
    for selector in (a.watch_namespace_selector, b.watch_namespace_selector):
        parse_selector(selector)  # what the operator accepts at start
