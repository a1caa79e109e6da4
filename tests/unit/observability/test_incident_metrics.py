"""The operator's own numbers: how fast an incident is noted, how long diagnoses take, how
many incidents are open — and the incident decision's span."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from prometheus_client import REGISTRY

from highpeaks_agent.controller.detection import failing_since
from highpeaks_agent.controller.incidents import IncidentMonitor
from highpeaks_agent.controller.open_incidents import OpenIncidentCounter, is_open_incident
from highpeaks_agent.engine import Snapshot, diagnose

from ..engine.builders import NOW, event, failing_deployment, terminated, ts, waiting
from ..service.test_diagnosis_service import SnapshotSource, service
from .conftest import Recorded


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class MemoryKube:
    """The writes the incident monitor makes, kept in memory (KubeWriter's method names)."""

    def __init__(self) -> None:
        self.tasks: dict[tuple[str, str], dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []

    async def list_tasks(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        key, value = label_selector.split("=")
        return [
            copy.deepcopy(t)
            for (ns, _), t in self.tasks.items()
            if ns == namespace and t["metadata"]["labels"].get(key) == value
        ]

    async def read_task(self, namespace: str, name: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.tasks.get((namespace, name)))

    async def create_task(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        if key in self.tasks:
            return copy.deepcopy(self.tasks[key]), False
        self.tasks[key] = {**copy.deepcopy(dict(body)), "status": {}}
        self.tasks[key]["metadata"].update(generation=1, uid=f"task-{len(self.tasks)}")
        return copy.deepcopy(self.tasks[key]), True

    async def patch_task_status(
        self, namespace: str, name: str, status: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.tasks[(namespace, name)]["status"].update(status)
        return copy.deepcopy(self.tasks[(namespace, name)])

    async def patch_task_metadata(
        self, namespace: str, name: str, metadata: Mapping[str, Any]
    ) -> dict[str, Any]:
        task = self.tasks[(namespace, name)]
        task["metadata"].setdefault("annotations", {}).update(metadata.get("annotations", {}))
        return copy.deepcopy(task)

    async def post_event(self, obj: Mapping[str, Any], **fields: Any) -> bool:
        self.events.append({"involvedObject": obj["metadata"]["name"], **fields})
        return True


def crash_looping() -> list[dict[str, Any]]:
    """checkout's pod (created an hour ago) crash-loops; kubelet's first BackOff 610 s ago."""
    dep, rs, pod = failing_deployment([waiting(restarts=4, last=terminated(1, finished_ago=30))])
    return [dep, rs, pod, event(pod, "BackOff", "Back-off restarting failed container", ago=10)]


def monitor(objects: list[dict[str, Any]], kube: MemoryKube) -> IncidentMonitor:
    return IncidentMonitor(
        service(SnapshotSource(*objects)),
        kube,  # type: ignore[arg-type]
        debounce_seconds=0,
        flowise_configured=False,
        clock=lambda: NOW,
    )


def test_failing_since_is_the_earliest_sign_never_before_creation() -> None:
    objects = crash_looping()
    snapshot = Snapshot.from_objects(objects)
    (diagnosis,) = diagnose(snapshot, now=NOW)
    assert failing_since(diagnosis, snapshot) == NOW - timedelta(seconds=610)

    pod = objects[2]
    pod["metadata"]["creationTimestamp"] = ts(120)  # a replacement pod: its own signs only
    snapshot = Snapshot.from_objects(objects)
    (diagnosis,) = diagnose(snapshot, now=NOW)
    assert failing_since(diagnosis, snapshot) == NOW - timedelta(seconds=120)


def test_failing_since_reads_failing_conditions() -> None:
    dep, rs, pod = failing_deployment(
        [waiting(restarts=4)],
        conditions=[
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": ts(3000)},
            {"type": "Ready", "status": "False", "lastTransitionTime": ts(900)},
        ],
    )
    snapshot = Snapshot.from_objects([dep, rs, pod])
    (diagnosis,) = diagnose(snapshot, now=NOW)
    assert failing_since(diagnosis, snapshot) == NOW - timedelta(seconds=900)


async def test_a_new_incident_observes_its_detection_time_once(recorded: Recorded) -> None:
    count = "highpeaks_agent_incident_detection_seconds_count"
    total = "highpeaks_agent_incident_detection_seconds_sum"
    before = sample(count), sample(total)
    kube = MemoryKube()
    watcher = monitor(crash_looping(), kube)

    assert [a.kind for a in await watcher.evaluate("shop", "checkout")] == ["open"]
    assert [a.kind for a in await watcher.evaluate("shop", "checkout")] == ["suppress"]

    assert sample(count) - before[0] == 1
    assert sample(total) - before[1] == 610
    first, second = recorded.named("highpeaks.incident")
    assert first.attributes is not None and first.attributes["highpeaks.actions"] == "open"
    assert second.attributes is not None and second.attributes["highpeaks.actions"] == "suppress"
    diagnosis = recorded.named("highpeaks.diagnosis")[0]
    assert diagnosis.parent is not None and diagnosis.parent.span_id == first.context.span_id


async def test_diagnosis_time_is_observed_by_trigger() -> None:
    name = "highpeaks_agent_diagnosis_seconds_count"
    before = {t: sample(name, trigger=t) for t in ("task", "incident", "assist")}
    svc = service(SnapshotSource(*crash_looping()))
    await svc.diagnose_target("shop", "Deployment", "checkout", trigger="task")
    await svc.diagnose_namespace("shop", trigger="assist")
    await svc.diagnose_namespace("shop", trigger="assist")
    after = {t: sample(name, trigger=t) - before[t] for t in before}
    assert after == {"task": 1, "incident": 0, "assist": 2}


def incident_task(
    name: str, *, resolved: bool = False, auto: bool = True, age: float = 60
) -> dict[str, Any]:
    labels = {"devops.highpeaks.io/trigger": "auto"} if auto else {}
    conditions = [{"type": "Resolved", "status": "True" if resolved else "False"}]
    metadata = {"name": name, "labels": labels, "creationTimestamp": ts(age)}
    return {"metadata": metadata, "status": {"conditions": conditions}}


def test_open_incidents_follow_the_watch() -> None:
    counter = OpenIncidentCounter()
    oldest = "highpeaks_agent_oldest_open_incident_timestamp_seconds"
    counter.observe("shop", "incident-a-r2", incident_task("incident-a-r2"), deleted=False)
    counter.observe(
        "shop", "incident-b-r1", incident_task("incident-b-r1", age=7200), deleted=False
    )
    counter.observe("shop", "why-a", incident_task("why-a", auto=False, age=9000), deleted=False)
    counter.observe("shop", "incident-a-r2", incident_task("incident-a-r2"), deleted=False)
    assert counter.count == 2 == sample("highpeaks_agent_open_incidents")
    assert sample(oldest) == (NOW - timedelta(seconds=7200)).timestamp()

    resolved = incident_task("incident-a-r2", resolved=True)
    counter.observe("shop", "incident-a-r2", resolved, deleted=False)
    counter.observe("shop", "incident-b-r1", incident_task("incident-b-r1"), deleted=True)
    assert counter.count == 0 == sample("highpeaks_agent_open_incidents")
    assert sample(oldest) == 0
    assert not is_open_incident(resolved)
