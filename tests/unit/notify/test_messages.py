"""The webhook JSON and the Slack Block Kit message, within Slack's documented limits."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from highpeaks_agent.controller import incidents
from highpeaks_agent.notify import incident as incident_module
from highpeaks_agent.notify.incident import incident_from_task
from highpeaks_agent.notify.messages import slack_message, webhook_body

from .builders import incident_task

PLANTED = "ghp_" + "Z" * 36
AWS = "AKIAIOSFODNN7EXAMPLE"


def texts(message: dict[str, Any]) -> list[str]:
    """Every text object's text in a Block Kit message."""
    found = []
    for block in message["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found.extend(f["text"] for f in block.get("fields", []))
        found.extend(e["text"] for e in block.get("elements", []))
    return found


def assert_within_slack_limits(message: dict[str, Any]) -> None:
    assert isinstance(message["text"], str) and message["text"]
    assert 1 <= len(message["blocks"]) <= 50
    for block in message["blocks"]:
        kind = block["type"]
        assert kind in ("header", "section", "context")
        if kind == "header":
            assert block["text"]["type"] == "plain_text" and len(block["text"]["text"]) <= 150
        if kind == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                assert block["text"]["type"] == "mrkdwn"
                assert 1 <= len(block["text"]["text"]) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
        if kind == "context":
            assert 1 <= len(block["elements"]) <= 10
            assert all(len(e["text"]) <= 3000 for e in block["elements"])


def test_slack_message_says_target_cause_evidence_next_step_diff_and_describe() -> None:
    incident = incident_from_task(incident_task())
    assert incident is not None
    message = slack_message(incident)
    assert_within_slack_limits(message)
    header, summary, facts, evidence, next_step, diff, context = message["blocks"]
    assert header["text"]["text"] == "Deployment shop/checkout is failing: CrashLoopBackOff"
    assert "Container app keeps crashing" in summary["text"]["text"]
    assert [f["text"].split("\n")[0] for f in facts["fields"]] == ["*Severity*", "*Revision*"]
    assert summary["text"]["text"] == "Container app keeps crashing (exit code 1)."
    assert evidence["text"]["text"].startswith("*Evidence*\n```")
    assert "panic: missing PAYMENTS_API_URL" in evidence["text"]["text"]
    assert next_step["text"]["text"].startswith("*Next step*\nRead the crashed instance's log")
    assert diff["text"]["text"] == (
        "*Revision 2 (previous 1) changed*\n"
        "• container app image: shop/checkout:2.13.4 -&gt; shop/checkout:2.14.0"
    )
    assert context["elements"] == [
        {"type": "mrkdwn", "text": "`kubectl -n shop describe agenttask incident-checkout-r2`"}
    ]
    assert message["text"].startswith("Deployment shop/checkout is failing: CrashLoopBackOff")


def test_huge_incidents_are_cut_to_slacks_limits() -> None:
    task = incident_task(
        evidence=["<&>" * 2000 for _ in range(8)] + ["```breakout```"],
        changes=[f"container c{i} image: a -> b" * 40 for i in range(60)],
    )
    task["metadata"]["name"] = "incident-" + "x" * 53 + "-r2"
    task["spec"]["target"]["name"] = "y" * 253
    task["status"]["summary"] = "s" * 10_000
    incident = incident_from_task(task)
    assert incident is not None
    message = slack_message(incident)
    assert_within_slack_limits(message)
    for text in texts(message):
        assert "&am…" not in text and "&l…" not in text  # never cut inside an entity


@given(
    st.lists(st.text(max_size=4000), max_size=12),
    st.lists(st.text(max_size=500), max_size=30),
    st.text(max_size=5000),
)
def test_any_text_stays_within_limits(
    evidence: list[str], changes: list[str], summary: str
) -> None:
    task = incident_task(evidence=evidence, changes=changes)
    task["status"]["summary"] = summary
    incident = incident_from_task(task)
    assert incident is not None
    assert_within_slack_limits(slack_message(incident))
    json.dumps(webhook_body(incident))


def test_webhook_json_shape() -> None:
    incident = incident_from_task(incident_task())
    assert incident is not None
    body = webhook_body(incident)
    assert body == {
        "type": "IncidentNote",
        "schemaVersion": 1,
        "target": {"kind": "Deployment", "namespace": "shop", "name": "checkout"},
        "revision": 2,
        "task": "incident-checkout-r2",
        "signature": "CrashLoopBackOff",
        "severity": "critical",
        "rootCause": "CrashLoopBackOff",
        "title": "Container app keeps crashing (exit code 1)",
        "summary": "Deployment shop/checkout is failing: Container app keeps crashing (exit code 1).",
        "evidence": [
            "app: terminated with exit code 1 (Error), restarted 4 times",
            "panic: missing PAYMENTS_API_URL",
        ],
        "nextStep": "Read the crashed instance's log: `kubectl logs checkout-x -n shop -c app --previous`.",
        "rollout": {
            "revision": 2,
            "previousRevision": 1,
            "changes": ["container app image: shop/checkout:2.13.4 -> shop/checkout:2.14.0"],
        },
        "describe": "kubectl -n shop describe agenttask incident-checkout-r2",
        "proposedActions": [],
    }


PROPOSED = [
    {
        "id": "rollback-to-1",
        "action": "rollback",
        "target": {"kind": "Deployment", "name": "checkout"},
        "change": "container app image: shop/checkout:2.14.0 -> shop/checkout:2.13.4",
    },
    {
        "id": "pause",
        "action": "pause",
        "target": {"kind": "Deployment", "name": "checkout"},
        "change": "spec.paused: false -> true",
        "refused": "Argo CD manages Deployment shop/checkout",
        "instead": "argocd app rollback shop 41",
    },
]


def test_the_proposed_actions_travel_with_how_to_approve_them() -> None:
    task = incident_task()
    task["status"]["proposedActions"] = PROPOSED
    incident = incident_from_task(task)
    assert incident is not None
    assert webhook_body(incident)["proposedActions"] == [
        {
            "id": "rollback-to-1",
            "change": "container app image: shop/checkout:2.14.0 -> shop/checkout:2.13.4",
            "approve": "kubectl highpeaks approve -n shop incident-checkout-r2 rollback-to-1",
        },
        {
            "id": "pause",
            "change": "spec.paused: false -> true",
            "refused": "Argo CD manages Deployment shop/checkout",
            "instead": "argocd app rollback shop 41",
        },
    ]
    slack = str(slack_message(incident)["blocks"])
    assert (
        "*Proposed action* (runs only once someone who may patch the target approves it)" in slack
    )
    assert "`kubectl highpeaks approve -n shop incident-checkout-r2 rollback-to-1`" in slack
    assert "`rollback-to-1`: back to revision 1, undoing the change above" in slack
    assert slack.count("shop/checkout:2.14.0") == 1  # the change is said once, in the diff
    assert "pause" not in slack  # refused: its GitOps way is the next step, said once


def test_secrets_are_redacted_on_the_way_out() -> None:
    task = incident_task(
        evidence=[f"git clone with token {PLANTED}", f"aws key {AWS}"],
        changes=[f"container app arg: --token={PLANTED}"],
    )
    task["status"]["recommendations"] = [f"rotate {AWS}"]
    incident = incident_from_task(task)
    assert incident is not None
    for message in (slack_message(incident), webhook_body(incident)):
        dumped = json.dumps(message)
        assert PLANTED not in dumped and AWS not in dumped
        assert "REDACTED" in dumped


def test_only_a_finished_incident_with_a_signature_is_a_message() -> None:
    assert incident_from_task(incident_task(phase="Running")) is None
    assert incident_from_task(incident_task(signature="")) is None
    no_changes = incident_from_task(incident_task(changes=[]))
    assert no_changes is not None and webhook_body(no_changes)["rollout"] is None
    assert len(slack_message(no_changes)["blocks"]) == 6


def test_annotation_names_match_the_incident_monitors() -> None:
    assert incident_module.SIGNATURE_ANNOTATION == incidents.SIGNATURE_ANNOTATION
    assert incident_module.REVISION_ANNOTATION == incidents.REVISION_ANNOTATION


def test_a_jobs_incident_names_the_job_and_no_revision() -> None:
    task = incident_task(changes=[])
    task["metadata"]["name"] = "incident-job-nightly-1"
    del task["metadata"]["annotations"]["devops.highpeaks.io/revision"]
    del task["status"]["rollout"]
    task["spec"]["target"] = {"kind": "Job", "name": "nightly-1"}
    task["status"]["summary"] = "Job shop/nightly-1 is failing: Container app keeps crashing."
    incident = incident_from_task(task)
    assert incident is not None and incident.revision is None
    message = slack_message(incident)
    assert message["blocks"][0]["text"]["text"] == "Job shop/nightly-1 is failing: CrashLoopBackOff"
    assert message["blocks"][1]["text"]["text"] == "Container app keeps crashing."
    fields = [f["text"].split("\n")[0] for f in message["blocks"][2]["fields"]]
    assert fields == ["*Severity*"]
    body = webhook_body(incident)
    assert body["target"] == {"kind": "Job", "namespace": "shop", "name": "nightly-1"}
    assert (body["revision"], body["rollout"], body["task"]) == (
        None,
        None,
        "incident-job-nightly-1",
    )


def test_the_summary_leaves_the_changes_to_the_diff() -> None:
    change = "container app image: shop/checkout:2.13.4 -> shop/checkout:2.14.0"
    task = incident_task(changes=[change])
    task["status"]["summary"] = (
        f"Deployment shop/checkout is failing: Container app keeps crashing (exit code 1). "
        f"Started with revision 2 ({change})."
    )
    incident = incident_from_task(task)
    assert incident is not None
    assert str(slack_message(incident)["blocks"]).count("checkout:2.14.0") == 1
    assert webhook_body(incident)["summary"].endswith("Started with revision 2.")
