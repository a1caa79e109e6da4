"""The level-triggered resync: every few seconds, look again at whatever has not converged.

Watch events are only hints. An API outage, a lost answer or a killed process can leave an
incident half written (task created but no status, status but no note, note but no
signature annotation), and Kopf resumes its watches without a re-list, so no new event may
ever arrive for a failure whose objects stopped changing. Each period this module lists the
workloads that get incidents (Deployments, StatefulSets, DaemonSets, Jobs), the
ControllerRevisions that number a StatefulSet's or DaemonSet's revisions, the ReplicaSets and
pods (a workload whose own status looks fine while its pods fail), and the incident
AgentTasks, and pokes the :class:`IncidentMonitor` for every workload whose incident is not
finished; the monitor derives what to write from the cluster, so looking again is always safe.

A workload is found by its pods only while the set of its bad-looking pods changes, or once
per :data:`POD_RECHECK_SECONDS`: pods that look bad to the cheap watch filter but that the
rules do not call failing (an evicted pod left behind) do not cost a diagnosis every period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client

from highpeaks_agent.controller.incident_kinds import BY_KIND, incident_kind, incident_revision
from highpeaks_agent.controller.incidents import (
    AUTO,
    SIGNATURE_ANNOTATION,
    IncidentMonitor,
    WorkloadKey,
    is_resolved,
    task_name_for,
)
from highpeaks_agent.controller.kube import GROUP, PLURAL, VERSION
from highpeaks_agent.controller.leadership import PeerId, PeeringLeadership
from highpeaks_agent.controller.tasks import TRIGGER_LABEL
from highpeaks_agent.controller.watch_filters import owning_workload, pod_needs_look
from highpeaks_agent.engine.snapshot import Snapshot, controller_ref, meta
from highpeaks_agent.kubeapi import Query, api_path, request_json
from highpeaks_agent.settings import Settings

log = logging.getLogger(__name__)

#: How often a workload whose pods look bad (unchanged) is looked at again at most.
POD_RECHECK_SECONDS = 300.0


def is_converged(task: Mapping[str, Any]) -> bool:
    """Everything of this incident is written: status, note and the signature that records it."""
    annotations = meta(task).get("annotations") or {}
    phase = (task.get("status") or {}).get("phase")
    return bool(annotations.get(SIGNATURE_ANNOTATION)) and phase in ("Succeeded", "Failed")


@dataclass
class Cluster:
    """What one resync pass reads (ControllerRevisions, ReplicaSets and pods may be empty)."""

    workloads: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    revisions: list[dict[str, Any]] = field(default_factory=list)
    replicasets: list[dict[str, Any]] = field(default_factory=list)
    pods: list[dict[str, Any]] = field(default_factory=list)


def unconverged(
    workloads: Iterable[Mapping[str, Any]],
    tasks: Iterable[Mapping[str, Any]],
    revisions: Iterable[Mapping[str, Any]] = (),
    *,
    failing_by_pods: Iterable[WorkloadKey] = (),
) -> list[WorkloadKey]:
    """Workloads to look at again: failing (by their controller's status, or in
    ``failing_by_pods``) without a finished incident for their revision, or with an incident
    not yet resolved (a recovery the watch may have missed)."""
    owned: dict[str, list[Mapping[str, Any]]] = {}
    for task in tasks:
        for ref in meta(task).get("ownerReferences") or []:
            if ref.get("kind") in BY_KIND:
                owned.setdefault(str(ref.get("uid")), []).append(task)
    workloads = [_with_kind(w) for w in workloads]
    numbered = Snapshot.from_objects([*workloads, *revisions])
    by_pods = set(failing_by_pods)
    stale: list[WorkloadKey] = []
    for workload in workloads:
        md = meta(workload)
        kind = incident_kind(workload)
        key = (str(md.get("namespace")), kind.kind, str(md.get("name")))
        own = owned.get(str(md.get("uid")), [])
        if kind.needs_look(workload) or key in by_pods:
            current_name = task_name_for(workload, incident_revision(workload, numbered))
            current = next((t for t in own if meta(t).get("name") == current_name), None)
            if current is None or not is_converged(current):
                stale.append(key)
        elif any(not is_resolved(t) or not is_converged(t) for t in own):
            stale.append(key)
    return stale


def _with_kind(workload: Mapping[str, Any]) -> dict[str, Any]:
    """Items of a typed list may come without ``kind``; a Deployment's is assumed."""
    return {"kind": "Deployment", **workload}


def bad_pods_by_workload(
    pods: Iterable[Mapping[str, Any]], replicasets: Iterable[Mapping[str, Any]]
) -> dict[WorkloadKey, frozenset[tuple[str, str]]]:
    """Workloads with pods that may fail them → those pods (name, resourceVersion)."""
    deployments: dict[tuple[str, str], str] = {}
    for rs in replicasets:
        ref = controller_ref(rs)
        if ref is not None and ref.get("kind") == "Deployment":
            deployments[(str(meta(rs).get("namespace")), str(meta(rs).get("name")))] = str(
                ref.get("name")
            )
    found: dict[WorkloadKey, set[tuple[str, str]]] = {}
    for pod in pods:
        if not pod_needs_look(pod):
            continue
        md = meta(pod)
        namespace = str(md.get("namespace"))
        owner = owning_workload(pod, lambda ns, rs: deployments.get((ns, rs)))
        if owner is not None:
            found.setdefault((namespace, *owner), set()).add(
                (str(md.get("name")), str(md.get("resourceVersion")))
            )
    return {key: frozenset(pods) for key, pods in found.items()}


class PodSightings:
    """Which workloads found by their pods are worth a look now: the set of bad-looking pods
    changed since the last look, or :data:`POD_RECHECK_SECONDS` have passed."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[WorkloadKey, tuple[frozenset[tuple[str, str]], float]] = {}

    def worth_a_look(
        self, bad: Mapping[WorkloadKey, frozenset[tuple[str, str]]]
    ) -> list[WorkloadKey]:
        now = self._clock()
        fresh: list[WorkloadKey] = []
        for key, pods in bad.items():
            seen = self._seen.get(key)
            if seen is None or seen[0] != pods or now - seen[1] >= POD_RECHECK_SECONDS:
                self._seen[key] = (pods, now)
                fresh.append(key)
        for gone in set(self._seen) - set(bad):  # their pods are fine again: forget them
            del self._seen[gone]
        return fresh


#: kind → where its objects are listed (group, version, plural)
LISTED = {
    "Deployment": ("apps", "v1", "deployments"),
    "StatefulSet": ("apps", "v1", "statefulsets"),
    "DaemonSet": ("apps", "v1", "daemonsets"),
    "Job": ("batch", "v1", "jobs"),
    "ControllerRevision": ("apps", "v1", "controllerrevisions"),
    "ReplicaSet": ("apps", "v1", "replicasets"),
    "Pod": ("", "v1", "pods"),
}


class ClusterLister:
    """The lists a resync needs, cluster-wide or per watched namespace."""

    def __init__(
        self, api_client: client.ApiClient, namespaces: Sequence[str], namespace_selector: str
    ) -> None:
        self._api = api_client
        self._namespaces = list(namespaces)
        self._selector = namespace_selector

    async def read(self) -> Cluster:
        """Everything one pass compares, in the watched namespaces."""
        allowed = await self._allowed_namespaces()
        workloads = []
        for kind in BY_KIND:
            workloads += [{"kind": kind, **w} for w in await self._kind(kind, allowed)]
        return Cluster(
            workloads=workloads,
            tasks=await self.incident_tasks(),
            revisions=await self._kind("ControllerRevision", allowed),
            replicasets=await self._kind("ReplicaSet", allowed),
            pods=await self._kind("Pod", allowed),
        )

    async def _kind(self, kind: str, allowed: set[str] | None) -> list[dict[str, Any]]:
        group, version, plural = LISTED[kind]
        if not self._namespaces:
            items = await self._items(api_path(group, version, plural))
        else:
            items = []
            for namespace in self._namespaces:
                items += await self._items(api_path(group, version, plural, namespace))
        if allowed is None:
            return items
        return [item for item in items if meta(item).get("namespace") in allowed]

    async def incident_tasks(self) -> list[dict[str, Any]]:
        selector = [("labelSelector", f"{TRIGGER_LABEL}={AUTO}")]
        if not self._namespaces:
            return await self._items(api_path(GROUP, VERSION, PLURAL), selector)
        items = []
        for namespace in self._namespaces:
            items += await self._items(api_path(GROUP, VERSION, PLURAL, namespace), selector)
        return items

    async def _allowed_namespaces(self) -> set[str] | None:
        """The namespaces matching ``WATCH_NAMESPACE_SELECTOR``; None (all) without one."""
        if not self._selector:
            return None
        namespaces = await self._items(
            api_path("", "v1", "namespaces"), [("labelSelector", self._selector)]
        )
        return {str(meta(ns).get("name")) for ns in namespaces}

    async def _items(self, path: str, query: Query = ()) -> list[dict[str, Any]]:
        listed = await request_json(self._api, "GET", path, query)
        return [i for i in listed.get("items") or [] if isinstance(i, dict)]


async def always_active() -> bool:
    """A standalone operator (no peering) is always the one that acts."""
    return True


class Resync:
    """Runs :func:`unconverged` every ``interval`` seconds while this replica is active."""

    def __init__(
        self,
        lister: ClusterLister,
        monitor: IncidentMonitor,
        *,
        interval: float,
        is_active: Callable[[], Awaitable[bool]] = always_active,
    ) -> None:
        self._lister = lister
        self._monitor = monitor
        self._interval = interval
        self._is_active = is_active
        self._task: asyncio.Task[None] | None = None
        self._pods = PodSightings()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="incident-resync")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def once(self) -> list[WorkloadKey]:
        """One pass: list, compare, poke. Returns the workloads poked."""
        cluster = await self._lister.read()
        by_pods = self._pods.worth_a_look(bad_pods_by_workload(cluster.pods, cluster.replicasets))
        stale = unconverged(
            cluster.workloads, cluster.tasks, cluster.revisions, failing_by_pods=by_pods
        )
        for namespace, kind, name in stale:
            self._monitor.poke(namespace, name, kind)
        if stale:
            log.info("resync: looking again at %d workload(s)", len(stale))
        return stale

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                if await self._is_active():
                    await self.once()
            except Exception as exc:  # the API server is away: the next period tries again
                log.warning("resync failed, trying again in %gs: %s", self._interval, exc)


def build_resync(
    settings: Settings,
    api_client: client.ApiClient,
    monitor: IncidentMonitor,
    peer: PeerId | None,
) -> Resync:
    """The resync for these settings: the watched namespaces, ``RESYNC_SECONDS``, and (with
    ``PEERING``) only while Kopf lets this replica act."""
    lister = ClusterLister(api_client, settings.watch_namespaces, settings.watch_namespace_selector)
    if peer is None:
        return Resync(lister, monitor, interval=settings.resync_seconds)
    leadership = PeeringLeadership(api_client, settings.peering, peer, settings.watch_namespaces)
    return Resync(lister, monitor, interval=settings.resync_seconds, is_active=leadership.is_active)
