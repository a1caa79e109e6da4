"""The exact change an action makes, computed from the live objects at the moment it runs.

- ``rollback`` restores an earlier pod template, as ``kubectl rollout undo`` does: a
  Deployment's from the ReplicaSet of that revision (less its ``pod-template-hash`` label),
  a StatefulSet's or DaemonSet's from the ControllerRevision's ``data``. The revision is the
  one the diagnosis' rollout diff names as the last healthy one, else the one before the
  current one. Once restored, that ReplicaSet carries the new revision number and the old one
  in ``deployment.kubernetes.io/revision-history``, so a retry still finds it.
- ``restart`` writes ``kubectl.kubernetes.io/restartedAt`` into the pod template, with the
  time the action was recorded as started: a retry writes the same value, which changes
  nothing.
- ``pause`` and ``resume`` set a Deployment's ``spec.paused``.

Every patch is idempotent: applying it again leaves the workload as it is. Pure: objects in,
a :class:`Change` or a :class:`Refusal` out.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from highpeaks_agent.actions.request import rollback_id
from highpeaks_agent.engine.redact import Redactor
from highpeaks_agent.engine.revisions import revision_number, revisions_of, template_of
from highpeaks_agent.engine.rollout_diff import diff_pod_templates
from highpeaks_agent.engine.snapshot import Snapshot, meta
from highpeaks_agent.engine.workloads import replicasets_of, revision

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
POD_TEMPLATE_HASH = "pod-template-hash"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"


@dataclass(frozen=True, slots=True)
class Change:
    """One action's patch of the workload and the words that show it."""

    id: str
    action: str
    description: str
    patch: Any = field(compare=False)
    content_type: str = MERGE_PATCH


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an action cannot run on this workload now."""

    reason: str
    message: str


def last_healthy_revision(
    workload: Mapping[str, Any], snapshot: Snapshot, diagnosed: int | None
) -> int | None:
    """The revision a rollback restores: the rollout diff's previous revision when the
    diagnosis names one, else the newest revision before the current one."""
    if diagnosed:
        return diagnosed
    numbers = sorted({n for n, _ in _revisions(workload, snapshot) if n})
    current = _current_revision(workload, snapshot)
    older = [n for n in numbers if n < current]
    return older[-1] if older else None


def rollback(
    workload: Mapping[str, Any], snapshot: Snapshot, wanted: int, redactor: Redactor
) -> Change | Refusal:
    """Restore the pod template of revision ``wanted``."""
    kind = str(workload.get("kind"))
    if kind == "Deployment" and _map(workload.get("spec")).get("paused"):
        return Refusal(
            "Paused",
            "the Deployment's rollout is paused: resume it first (action resume), as "
            "`kubectl rollout undo` requires",
        )
    template = restored_template(workload, snapshot, wanted)
    if template is None:
        return Refusal(
            "RevisionNotFound",
            f"revision {wanted} of {kind} {meta(workload).get('name')} no longer exists "
            "(its history was pruned)",
        )
    current = _map(_map(workload.get("spec")).get("template"))
    changes = diff_pod_templates(current, template, redactor)
    described = "; ".join(changes) if changes else "the template is already that of the revision"
    return Change(
        rollback_id(wanted),
        "rollback",
        f"pod template back to revision {wanted}: {described}",
        [{"op": "replace", "path": "/spec/template", "value": template}],
        JSON_PATCH,
    )


def restored_template(
    workload: Mapping[str, Any], snapshot: Snapshot, wanted: int
) -> dict[str, Any] | None:
    """The pod template revision ``wanted`` recorded, as the workload's spec takes it."""
    for number, owner in _revisions(workload, snapshot):
        if number == wanted or (owner.get("kind") == "ReplicaSet" and _was(owner, wanted)):
            return _template(owner)
    return None


def restart(workload: Mapping[str, Any], restarted_at: str) -> Change:
    """New pods, as ``kubectl rollout restart`` makes them."""
    kind = str(workload.get("kind"))
    return Change(
        "restart",
        "restart",
        f"{kind} pod template annotation {RESTARTED_AT}: {restarted_at} (every pod replaced)",
        {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: restarted_at}}}}},
    )


def set_paused(workload: Mapping[str, Any], paused: bool) -> Change | Refusal:
    """``spec.paused`` of a Deployment."""
    action = "pause" if paused else "resume"
    if workload.get("kind") != "Deployment":
        return Refusal("NotADeployment", f"{action} acts on a Deployment's rollout only")
    was = bool(_map(workload.get("spec")).get("paused"))
    return Change(
        action,
        action,
        f"Deployment spec.paused: {str(was).lower()} -> {str(paused).lower()}",
        {"spec": {"paused": paused}},
    )


def _revisions(
    workload: Mapping[str, Any], snapshot: Snapshot
) -> list[tuple[int, Mapping[str, Any]]]:
    if workload.get("kind") == "Deployment":
        return [(revision(rs), rs) for rs in replicasets_of(workload, snapshot)]
    return [(revision_number(r), r) for r in revisions_of(workload, snapshot)]


def _current_revision(workload: Mapping[str, Any], snapshot: Snapshot) -> int:
    if workload.get("kind") == "Deployment":
        return revision(workload)
    wanted = _map(workload.get("status")).get("updateRevision")
    for number, owned in _revisions(workload, snapshot):
        if wanted and meta(owned).get("name") == wanted:
            return number
    numbers = [n for n, _ in _revisions(workload, snapshot)]
    return max(numbers) if numbers else 0


def _was(replicaset: Mapping[str, Any], wanted: int) -> bool:
    """The ReplicaSet was revision ``wanted`` before a rollback made it the newest."""
    history = _map(meta(replicaset).get("annotations")).get(REVISION_HISTORY)
    return isinstance(history, str) and str(wanted) in history.split(",")


def _template(owner: Mapping[str, Any]) -> dict[str, Any]:
    if owner.get("kind") == "ReplicaSet":
        found = copy.deepcopy(dict(_map(_map(owner.get("spec")).get("template"))))
        labels = _map(found.get("metadata")).get("labels")
        if isinstance(labels, dict):
            labels.pop(POD_TEMPLATE_HASH, None)
        return found
    restored = copy.deepcopy(dict(template_of(owner)))
    restored.pop("$patch", None)  # the revision's data is a replacing strategic-merge patch
    return restored


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
