"""The engine's entry points: group pods under workloads, run the analyzers, order findings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import Any

from highpeaks_agent.engine.actions import propose
from highpeaks_agent.engine.analyzers import jobs, volumes
from highpeaks_agent.engine.analyzers.context import WorkloadContext
from highpeaks_agent.engine.analyzers.registry import analyze_pod, analyze_workload
from highpeaks_agent.engine.delivery import delivery_of, gitops_suggestion
from highpeaks_agent.engine.findings import merge
from highpeaks_agent.engine.model import (
    Dependency,
    Diagnosis,
    Finding,
    ObjectRef,
    Rollout,
    Severity,
)
from highpeaks_agent.engine.revisions import revision_rollout, revisions_of, update_revision
from highpeaks_agent.engine.rollout_diff import diff_pod_templates
from highpeaks_agent.engine.snapshot import KubeObject, Snapshot, controller_ref, meta
from highpeaks_agent.engine.summary import rollout_sentence
from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS, Thresholds
from highpeaks_agent.engine.workloads import (
    Workload,
    group,
    replicasets_of,
    revision,
    workload_of,
)

#: Kinds whose rollouts are recorded as ControllerRevisions.
_REVISIONED = frozenset({"StatefulSet", "DaemonSet"})
#: Kinds whose status counts ready replicas.
_REPLICATED = frozenset({"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"})


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
    found: dict[ObjectRef, Diagnosis] = {}
    for workload in group(snapshot, namespace):
        diagnosis = _diagnose_workload(workload, snapshot, now, thresholds)
        if diagnosis is not None and diagnosis.findings:
            found[diagnosis.target] = diagnosis
    # workloads failing alike repeat the same titles, hints and evidence: each redacted once
    redact = cache(snapshot.redactor.text)
    results = [
        _redacted(
            _proposing(_linked(d, _known(found, snapshot, now, thresholds)), snapshot), redact
        )
        for d in found.values()
    ]
    return sorted(
        results,
        key=lambda d: (-d.severity.rank, d.target.namespace or "", d.target.kind, d.target.name),
    )


def diagnose_target(
    snapshot: Snapshot,
    target: ObjectRef,
    *,
    now: datetime,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Diagnosis | None:
    """The diagnosis of one workload (Deployment, StatefulSet, DaemonSet, Job, CronJob,
    ReplicaSet, Pod).

    Returns a diagnosis with no findings (severity info, a summary saying it is healthy) when
    the target is healthy, and None when the snapshot does not hold the target at all.
    """
    obj = snapshot.get(target.kind, target.namespace, target.name)
    if obj is None:
        return None
    workloads = {w.key: w for w in group(snapshot, target.namespace)}
    key = (target.kind, target.namespace or "", target.name)
    workload = workloads.get(key) or workload_of(obj, snapshot)
    diagnosis = _diagnose_workload(workload, snapshot, now, thresholds)
    if diagnosis is None:
        diagnosis = Diagnosis(
            target=target,
            severity=Severity.INFO,
            summary=_healthy_summary(workload),
            pods_total=len(workload.pods),
        )
    else:
        diagnosis = _proposing(_linked(diagnosis, _known({}, snapshot, now, thresholds)), snapshot)
    return _redacted(diagnosis, snapshot.redactor.text)


def _diagnose_workload(
    workload: Workload, snapshot: Snapshot, now: datetime, thresholds: Thresholds
) -> Diagnosis | None:
    kind, obj = workload.ref.kind, workload.obj
    if kind == "CronJob":
        return _diagnose_cronjob(workload, snapshot, now, thresholds)
    job = obj if kind == "Job" else None
    pods = jobs.pods_that_count(job, workload.pods) if job is not None else workload.pods
    findings: list[Finding] = []
    for pod in pods:
        found = analyze_pod(pod, snapshot, now, thresholds)
        findings.extend(volumes.with_claim_evidence(pod, found, snapshot) if found else found)
    owned: list[KubeObject] = []
    if obj is not None and kind == "Deployment":
        owned = replicasets_of(obj, snapshot)
    if obj is not None:
        findings.extend(analyze_workload(WorkloadContext(obj, kind, owned, snapshot)))
    if job is not None:
        findings = jobs.settle(job, findings)
    if not findings:
        return None
    findings = merge(findings)
    rollout = _rollout(owned, findings, snapshot) if owned else None
    if obj is not None and kind in _REVISIONED:
        rollout = revision_rollout(obj, findings, snapshot)
    if rollout is not None and obj is not None:
        findings = _with_delivery(rollout, obj, owned, findings, snapshot)
    severity = max((f.severity for f in findings), key=lambda s: s.rank)
    if severity is Severity.CRITICAL and _still_serving(obj) and not _workload_level(findings):
        severity = Severity.WARNING  # older replicas still serve: degraded, not down
    return Diagnosis(
        target=workload.ref,
        severity=severity,
        summary=_summary(workload, findings, rollout),
        findings=findings,
        rollout=rollout,
        pods_affected=len(_failing_pods(findings)),
        pods_total=len(workload.pods),
    )


def _known(
    found: Mapping[ObjectRef, Diagnosis], snapshot: Snapshot, now: datetime, thresholds: Thresholds
) -> Callable[[ObjectRef], Diagnosis | None]:
    """The diagnosis of a workload another one depends on: already made, else made now
    (a Service's workload in another namespace, or beside a single target)."""
    made: dict[ObjectRef, Diagnosis | None] = {}

    def lookup(ref: ObjectRef) -> Diagnosis | None:
        if ref in found:
            return found[ref]
        if ref not in made:
            obj = snapshot.get(ref.kind, ref.namespace, ref.name)
            workload = workload_of(obj, snapshot) if obj is not None else None
            made[ref] = (
                _diagnose_workload(workload, snapshot, now, thresholds) if workload else None
            )
        return made[ref]

    return lookup


def _linked(diagnosis: Diagnosis, known: Callable[[ObjectRef], Diagnosis | None]) -> Diagnosis:
    """Name the failing workload behind a Service the root cause could not use (CONTRACT §2a):
    the crash is its consequence, and the summary says so."""
    if not diagnosis.findings:
        return diagnosis
    root = diagnosis.findings[0]
    dependency = root.dependency
    if dependency is None or dependency.workload in (None, diagnosis.target):
        return diagnosis  # nothing behind it, or a workload reaching its own Service
    behind = known(dependency.workload) if dependency.workload is not None else None
    if behind is None or not behind.findings:
        return diagnosis
    cause = behind.findings[0]
    linked = replace(dependency, workload_root_cause=cause.code, workload_title=cause.title)
    service = f" behind {dependency.service}" if dependency.service is not None else ""
    suggestion = (
        f"{dependency.workload}{service} is failing ({cause.code}: {cause.title}): fix that "
        "first; this container recovers after it."
    )
    findings = [replace(root, dependency=linked, suggestion=suggestion), *diagnosis.findings[1:]]
    summary = f"{diagnosis.summary} {because(linked)}"
    return replace(diagnosis, findings=findings, summary=summary)


def _proposing(diagnosis: Diagnosis, snapshot: Snapshot) -> Diagnosis:
    """The diagnosis with the actions its rules support (after linking: a crash that is the
    consequence of another failing workload gets none)."""
    return replace(diagnosis, proposed_actions=propose(diagnosis, snapshot))


def because(dependency: Dependency) -> str:
    """The sentence that makes a crash the consequence of the failing workload behind it."""
    return (
        f"It fails because {dependency.workload} is failing: "
        f"{dependency.workload_title} ({dependency.workload_root_cause})."
    )


def _diagnose_cronjob(
    workload: Workload, snapshot: Snapshot, now: datetime, thresholds: Thresholds
) -> Diagnosis | None:
    """A CronJob fails when its most recent Job fails (or it cannot create Jobs at all)."""
    cronjob = workload.obj
    if cronjob is not None and jobs.suspended(cronjob):
        return None
    latest = jobs.most_recent(workload.jobs)
    findings: list[Finding] = []
    pods: list[KubeObject] = []
    if latest is not None:
        job = Workload(_ref_of(latest), latest, snapshot.children(latest, "Pod"))
        pods = job.pods
        verdict = _diagnose_workload(job, snapshot, now, thresholds)
        findings = verdict.findings if verdict is not None else []
    if cronjob is not None:
        findings = merge(
            [*findings, *analyze_workload(WorkloadContext(cronjob, "CronJob", [], snapshot))]
        )
    if not findings:
        return None
    ref, root = workload.ref, findings[0]
    summary = f"CronJob {ref.namespace}/{ref.name} is failing: {root.title}."
    failing = _failing_pods(findings)
    if latest is not None:
        summary += f" Its most recent Job is {meta(latest).get('name')}"
        plural = "s" if len(pods) != 1 else ""
        summary += f" ({len(failing)} of {len(pods)} pod{plural} failed)." if pods else "."
    return Diagnosis(
        target=ref,
        severity=max((f.severity for f in findings), key=lambda s: s.rank),
        summary=summary,
        findings=findings,
        pods_affected=len(failing),
        pods_total=len(pods),
    )


def _ref_of(obj: Mapping[str, Any]) -> ObjectRef:
    md = meta(obj)
    return ObjectRef(kind=str(obj.get("kind")), namespace=md.get("namespace"), name=str(md["name"]))


def _failing_pods(findings: list[Finding]) -> set[str]:
    return {o.name for f in findings for o in f.objects if o.kind == "Pod"}


def _workload_level(findings: list[Finding]) -> bool:
    return any(f.objects and f.objects[0].kind != "Pod" for f in findings[:1])


def _still_serving(obj: Mapping[str, Any] | None) -> bool:
    status = obj.get("status") if obj is not None else None
    if not isinstance(status, Mapping):
        return False
    available = status.get(
        "availableReplicas", status.get("readyReplicas", status.get("numberAvailable", 0))
    )
    return isinstance(available, int) and available > 0


def _rollout(
    replicasets: list[KubeObject], findings: list[Finding], snapshot: Snapshot
) -> Rollout | None:
    """The newest ReplicaSet against its predecessor, when the newest one is the failing one."""
    if len(replicasets) < 2:
        return None
    newest, previous = replicasets[-1], replicasets[-2]
    newest_uid = meta(newest).get("uid")
    failing_pods = {o.name for f in findings for o in f.objects if o.kind == "Pod"}
    new_pods = {
        str(meta(p).get("name"))
        for p in snapshot.children(newest, "Pod")
        if (controller_ref(p) or {}).get("uid") == newest_uid or not newest_uid
    }
    if failing_pods and not failing_pods & new_pods:
        return None  # the old revision's pods fail: not a rollout problem
    return Rollout(
        revision=revision(newest) or None,
        previous_revision=revision(previous) or None,
        changes=diff_pod_templates(_template(previous), _template(newest), snapshot.redactor),
    )


def _with_delivery(
    rollout: Rollout,
    workload: Mapping[str, Any],
    replicasets: list[KubeObject],
    findings: list[Finding],
    snapshot: Snapshot,
) -> list[Finding]:
    """Say which change brought the failing revision; for a GitOps-managed workload, swap a
    hand-made fix its controller would undo for the GitOps next step."""
    failing: KubeObject | None
    previous: KubeObject | None
    if len(replicasets) >= 2:
        failing, previous = replicasets[-1], replicasets[-2]
    else:
        revisions = revisions_of(workload, snapshot)
        failing = update_revision(workload, revisions)
        older = [r for r in revisions if r is not failing]
        previous = older[-1] if older else None
    delivery = delivery_of(workload, snapshot, failing=failing, previous=previous)
    rollout.delivery = delivery
    if delivery is None or not delivery.gitops or not delivery.next_step:
        return findings
    return [
        replace(f, suggestion=delivery.next_step) if gitops_suggestion(f.suggestion) else f
        for f in findings
    ]


def _template(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = obj.get("spec")
    template = spec.get("template") if isinstance(spec, Mapping) else None
    return template if isinstance(template, Mapping) else {}


def _summary(workload: Workload, findings: list[Finding], rollout: Rollout | None) -> str:
    ref = workload.ref
    root = findings[0]
    failing = _failing_pods(findings)
    parts = [f"{ref.kind} {ref.namespace}/{ref.name} is failing: {root.title}."]
    if failing and workload.pods:
        total = len(workload.pods)
        parts.append(f"{len(failing)} of {total} pod{'s' if total != 1 else ''} affected.")
    if rollout is not None and rollout.revision is not None:
        parts.append(rollout_sentence(rollout.revision, rollout.changes))
    return " ".join(parts)


def _healthy_summary(workload: Workload) -> str:
    ref = workload.ref
    status = workload.obj.get("status") if workload.obj is not None else None
    if ref.kind in _REPLICATED and isinstance(status, Mapping):
        ready = status.get("readyReplicas", status.get("numberReady", 0)) or 0
        desired = status.get("replicas", status.get("desiredNumberScheduled", 0)) or 0
        if ready < desired:
            # pods still starting or being replaced: not failing, but not "healthy" either
            return (
                f"{ref.kind} {ref.namespace}/{ref.name}: nothing is failing yet; "
                f"{ready}/{desired} replicas ready so far."
            )
        return (
            f"{ref.kind} {ref.namespace}/{ref.name} is healthy: {ready}/{desired} replicas ready."
        )
    return f"{ref.kind} {ref.namespace}/{ref.name} is healthy: nothing is failing."


def _redacted(diagnosis: Diagnosis, text: Callable[[str], str]) -> Diagnosis:
    """Redact every free-text field (object names and codes are not free text)."""
    findings = [
        replace(
            finding,
            title=text(finding.title),
            detail=text(finding.detail),
            evidence=[text(line) for line in finding.evidence],
            suggestion=text(finding.suggestion),
        )
        for finding in diagnosis.findings
    ]
    rollout = diagnosis.rollout
    if rollout is not None:
        delivery = rollout.delivery
        if delivery is not None:
            delivery = replace(
                delivery,
                repository=text(delivery.repository),
                path=text(delivery.path),
                next_step=text(delivery.next_step),
                note=text(delivery.note),
            )
        rollout = replace(rollout, changes=[text(c) for c in rollout.changes], delivery=delivery)
    actions = [
        replace(
            action,
            change=text(action.change),
            why=text(action.why),
            refused=text(action.refused),
            instead=text(action.instead),
        )
        for action in diagnosis.proposed_actions
    ]
    return replace(
        diagnosis,
        summary=text(diagnosis.summary),
        findings=findings,
        rollout=rollout,
        proposed_actions=actions,
    )
