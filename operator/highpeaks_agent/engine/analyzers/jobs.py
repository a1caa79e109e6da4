"""Jobs and CronJobs: a Job that gave up, and the retries that are not failures yet.

A Job fails when the job controller sets its ``Failed`` condition (from Kubernetes 1.31 it
sets ``FailureTarget`` first, while the last pods terminate); the condition's reason says
why. Until then a failed pod or a restarted container is a retry the Job counts against its
``backoffLimit``, not a failure. A failed Job's pods that only exited non-zero add nothing
beyond the Job's own finding, which carries their exit codes and log tail; a more specific
pod-level cause (an OOM kill, a missing image, a missing Secret) comes before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from highpeaks_agent.engine import catalogue
from highpeaks_agent.engine.analyzers.context import WorkloadContext, as_int, as_mapping
from highpeaks_agent.engine.findings import default_severity
from highpeaks_agent.engine.logs import key_lines
from highpeaks_agent.engine.model import Finding, ObjectRef
from highpeaks_agent.engine.snapshot import KubeObject, Snapshot, meta
from highpeaks_agent.engine.timeutil import parse_time

MAX_EVIDENCE = 6

_CODES: dict[str, str] = {
    "BackoffLimitExceeded": catalogue.JOB_FAILED_BACKOFF_LIMIT,
    "DeadlineExceeded": catalogue.JOB_FAILED_DEADLINE,
    "PodFailurePolicy": catalogue.JOB_FAILED_POD_FAILURE_POLICY,
}

#: Findings that are a Job's retries while it has not failed: the container restarted or the
#: pod failed, and the Job counts it against its backoffLimit.
RETRY_CODES: frozenset[str] = frozenset(
    {
        catalogue.CRASH_LOOP_BACK_OFF,
        catalogue.OOM_KILLED,
        catalogue.CONTAINER_EXITS_IMMEDIATELY,
        catalogue.LIVENESS_PROBE_FAILING,
        catalogue.STARTUP_PROBE_FAILING,
    }
)


def failed_condition(job: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The Job's ``Failed`` (else ``FailureTarget``) condition when it is True."""
    status = as_mapping(job.get("status"))
    found: dict[str, Mapping[str, Any]] = {}
    for condition in map(as_mapping, _items(status.get("conditions"))):
        if condition.get("status") == "True":
            found.setdefault(str(condition.get("type")), condition)
    return found.get("Failed") or found.get("FailureTarget")


def suspended(obj: Mapping[str, Any]) -> bool:
    """``spec.suspend`` on a Job or CronJob: held on purpose, so not failing."""
    return as_mapping(obj.get("spec")).get("suspend") is True


def pods_that_count(job: Mapping[str, Any], pods: list[KubeObject]) -> list[KubeObject]:
    """The Job's pods whose failures are the Job's: none while it is suspended, and only the
    pods still running or starting until it fails (failed ones were retries)."""
    if failed_condition(job) is not None:
        return pods
    if suspended(job):
        return []
    return [p for p in pods if as_mapping(p.get("status")).get("phase") != "Failed"]


def settle(job: Mapping[str, Any], findings: list[Finding]) -> list[Finding]:
    """The findings that stand for the Job: no retries before it fails; after, no bare
    non-zero exits beside the Job's own finding (which carries them)."""
    if failed_condition(job) is None:
        return [f for f in findings if f.code not in RETRY_CODES]
    return [f for f in findings if f.code != catalogue.CRASH_LOOP_BACK_OFF]


def most_recent(jobs: list[KubeObject]) -> KubeObject | None:
    """The Job a CronJob started last (by creation, then start time)."""

    def started(job: Mapping[str, Any]) -> tuple[float, float]:
        created = parse_time(meta(job).get("creationTimestamp"))
        start = parse_time(as_mapping(job.get("status")).get("startTime"))
        return (
            created.timestamp() if created else 0.0,
            start.timestamp() if start else 0.0,
        )

    return max(jobs, key=started, default=None)


def job_failed(workload: WorkloadContext) -> list[Finding]:
    """A Job whose Failed condition is True: JobFailed.* by the condition's reason."""
    if workload.kind != "Job":
        return []
    job = workload.obj
    condition = failed_condition(job)
    if condition is None:
        return []
    reason = str(condition.get("reason") or "")
    code = _CODES.get(reason, catalogue.JOB_FAILED)
    message = str(condition.get("message") or reason or "the Job failed")
    failed = _failed_pods(job, workload.snapshot)
    md = meta(job)
    evidence = [
        f"{condition.get('type')}=True reason {reason or '(none)'}: {message}",
        _counts(job),
        *_exit_evidence(failed, workload.snapshot),
    ]
    return [
        Finding(
            code=code,
            severity=default_severity(code),
            title=_title(code, job),
            detail=message,
            evidence=evidence[:MAX_EVIDENCE],
            suggestion=_hint(code, job, failed),
            objects=[
                ObjectRef(kind="Job", namespace=md.get("namespace"), name=str(md["name"])),
                *(_pod_ref(p) for p in failed),
            ],
        )
    ]


def _failed_pods(job: Mapping[str, Any], snapshot: Snapshot) -> list[KubeObject]:
    """The Job's pods that failed or whose containers exited non-zero, oldest first."""
    found = [
        pod
        for pod in snapshot.children(job, "Pod")
        if as_mapping(pod.get("status")).get("phase") == "Failed" or _failed_exits(pod)
    ]
    return sorted(found, key=lambda p: str(meta(p).get("creationTimestamp") or ""))


def _failed_exits(pod: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """(container, termination) of each container that last exited non-zero."""
    exits = []
    statuses = _items(as_mapping(pod.get("status")).get("containerStatuses"))
    for status in map(as_mapping, statuses):
        state, last = as_mapping(status.get("state")), as_mapping(status.get("lastState"))
        ended = as_mapping(state.get("terminated")) or as_mapping(last.get("terminated"))
        if ended and as_int(ended.get("exitCode")) != 0:
            exits.append((str(status.get("name")), ended))
    return exits


def _exit_evidence(failed: list[KubeObject], snapshot: Snapshot) -> list[str]:
    """The last attempt's exit, termination message and log's key lines; then, in one line,
    how the attempts before it ended."""
    if not failed:
        return []
    *earlier, newest = failed
    lines = []
    for container, ended in _failed_exits(newest)[:1]:
        lines.append(f"{meta(newest).get('name')}/{container}: {_ending(ended)}")
        if ended.get("message"):
            lines.append(str(ended["message"]).strip())
        namespace = str(meta(newest).get("namespace") or "")
        log = snapshot.log(namespace, str(meta(newest)["name"]), container)
        if log is not None:
            lines.extend(key_lines(log.text))
    before = [
        f"{meta(pod).get('name')}/{container} {_ending(ended)}"
        for pod in earlier[-3:]
        for container, ended in _failed_exits(pod)[:1]
    ]
    if before:
        lines.append("earlier attempts: " + "; ".join(before))
    return lines


def _ending(ended: Mapping[str, Any]) -> str:
    why = f" ({ended['reason']})" if ended.get("reason") else ""
    return f"exit code {ended.get('exitCode')}{why}"


def _counts(job: Mapping[str, Any]) -> str:
    spec, status = as_mapping(job.get("spec")), as_mapping(job.get("status"))
    limit = as_int(spec.get("backoffLimit"), 6)
    return (
        f"{as_int(status.get('failed'))} failed, {as_int(status.get('succeeded'))} succeeded "
        f"of {as_int(spec.get('completions'), 1)} completions (backoffLimit {limit})"
    )


def _title(code: str, job: Mapping[str, Any]) -> str:
    name, spec = meta(job).get("name"), as_mapping(job.get("spec"))
    if code == catalogue.JOB_FAILED_BACKOFF_LIMIT:
        limit = as_int(spec.get("backoffLimit"), 6)
        return f"Job {name} failed: its pods kept failing until the backoff limit ({limit})"
    if code == catalogue.JOB_FAILED_DEADLINE:
        deadline = spec.get("activeDeadlineSeconds")
        return f"Job {name} failed: it ran longer than its deadline ({deadline}s)"
    if code == catalogue.JOB_FAILED_POD_FAILURE_POLICY:
        return f"Job {name} failed: a podFailurePolicy rule failed it"
    return f"Job {name} failed"


def _hint(code: str, job: Mapping[str, Any], failed: list[KubeObject]) -> str:
    md = meta(job)
    namespace, name = md.get("namespace"), md.get("name")
    if code == catalogue.JOB_FAILED_DEADLINE:
        return (
            "The Job was stopped at spec.activeDeadlineSeconds: make the work finish sooner or "
            f"raise the deadline; `kubectl describe job {name} -n {namespace}` shows its pods."
        )
    if failed:
        pod = meta(failed[-1]).get("name")
        read = f"`kubectl logs {pod} -n {namespace}`"
    else:
        read = f"`kubectl describe job {name} -n {namespace}` (its pods are gone)"
    if code == catalogue.JOB_FAILED_POD_FAILURE_POLICY:
        return (
            f"The condition's message names the container and exit code that matched: read {read}."
        )
    return f"Read why the last attempt failed: {read}; fix it, then re-create the Job."


def _items(value: Any) -> list[Any]:
    """``value`` when it is a list (API objects may be partial or mangled), else empty."""
    return value if isinstance(value, list) else []


def _pod_ref(pod: Mapping[str, Any]) -> ObjectRef:
    md = meta(pod)
    return ObjectRef(kind="Pod", namespace=md.get("namespace"), name=str(md["name"]))
