"""The report's shapes at scale: natural order, counts per root cause, the table, JSON, ages."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from highpeaks_agent.engine.model import Diagnosis, Finding, ObjectRef, Severity
from highpeaks_agent.explain import ExplainOutcome
from highpeaks_agent.flowise.grants import Step
from highpeaks_agent.render.durations import human_duration
from highpeaks_agent.render.explanation import LABEL, NO_STEPS, STEPS_LABEL, render_explanation
from highpeaks_agent.render.json import render_json
from highpeaks_agent.render.ordering import natural_key, worst_first
from highpeaks_agent.render.table import render_table
from highpeaks_agent.render.text import render_text
from tests.support.diagnose_cli import ROOT, run_in_process, validate_output
from tests.unit.engine.builders import NOW

CODES = ["CrashLoopBackOff", "ImagePullError.NotFound", "OOMKilled"]


def failing(name: str, code: str = "CrashLoopBackOff", severity: str = "critical") -> Diagnosis:
    ref = ObjectRef(kind="Deployment", namespace="shop", name=name)
    finding = Finding(
        code=code,
        severity=Severity(severity),
        title=f"{name} fails",
        objects=[ObjectRef(kind="Pod", namespace="shop", name=f"{name}-abc")],
    )
    return Diagnosis(
        target=ref,
        severity=Severity(severity),
        summary=f"Deployment shop/{name} is failing.",
        findings=[finding],
        pods_affected=1,
        pods_total=3,
    )


def test_names_sort_as_people_count() -> None:
    names = ["svc-10", "svc-2", "svc-100", "svc-1", "svc-0", "svc-1a", "api"]
    assert sorted(names, key=natural_key) == [
        "api",
        "svc-0",
        "svc-1",
        "svc-1a",
        "svc-2",
        "svc-10",
        "svc-100",
    ]
    ordered = worst_first(
        [failing("svc-10"), failing("svc-9", severity="warning"), failing("svc-2")]
    )
    assert [d.target.name for d in ordered] == ["svc-2", "svc-10", "svc-9"]


def test_counts_per_root_cause_open_a_report_of_more_than_ten() -> None:
    many = [failing(f"svc-{i}", CODES[i % 3]) for i in range(12)]
    text = render_text(many, pods=36, namespaces=1, color=False)
    assert text.startswith(
        "12 failing workloads (36 pods checked)\n\n"
        "Root causes:\n"
        "  CrashLoopBackOff             4\n"
        "  ImagePullError.NotFound      4\n"
        "  OOMKilled                    4\n\n"
    )
    ten = render_text(many[:10], pods=30, namespaces=1, color=False)
    assert "Root causes:" not in ten


def test_singular_and_plural_counts() -> None:
    assert render_text([], pods=1, namespaces=1, color=False) == (
        "No failing workloads found in 1 pod across 1 namespace.\n"
    )
    assert render_text([failing("a")], pods=1, namespaces=1, color=False).startswith(
        "1 failing workload (1 pod checked)\n"
    )


def test_table_has_kubectl_columns_and_ages() -> None:
    diagnoses = worst_first([failing("svc-10"), failing("svc-2", "OOMKilled", "warning")])
    created = {diagnoses[0].target: NOW - timedelta(days=3, hours=2)}
    table = render_table(diagnoses, now=NOW, created=created, pods=6, namespaces=1)
    assert table.splitlines() == [
        "NAMESPACE   KIND         NAME     SEVERITY   ROOT-CAUSE         PODS   AGE",
        "shop        Deployment   svc-10   critical   CrashLoopBackOff   1/3    3d2h",
        "shop        Deployment   svc-2    warning    OOMKilled          1/3    <unknown>",
    ]
    assert render_table([], now=NOW, created={}, pods=2, namespaces=3) == (
        "No failing workloads found in 2 pods across 3 namespaces.\n"
    )


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (59, "59s"),
        (119, "119s"),
        (200, "3m20s"),
        (600, "10m"),
        (3 * 3600 + 59, "3h"),
        (7 * 3600 + 60 * 5, "7h5m"),
        (47 * 3600, "47h"),
        (2 * 86400 + 3600, "2d1h"),
        (30 * 86400, "30d"),
        (3 * 365 * 86400 + 86400 * 4, "3y4d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_ages_read_like_kubectl(seconds: int, shown: str) -> None:
    assert human_duration(timedelta(seconds=seconds)) == shown


def test_json_carries_schema_version_now_and_pod_counts() -> None:
    outcome = ExplainOutcome(
        status="ok",
        summary="svc-1 fails on its config.",
        root_cause="CrashLoopBackOff",
        recommendations=["Fix the config."],
        answer="svc-1 is failing because of CrashLoopBackOff.",
    )
    document = json.loads(
        render_json([failing("svc-1")], now=NOW, pods_checked=3, explanation=outcome)
    )
    validate_output(document)
    assert document["schemaVersion"] == 1
    assert document["now"] == "2026-11-20T10:00:00Z"
    assert document["podsChecked"] == 3
    assert (document["diagnoses"][0]["podsAffected"], document["diagnoses"][0]["podsTotal"]) == (
        1,
        3,
    )
    assert document["explanation"]["generated"] is True
    unavailable = ExplainOutcome(status="unavailable", reason="timeout")
    assert "explanation" not in json.loads(
        render_json([], now=NOW, pods_checked=0, explanation=unavailable)
    )


def test_the_explanation_is_labelled_as_generated() -> None:
    outcome = ExplainOutcome(
        status="ok", summary="It fails.", answer="It fails.", recommendations=["Roll back."]
    )
    assert render_explanation(outcome).splitlines() == [
        "",
        LABEL,
        "  It fails.",
        "  Suggested next steps (generated):",
        "    - Roll back.",
        NO_STEPS,
    ]
    assert "generated" in LABEL
    assert "/mcp" in NO_STEPS and "operator" in NO_STEPS
    assert render_explanation(ExplainOutcome(status="unavailable", reason="x")) == ""


def test_the_steps_the_flow_took_follow_the_explanation_one_line_each() -> None:
    steps = (
        Step("logs", "pod=web-1 container=app", "ERROR no DB_URL", 12),
        Step("events", "kind=Pod name=web-1", "you may not read events", 3, outcome="withheld"),
    )
    outcome = ExplainOutcome(status="ok", summary="It fails.", steps=steps)
    assert render_explanation(outcome).splitlines()[-3:] == [
        STEPS_LABEL,
        "    1. logs(pod=web-1 container=app) → ERROR no DB_URL (12 ms)",
        "    2. events(kind=Pod name=web-1) → withheld: you may not read events (3 ms)",
    ]
    document = json.loads(render_json([], now=NOW, pods_checked=0, explanation=outcome))
    assert document["explanation"]["steps"] == [
        {
            "tool": "logs",
            "arguments": "pod=web-1 container=app",
            "result": "ERROR no DB_URL",
            "durationMs": 12,
        },
        {
            "tool": "events",
            "arguments": "kind=Pod name=web-1",
            "result": "withheld: you may not read events",
            "durationMs": 3,
        },
    ]


def test_the_text_says_each_change_of_the_rollout_once_and_the_json_summary_keeps_it() -> None:
    dump = str(ROOT / "examples" / "dumps" / "crashloop-bad-config")
    change = "orders-api:1.6.2 -> ghcr.io/example/orders-api:1.7.0"
    text = run_in_process([dump])
    assert "Started with revision 2." in text.out
    assert text.out.count(change) == 1
    assert "changed:\n    - container orders-api image: ghcr.io/example/" + change in text.out
    summary = run_in_process([dump, "-o", "json"]).json()["diagnoses"][0]["summary"]
    assert summary.endswith(
        f"Started with revision 2 (container orders-api image: ghcr.io/example/{change})."
    )
