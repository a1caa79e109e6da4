"""Which actions the rules support for a diagnosis (CONTRACT §10): proposed here, run elsewhere.

Each proposal is the exact change it would make, worked out from objects the diagnosis already
read, so a person approves what they can see:

- ``rollback-to-<N>`` when the root cause arrived with the rollout: the failing revision's pods
  fail with a cause a pod template can bring (a crash, a probe, an image, a start-up or config
  error; a scheduling failure only when the rollout changed what the scheduler reads), and no
  failing pod runs revision ``N``, the one before it. ``N`` is a Deployment's
  ``deployment.kubernetes.io/revision`` of that ReplicaSet, a StatefulSet's or DaemonSet's
  ControllerRevision ``revision``. The change is the rollout diff the other way round, from the
  workload's current template to revision ``N``'s.
- ``pause`` for a Deployment still rolling out such a revision while older ReplicaSets keep
  ready pods it would go on to replace.
- ``resume`` for a paused Deployment whose pod template holds a change the pause keeps from
  rolling out (a fix, or a rollback made while paused), so the failing pods stay.
- ``restart`` is never proposed yet: a crash-looping container already reads its ConfigMaps and
  Secrets again at every restart, and the kubelet retries a missing one on its own, so no rule
  knows of pods that only a restart would heal.

A workload Argo CD or Flux manages would be put back by its next sync: its ``rollback`` and
``pause`` are proposed refused, with the GitOps way ``instead``. Plain Helm does not undo a
change by itself, so nothing is refused for it. A cause that is the consequence of another
failing workload, and every cause a template does not bring (a lost node, a quota, an
eviction), gets no proposal: none is better than a wrong one.

Pure: objects in, proposals out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from highpeaks_agent.engine.catalogue import CATALOGUE, ROLLOUT_STALLED, Family
from highpeaks_agent.engine.delivery_status import map_of
from highpeaks_agent.engine.model import Delivery, Diagnosis, ProposedAction
from highpeaks_agent.engine.repo_links import is_commit, short_sha
from highpeaks_agent.engine.revisions import (
    revision_number,
    revisions_of,
    runs_revision,
    template_of,
)
from highpeaks_agent.engine.rollout_diff import diff_pod_templates
from highpeaks_agent.engine.snapshot import KubeObject, Snapshot, controller_ref, meta
from highpeaks_agent.engine.workloads import replicasets_of, revision

#: Kinds with revisions to go back to.
ROLLBACK_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet"})
#: Causes a pod template brings: rolling it back takes them away.
_TEMPLATE_FAMILIES = frozenset(
    {Family.CRASHES, Family.PROBES, Family.START_UP, Family.IMAGES, Family.CONFIGURATION}
)
#: Scheduling causes a rollout brings only by changing what the scheduler reads.
_SCHEDULING_CHANGES = {
    "Unschedulable.InsufficientResources": ("requests.", "limits."),
    "Unschedulable.NodeAffinity": ("pod nodeSelector",),
}
_GITOPS_NAMES = {
    "argocd": "Argo CD Application",
    "flux-kustomization": "Flux Kustomization",
    "flux-helmrelease": "Flux HelmRelease",
}
#: Actions a GitOps controller's self-heal would undo.
_UNDONE_BY_GITOPS = frozenset({"rollback", "restart", "pause"})


def propose(diagnosis: Diagnosis, snapshot: Snapshot) -> list[ProposedAction]:
    """The actions the rules support for ``diagnosis``, the most useful first; none when
    nothing fails or no rule supports one."""
    target = diagnosis.target
    if not diagnosis.findings or target.kind not in ROLLBACK_KINDS:
        return []
    workload = snapshot.get(target.kind, target.namespace, target.name)
    if workload is None:
        return []
    brought = _brought_by_rollout(diagnosis)
    proposals = [
        proposal
        for proposal in (
            _rollback(diagnosis, workload, snapshot) if brought else None,
            _pause(diagnosis, workload, snapshot) if brought else None,
            _resume(diagnosis, workload, snapshot),
        )
        if proposal is not None
    ]
    delivery = diagnosis.rollout.delivery if diagnosis.rollout is not None else None
    if delivery is None or not delivery.gitops:
        return proposals
    return [_refused(p, delivery) for p in proposals]


# --- when the rollout brought the cause ----------------------------------------------------


def _brought_by_rollout(diagnosis: Diagnosis) -> bool:
    """The root cause came with the failing revision, and a template can bring it."""
    rollout, root = diagnosis.rollout, diagnosis.findings[0]
    if rollout is None or rollout.revision is None or rollout.previous_revision is None:
        return False
    if root.dependency is not None and root.dependency.workload_root_cause:
        return False  # a consequence of another failing workload: rolling back changes nothing
    entry = CATALOGUE.get(root.code)
    if entry is None:
        return False
    if entry.family in _TEMPLATE_FAMILIES or root.code == ROLLOUT_STALLED:
        return True
    markers = _SCHEDULING_CHANGES.get(root.code, ())
    return any(marker in change for change in rollout.changes for marker in markers)


def _failing_pods(diagnosis: Diagnosis) -> set[str]:
    return {o.name for f in diagnosis.findings for o in f.objects if o.kind == "Pod"}


def _cause(diagnosis: Diagnosis) -> str:
    root = diagnosis.findings[0]
    return f"{root.code}: {root.title.rstrip('.')}"


# --- rollback ------------------------------------------------------------------------------


def _rollback(
    diagnosis: Diagnosis, workload: KubeObject, snapshot: Snapshot
) -> ProposedAction | None:
    """Back to the revision before the failing one, when none of its pods fail."""
    rollout = diagnosis.rollout
    if rollout is None or rollout.revision is None:
        return None
    previous = _previous(diagnosis, workload, snapshot)
    if previous is None:
        return None
    number, template, pods = previous
    if pods & _failing_pods(diagnosis):
        return None  # the revision before fails too: it is not a healthy one to go back to
    changes = diff_pod_templates(_template(workload), template, snapshot.redactor)
    if not changes:
        return None  # the workload already has that template: nothing left to roll back
    why = (
        f"The root cause ({_cause(diagnosis)}) started with revision {rollout.revision}; "
        f"revision {number} before it is the last healthy one."
    )
    if _paused(workload):
        why += " The Deployment is paused: the rollback rolls out once it is resumed."
    return ProposedAction(
        id=f"rollback-to-{number}",
        action="rollback",
        target=diagnosis.target,
        change="; ".join(changes),
        why=why,
    )


def _previous(
    diagnosis: Diagnosis, workload: KubeObject, snapshot: Snapshot
) -> tuple[int, Mapping[str, Any], set[str]] | None:
    """The revision the rollout diff names as the one before: its number, pod template and
    the names of the pods that run it."""
    wanted = diagnosis.rollout.previous_revision if diagnosis.rollout is not None else None
    if diagnosis.target.kind == "Deployment":
        for replicaset in replicasets_of(workload, snapshot):
            if revision(replicaset) == wanted:
                return wanted, _template(replicaset), _pods_of(replicaset, snapshot)
        return None
    for controller_revision in revisions_of(workload, snapshot):
        if revision_number(controller_revision) == wanted:
            pods = {
                str(meta(p).get("name"))
                for p in snapshot.children(workload, "Pod")
                if runs_revision(p, controller_revision)
            }
            return wanted, template_of(controller_revision), pods
    return None


def _pods_of(replicaset: KubeObject, snapshot: Snapshot) -> set[str]:
    uid = meta(replicaset).get("uid")
    return {
        str(meta(p).get("name"))
        for p in snapshot.children(replicaset, "Pod")
        if not uid or (controller_ref(p) or {}).get("uid") == uid
    }


# --- pause and resume ----------------------------------------------------------------------


def _pause(diagnosis: Diagnosis, workload: KubeObject, snapshot: Snapshot) -> ProposedAction | None:
    """Stop a Deployment's rollout of the failing revision while older pods still serve."""
    if diagnosis.target.kind != "Deployment" or _paused(workload):
        return None
    if map_of(map_of(workload.get("spec")).get("strategy")).get("type") == "Recreate":
        return None  # the old pods are gone before the new ones start: nothing left to keep
    rollout = diagnosis.rollout
    if rollout is None or rollout.revision is None:
        return None
    serving = sum(
        _ready(replicaset)
        for replicaset in replicasets_of(workload, snapshot)
        if revision(replicaset) < rollout.revision
    )
    if serving <= 0:
        return None
    pods = f"{serving} ready pod{'s' if serving != 1 else ''}"
    return ProposedAction(
        id="pause",
        action="pause",
        target=diagnosis.target,
        change="spec.paused: false -> true",
        why=(
            f"Revision {rollout.revision} is still rolling out and its pods fail "
            f"({_cause(diagnosis)}); pausing keeps it from replacing the {pods} of older "
            "revisions."
        ),
    )


def _resume(
    diagnosis: Diagnosis, workload: KubeObject, snapshot: Snapshot
) -> ProposedAction | None:
    """Let a paused Deployment roll out the template change its pause holds back."""
    if diagnosis.target.kind != "Deployment" or not _paused(workload):
        return None
    replicasets = replicasets_of(workload, snapshot)
    if not replicasets:
        return None
    pending = diff_pod_templates(_template(replicasets[-1]), _template(workload), snapshot.redactor)
    if not pending:
        return None  # resuming would go on rolling out the failing revision
    return ProposedAction(
        id="resume",
        action="resume",
        target=diagnosis.target,
        change=f"spec.paused: true -> false (rolls out: {'; '.join(pending)})",
        why=(
            f"The Deployment is paused, so the change in its pod template does not replace "
            f"the failing pods ({_cause(diagnosis)})."
        ),
    )


def _paused(workload: Mapping[str, Any]) -> bool:
    return map_of(workload.get("spec")).get("paused") is True


def _ready(replicaset: Mapping[str, Any]) -> int:
    status = map_of(replicaset.get("status"))
    value = status.get("availableReplicas", status.get("readyReplicas", 0))
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _template(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return map_of(map_of(obj.get("spec")).get("template"))


# --- GitOps --------------------------------------------------------------------------------


def _refused(proposal: ProposedAction, delivery: Delivery) -> ProposedAction:
    """A change its GitOps controller would undo: refused, with the GitOps way instead."""
    if proposal.action not in _UNDONE_BY_GITOPS:
        return proposal
    source = delivery.source
    manager = (
        f"{_GITOPS_NAMES.get(delivery.manager, delivery.manager)} {source.namespace}/{source.name}"
    )
    return ProposedAction(
        id=proposal.id,
        action=proposal.action,
        target=proposal.target,
        change=proposal.change,
        why=proposal.why,
        refused=(
            f"{manager} manages this workload: its self-heal would put the change back on "
            "the next sync."
        ),
        instead=gitops_way(delivery),
    )


def gitops_way(delivery: Delivery) -> str:
    """How to go back through the GitOps controller: the commit to revert, Argo CD's
    ``argocd app rollback`` to the last healthy sync, or suspending Flux first."""
    if delivery.manager == "argocd":
        return delivery.next_step
    kind = "kustomization" if delivery.manager == "flux-kustomization" else "helmrelease"
    source = delivery.source
    where = f" in {delivery.repository}" if delivery.repository else ""
    if delivery.commit:
        noun = "commit" if is_commit(delivery.commit) else "revision"
        revert = f"revert {noun} {short_sha(delivery.commit)}{where}"
    elif delivery.previous_chart:
        revert = f"revert the chart change {delivery.previous_chart} -> {delivery.chart} in Git"
    else:
        revert = "revert the change in Git"
    flux = f"{kind} {source.name} -n {source.namespace}"
    return f"`flux suspend {flux}`, then {revert} and `flux resume {flux}`."
