"""Which change broke it, in words: the lines of the text report, the table's COMMIT cell and
the short form an IncidentNote has room for. Built from :class:`Delivery` alone."""

from __future__ import annotations

from highpeaks_agent.engine.model import Delivery
from highpeaks_agent.engine.repo_links import is_commit, short_sha

_MANAGERS = {
    "argocd": "Argo CD",
    "flux-kustomization": "Flux",
    "flux-helmrelease": "Flux",
    "helm": "Helm",
}


def applied_by(delivery: Delivery) -> str:
    """``Argo CD Application argocd/checkout``, ``Flux Kustomization flux-system/apps``,
    ``Helm release shop/checkout``."""
    ref = delivery.source
    kind = "release" if delivery.manager == "helm" else ref.kind
    return f"{_MANAGERS[delivery.manager]} {kind} {ref.namespace}/{ref.name}"


def change_pair(delivery: Delivery) -> str:
    """``commit 9a8b7c6 (last healthy 4f3c2a1)``, ``chart checkout-2.14.0 (last healthy
    checkout-2.13.4)``; empty when neither is known."""
    if delivery.commit:
        noun = "commit" if is_commit(delivery.commit) else "revision"
        new, old = short_sha(delivery.commit), short_sha(delivery.previous_commit)
    elif delivery.chart:
        noun, new, old = "chart", delivery.chart, delivery.previous_chart
    else:
        return ""
    return f"{noun} {new}" + (f" (last healthy {old})" if old else "")


def table_cell(delivery: Delivery | None) -> str:
    """The COMMIT column: the failing commit (or chart), ``?`` when its source was not seen."""
    if delivery is None:
        return ""
    if not delivery.seen:
        return "?"
    return short_sha(delivery.commit) or delivery.chart


def text_lines(delivery: Delivery) -> list[str]:
    """The text report's paragraph about the change, indented as the rollout part is."""
    step = [f"    -> {delivery.next_step}"] if delivery.next_step else []
    if not delivery.seen:
        return [f"  Applied by {applied_by(delivery)}.", f"    {delivery.note}", *step]
    when = f", synced {delivery.synced_at}" if delivery.synced_at else ""
    lines = [f"  Applied by {applied_by(delivery)}{when}:"]
    pair = change_pair(delivery)
    where = ""
    if delivery.repository:
        where = f" in {delivery.repository}"
        if delivery.path:
            where += f", path {delivery.path}"
    if pair or where:
        lines.append(f"    {pair or 'source'}{where}")
    if delivery.compare_url:
        lines.append(f"    compare: {delivery.compare_url}")
    return lines + step


def note_part(delivery: Delivery) -> str:
    """The sentence an IncidentNote gives the change: pair and link, as short as they go."""
    if not delivery.seen:
        return f"Could not see its GitOps source ({delivery.source.kind} {delivery.source.namespace}/{delivery.source.name})."
    pair = change_pair(delivery)
    if not pair:
        return f"Applied by {applied_by(delivery)}."
    text = f"From {pair}"
    if delivery.compare_url:
        text += f": {short_compare_url(delivery)}"
    return text + "."


def short_compare_url(delivery: Delivery) -> str:
    """The compare link with seven-character commits (every supported host resolves them)."""
    old, new = delivery.previous_commit, delivery.commit
    return delivery.compare_url.replace(new, short_sha(new)).replace(old, short_sha(old))


def note_step(delivery: Delivery) -> str:
    """The GitOps next step, short enough for an IncidentNote; empty for plain Helm (the
    report's own first step says it)."""
    ref = delivery.source
    revert = (
        f"revert {short_sha(delivery.commit)}" if delivery.commit else "revert the change in Git"
    )
    if delivery.manager == "argocd":
        app = ref.name if ref.namespace in (None, "", "argocd") else f"{ref.namespace}/{ref.name}"
        if delivery.previous_history_id is not None:
            return f"{revert}, or `argocd app rollback {app} {delivery.previous_history_id}`"
        return f"{revert}; Argo CD syncs it"
    if delivery.manager == "flux-kustomization":
        return f"{revert}; meanwhile `flux suspend kustomization {ref.name} -n {ref.namespace}`"
    if delivery.manager == "flux-helmrelease":
        return f"{revert}; meanwhile `flux suspend helmrelease {ref.name} -n {ref.namespace}`"
    return ""
