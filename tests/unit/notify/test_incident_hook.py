"""The incident monitor hands a note to the notifier only once the note is posted and
recorded, and again on suppressed looks (the notifier decides from the task's record)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from highpeaks_agent.controller.incidents import SIGNATURE_ANNOTATION, IncidentMonitor
from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS
from highpeaks_agent.service import DiagnosisService

from ..engine.builders import NOW
from ..service.test_diagnosis_service import SnapshotSource, failing_objects


@dataclass
class FakeKube:
    """The incident monitor's writer, in memory; records the order of writes."""

    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)

    async def list_tasks(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        return [copy.deepcopy(t) for t in self.tasks.values()]

    async def create_task(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        name = body["metadata"]["name"]
        if name in self.tasks:
            return copy.deepcopy(self.tasks[name]), False
        self.tasks[name] = copy.deepcopy(dict(body))
        self.log.append("create")
        return copy.deepcopy(self.tasks[name]), True

    async def patch_task_status(
        self, namespace: str, name: str, status: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.tasks[name]["status"] = dict(status)
        self.log.append("status")
        return self.tasks[name]

    async def patch_task_metadata(
        self, namespace: str, name: str, metadata: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.tasks[name]["metadata"].setdefault("annotations", {}).update(metadata["annotations"])
        self.log.append("signature")
        return self.tasks[name]

    async def post_event(self, obj: Mapping[str, Any], *, reason: str, **_: Any) -> bool:
        self.log.append(reason)
        return True


@dataclass
class RecordingNotifier:
    kube: FakeKube
    submitted: list[tuple[str, str, str]] = field(default_factory=list)

    def submit(self, namespace: str, task_name: str, signature: str) -> None:
        # what the notifier reads when it gets to it: the note's record is already there
        annotations = self.kube.tasks[task_name]["metadata"]["annotations"]
        assert annotations[SIGNATURE_ANNOTATION] == signature
        self.submitted.append((namespace, task_name, signature))


async def test_open_then_suppressed_looks_submit_the_same_incident() -> None:
    kube = FakeKube()
    notifier = RecordingNotifier(kube)
    service = DiagnosisService(
        SnapshotSource(*failing_objects()), thresholds=DEFAULT_THRESHOLDS, clock=lambda: NOW
    )
    monitor = IncidentMonitor(
        service,
        kube,  # type: ignore[arg-type]
        debounce_seconds=0,
        flowise_configured=False,
        clock=lambda: NOW,
        notifier=notifier,
    )
    first = await monitor.evaluate("shop", "checkout")
    assert [a.kind for a in first] == ["open"]
    assert kube.log.index("IncidentNote") < kube.log.index("signature")
    (submitted,) = notifier.submitted
    assert submitted[0] == "shop" and submitted[2] == "CrashLoopBackOff"
    again = await monitor.evaluate("shop", "checkout")
    assert [a.kind for a in again] == ["suppress"]
    assert notifier.submitted == [submitted, submitted]
    assert kube.log.count("IncidentNote") == 1


async def test_without_a_notifier_nothing_changes() -> None:
    kube = FakeKube()
    service = DiagnosisService(
        SnapshotSource(*failing_objects()), thresholds=DEFAULT_THRESHOLDS, clock=lambda: NOW
    )
    monitor = IncidentMonitor(
        service,
        kube,
        debounce_seconds=0,
        flowise_configured=False,
        clock=lambda: NOW,  # type: ignore[arg-type]
    )
    assert [a.kind for a in await monitor.evaluate("shop", "checkout")] == ["open"]
    assert [a.kind for a in await monitor.evaluate("shop", "checkout")] == ["suppress"]
