"""What a flow answer may change (CONTRACT §8): the flow explains, the rules decide.

A model reads log lines an attacker may have written, so its answer is judged before anything
is published from it:

* **dropped** when any of its texts recommends a destructive command: the answer is not shown
  at all, and the rules' summary and suggestions stand;
* **kept as labelled text only** when its root cause contradicts the rules' (neither equal nor
  a refinement of the code, in either direction), it calls a failing workload healthy, or it
  names, approves or asks for an action (CONTRACT §10: ``rollback-to-2``, ``kubectl highpeaks
  approve``, ``spec.approval``, "I approve the rollback", "I have rolled it back"). Actions
  are proposed by the rules alone and run only on a person's approval that the API server
  admitted: a flow answer adds none, approves none and runs none, whatever it says;
* **accepted** otherwise: its words replace the rules' summary, answer and next steps, each
  labelled as generated. The root cause is always the rules'.

Destructive means it removes or stops what runs or what is stored, in a way the next step
cannot simply undo: ``kubectl delete`` (any object: a namespace, a PVC or "just a pod" alike,
since a model cannot know what a name holds), ``kubectl drain``, scaling to zero replicas,
``kubectl replace --force``, a ``NoExecute`` taint (it evicts), ``helm uninstall``,
``terraform destroy``, ``rm -r``, ``DROP``/``TRUNCATE``/``DELETE FROM``, ``FLUSHALL``, ``mkfs``,
``dd``, and plain words asking to delete a namespace, volume, claim, database or cluster.
Not on the list, on purpose: ``kubectl rollout undo`` (the rules themselves suggest it for a
stalled rollout; it restores the previous pod template and another undo reverses it),
``kubectl rollout restart`` (replaces pods one by one, under the rollout's own limits) and
``kubectl cordon`` (evicts nothing; ``uncordon`` reverses it).

Pure functions: no I/O, so every case is a unit test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from highpeaks_agent.engine.model import Diagnosis
from highpeaks_agent.explain import ExplainOutcome

#: A finding code is short; a longer "root cause" from the flow is cut when quoted.
MAX_CODE = 80
#: How flow text is marked wherever it is shown (status, Events, /assist, the CLI).
GENERATED = "[generated] "

_KUBECTL = r"\bkubectl\s+(?:\S+\s+){0,4}?"
_DESTRUCTIVE: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("kubectl delete", _KUBECTL + r"delete\b"),
        ("kubectl drain", _KUBECTL + r"drain\b"),
        ("scale to zero", _KUBECTL + r"scale\b[^\n;|&]*--replicas[= ]0+\b"),
        ("kubectl replace --force", _KUBECTL + r"replace\b[^\n;|&]*--force\b"),
        ("NoExecute taint", _KUBECTL + r"taint\b[^\n;|&]*:NoExecute\b"),
        ("helm uninstall", r"\bhelm\s+(?:\S+\s+){0,3}?(?:uninstall|delete|del|un)\b"),
        ("terraform destroy", r"\bterraform\s+destroy\b"),
        ("rm -r", r"\brm\s+(?:-\w+\s+)*-\w*[rR]\w*\b"),
        ("SQL DROP/TRUNCATE", r"\b(?:drop|truncate)\s+(?:table|database|schema)\b"),
        ("SQL DELETE", r"\bdelete\s+from\s+\w"),
        ("FLUSHALL", r"\bflush(?:all|db)\b"),
        ("mkfs/dd", r"\bmkfs(?:\.\w+)?\s|\bdd\s+if="),
        (
            "delete data",
            r"\b(?:delete|remove|wipe|destroy)\s+(?:the\s+|all\s+|this\s+)?"
            r"(?:namespace|persistent\s*volume|pvc|volume|database|cluster)s?\b(?![-\s]*mount)",
        ),
    )
)
_HEALTHY = re.compile(
    r"\b(?:is|are|looks?|seems?|appears?|remains?|now|all|everything|fully|perfectly)\s+"
    r"(?:\w+\s+)?healthy\b"
    r"|\bno\s+(?:issues|problems|errors|failures)\s+(?:were\s+|are\s+)?(?:found|detected)\b"
    r"|\bnothing\s+is\s+(?:wrong|failing|broken)\b"
    r"|\b(?:working|running|operating)\s+(?:fine|normally|correctly|properly|as\s+expected)\b"
    r"|\bno\s+action\s+(?:is\s+)?(?:needed|required)\b",
    re.IGNORECASE,
)
_ACTION_REQUESTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("an action id", r"\brollback-to-\d+\b"),
        ("kubectl highpeaks approve", r"\bkubectl[-\s]highpeaks\s+(?:\S+\s+){0,3}?approve\b"),
        ("spec.approval", r"\bspec\s*\.\s*(?:approval|action)\b|\bapproval\s*:\s*\{"),
        (
            "an approval",
            r"\b(?:i|we)\s+(?:hereby\s+)?(?:have\s+)?approved?\b"
            r"|\bapprov(?:e|ed|ing|al\s+of)\s+(?:the\s+|this\s+|a\s+)?(?:proposed\s+)?"
            r"(?:rollback|restart|pause|resume|action)\b",
        ),
        (
            "an action taken",
            r"\b(?:i|we)\s+(?:have\s+)?(?:already\s+)?"
            r"(?:rolled\s+(?:it\s+|\w+\s+)?back|restarted|paused|resumed|triggered|executed)\b",
        ),
    )
)
_NEGATION = re.compile(r"\b(?:not|never|no\s+longer|isn't|aren't|n't)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Judgement:
    """Whether a flow answer may be published, and if not, why (a sentence for a condition)."""

    verdict: Literal["accepted", "kept", "dropped"]
    reason: str = ""


ACCEPTED = Judgement("accepted")


def judge(outcome: ExplainOutcome, diagnoses: list[Diagnosis]) -> Judgement:
    """The verdict on an answered ``outcome`` about the rules' ``diagnoses``."""
    texts = [outcome.summary, outcome.answer, outcome.root_cause, *outcome.recommendations]
    for text in texts:
        command = destructive_command(text)
        if command is not None:
            return Judgement("dropped", f"it recommends a destructive command ({command})")
    for text in texts:
        request = action_request(text)
        if request is not None:
            return Judgement(
                "kept",
                f"it names, approves or asks for an action ({request}); actions are proposed "
                "by the rules and approved by a person only",
            )
    rules_causes = {d.root_cause for d in diagnoses if d.findings}
    if contradicts(outcome.root_cause, rules_causes):
        rules = ", ".join(sorted(rules_causes)) or "nothing failing"
        claimed = outcome.root_cause.strip()[:MAX_CODE]
        return Judgement("kept", f"its root cause {claimed} contradicts the rules' ({rules})")
    if rules_causes and any(calls_healthy(t) for t in (outcome.summary, outcome.answer)):
        return Judgement("kept", "it calls a failing workload healthy")
    return ACCEPTED


def destructive_command(text: str) -> str | None:
    """The name of the first destructive command ``text`` recommends, else None."""
    for name, pattern in _DESTRUCTIVE:
        if pattern.search(text):
            return name
    return None


def action_request(text: str) -> str | None:
    """What in ``text`` names, approves or asks for an action (CONTRACT §10), else None."""
    for name, pattern in _ACTION_REQUESTS:
        if pattern.search(text):
            return name
    return None


def calls_healthy(text: str) -> bool:
    """Whether ``text`` says, without negating it, that things are healthy or fine."""
    return any(not _NEGATION.search(match[0]) for match in _HEALTHY.finditer(text))


def contradicts(flow_cause: str, rules_causes: set[str]) -> bool:
    """Whether the flow's root-cause code disagrees with every root cause the rules found.

    An empty flow cause claims nothing. Dotted codes refine their prefix, so
    ``ImagePullError.NotFound`` agrees with ``ImagePullError`` and the other way round.
    """
    flow_cause = flow_cause.strip()
    if not flow_cause:
        return False
    return not any(_related(flow_cause, cause) for cause in rules_causes)


def _related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def labelled(text: str) -> str:
    """``text`` marked as written by the flow."""
    return GENERATED + text


def labelled_unused(text: str, reason: str) -> str:
    """Flow text shown only for reference, with why the rules' result stands instead."""
    return f"[generated, not used: {reason}] {text}"


def screen(outcome: ExplainOutcome, diagnoses: list[Diagnosis]) -> ExplainOutcome:
    """``outcome`` as far as it may be shown beside the rules' report (``diagnose --explain``).

    Unchanged when accepted; only its answer, labelled as not used and why, when kept;
    when dropped, an unavailable outcome whose reason says why (so nothing of it is shown).
    """
    if outcome.status != "ok":
        return outcome
    judgement = judge(outcome, diagnoses)
    if judgement.verdict == "accepted":
        return outcome
    if judgement.verdict == "dropped":
        reason = f"the flow's answer was not used: {judgement.reason}"
        return ExplainOutcome(status="unavailable", reason=reason, steps=outcome.steps)
    text = labelled_unused(outcome.answer or outcome.summary, judgement.reason)
    return ExplainOutcome(status="ok", answer=text, steps=outcome.steps)
