"""Which change brought a failing revision: the GitOps controller (or Helm) that applied it,
the Git commit it applied, the last healthy one, and the next step that controller respects.

Recognised from the workload's own metadata, most specific first:

- Argo CD: the ``argocd.argoproj.io/tracking-id`` annotation
  (``<app>:<group>/<kind>:<namespace>/<name>``, ``<app>`` being ``<namespace>_<name>`` for an
  Application outside Argo CD's namespace), else the ``app.kubernetes.io/instance`` label when
  an Application of that name is at hand. The Application's ``status.history[]`` (``id``,
  ``revision``, ``deployedAt``, ``deployStartedAt``, ``source.repoURL``/``path``) says which
  sync brought the failing revision and which one came before it.
- Flux: ``helm.toolkit.fluxcd.io/name``/``namespace`` labels (a HelmRelease: its
  ``status.history`` of releases, newest first) or ``kustomize.toolkit.fluxcd.io/name``/
  ``namespace`` (a Kustomization: ``status.lastAppliedRevision`` like ``main@sha1:<sha>``,
  its ``status.history`` snapshots, and its ``spec.sourceRef`` GitRepository's ``spec.url``).
- Plain Helm: the ``meta.helm.sh/release-name``/``release-namespace`` annotations and the
  ``helm.sh/chart`` label. Helm's own release records are Secrets, which the agent never
  reads: the chart versions come from the pod templates' labels.

A controller would undo a ``kubectl`` fix on its next sync, so a GitOps-managed workload's next
step is the GitOps one: revert the commit, ``argocd app rollback``, suspend the Kustomization.
Pure: objects in, a :class:`Delivery` out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from highpeaks_agent.engine.delivery_status import (
    ARGOCD_NAMESPACE,
    argocd_delivery,
    argocd_step,
    flux_helmrelease_delivery,
    flux_kustomization_delivery,
    map_of,
)
from highpeaks_agent.engine.kinds import KindInfo
from highpeaks_agent.engine.model import Delivery, DeliveryManager, ObjectRef
from highpeaks_agent.engine.snapshot import KubeObject, Snapshot, meta
from highpeaks_agent.engine.timeutil import parse_time

ARGOCD_TRACKING = "argocd.argoproj.io/tracking-id"
INSTANCE_LABEL = "app.kubernetes.io/instance"
KUSTOMIZE_NAME = "kustomize.toolkit.fluxcd.io/name"
KUSTOMIZE_NAMESPACE = "kustomize.toolkit.fluxcd.io/namespace"
HELMRELEASE_NAME = "helm.toolkit.fluxcd.io/name"
HELMRELEASE_NAMESPACE = "helm.toolkit.fluxcd.io/namespace"
HELM_RELEASE_NAME = "meta.helm.sh/release-name"
HELM_RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"
HELM_CHART = "helm.sh/chart"
#: The kind a plain Helm release is named by: no object of the cluster (its records are Secrets).
HELM_RELEASE_REF = "Release"

APPLICATION = KindInfo(
    "Application", "argoproj.io", "v1alpha1", "applications", ("app",), False, False
)
KUSTOMIZATION = KindInfo(
    "Kustomization", "kustomize.toolkit.fluxcd.io", "v1", "kustomizations", ("ks",), False, False
)
HELM_RELEASE = KindInfo(
    "HelmRelease", "helm.toolkit.fluxcd.io", "v2", "helmreleases", ("hr",), False, False
)
GIT_REPOSITORY = KindInfo(
    "GitRepository", "source.toolkit.fluxcd.io", "v1", "gitrepositories", ("gitrepo",), False, False
)
#: The kinds a diagnosis reads to say which change broke a rollout (at most two per target).
DELIVERY_KINDS: tuple[KindInfo, ...] = (APPLICATION, KUSTOMIZATION, HELM_RELEASE, GIT_REPOSITORY)
_BY_KIND = {info.kind: info for info in DELIVERY_KINDS}


@dataclass(frozen=True, slots=True)
class Manager:
    """Who manages a workload, from its metadata alone: the tool and the object to read.

    ``guessed``: only the ``app.kubernetes.io/instance`` label points at Argo CD, a label many
    tools set; without an Application of that name the workload counts as unmanaged.
    """

    manager: DeliveryManager
    source: ObjectRef
    guessed: bool = False


def manager_of(workload: Mapping[str, Any]) -> Manager | None:
    """The tool that applied the workload, read from its annotations and labels."""
    md = meta(workload)
    labels = _strings(md.get("labels"))
    annotations = _strings(md.get("annotations"))
    namespace = str(md.get("namespace") or "")
    tracking = annotations.get(ARGOCD_TRACKING, "")
    if tracking:
        return Manager("argocd", _application_ref(tracking.partition(":")[0]))
    if labels.get(HELMRELEASE_NAME):
        ns = labels.get(HELMRELEASE_NAMESPACE) or namespace
        return Manager("flux-helmrelease", _ref(HELM_RELEASE, ns, labels[HELMRELEASE_NAME]))
    if labels.get(KUSTOMIZE_NAME):
        ns = labels.get(KUSTOMIZE_NAMESPACE) or namespace
        return Manager("flux-kustomization", _ref(KUSTOMIZATION, ns, labels[KUSTOMIZE_NAME]))
    if annotations.get(HELM_RELEASE_NAME):
        ns = annotations.get(HELM_RELEASE_NAMESPACE) or namespace
        return Manager(
            "helm",
            ObjectRef(kind=HELM_RELEASE_REF, namespace=ns, name=annotations[HELM_RELEASE_NAME]),
        )
    if labels.get(INSTANCE_LABEL):
        return Manager("argocd", _application_ref(labels[INSTANCE_LABEL]), guessed=True)
    return None


def source_object(manager: Manager, snapshot: Snapshot) -> KubeObject | None:
    """The managing object in the snapshot (an Application found by name in any namespace
    when the workload does not say where)."""
    ref = manager.source
    info = _BY_KIND.get(ref.kind)
    if info is None:
        return None
    found = snapshot.get(ref.kind, ref.namespace, ref.name)
    if found is None and info is APPLICATION:
        named = [a for a in snapshot.applications if meta(a).get("name") == ref.name]
        found = named[0] if len(named) == 1 else None
    return found if found is not None and _of_group(found, info) else None


def git_repository_of(kustomization: Mapping[str, Any]) -> ObjectRef | None:
    """The GitRepository a Kustomization (or a HelmRelease's chart) is built from."""
    spec = map_of(kustomization.get("spec"))
    source = map_of(spec.get("sourceRef")) or map_of(
        map_of(map_of(spec.get("chart")).get("spec")).get("sourceRef")
    )
    if source.get("kind") != GIT_REPOSITORY.kind or not source.get("name"):
        return None
    ns = source.get("namespace") or meta(kustomization).get("namespace")
    return _ref(GIT_REPOSITORY, str(ns or ""), str(source["name"]))


def delivery_of(
    workload: Mapping[str, Any],
    snapshot: Snapshot,
    *,
    failing: Mapping[str, Any] | None = None,
    previous: Mapping[str, Any] | None = None,
) -> Delivery | None:
    """Which change brought ``failing`` (the failing ReplicaSet or ControllerRevision; its
    creation time picks the sync that made it) after ``previous``; None when nothing says
    who manages the workload."""
    manager = manager_of(workload)
    if manager is None:
        return None
    if manager.manager == "helm":
        return _helm(manager, workload, failing, previous)
    source = source_object(manager, snapshot)
    if source is None:
        return None if manager.guessed else _unseen(manager, snapshot)
    created = parse_time(meta(failing).get("creationTimestamp")) if failing else None
    if manager.manager == "argocd":
        return argocd_delivery(source, created)
    repository = snapshot.get(*_key(git_repository_of(source)))
    repo_url = str(map_of(repository.get("spec")).get("url") or "") if repository else ""
    if manager.manager == "flux-kustomization":
        return flux_kustomization_delivery(manager.source, source, repo_url)
    return flux_helmrelease_delivery(manager.source, source, repo_url)


def gitops_suggestion(suggestion: str) -> bool:
    """A suggestion that changes the workload by hand, which a GitOps controller would undo."""
    return any(
        f"`kubectl {verb}" in suggestion
        for verb in ("rollout undo", "set ", "patch", "edit", "scale", "apply")
    )


def _application_ref(app: str) -> ObjectRef:
    namespace, sep, name = app.partition("_")
    if sep and namespace and name:
        return _ref(APPLICATION, namespace, name)
    return _ref(APPLICATION, ARGOCD_NAMESPACE, app)


# --- plain Helm ----------------------------------------------------------------------------


def _helm(
    manager: Manager,
    workload: Mapping[str, Any],
    failing: Mapping[str, Any] | None,
    previous: Mapping[str, Any] | None,
) -> Delivery:
    chart = _template_chart(failing) or _strings(meta(workload).get("labels")).get(HELM_CHART, "")
    ref = manager.source
    previous_chart = _template_chart(previous)
    return Delivery(
        manager="helm",
        source=ref,
        chart=chart,
        previous_chart=previous_chart if previous_chart != chart else "",
        next_step=(
            f"Roll the release back to its previous revision: `helm rollback {ref.name} "
            f"-n {ref.namespace}`, then fix the chart or its values."
        ),
    )


def _template_chart(owner: Mapping[str, Any] | None) -> str:
    """The ``helm.sh/chart`` label of a ReplicaSet's pod template (or a ControllerRevision's)."""
    if owner is None:
        return ""
    spec = map_of(owner.get("spec")) or map_of(map_of(owner.get("data")).get("spec"))
    labels = _strings(meta(map_of(spec.get("template"))).get("labels"))
    return labels.get(HELM_CHART, "") or _strings(meta(owner).get("labels")).get(HELM_CHART, "")


# --- shared --------------------------------------------------------------------------------


def _unseen(manager: Manager, snapshot: Snapshot) -> Delivery:
    ref = manager.source
    reason = snapshot.unread_sources.get(_key(ref), "not in the input")
    delivery = Delivery(
        manager=manager.manager,
        source=ref,
        seen=False,
        note=f"Could not see the GitOps source {ref.kind} {ref.namespace}/{ref.name}: {reason}.",
    )
    if manager.manager == "argocd":
        delivery.next_step = argocd_step(delivery)
    else:
        kind = "kustomization" if ref.kind == KUSTOMIZATION.kind else "helmrelease"
        delivery.next_step = (
            f"Revert the change in Git; `flux suspend {kind} {ref.name} -n {ref.namespace}` "
            "stops Flux re-applying it (a kubectl change would be undone)."
        )
    return delivery


def _key(ref: ObjectRef | None) -> tuple[str, str, str]:
    if ref is None:
        return ("", "", "")
    return (ref.kind, ref.namespace or "", ref.name)


def _ref(info: KindInfo, namespace: str, name: str) -> ObjectRef:
    return ObjectRef(kind=info.kind, namespace=namespace, name=name)


def _of_group(obj: Mapping[str, Any], info: KindInfo) -> bool:
    """Not some other product's kind of the same name (List items may carry no apiVersion)."""
    api_version = obj.get("apiVersion")
    return not isinstance(api_version, str) or api_version.startswith(f"{info.group}/")


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}
