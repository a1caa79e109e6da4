"""A workload's rollout history: each revision against the one before, no secret values."""

from __future__ import annotations

from highpeaks_agent.engine.history import rollout_history
from highpeaks_agent.engine.snapshot import Snapshot

from .builders import container, controller_revision, deployment, replicaset, revisioned_set


def test_a_deployments_revisions_say_what_each_changed_and_never_a_secret_value() -> None:
    dep = deployment(revision=3, replicas=2)
    old = replicaset(
        dep, "a", revision=1, ready=2, env=[{"name": "DB_PASSWORD", "value": "s3cr3t-one"}]
    )
    mid = replicaset(
        dep,
        "b",
        revision=2,
        containers=[container(image="registry.example.com/shop/app:2.0.0")],
        env=[{"name": "DB_PASSWORD", "value": "s3cr3t-two"}],
    )
    history = rollout_history(dep, Snapshot.from_objects([dep, mid, old]))
    assert [e.revision for e in history] == [1, 2]
    assert history[0].changes == () and history[0].ready == "2/1"
    assert "container app image: registry.example.com/shop/app:1.0.0 -> " in history[1].changes[0]
    assert "container app env DB_PASSWORD value changed" in history[1].changes
    assert history[1].images == ("app=registry.example.com/shop/app:2.0.0",)
    shown = str([e.to_json_dict() for e in history])
    assert "s3cr3t" not in shown


def test_a_statefulsets_revisions_come_from_its_controller_revisions() -> None:
    sts = revisioned_set("StatefulSet")
    first = controller_revision(sts, "aaa", 1, "registry.example.com/db:15")
    second = controller_revision(sts, "bbb", 2, "registry.example.com/db:16")
    history = rollout_history(sts, Snapshot.from_objects([sts, second, first]))
    assert [(e.revision, e.name) for e in history] == [(1, "db-aaa"), (2, "db-bbb")]
    assert history[1].changes == (
        "container app image: registry.example.com/db:15 -> registry.example.com/db:16",
    )
    assert "ready" not in history[1].to_json_dict()
