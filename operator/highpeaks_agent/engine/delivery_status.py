"""What the GitOps controllers' own status says about the change they applied.

Argo CD keeps an Application's syncs in ``status.history[]`` (``id``, ``revision``,
``deployedAt``, ``deployStartedAt``, ``source.repoURL``/``path``; ``revisions``/``sources``
for a multi-source Application); Flux a Kustomization's ``status.lastAppliedRevision``
(``main@sha1:<sha>``) and ``status.history`` snapshots (``metadata.revision``,
``firstReconciled``, ``lastReconciledStatus``), and a HelmRelease's ``status.history`` of
releases (``version``, ``chartName``, ``chartVersion``, ``status``, ``lastDeployed``).
Pure: one object in, a :class:`Delivery` out (:mod:`.delivery` finds the object).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from highpeaks_agent.engine.model import Delivery, ObjectRef
from highpeaks_agent.engine.repo_links import (
    compare_url,
    is_commit,
    short_sha,
    split_flux_revision,
    web_url,
)
from highpeaks_agent.engine.snapshot import meta
from highpeaks_agent.engine.timeutil import parse_time

#: Where Argo CD keeps Applications unless it is told otherwise.
ARGOCD_NAMESPACE = "argocd"
_FLUX_FAILED = ("Failed", "failed")


# --- Argo CD -------------------------------------------------------------------------------


def argocd_delivery(app: Mapping[str, Any], created: Any) -> Delivery:
    """What an Argo CD Application's sync history says about the sync that made an object
    created at ``created`` (a ReplicaSet, a ControllerRevision)."""
    md, spec, status = meta(app), map_of(app.get("spec")), map_of(app.get("status"))
    source_ref = ObjectRef(
        kind="Application", namespace=md.get("namespace"), name=str(md.get("name"))
    )
    entries = sorted(
        (h for h in status.get("history") or [] if isinstance(h, Mapping)),
        key=lambda h: int_of(h.get("id")) or 0,
    )
    index = _synced_with(entries, created)
    entry = entries[index] if entries else {}
    commit = _entry_revision(entry) or str(map_of(status.get("sync")).get("revision") or "")
    previous = next(
        (e for e in reversed(entries[:index]) if _entry_revision(e) not in ("", commit)), {}
    )
    source = _entry_source(entry) or _entry_source(spec)
    repo_url = str(source.get("repoURL") or "")
    synced_at = str(
        entry.get("deployedAt") or map_of(status.get("operationState")).get("finishedAt") or ""
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
        history_id=int_of(entry.get("id")),
        previous_history_id=int_of(previous.get("id")),
    )
    delivery.next_step = argocd_step(delivery)
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
    source = map_of(entry.get("source"))
    if source.get("repoURL"):
        return source
    sources = entry.get("sources")
    return map_of(sources[0]) if isinstance(sources, list) and sources else {}


def argocd_step(d: Delivery) -> str:
    """The Argo CD next step: revert the commit, or roll back to the last healthy sync."""
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


# --- Flux ----------------------------------------------------------------------------------


def flux_kustomization_delivery(
    source: ObjectRef, ks: Mapping[str, Any], repo_url: str
) -> Delivery:
    """What a Flux Kustomization's applied revision and history say; ``repo_url`` is its
    GitRepository's ``spec.url`` (empty when unknown)."""
    spec, status = map_of(ks.get("spec")), map_of(ks.get("status"))
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
        manager="flux-kustomization",
        source=source,
        repository=web_url(repo_url) or repo_url,
        path=str(spec.get("path") or ""),
        commit=commit,
        previous_commit=_snapshot_commit(previous),
        synced_at=str(current.get("firstReconciled") or ready.get("lastTransitionTime") or ""),
        compare_url=compare_url(repo_url, _snapshot_commit(previous), commit),
    )
    where = f" in {delivery.repository}" if delivery.repository else ""
    revert = f"Revert commit {short_sha(commit)}{where}" if commit else "Revert the change in Git"
    ref = source
    delivery.next_step = (
        f"{revert} and let Flux apply the revert; to stop Flux re-applying it meanwhile: "
        f"`flux suspend kustomization {ref.name} -n {ref.namespace}`."
    )
    return delivery


def _snapshot_commit(entry: Mapping[str, Any]) -> str:
    revision = map_of(entry.get("metadata")).get("revision")
    return split_flux_revision(revision)[1] if isinstance(revision, str) else ""


def flux_helmrelease_delivery(source: ObjectRef, hr: Mapping[str, Any], repo_url: str) -> Delivery:
    """What a Flux HelmRelease's release history says."""
    spec, status = map_of(hr.get("spec")), map_of(hr.get("status"))
    history = sorted(
        (h for h in status.get("history") or [] if isinstance(h, Mapping)),
        key=lambda h: int_of(h.get("version")) or 0,
        reverse=True,
    )
    latest = history[0] if history else {}
    previous = next((h for h in history[1:] if h.get("status") in ("deployed", "superseded")), {})
    chart_spec = map_of(map_of(spec.get("chart")).get("spec"))
    ref = source
    delivery = Delivery(
        manager="flux-helmrelease",
        source=ref,
        repository=web_url(repo_url) or repo_url,
        path=str(chart_spec.get("chart") or "") if repo_url else "",
        synced_at=str(latest.get("lastDeployed") or ""),
        history_id=int_of(latest.get("version")),
        previous_history_id=int_of(previous.get("version")),
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


def map_of(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one (objects of any shape are read)."""
    return value if isinstance(value, Mapping) else {}


def int_of(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
