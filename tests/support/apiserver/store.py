"""The object store behind the emulated API server: what etcd and the registry do for real.

Every write assigns ``uid``, ``resourceVersion``, ``creationTimestamp`` and ``generation``;
``generateName`` is honoured; the status subresource is kept apart from the main resource;
stale ``resourceVersion`` writes conflict; deletion waits for finalizers and cascades to
dependents through ``ownerReferences`` (the garbage collector). Changes are recorded in a
bounded log so a watch can resume from a resourceVersion, or learn with 410 Gone that it
is too old. Pure data: the HTTP side lives in ``emulator.py``.
"""

from __future__ import annotations

import asyncio
import copy
import secrets
import string
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jsonpatch

ResourceKey = tuple[str, str, str]  # group, version, plural
ObjectKey = tuple[str | None, str]  # namespace, name


class ApiError(Exception):
    """An API failure rendered as a ``Status`` object."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class ResourceType:
    """What the store needs to know about a resource: names and whether it has ``status``."""

    key: ResourceKey
    kind: str
    namespaced: bool
    has_status: bool

    @property
    def api_version(self) -> str:
        group, version, _ = self.key
        return f"{group}/{version}" if group else version

    def describe(self) -> str:
        group, _, plural = self.key
        return f"{plural}.{group}" if group else plural


@dataclass(slots=True)
class Change:
    """One entry of the watch log."""

    resource_version: int
    resource: ResourceKey
    type: str
    obj: dict[str, Any]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch (what ``application/merge-patch+json`` means)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@dataclass
class Store:
    """Objects per resource, a global resourceVersion counter and the bounded change log."""

    log_size: int = 20_000
    objects: dict[ResourceKey, dict[ObjectKey, dict[str, Any]]] = field(default_factory=dict)
    changes: deque[Change] = field(default_factory=deque)
    revision: int = 1
    watchers: set[asyncio.Queue[Change]] = field(default_factory=set)
    types: dict[ResourceKey, ResourceType] = field(default_factory=dict)

    # --- reading -------------------------------------------------------------------------

    def list(self, rtype: ResourceType, namespace: str | None) -> list[dict[str, Any]]:
        bucket = self.objects.get(rtype.key, {})
        return [obj for (ns, _), obj in bucket.items() if namespace is None or ns == namespace]

    def get(self, rtype: ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        obj = self.objects.get(rtype.key, {}).get((namespace, name))
        if obj is None:
            raise ApiError(404, "NotFound", f'{rtype.describe()} "{name}" not found')
        return obj

    def changes_since(self, resource_version: int) -> list[Change] | None:
        """Changes after ``resource_version``, or None when the log no longer reaches back."""
        if self.changes and self.changes[0].resource_version > resource_version + 1:
            return None
        return [c for c in self.changes if c.resource_version > resource_version]

    # --- writing -------------------------------------------------------------------------

    def create(
        self, rtype: ResourceType, namespace: str | None, body: dict[str, Any]
    ) -> dict[str, Any]:
        obj = copy.deepcopy(body)
        md = obj.setdefault("metadata", {})
        if rtype.namespaced:
            if md.get("namespace") not in (None, namespace):
                raise ApiError(
                    400, "BadRequest", "the namespace of the provided object does not match"
                )
            md["namespace"] = namespace
        else:
            md.pop("namespace", None)
        if not md.get("name"):
            prefix = md.get("generateName")
            if not prefix:
                raise ApiError(422, "Invalid", "metadata.name: Required value: name is required")
            alphabet = string.ascii_lowercase + string.digits
            md["name"] = prefix + "".join(secrets.choice(alphabet) for _ in range(5))
        key = (md.get("namespace"), md["name"])
        bucket = self.objects.setdefault(rtype.key, {})
        if key in bucket:
            raise ApiError(
                409, "AlreadyExists", f'{rtype.describe()} "{md["name"]}" already exists'
            )
        obj["apiVersion"], obj["kind"] = rtype.api_version, rtype.kind
        if rtype.has_status:
            obj.pop("status", None)
        md["uid"] = str(uuid.uuid4())
        md["creationTimestamp"] = _now()
        md["generation"] = 1
        md.pop("resourceVersion", None)
        md.pop("deletionTimestamp", None)
        bucket[key] = obj
        self._record(rtype, "ADDED", obj)
        return obj

    def update(
        self,
        rtype: ResourceType,
        namespace: str | None,
        name: str,
        *,
        replace: dict[str, Any] | None = None,
        merge: Any = None,
        json_patch: list[Any] | None = None,
        subresource: str | None = None,
    ) -> dict[str, Any]:
        current = self.get(rtype, namespace, name)
        if replace is not None:
            wanted = copy.deepcopy(replace)
        elif json_patch is not None:
            try:
                wanted = jsonpatch.apply_patch(current, json_patch)
            except jsonpatch.JsonPatchTestFailed as exc:
                raise ApiError(422, "Invalid", f"the server rejected our request: {exc}") from exc
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
                raise ApiError(422, "Invalid", f"invalid JSON patch: {exc}") from exc
        else:
            wanted = merge_patch(current, merge)
        if not isinstance(wanted, dict):
            raise ApiError(400, "BadRequest", "the patched object is not an object")
        sent_version = (wanted.get("metadata") or {}).get("resourceVersion")
        if sent_version and sent_version != current["metadata"]["resourceVersion"]:
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {rtype.describe()} "{name}": the object has '
                "been modified; please apply your changes to the latest version and try again",
            )
        result = self._apply(rtype, current, wanted, subresource)
        if result is current:
            return current
        self.objects[rtype.key][(namespace, name)] = result
        md = result["metadata"]
        if md.get("deletionTimestamp") and not md.get("finalizers"):
            self._remove(rtype, (namespace, name))
        else:
            self._record(rtype, "MODIFIED", result)
        return result

    def delete(self, rtype: ResourceType, namespace: str | None, name: str) -> dict[str, Any]:
        current = self.get(rtype, namespace, name)
        md = current["metadata"]
        if md.get("finalizers"):
            if not md.get("deletionTimestamp"):
                updated = copy.deepcopy(current)
                updated["metadata"]["deletionTimestamp"] = _now()
                self.objects[rtype.key][(namespace, name)] = updated
                self._record(rtype, "MODIFIED", updated)
                return updated
            return current
        self._remove(rtype, (namespace, name))
        return current

    # --- internals -----------------------------------------------------------------------

    def _apply(
        self,
        rtype: ResourceType,
        current: dict[str, Any],
        wanted: dict[str, Any],
        subresource: str | None,
    ) -> dict[str, Any]:
        result = copy.deepcopy(current)
        if subresource == "status":
            result["status"] = wanted.get("status")
            if result["status"] is None:
                result.pop("status")
        else:
            keep = {"uid", "creationTimestamp", "generation", "resourceVersion", "namespace"}
            keep |= {"name", "deletionTimestamp"}
            md = {k: v for k, v in (wanted.get("metadata") or {}).items() if k not in keep}
            md.update({k: v for k, v in current["metadata"].items() if k in keep})
            body = {k: v for k, v in wanted.items() if k not in ("metadata", "status")}
            if not rtype.has_status and "status" in wanted:
                body["status"] = wanted["status"]
            old_body = {k: v for k, v in current.items() if k not in ("metadata", "status")}
            body["apiVersion"], body["kind"] = rtype.api_version, rtype.kind
            old_body["apiVersion"], old_body["kind"] = rtype.api_version, rtype.kind
            if rtype.has_status and "status" in current:
                body["status"] = current["status"]
            result = {**body, "metadata": md}
            if {k: v for k, v in body.items() if k != "status"} != {
                k: v for k, v in old_body.items() if k != "status"
            }:
                md["generation"] = int(current["metadata"].get("generation", 1)) + 1
        if result == current:
            return current  # a no-op write keeps the resourceVersion, as the real server does
        return result

    def _remove(self, rtype: ResourceType, key: ObjectKey) -> None:
        obj = self.objects[rtype.key].pop(key)
        self._record(rtype, "DELETED", obj)
        uid = obj["metadata"]["uid"]
        for other_key, bucket in list(self.objects.items()):
            for other_name, other in list(bucket.items()):
                owners = other["metadata"].get("ownerReferences") or []
                if any(ref.get("uid") == uid for ref in owners):
                    dependent = self.types[other_key]
                    self.delete(dependent, other_name[0], other_name[1])

    def _record(self, rtype: ResourceType, type_: str, obj: dict[str, Any]) -> None:
        self.types[rtype.key] = rtype
        self.revision += 1
        obj["metadata"]["resourceVersion"] = str(self.revision)
        change = Change(self.revision, rtype.key, type_, copy.deepcopy(obj))
        self.changes.append(change)
        while len(self.changes) > self.log_size:
            self.changes.popleft()
        for queue in self.watchers:
            queue.put_nowait(change)
