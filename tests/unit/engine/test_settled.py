"""The settled-pod shortcut agrees with the full rule run on every pod it accepts."""

from __future__ import annotations

from typing import Any
from unittest import mock

from hypothesis import event, given, settings
from hypothesis import strategies as st

from highpeaks_agent.engine.analyzers import registry
from highpeaks_agent.engine.analyzers.settled import settled
from highpeaks_agent.engine.model import Finding
from highpeaks_agent.engine.snapshot import Snapshot
from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS, Thresholds
from tests.support.strategies import json_values

from . import builders as b

#: Each field drawn from healthy values, the values the rules react to, and malformed ones.
_PHASES = st.sampled_from(["Running", "Running", "Pending", "Succeeded", "Failed", None, 3])
_POD_REASONS = st.sampled_from([None, None, None, "Evicted", "NodeLost", "OutOfcpu", ""])
_CONDITION_STATUSES = st.sampled_from(["True", "True", "True", "False", "Unknown", None])
_CONDITION_TYPES = st.sampled_from(["Ready", "PodScheduled", "ContainersReady", "Initialized"])
_CONDITION_REASONS = st.sampled_from([None, "Unschedulable", "SchedulingGated"])
_WAITING_REASONS = st.sampled_from(
    ["CrashLoopBackOff", "ImagePullBackOff", "CreateContainerConfigError", "", "PostStartHookError"]
)
_TERMINATED_REASONS = st.sampled_from(["Error", "OOMKilled", "Completed", "StartError", None])
_RESTARTS = st.sampled_from([0, 0, 1, 2, 3, 5, 9, True, "4"])
_EVENT_REASONS = st.sampled_from(
    ["Unhealthy", "Killing", "FailedPostStartHook", "NodeNotReady", "BackOff", "Failed"]
)
_EVENT_MESSAGES = st.sampled_from(
    ["Liveness probe failed: timeout", "Readiness probe failed: 503", "Startup probe failed: x",
     "exec format error", 'container "app" failed liveness probe', "hook failed"]
)  # fmt: skip


@st.composite
def conditions(draw: st.DrawFn) -> Any:
    items = draw(st.lists(st.fixed_dictionaries({
        "type": _CONDITION_TYPES,
        "status": _CONDITION_STATUSES,
        "reason": _CONDITION_REASONS,
    }), max_size=4))  # fmt: skip
    return draw(st.sampled_from([items, items, items, None, "bogus"]))


@st.composite
def termination(draw: st.DrawFn) -> dict[str, Any]:
    return b.terminated(
        draw(st.sampled_from([0, 1, 137, 2])),
        draw(_TERMINATED_REASONS),  # type: ignore[arg-type]
        finished_ago=draw(st.sampled_from([5, 60, 3600, 86_400])),
        message=draw(st.sampled_from(["", "exec format error", "boom"])),
    )


@st.composite
def state(draw: st.DrawFn) -> Any:
    running = {"running": {"startedAt": b.ts(draw(st.sampled_from([10, 600, 3000])))}}
    choices: list[Any] = [
        running,
        running,
        {"running": {}},
        {"waiting": {"reason": draw(_WAITING_REASONS), "message": 'secret "db" not found'}},
        {"terminated": draw(termination())},
        {**running, "waiting": {"reason": "CrashLoopBackOff"}},
        None,
        draw(json_values),
    ]
    return draw(st.sampled_from(choices))


@st.composite
def container_status(draw: st.DrawFn, name: str) -> Any:
    last = draw(st.sampled_from([None, {}, "x", {"terminated": draw(termination())}]))
    entry: dict[str, Any] = {
        "name": draw(st.sampled_from([name, name, name, 7])),
        "ready": draw(st.sampled_from([True, True, False, None])),
        "restartCount": draw(_RESTARTS),
        "state": draw(state()),
    }
    if last is not None:
        entry["lastState"] = last
    if draw(st.booleans()):
        entry["started"] = draw(st.sampled_from([True, False]))
    return entry


def _healthy_pod(draw: st.DrawFn) -> dict[str, Any]:
    conditions = [{"type": t, "status": "True"} for t in ("Ready", "PodScheduled")]
    statuses = [b.running(name) for name in ["app", "sidecar"][: draw(st.integers(1, 2))]]
    return b.pod("web-1", conditions=conditions, statuses=statuses)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _first(pod: dict[str, Any]) -> dict[str, Any]:
    """The first container status, or a throwaway one when the list was replaced."""
    statuses = _list(pod["status"]["containerStatuses"])
    return statuses[0] if statuses and isinstance(statuses[0], dict) else {}


def _mutations(draw: st.DrawFn) -> dict[str, Any]:
    """One field each: how far the drawn pod strays from a healthy one."""
    return {
        "phase": lambda pod: pod["status"].update(phase=draw(_PHASES)),
        "reason": lambda pod: pod["status"].update(reason=draw(_POD_REASONS)),
        "conditions": lambda pod: pod["status"].update(conditions=draw(conditions())),
        "container": lambda pod: pod["status"].update(
            containerStatuses=[
                *_list(pod["status"]["containerStatuses"]),
                draw(container_status("late")),
            ]
        ),
        "init": lambda pod: pod["status"].update(
            initContainerStatuses=[draw(container_status("init"))]
        ),
        "ready": lambda pod: _first(pod).update(ready=draw(st.sampled_from([False, None, "True"]))),
        "state": lambda pod: _first(pod).update(state=draw(state())),
        "last": lambda pod: _first(pod).update(lastState={"terminated": draw(termination())}),
        "restarts": lambda pod: _first(pod).update(restartCount=draw(_RESTARTS)),
        "statuses": lambda pod: pod["status"].update(containerStatuses=draw(json_values)),
        "deleted": lambda pod: pod["metadata"].update(deletionTimestamp=b.ts(30)),
        "node": lambda pod: pod["spec"].update(nodeName=draw(st.sampled_from(["worker-2", None]))),
        "policy": lambda pod: pod["spec"].update(restartPolicy="Never"),
        "started": lambda pod: pod["status"].update(startTime=b.ts(30)),
    }


_TAINTS = st.sampled_from(
    [None, [{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}],
     [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}],
     [{"key": "dedicated", "effect": "NoSchedule"}], "bogus"]
)  # fmt: skip


def node(draw: st.DrawFn) -> dict[str, Any]:
    """The pod's Node: ready or lost, tainted or not, now and then malformed."""
    drawn = b.node("worker-1", ready=draw(st.sampled_from(["True", "False", "Unknown"])))
    drawn["spec"]["taints"] = draw(_TAINTS)
    if draw(st.integers(0, 5)) == 0:
        drawn["status"] = draw(st.sampled_from([None, {"conditions": "bogus"}, draw(json_values)]))
    return drawn


@st.composite
def pods(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A healthy pod with up to three fields changed, and the other objects of its snapshot."""
    pod = _healthy_pod(draw)
    mutations = _mutations(draw)
    for name in draw(st.lists(st.sampled_from(sorted(mutations)), max_size=3)):
        mutations[name](pod)
    others: list[dict[str, Any]] = []
    if draw(st.integers(0, 2)) == 0:
        others.append(node(draw))
    for _ in range(draw(st.integers(0, 3))):
        others.append(b.event(pod, draw(_EVENT_REASONS), draw(_EVENT_MESSAGES)))
    return pod, others


def full_run(pod: dict[str, Any], snapshot: Snapshot, thresholds: Thresholds) -> list[Finding]:
    """Every rule, with the shortcut turned off."""
    with mock.patch.object(registry, "settled", return_value=False):
        return registry.analyze_pod(pod, snapshot, b.NOW, thresholds)


@settings(max_examples=800, deadline=None)
@given(pods(), st.sampled_from([DEFAULT_THRESHOLDS, Thresholds(crashloop_restarts=0),
                                Thresholds(crashloop_restarts=1), Thresholds(recovered_seconds=0)]))  # fmt: skip
def test_a_settled_pod_is_one_no_rule_faults(
    drawn: tuple[dict[str, Any], list[dict[str, Any]]], thresholds: Thresholds
) -> None:
    pod, others = drawn
    snapshot = Snapshot.from_objects([pod, *others])
    shortcut = settled(pod, snapshot, thresholds)
    event(f"settled={shortcut}, node={'known' if snapshot.nodes else 'none'}")
    expected = full_run(pod, snapshot, thresholds)
    assert registry.analyze_pod(pod, snapshot, b.NOW, thresholds) == expected
    if shortcut:
        assert expected == []


def test_the_common_healthy_pods_take_the_shortcut() -> None:
    """Healthy, restarted long ago, with a sidecar and true conditions: all decided at once."""
    conditions = [{"type": t, "status": "True"} for t in ("Ready", "PodScheduled")]
    restarted = b.running(restarts=7, last=b.terminated(1, finished_ago=86_400))
    healthy = [
        b.pod("a"),
        b.pod("b", conditions=conditions, statuses=[b.running(), b.running("sidecar")]),
        b.pod("c", statuses=[b.running(restarts=2, last=b.terminated(1, finished_ago=60))]),
    ]
    snapshot = Snapshot.from_objects(healthy)
    assert [settled(p, snapshot, DEFAULT_THRESHOLDS) for p in healthy] == [True, True, True]
    assert not settled(b.pod("d", statuses=[restarted]), snapshot, DEFAULT_THRESHOLDS)
    assert not settled(b.pod("e", phase="Pending"), snapshot, DEFAULT_THRESHOLDS)
    on_ready_node = Snapshot.from_objects([*healthy, b.node("worker-1")])
    assert settled(healthy[0], on_ready_node, DEFAULT_THRESHOLDS)
    for lost in (
        b.node("worker-1", ready="Unknown"),
        b.node(
            "worker-1", taints=[{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]
        ),
    ):
        on_lost_node = Snapshot.from_objects([*healthy, lost])
        assert not settled(healthy[0], on_lost_node, DEFAULT_THRESHOLDS)
