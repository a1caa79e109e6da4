"""The engine's entry points: group pods under workloads, run the analyzers, order findings."""

from __future__ import annotations

from datetime import datetime

from highpeaks_agent.engine.model import Diagnosis, ObjectRef
from highpeaks_agent.engine.snapshot import Snapshot
from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS, Thresholds


def diagnose(
    snapshot: Snapshot,
    *,
    now: datetime,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    namespace: str | None = None,
) -> list[Diagnosis]:
    """One diagnosis per failing workload in the snapshot (optionally one namespace), worst first.

    Healthy workloads produce nothing. Every string in the result is already redacted.
    """
    raise NotImplementedError


def diagnose_target(
    snapshot: Snapshot,
    target: ObjectRef,
    *,
    now: datetime,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Diagnosis | None:
    """The diagnosis of one workload (Deployment, StatefulSet, DaemonSet, Job, ReplicaSet, Pod).

    Returns a diagnosis with no findings (severity info, a summary saying it is healthy) when
    the target is healthy, and None when the snapshot does not hold the target at all.
    """
    raise NotImplementedError
