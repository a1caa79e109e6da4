"""An action's outcome to the notification sinks: one message per action and result.

Sent when the action has finished (Succeeded, Failed or Refused), after its record is in the
task's status. What was sent is recorded on the task as the annotation
``devops.highpeaks.io/notified-<sink>-<action id>: <result>``, read back before sending, so a
retry, a restart or another replica sends nothing more (a crash between the sink's answer
and the annotation is the one window that sends twice: at least once, never lost).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from highpeaks_agent import metrics
from highpeaks_agent.notify.notifier import NOTIFIED_PREFIX, HideSinkUrls, TaskRecords
from highpeaks_agent.notify.sinks import Sink, Undelivered

log = logging.getLogger(__name__)
ATTEMPTS = 3
_ICON = {"Succeeded": ":white_check_mark:", "Failed": ":x:", "Refused": ":no_entry:"}


def notified_annotation(sink: str, action_id: str) -> str:
    return f"{NOTIFIED_PREFIX}{sink}-{action_id}"[: len(NOTIFIED_PREFIX) + 63]


def action_webhook_body(task: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """The generic webhook's JSON for an action (``type: Action``; fields only ever added)."""
    md, spec = _map(task.get("metadata")), _map(task.get("spec"))
    target = _map(spec.get("target"))
    return {
        "type": "Action",
        "schemaVersion": 1,
        "target": {
            "kind": target.get("kind", ""),
            "namespace": md.get("namespace", ""),
            "name": target.get("name", ""),
        },
        "task": md.get("name", ""),
        **{k: record.get(k, "") for k in ("id", "action", "by", "at", "change", "result")},
        "message": record.get("message", ""),
        "finishedAt": record.get("finishedAt", ""),
    }


def action_slack_message(task: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """A short Block Kit message: who did what to which workload, and how it ended."""
    body = action_webhook_body(task, record)
    target = body["target"]
    where = f"{target['kind']} {target['namespace']}/{target['name']}"
    icon = _ICON.get(str(body["result"]), "")
    headline = f"{icon} {body['action']} of {where} by {body['by']}: {body['result']}".strip()
    lines = [f"*Change:* {_escape(str(body['change']))}" if body["change"] else ""]
    if body["message"]:
        lines.append(f"*Outcome:* {_escape(str(body['message']))}")
    lines.append(f"`kubectl describe agenttask {body['task']} -n {target['namespace']}`")
    return {
        "text": headline[:150],
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": _escape(headline)[:3000]}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "\n".join(filter(None, lines))[:3000]},
            },
        ],
    }


class ActionNotifier:
    """Sends finished actions to the configured sinks, each once."""

    def __init__(
        self, sinks: Sequence[Sink], tasks: TaskRecords, *, timeout_seconds: float = 10.0
    ) -> None:
        self._sinks = tuple(sinks)
        self._tasks = tasks
        self._http = httpx.AsyncClient(timeout=timeout_seconds, follow_redirects=False)
        self._hide = HideSinkUrls(self._sinks)
        logging.getLogger("httpx").addFilter(self._hide)

    async def notify(self, task: Mapping[str, Any], record: Mapping[str, Any]) -> None:
        """Send ``record`` to every sink that has not had it; never raises."""
        md = _map(task.get("metadata"))
        annotations = _map(md.get("annotations"))
        result, action_id = str(record.get("result", "")), str(record.get("id", ""))
        for sink in self._sinks:
            key = notified_annotation(sink.name, action_id)
            if annotations.get(key) == result:
                metrics.NOTIFICATIONS.labels(sink.name, "skipped").inc()
                continue
            body = _body(sink, task, record)
            if await self._send(sink, body):
                try:
                    await self._tasks.patch_task_metadata(
                        str(md.get("namespace")),
                        str(md.get("name")),
                        {"annotations": {key: result}},
                    )
                except Exception as exc:  # the record of the send; at worst sent once more
                    log.warning("could not record the %s notification: %s", sink.name, exc)

    async def _send(self, sink: Sink, body: dict[str, Any]) -> bool:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                await sink.post(self._http, body)
            except Undelivered as exc:
                if not exc.retryable or attempt == ATTEMPTS:
                    metrics.NOTIFICATIONS.labels(sink.name, "failed").inc()
                    log.warning("action notification not delivered: %s", exc)
                    return False
                metrics.NOTIFICATIONS.labels(sink.name, "retried").inc()
                await asyncio.sleep(min(exc.retry_after or 2.0**attempt, 30.0))
                continue
            metrics.NOTIFICATIONS.labels(sink.name, "sent").inc()
            return True
        return False

    async def aclose(self) -> None:
        await self._http.aclose()
        logging.getLogger("httpx").removeFilter(self._hide)


def _body(sink: Sink, task: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    if sink.name == "slack":
        return action_slack_message(task, record)
    return action_webhook_body(task, record)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
