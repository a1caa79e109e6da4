"""Every write the operator makes to the cluster, and the few reads its decisions need.

AgentTasks (created, their status written through the status subresource, their metadata
patched) and aggregated core v1 Events, all through :func:`highpeaks_agent.kubeapi.request_json`;
bodies are plain dicts, exactly what the API speaks.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from highpeaks_agent.controller.events import new_event, repeat_patch
from highpeaks_agent.kubeapi import api_path, request_json

log = logging.getLogger(__name__)

GROUP, VERSION, PLURAL = "devops.highpeaks.io", "v1alpha1", "agenttasks"
MERGE_PATCH = "application/merge-patch+json"


class KubeWriter:
    """AgentTask and Event writes for the operator (the only writer in the process)."""

    def __init__(self, api_client: client.ApiClient) -> None:
        self._api = api_client

    # --- reads ---------------------------------------------------------------------------

    async def read_task(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The AgentTask, or None when it does not exist."""
        try:
            result = await request_json(self._api, "GET", _task_path(namespace, name))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return result

    async def list_tasks(self, namespace: str, label_selector: str) -> list[dict[str, Any]]:
        """AgentTasks of a namespace matching a label selector."""
        result = await request_json(
            self._api, "GET", _task_path(namespace), [("labelSelector", label_selector)]
        )
        return [item for item in result.get("items") or [] if isinstance(item, dict)]

    # --- AgentTasks ----------------------------------------------------------------------

    async def create_task(self, body: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """Create an AgentTask; returns (the task, whether this call created it).

        A 409 means another writer (or an earlier life of this process) created it first:
        the existing task is returned, so callers decide from the cluster, not from memory.
        """
        namespace = body["metadata"]["namespace"]
        try:
            created = await request_json(self._api, "POST", _task_path(namespace), body=body)
        except ApiException as exc:
            if exc.status != 409:
                raise
            existing = await self.read_task(namespace, body["metadata"]["name"])
            if existing is None:
                raise
            return existing, False
        return created, True

    async def patch_task_status(
        self,
        namespace: str,
        name: str,
        status: Mapping[str, Any],
        *,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        """Merge-patch ``status`` through the status subresource; with ``resource_version``
        only if the task is still that version (else a 409: someone wrote in between)."""
        patch: dict[str, Any] = {"status": dict(status)}
        if resource_version is not None:
            patch["metadata"] = {"resourceVersion": resource_version}
        return await self._patch(_task_path(namespace, name, "status"), patch)

    async def patch_task_metadata(
        self, namespace: str, name: str, metadata: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Merge-patch labels or annotations of a task."""
        return await self._patch(_task_path(namespace, name), {"metadata": dict(metadata)})

    async def _patch(self, path: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        return await request_json(self._api, "PATCH", path, body=patch, content_type=MERGE_PATCH)

    # --- Events --------------------------------------------------------------------------

    async def post_event(
        self,
        obj: Mapping[str, Any],
        *,
        reason: str,
        message: str,
        type_: Literal["Normal", "Warning"],
        key: str,
        now: datetime,
        once: bool = False,
    ) -> bool:
        """Post an Event about ``obj``, or count one more of the same (kubelet's aggregation).

        With ``once`` the Event is a note that exists at most once: a 409 on its deterministic
        name means it was already posted (by an earlier attempt whose answer was lost), and
        its count stays 1. Returns False when the Event could not be written; an Event is
        never worth failing the work it reports on, so errors are logged, not raised.
        """
        body = new_event(obj, reason=reason, message=message, type_=type_, key=key, now=now)
        namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
        try:
            try:
                await request_json(self._api, "POST", _event_path(namespace), body=body)
                if once:  # a note: which replica or shard wrote it, for whoever operates several
                    log.info("posted %s Event %s/%s", reason, namespace, name)
                return True
            except ApiException as exc:
                if exc.status != 409:
                    raise
                if once:
                    return True
            existing = await request_json(self._api, "GET", _event_path(namespace, name))
            await self._patch(
                _event_path(namespace, name), repeat_patch(existing, message=message, now=now)
            )
            return True
        except (ApiException, OSError) as exc:
            log.warning("could not post %s Event on %s: %s", reason, name, exc)
            return False


def _task_path(namespace: str, name: str | None = None, subresource: str | None = None) -> str:
    return api_path(GROUP, VERSION, PLURAL, namespace, name, subresource)


def _event_path(namespace: str, name: str | None = None) -> str:
    return api_path("", "v1", "events", namespace, name)
