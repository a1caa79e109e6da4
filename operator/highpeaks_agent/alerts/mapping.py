"""What an alert is about, and the AgentTask it becomes: pure functions, no I/O.

An alert is scoped when its labels name a namespace and a workload, the way
kube-state-metrics and the kube-prometheus rules label them: ``deployment``,
``statefulset``, ``daemonset``, ``job_name`` (kube-state-metrics' Job label), ``pod``, or
``job``. ``job`` comes last because in Prometheus it usually names the scrape job
(``job="kube-state-metrics"`` sits on every kube-state-metrics alert, ``KubePodCrashLooping``
included), so it is read as a Job only when nothing more specific is there.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from highpeaks_agent.alerts.payload import Alert
from highpeaks_agent.engine.kinds import DNS_1123_SUBDOMAIN, DNS_1123_SUBDOMAIN_MAX
from highpeaks_agent.engine.redact import redact_text

GROUP, VERSION = "devops.highpeaks.io", "v1alpha1"
TRIGGER_LABEL = "devops.highpeaks.io/trigger"
ALERT = "alert"
ALERTNAME_ANNOTATION = "devops.highpeaks.io/alertname"
FINGERPRINT_ANNOTATION = "devops.highpeaks.io/alert-fingerprint"
MAX_QUESTION_CHARS = 2000  # the AgentTask spec's limit (CONTRACT §4)
MAX_NAME = 63

#: Workload labels, most specific first, and the kind each names.
WORKLOAD_LABELS: tuple[tuple[str, str], ...] = (
    ("deployment", "Deployment"),
    ("statefulset", "StatefulSet"),
    ("daemonset", "DaemonSet"),
    ("job_name", "Job"),
    ("pod", "Pod"),
    ("job", "Job"),
)
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_NAME = re.compile(DNS_1123_SUBDOMAIN)
_INVALID = re.compile(r"[^a-z0-9-]+")


@dataclass(frozen=True, slots=True)
class Workload:
    """The workload an alert's labels name (a Pod is resolved to its owner later)."""

    namespace: str
    kind: str
    name: str
    label: str


@dataclass(frozen=True, slots=True)
class Unscoped:
    """Why an alert names no workload the agent can diagnose."""

    reason: str


def scope_of(alert: Alert) -> Workload | Unscoped:
    """The workload an alert is about, or why there is none."""
    labels = alert.labels
    namespace = labels.get("namespace", "")
    if not namespace:
        return Unscoped("no namespace label")
    if len(namespace) > 63 or not _NAMESPACE.match(namespace):
        return Unscoped(f"namespace label {namespace[:80]!r} is not a valid namespace name")
    for label, kind in WORKLOAD_LABELS:
        name = labels.get(label, "")
        if not name:
            continue
        if len(name) > DNS_1123_SUBDOMAIN_MAX or not _NAME.match(name):
            return Unscoped(f"{label} label {name[:80]!r} is not a valid {kind} name")
        return Workload(namespace, kind, name, label)
    wanted = ", ".join(label for label, _ in WORKLOAD_LABELS)
    return Unscoped(f"no workload label (one of {wanted})")


def task_name(fingerprint: str) -> str | None:
    """``alert-<fingerprint>``, lower-cased and cut to a DNS label; None without a fingerprint."""
    cleaned = _INVALID.sub("-", fingerprint.lower()).strip("-")
    if not cleaned:
        return None
    name = f"alert-{cleaned}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:10]
    return f"{name[: MAX_NAME - 11].rstrip('-')}-{digest}"


def question(alert: Alert) -> str:
    """The task's question: the alert's name and summary, redacted, within the spec's limit."""
    text = f"{alert.name or 'Alert'}: {alert.summary}" if alert.summary else alert.name
    text = redact_text(text or "Alert")
    return text if len(text) <= MAX_QUESTION_CHARS else text[: MAX_QUESTION_CHARS - 1] + "…"


def alert_task(alert: Alert, name: str, target: dict[str, Any], kind: str) -> dict[str, Any]:
    """The AgentTask for a firing alert about ``target`` (owned by it, so deleted with it)."""
    md = target.get("metadata") or {}
    api_version = str(target.get("apiVersion") or "")
    owner = [
        {
            "apiVersion": api_version,
            "kind": kind,
            "name": md.get("name"),
            "uid": md.get("uid"),
            "blockOwnerDeletion": False,
        }
    ]
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "AgentTask",
        "metadata": {
            "name": name,
            "namespace": md.get("namespace"),
            "labels": {TRIGGER_LABEL: ALERT, "app.kubernetes.io/managed-by": "highpeaks-agent"},
            "annotations": {
                ALERTNAME_ANNOTATION: redact_text(alert.name)[:253],
                FINGERPRINT_ANNOTATION: alert.fingerprint[:253],
            },
            "ownerReferences": owner if api_version and md.get("uid") else [],
        },
        "spec": {"target": {"kind": kind, "name": md.get("name")}, "question": question(alert)},
    }


def resolved_conditions(
    task: dict[str, Any], *, resolved: bool, alert: Alert, now: datetime
) -> list[dict[str, Any]]:
    """The task's conditions with ``Resolved`` set from the alert (others kept as they are)."""
    kept = [
        c
        for c in (task.get("status") or {}).get("conditions") or []
        if isinstance(c, dict) and c.get("type") != "Resolved"
    ]
    if resolved:
        reason, message = (
            "AlertResolved",
            f"Alertmanager reports {alert.name or 'the alert'} resolved",
        )
    else:
        reason, message = (
            "AlertFiringAgain",
            f"Alertmanager reports {alert.name or 'the alert'} firing again",
        )
    kept.append(
        {
            "type": "Resolved",
            "status": "True" if resolved else "False",
            "reason": reason,
            "message": redact_text(message),
            "lastTransitionTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )
    return kept


def is_resolved(task: dict[str, Any]) -> bool:
    conditions = (task.get("status") or {}).get("conditions") or []
    return any(
        isinstance(c, dict) and c.get("type") == "Resolved" and c.get("status") == "True"
        for c in conditions
    )
