"""One indexed view of the cluster objects the engine reasons about.

Every source (a ``cluster-info dump`` tree, a List file, the live API) produces a
:class:`Snapshot`; the analyzers cannot tell where the objects came from. Objects stay the
plain dicts the API server returns. Indexes are built once, so looking up a pod's owner, a
ReplicaSet's pods or an object's events is a dict access, not a scan: the engine must diagnose
10,000 pods well under a second.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from highpeaks_agent.engine.node_signs import lost_node_lines
from highpeaks_agent.engine.redact import Redactor, redactor_for
from highpeaks_agent.engine.timeutil import parse_time, parse_time_uncached

KubeObject = dict[str, Any]

#: kind → the snapshot attribute that holds objects of that kind.
KIND_BUCKETS: dict[str, str] = {
    "Pod": "pods",
    "Event": "events",
    "ReplicaSet": "replicasets",
    "Deployment": "deployments",
    "StatefulSet": "statefulsets",
    "DaemonSet": "daemonsets",
    "Job": "jobs",
    "CronJob": "cronjobs",
    "ReplicationController": "replicationcontrollers",
    "Node": "nodes",
    "Service": "services",
    "EndpointSlice": "endpointslices",
    "ControllerRevision": "controllerrevisions",
    "PersistentVolumeClaim": "persistentvolumeclaims",
    # who applied a workload (engine/delivery.py): Argo CD and Flux objects
    "Application": "applications",
    "Kustomization": "kustomizations",
    "HelmRelease": "helmreleases",
    "GitRepository": "gitrepositories",
}


@dataclass(frozen=True, slots=True)
class ContainerLog:
    """The text of one container's log, and whether it is the previous (crashed) instance's."""

    text: str
    previous: bool = False


def meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """``obj.metadata`` as a mapping, tolerating missing or mistyped metadata."""
    value = obj.get("metadata")
    if type(value) is dict:  # the common case, without the slow ABC check
        return value
    return value if isinstance(value, Mapping) else {}


def obj_key(kind: str, namespace: str | None, name: str) -> tuple[str, str, str]:
    """The key objects are indexed by: (kind, namespace or "", name)."""
    return (kind, namespace or "", name)


def controller_ref(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The ownerReference with ``controller: true`` (the object's managing controller)."""
    refs = meta(obj).get("ownerReferences")
    if not isinstance(refs, list):
        return None
    for ref in refs:
        if (type(ref) is dict or isinstance(ref, Mapping)) and ref.get("controller") is True:
            return ref
    return None


@dataclass
class Snapshot:
    """Kubernetes objects by kind, with ownership and event indexes.

    Build one with :meth:`from_objects` (or :meth:`add` then :meth:`reindex`). ``warnings``
    collects what a source skipped (objects of the wrong shape), for the CLI to print.
    """

    pods: list[KubeObject] = field(default_factory=list)
    events: list[KubeObject] = field(default_factory=list)
    replicasets: list[KubeObject] = field(default_factory=list)
    deployments: list[KubeObject] = field(default_factory=list)
    statefulsets: list[KubeObject] = field(default_factory=list)
    daemonsets: list[KubeObject] = field(default_factory=list)
    jobs: list[KubeObject] = field(default_factory=list)
    cronjobs: list[KubeObject] = field(default_factory=list)
    replicationcontrollers: list[KubeObject] = field(default_factory=list)
    nodes: list[KubeObject] = field(default_factory=list)
    services: list[KubeObject] = field(default_factory=list)
    endpointslices: list[KubeObject] = field(default_factory=list)
    controllerrevisions: list[KubeObject] = field(default_factory=list)
    persistentvolumeclaims: list[KubeObject] = field(default_factory=list)
    applications: list[KubeObject] = field(default_factory=list)
    kustomizations: list[KubeObject] = field(default_factory=list)
    helmreleases: list[KubeObject] = field(default_factory=list)
    gitrepositories: list[KubeObject] = field(default_factory=list)
    #: (kind, namespace, name) of a GitOps object a source tried and failed to read → why
    unread_sources: dict[tuple[str, str, str], str] = field(default_factory=dict)
    #: (namespace, pod, container) → that container's log
    logs: dict[tuple[str, str, str], ContainerLog] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    #: well-formed objects of kinds the engine does not read (a PVC, a ConfigMap): valid input
    unread_objects: int = 0

    _by_uid: dict[str, KubeObject] = field(default_factory=dict, repr=False)
    _by_key: dict[tuple[str, str, str], KubeObject] = field(default_factory=dict, repr=False)
    _children: dict[int, list[KubeObject]] = field(
        default_factory=lambda: defaultdict(list), repr=False
    )
    _events_for: dict[Any, list[KubeObject]] = field(
        default_factory=lambda: defaultdict(list), repr=False
    )

    @classmethod
    def from_objects(cls, objects: Iterable[Any]) -> Snapshot:
        """A snapshot of the given objects; non-dicts and unknown kinds are skipped."""
        snap = cls()
        for obj in objects:
            snap.add(obj)
        snap.reindex()
        return snap

    def add(self, obj: Any, *, kind: str | None = None) -> bool:
        """File one object under its kind; returns False (and records why) when skipped.

        ``kind`` is for items of a typed list (``PodList``), which carry no ``kind`` of their own.
        """
        if not isinstance(obj, dict):
            self.warnings.append(f"skipped an item that is not an object: {type(obj).__name__}")
            return False
        kind = obj.get("kind") if isinstance(obj.get("kind"), str) else kind
        if kind is None:
            self.warnings.append("skipped an object without a kind")
            return False
        bucket = KIND_BUCKETS.get(kind)
        md = obj.get("metadata")
        well_formed = isinstance(md, dict) and isinstance(md.get("name"), str)
        if bucket is None:
            self.unread_objects += well_formed  # kinds the engine does not read are no error
            return False
        if not well_formed:
            self.warnings.append(f"skipped a {kind} without metadata.name")
            return False
        if "kind" not in obj:
            obj = {**obj, "kind": kind}
        getattr(self, bucket).append(obj)
        return True

    def reindex(self) -> None:
        """(Re)build the lookup indexes; call after adding objects."""
        self.__dict__.pop("redactor", None)  # the objects' secrets may have changed too
        self.__dict__.pop("lost_nodes", None)
        self.__dict__.pop("pods_by_namespace", None)
        self._by_uid.clear()
        self._by_key.clear()
        self._children.clear()
        self._events_for.clear()
        # one pass per index over 10,000s of objects: dict lookups inlined, no helper calls
        by_uid, by_key = self._by_uid, self._by_key
        buckets = [(k, getattr(self, b)) for k, b in KIND_BUCKETS.items() if k != "Event"]
        for kind, objects in buckets:
            for obj in objects:
                md = meta(obj)
                uid = md.get("uid")
                if type(uid) is str and uid:
                    by_uid[uid] = obj
                by_key[(kind, md.get("namespace") or "", md["name"])] = obj
        children = self._children
        for _, objects in buckets:
            for obj in objects:
                ref = controller_ref(obj)
                if ref is None:
                    continue
                owner = self._resolve_ref(obj, ref)
                if owner is not None:
                    children[id(owner)].append(obj)
        for event in self.events:
            involved = event.get("involvedObject") or event.get("regarding")
            if not isinstance(involved, Mapping):
                continue
            uid = involved.get("uid")
            if isinstance(uid, str) and uid:
                self._events_for[uid].append(event)
            name = involved.get("name")
            if isinstance(name, str):
                ns = involved.get("namespace") or meta(event).get("namespace")
                key = obj_key(str(involved.get("kind", "")), ns, name)
                self._events_for[key].append(event)

    def _resolve_ref(
        self, obj: Mapping[str, Any], ref: Mapping[str, Any] | None
    ) -> KubeObject | None:
        if ref is None:
            return None
        uid = ref.get("uid")
        if isinstance(uid, str) and uid in self._by_uid:
            return self._by_uid[uid]
        kind, name = ref.get("kind"), ref.get("name")
        if isinstance(kind, str) and isinstance(name, str):
            return self._by_key.get(obj_key(kind, meta(obj).get("namespace"), name))
        return None

    @cached_property
    def redactor(self) -> Redactor:
        """Redacts text, knowing the literal secrets of these objects; built on first use."""
        return redactor_for(self.all_objects())

    @cached_property
    def lost_nodes(self) -> frozenset[str]:
        """Names of the Nodes whose own status shows them lost (Ready False or Unknown, the
        lifecycle controller's taints); judged once per Node, not once per pod on it."""
        return frozenset(
            name
            for node in self.nodes
            if type(name := meta(node).get("name")) is str and lost_node_lines(node, name)
        )

    @cached_property
    def pods_by_namespace(self) -> Mapping[str, list[KubeObject]]:
        """Pods by namespace: where a Service's selector looks (built on first use)."""
        found: dict[str, list[KubeObject]] = defaultdict(list)
        for pod in self.pods:
            found[meta(pod).get("namespace") or ""].append(pod)
        return found

    # --- lookups -------------------------------------------------------------------------

    def get(self, kind: str, namespace: str | None, name: str) -> KubeObject | None:
        """The object of that kind, namespace and name, if the snapshot has it."""
        return self._by_key.get(obj_key(kind, namespace, name))

    def owner(self, obj: Mapping[str, Any]) -> KubeObject | None:
        """The object's controlling owner, when the snapshot holds it."""
        return self._resolve_ref(obj, controller_ref(obj))

    def children(self, owner: Mapping[str, Any], kind: str | None = None) -> list[KubeObject]:
        """Objects whose controlling ownerReference points at ``owner`` (optionally one kind)."""
        found = self._children.get(id(owner), [])
        return [c for c in found if kind is None or c.get("kind") == kind]

    def events_for(self, obj: Mapping[str, Any]) -> list[KubeObject]:
        """Events whose involvedObject is ``obj`` (matched by uid, else kind/namespace/name).

        Sorted oldest first by their last occurrence, each event once.
        """
        md = meta(obj)
        found: dict[int, KubeObject] = {}
        uid = md.get("uid")
        if isinstance(uid, str) and uid:
            for ev in self._events_for.get(uid, []):
                found[id(ev)] = ev
        name = md.get("name")
        if isinstance(name, str):
            key = obj_key(str(obj.get("kind", "")), md.get("namespace"), name)
            for ev in self._events_for.get(key, []):
                involved_uid = (ev.get("involvedObject") or ev.get("regarding") or {}).get("uid")
                # an event about an earlier object of the same name is not about this one
                if not (uid and involved_uid and involved_uid != uid):
                    found[id(ev)] = ev
        return sorted(found.values(), key=event_time_key)

    def log(self, namespace: str, pod: str, container: str) -> ContainerLog | None:
        """The container's log, if the source had it."""
        return self.logs.get((namespace, pod, container))

    def namespaces(self) -> list[str]:
        """Namespaces that hold at least one pod or workload, sorted."""
        found: set[str] = set()
        for kind, bucket in KIND_BUCKETS.items():
            if kind in ("Node", "Event"):
                continue
            for obj in getattr(self, bucket):
                ns = meta(obj).get("namespace")
                if isinstance(ns, str):
                    found.add(ns)
        return sorted(found)

    def all_objects(self) -> Iterator[KubeObject]:
        """Every object in the snapshot, events included."""
        for bucket in KIND_BUCKETS.values():
            yield from getattr(self, bucket)

    def node(self, name: Any) -> KubeObject | None:
        """The Node of that name (a pod's ``spec.nodeName``), when the source had nodes."""
        return self._by_key.get(obj_key("Node", None, name)) if isinstance(name, str) else None

    def newest_timestamp(self) -> datetime | None:
        """The latest time any object in the snapshot records (CONTRACT §2).

        This is "now" for an offline dump, so a post-mortem reads the same whenever it is run
        and no age is measured against today's clock: every time a rule measures an age from
        is among these, so with none at all no age is measured.
        """
        values: set[str] = set()
        for obj in self.all_objects():
            _collect_timestamps(obj, values)
        return _latest(values)


def _latest(values: set[str]) -> datetime | None:
    """The latest of many timestamps, parsing few: strings of one layout (same length, same
    zone suffix, as the API server writes them) sort like the times they denote."""
    by_layout: dict[tuple[int, str], list[str]] = defaultdict(list)
    for value in values:
        by_layout[(len(value), value[-1:])].append(value)
    latest: datetime | None = None
    for (_, suffix), group in by_layout.items():
        candidates = [max(group)] if suffix == "Z" else group
        parsed = [t for t in map(parse_time_uncached, candidates) if t is not None]
        if not parsed and suffix == "Z":  # the largest string was not a time: parse them all
            parsed = [t for t in map(parse_time_uncached, group) if t is not None]
        if parsed and (latest is None or max(parsed) > latest):
            latest = max(parsed)
    return latest


_META_TIMES = ("creationTimestamp",)
_EVENT_TIMES = ("lastTimestamp", "eventTime", "firstTimestamp")
_SERIES_TIMES = ("lastObservedTime",)
_RUN_TIMES = ("startedAt", "finishedAt")
_STATUS_TIMES = ("startTime", "completionTime", "lastScheduleTime", "lastSuccessfulTime")
_CONDITION_TIMES = ("lastTransitionTime", "lastProbeTime", "lastHeartbeatTime", "lastUpdateTime")
_CONTAINER_KEYS = ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses")


def _collect_timestamps(obj: Mapping[str, Any], into: set[str]) -> None:
    """Add every timestamp string of one object to ``into`` (runs for each of 10,000 pods)."""
    _add(into, obj.get("metadata"), _META_TIMES)
    _add(into, obj, _EVENT_TIMES)
    _add(into, obj.get("series"), _SERIES_TIMES)
    status = obj.get("status")
    if type(status) is not dict:
        return
    _add(into, status, _STATUS_TIMES)
    conditions = status.get("conditions")
    if type(conditions) is list:
        for condition in conditions:
            _add(into, condition, _CONDITION_TIMES)
    for key in _CONTAINER_KEYS:
        containers = status.get(key)
        if type(containers) is not list:
            continue
        for container in containers:
            if type(container) is dict:
                for state_key in ("state", "lastState"):
                    state = container.get(state_key)
                    if type(state) is dict:
                        for phase in state.values():
                            _add(into, phase, _RUN_TIMES)


def _add(into: set[str], source: Any, names: tuple[str, ...]) -> None:
    if type(source) is dict:
        for name in names:
            value = source.get(name)
            if type(value) is str:
                into.add(value)


def event_time_key(event: Mapping[str, Any]) -> float:
    """Sort key: an event's last occurrence as a POSIX timestamp (0 when it has none)."""
    for field_name in ("lastTimestamp", "eventTime", "firstTimestamp"):
        when = parse_time(event.get(field_name))
        if when is not None:
            return when.timestamp()
    created = parse_time(meta(event).get("creationTimestamp"))
    return created.timestamp() if created is not None else 0.0
