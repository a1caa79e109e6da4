"""The wording corpus: every real message maps to its code; every look-alike stays quiet.

Each family's message is placed where Kubernetes writes it (a FailedScheduling event on a
Pending pod, a pull Failed event beside ImagePullBackOff, a waiting reason's message, a crashed
container's log, a FailedPostStartHook event, a ReplicaSet's FailedCreate) and the whole engine
runs, so the test covers the rule that reads the message as well as the wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from highpeaks_agent.engine import Snapshot, diagnose
from highpeaks_agent.engine.catalogue import CATALOGUE
from highpeaks_agent.engine.model import Diagnosis
from highpeaks_agent.engine.snapshot import ContainerLog

from .builders import (
    NOW,
    deployment,
    event,
    failing_deployment,
    node,
    pod,
    replicaset,
    running,
    terminated,
    waiting,
)

CORPUS: dict[str, list[dict[str, str]]] = yaml.safe_load(
    (Path(__file__).parent / "corpus" / "messages.yaml").read_text(encoding="utf-8")
)
Objects = tuple[dict[str, Any], ...]


def entries(family: str) -> list[Any]:
    return [pytest.param(entry, id=f"{family}-{i}") for i, entry in enumerate(CORPUS[family])]


def run(objects: Objects, logs: dict[tuple[str, str, str], str] | None = None) -> list[Diagnosis]:
    snapshot = Snapshot.from_objects(objects)
    for key, text in (logs or {}).items():
        snapshot.logs[key] = ContainerLog(text, previous=True)
    return diagnose(snapshot, now=NOW)


def root_code(result: list[Diagnosis]) -> str:
    assert len(result) == 1, result
    return result[0].findings[0].code


def test_the_corpus_is_large_and_every_expected_code_is_catalogued() -> None:
    failures = [e for family, rows in CORPUS.items() if family != "benign" for e in rows]
    assert len(failures) >= 60 and len(CORPUS["benign"]) >= 10
    assert {e["code"] for e in failures} <= set(CATALOGUE)


@pytest.mark.parametrize("entry", entries("scheduling"))
def test_scheduler_wording(entry: dict[str, str]) -> None:
    condition = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}
    dep, rs, p = failing_deployment([], phase="Pending", conditions=[condition], started_ago=60)
    del p["spec"]["nodeName"]
    assert (
        root_code(run((dep, rs, p, event(p, "FailedScheduling", entry["message"]))))
        == (entry["code"])
    )


@pytest.mark.parametrize("entry", entries("pull"))
def test_pull_wording(entry: dict[str, str]) -> None:
    back_off = waiting(reason="ImagePullBackOff", message='Back-off pulling image "app"')
    dep, rs, p = failing_deployment([back_off], phase="Pending", started_ago=60)
    assert root_code(run((dep, rs, p, event(p, "Failed", entry["message"])))) == entry["code"]


@pytest.mark.parametrize("entry", entries("waiting"))
def test_waiting_reason_wording(entry: dict[str, str]) -> None:
    status = waiting(reason=entry["reason"], message=entry["message"])
    dep, rs, p = failing_deployment([status], phase="Pending", started_ago=30)
    assert root_code(run((dep, rs, p))) == entry["code"]


@pytest.mark.parametrize("entry", entries("crash_log"))
def test_crash_log_wording(entry: dict[str, str]) -> None:
    status = waiting(restarts=5, last=terminated(1, "Error"))
    dep, rs, p = failing_deployment([status])
    log = {("shop", p["metadata"]["name"], "app"): f"{entry['message']}\n"}
    assert root_code(run((dep, rs, p), log)) == entry["code"]


@pytest.mark.parametrize("entry", entries("hook_event"))
def test_hook_event_wording(entry: dict[str, str]) -> None:
    named = re.search(r'Container "([^"]+)"', entry["message"])
    name = named.group(1) if named else "app"
    status = waiting(name, restarts=1, last=terminated(137, "Error"))
    dep, rs, p = failing_deployment([status])
    p["spec"]["containers"][0]["name"] = name
    assert (
        root_code(run((dep, rs, p, event(p, "FailedPostStartHook", entry["message"]))))
        == (entry["code"])
    )


@pytest.mark.parametrize("entry", entries("replica"))
def test_replica_create_wording(entry: dict[str, str]) -> None:
    failure = {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate"}
    dep = deployment(conditions=[{**failure, "message": entry["message"]}])
    rs = replicaset(dep, "7c9f8d6b5", revision=1)
    ev = event(rs, "FailedCreate", f"Error creating: {entry['message']}")
    assert root_code(run((dep, rs, ev))) == entry["code"]


@pytest.mark.parametrize("entry", entries("node"))
def test_lost_node_wording(entry: dict[str, str]) -> None:
    if entry["where"] == "status":
        p = pod("db-0", phase="Unknown", reason="NodeLost", message=entry["message"])
        objects: Objects = (p,)
    else:
        not_ready = {"type": "Ready", "status": "False"}
        p = pod("db-0", statuses=[running(ready=False)], conditions=[not_ready])
        objects = (p, event(p, "NodeNotReady", entry["message"]))
    assert root_code(run(objects)) == entry["code"]


def _healthy_with(reason: str, type_: str = "Warning") -> Callable[[str], Objects]:
    def build(message: str) -> Objects:
        scheduled = {"type": "PodScheduled", "status": "True"}
        dep, rs, p = failing_deployment([running()], conditions=[scheduled])
        return dep, rs, p, event(p, reason, message, type_=type_, ago=1800)

    return build


def _back_off(message: str) -> Objects:
    return failing_deployment([waiting(message=message, restarts=1, last=terminated(1))])


def _fresh_sandbox(message: str) -> Objects:
    dep, rs, p = failing_deployment(
        [waiting(reason="ContainerCreating")], phase="Pending", started_ago=60
    )
    return dep, rs, p, event(p, "FailedCreatePodSandBox", message)


def _gated(message: str) -> Objects:
    gated = {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
    dep, rs, p = failing_deployment(
        [], phase="Pending", conditions=[{**gated, "message": message}], started_ago=3600
    )
    del p["spec"]["nodeName"]
    return dep, rs, p


def _node_shutdown(message: str) -> Objects:
    return (pod("web-1", phase="Failed", statuses=[], reason="Terminated", message=message),)


def _cordoned(taint: str) -> Objects:
    dep, rs, p = failing_deployment([running()])
    return dep, rs, p, node(taints=[{"key": taint, "effect": "NoSchedule"}])


def _pre_stop(message: str) -> Objects:
    recovered = running(restarts=1, last=terminated(137, "Error", finished_ago=3000))
    dep, rs, p = failing_deployment([recovered])
    return dep, rs, p, event(p, "FailedPreStopHook", message, ago=3000)


BENIGN: dict[str, Callable[[str], Objects]] = {
    "healthy_event": _healthy_with("Pulled", type_="Normal"),
    "healthy_failed_scheduling": _healthy_with("FailedScheduling"),
    "healthy_failed_pull": _healthy_with("Failed"),
    "healthy_unhealthy": _healthy_with("Unhealthy"),
    "healthy_post_start_hook": _healthy_with("FailedPostStartHook"),
    "healthy_pre_stop_hook": _pre_stop,
    "back_off_below_threshold": _back_off,
    "fresh_sandbox_failure": _fresh_sandbox,
    "scheduling_gated": _gated,
    "node_shutdown": _node_shutdown,
    "cordoned_node": _cordoned,
}


@pytest.mark.parametrize("entry", entries("benign"))
def test_look_alikes_stay_quiet(entry: dict[str, str]) -> None:
    if entry["situation"] == "healthy_log":
        dep, rs, p = failing_deployment([running()])
        logs = {("shop", p["metadata"]["name"], "app"): f"{entry['message']}\n"}
        assert run((dep, rs, p), logs) == []
        return
    assert run(BENIGN[entry["situation"]](entry["message"])) == []
