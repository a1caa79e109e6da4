"""The words of an IncidentNote: each fact once, short enough to read in ``kubectl describe``.

A note says what fails and why (revision or Job, root cause, the root finding's title), which
commit brought it when a GitOps controller or Helm applied it (with the compare link), how
many pods, what the rollout changed and the next step (the GitOps one for a workload its
controller would put back), then points at the incident task for everything else, and after
that at the action the rules propose, if any, with the command that approves it. Before the
pointer it is at most :data:`NOTE_BUDGET` characters: when all facts do not fit, the least
needed go first (changes beyond the first, the pod count, the next step's sentences after its
first, then the rest), never cut mid-way, since the task holds them all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from highpeaks_agent.engine.diagnose import because
from highpeaks_agent.engine.model import Diagnosis
from highpeaks_agent.render.delivery import note_part, note_step

NOTE_BUDGET = 300
POINTER = "(details: kubectl describe agenttask {task})"
#: ``<what>: <old> -> <new>``, as the rollout diff words a change.
_CHANGE = re.compile(r"^(?P<what>.*?: )(?P<old>\S+) -> (?P<new>\S+)$")
_SEPARATORS = ":/@"


def note_message(
    diagnosis: Diagnosis,
    next_steps: Sequence[str],
    *,
    task: str,
    kind: str,
    name: str,
    revision: int | None,
) -> str:
    """The note about ``diagnosis`` of the workload ``kind``/``name``, naming ``task``."""
    lead = _lead(diagnosis, kind, name, revision)
    bare = _lead(diagnosis, kind, name, revision, titled=False)
    dependency = diagnosis.findings[0].dependency if diagnosis.findings else None
    if dependency is not None and dependency.workload_root_cause:
        lead += " " + because(dependency)  # the crash is a consequence: say of what
    delivery = diagnosis.rollout.delivery if diagnosis.rollout else None
    if delivery is not None:
        lead += " " + note_part(delivery)
        bare += " " + note_part(delivery)
    gitops_step = note_step(delivery) if delivery is not None and delivery.gitops else ""
    if gitops_step:
        next_steps = [gitops_step[0].upper() + gitops_step[1:]]
    pods = _pods(diagnosis)
    changes = [compact_change(c) for c in (diagnosis.rollout.changes if diagnosis.rollout else [])]
    step = f"Next: {next_steps[0]}" if next_steps else ""
    short = f"Next: {first_sentence(next_steps[0])}" if next_steps else ""
    one = _changed(changes, 1)
    if gitops_step:  # its controller would undo a hand-made fix: the step outranks the rest
        variants: tuple[list[str], ...] = (
            [lead, pods, _changed(changes, 2), step],
            [lead, pods, one, step],
            [lead, one, step],
            [lead, pods, step],
            [lead, step],
            [bare, step],  # the code, the commit and the GitOps step before the finding's words
            [lead, short],
            [lead],
        )
    else:
        variants = _variants(lead, pods, changes, step, short)
    text = ""
    for parts in variants:
        text = " ".join(p for p in parts if p)
        if len(text) <= NOTE_BUDGET:
            break
    if len(text) > NOTE_BUDGET:
        text = text[: NOTE_BUDGET - 1].rstrip() + "…"
    return f"{text} {POINTER.format(task=task)}{proposal_hint(diagnosis, task)}"


def proposal_hint(diagnosis: Diagnosis, task: str) -> str:
    """The first action the rules propose that may be run and how to approve it; empty when
    there is none. Its change is the note's ``Changed:`` the other way round (a rollback) or
    in the task, so only its id is named. It follows the pointer: the budget is the facts'."""
    action = next((a for a in diagnosis.proposed_actions if not a.refused), None)
    if action is None:
        return ""
    return f" Proposed action: {action.id}; approve: kubectl highpeaks approve {task} {action.id}"


def _variants(
    lead: str, pods: str, changes: list[str], step: str, short: str
) -> tuple[list[str], ...]:
    """The note's parts from all to fewest, the least needed dropped first."""
    one = _changed(changes, 1)
    return (
        [lead, pods, _changed(changes, 2), step],
        [lead, pods, one, step],
        [lead, one, step],
        [lead, pods, one, short],
        [lead, one, short],
        [lead, pods, one],
        [lead, one],
        [lead, short],
        [lead, pods],
        [lead],
    )


def body_of(message: str) -> str:
    """The note without its ``(details: …)`` pointer: what :data:`NOTE_BUDGET` bounds."""
    head, _, _ = message.rpartition(" (details: ")
    return head or message


def _lead(
    diagnosis: Diagnosis, kind: str, name: str, revision: int | None, *, titled: bool = True
) -> str:
    title = diagnosis.findings[0].title.rstrip(".") if diagnosis.findings else diagnosis.summary
    if revision:
        what = f"Revision {revision}"
    elif kind == "Job":
        what = f"Job {name}"
    else:
        what = f"{kind} {name}"
    if not titled:
        return f"{what} is failing ({diagnosis.root_cause})."
    return f"{what} is failing ({diagnosis.root_cause}): {title}."


def _pods(diagnosis: Diagnosis) -> str:
    total = diagnosis.pods_total
    if not total or not diagnosis.pods_affected:
        return ""
    return f"{diagnosis.pods_affected} of {total} pod{'s' if total != 1 else ''} failing."


def _changed(changes: list[str], most: int) -> str:
    """What the failing revision changed (against the one before it: the task says which)."""
    if not changes:
        return ""
    shown = "; ".join(changes[:most])
    more = f" (+{len(changes) - most} more)" if len(changes) > most else ""
    return f"Changed: {shown}{more}."


def first_sentence(text: str) -> str:
    """Up to the first ``.``, ``?`` or ``!`` that ends a sentence outside a `command`."""
    quoted = False
    for index, char in enumerate(text):
        if char == "`":
            quoted = not quoted
        elif not quoted and char in ".?!" and text[index + 1 : index + 2] in ("", " "):
            return text[: index + 1]
    return text


def compact_change(change: str) -> str:
    """``image: reg/app:1.6 -> reg/app:1.7`` as ``image: reg/app:1.6 -> …:1.7``: the new
    value without the part it shares with the old one (up to a ``:``, ``/`` or ``@``)."""
    match = _CHANGE.match(change)
    if match is None:
        return change
    old, new = match["old"], match["new"]
    shared = 0
    for a, b in zip(old, new, strict=False):
        if a != b:
            break
        shared += 1
    cut = max(new.rfind(sep, 0, shared) for sep in _SEPARATORS)
    if cut <= 0:
        return change
    return f"{match['what']}{old} -> …{new[cut:]}"
