"""A workload's rollout history: each revision, what it runs and what it changed.

``kubectl rollout history`` lists revision numbers; this says what each one changed from the
one before (the same words as the rollout diff, values of secret-looking variables never
shown) and how many of its pods are ready. A Deployment's revisions are its ReplicaSets
(``deployment.kubernetes.io/revision``), a StatefulSet's or DaemonSet's its
ControllerRevisions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from highpeaks_agent.engine.revisions import revision_number, revisions_of, template_of
from highpeaks_agent.engine.rollout_diff import diff_pod_templates
from highpeaks_agent.engine.snapshot import KubeObject, Snapshot, meta
from highpeaks_agent.engine.workloads import replicasets_of, revision

#: The kinds whose revisions are kept: what a history can be asked of.
HISTORY_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass(frozen=True, slots=True)
class RevisionEntry:
    """One revision of a workload's pod template."""

    revision: int
    name: str
    created: str
    images: tuple[str, ...]
    changes: tuple[str, ...]
    """What changed from the revision before (empty for the first one kept)."""
    ready: str = ""
    """A ReplicaSet's ready replicas, e.g. ``0/3`` (ControllerRevisions have none)."""

    def to_json_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "revision": self.revision,
            "name": self.name,
            "created": self.created,
            "images": list(self.images),
            "changes": list(self.changes),
        }
        if self.ready:
            shown["ready"] = self.ready
        return shown


def rollout_history(workload: Mapping[str, Any], snapshot: Snapshot) -> list[RevisionEntry]:
    """The workload's revisions in the snapshot, oldest first, each against the one before."""
    if workload.get("kind") == "Deployment":
        kept = replicasets_of(workload, snapshot)
        templates = [_replicaset_template(rs) for rs in kept]
        numbers = [revision(rs) for rs in kept]
    else:
        kept = revisions_of(workload, snapshot)
        templates = [template_of(r) for r in kept]
        numbers = [revision_number(r) for r in kept]
    entries = []
    for index, obj in enumerate(kept):
        before = templates[index - 1] if index else None
        changes = diff_pod_templates(before, templates[index], snapshot.redactor) if before else []
        entries.append(
            RevisionEntry(
                revision=numbers[index],
                name=str(meta(obj).get("name") or ""),
                created=str(meta(obj).get("creationTimestamp") or ""),
                images=tuple(snapshot.redactor.text(i) for i in _images(templates[index])),
                changes=tuple(changes),
                ready=_ready(obj),
            )
        )
    return entries


def _replicaset_template(replicaset: KubeObject) -> Mapping[str, Any]:
    spec = replicaset.get("spec")
    template = spec.get("template") if isinstance(spec, Mapping) else None
    return template if isinstance(template, Mapping) else {}


def _images(template: Mapping[str, Any]) -> tuple[str, ...]:
    spec = template.get("spec")
    if not isinstance(spec, Mapping):
        return ()
    images = []
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            if isinstance(container, Mapping) and isinstance(container.get("image"), str):
                images.append(f"{container.get('name')}={container['image']}")
    return tuple(images)


def _ready(obj: Mapping[str, Any]) -> str:
    if obj.get("kind") != "ReplicaSet":
        return ""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return f"{status.get('readyReplicas', 0) or 0}/{spec.get('replicas', 0) or 0}"
