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

from highpeaks_agent.engine.kinds import KindInfo
from highpeaks_agent.engine.model import Delivery, DeliveryManager, ObjectRef
from highpeaks_agent.engine.repo_links import (
    compare_url,
    is_commit,
    short_sha,
    split_flux_revision,
    web_url,
)
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
#: Where Argo CD keeps Applications unless it is told otherwise.
ARGOCD_NAMESPACE = "argocd"

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
_FLUX_FAILED = ("Failed", "failed")


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
    spec = _map(kustomization.get("spec"))
    source = _map(spec.get("sourceRef")) or _map(
        _map(_map(spec.get("chart")).get("spec")).get("sourceRef")
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
        return _argocd(manager, source, created)
    repository = snapshot.get(*_key(git_repository_of(source)))
    repo_url = str(_map(repository.get("spec")).get("url") or "") if repository else ""
    if manager.manager == "flux-kustomization":
        return _flux_kustomization(manager, source, repo_url)
    return _flux_helmrelease(manager, source, repo_url)


def gitops_suggestion(suggestion: str) -> bool:
    """A suggestion that changes the workload by hand, which a GitOps controller would undo."""
    return any(
        f"`kubectl {verb}" in suggestion
        for verb in ("rollout undo", "set ", "patch", "edit", "scale", "apply")
    )


# --- Argo CD -------------------------------------------------------------------------------


def _argocd(manager: Manager, app: Mapping[str, Any], created: Any) -> Delivery:
    md, spec, status = meta(app), _map(app.get("spec")), _map(app.get("status"))
    source_ref = ObjectRef(
        kind=APPLICATION.kind, namespace=md.get("namespace"), name=str(md.get("name"))
    )
    entries = sorted(
        (h for h in status.get("history") or [] if isinstance(h, Mapping)),
        key=lambda h: _int(h.get("id")) or 0,
    )
    index = _synced_with(entries, created)
    entry = entries[index] if entries else {}
    commit = _entry_revision(entry) or str(_map(status.get("sync")).get("revision") or "")
    previous = next(
        (e for e in reversed(entries[:index]) if _entry_revision(e) not in ("", commit)), {}
    )
    source = _entry_source(entry) or _entry_source(spec)
    repo_url = str(source.get("repoURL") or "")
    synced_at = str(
        entry.get("deployedAt") or _map(status.get("operationState")).get("finishedAt") or ""
    )
    delivery = Delivery(
        manager="argocd",
        source=source_ref,
        repository=web_url(repo_url) or repo_url,
        path=str(source.get("path") or source.get("chart") or ""),
        commit=commit,
        previous_commit=_entry_revision(previous),
        synced_at=synced_at,
        compare_url=compare_url(repo_url, _entry_revision(previous), commit),
        history_id=_int(entry.get("id")),
        previous_history_id=_int(previous.get("id")),
    )
    delivery.next_step = _argocd_step(delivery)
    return delivery


def _synced_with(entries: list[Mapping[str, Any]], created: Any) -> int:
    """The history entry whose sync made an object created at ``created``: the first one to
    finish at or after it (a sync creates the ReplicaSet, then records itself); the newest
    when nothing says otherwise."""
    if created is not None:
        for index, entry in enumerate(entries):
            deployed = parse_time(entry.get("deployedAt"))
            if deployed is not None and deployed >= created:
                return index
    return max(len(entries) - 1, 0)


def _entry_revision(entry: Mapping[str, Any]) -> str:
    revision = entry.get("revision")
    if isinstance(revision, str) and revision:
        return revision
    revisions = entry.get("revisions")  # multi-source Applications: the first source's
    return str(revisions[0]) if isinstance(revisions, list) and revisions else ""


def _entry_source(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    source = _map(entry.get("source"))
    if source.get("repoURL"):
        return source
    sources = entry.get("sources")
    return _map(sources[0]) if isinstance(sources, list) and sources else {}


def _argocd_step(d: Delivery) -> str:
    app = _cli_app_name(d.source)
    where = f" in {d.repository}" if d.repository else ""
    if not d.commit:
        return (
            f"Find the sync that brought it (`argocd app history {app}`) and revert its commit"
            "; a kubectl change would be undone by the next sync."
        )
    if is_commit(d.commit):
        step = f"Revert commit {short_sha(d.commit)}{where} and let Argo CD sync the revert"
    else:  # a Helm chart's version, or a tag: the change lies in the Application's source
        step = f"Undo revision {d.commit} in the Application's source{where}"
    if d.previous_history_id is not None:
        step += (
            f", or roll back to the last healthy sync: `argocd app rollback {app} "
            f"{d.previous_history_id}` (turn auto-sync off first, or it syncs the commit again)"
        )
    return step + "."


def _cli_app_name(ref: ObjectRef) -> str:
    # the CLI names an Application outside Argo CD's own namespace as <namespace>/<name>
    if ref.namespace and ref.namespace != ARGOCD_NAMESPACE:
        return f"{ref.namespace}/{ref.name}"
    return ref.name


def _application_ref(app: str) -> ObjectRef:
    namespace, sep, name = app.partition("_")
    if sep and namespace and name:
        return _ref(APPLICATION, namespace, name)
    return _ref(APPLICATION, ARGOCD_NAMESPACE, app)


# --- Flux ----------------------------------------------------------------------------------


def _flux_kustomization(manager: Manager, ks: Mapping[str, Any], repo_url: str) -> Delivery:
    spec, status = _map(ks.get("spec")), _map(ks.get("status"))
    _, commit = split_flux_revision(str(status.get("lastAppliedRevision") or ""))
    history = sorted(
        (h for h in status.get("history") or [] if isinstance(h, Mapping)),
        key=lambda h: str(h.get("lastReconciled") or ""),
        reverse=True,
    )
    current = next((h for h in history if _snapshot_commit(h) == commit), {})
    previous = next(
        (
            h
            for h in history
            if _snapshot_commit(h) not in ("", commit)
            and not str(h.get("lastReconciledStatus") or "").endswith(_FLUX_FAILED)
        ),
        {},
    )
    ready = next(
        (
            c
            for c in status.get("conditions") or []
            if isinstance(c, Mapping) and c.get("type") == "Ready"
        ),
        {},
    )
    delivery = Delivery(
        manager=manager.manager,
        source=manager.source,
        repository=web_url(repo_url) or repo_url,
        path=str(spec.get("path") or ""),
        commit=commit,
        previous_commit=_snapshot_commit(previous),
        synced_at=str(current.get("firstReconciled") or ready.get("lastTransitionTime") or ""),
        compare_url=compare_url(repo_url, _snapshot_commit(previous), commit),
    )
    where = f" in {delivery.repository}" if delivery.repository else ""
    revert = f"Revert commit {short_sha(commit)}{where}" if commit else "Revert the change in Git"
    ref = manager.source
    delivery.next_step = (
        f"{revert} and let Flux apply the revert; to stop Flux re-applying it meanwhile: "
        f"`flux suspend kustomization {ref.name} -n {ref.namespace}`."
    )
    return delivery


def _snapshot_commit(entry: Mapping[str, Any]) -> str:
    revision = _map(entry.get("metadata")).get("revision")
    return split_flux_revision(revision)[1] if isinstance(revision, str) else ""


def _flux_helmrelease(manager: Manager, hr: Mapping[str, Any], repo_url: str) -> Delivery:
    spec, status = _map(hr.get("spec")), _map(hr.get("status"))
    history = sorted(
        (h for h in status.get("history") or [] if isinstance(h, Mapping)),
        key=lambda h: _int(h.get("version")) or 0,
        reverse=True,
    )
    latest = history[0] if history else {}
    previous = next((h for h in history[1:] if h.get("status") in ("deployed", "superseded")), {})
    chart_spec = _map(_map(spec.get("chart")).get("spec"))
    ref = manager.source
    delivery = Delivery(
        manager=manager.manager,
        source=ref,
        repository=web_url(repo_url) or repo_url,
        path=str(chart_spec.get("chart") or "") if repo_url else "",
        synced_at=str(latest.get("lastDeployed") or ""),
        history_id=_int(latest.get("version")),
        previous_history_id=_int(previous.get("version")),
        chart=_chart(latest),
        previous_chart=_chart(previous),
    )
    charts = (
        f" (chart {delivery.previous_chart} -> {delivery.chart})" if delivery.previous_chart else ""
    )
    delivery.next_step = (
        f"Revert the change to HelmRelease {ref.namespace}/{ref.name} in Git{charts}; to stop "
        f"Flux re-applying it meanwhile: `flux suspend helmrelease {ref.name} -n {ref.namespace}`."
    )
    return delivery


def _chart(entry: Mapping[str, Any]) -> str:
    name, version = entry.get("chartName"), entry.get("chartVersion")
    return f"{name}@{version}" if name and version else ""


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
    spec = _map(owner.get("spec")) or _map(_map(owner.get("data")).get("spec"))
    labels = _strings(meta(_map(spec.get("template"))).get("labels"))
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
        delivery.next_step = _argocd_step(delivery)
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


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
