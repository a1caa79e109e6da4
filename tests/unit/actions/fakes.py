"""The API as the action runner sees it: tasks, workloads, the policy, kept in memory."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes.client.exceptions import ApiException

from highpeaks_agent.actions.gate import POLICY_NAME
from highpeaks_agent.engine.snapshot import Snapshot

POLICY_CREATED = "2026-12-07T09:30:00Z"


def policy_objects(created: str = POLICY_CREATED) -> dict[str, dict[str, Any]]:
    return {
        "validatingadmissionpolicies": {
            "metadata": {"name": POLICY_NAME, "creationTimestamp": created}
        },
        "validatingadmissionpolicybindings": {
            "metadata": {"name": POLICY_NAME, "creationTimestamp": created},
            "spec": {"policyName": POLICY_NAME, "validationActions": ["Deny"]},
        },
    }


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 10, 0, 10, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class Cluster:
    """One task, its workload with its revisions, the policy, and what was written."""

    def __init__(self, task: dict[str, Any], workload: dict[str, Any], owned: list[Any]) -> None:
        self.task = copy.deepcopy(task)
        self.workload = copy.deepcopy(workload)
        self.owned = copy.deepcopy(owned)
        self.policy = policy_objects()
        self.events: list[dict[str, Any]] = []
        self.patches: list[Any] = []
        self.status_writes = 0
        self.fail_status_write_after_patch = False
        self.rollout_done_after_gets = 1
        self.gets = 0

    # --- TaskStore ------------------------------------------------------------------------

    async def read_task(self, namespace: str, name: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.task)

    async def patch_task_status(
        self,
        namespace: str,
        name: str,
        status: Mapping[str, Any],
        *,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        if self.fail_status_write_after_patch and self.patches:
            self.fail_status_write_after_patch = False
            raise ApiException(status=503, reason="Service Unavailable")
        if (
            resource_version is not None
            and resource_version != self.task["metadata"]["resourceVersion"]
        ):
            raise ApiException(status=409, reason="Conflict")
        self.task["status"] = {**self.task.get("status", {}), **copy.deepcopy(dict(status))}
        self.bump()
        self.status_writes += 1
        return copy.deepcopy(self.task)

    def bump(self) -> None:
        md = self.task["metadata"]
        md["resourceVersion"] = str(int(md["resourceVersion"]) + 1)

    async def post_event(self, obj: Mapping[str, Any], **kwargs: Any) -> bool:
        name = (obj["metadata"]["name"], kwargs["reason"], kwargs["key"])
        if kwargs.get("once") and any(e["name"] == name for e in self.events):
            return True  # a 409 on the Event's deterministic name
        self.events.append({"name": name, "on": obj["kind"], **kwargs})
        return True

    # --- workloads ------------------------------------------------------------------------

    async def get(self, path: str) -> dict[str, Any]:
        if path.endswith(POLICY_NAME):
            plural = path.split("/")[-2]
            if plural not in self.policy:
                raise ApiException(status=404, reason="Not Found")
            return copy.deepcopy(self.policy[plural])
        self.gets += 1
        if self.gets >= self.rollout_done_after_gets:
            self.complete_rollout()
        return copy.deepcopy(self.workload)

    async def patch(self, path: str, body: Any, content_type: str) -> dict[str, Any]:
        self.patches.append(copy.deepcopy(body))
        before = copy.deepcopy(self.workload["spec"])
        if isinstance(body, list):
            for op in body:
                self.workload["spec"]["template"] = copy.deepcopy(op["value"])
        else:
            merge(self.workload, body)
        if self.workload["spec"] != before:
            self.workload["metadata"]["generation"] += 1
        return copy.deepcopy(self.workload)

    def complete_rollout(self) -> None:
        replicas = self.workload["spec"].get("replicas", 1)
        self.workload["status"] = {
            "observedGeneration": self.workload["metadata"]["generation"],
            "replicas": replicas,
            "updatedReplicas": replicas,
            "availableReplicas": replicas,
        }

    # --- SnapshotSource -------------------------------------------------------------------

    async def target_snapshot(self, namespace: str, kind: str, name: str) -> Snapshot:
        return Snapshot.from_objects([copy.deepcopy(self.workload), *copy.deepcopy(self.owned)])


def merge(into: dict[str, Any], patch: Mapping[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


async def no_sleep(seconds: float) -> None:
    return None


def later(clock: Clock, seconds: float) -> None:
    clock.now += timedelta(seconds=seconds)
