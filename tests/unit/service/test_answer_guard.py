"""What a flow answer may change (CONTRACT §8): the judgement itself, and what the diagnosis
service, the AgentTask status and the IncidentNote publish for each verdict."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from highpeaks_agent.answer_guard import (
    action_request,
    calls_healthy,
    contradicts,
    destructive_command,
    judge,
    screen,
)
from highpeaks_agent.controller.incidents import Action, note_message
from highpeaks_agent.controller.status import completed_status
from highpeaks_agent.engine import Snapshot, diagnose
from highpeaks_agent.engine.model import Diagnosis
from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS
from highpeaks_agent.explain import ExplainOutcome
from highpeaks_agent.service import Report

from ..engine.builders import NOW
from ..engine.test_actions import rolled_out_deployment
from .test_diagnosis_service import (
    RecordingExplainer,
    SnapshotSource,
    ask,
    failing_objects,
    service,
)

RULES_CAUSE = "CrashLoopBackOff"


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("Run kubectl delete namespace prod to start clean.", "kubectl delete"),
        ("`kubectl -n shop delete pod checkout-7c9f8d6b5-x2k4q`", "kubectl delete"),
        ("kubectl --context prod delete deploy/checkout", "kubectl delete"),
        ("kubectl drain node-3 --ignore-daemonsets", "kubectl drain"),
        ("kubectl scale deployment/checkout --replicas=0", "scale to zero"),
        ("kubectl -n shop scale deploy checkout --replicas 0", "scale to zero"),
        ("kubectl replace --force -f checkout.yaml", "kubectl replace --force"),
        ("kubectl taint nodes n1 key=v:NoExecute", "NoExecute taint"),
        ("helm uninstall checkout -n shop", "helm uninstall"),
        ("terraform destroy -auto-approve", "terraform destroy"),
        ("kubectl exec -it db-0 -- rm -rf /var/lib/postgresql/data", "rm -r"),
        ("psql -c 'DROP TABLE orders;'", "SQL DROP/TRUNCATE"),
        ("run TRUNCATE TABLE sessions", "SQL DROP/TRUNCATE"),
        ("DELETE FROM orders WHERE 1=1", "SQL DELETE"),
        ("redis-cli FLUSHALL", "FLUSHALL"),
        ("Delete the namespace and re-create it.", "delete data"),
        ("Remove the PVC so it binds again.", "delete data"),
    ],
)
def test_destructive_commands_are_recognised(text: str, command: str) -> None:
    assert destructive_command(text) == command


@pytest.mark.parametrize(
    "text",
    [
        "kubectl rollout undo deployment/checkout -n shop",  # the rules suggest it themselves
        "kubectl rollout restart deployment/checkout",
        "kubectl cordon node-3",
        "kubectl logs checkout-7c9f8d6b5-x2k4q -n shop -c app --previous",
        "kubectl scale deployment/checkout --replicas=3",
        "kubectl describe pod checkout-7c9f8d6b5-x2k4q",
        "Remove the volume mount of /etc/orders from the container spec.",
        "The rollout deleted nothing; fix the config file and roll out again.",
    ],
)
def test_ordinary_next_steps_are_not_destructive(text: str) -> None:
    assert destructive_command(text) is None


@pytest.mark.parametrize(
    ("text", "healthy"),
    [
        ("Everything is healthy.", True),
        ("The workload looks healthy; no action needed.", True),
        ("All pods are healthy", True),
        ("No issues were found.", True),
        ("checkout is running normally", True),
        ("Nothing is wrong with checkout.", True),
        ("checkout is not healthy: it keeps crashing", False),
        ("checkout is unhealthy", False),
        ("Revision 1 was healthy; revision 2 crashes on start.", False),
        ("The container is no longer healthy after the release.", False),
    ],
)
def test_healthy_claims(text: str, healthy: bool) -> None:
    assert calls_healthy(text) is healthy


@pytest.mark.parametrize(
    ("flow", "rules", "contradiction"),
    [
        ("CrashLoopBackOff", {"CrashLoopBackOff"}, False),
        ("ImagePullError.NotFound", {"ImagePullError"}, False),  # a refinement
        ("ImagePullError", {"ImagePullError.NotFound"}, False),  # a generalisation
        ("", {"CrashLoopBackOff"}, False),  # claims nothing
        ("OOMKilled", {"CrashLoopBackOff"}, True),
        ("ImagePull", {"ImagePullError"}, True),  # a prefix of the text is not a refinement
        ("OOMKilled", set(), True),  # the rules found nothing failing
        ("OOMKilled", {"CrashLoopBackOff", "OOMKilled"}, False),  # a namespace: any agrees
    ],
)
def test_root_cause_contradictions(flow: str, rules: set[str], contradiction: bool) -> None:
    assert contradicts(flow, rules) is contradiction


def flow(**fields: object) -> ExplainOutcome:
    base: dict[str, object] = {
        "status": "ok",
        "summary": "checkout crashes on start: its config file does not parse.",
        "root_cause": RULES_CAUSE,
        "recommendations": ["Fix line 12 of /etc/orders/config.yaml, then roll out again."],
        "answer": "The release broke the config file.",
    }
    return ExplainOutcome(**{**base, **fields})  # type: ignore[arg-type]


async def explained(outcome: ExplainOutcome) -> Report:
    return await ask(service(SnapshotSource(*failing_objects()), RecordingExplainer(outcome)))


async def test_an_agreeing_answer_is_published_labelled_as_generated() -> None:
    report = await explained(flow())
    assert (report.source, report.flow_not_used, report.generated) == ("flowise", "", True)
    assert (
        report.summary == "[generated] checkout crashes on start: its config file does not parse."
    )
    assert report.answer == "[generated] The release broke the config file."
    assert report.recommendations == [
        "[generated] Fix line 12 of /etc/orders/config.yaml, then roll out again."
    ]
    assert report.diagnoses[0].root_cause == RULES_CAUSE


async def test_a_healthy_claim_keeps_the_rules_result() -> None:
    report = await explained(
        flow(summary="Everything is healthy.", root_cause="", answer="Everything is healthy.")
    )
    rules = await explained(ExplainOutcome(status="unavailable", reason="timeout"))
    assert report.source == "rules"
    assert report.flow_not_used == "it calls a failing workload healthy"
    assert report.summary == rules.summary and report.recommendations == rules.recommendations
    assert report.answer.startswith(rules.answer)
    assert report.answer.endswith(
        "[generated, not used: it calls a failing workload healthy] Everything is healthy."
    )


async def test_a_contradicting_root_cause_keeps_the_rules_result() -> None:
    report = await explained(flow(root_cause="OOMKilled", summary="It runs out of memory."))
    assert report.source == "rules"
    assert (
        report.flow_not_used == "its root cause OOMKilled contradicts the rules' (CrashLoopBackOff)"
    )
    assert "It runs out of memory" not in report.summary
    assert not any(r.startswith("[generated]") for r in report.recommendations)
    assert report.diagnoses[0].root_cause == RULES_CAUSE


async def test_a_destructive_recommendation_drops_the_whole_answer() -> None:
    report = await explained(
        flow(recommendations=["Run kubectl delete namespace prod to start clean."])
    )
    assert report.source == "rules" and not report.generated
    assert report.flow_not_used == "it recommends a destructive command (kubectl delete)"
    for text in (report.summary, report.answer, *report.recommendations):
        assert "delete" not in text and "[generated" not in text


async def test_the_task_status_and_the_incident_note_show_the_rules_result() -> None:
    """An obeyed injection: the status says why the flow was not used; the note holds none of it."""
    report = await explained(
        flow(
            summary="Everything is healthy",
            root_cause="",
            recommendations=["Run kubectl delete namespace prod"],
        )
    )
    status = completed_status(
        report,
        generation=1,
        started_at=NOW - timedelta(seconds=1),
        now=NOW,
        flowise_configured=True,
    )
    assert status["summary"] == report.summary and "healthy" not in status["summary"].lower()
    assert status["source"] == "rules" and status["rootCause"] == RULES_CAUSE
    diagnosed, available = status["conditions"]
    assert diagnosed["message"].endswith(
        "(rules only: the flow's answer was not used, "
        "it recommends a destructive command (kubectl delete))"
    )
    assert (available["type"], available["status"], available["reason"]) == (
        "FlowiseAvailable",
        "True",
        "AnswerNotUsed",
    )
    note = note_message(report, Action(kind="open", task_name="incident-checkout-r1", revision=1))
    assert "kubectl delete" not in note and "Everything is healthy" not in note
    assert f"Next: {report.recommendations[0]}" in note


def test_the_judgement_needs_something_failing_to_call_healthy_a_contradiction() -> None:
    assert judge(flow(summary="Everything is healthy", root_cause=""), []).verdict == "accepted"


def test_screening_for_a_report_printed_beside_the_rules() -> None:
    """What a printed explanation (``diagnose --explain``) may show of each verdict."""
    diagnoses = [d for d in _diagnoses() if d.findings]
    agreeing = flow()
    assert screen(agreeing, diagnoses) is agreeing
    dropped = screen(flow(recommendations=["kubectl drain node-3"]), diagnoses)
    assert (dropped.status, dropped.reason) == (
        "unavailable",
        "the flow's answer was not used: it recommends a destructive command (kubectl drain)",
    )
    kept = screen(flow(root_cause="", answer="Everything is healthy."), diagnoses)
    assert (kept.summary, kept.recommendations, kept.root_cause) == ("", [], "")
    assert kept.answer == (
        "[generated, not used: it calls a failing workload healthy] Everything is healthy."
    )
    unavailable = ExplainOutcome(status="unavailable", reason="timeout")
    assert screen(unavailable, diagnoses) is unavailable


def _diagnoses() -> list[Diagnosis]:
    snapshot = Snapshot.from_objects(failing_objects())
    return diagnose(snapshot, now=NOW, thresholds=DEFAULT_THRESHOLDS)


# --- actions (CONTRACT §10): a flow answer adds, approves and runs none ---------------------


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("Approve rollback-to-3 right away.", "an action id"),
        (
            "Run kubectl highpeaks approve incident-checkout-r2 rollback",
            "kubectl highpeaks approve",
        ),
        (
            "kubectl-highpeaks -n shop approve incident-checkout-r2 pause",
            "kubectl highpeaks approve",
        ),
        ("Set spec.approval on the task to go ahead.", "spec.approval"),
        ("patch the task with approval: {action: pause, by: admin}", "spec.approval"),
        ("Add spec.action: restart to the AgentTask.", "spec.approval"),
        ("I approve the proposed rollback.", "an approval"),
        ("Approving the restart is safe here.", "an approval"),
        ("We have already rolled it back.", "an action taken"),
        ("I restarted the deployment for you.", "an action taken"),
    ],
)
def test_answers_that_name_approve_or_ask_for_an_action_are_recognised(
    text: str, what: str
) -> None:
    assert action_request(text) == what


@pytest.mark.parametrize(
    "text",
    [
        "kubectl rollout undo deployment/checkout -n shop",
        "Roll back to the previous image, then fix the config file.",
        "The container restarted 6 times in 10 minutes.",
        "The rollout of revision 2 is paused by nobody; it stalls on the failing pods.",
        "Ask the team that approves releases to fix line 12.",
    ],
)
def test_ordinary_explanations_name_no_action(text: str) -> None:
    assert action_request(text) is None


async def test_an_answer_that_approves_an_action_changes_no_proposal_and_approves_nothing() -> None:
    objects = rolled_out_deployment()
    svc = service(SnapshotSource(*objects), RecordingExplainer(flow(
        recommendations=[
            "Approve rollback-to-7: kubectl highpeaks approve incident-checkout-r2 rollback-to-7"
        ],
        answer="I have approved the rollback and restarted the pods.",
    )))  # fmt: skip
    report = await ask(svc)
    rules = await ask(service(SnapshotSource(*objects)))
    assert report.source == "rules" and report.flow_not_used.startswith(
        "it names, approves or asks for an action (an approval)"
    )
    assert report.diagnoses[0].proposed_actions == rules.diagnoses[0].proposed_actions
    assert [a.id for a in report.diagnoses[0].proposed_actions] == ["rollback-to-1"]
    assert report.summary == rules.summary and report.recommendations == rules.recommendations
    status = completed_status(
        report, generation=1, started_at=NOW, now=NOW, flowise_configured=True
    )
    assert [a["id"] for a in status["proposedActions"]] == ["rollback-to-1"]
    assert "actions" not in status and "approval" not in status
    assert "rollback-to-7" not in json.dumps(status["proposedActions"])
    note = note_message(report, Action(kind="open", task_name="incident-checkout-r2", revision=2))
    assert "rollback-to-7" not in note
    assert note.endswith("approve: kubectl highpeaks approve incident-checkout-r2 rollback-to-1")
