"""StatefulSet and DaemonSet revisions: which pods run the update, and what it changed.

Both controllers record each pod template they roll out as a ControllerRevision they own:
``revision`` numbers them, and ``data`` is the patch that restores the template
(``{"spec": {"template": {…, "$patch": "replace"}}}``). Their pods carry the revision in the
``controller-revision-hash`` label: a StatefulSet writes the revision's name (what its
``status.updateRevision`` names), a DaemonSet only the hash, which is also the revision's own
``controller-revision-hash`` label and the tail of its name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from highpeaks_agent.engine.model import Finding, Rollout
from highpeaks_agent.engine.rollout_diff import diff_pod_templates
from highpeaks_agent.engine.snapshot import KubeObject, Snapshot, meta

REVISION_LABEL = "controller-revision-hash"


def revision_number(revision: Mapping[str, Any]) -> int:
    """A ControllerRevision's ``revision`` (0 when absent or mistyped)."""
    value = revision.get("revision")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def revisions_of(workload: Mapping[str, Any], snapshot: Snapshot) -> list[KubeObject]:
    """The workload's ControllerRevisions, oldest first."""
    return sorted(snapshot.children(workload, "ControllerRevision"), key=revision_number)


def update_revision(workload: Mapping[str, Any], revisions: list[KubeObject]) -> KubeObject | None:
    """The revision being rolled out: a StatefulSet's ``status.updateRevision``, else the newest."""
    status = workload.get("status")
    wanted = status.get("updateRevision") if isinstance(status, Mapping) else None
    for revision in revisions:
        if wanted and meta(revision).get("name") == wanted:
            return revision
    return revisions[-1] if revisions else None


def runs_revision(pod: Mapping[str, Any], revision: Mapping[str, Any]) -> bool:
    """The pod was made from this revision (by its ``controller-revision-hash`` label)."""
    labels = meta(pod).get("labels")
    value = labels.get(REVISION_LABEL) if isinstance(labels, Mapping) else None
    if not isinstance(value, str) or not value:
        return False
    own_labels = meta(revision).get("labels")
    own_hash = own_labels.get(REVISION_LABEL) if isinstance(own_labels, Mapping) else None
    return value in (meta(revision).get("name"), own_hash)


def template_of(revision: Mapping[str, Any]) -> Mapping[str, Any]:
    """The pod template a revision records (``data.spec.template``), empty when it has none."""
    data = revision.get("data")
    spec = data.get("spec") if isinstance(data, Mapping) else None
    template = spec.get("template") if isinstance(spec, Mapping) else None
    return template if isinstance(template, Mapping) else {}


def revision_rollout(
    workload: Mapping[str, Any], findings: list[Finding], snapshot: Snapshot
) -> Rollout | None:
    """The update revision against the one before it, when the update's pods are failing.

    None without two revisions in the input, and when only pods of older revisions fail
    (then the update is not what broke them).
    """
    revisions = revisions_of(workload, snapshot)
    update = update_revision(workload, revisions)
    if update is None:
        return None
    older = [r for r in revisions if revision_number(r) < revision_number(update)]
    if not older:
        return None
    failing = {o.name for f in findings for o in f.objects if o.kind == "Pod"}
    updated = {
        str(meta(p).get("name"))
        for p in snapshot.children(workload, "Pod")
        if runs_revision(p, update)
    }
    if failing and not failing & updated:
        return None
    previous = older[-1]
    return Rollout(
        revision=revision_number(update) or None,
        previous_revision=revision_number(previous) or None,
        changes=diff_pod_templates(template_of(previous), template_of(update), snapshot.redactor),
    )
