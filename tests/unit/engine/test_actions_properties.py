"""Property: whatever shape a healthy snapshot takes — revisions, paused rollouts, pending
template changes, GitOps labels — the rules propose no action for it."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from highpeaks_agent.engine.diagnose import diagnose, diagnose_target
from highpeaks_agent.engine.model import ObjectRef
from highpeaks_agent.engine.snapshot import Snapshot

from . import gitops
from .builders import (
    NOW,
    container,
    controller_revision,
    deployment,
    pod,
    replicaset,
    revisioned_set,
    running,
    with_revision_label,
)

images = st.sampled_from([f"registry.example.com/shop/app:1.{minor}.0" for minor in range(4)])
managed_by = st.sampled_from(
    [{}, gitops.FLUX_LABELS, {"app.kubernetes.io/instance": "checkout"}, {"team": "shop"}]
)


@st.composite
def healthy_deployment(draw: st.DrawFn, name: str) -> list[dict[str, Any]]:
    """A Deployment with 1-4 revisions; the newest one's pods all run and are Ready."""
    revisions = draw(st.lists(images, min_size=1, max_size=4))
    replicas = draw(st.integers(min_value=1, max_value=3))
    dep = deployment(
        name,
        revision=len(revisions),
        replicas=replicas,
        available=replicas,
        containers=[container(image=draw(images))],  # may hold a change a pause holds back
    )
    dep["spec"]["paused"] = draw(st.booleans())
    dep["metadata"]["labels"] = draw(managed_by)
    if draw(st.booleans()):
        dep["metadata"]["annotations"].update(gitops.TRACKING)
    objects = [dep]
    for number, image in enumerate(revisions, start=1):
        newest = number == len(revisions)
        count = replicas if newest else draw(st.integers(min_value=0, max_value=1))
        rs = replicaset(
            dep,
            f"{number}f9c7d5b4",
            revision=number,
            replicas=count,
            ready=count,
            containers=[container(image=image)],
        )
        objects.append(rs)
        objects.extend(
            pod(f"{name}-{number}f9c7d5b4-{i}", owner=rs, statuses=[running()])
            for i in range(count)
        )
    return objects


@st.composite
def healthy_set(draw: st.DrawFn, kind: str) -> list[dict[str, Any]]:
    """A StatefulSet or DaemonSet with 1-3 ControllerRevisions; every pod runs and is Ready."""
    revisions = draw(st.lists(images, min_size=1, max_size=3))
    workload = revisioned_set(kind, name=kind.lower(), ready=3)
    made = [
        controller_revision(workload, f"{number}d8c7b9f6", number, image)
        for number, image in enumerate(revisions, start=1)
    ]
    if kind == "StatefulSet":
        workload["status"]["updateRevision"] = made[-1]["metadata"]["name"]
    workload["spec"]["template"]["spec"]["containers"] = [container(image=revisions[-1])]
    pods = []
    for index in range(3):
        revision = draw(st.sampled_from(made))
        label = revision["metadata"]["labels"]["controller-revision-hash"]
        if kind == "StatefulSet":
            label = revision["metadata"]["name"]
        name = f"{kind.lower()}-{index}"
        pods.append(with_revision_label(pod(name, owner=workload, statuses=[running()]), label))
    return [workload, *made, *pods]


@settings(max_examples=60, deadline=None)
@given(
    healthy_deployment("checkout"),
    healthy_deployment("cart"),
    healthy_set("StatefulSet"),
    healthy_set("DaemonSet"),
    st.booleans(),
)
def test_a_healthy_snapshot_gets_no_proposal(
    checkout: list[dict[str, Any]],
    cart: list[dict[str, Any]],
    statefulset: list[dict[str, Any]],
    daemonset: list[dict[str, Any]],
    with_application: bool,
) -> None:
    objects = [*checkout, *cart, *statefulset, *daemonset]
    if with_application:
        objects.append(gitops.application())
    snapshot = Snapshot.from_objects(objects)
    assert all(not d.proposed_actions for d in diagnose(snapshot, now=NOW))
    for kind, name in (
        ("Deployment", "checkout"),
        ("Deployment", "cart"),
        ("StatefulSet", "statefulset"),
        ("DaemonSet", "daemonset"),
    ):
        target = diagnose_target(
            snapshot, ObjectRef(kind=kind, namespace="shop", name=name), now=NOW
        )
        assert target is not None
        assert target.proposed_actions == [], target
