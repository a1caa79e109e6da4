"""Which change broke it, in every way out: the text report, the table's COMMIT column, the
JSON (valid against its schema), the AgentTask status, the IncidentNote (at most 300
characters before its pointer) and the Slack and webhook messages."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from highpeaks_agent.controller.incidents import Action, note_message
from highpeaks_agent.controller.notes import NOTE_BUDGET as NOTE_MAX
from highpeaks_agent.controller.status import completed_status
from highpeaks_agent.engine import Snapshot, diagnose
from highpeaks_agent.engine.model import Diagnosis
from highpeaks_agent.explain import ExplainOutcome
from highpeaks_agent.notify.incident import incident_from_task
from highpeaks_agent.notify.messages import slack_message, webhook_body
from highpeaks_agent.render import answer
from highpeaks_agent.render.json import render_json
from highpeaks_agent.render.table import render_table
from highpeaks_agent.render.text import render_text
from highpeaks_agent.service import Report
from tests.support.diagnose_cli import validate_output
from tests.unit.engine.builders import NOW
from tests.unit.engine.gitops import (
    FLUX_LABELS,
    NEW,
    OLD,
    TRACKING,
    application,
    kustomization,
    rollout,
)

SHORT_LINK = "https://github.com/example/shop-deploy/compare/4f3c2a1...9a8b7c6"
FULL_LINK = f"https://github.com/example/shop-deploy/compare/{OLD}...{NEW}"
ACTION = Action("open", "incident-checkout-r2", 2, "CrashLoopBackOff")


def argocd_diagnosis() -> Diagnosis:
    [found] = diagnose(
        Snapshot.from_objects([*rollout(annotations=TRACKING), application()]), now=NOW
    )
    return found


def report_of(diagnosis: Diagnosis, *, summary: str | None = None) -> Report:
    return Report(
        diagnoses=[diagnosis],
        answer="",
        summary=diagnosis.summary if summary is None else summary,
        recommendations=answer.recommendations([diagnosis]),
        source="rules",
        explanation=ExplainOutcome(status="disabled"),
        pods_seen=1,
    )


def test_text_report_names_the_application_the_commit_pair_path_and_link() -> None:
    text = render_text([argocd_diagnosis()], pods=2, namespaces=1, color=False)
    assert (
        "  Applied by Argo CD Application argocd/checkout, synced 2026-11-20T09:50:05Z:\n"
        "    commit 9a8b7c6 (last healthy 4f3c2a1) in https://github.com/example/shop-deploy,"
        " path apps/checkout\n"
        f"    compare: {FULL_LINK}\n"
        "    -> Revert commit 9a8b7c6 in https://github.com/example/shop-deploy and let Argo CD"
        " sync the revert, or roll back to the last healthy sync: `argocd app rollback checkout 4`"
        " (turn auto-sync off first, or it syncs the commit again).\n"
    ) in text


def test_table_gets_a_commit_column_only_when_some_workload_has_a_source() -> None:
    managed, plain = argocd_diagnosis(), diagnose(Snapshot.from_objects(rollout()), now=NOW)[0]
    table = render_table([managed, plain], now=NOW, created={}, pods=4, namespaces=1)
    header, first, second = table.splitlines()
    assert header.split()[-1] == "COMMIT"
    assert first.split()[-1] == "9a8b7c6"
    assert second.split()[-1] == "<unknown>"  # AGE: no commit cell for the unmanaged one
    plain_table = render_table([plain], now=NOW, created={}, pods=2, namespaces=1)
    assert "COMMIT" not in plain_table


def test_json_adds_rollout_delivery_and_stays_valid() -> None:
    document = json.loads(render_json([argocd_diagnosis()], now=NOW, pods_checked=2))
    validate_output(document)
    delivery = document["diagnoses"][0]["rollout"]["delivery"]
    assert (delivery["commit"], delivery["previousCommit"]) == (NEW, OLD)
    assert delivery["compareUrl"] == FULL_LINK
    assert (delivery["historyId"], delivery["previousHistoryId"]) == (5, 4)


def test_the_gitops_step_comes_first_among_the_recommendations() -> None:
    steps = answer.recommendations([argocd_diagnosis()])
    assert steps[0].startswith("Revert commit 9a8b7c6 in https://github.com/example/shop-deploy")
    assert "`argocd app rollback checkout 4`" in steps[0]


@pytest.mark.parametrize("summary_length", [0, 80, 400, 2000])
def test_note_carries_the_commit_pair_and_link_within_300_characters(summary_length: int) -> None:
    diagnosis = argocd_diagnosis()
    summary = ("Deployment shop/checkout is failing. " * 60)[:summary_length]
    note = note_message(report_of(diagnosis, summary=summary), ACTION)
    body, pointer = note.split(" (details: ")
    assert len(body) <= NOTE_MAX, (len(body), body)
    assert pointer == "kubectl describe agenttask incident-checkout-r2)"
    assert body.startswith("Revision 2 is failing (CrashLoopBackOff):")
    assert f"From commit 9a8b7c6 (last healthy 4f3c2a1): {SHORT_LINK}." in body
    assert body.endswith("Next: Revert 9a8b7c6, or `argocd app rollback checkout 4`")


def test_note_of_a_flux_workload_says_to_suspend_its_kustomization() -> None:
    [found] = diagnose(
        Snapshot.from_objects([*rollout(labels=FLUX_LABELS), *kustomization()]), now=NOW
    )
    body = note_message(report_of(found), ACTION).split(" (details: ")[0]
    assert len(body) <= NOTE_MAX
    assert (
        "From commit 9a8b7c6 (last healthy 4f3c2a1): https://gitlab.com/example/fleet/-/compare/4f3c2a1...9a8b7c6."
        in body
    )
    assert body.endswith(
        "Next: Revert 9a8b7c6; meanwhile `flux suspend kustomization apps -n flux-system`"
    )


def test_note_of_a_source_it_could_not_see_says_so() -> None:
    snapshot = Snapshot.from_objects(rollout(annotations=TRACKING))
    snapshot.unread_sources[("Application", "argocd", "checkout")] = "forbidden"
    [found] = diagnose(snapshot, now=NOW)
    body = note_message(report_of(found), ACTION).split(" (details: ")[0]
    assert "Could not see its GitOps source (Application argocd/checkout)." in body
    assert len(body) <= NOTE_MAX


def task_with_status(diagnosis: Diagnosis) -> dict[str, Any]:
    status = completed_status(
        report_of(diagnosis),
        generation=1,
        started_at=NOW,
        now=datetime(2026, 11, 20, 10, 0, 5, tzinfo=NOW.tzinfo),
        flowise_configured=False,
    )
    return {
        "metadata": {
            "name": "incident-checkout-r2",
            "namespace": "shop",
            "annotations": {
                "devops.highpeaks.io/revision": "2",
                "devops.highpeaks.io/failure-signature": "CrashLoopBackOff",
            },
        },
        "spec": {"target": {"kind": "Deployment", "name": "checkout"}},
        "status": status,
    }


def test_status_and_notifications_carry_the_change() -> None:
    task = task_with_status(argocd_diagnosis())
    assert task["status"]["rollout"]["delivery"]["compareUrl"] == FULL_LINK
    incident = incident_from_task(task)
    assert incident is not None and incident.delivery is not None
    body = webhook_body(incident)
    assert body["rollout"]["delivery"]["commit"] == NEW
    assert body["rollout"]["delivery"]["previousCommit"] == OLD
    assert body["nextStep"].startswith("Revert commit 9a8b7c6")
    sections = [
        b["text"]["text"]
        for b in slack_message(incident)["blocks"]
        if b.get("type") == "section" and "text" in b
    ]
    [which] = [s for s in sections if s.startswith("*Which change*")]
    assert which == (
        "*Which change*: applied by Argo CD Application argocd/checkout\n"
        "commit 9a8b7c6 (last healthy 4f3c2a1) in https://github.com/example/shop-deploy, path `apps/checkout`\n"
        "synced 2026-11-20T09:50:05Z\n"
        f"<{FULL_LINK}|compare the commits>"
    )


def test_a_secret_in_a_repository_url_never_reaches_any_output() -> None:
    app = application()
    for entry in app["status"]["history"]:
        entry["source"]["repoURL"] = (
            "https://deploy:ghp_0123456789abcdefghijklmnopqrstuvwxyzAB@github.com/example/shop-deploy.git"
        )
    [found] = diagnose(Snapshot.from_objects([*rollout(annotations=TRACKING), app]), now=NOW)
    outputs = [
        render_text([found], pods=2, namespaces=1, color=False),
        render_json([found], now=NOW, pods_checked=2),
        note_message(report_of(found), ACTION),
        json.dumps(task_with_status(found)),
    ]
    for output in outputs:
        assert "ghp_0123" not in output and "deploy:" not in output
        assert "https://github.com/example/shop-deploy" in output


def test_note_of_an_unmanaged_rollout_keeps_the_image_change_and_first_step() -> None:
    objects = rollout()
    long_old = "registry.example.com/shop/checkout:2.13.4"
    long_new = "registry.example.com/shop/checkout:2.14.0"
    objects[1]["spec"]["template"]["spec"]["containers"][0]["image"] = long_old
    objects[2]["spec"]["template"]["spec"]["containers"][0]["image"] = long_new
    [found] = diagnose(Snapshot.from_objects(objects), now=NOW)
    report = report_of(found)
    body = note_message(report, ACTION).split(" (details: ")[0]
    assert len(body) <= NOTE_MAX, (len(body), body)
    assert "container app image: registry.example.com/shop/checkout:2.13.4 -> …:2.14.0." in body
    assert body.endswith(f"Next: {report.recommendations[0]}")


def test_the_plain_language_answer_names_the_commit_pair() -> None:
    text = answer.target_answer(argocd_diagnosis())
    assert f"From commit 9a8b7c6 (last healthy 4f3c2a1): {SHORT_LINK}." in text
