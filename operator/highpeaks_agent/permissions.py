"""The Kubernetes API permissions the agent uses: one list, read by the ClusterRole test.

``k8s/base/clusterrole.yaml`` must grant exactly these rules, no more and no less; a test
renders the manifests and compares. When code starts calling something new, add it here
with the reason, and the test tells you to update the manifest too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Permission:
    """Verbs on resources of one API group, and which code needs them."""

    api_group: str
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    why: str


PERMISSIONS: tuple[Permission, ...] = (
    Permission(
        "",
        ("pods",),
        ("get", "list", "watch"),
        "live context (sources/live.py) and the pod watch (controller/handlers.py)",
    ),
    Permission("", ("pods/log",), ("get",), "log tails of failing containers (sources/live.py)"),
    Permission(
        "",
        ("events",),
        ("create", "get", "list", "patch"),
        "evidence (list), aggregated IncidentNote/Diagnosed/Resolved Events (controller/kube.py)",
    ),
    Permission(
        "",
        ("namespaces",),
        ("list", "watch"),
        "WATCH_NAMESPACE_SELECTOR, and Kopf's namespace observer when WATCH_NAMESPACES is set",
    ),
    Permission(
        "apps",
        ("deployments", "replicasets"),
        ("get", "list", "watch"),
        "targets and owners; Deployment watch and ReplicaSet index (controller/handlers.py)",
    ),
    Permission(
        "apps",
        ("statefulsets", "daemonsets"),
        ("get", "list"),
        "targets of tasks and /assist, owners in a namespace diagnosis (sources/live.py)",
    ),
    Permission("batch", ("jobs",), ("get", "list"), "targets and owners (sources/live.py)"),
    Permission(
        "devops.highpeaks.io",
        ("agenttasks",),
        ("create", "get", "list", "patch", "watch"),
        "task handlers (Kopf annotations) and incident tasks (controller/kube.py)",
    ),
    Permission(
        "devops.highpeaks.io",
        ("agenttasks/status",),
        ("patch",),
        "task status through the status subresource (controller/kube.py)",
    ),
    Permission(
        "authentication.k8s.io", ("tokenreviews",), ("create",), "/assist callers (http/auth.py)"
    ),
    Permission(
        "authorization.k8s.io",
        ("subjectaccessreviews",),
        ("create",),
        "what /assist callers may read (http/auth.py)",
    ),
    Permission(
        "apiextensions.k8s.io",
        ("customresourcedefinitions",),
        ("list", "watch"),
        "Kopf notices the AgentTask CRD being installed or upgraded while it runs",
    ),
)


def cluster_role_rules() -> list[dict[str, Any]]:
    """The ClusterRole ``rules`` that grant exactly :data:`PERMISSIONS`."""
    return [
        {
            "apiGroups": [p.api_group],
            "resources": list(p.resources),
            "verbs": sorted(p.verbs),
        }
        for p in PERMISSIONS
    ]
