"""The Kubernetes API permissions the agent uses, listed once.

Code and manifest share this one list so that they cannot drift apart. A ClusterRole written
by hand grows a verb "just in case" and keeps a permission long after the call that needed it
is gone; one that lags behind the code fails only in a cluster, as a 403 in the operator's
log. Here every rule names the code that needs it, ``k8s/base/clusterrole.yaml`` must grant
exactly :func:`cluster_role_rules` (``tests/unit/shipping`` renders the manifests and compares,
failing on any verb too many or too few), ``tests/unit/sources`` checks that every read the
live reader makes of the kinds in :mod:`highpeaks_agent.engine.kinds` is granted, and a new
API call means a new line here first.

Kopf's own calls count too: it lists and watches what handlers and indexes name, merge- and
JSON-patches objects and their ``status`` subresource (never ``get``, ``update`` or
``delete``), posts Events, and watches CustomResourceDefinitions and (with namespace
patterns) Namespaces. API discovery (``/api``, ``/apis``, ``/version``) is open to every
authenticated user and needs no rule. ``PEERING`` (Kopf peering, two replicas) is on in the
shipped manifests, cluster-wide; with ``WATCH_NAMESPACES`` set Kopf uses namespaced
``kopfpeerings`` in each watched namespace instead, which need the same verbs.
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
        "live context (sources/live.py), the pod watch (controller/handlers.py) and the "
        "incident resync (controller/resync.py)",
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
        "targets and owners; Deployment watch and ReplicaSet index (controller/handlers.py); "
        "listed by the incident resync (controller/resync.py)",
    ),
    Permission(
        "apps",
        ("statefulsets", "daemonsets"),
        ("get", "list", "watch"),
        "targets and owners (sources/live.py); incident watches (controller/handlers.py) "
        "and the incident resync (controller/resync.py)",
    ),
    Permission(
        "apps",
        ("controllerrevisions",),
        ("list",),
        "the pod templates of StatefulSet and DaemonSet revisions: their rollout diff "
        "(sources/live.py); their revision numbers, for the incident resync (controller/resync.py)",
    ),
    Permission(
        "batch",
        ("jobs",),
        ("get", "list", "watch"),
        "targets and owners; a CronJob's Jobs (sources/live.py); the Job incident watch "
        "(controller/handlers.py) and the incident resync (controller/resync.py)",
    ),
    Permission(
        "batch",
        ("cronjobs",),
        ("get", "list"),
        "targets, and the owners of Jobs (sources/live.py)",
    ),
    Permission(
        "",
        ("persistentvolumeclaims",),
        ("list",),
        "the claims pending pods wait on, as evidence (sources/live.py)",
    ),
    Permission(
        "",
        ("services",),
        ("list",),
        "the Service a crashed container could not reach, and the pods it selects "
        "(sources/live.py)",
    ),
    Permission(
        "discovery.k8s.io",
        ("endpointslices",),
        ("list",),
        "that Service's ready endpoints (sources/live.py)",
    ),
    Permission(
        "",
        ("nodes",),
        ("get",),
        "the nodes pods run on, by name: Ready condition, taints, architecture (sources/live.py)",
    ),
    Permission(
        "argoproj.io",
        ("applications",),
        ("get",),
        "the Argo CD Application that applied a failing workload: its sync history "
        "(sources/live.py; optional, without it the diagnosis says it could not see it)",
    ),
    Permission(
        "kustomize.toolkit.fluxcd.io",
        ("kustomizations",),
        ("get",),
        "the Flux Kustomization that applied a failing workload: its applied revision "
        "(sources/live.py; optional)",
    ),
    Permission(
        "helm.toolkit.fluxcd.io",
        ("helmreleases",),
        ("get",),
        "the Flux HelmRelease that applied a failing workload: its release history "
        "(sources/live.py; optional)",
    ),
    Permission(
        "source.toolkit.fluxcd.io",
        ("gitrepositories",),
        ("get",),
        "the Git URL a Flux Kustomization is built from: the compare link (sources/live.py; "
        "optional)",
    ),
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
        "authentication.k8s.io", ("tokenreviews",), ("create",), "who calls /assist (http/auth.py)"
    ),
    Permission(
        "authorization.k8s.io",
        ("subjectaccessreviews",),
        ("create",),
        "what each /assist caller may read, per kind of data (http/auth.py, http/rights.py)",
    ),
    Permission(
        "apiextensions.k8s.io",
        ("customresourcedefinitions",),
        ("list", "watch"),
        "Kopf notices the AgentTask CRD being installed or upgraded while it runs",
    ),
    Permission(
        "kopf.dev",
        ("clusterkopfpeerings",),
        ("get", "list", "patch", "watch"),
        "Kopf peering keep-alives (list, watch, patch); who is active (controller/leadership.py)",
    ),
)


#: The operator's extra rights when actions are enabled: the ClusterRole of
#: ``k8s/components/actions`` (and the chart's ``actions.enabled``) grants exactly these.
ACTIONS_PERMISSIONS: tuple[Permission, ...] = (
    Permission(
        "apps",
        ("deployments", "statefulsets", "daemonsets"),
        ("patch",),
        "an approved rollback, restart, pause or resume: the workload's template or "
        "spec.paused (actions/executor.py)",
    ),
    Permission(
        "admissionregistration.k8s.io",
        ("validatingadmissionpolicies", "validatingadmissionpolicybindings"),
        ("get",),
        "that the policy checking who may ask for an action, and its binding, exist before "
        "the operator acts (actions/gate.py)",
    ),
)


def cluster_role_rules(
    permissions: tuple[Permission, ...] = PERMISSIONS,
) -> list[dict[str, Any]]:
    """The ClusterRole ``rules`` that grant exactly ``permissions``."""
    return [
        {
            "apiGroups": [p.api_group],
            "resources": list(p.resources),
            "verbs": sorted(p.verbs),
        }
        for p in permissions
    ]
