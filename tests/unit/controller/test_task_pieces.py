"""AgentTask spec validation, status documents and deterministic names."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from highpeaks_agent.controller.naming import (
    bounded_name,
    event_name,
    failure_signature,
    incident_task_name,
)
from highpeaks_agent.controller.spec import AgentTaskSpec, Rejection, parse_spec
from highpeaks_agent.controller.status import completed_status, failed_status, running_status
from highpeaks_agent.engine import Snapshot, diagnose_target
from highpeaks_agent.engine.model import ObjectRef
from highpeaks_agent.explain import DISABLED, ExplainOutcome
from highpeaks_agent.render import answer
from highpeaks_agent.service import Report

from ..engine.builders import NOW, failing_deployment, terminated, waiting

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = yaml.safe_load((ROOT / "crds" / "agenttask.yaml").read_text())["spec"]["versions"][0][
    "schema"
]["openAPIV3Schema"]
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


def test_valid_spec() -> None:
    spec = parse_spec(
        {"target": {"kind": "Deployment", "name": "checkout"}, "question": "why?"}, "shop"
    )
    assert isinstance(spec, AgentTaskSpec)
    assert (spec.target.kind, spec.target.name, spec.question) == ("Deployment", "checkout", "why?")


@pytest.mark.parametrize(
    ("spec", "reason", "needle"),
    [
        (None, "InvalidSpec", "spec.target: Field required"),
        ({"target": {"kind": "CronTab", "name": "x"}}, "InvalidSpec", "spec.target.kind"),
        ({"target": {"kind": "Pod"}}, "InvalidSpec", "spec.target.name: Field required"),
        (
            {"target": {"kind": "Pod", "name": "p"}, "question": "q" * 2001},
            "InvalidSpec",
            "spec.question",
        ),
        (
            {"target": {"kind": "Pod", "name": "p", "namespace": "kube-system"}},
            "TargetOutsideNamespace",
            "'kube-system' differs",
        ),
    ],
)
def test_rejections_say_why(spec: object, reason: str, needle: str) -> None:
    rejection = parse_spec(spec, "shop")
    assert isinstance(rejection, Rejection)
    assert rejection.reason == reason
    assert needle in rejection.message


def report_for_failing_deployment(explanation: ExplainOutcome = DISABLED) -> Report:
    dep, rs, p = failing_deployment([waiting(restarts=4, last=terminated(1))])
    diagnosis = diagnose_target(
        Snapshot.from_objects([dep, rs, p]),
        ObjectRef(kind="Deployment", namespace="shop", name="checkout"),
        now=NOW,
    )
    assert diagnosis is not None
    return Report(
        diagnoses=[diagnosis],
        answer=answer.target_answer(diagnosis),
        summary=diagnosis.summary,
        recommendations=answer.recommendations([diagnosis]),
        source="rules",
        explanation=explanation,
        pods_seen=1,
    )


def with_status(status: dict[str, object]) -> dict[str, object]:
    task = yaml.safe_load((ROOT / "examples" / "agenttasks" / "why-checkout.yaml").read_text())
    task["status"] = {k: v for k, v in status.items() if v is not None}
    return task


def test_completed_status_matches_the_crd_schema() -> None:
    status = completed_status(
        report_for_failing_deployment(),
        generation=2,
        started_at=NOW,
        now=NOW,
        flowise_configured=False,
    )
    assert (status["phase"], status["severity"], status["rootCause"], status["source"]) == (
        "Succeeded",
        "critical",
        "CrashLoopBackOff",
        "rules",
    )
    assert [c["type"] for c in status["conditions"]] == ["Diagnosed"]
    assert status["conditions"][0]["reason"] == "RootCauseFound"
    jsonschema.validate(with_status(status), SCHEMA)
    jsonschema.validate(with_status(running_status(1, NOW)), SCHEMA)


def test_flowise_fallback_is_a_visible_condition() -> None:
    report = report_for_failing_deployment(
        ExplainOutcome(status="unavailable", reason="unauthorized (HTTP 401)")
    )
    status = completed_status(
        report, generation=1, started_at=NOW, now=NOW, flowise_configured=True
    )
    flowise = status["conditions"][1]
    assert (flowise["type"], flowise["status"], flowise["message"]) == (
        "FlowiseAvailable",
        "False",
        "Rules only: unauthorized (HTTP 401)",
    )


def test_unusable_flow_answer_is_said_in_the_diagnosed_condition() -> None:
    report = report_for_failing_deployment(
        ExplainOutcome(status="unavailable", reason="bad answer: summary is missing")
    )
    status = completed_status(
        report, generation=1, started_at=NOW, now=NOW, flowise_configured=True
    )
    diagnosed, flowise = status["conditions"]
    assert (
        diagnosed["status"] == "True" and "the flow's answer was unusable" in diagnosed["message"]
    )
    assert (flowise["status"], flowise["reason"]) == ("False", "Fallback")
    assert status["source"] == "rules"


def test_failed_status() -> None:
    status = failed_status(
        Rejection("TargetNotFound", "Deployment shop/nope not found"),
        generation=1,
        started_at=None,
        now=NOW,
    )
    assert status["phase"] == "Failed"
    assert status["conditions"][0]["message"] == "Deployment shop/nope not found"
    jsonschema.validate(with_status(status), SCHEMA)


def test_names_are_deterministic_and_valid() -> None:
    assert incident_task_name("checkout", 7) == "incident-checkout-r7"
    long_name = incident_task_name("a" * 80, 12)
    assert len(long_name) <= 63 and long_name.endswith("-r12") and DNS_LABEL.match(long_name)
    assert incident_task_name("a" * 80, 12) == long_name
    assert incident_task_name("a" * 79 + "b", 12) != long_name
    first = event_name("checkout", "IncidentNote", "r7/CrashLoopBackOff")
    assert first == event_name("checkout", "IncidentNote", "r7/CrashLoopBackOff")
    assert first != event_name("checkout", "IncidentNote", "r7/OOMKilled")
    assert DNS_LABEL.match(first) and DNS_LABEL.match(bounded_name("x" * 300))


def test_failure_signature_ignores_restart_counts() -> None:
    dep, rs, p = failing_deployment([waiting(restarts=4, last=terminated(1))])
    dep2, rs2, p2 = failing_deployment([waiting(restarts=40, last=terminated(1))])
    ref = ObjectRef(kind="Deployment", namespace="shop", name="checkout")
    one = diagnose_target(Snapshot.from_objects([dep, rs, p]), ref, now=NOW)
    two = diagnose_target(Snapshot.from_objects([dep2, rs2, p2]), ref, now=NOW)
    assert one is not None and two is not None
    assert failure_signature(one) == failure_signature(two) == "CrashLoopBackOff"
