"""When did a failing workload start failing? The earliest sign of it the diagnosis saw.

The engine says *that* a workload fails by the thresholds, not *since when*: kubelet keeps no
"failing since" field. What the snapshot does hold are the first times of the signs: the
affected objects' Warning Events (``firstTimestamp``/``eventTime``), their failing conditions'
``lastTransitionTime`` (a pod's ``Ready=False``, a Deployment's ``Progressing=False``, a
``ReplicaFailure=True``) and their containers' last terminations. The earliest of these, never
before the object itself was created, is when the trouble became visible; the thresholds are
crossed at or after it, so a detection time measured from it errs long, never short.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from highpeaks_agent.engine.model import Diagnosis
from highpeaks_agent.engine.snapshot import Snapshot, meta
from highpeaks_agent.engine.timeutil import parse_time

#: (condition type, status) pairs that mean "failing" on the objects findings name.
FAILING_CONDITIONS = {
    ("Ready", "False"),
    ("ContainersReady", "False"),
    ("PodScheduled", "False"),
    ("Progressing", "False"),
    ("Available", "False"),
    ("ReplicaFailure", "True"),
}


def failing_since(diagnosis: Diagnosis, snapshot: Snapshot) -> datetime | None:
    """The earliest sign of the diagnosis's failure in ``snapshot``; None when none is dated."""
    earliest: datetime | None = None
    for finding in diagnosis.findings:
        for ref in finding.objects:
            obj = snapshot.get(ref.kind, ref.namespace, ref.name)
            if obj is None:
                continue
            first = _first_sign(obj, snapshot.events_for(obj))
            if first is not None and (earliest is None or first < earliest):
                earliest = first
    return earliest


def _first_sign(obj: Mapping[str, Any], events: Iterable[Mapping[str, Any]]) -> datetime | None:
    created = parse_time(meta(obj).get("creationTimestamp"))
    signs = [
        when
        for when in (*_event_times(events), *_condition_times(obj), *_termination_times(obj))
        if when is not None
    ]
    if not signs:
        return None
    first = min(signs)
    return max(first, created) if created is not None else first


def _event_times(events: Iterable[Mapping[str, Any]]) -> Iterable[datetime | None]:
    for event in events:
        if event.get("type") == "Warning":
            yield parse_time(event.get("firstTimestamp")) or parse_time(event.get("eventTime"))


def _condition_times(obj: Mapping[str, Any]) -> Iterable[datetime | None]:
    status = obj.get("status")
    conditions = status.get("conditions") if isinstance(status, Mapping) else None
    for cond in conditions if isinstance(conditions, list) else []:
        if (
            isinstance(cond, Mapping)
            and (cond.get("type"), cond.get("status")) in FAILING_CONDITIONS
        ):
            yield parse_time(cond.get("lastTransitionTime"))


def _termination_times(obj: Mapping[str, Any]) -> Iterable[datetime | None]:
    status = obj.get("status")
    if not isinstance(status, Mapping):
        return
    for key in ("initContainerStatuses", "containerStatuses"):
        statuses = status.get(key)
        for container in statuses if isinstance(statuses, list) else []:
            if not isinstance(container, Mapping):
                continue
            last = container.get("lastState")
            terminated = last.get("terminated") if isinstance(last, Mapping) else None
            if isinstance(terminated, Mapping):
                yield parse_time(terminated.get("finishedAt"))
