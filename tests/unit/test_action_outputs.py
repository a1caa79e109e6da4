"""Proposed actions in every output: `diagnose` text and JSON, AgentTask status and the
IncidentNote (CONTRACT §10); /assist returns the diagnoses' JSON (tests/unit/http)."""

from __future__ import annotations

import json
from datetime import timedelta

from highpeaks_agent.controller.incidents import Action, note_message
from highpeaks_agent.controller.notes import NOTE_BUDGET, body_of
from highpeaks_agent.controller.status import completed_status
from highpeaks_agent.engine import Snapshot, diagnose
from highpeaks_agent.engine.model import Diagnosis
from highpeaks_agent.render.json import render_json
from highpeaks_agent.render.text import render_text
from tests.support.diagnose_cli import validate_output
from tests.unit.engine.builders import NOW
from tests.unit.engine.gitops import TRACKING, application, rollout
from tests.unit.engine.test_actions import NEW_IMAGE, OLD_IMAGE, rolled_out_deployment
from tests.unit.test_delivery_outputs import report_of

ACTION = Action("open", "incident-checkout-r2", 2, "CrashLoopBackOff")
ROLLBACK = f"container app image: {NEW_IMAGE} -> {OLD_IMAGE}; container app env DB_POOL removed"


def only(objects: list[dict[str, object]]) -> Diagnosis:
    [found] = diagnose(Snapshot.from_objects(objects), now=NOW)
    return found


def test_text_report_shows_each_proposal_with_its_id_and_change() -> None:
    text = render_text(
        [only(rolled_out_deployment(old_ready=2))], pods=3, namespaces=1, color=False
    )
    assert f"\n  Proposed action: rollback-to-1 ({ROLLBACK})\n" in text
    assert text.endswith("\n  Proposed action: pause (spec.paused: false -> true)\n")
    assert "kubectl highpeaks approve" not in text, "the CLI has no task to approve on"


def test_text_report_groups_refused_actions_under_their_reason_without_repeating_the_step() -> None:
    objects = [*rollout(annotations=TRACKING), application()]
    objects[1]["spec"]["replicas"] = objects[1]["status"]["availableReplicas"] = 1
    text = render_text([only(objects)], pods=2, namespaces=1, color=False)
    assert (
        "  Refused actions: rollback-to-1 (container app image: shop/checkout:2.14.0 -> "
        "shop/checkout:2.13.4), pause (spec.paused: false -> true): Argo CD Application "
        "argocd/checkout manages this workload: its self-heal would put the change back on the "
        "next sync.\n"
    ) in text
    assert text.count("`argocd app rollback checkout 4`") == 1, (
        "the step shown above is not repeated"
    )
    assert "Proposed action:" not in text


def test_json_output_carries_the_proposals_and_stays_valid() -> None:
    document = json.loads(render_json([only(rolled_out_deployment())], now=NOW, pods_checked=1))
    validate_output(document)
    [action] = document["diagnoses"][0]["proposedActions"]
    assert (action["id"], action["action"], action["change"]) == (
        "rollback-to-1",
        "rollback",
        ROLLBACK,
    )


def test_task_status_carries_the_proposals_and_an_empty_list_when_there_are_none() -> None:
    report = report_of(only(rolled_out_deployment()))
    status = completed_status(
        report,
        generation=1,
        started_at=NOW - timedelta(seconds=1),
        now=NOW,
        flowise_configured=False,
    )
    assert status["proposedActions"] == [
        only(rolled_out_deployment()).proposed_actions[0].to_json_dict()
    ]
    assert status["proposedActions"][0]["target"] == {
        "kind": "Deployment",
        "namespace": "shop",
        "name": "checkout",
    }
    report.diagnoses[0].proposed_actions = []
    status = completed_status(
        report, generation=1, started_at=NOW, now=NOW, flowise_configured=False
    )
    assert status["proposedActions"] == [], "a new diagnosis replaces what an older one proposed"


def test_note_names_the_proposal_and_the_command_that_approves_it_after_its_pointer() -> None:
    """Each fact once: the rollback's change is the note's own `Changed:` the other way round."""
    note = note_message(report_of(only(rolled_out_deployment())), ACTION)
    assert note.endswith(
        "(details: kubectl describe agenttask incident-checkout-r2) Proposed action: rollback-to-1; "
        "approve: kubectl highpeaks approve incident-checkout-r2 rollback-to-1"
    )
    assert len(body_of(note)) <= NOTE_BUDGET


def test_note_of_a_refused_proposal_names_no_approval() -> None:
    note = note_message(report_of(only([*rollout(annotations=TRACKING), application()])), ACTION)
    assert "kubectl highpeaks approve" not in note
    assert note.endswith("(details: kubectl describe agenttask incident-checkout-r2)")
