"""The IncidentNote's words: each fact once, at most NOTE_BUDGET characters before the pointer."""

from __future__ import annotations

import pytest

from highpeaks_agent.controller.notes import (
    NOTE_BUDGET,
    body_of,
    compact_change,
    first_sentence,
    note_message,
)
from highpeaks_agent.engine.model import Diagnosis, Finding, ObjectRef, Rollout, Severity

IMAGE = (
    "container app image: registry.example.com/shop/checkout:2.13.4 -> "
    "registry.example.com/shop/checkout:2.14.0"
)
NEXT = (
    "Read the crashed instance's log: "
    "`kubectl logs checkout-eea2b872d2-00001 -n shop -c app --previous`."
)


def diagnosis(changes: list[str], title: str = "Container app keeps crashing (exit code 1)"):  # type: ignore[no-untyped-def]
    finding = Finding(code="CrashLoopBackOff", severity=Severity.CRITICAL, title=title)
    return Diagnosis(
        target=ObjectRef(kind="Deployment", namespace="shop", name="checkout"),
        severity=Severity.CRITICAL,
        summary="Deployment shop/checkout is failing: … Started with revision 2 (…).",
        findings=[finding],
        rollout=Rollout(revision=2, previous_revision=1, changes=changes),
        pods_affected=3,
        pods_total=3,
    )


def note(d: Diagnosis, steps: list[str], **kw: object) -> str:
    args: dict[str, object] = {
        "task": "incident-checkout-r2",
        "kind": "Deployment",
        "name": "checkout",
        "revision": 2,
    }
    args.update(kw)
    return note_message(d, steps, **args)  # type: ignore[arg-type]


def test_each_fact_once_within_the_budget() -> None:
    text = note(diagnosis([IMAGE]), [NEXT])
    body = body_of(text)
    assert text.endswith("(details: kubectl describe agenttask incident-checkout-r2)")
    assert len(body) <= NOTE_BUDGET, (len(body), body)
    assert body.startswith("Revision 2 is failing (CrashLoopBackOff): Container app keeps")
    assert body.count("2.14.0") == 1 and body.count("checkout:2.13.4") == 1
    assert body.count("keeps crashing") == 1
    assert "3 of 3 pods failing." in body and NEXT in body


def test_too_many_facts_drop_the_least_needed_whole() -> None:
    changes = [f"container app env VAR_{i}: {'x' * 20} -> {'y' * 20}" for i in range(6)]
    body = body_of(note(diagnosis(changes), [NEXT]))
    assert len(body) <= NOTE_BUDGET
    assert "(+5 more)" in body and NEXT in body
    giant = body_of(note(diagnosis([IMAGE], title="z" * 400), [NEXT]))
    assert len(giant) == NOTE_BUDGET and giant.endswith("…")


def test_the_check_refuses_a_note_that_says_the_change_twice() -> None:
    from tests.support.notes import assert_says_each_fact_once

    twice = (
        "Revision 2 is failing (CrashLoopBackOff): Deployment shop/checkout is failing. Started "
        "with revision 2 (image: a:1 -> a:2). Changed since the last healthy revision: "
        "image: a:1 -> a:2. (details: kubectl describe agenttask incident-checkout-r2)"
    )
    with pytest.raises(AssertionError, match="said more than once"):
        assert_says_each_fact_once(twice)


def test_a_job_is_named_instead_of_a_revision() -> None:
    failed = diagnosis([])
    body = body_of(note(failed, [], task="incident-job-n-1", kind="Job", name="n-1", revision=None))
    assert body.startswith("Job n-1 is failing (CrashLoopBackOff):")


def test_a_change_shows_the_new_value_without_what_it_shares() -> None:
    assert compact_change(IMAGE) == (
        "container app image: registry.example.com/shop/checkout:2.13.4 -> …:2.14.0"
    )
    assert compact_change("replicas: 1 -> 2") == "replicas: 1 -> 2"
    assert compact_change("memory limit: 128Mi -> 256Mi") == "memory limit: 128Mi -> 256Mi"


def test_every_note_of_the_shipped_examples_says_each_fact_once() -> None:
    """The note each failing workload of ``examples/`` would get."""
    import io
    from datetime import UTC, datetime
    from pathlib import Path

    from highpeaks_agent.engine.diagnose import diagnose
    from highpeaks_agent.render.answer import recommendations
    from highpeaks_agent.sources.files import load_path
    from tests.support.notes import assert_says_each_fact_once

    examples = Path(__file__).resolve().parents[3] / "examples"
    paths = [*sorted((examples / "dumps").iterdir()), *sorted((examples / "lists").iterdir())]
    paths.append(examples / "broken-deployment.yaml")
    noted = 0
    for path in paths:
        snapshot = load_path(str(path), io.StringIO())
        now = snapshot.newest_timestamp() or datetime.now(UTC)
        for found in diagnose(snapshot, now=now):
            revision = found.rollout.revision if found.rollout else None
            text = note_message(
                found,
                recommendations([found]),
                task=f"incident-{found.target.name}",
                kind=found.target.kind,
                name=found.target.name,
                revision=revision,
            )
            assert_says_each_fact_once(text)
            noted += 1
    assert noted >= 5  # every failing example: crash loop, image, claim, CronJob, StatefulSet


def test_a_long_next_step_keeps_its_first_sentence_when_the_whole_does_not_fit() -> None:
    step = (
        "Check the node (`kubectl describe node worker-2`): is the kubelet running, the machine "
        "up and reachable? Pods there are replaced only once the node is deleted or recovers; "
        "a StatefulSet's pod waits until then."
    )
    title = "Pod checkout-99e1e7466c-00001 is on node worker-2, which is not ready"
    body = body_of(note(diagnosis([], title=title), [step], revision=1))
    assert len(body) <= NOTE_BUDGET
    assert body.endswith(
        "Next: Check the node (`kubectl describe node worker-2`): is the "
        "kubelet running, the machine up and reachable?"
    )
    assert first_sentence("Run `a. b`. Then c.") == "Run `a. b`."
