"""In-memory stand-ins for the task writer and the workload reader, with the real answers."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from highpeaks_agent.errors import TargetNotFound


@dataclass
class FakeTasks:
    """AgentTasks by (namespace, name); create answers like the writer (409 → existing)."""

    items: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    writes: list[tuple[str, str, str]] = field(default_factory=list)
    fail: Exception | None = None

    async def create_task(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        if self.fail is not None:
            raise self.fail
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        if key in self.items:
            return copy.deepcopy(self.items[key]), False
        self.items[key] = {**copy.deepcopy(dict(body)), "status": {}}
        self.writes.append(("create", *key))
        return copy.deepcopy(self.items[key]), True

    async def read_task(self, namespace: str, name: str) -> dict[str, Any] | None:
        task = self.items.get((namespace, name))
        return copy.deepcopy(task) if task is not None else None

    async def patch_task_status(
        self, namespace: str, name: str, status: Mapping[str, Any]
    ) -> dict[str, Any]:
        self.items[(namespace, name)]["status"].update(copy.deepcopy(dict(status)))
        self.writes.append(("status", namespace, name))
        return self.items[(namespace, name)]


def obj(
    kind: str, name: str, uid: str, owner: tuple[str, str, str] | None = None
) -> dict[str, Any]:
    api = {"Pod": "v1", "Job": "batch/v1"}.get(kind, "apps/v1")
    md: dict[str, Any] = {"name": name, "namespace": "shop", "uid": uid}
    if owner is not None:
        md["ownerReferences"] = [
            {"kind": owner[0], "name": owner[1], "uid": owner[2], "controller": True}
        ]
    return {"apiVersion": api, "kind": kind, "metadata": md}


@dataclass
class FakeWorkloads:
    """Objects by (kind, name) in namespace shop; ``controlling`` follows owners like the live one."""

    objects: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def add(self, item: dict[str, Any]) -> None:
        self.objects[(item["kind"], item["metadata"]["name"])] = item

    async def read(self, namespace: str, kind: str, name: str) -> dict[str, Any]:
        found = self.objects.get((kind, name))
        if namespace != "shop" or found is None:
            raise TargetNotFound(kind, namespace, name)
        return found

    async def controlling(self, namespace: str, kind: str, name: str) -> dict[str, Any]:
        current = await self.read(namespace, kind, name)
        while refs := current["metadata"].get("ownerReferences"):
            try:
                current = await self.read(namespace, refs[0]["kind"], refs[0]["name"])
            except TargetNotFound:
                break
        return current
