"""The live source: the part of the cluster one diagnosis needs, read from the API server.

A snapshot for one target holds the workload, its ReplicaSets (found through ownerReferences,
never by name), their pods, the Events about all of those, and the log tails of containers
that crashed (``previous=true``) or are stuck. Reads use the official ``kubernetes`` client
in worker threads, so the operator's event loop never blocks on the API server, and every
log read is capped in lines and bytes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from highpeaks_agent.engine.snapshot import ContainerLog, Snapshot, controller_ref, meta
from highpeaks_agent.errors import TargetNotFound

log = logging.getLogger(__name__)

_T = TypeVar("_T")

#: Target kinds a task or /assist may name, and how to read one of each.
TARGET_KINDS: tuple[str, ...] = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "ReplicaSet",
    "Pod",
)

#: Containers whose logs are worth reading: at most this many pods per target.
MAX_PODS_WITH_LOGS = 3


class LiveSource:
    """Reads snapshots from the API server for one target or one namespace."""

    def __init__(
        self,
        api_client: client.ApiClient,
        *,
        log_tail_lines: int = 100,
        log_tail_bytes: int = 16384,
    ) -> None:
        self._core = client.CoreV1Api(api_client)
        self._apps = client.AppsV1Api(api_client)
        self._batch = client.BatchV1Api(api_client)
        self._log_tail_lines = log_tail_lines
        self._log_tail_bytes = log_tail_bytes

    # --- public ------------------------------------------------------------------------

    async def target_snapshot(self, namespace: str, kind: str, name: str) -> Snapshot:
        """The target workload with its ReplicaSets, pods, their events and failing logs.

        Raises :class:`TargetNotFound` when the target does not exist and ``ValueError`` for a
        kind the engine does not diagnose.
        """
        if kind not in TARGET_KINDS:
            raise ValueError(f"unsupported target kind {kind!r}; expected one of {TARGET_KINDS}")
        target = await self._read_target(namespace, kind, name)
        objects: list[dict[str, Any]] = [target]
        if kind == "Pod":
            pods = [target]
        else:
            selector = _selector_string(target)
            replicasets: list[dict[str, Any]] = []
            if kind == "Deployment":
                all_rs = await self._list(
                    self._apps.list_namespaced_replica_set, namespace, "ReplicaSet", selector
                )
                replicasets = [rs for rs in all_rs if _owned_by(rs, target)]
                objects.extend(replicasets)
            candidates = await self._list(
                self._core.list_namespaced_pod, namespace, "Pod", selector
            )
            owners = {meta(o).get("uid") for o in [target, *replicasets]}
            pods = [p for p in candidates if (controller_ref(p) or {}).get("uid") in owners]
        objects.extend(o for o in pods if o is not target)
        events = await self._list(self._core.list_namespaced_event, namespace, "Event", None)
        wanted = {meta(o).get("uid") for o in objects}
        objects.extend(e for e in events if (e.get("involvedObject") or {}).get("uid") in wanted)
        snapshot = Snapshot.from_objects(objects)
        await self._read_logs(snapshot, pods)
        return snapshot

    async def namespace_snapshot(self, namespace: str) -> Snapshot:
        """Every workload, pod and event of one namespace, with logs of failing containers."""
        readers: list[tuple[Callable[..., Any], str]] = [
            (self._core.list_namespaced_pod, "Pod"),
            (self._core.list_namespaced_event, "Event"),
            (self._apps.list_namespaced_replica_set, "ReplicaSet"),
            (self._apps.list_namespaced_deployment, "Deployment"),
            (self._apps.list_namespaced_stateful_set, "StatefulSet"),
            (self._apps.list_namespaced_daemon_set, "DaemonSet"),
            (self._batch.list_namespaced_job, "Job"),
        ]
        results = await asyncio.gather(
            *(self._list(reader, namespace, kind, None) for reader, kind in readers)
        )
        objects = [obj for items in results for obj in items]
        snapshot = Snapshot.from_objects(objects)
        await self._read_logs(snapshot, snapshot.pods, per_owner=MAX_PODS_WITH_LOGS)
        return snapshot

    # --- reading -----------------------------------------------------------------------

    async def _read_target(self, namespace: str, kind: str, name: str) -> dict[str, Any]:
        reader: Callable[..., Any] = {
            "Deployment": self._apps.read_namespaced_deployment,
            "StatefulSet": self._apps.read_namespaced_stateful_set,
            "DaemonSet": self._apps.read_namespaced_daemon_set,
            "ReplicaSet": self._apps.read_namespaced_replica_set,
            "Job": self._batch.read_namespaced_job,
            "Pod": self._core.read_namespaced_pod,
        }[kind]
        try:
            obj = await _call(reader, name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                raise TargetNotFound(kind, namespace, name) from exc
            raise
        return dict(_with_kind(obj, kind))

    async def _list(
        self,
        reader: Callable[..., Any],
        namespace: str,
        kind: str,
        label_selector: str | None,
    ) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {}
        if label_selector:
            kwargs["label_selector"] = label_selector
        result = await _call(reader, namespace, **kwargs)
        items = result.get("items") if isinstance(result, Mapping) else None
        return [_with_kind(item, kind) for item in items or [] if isinstance(item, dict)]

    async def _read_logs(
        self,
        snapshot: Snapshot,
        pods: list[dict[str, Any]],
        *,
        per_owner: int = MAX_PODS_WITH_LOGS,
    ) -> None:
        """Read the log tails worth reading: crashed containers' previous logs, stuck ones'."""
        taken: dict[Any, int] = {}
        jobs: list[tuple[str, str, str, bool]] = []
        for pod in pods:
            wanted = _containers_worth_logs(pod)
            if not wanted:
                continue
            owner = (controller_ref(pod) or {}).get("uid") or meta(pod).get("name")
            if taken.get(owner, 0) >= per_owner:
                continue
            taken[owner] = taken.get(owner, 0) + 1
            md = meta(pod)
            jobs.extend((md.get("namespace", ""), md["name"], c, prev) for c, prev in wanted)
        results = await asyncio.gather(*(self._read_log(*job) for job in jobs))
        for (namespace, pod_name, container, previous), text in zip(jobs, results, strict=True):
            if text is not None:
                snapshot.logs[(namespace, pod_name, container)] = ContainerLog(text, previous)

    async def _read_log(
        self, namespace: str, pod: str, container: str, previous: bool
    ) -> str | None:
        try:
            response: Any = await asyncio.to_thread(
                self._core.read_namespaced_pod_log,
                pod,
                namespace,
                container=container,
                previous=previous,
                tail_lines=self._log_tail_lines,
                limit_bytes=self._log_tail_bytes,
                _preload_content=False,
            )
            raw: bytes = response.data
        except ApiException as exc:
            # 400 "previous terminated container not found" and friends: no log is evidence too
            log.debug("no log for %s/%s[%s]: %s", namespace, pod, container, exc.reason)
            return None
        return raw[-self._log_tail_bytes :].decode("utf-8", errors="replace")


async def _call(reader: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a ``kubernetes`` client method in a thread; return the raw JSON as dicts.

    ``_preload_content=False`` skips the client's model classes: the engine wants the dicts the
    API server sent (camelCase keys, unknown fields kept), and it is much cheaper.
    """
    response = await asyncio.to_thread(reader, *args, _preload_content=False, **kwargs)
    return json.loads(response.data)


def _with_kind(obj: Any, kind: str) -> Any:
    if isinstance(obj, dict) and "kind" not in obj:
        obj["kind"] = kind
    return obj


def _owned_by(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    ref = controller_ref(obj)
    return ref is not None and ref.get("uid") == meta(owner).get("uid")


def _selector_string(workload: Mapping[str, Any]) -> str | None:
    """The workload's ``spec.selector`` as a label selector string, to narrow list calls."""
    selector = (workload.get("spec") or {}).get("selector")
    if not isinstance(selector, Mapping):
        return None
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts) or None


def _containers_worth_logs(pod: Mapping[str, Any]) -> list[tuple[str, bool]]:
    """(container, previous) pairs whose logs may explain a failure.

    A container that terminated (now or last time) with a non-zero code or an OOM kill: its
    previous instance's log. A running container that is not ready: its current log.
    """
    status = pod.get("status") or {}
    wanted: list[tuple[str, bool]] = []
    for key in ("initContainerStatuses", "containerStatuses"):
        for cs in status.get(key) or []:
            if not isinstance(cs, Mapping) or not isinstance(cs.get("name"), str):
                continue
            state = cs.get("state") or {}
            last = (cs.get("lastState") or {}).get("terminated") or {}
            current = state.get("terminated") or {}
            if current and current.get("exitCode", 0) != 0:
                wanted.append((cs["name"], False))
            elif last and (last.get("exitCode", 0) != 0 or cs.get("restartCount", 0) > 0):
                wanted.append((cs["name"], True))
            elif state.get("running") and cs.get("ready") is False:
                wanted.append((cs["name"], False))
    return wanted
