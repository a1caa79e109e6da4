"""What an AgentTask asks for: an action by name (``spec.action``) or a proposal approved by id
(``spec.approval``), who asked, when that was written, and what ``status`` already records.

Pure: a task as the API server returns it in, plain values out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from highpeaks_agent.engine.timeutil import parse_time

ACTIONS = ("rollback", "restart", "pause", "resume")
#: What ``status.actions[].result`` says once nothing more will happen.
FINISHED = frozenset({"Succeeded", "Failed", "Refused"})
ROLLBACK_PREFIX = "rollback-to-"
#: The condition that says an approval was refused when its id names no action.
REFUSED_CONDITION = "ActionRefused"


@dataclass(frozen=True, slots=True)
class Asked:
    """One task's request.

    ``field`` is ``action`` or ``approval``; ``name`` the action asked for directly, or ""
    for an approval until its proposal is found; ``approved`` the approved proposal's id.
    """

    field: Literal["action", "approval"]
    name: str
    approved: str
    by: str
    written_at: datetime | None

    @property
    def key(self) -> str:
        """What tells this request apart in ``status.actions`` before its id is known."""
        return self.approved or self.name


def asked_of(task: Mapping[str, Any]) -> Asked | None:
    """The task's request, or None when it asks for none."""
    spec = _map(task.get("spec"))
    action, approval = _map(spec.get("action")), _map(spec.get("approval"))
    if action:
        return Asked(
            "action",
            str(action.get("name") or ""),
            "",
            str(action.get("by") or ""),
            written_at(task, "action"),
        )
    if approval:
        return Asked(
            "approval",
            action_of_id(str(approval.get("action") or "")),
            str(approval.get("action") or ""),
            str(approval.get("by") or ""),
            written_at(task, "approval"),
        )
    return None


def action_of_id(action_id: str) -> str:
    """``rollback-to-3`` → ``rollback``; ``restart`` → ``restart``; "" for an unknown id."""
    if action_id.startswith(ROLLBACK_PREFIX):
        return "rollback" if rollback_revision(action_id) is not None else ""
    return action_id if action_id in ACTIONS and action_id != "rollback" else ""


def rollback_revision(action_id: str) -> int | None:
    """The revision a ``rollback-to-<N>`` id restores, None for any other id."""
    number = action_id.removeprefix(ROLLBACK_PREFIX)
    if action_id == number or not number.isdigit():
        return None
    return int(number)


def rollback_id(revision: int) -> str:
    return f"{ROLLBACK_PREFIX}{revision}"


def record_of(task: Mapping[str, Any], asked: Asked) -> dict[str, Any] | None:
    """The ``status.actions`` entry of this request: the approved id's, or the entry of the
    action asked for directly (a task asks for one action, so there is at most one)."""
    for entry in actions_of(task):
        if asked.approved and entry.get("id") == asked.approved:
            return entry
        if not asked.approved and entry.get("action") == asked.name:
            return entry
    return None


def actions_of(task: Mapping[str, Any]) -> list[dict[str, Any]]:
    entries = _map(task.get("status")).get("actions")
    return [dict(e) for e in entries if isinstance(e, Mapping)] if isinstance(entries, list) else []


def proposal_of(task: Mapping[str, Any], action_id: str) -> dict[str, Any] | None:
    """The ``status.proposedActions`` entry with this id."""
    entries = _map(task.get("status")).get("proposedActions")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, Mapping) and entry.get("id") == action_id:
            return dict(entry)
    return None


def is_unfinished(task: Mapping[str, Any]) -> bool:
    """The task asks for an action whose record is missing or not finished."""
    asked = asked_of(task)
    if asked is None or refused_unnamed(task):
        return False
    record = record_of(task, asked)
    return record is None or record.get("result") not in FINISHED


def refused_unnamed(task: Mapping[str, Any]) -> bool:
    """An approved id that names no action was refused for this generation already: no
    ``status.actions`` entry can name it, so the condition :data:`REFUSED_CONDITION` does."""
    generation = _map(task.get("metadata")).get("generation")
    conditions = _map(task.get("status")).get("conditions")
    return (
        any(
            isinstance(c, Mapping)
            and c.get("type") == REFUSED_CONDITION
            and c.get("observedGeneration") == generation
            for c in conditions
            if isinstance(conditions, list)
        )
        if isinstance(conditions, list)
        else False
    )


def written_at(task: Mapping[str, Any], field: str) -> datetime | None:
    """When ``spec.<field>`` was last written, from the server's ``managedFields`` (the
    newest entry owning it), else the task's creation time; None when neither says."""
    md = _map(task.get("metadata"))
    times = [
        parse_time(entry.get("time"))
        for entry in md.get("managedFields") or []
        if isinstance(entry, Mapping)
        and f"f:{field}" in _map(_map(entry.get("fieldsV1")).get("f:spec"))
    ]
    found = [t for t in times if t is not None]
    return max(found) if found else parse_time(md.get("creationTimestamp"))


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
