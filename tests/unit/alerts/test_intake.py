"""Alerts become AgentTasks once per fingerprint; resolved alerts resolve them; the rest say why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from highpeaks_agent.alerts.intake import AlertIntake, TaskBusy
from highpeaks_agent.alerts.payload import Alert
from highpeaks_agent.errors import Forbidden
from tests.support.alertmanager import alert

from .fakes import FakeTasks, FakeWorkloads, obj

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def shop() -> FakeWorkloads:
    workloads = FakeWorkloads()
    workloads.add(obj("Deployment", "checkout", "d-1"))
    workloads.add(obj("ReplicaSet", "checkout-6b7", "rs-1", ("Deployment", "checkout", "d-1")))
    workloads.add(obj("Pod", "checkout-6b7-x1", "p-1", ("ReplicaSet", "checkout-6b7", "rs-1")))
    workloads.add(obj("StatefulSet", "db", "s-1"))
    workloads.add(obj("Pod", "db-0", "p-2", ("StatefulSet", "db", "s-1")))
    workloads.add(obj("Job", "migrate", "j-1", ("CronJob", "nightly", "c-1")))
    workloads.add(obj("Pod", "bare", "p-3"))
    return workloads


def intake(tasks: FakeTasks, **kwargs: object) -> AlertIntake:
    return AlertIntake(shop(), tasks, clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]


def alerts(*items: dict[str, object]) -> list[Alert]:
    return [Alert.model_validate(i) for i in items]


@pytest.mark.parametrize(
    ("labels", "target"),
    [
        ({"deployment": "checkout"}, {"kind": "Deployment", "name": "checkout"}),
        ({"pod": "checkout-6b7-x1"}, {"kind": "Deployment", "name": "checkout"}),
        ({"pod": "db-0"}, {"kind": "StatefulSet", "name": "db"}),
        ({"pod": "bare"}, {"kind": "Pod", "name": "bare"}),
        ({"job_name": "migrate"}, {"kind": "Job", "name": "migrate"}),
        ({"job": "migrate"}, {"kind": "Job", "name": "migrate"}),
    ],
)
async def test_a_firing_alert_creates_its_task(
    labels: dict[str, str], target: dict[str, str]
) -> None:
    tasks = FakeTasks()
    (result,) = await intake(tasks).receive(
        alerts(alert("AB12", {"namespace": "shop", **labels}, summary="crash looping")), None
    )
    assert (result.outcome, result.task, result.target) == ("created", "alert-ab12", target)
    task = tasks.items[("shop", "alert-ab12")]
    assert task["spec"] == {"target": target, "question": "KubePodCrashLooping: crash looping"}
    assert task["metadata"]["labels"]["devops.highpeaks.io/trigger"] == "alert"


async def test_the_same_alert_again_creates_nothing() -> None:
    tasks = FakeTasks()
    service = intake(tasks)
    firing = alerts(alert("ab12", {"namespace": "shop", "deployment": "checkout"}))
    first = await service.receive(firing, None)
    again = await service.receive(firing, None)
    assert [r.outcome for r in first + again] == ["created", "exists"]
    assert tasks.writes == [("create", "shop", "alert-ab12")]


async def test_a_resolved_alert_resolves_its_task_once() -> None:
    tasks = FakeTasks()
    service = intake(tasks)
    labels = {"namespace": "shop", "deployment": "checkout"}
    await service.receive(alerts(alert("ab12", labels)), None)
    diagnosed = {"type": "Diagnosed", "status": "True", "reason": "RootCauseFound"}
    tasks.items[("shop", "alert-ab12")]["status"] = {
        "phase": "Succeeded",
        "conditions": [diagnosed],
    }
    resolved = alerts(alert("ab12", labels, status="resolved"))
    (result,) = await service.receive(resolved, None)
    await service.receive(resolved, None)
    assert (result.outcome, result.task) == ("resolved", "alert-ab12")
    kept, condition = tasks.items[("shop", "alert-ab12")]["status"]["conditions"]
    assert kept == diagnosed
    assert (condition["type"], condition["status"], condition["reason"]) == (
        "Resolved",
        "True",
        "AlertResolved",
    )
    assert [w[0] for w in tasks.writes] == ["create", "status"]
    # firing again after resolution: the same task, marked unresolved
    (refire,) = await service.receive(alerts(alert("ab12", labels)), None)
    assert refire.outcome == "exists"
    _, condition = tasks.items[("shop", "alert-ab12")]["status"]["conditions"]
    assert (condition["status"], condition["reason"]) == ("False", "AlertFiringAgain")


async def test_resolved_while_still_being_diagnosed_asks_for_a_retry() -> None:
    # the diagnosis writes the whole status: a Resolved condition written now would be lost
    tasks = FakeTasks()
    service = intake(tasks)
    labels = {"namespace": "shop", "deployment": "checkout"}
    await service.receive(alerts(alert("ab12", labels)), None)
    with pytest.raises(TaskBusy, match="still being diagnosed"):
        await service.receive(alerts(alert("ab12", labels, status="resolved")), None)
    assert tasks.items[("shop", "alert-ab12")]["status"] == {}


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (alert("a1", {"deployment": "checkout"}), "no namespace label"),
        (
            alert("a2", {"namespace": "shop"}),
            "Job shop/kube-state-metrics not found (the job label is often",
        ),
        (
            alert("a3", {"namespace": "shop", "deployment": "gone"}),
            "Deployment shop/gone not found",
        ),
        (alert("a4", {"namespace": "shop", "pod": "gone-1"}), "Pod shop/gone-1 not found"),
        (
            alert("", {"namespace": "shop", "deployment": "checkout"}),
            "the alert has no fingerprint",
        ),
        (
            alert("a5", {"namespace": "shop", "deployment": "checkout"}, status="resolved"),
            "no task was opened",
        ),
    ],
)
async def test_unscoped_and_unknown_alerts_create_nothing(
    item: dict[str, object], reason: str
) -> None:
    tasks = FakeTasks()
    (result,) = await intake(tasks).receive(alerts(item), None)
    assert result.outcome == "ignored"
    assert result.reason.startswith(reason), result.reason
    assert tasks.items == {} and tasks.writes == []


async def test_namespaces_not_watched_and_not_allowed_create_nothing() -> None:
    tasks = FakeTasks()
    labels = {"namespace": "shop", "deployment": "checkout"}
    (unwatched,) = await intake(tasks, watch_namespaces=["payments"]).receive(
        alerts(alert("a1", labels)), None
    )
    assert unwatched.outcome == "ignored" and "not watched" in unwatched.reason

    async def not_selected(namespace: str) -> bool:
        return namespace == "payments"

    (unselected,) = await intake(tasks, selected=not_selected).receive(
        alerts(alert("a1", labels)), None
    )
    assert unselected.outcome == "ignored" and "not watched" in unselected.reason

    async def deny(namespace: str) -> None:
        raise Forbidden(f"alertmanager may not create agenttasks in namespace {namespace}")

    (forbidden,) = await intake(tasks).receive(alerts(alert("a1", labels)), deny)
    assert forbidden.outcome == "forbidden" and "namespace shop" in forbidden.reason
    assert tasks.items == {}


async def test_one_result_per_alert_in_order() -> None:
    tasks = FakeTasks()
    results = await intake(tasks).receive(
        alerts(
            alert("a1", {"namespace": "shop", "deployment": "checkout"}),
            alert("a2", {"instance": "node-1:9100"}),
            alert("a3", {"namespace": "shop", "pod": "db-0"}),
        ),
        None,
    )
    assert [(r.fingerprint, r.outcome) for r in results] == [
        ("a1", "created"),
        ("a2", "ignored"),
        ("a3", "created"),
    ]


async def test_api_errors_propagate_for_a_retry() -> None:
    tasks = FakeTasks(fail=OSError("connection refused"))
    with pytest.raises(OSError):
        await intake(tasks).receive(
            alerts(alert("a1", {"namespace": "shop", "deployment": "checkout"})), None
        )
