"""A host a crashed log names, looked up among the input's Services (CONTRACT §2a)."""

from __future__ import annotations

from typing import Any

import pytest

from highpeaks_agent.engine.dependencies import dependency_for
from highpeaks_agent.engine.model import ObjectRef
from highpeaks_agent.engine.snapshot import Snapshot

from .builders import pod, revisioned_set, running


def service(name: str, ns: str = "shop", selector: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": selector or {"app": name}, "clusterIP": "10.96.12.7"},
    }


def slice_of(name: str, *ready: bool | None) -> dict[str, Any]:
    endpoints = [
        {"addresses": [f"10.1.0.{i}"], **({} if r is None else {"conditions": {"ready": r}})}
        for i, r in enumerate(ready)
    ]
    return {
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{name}-abcde",
            "namespace": "shop",
            "labels": {"kubernetes.io/service-name": name},
        },
        "endpoints": endpoints,
    }


DB = ObjectRef(kind="Service", namespace="shop", name="db")


@pytest.mark.parametrize(
    "host",
    [
        "db",
        "db:5432",
        "db.shop",
        "db.shop:5432",
        "db.shop.svc",
        "db.shop.svc.cluster.local:5432",
        "10.96.12.7:5432",
    ],
)
def test_every_cluster_spelling_of_a_service_finds_it(host: str) -> None:
    snapshot = Snapshot.from_objects([service("db")])
    found = dependency_for(host, "shop", snapshot)
    assert found is not None and (found.service, found.exists) == (DB, True)


def test_a_name_outside_the_cluster_is_no_service() -> None:
    snapshot = Snapshot.from_objects([service("db")])
    assert dependency_for("api.stripe.com:443", "shop", snapshot) is None


def test_a_missing_service_is_named_only_when_the_input_holds_services() -> None:
    assert dependency_for("payments:80", "shop", Snapshot.from_objects([])) is None
    found = dependency_for("payments:80", "shop", Snapshot.from_objects([service("db")]))
    assert found is not None and found.exists is False
    assert found.service == ObjectRef(kind="Service", namespace="shop", name="payments")


def test_ready_endpoints_come_from_the_slices_an_absent_condition_meaning_ready() -> None:
    snapshot = Snapshot.from_objects([service("db"), slice_of("db", True, None, False)])
    found = dependency_for("db", "shop", snapshot)
    assert found is not None and found.ready_endpoints == 2


def test_without_slices_the_selected_pods_readiness_counts_and_names_their_workload() -> None:
    db = revisioned_set("StatefulSet", "db")
    ready = pod("db-0", owner=db, statuses=[running()])
    ready["metadata"]["labels"] = {"app": "db"}
    ready["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    other = pod("web-0", statuses=[running()])
    found = dependency_for("db", "shop", Snapshot.from_objects([service("db"), db, ready, other]))
    assert found is not None and found.ready_endpoints == 1
    assert found.workload == ObjectRef(kind="StatefulSet", namespace="shop", name="db")
