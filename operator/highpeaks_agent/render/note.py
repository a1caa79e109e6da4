"""The IncidentNote's words: at most :data:`NOTE_MAX` characters before its ``(details: …)``
pointer, a line or two in ``kubectl describe`` and whole in a phone's notification.

Room goes first to what must be there — the revision and root cause, which commit brought it
(with the compare link) and the next step — then to what the rollout changed, then to the
summary; what does not fit is cut with an ellipsis (the incident's task holds it whole).
"""

from __future__ import annotations

from highpeaks_agent.engine.model import Diagnosis
from highpeaks_agent.render.delivery import note_part, note_step

NOTE_MAX = 300
_SHORTEST_CUT = 24


def incident_note(
    diagnosis: Diagnosis,
    *,
    revision: int,
    summary: str,
    recommendations: list[str],
    task_name: str,
) -> str:
    """The note about ``diagnosis`` failing at ``revision``, pointing at its task."""
    rollout = diagnosis.rollout
    delivery = rollout.delivery if rollout is not None else None
    head = f"Revision {revision} is failing ({diagnosis.root_cause}):"
    change = note_part(delivery) if delivery is not None else ""
    step = note_step(delivery) if delivery is not None and delivery.gitops else ""
    if not step and recommendations:
        step = recommendations[0]
    step = f"Next: {step[0].upper()}{step[1:]}" if step else ""
    room = NOTE_MAX - len(" ".join(p for p in (head, change, step) if p))
    if room < 0:
        step = _fit(step, len(step) + room)
        room = NOTE_MAX - len(" ".join(p for p in (head, change, step) if p))
    changed = _changed(rollout.changes if rollout is not None else [], room - 1)
    room -= len(changed) + 1 if changed else 0
    summary = _fit(summary, room - 1)
    text = " ".join(p for p in (head, summary, changed, change, step) if p)
    return f"{text} (details: kubectl describe agenttask {task_name})"


def _changed(changes: list[str], room: int) -> str:
    """What the rollout changed, in ``room`` characters: images without their common
    repository path, the long label only when it fits."""
    if not changes:
        return ""
    listed = "; ".join(_compact(c) for c in changes[:4]) + "."
    for label in ("Changed since the last healthy revision: ", "Changed: "):
        if len(label) + len(listed) <= room:
            return label + listed
    return _fit("Changed: " + listed, room)


def _compact(change: str) -> str:
    """``…image: registry.example.com/shop/checkout:2.13.4 -> registry.example.com/shop/
    checkout:2.14.0`` → ``…image: …/checkout:2.13.4 -> …/checkout:2.14.0``."""
    before, arrow, after = change.partition(" -> ")
    label, sep, old = before.rpartition(": ")
    if not arrow or not sep:
        return change
    prefix = old.rpartition("/")[0]
    if prefix and after.startswith(prefix + "/"):
        return f"{label}: …/{old[len(prefix) + 1 :]} -> …/{after[len(prefix) + 1 :]}"
    return change


def _fit(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, cut with an ellipsis; nothing when a cut would
    leave too little to read."""
    if len(text) <= limit:
        return text
    if limit < _SHORTEST_CUT:
        return ""
    return text[: limit - 1].rstrip() + "…"
