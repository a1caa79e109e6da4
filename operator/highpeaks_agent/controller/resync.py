"""The level-triggered resync: every few seconds, look again at whatever has not converged.

Watch events are only hints. An API outage, a lost answer or a killed process can leave an
incident half written (task created but no status, status but no note, note but no
signature annotation), and Kopf resumes its watches without a re-list, so no new event may
ever arrive for a failure whose objects stopped changing. Each period this module lists the
Deployments and the incident AgentTasks (two list calls) and pokes the
:class:`IncidentMonitor` for every Deployment whose incident is not finished; the monitor
derives what to write from the cluster, so looking again is always safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from kubernetes import client

from highpeaks_agent.controller.incidents import (
    AUTO,
    SIGNATURE_ANNOTATION,
    IncidentMonitor,
    is_resolved,
)
from highpeaks_agent.controller.kube import GROUP, PLURAL, VERSION
from highpeaks_agent.controller.leadership import PeerId, PeeringLeadership
from highpeaks_agent.controller.naming import incident_task_name
from highpeaks_agent.controller.tasks import TRIGGER_LABEL
from highpeaks_agent.controller.watch_filters import deployment_needs_look
from highpeaks_agent.engine.snapshot import meta
from highpeaks_agent.engine.workloads import revision as deployment_revision
from highpeaks_agent.kubeapi import Query, api_path, request_json
from highpeaks_agent.settings import Settings

log = logging.getLogger(__name__)

DeploymentKey = tuple[str, str]  # namespace, name


def is_converged(task: Mapping[str, Any]) -> bool:
    """Everything of this incident is written: status, note and the signature that records it."""
    annotations = meta(task).get("annotations") or {}
    phase = (task.get("status") or {}).get("phase")
    return bool(annotations.get(SIGNATURE_ANNOTATION)) and phase in ("Succeeded", "Failed")


def unconverged(
    deployments: Iterable[Mapping[str, Any]], tasks: Iterable[Mapping[str, Any]]
) -> list[DeploymentKey]:
    """Deployments to look at again: failing without a finished incident for their revision,
    or with an incident not yet resolved (a recovery the watch may have missed)."""
    owned: dict[str, list[Mapping[str, Any]]] = {}
    for task in tasks:
        for ref in meta(task).get("ownerReferences") or []:
            if ref.get("kind") == "Deployment":
                owned.setdefault(str(ref.get("uid")), []).append(task)
    stale: list[DeploymentKey] = []
    for deployment in deployments:
        md = meta(deployment)
        key = (str(md.get("namespace")), str(md.get("name")))
        own = owned.get(str(md.get("uid")), [])
        if deployment_needs_look(deployment):
            current_name = incident_task_name(key[1], deployment_revision(deployment))
            current = next((t for t in own if meta(t).get("name") == current_name), None)
            if current is None or not is_converged(current):
                stale.append(key)
        elif any(not is_resolved(t) or not is_converged(t) for t in own):
            stale.append(key)
    return stale


class ClusterLister:
    """The two lists a resync needs, cluster-wide or per watched namespace."""

    def __init__(
        self, api_client: client.ApiClient, namespaces: Sequence[str], namespace_selector: str
    ) -> None:
        self._api = api_client
        self._namespaces = list(namespaces)
        self._selector = namespace_selector

    async def deployments(self) -> list[dict[str, Any]]:
        if not self._namespaces:
            items = await self._items(api_path("apps", "v1", "deployments"))
        else:
            items = []
            for namespace in self._namespaces:
                items += await self._items(api_path("apps", "v1", "deployments", namespace))
        return await self._selected(items)

    async def incident_tasks(self) -> list[dict[str, Any]]:
        selector = [("labelSelector", f"{TRIGGER_LABEL}={AUTO}")]
        if not self._namespaces:
            return await self._items(api_path(GROUP, VERSION, PLURAL), selector)
        items = []
        for namespace in self._namespaces:
            items += await self._items(api_path(GROUP, VERSION, PLURAL, namespace), selector)
        return items

    async def _selected(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Only objects in namespaces matching ``WATCH_NAMESPACE_SELECTOR`` (when set)."""
        if not self._selector:
            return items
        namespaces = await self._items(
            api_path("", "v1", "namespaces"), [("labelSelector", self._selector)]
        )
        allowed = {meta(ns).get("name") for ns in namespaces}
        return [item for item in items if meta(item).get("namespace") in allowed]

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

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="incident-resync")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def once(self) -> list[DeploymentKey]:
        """One pass: list, compare, poke. Returns the Deployments poked."""
        deployments = await self._lister.deployments()
        tasks = await self._lister.incident_tasks()
        stale = unconverged(deployments, tasks)
        for namespace, name in stale:
            self._monitor.poke(namespace, name)
        if stale:
            log.info("resync: looking again at %d Deployment(s)", len(stale))
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
