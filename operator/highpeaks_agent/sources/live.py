"""The live source: the part of the cluster one diagnosis needs, read from the API server.

A snapshot for one target holds the workload, what it owns on the way to its pods (a
Deployment's ReplicaSets, a CronJob's Jobs; found through ownerReferences, never by name), its
pods, a StatefulSet's or DaemonSet's ControllerRevisions, the PersistentVolumeClaims its pods
mount, the Events about all of those, the log tails of containers that crashed
(``previous=true``) or are stuck, and the Nodes its pods run on (their Ready condition, taints
and architecture; a namespace snapshot reads only the nodes of pods that look node-related:
a lost node, an "exec format error"). A :class:`~highpeaks_agent.visibility.Visibility` narrows
that to what the asking user may read (/assist): kinds, logs and Events it does not allow are
never requested, so they cannot reach the engine or an answer. Every kind is read the same
way, from its row in :mod:`highpeaks_agent.engine.kinds` (no reader per kind), through
:mod:`highpeaks_agent.kubeapi`, and every log read is capped in lines and bytes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from highpeaks_agent.engine.analyzers.volumes import claim_names
from highpeaks_agent.engine.classify import is_exec_format_error
from highpeaks_agent.engine.crashlog import dependency_hosts
from highpeaks_agent.engine.delivery import (
    DELIVERY_KINDS,
    Manager,
    git_repository_of,
    manager_of,
)
from highpeaks_agent.engine.dependencies import selected_pods, service_for
from highpeaks_agent.engine.kinds import (
    BY_KIND,
    CONTROLLER_REVISION,
    ENDPOINT_SLICE,
    EVENT,
    KINDS,
    NODE,
    PERSISTENT_VOLUME_CLAIM,
    SERVICE,
    TARGET_KINDS,
    KindInfo,
)
from highpeaks_agent.engine.model import ObjectRef
from highpeaks_agent.engine.node_signs import shows_lost_node
from highpeaks_agent.engine.snapshot import ContainerLog, Snapshot, controller_ref, meta
from highpeaks_agent.errors import Forbidden, NotReadable, TargetNotFound, UnsupportedTarget
from highpeaks_agent.kubeapi import Query, get_bytes, get_json, resource_path
from highpeaks_agent.visibility import EVERYTHING, Visibility

log = logging.getLogger(__name__)

#: What a namespace diagnosis lists: every target and workload kind, and their namespaced
#: evidence (nodes are read one by one, only those pods point at).
NAMESPACE_KINDS: tuple[KindInfo, ...] = tuple(
    info for info in KINDS if (info.target or info.workload or info.evidence) and info.namespaced
)
_POD, _REPLICASET, _JOB = BY_KIND["Pod"], BY_KIND["ReplicaSet"], BY_KIND["Job"]
#: Kinds that own what stands between them and their pods, read with them as a target.
_INTERMEDIATE: dict[str, KindInfo] = {"Deployment": _REPLICASET, "CronJob": _JOB}
#: Kinds whose pod templates are kept as ControllerRevisions.
_REVISIONED = frozenset({"StatefulSet", "DaemonSet"})

#: Containers whose logs are worth reading: at most this many pods per target.
MAX_PODS_WITH_LOGS = 3
#: Services a crashed container could not use, followed to their workload: at most this many.
MAX_DEPENDENCIES = 2
#: Kinds the operator lists but never gets (its ClusterRole): read by name with a selector.
_LISTED_ONLY = frozenset(
    {CONTROLLER_REVISION.kind, PERSISTENT_VOLUME_CLAIM.kind, SERVICE.kind, ENDPOINT_SLICE.kind}
)
#: Nodes read for one snapshot at most (each is one GET).
MAX_NODES = 10
#: GitOps objects (Applications, Kustomizations, HelmReleases) read for one snapshot at most;
#: each may bring its GitRepository, a second GET.
MAX_DELIVERY_SOURCES = 10
_DELIVERY_INFO = {info.kind: info for info in DELIVERY_KINDS}
#: Workloads whose rollout may be what fails: the ones whose GitOps source is worth a read.
_ROLLED_OUT = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
#: Event reasons about a pod that point at its node.
_NODE_EVENT_REASONS = frozenset({"NodeNotReady", "TaintManagerEviction", "NodeControllerEviction"})


class LiveSource:
    """Reads snapshots from the API server for one target or one namespace."""

    def __init__(
        self,
        api_client: client.ApiClient,
        *,
        log_tail_lines: int = 100,
        log_tail_bytes: int = 16384,
    ) -> None:
        self._api = api_client
        self._log_tail_lines = log_tail_lines
        self._log_tail_bytes = log_tail_bytes

    # --- public ------------------------------------------------------------------------

    async def target_snapshot(
        self, namespace: str, kind: str, name: str, *, visible: Visibility = EVERYTHING
    ) -> Snapshot:
        """The target workload with its ReplicaSets, pods, their events and failing logs,
        as far as ``visible`` allows.

        Raises :class:`TargetNotFound` when the target does not exist,
        :class:`UnsupportedTarget` for a kind the engine does not diagnose and
        :class:`Forbidden` for a target kind ``visible`` does not include.
        """
        info = BY_KIND.get(kind)
        if info is None or not info.target:
            raise UnsupportedTarget(kind, TARGET_KINDS)
        if not visible.may_read(kind):
            raise Forbidden(f"may not get {info.plural} in namespace {namespace}")
        target = await self._read_target(namespace, info, name)
        objects: list[dict[str, Any]] = [target]
        if info is _POD:
            pods = [target]
        else:
            owners = [target, *await self._intermediates(namespace, target, visible)]
            objects.extend(owners[1:])
            pods = await self._pods_of(namespace, owners) if visible.pods else []
            objects.extend(pods)
        if kind in _REVISIONED and visible.may_read(CONTROLLER_REVISION.kind):
            objects.extend(await self._owned(namespace, CONTROLLER_REVISION, target))
        if visible.may_read(PERSISTENT_VOLUME_CLAIM.kind):
            objects.extend(await self._claims_of(namespace, pods))
        events = await self._list(namespace, EVENT, None) if visible.events else []
        objects.extend(_events_about(events, objects))
        snapshot = Snapshot.from_objects(objects)
        if visible.logs:
            await self._read_logs(snapshot, pods)
            await self._add_dependencies(snapshot, namespace, events, visible)
        if visible.may_read(NODE.kind):
            # every node of the target's pods, the suspicious ones first should they be many
            ranked = sorted(pods, key=lambda pod: not _node_related(pod, snapshot))
            await self._add_nodes(snapshot, ranked)
        if kind in _ROLLED_OUT:
            if visible.delivery:
                await self._add_delivery_sources(snapshot, [target])
            else:
                _not_read_for_caller(snapshot, target)
        return snapshot

    async def namespace_snapshot(
        self, namespace: str, *, visible: Visibility = EVERYTHING
    ) -> Snapshot:
        """Every workload, pod and event of one namespace, with logs of failing containers,
        as far as ``visible`` allows."""
        return await self._listed_snapshot(namespace, visible)

    async def all_namespaces_snapshot(self) -> Snapshot:
        """Every workload, pod and event of every namespace (list calls without a namespace,
        as ``kubectl get -A`` makes them), with logs of failing containers."""
        return await self._listed_snapshot(None, EVERYTHING)

    async def _listed_snapshot(self, namespace: str | None, visible: Visibility) -> Snapshot:
        kinds = [
            info
            for info in NAMESPACE_KINDS
            if (visible.events if info is EVENT else visible.may_read(info.kind))
        ]
        results = await asyncio.gather(*(self._list(namespace, info, None) for info in kinds))
        objects = [obj for items in results for obj in items]
        snapshot = Snapshot.from_objects(objects)
        if visible.logs:
            await self._read_logs(snapshot, snapshot.pods, per_owner=MAX_PODS_WITH_LOGS)
        if visible.may_read(NODE.kind):
            await self._add_nodes(
                snapshot, [p for p in snapshot.pods if _node_related(p, snapshot)]
            )
        if visible.delivery:
            rolling = [
                w
                for w in (*snapshot.deployments, *snapshot.statefulsets, *snapshot.daemonsets)
                if _rolling_out(w)
            ]
            await self._add_delivery_sources(snapshot, rolling)
        return snapshot

    # --- single reads (the tools of /mcp) ---------------------------------------------------

    async def read_object(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """One namespaced object of a kind in :mod:`~highpeaks_agent.engine.kinds`, or None.

        Kinds the operator only lists (its ClusterRole has no ``get`` on them) are listed with
        a field selector on the name."""
        info = BY_KIND[kind]
        if kind in _LISTED_ONLY:
            query: Query = [("fieldSelector", f"metadata.name={name}")]
            listed = await get_json(self._api, resource_path(info, namespace), query)
            items = [i for i in listed.get("items") or [] if isinstance(i, dict)]
            found = [i for i in items if meta(i).get("name") == name]
            return _with_kind(found[0], kind) if found else None
        try:
            return await self._read_target(namespace, info, name)
        except TargetNotFound:
            return None

    async def events_about(self, namespace: str, kind: str, name: str) -> list[dict[str, Any]]:
        """The Events whose involved object is ``kind/name`` in ``namespace``."""
        query: Query = [("fieldSelector", f"involvedObject.kind={kind},involvedObject.name={name}")]
        result = await get_json(self._api, resource_path(EVENT, namespace), query)
        return [
            _with_kind(e, EVENT.kind)
            for e in result.get("items") or []
            if isinstance(e, dict)
            and (e.get("involvedObject") or {}).get("kind") == kind
            and (e.get("involvedObject") or {}).get("name") == name
        ]

    async def container_log(
        self,
        namespace: str,
        pod: str,
        container: str,
        *,
        previous: bool,
        tail_lines: int,
        limit_bytes: int,
    ) -> str:
        """A container's log tail; raises :class:`NotReadable` (with the API server's reason)
        when there is none, e.g. no previous instance."""
        query: Query = [
            ("container", container),
            ("limitBytes", limit_bytes),
            ("previous", previous),
            ("tailLines", tail_lines),
        ]
        try:
            raw = await get_bytes(self._api, resource_path(_POD, namespace, pod, "log"), query)
        except ApiException as exc:
            if exc.status in (400, 404):
                raise NotReadable(_log_refusal(exc)) from exc
            raise
        return raw[-limit_bytes:].decode("utf-8", errors="replace")

    async def node(self, name: str) -> dict[str, Any] | None:
        """A Node by name, or None when it is gone."""
        return await self._read_node(name)

    async def runs_pods_on(self, namespace: str, node: str) -> bool:
        """Whether some pod of ``namespace`` is bound to ``node``."""
        query: Query = [("fieldSelector", f"spec.nodeName={node}")]
        result = await get_json(self._api, resource_path(_POD, namespace), query)
        return any(
            isinstance(p, dict) and (p.get("spec") or {}).get("nodeName") == node
            for p in result.get("items") or []
        )

    # --- reading -----------------------------------------------------------------------

    async def _add_dependencies(
        self, snapshot: Snapshot, namespace: str, events: list[dict[str, Any]], visible: Visibility
    ) -> None:
        """The Services the crashed containers' logs could not reach, their EndpointSlices, and
        the workload behind each (its pods, what it owns, their Events): a few bounded reads,
        made only when a log names such a host (CONTRACT §2a)."""
        hosts = dependency_hosts(entry.text for entry in snapshot.logs.values())
        if not hosts or not visible.may_read(SERVICE.kind):
            return
        for listed in await self._list(namespace, SERVICE, None):
            snapshot.add(listed, kind=SERVICE.kind)
        if visible.may_read(ENDPOINT_SLICE.kind):
            for endpoint_slice in await self._list(namespace, ENDPOINT_SLICE, None):
                snapshot.add(endpoint_slice, kind=ENDPOINT_SLICE.kind)
        snapshot.reindex()
        behind: list[dict[str, Any]] = []
        for host in hosts[:MAX_DEPENDENCIES]:
            service = service_for(host, namespace, snapshot)
            if service is not None and visible.pods:
                behind.extend(await self._behind(namespace, service, snapshot, visible))
        known = {id(o) for o in snapshot.all_objects()}
        added = [o for o in behind if id(o) not in known]
        for obj in [*added, *_events_about(events, added)]:
            snapshot.add(obj)
        snapshot.reindex()

    async def _behind(
        self,
        namespace: str,
        service: Mapping[str, Any],
        snapshot: Snapshot,
        visible: Visibility,
    ) -> list[dict[str, Any]]:
        """The pods a Service selects and the workload that controls them."""
        selector = ",".join(
            f"{k}={v}"
            for k, v in sorted(((service.get("spec") or {}).get("selector") or {}).items())
        )
        if not selector or selected_pods(service, snapshot):
            return []  # no selector, or the snapshot already holds its pods
        wanted = ((service.get("spec") or {}).get("selector") or {}).items()
        pods = [
            pod
            for pod in await self._list(namespace, _POD, selector)
            if all((meta(pod).get("labels") or {}).get(k) == v for k, v in wanted)
        ]
        if not pods:
            return []
        chain: list[dict[str, Any]] = []
        current: Mapping[str, Any] = pods[0]
        for _ in range(3):  # Pod -> ReplicaSet -> Deployment is the longest chain
            ref = controller_ref(current)
            info = BY_KIND.get(str((ref or {}).get("kind")))
            if ref is None or info is None or not info.target or not visible.may_read(info.kind):
                break
            try:
                current = await self._read_target(namespace, info, str(ref.get("name")))
            except TargetNotFound:
                break
            chain.append(current)
        return [*pods, *chain]

    async def _read_target(self, namespace: str, info: KindInfo, name: str) -> dict[str, Any]:
        try:
            obj = await get_json(self._api, resource_path(info, namespace, name))
        except ApiException as exc:
            if exc.status == 404:
                raise TargetNotFound(info.kind, namespace, name) from exc
            raise
        return _with_kind(obj, info.kind)

    async def _intermediates(
        self, namespace: str, target: dict[str, Any], visible: Visibility
    ) -> list[dict[str, Any]]:
        """What the target owns between itself and its pods: ReplicaSets, or Jobs."""
        info = _INTERMEDIATE.get(str(target.get("kind")))
        if info is None or not visible.may_read(info.kind):
            return []
        return await self._owned(namespace, info, target)

    async def _owned(
        self, namespace: str, info: KindInfo, owner: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Objects of one kind whose controller is ``owner`` (narrowed by its selector)."""
        candidates = await self._list(namespace, info, _selector_string(owner))
        return [obj for obj in candidates if _owned_by(obj, owner)]

    async def _pods_of(self, namespace: str, owners: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The pods the owners (the target first) control. The target's selector covers its
        ReplicaSets' pods too; a CronJob has none, so each of its Jobs' own is used."""
        target, *owned = owners
        selecting = owned if target.get("kind") == "CronJob" else [target]
        selectors = sorted({_selector_string(o) or "" for o in selecting})
        listed = await asyncio.gather(
            *(self._list(namespace, _POD, selector or None) for selector in selectors)
        )
        uids = {meta(o).get("uid") for o in owners}
        found: dict[Any, dict[str, Any]] = {}
        for pod in (p for items in listed for p in items):
            if (controller_ref(pod) or {}).get("uid") in uids:
                found.setdefault(meta(pod).get("uid") or meta(pod).get("name"), pod)
        return list(found.values())

    async def _claims_of(self, namespace: str, pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The PersistentVolumeClaims the pods mount (read only when some pod mounts one)."""
        wanted = {claim for pod in pods for claim in claim_names(pod)}
        if not wanted:
            return []
        claims = await self._list(namespace, PERSISTENT_VOLUME_CLAIM, None)
        return [c for c in claims if meta(c).get("name") in wanted]

    async def _add_nodes(self, snapshot: Snapshot, pods: list[dict[str, Any]]) -> None:
        """Read the distinct nodes the pods run on (at most :data:`MAX_NODES`) into the
        snapshot; a node that is gone (404) is left out."""
        names = [n for n in dict.fromkeys(_node_name(p) for p in pods) if n][:MAX_NODES]
        if not names:
            return
        nodes = await asyncio.gather(*(self._read_node(name) for name in names))
        for node in nodes:
            if node is not None:
                snapshot.add(node, kind=NODE.kind)
        snapshot.reindex()

    async def _read_node(self, name: str) -> dict[str, Any] | None:
        try:
            return _with_kind(await get_json(self._api, resource_path(NODE, None, name)), NODE.kind)
        except ApiException as exc:
            # 404: deleted with its machine, the pods' own status still tells; 403: a user's
            # own credentials (`diagnose --live`) often stop at the namespace, and a node is
            # extra evidence, so the diagnosis goes on without it
            if exc.status in (403, 404):
                log.debug("node %s not read: %s", name, exc.reason)
                return None
            raise

    async def _add_delivery_sources(
        self, snapshot: Snapshot, workloads: list[dict[str, Any]]
    ) -> None:
        """Read the Argo CD Applications, Flux Kustomizations and HelmReleases that applied
        the workloads (each once, at most :data:`MAX_DELIVERY_SOURCES`), and a Flux object's
        GitRepository: one GET each, two for Flux. Absent CRDs (404) and reads the credentials
        may not make (403) are skipped quietly and recorded, so the diagnosis says it could not
        see the source."""
        managers: dict[tuple[str, str, str], Manager] = {}
        for workload in workloads:
            manager = manager_of(workload)
            if manager is not None and manager.source.kind in _DELIVERY_INFO:
                ref = manager.source
                managers.setdefault((ref.kind, ref.namespace or "", ref.name), manager)
        chosen = list(managers.values())[:MAX_DELIVERY_SOURCES]
        if not chosen:
            return
        sources = await asyncio.gather(
            *(self._read_optional(snapshot, m.source, quiet=m.guessed) for m in chosen)
        )
        # Flux objects built from one GitRepository (the usual fleet repository): read it once
        repositories = {
            ref: None for ref in (git_repository_of(s) for s in sources if s is not None) if ref
        }
        await asyncio.gather(
            *(self._read_optional(snapshot, ref, quiet=False) for ref in repositories)
        )
        snapshot.reindex()

    async def _read_optional(
        self, snapshot: Snapshot, ref: ObjectRef, *, quiet: bool
    ) -> dict[str, Any] | None:
        """One GitOps object into the snapshot; on any refusal, None and (unless ``quiet``:
        only a label hinted at it) the reason, recorded for the diagnosis to say."""
        kind, namespace, name = ref.kind, ref.namespace or "", ref.name
        info = _DELIVERY_INFO[kind]
        try:
            obj = _with_kind(await get_json(self._api, resource_path(info, namespace, name)), kind)
        except ApiException as exc:
            log.debug("%s %s/%s not read: %s %s", kind, namespace, name, exc.status, exc.reason)
            if not quiet:
                snapshot.unread_sources[(kind, namespace, name)] = _refusal(exc)
            return None
        snapshot.add(obj, kind=kind)
        return obj

    async def _list(
        self, namespace: str | None, info: KindInfo, label_selector: str | None
    ) -> list[dict[str, Any]]:
        query: Query = [("labelSelector", label_selector)] if label_selector else []
        result = await get_json(self._api, resource_path(info, namespace), query)
        items = result.get("items")
        return [_with_kind(item, info.kind) for item in items or [] if isinstance(item, dict)]

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
        query: Query = [
            ("container", container),
            ("limitBytes", self._log_tail_bytes),
            ("previous", previous),
            ("tailLines", self._log_tail_lines),
        ]
        try:
            raw = await get_bytes(self._api, resource_path(_POD, namespace, pod, "log"), query)
        except ApiException as exc:
            if exc.status == 429 or (exc.status or 0) >= 500:
                # the server could not answer now: the look fails and is made again, rather
                # than deciding without the log (a less refined cause, then a second note)
                raise
            # 400 "previous terminated container not found" and friends: no log is evidence too
            log.debug("no log for %s/%s[%s]: %s", namespace, pod, container, exc.reason)
            return None
        return raw[-self._log_tail_bytes :].decode("utf-8", errors="replace")


def _events_about(
    events: list[dict[str, Any]], objects: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    wanted = {meta(o).get("uid") for o in objects}
    return [e for e in events if (e.get("involvedObject") or {}).get("uid") in wanted]


def _with_kind(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    # list items carry no ``kind``: the List's kind names it once for all of them
    obj.setdefault("kind", kind)
    return obj


def _not_read_for_caller(snapshot: Snapshot, workload: Mapping[str, Any]) -> None:
    """Record why an /assist caller's diagnosis does not name the commit: its source is not
    read with a caller's share (no review covers it)."""
    manager = manager_of(workload)
    if manager is None or manager.guessed or manager.source.kind not in _DELIVERY_INFO:
        return
    ref = manager.source
    key = (ref.kind, ref.namespace or "", ref.name)
    snapshot.unread_sources[key] = "not read with the asker's rights"


def _log_refusal(exc: ApiException) -> str:
    """The API server's own words for a log it cannot give (its Status ``message``)."""
    try:
        message = json.loads(exc.body or "{}").get("message")
    except (ValueError, AttributeError):
        message = None
    return str(message or f"{exc.status} {exc.reason or ''}").strip()


def _refusal(exc: ApiException) -> str:
    """Why a GitOps object could not be read, in a few words for the diagnosis."""
    if exc.status == 403:
        return "reading it is forbidden"
    if exc.status == 404:
        return "not found (its CRD or the object is absent)"
    return f"the API server answered {exc.status} {exc.reason or ''}".rstrip()


def _rolling_out(workload: Mapping[str, Any]) -> bool:
    """A workload whose replicas are not all updated and available: its rollout may be what
    fails, so its GitOps source is worth a read."""
    spec, status = workload.get("spec") or {}, workload.get("status") or {}
    if workload.get("kind") == "DaemonSet":
        desired = status.get("desiredNumberScheduled", 0)
        return (
            bool(status.get("numberUnavailable"))
            or status.get("updatedNumberScheduled", 0) < desired
        )
    replicas = int(spec.get("replicas", 1) or 0)
    ready = int(status.get("availableReplicas", status.get("readyReplicas", 0)) or 0)
    return int(status.get("updatedReplicas", 0) or 0) < replicas or ready < replicas


def _node_name(pod: Mapping[str, Any]) -> str | None:
    name = (pod.get("spec") or {}).get("nodeName")
    return name if isinstance(name, str) and name else None


def _node_related(pod: Mapping[str, Any], snapshot: Snapshot) -> bool:
    """Whether the pod's trouble may lie with its node: a lost node, or a container the
    kernel refused to execute (the node's architecture is the evidence)."""
    if _node_name(pod) is None:
        return False
    if shows_lost_node(pod) or any(
        e.get("reason") in _NODE_EVENT_REASONS for e in snapshot.events_for(pod)
    ):
        return True
    return _exec_format_error(pod, snapshot)


def _exec_format_error(pod: Mapping[str, Any], snapshot: Snapshot) -> bool:
    md = meta(pod)
    texts = [str(e.get("message") or "") for e in snapshot.events_for(pod)]
    for key in ("initContainerStatuses", "containerStatuses"):
        for cs in (pod.get("status") or {}).get(key) or []:
            if not isinstance(cs, Mapping):
                continue
            for state in (cs.get("state") or {}, cs.get("lastState") or {}):
                texts.extend(
                    str(s.get("message") or "") for s in state.values() if isinstance(s, Mapping)
                )
            found = snapshot.log(md.get("namespace", ""), md.get("name", ""), str(cs.get("name")))
            if found is not None:
                texts.append(found.text)
    return any(is_exec_format_error(text) for text in texts)


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
