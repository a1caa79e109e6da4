"""A pod's controlling workload, read from an API server on loopback through ownerReferences."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from highpeaks_agent.errors import TargetNotFound, UnsupportedTarget
from highpeaks_agent.permissions import cluster_role_rules
from highpeaks_agent.sources.owners import LiveWorkloads
from tests.support.loopback import api_client_for
from tests.unit.shipping.shipped import grants

from .test_live import RecordingApiServer, workload


def owned(kind: str, name: str, owner: dict[str, Any] | None) -> dict[str, Any]:
    obj = workload(kind, name)
    if owner is not None:
        md = owner["metadata"]
        obj["metadata"]["ownerReferences"] = [
            {"kind": owner["kind"], "name": md["name"], "uid": md["uid"], "controller": True}
        ]
    return obj


@pytest.fixture
async def cluster() -> AsyncIterator[tuple[RecordingApiServer, LiveWorkloads]]:
    server = RecordingApiServer(objects=[])
    app = web.Application()
    app.router.add_get("/{tail:.*}", server.handle)
    async with api_client_for(app) as api_client:
        yield server, LiveWorkloads(api_client)


async def test_pod_to_replicaset_to_deployment(
    cluster: tuple[RecordingApiServer, LiveWorkloads],
) -> None:
    server, workloads = cluster
    deployment = owned("Deployment", "checkout", None)
    replicaset = owned("ReplicaSet", "checkout-6b7", deployment)
    server.objects += [deployment, replicaset, owned("Pod", "checkout-6b7-x1", replicaset)]
    found = await workloads.controlling("shop", "Pod", "checkout-6b7-x1")
    assert (found["kind"], found["metadata"]["name"]) == ("Deployment", "checkout")
    assert found["apiVersion"] == "apps/v1"
    assert server.requests == [
        "/api/v1/namespaces/shop/pods/checkout-6b7-x1",
        "/apis/apps/v1/namespaces/shop/replicasets/checkout-6b7",
        "/apis/apps/v1/namespaces/shop/deployments/checkout",
    ]
    assert server.grants_used() <= grants(cluster_role_rules())


async def test_the_walk_stops_at_kinds_that_are_not_targets_and_at_strangers(
    cluster: tuple[RecordingApiServer, LiveWorkloads],
) -> None:
    server, workloads = cluster
    rollout = {"kind": "Rollout", "metadata": {"name": "checkout", "uid": "r-1"}}  # Argo's
    stale_owner = {"kind": "StatefulSet", "metadata": {"name": "db", "uid": "old-uid"}}
    gone = {"kind": "ReplicaSet", "metadata": {"name": "gone", "uid": "g"}}
    server.objects += [owned("Pod", "checkout-abc", rollout), owned("StatefulSet", "db", None)]
    server.objects += [owned("Pod", "db-0", stale_owner), owned("Pod", "orphan", gone)]
    for pod in ("checkout-abc", "db-0", "orphan"):
        found = await workloads.controlling("shop", "Pod", pod)
        assert (found["kind"], found["metadata"]["name"]) == ("Pod", pod)
    assert not any("rollouts" in path for path in server.requests)


async def test_a_job_pod_goes_to_its_job(
    cluster: tuple[RecordingApiServer, LiveWorkloads],
) -> None:
    server, workloads = cluster
    job = owned("Job", "migrate-42", None)
    server.objects += [job, owned("Pod", "migrate-42-abc", job)]
    found = await workloads.controlling("shop", "Pod", "migrate-42-abc")
    assert (found["kind"], found["metadata"]["name"]) == ("Job", "migrate-42")


async def test_missing_and_unsupported(cluster: tuple[RecordingApiServer, LiveWorkloads]) -> None:
    _, workloads = cluster
    with pytest.raises(TargetNotFound, match="Pod shop/nope not found"):
        await workloads.controlling("shop", "Pod", "nope")
    with pytest.raises(UnsupportedTarget):
        await workloads.read("shop", "Event", "checkout.17a")
