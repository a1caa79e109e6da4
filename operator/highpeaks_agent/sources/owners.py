"""Workloads read one by one from the API server, and a pod's controlling workload.

The pod → ReplicaSet → Deployment (or → StatefulSet, DaemonSet, Job) chain is followed
through ``ownerReferences`` with ``controller: true`` and checked by uid, never guessed from
names, as the engine groups pods. The walk stops at the first owner that is not a kind the
agent diagnoses (another operator's resource, such as an Argo Rollout), so the answer is
always a target.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from highpeaks_agent.engine.kinds import BY_KIND, TARGET_KINDS
from highpeaks_agent.engine.snapshot import controller_ref, meta
from highpeaks_agent.errors import TargetNotFound, UnsupportedTarget
from highpeaks_agent.kubeapi import get_json, resource_path

#: Pod → ReplicaSet → Deployment is the longest chain of target kinds.
MAX_CHAIN = 3


class LiveWorkloads:
    """Reads a workload, or the workload that controls a pod, through :mod:`kubeapi`."""

    def __init__(self, api_client: client.ApiClient) -> None:
        self._api = api_client

    async def read(self, namespace: str, kind: str, name: str) -> dict[str, Any]:
        """The object; raises ``TargetNotFound`` (404) or ``UnsupportedTarget``."""
        info = BY_KIND.get(kind)
        if info is None or not info.target:
            raise UnsupportedTarget(kind, TARGET_KINDS)
        try:
            obj = await get_json(self._api, resource_path(info, namespace, name))
        except ApiException as exc:
            if exc.status == 404:
                raise TargetNotFound(kind, namespace, name) from exc
            raise
        obj.setdefault("kind", kind)
        obj.setdefault("apiVersion", info.api_version)
        return obj

    async def controlling(self, namespace: str, kind: str, name: str) -> dict[str, Any]:
        """The object, or the outermost target-kind controller above it."""
        current = await self.read(namespace, kind, name)
        for _ in range(MAX_CHAIN):
            ref = controller_ref(current)
            info = BY_KIND.get(str((ref or {}).get("kind")))
            if ref is None or info is None or not info.target:
                break
            try:
                owner = await self.read(namespace, info.kind, str(ref.get("name")))
            except TargetNotFound:
                break  # being deleted: the object itself is the best target left
            if meta(owner).get("uid") != ref.get("uid"):
                break  # a new object under the old name: not this one's owner
            current = owner
        return current
