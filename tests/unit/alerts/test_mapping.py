"""Which workload an alert names, and the AgentTask it becomes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from highpeaks_agent.alerts import mapping
from highpeaks_agent.alerts.mapping import (
    Unscoped,
    Workload,
    alert_task,
    is_resolved,
    question,
    resolved_conditions,
    scope_of,
    task_name,
)
from highpeaks_agent.alerts.payload import Alert, AlertGroup
from highpeaks_agent.controller import kube, tasks
from highpeaks_agent.controller.spec import MAX_QUESTION_CHARS, parse_spec
from highpeaks_agent.controller.status import condition
from tests.support.alertmanager import alert, sample

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def parsed(labels: dict[str, str], **kwargs: str) -> Alert:
    return Alert.model_validate(alert("abc", labels, **kwargs))


def test_the_sample_payload_parses_in_the_v4_shape() -> None:
    group = AlertGroup.model_validate(sample())
    (only,) = group.alerts
    assert (group.version, group.status, group.truncatedAlerts) == ("4", "firing", 0)
    assert group.groupKey == '{}/{severity="critical"}:{alertname="EndpointDown"}'
    assert only.fingerprint == "5c2e9a41d07b8f36" and only.name == "EndpointDown"
    assert only.summary == "Endpoint down: https://status.shop.example"
    assert scope_of(only) == Unscoped("no namespace label")


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"deployment": "checkout"}, ("Deployment", "checkout", "deployment")),
        ({"statefulset": "db"}, ("StatefulSet", "db", "statefulset")),
        ({"daemonset": "agent"}, ("DaemonSet", "agent", "daemonset")),
        ({"job_name": "migrate-42"}, ("Job", "migrate-42", "job_name")),
        ({"pod": "checkout-6b7-x1"}, ("Pod", "checkout-6b7-x1", "pod")),
        ({"job": "nightly-report"}, ("Job", "nightly-report", "job")),
        # kube-state-metrics alerts carry job="kube-state-metrics": the pod is what they name
        (
            {"pod": "checkout-6b7-x1", "job": "kube-state-metrics"},
            ("Pod", "checkout-6b7-x1", "pod"),
        ),
        (
            {"deployment": "checkout", "pod": "checkout-6b7-x1"},
            ("Deployment", "checkout", "deployment"),
        ),
        ({"statefulset": "db", "pod": "db-0"}, ("StatefulSet", "db", "statefulset")),
        ({"job_name": "migrate-42", "pod": "migrate-42-abc"}, ("Job", "migrate-42", "job_name")),
    ],
)
def test_every_workload_label(labels: dict[str, str], expected: tuple[str, str, str]) -> None:
    kind, name, label = expected
    assert scope_of(parsed({"namespace": "shop", **labels})) == Workload("shop", kind, name, label)


@pytest.mark.parametrize(
    ("labels", "reason"),
    [
        ({"deployment": "checkout"}, "no namespace label"),
        ({"namespace": "shop", "job": ""}, "no workload label"),
        ({"namespace": "Shop_1", "deployment": "x"}, "is not a valid namespace name"),
        ({"namespace": "shop", "deployment": "Checkout!"}, "is not a valid Deployment name"),
        ({"namespace": "shop", "pod": "-x"}, "is not a valid Pod name"),
    ],
)
def test_unscoped_alerts_say_why(labels: dict[str, str], reason: str) -> None:
    item = Alert.model_validate({"status": "firing", "labels": labels, "fingerprint": "f"})
    scope = scope_of(item)
    assert isinstance(scope, Unscoped) and reason in scope.reason


def test_task_name_is_alert_fingerprint_lower_cased_and_a_valid_name() -> None:
    assert task_name("1a30ba71cca2921f") == "alert-1a30ba71cca2921f"
    assert task_name("1A30BA71CCA2921F") == "alert-1a30ba71cca2921f"
    assert task_name("") is None and task_name("///") is None
    long = task_name("f" * 200)
    assert long is not None and len(long) == 63 and long.startswith("alert-fff")
    assert task_name("f" * 200) != task_name("f" * 199)


@given(st.text(min_size=1, max_size=300))
def test_any_fingerprint_gives_a_dns_label_or_none(fingerprint: str) -> None:
    name = task_name(fingerprint)
    if name is not None:
        assert len(name) <= 63 and mapping._NAMESPACE.match(name), name


def test_question_is_name_and_summary_redacted_and_bounded() -> None:
    item = parsed({}, summary="Pod shop/checkout crash looping; token ghp_" + "a" * 36)
    text = question(item)
    assert text.startswith("KubePodCrashLooping: Pod shop/checkout crash looping")
    assert "ghp_" not in text and "REDACTED" in text
    assert len(question(parsed({}, summary="x" * 5000))) == MAX_QUESTION_CHARS


def test_alert_task_is_a_valid_task_owned_by_its_target() -> None:
    target = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "checkout", "namespace": "shop", "uid": "u-1"},
    }
    body = alert_task(
        parsed({"namespace": "shop"}, summary="down"), "alert-abc", target, "Deployment"
    )
    md = body["metadata"]
    assert md["name"] == "alert-abc" and md["namespace"] == "shop"
    assert md["labels"][tasks.TRIGGER_LABEL] == "alert"
    assert md["ownerReferences"][0] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "checkout",
        "uid": "u-1",
        "blockOwnerDeletion": False,
    }
    assert body["apiVersion"] == f"{kube.GROUP}/{kube.VERSION}"
    spec = parse_spec(body["spec"], "shop")
    assert not hasattr(spec, "reason"), spec
    assert body["spec"] == {
        "target": {"kind": "Deployment", "name": "checkout"},
        "question": "KubePodCrashLooping: down",
    }


def test_resolved_condition_has_the_incident_tasks_shape() -> None:
    task = {"status": {"conditions": [condition("Diagnosed", True, "RootCauseFound", "x", NOW, 1)]}}
    resolved = resolved_conditions(task, resolved=True, alert=parsed({}), now=NOW)
    assert resolved[0]["type"] == "Diagnosed"
    assert resolved[1] == condition(
        "Resolved",
        True,
        "AlertResolved",
        "Alertmanager reports KubePodCrashLooping resolved",
        NOW,
        None,
    )
    assert is_resolved({"status": {"conditions": resolved}})
    again = resolved_conditions(
        {"status": {"conditions": resolved}}, resolved=False, alert=parsed({}), now=NOW
    )
    assert [c["type"] for c in again] == ["Diagnosed", "Resolved"]
    assert not is_resolved({"status": {"conditions": again}})


def test_constants_match_the_operators() -> None:
    assert (mapping.GROUP, mapping.VERSION) == (kube.GROUP, kube.VERSION)
    assert mapping.TRIGGER_LABEL == tasks.TRIGGER_LABEL
    assert mapping.MAX_QUESTION_CHARS == MAX_QUESTION_CHARS
