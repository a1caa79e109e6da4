"""The two message shapes: a generic JSON document and a Slack Block Kit message.

Slack's documented limits are kept so a long incident is cut, never refused: a header's
plain text at most 150 characters, a section's text 3000, a section field 2000 (at most 10
fields), a context block 10 elements, a message 50 blocks; ``text`` is the fallback shown
in notifications. ``&``, ``<`` and ``>`` are escaped in mrkdwn as Slack asks.
"""

from __future__ import annotations

import re
from typing import Any

from highpeaks_agent.notify.incident import Incident, Proposal, summary_without
from highpeaks_agent.render.delivery import applied_by, change_pair

WEBHOOK_SCHEMA_VERSION = 1
HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
MAX_BLOCKS = 50
MAX_CHANGES = 20
_SEVERITY_ICON = {"critical": ":red_circle:", "warning": ":large_orange_circle:"}
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


def webhook_body(incident: Incident) -> dict[str, Any]:
    """The generic webhook's JSON (README documents it; fields are only ever added)."""
    rollout: dict[str, Any] | None = None
    if incident.changes or incident.delivery is not None:
        rollout = {
            "revision": incident.revision,
            "previousRevision": incident.previous_revision,
            "changes": list(incident.changes),
        }
        if incident.delivery is not None:
            rollout["delivery"] = incident.delivery.to_json_dict()
    return {
        "type": "IncidentNote",
        "schemaVersion": WEBHOOK_SCHEMA_VERSION,
        "target": {"kind": incident.kind, "namespace": incident.namespace, "name": incident.name},
        "revision": incident.revision,
        "task": incident.task,
        "signature": incident.signature,
        "severity": incident.severity,
        "rootCause": incident.root_cause,
        "title": incident.title,
        "summary": summary_without(incident, target=False),
        "evidence": list(incident.evidence),
        "nextStep": incident.next_step,
        "rollout": rollout,
        "describe": incident.describe_command,
        "proposedActions": [_proposal_json(incident, p) for p in incident.proposals],
    }


def _proposal_json(incident: Incident, proposal: Proposal) -> dict[str, str]:
    shown = {"id": proposal.id, "change": proposal.change}
    if proposal.refused:
        return shown | {"refused": proposal.refused, "instead": proposal.instead}
    return shown | {"approve": approve_command(incident, proposal)}


def approve_command(incident: Incident, proposal: Proposal) -> str:
    return f"kubectl highpeaks approve -n {incident.namespace} {incident.task} {proposal.id}"


def slack_message(incident: Incident) -> dict[str, Any]:
    """An incoming-webhook message: header (target and root cause), summary, facts, evidence,
    next step, diff, describe line — each fact in one place."""
    header = f"{incident.target} is failing: {incident.root_cause}"
    facts = [
        ("Severity", f"{_SEVERITY_ICON.get(incident.severity, '')} {incident.severity}".strip()),
    ]
    if incident.revision is not None:
        facts.append(("Revision", str(incident.revision)))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(header, HEADER_MAX)}},
        _section(_escape(summary_without(incident, target=True)) or _escape(incident.title)),
        {"type": "section", "fields": [_field(name, value) for name, value in facts]},
    ]
    if incident.evidence:
        code = "\n".join(incident.evidence).replace("```", "'''")
        blocks.append(_section(f"*Evidence*\n```{_cut(_escape(code), SECTION_MAX - 30)}```"))
    if incident.next_step:
        blocks.append(_section(f"*Next step*\n{_escape(incident.next_step)}"))
    if incident.changes:
        title = f"*Revision {incident.revision} changed*"
        if incident.previous_revision is not None:
            title = (
                f"*Revision {incident.revision} (previous {incident.previous_revision}) changed*"
            )
        lines = "\n".join(f"• {_escape(c)}" for c in incident.changes[:MAX_CHANGES])
        blocks.append(_section(f"{title}\n{lines}"))
    if incident.delivery is not None:
        blocks.append(_section(_delivery_text(incident)))
    approvable = [p for p in incident.proposals if not p.refused]
    if approvable:
        blocks.append(_section(_proposals_text(incident, approvable)))
    blocks.append(
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": _cut(f"`{incident.describe_command}`", SECTION_MAX)}
            ],
        }
    )
    fallback = _escape(f"{header}: {incident.summary}")
    return {"text": _cut(fallback, SECTION_MAX), "blocks": blocks[:MAX_BLOCKS]}


def _delivery_text(incident: Incident) -> str:
    """Which change brought it: who applied it, the commit pair, where, and the compare link."""
    delivery = incident.delivery
    assert delivery is not None
    lines = [f"*Which change*: applied by {_escape(applied_by(delivery))}"]
    if not delivery.seen:
        lines.append(_escape(delivery.note))
    pair = change_pair(delivery)
    if pair:
        where = f" in {delivery.repository}" if delivery.repository else ""
        where += f", path `{delivery.path}`" if delivery.repository and delivery.path else ""
        lines.append(_escape(f"{pair}{where}"))
    if delivery.synced_at:
        lines.append(f"synced {_escape(delivery.synced_at)}")
    if delivery.compare_url:
        lines.append(f"<{_escape(delivery.compare_url)}|compare the commits>")
    return "\n".join(lines)


def _proposals_text(incident: Incident, proposals: list[Proposal]) -> str:
    """Approvable proposals only: a refused one's GitOps way is already the next step."""
    lines = [
        f"• `{_escape(p.id)}`: {_escape(_what_it_does(incident, p))}\n"
        f"   `{_escape(approve_command(incident, p))}`"
        for p in proposals
    ]
    title = "*Proposed action*" if len(lines) == 1 else "*Proposed actions*"
    return _cut(
        title
        + " (runs only once someone who may patch the target approves it)\n"
        + "\n".join(lines),
        SECTION_MAX,
    )


def _what_it_does(incident: Incident, proposal: Proposal) -> str:
    """A rollback's change is the diff above, reversed: said once, so named, not repeated."""
    if proposal.id.startswith("rollback-to-") and incident.changes:
        return (
            f"back to revision {proposal.id.removeprefix('rollback-to-')}, undoing the change above"
        )
    return proposal.change


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text or " ", SECTION_MAX)}}


def _field(name: str, value: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": _cut(f"*{name}*\n{_escape(value)}", FIELD_MAX)}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` characters, marked with an ellipsis, never ending inside ``&amp;``."""
    if len(text) <= limit:
        return text
    return _PARTIAL_ENTITY.sub("", text[: limit - 1]) + "…"
