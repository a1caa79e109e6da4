"""What a source gathered for one ``diagnose`` run, whichever source it was."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from highpeaks_agent.engine.model import ObjectRef
from highpeaks_agent.engine.snapshot import KIND_BUCKETS, Snapshot, meta

#: Snapshot buckets that hold something the engine diagnoses (events, nodes and the GitOps
#: objects that applied a workload are context).
_CONTEXT_KINDS = frozenset(
    {"Event", "Node", "Service", "Application", "Kustomization", "HelmRelease", "GitRepository"}
)
_DIAGNOSABLE = tuple(bucket for kind, bucket in KIND_BUCKETS.items() if kind not in _CONTEXT_KINDS)


@dataclass(frozen=True, slots=True)
class Gathered:
    """A snapshot and how to read it: "now", and what part of it was asked about."""

    snapshot: Snapshot
    now: datetime
    scope: str
    """What is diagnosed, in words: ``namespace shop``, ``Deployment shop/checkout`` …"""
    subject: str
    """Stable identity of what is diagnosed (the flow's conversation and cache key)."""
    namespace: str | None = None
    """Only this namespace; None for every namespace in the snapshot."""
    target: ObjectRef | None = None
    """Only this workload (``--live KIND/NAME``)."""

    @property
    def pods(self) -> int:
        """Pods checked: those of the namespace asked about, or all."""
        if self.namespace is None:
            return len(self.snapshot.pods)
        return sum(1 for p in self.snapshot.pods if meta(p).get("namespace") == self.namespace)

    @property
    def namespaces(self) -> int:
        """Namespaces checked."""
        return 1 if self.namespace is not None else len(self.snapshot.namespaces())


def diagnosable_namespaces(snapshot: Snapshot) -> set[str]:
    """Namespaces holding at least one pod or workload (not only events or services)."""
    found: set[str] = set()
    for bucket in _DIAGNOSABLE:
        for obj in getattr(snapshot, bucket):
            namespace = meta(obj).get("namespace")
            if isinstance(namespace, str):
                found.add(namespace)
    return found


def holds_workloads(snapshot: Snapshot) -> bool:
    """Whether there is anything to diagnose at all: a pod or a workload."""
    return any(getattr(snapshot, bucket) for bucket in _DIAGNOSABLE)
