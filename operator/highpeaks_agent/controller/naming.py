"""Deterministic, valid names for the objects the operator writes.

Events are named from what they are about, never with ``generateName``, so a repeated note
finds its own Event and bumps its count instead of piling up new objects.
"""

from __future__ import annotations

import hashlib

from highpeaks_agent.engine.model import Diagnosis

MAX_NAME = 63  # a DNS label: valid for every kind, and readable in `kubectl get`


def _digest(*parts: str, length: int = 10) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:length]


def bounded_name(base: str, *, suffix: str = "") -> str:
    """``base`` + ``suffix`` as a DNS label; too long → cut and made unique with a hash."""
    name = f"{base}{suffix}".lower()
    if len(name) <= MAX_NAME:
        return name
    keep = MAX_NAME - len(suffix) - 11
    return f"{base[:keep].rstrip('-.')}-{_digest(base)}{suffix}".lower()


#: What a task name adds after ``incident-`` for each kind but Deployment.
KIND_TAGS = {"StatefulSet": "sts", "DaemonSet": "ds", "Job": "job"}


def incident_task_name(workload: str, revision: int | None, kind: str = "Deployment") -> str:
    """The incident task's name, bounded to a DNS label: ``incident-<deployment>-r<revision>``
    (CONTRACT §4), ``incident-sts-<name>-r<revision>``, ``incident-ds-<name>-r<revision>``,
    ``incident-job-<name>`` (``revision`` None: a Job's incident is per Job).

    A Deployment whose own name begins with a kind's tag (``sts-db``) would take the name of
    that kind's incident (StatefulSet ``db``), so its name gets a hash of kind and name.
    """
    suffix = f"-r{revision}" if revision is not None else ""
    tag = KIND_TAGS.get(kind)
    if kind != "Deployment" and tag is None:
        raise ValueError(f"no incident task names for kind {kind!r}")
    if tag is not None:
        return bounded_name(f"incident-{tag}-{workload}", suffix=suffix)
    if workload.split("-", 1)[0] in KIND_TAGS.values() and "-" in workload:
        suffix = f"-{_digest(kind, workload, length=8)}{suffix}"
    return bounded_name(f"incident-{workload}", suffix=suffix)


def failure_signature(diagnosis: Diagnosis) -> str:
    """What makes two failures "the same" for incident notes: the root cause code.

    Restart counts, pod names and timestamps are deliberately left out, so a crash loop that
    keeps crashing or pods being replaced are one incident; a different root cause on the
    same revision is a new one.
    """
    return diagnosis.root_cause


def event_name(object_name: str, reason: str, key: str) -> str:
    """``<object>.<hash of reason and key>``: the same note on the same object, same Event."""
    return bounded_name(object_name, suffix=f".{_digest(reason, key, length=16)}")
