"""Ordering and merging of findings: the most specific cause that explains the others first."""

from __future__ import annotations

from highpeaks_agent.engine import codes
from highpeaks_agent.engine.model import Finding, ObjectRef, Severity

#: Lower comes first. A cause that explains another ranks ahead of it: a missing Secret or a
#: bad image explains the stalled rollout; an OOM kill or a failing liveness probe explains
#: the crash loop; an init container's failure explains the main container's PodInitializing.
_ORDER: tuple[str, ...] = (
    codes.CONFIG_SECRET_NOT_FOUND,
    codes.CONFIG_CONFIGMAP_NOT_FOUND,
    codes.CONFIG_KEY_NOT_FOUND,
    codes.CONFIG_ERROR,
    codes.INVALID_IMAGE_NAME,
    codes.IMAGE_PULL_NOT_FOUND,
    codes.IMAGE_PULL_UNAUTHORIZED,
    codes.IMAGE_PULL_NETWORK,
    codes.IMAGE_PULL_ERROR,
    codes.START_COMMAND_NOT_FOUND,
    codes.START_SECURITY_CONTEXT,
    codes.START_ERROR,
    codes.REPLICA_CREATE_QUOTA,
    codes.REPLICA_CREATE_FORBIDDEN,
    codes.REPLICA_CREATE_FAILED,
    codes.UNSCHEDULABLE_RESOURCES,
    codes.UNSCHEDULABLE_NODE_AFFINITY,
    codes.UNSCHEDULABLE_TAINTS,
    codes.UNSCHEDULABLE_VOLUME_BINDING,
    codes.UNSCHEDULABLE,
    codes.VOLUME_MOUNT_FAILURE,
    codes.INIT_CONTAINER_FAILING,
    codes.OOM_KILLED,
    codes.LIVENESS_PROBE_FAILING,
    codes.STARTUP_PROBE_FAILING,
    codes.CONTAINER_EXITS_IMMEDIATELY,
    codes.CRASH_LOOP_BACK_OFF,
    codes.READINESS_PROBE_FAILING,
    codes.EVICTED,
    codes.ROLLOUT_STALLED,
)
_RANK = {code: rank for rank, code in enumerate(_ORDER)}

#: Findings that alone do not take a workload down.
_WARNING_CODES = frozenset({codes.READINESS_PROBE_FAILING, codes.EVICTED})


def rank(code: str) -> int:
    """Position of a code in the explanation order (unknown codes last)."""
    return _RANK.get(code, len(_ORDER))


def default_severity(code: str) -> Severity:
    """How bad a finding of this code is on its own."""
    return Severity.WARNING if code in _WARNING_CODES else Severity.CRITICAL


def merge(findings: list[Finding]) -> list[Finding]:
    """Fold findings of the same code and title across pods into one, listing every pod.

    Twenty pods failing the same way are one cause, not twenty findings.
    """
    merged: dict[tuple[str, str], Finding] = {}
    for finding in findings:
        key = (finding.code, finding.title)
        existing = merged.get(key)
        if existing is None:
            merged[key] = finding.model_copy(deep=True)
            continue
        existing.objects.extend(o for o in finding.objects if o not in existing.objects)
        for line in finding.evidence:
            if line not in existing.evidence and len(existing.evidence) < 6:
                existing.evidence.append(line)
    return order(list(merged.values()))


def order(findings: list[Finding]) -> list[Finding]:
    """Most specific root cause first; then worse severity; then more objects affected."""
    return sorted(findings, key=lambda f: (rank(f.code), -f.severity.rank, -len(f.objects)))


def pod_ref(pod_name: str, namespace: str | None) -> ObjectRef:
    """An ObjectRef to a pod."""
    return ObjectRef(kind="Pod", namespace=namespace, name=pod_name)
