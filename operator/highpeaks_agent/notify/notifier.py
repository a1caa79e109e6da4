"""Sends each IncidentNote once to every sink, from a background queue.

Exactly once, the way the note itself is: what was sent is recorded in the cluster, as an
annotation ``devops.highpeaks.io/notified-<sink>: <failure signature>`` on the incident
task, written after the sink accepted the message. Before sending, the task is read back and
a sink whose annotation already holds the signature is skipped, so operator restarts,
repeated looks at a failing Deployment and suppressed notes send nothing more. A crash
between a sink's answer and the annotation is the one window that sends twice (at least
once, never lost); within one process life a sent message is remembered, so an annotation
that could not be written is retried without sending again.

:meth:`Notifier.submit` never blocks or raises: the incident monitor calls it and goes on.
One worker sends, retrying 5xx, 429 and connection errors with exponential backoff a
bounded number of times.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

import httpx

from highpeaks_agent import metrics
from highpeaks_agent.notify.incident import Incident, incident_from_task
from highpeaks_agent.notify.sinks import Sink, Undelivered

log = logging.getLogger(__name__)

NOTIFIED_PREFIX = "devops.highpeaks.io/notified-"
MAX_BACKOFF = 60.0
#: After giving up on a message, wait this long before a new look may try it again.
GIVE_UP_COOLDOWN = 600.0
#: Incidents remembered as done, so repeated looks cost no API call; also the bound of the
#: sends awaiting their record and of the incidents given up on, oldest forgotten first.
REMEMBERED = 10_000

Key = tuple[str, str, str]  # namespace, task, signature
_K = TypeVar("_K")
_V = TypeVar("_V")


class IncidentNotifier(Protocol):
    """What the incident monitor needs: hand over a posted note, never wait."""

    def submit(self, namespace: str, task_name: str, signature: str) -> None: ...


class TaskRecords(Protocol):
    """Reads incident tasks and records on them (``controller.kube.KubeWriter``)."""

    async def read_task(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    async def patch_task_metadata(
        self, namespace: str, name: str, metadata: Mapping[str, Any]
    ) -> dict[str, Any]: ...


def notified_annotation(sink: str) -> str:
    return f"{NOTIFIED_PREFIX}{sink}"


class HideSinkUrls(logging.Filter):
    """httpx logs every request's URL at INFO; a webhook URL is a credential, so it is
    replaced by the sink's name before any handler sees the record."""

    def __init__(self, sinks: Sequence[Sink]) -> None:
        super().__init__()
        self._urls = {str(httpx.URL(s.url)): s.name for s in sinks} | {s.url: s.name for s in sinks}

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = message
        for url, name in self._urls.items():
            hidden = hidden.replace(url, f"<{name} URL>")
        if hidden != message:
            record.msg, record.args = hidden, ()
        return True


class Notifier:
    """A bounded queue and one worker delivering incidents to the configured sinks."""

    def __init__(
        self,
        sinks: Sequence[Sink],
        tasks: TaskRecords,
        *,
        timeout_seconds: float = 10.0,
        max_attempts: int = 5,
        backoff_seconds: float = 1.0,
        queue_size: int = 1000,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._sinks = tuple(sinks)
        self._tasks = tasks
        self._attempts = max_attempts
        self._backoff = backoff_seconds
        self._sleep = sleep
        self._http = httpx.AsyncClient(timeout=timeout_seconds, follow_redirects=False)
        self._queue: asyncio.Queue[Key] = asyncio.Queue(maxsize=queue_size)
        self._queued: set[Key] = set()
        self._done: OrderedDict[Key, None] = OrderedDict()
        self._sent: OrderedDict[tuple[Key, str], None] = OrderedDict()
        self._given_up: OrderedDict[Key, float] = OrderedDict()
        self._worker: asyncio.Task[None] | None = None
        self._hide = HideSinkUrls(self._sinks)
        logging.getLogger("httpx").addFilter(self._hide)

    @property
    def sinks(self) -> tuple[str, ...]:
        return tuple(s.name for s in self._sinks)

    def submit(self, namespace: str, task_name: str, signature: str) -> None:
        """Queue the incident for delivery unless it is known done, queued or just given up."""
        key = (namespace, task_name, signature)
        if not self._sinks or key in self._done or key in self._queued:
            return
        gave_up = self._given_up.get(key)
        if gave_up is not None and time.monotonic() - gave_up < GIVE_UP_COOLDOWN:
            return
        try:
            self._queue.put_nowait(key)
        except asyncio.QueueFull:
            for sink in self._sinks:
                metrics.NOTIFICATIONS.labels(sink.name, "dropped").inc()
            log.warning("notification queue full: dropped the note of %s/%s", namespace, task_name)
            return
        self._queued.add(key)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="notifications")

    async def join(self) -> None:
        """Wait until everything queued so far was handled (tests, shutdown)."""
        await self._queue.join()

    async def aclose(self) -> None:
        """Stop the worker (what is still queued is sent by the next look after a restart)."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self._http.aclose()
        logging.getLogger("httpx").removeFilter(self._hide)

    async def _work(self) -> None:
        while True:
            key = await self._queue.get()
            try:
                await self.deliver(*key)
            except Exception:  # an API error reading or recording: the next look retries
                log.exception("could not deliver the note of %s/%s", key[0], key[1])
            finally:
                self._queued.discard(key)
                self._queue.task_done()

    async def deliver(self, namespace: str, task_name: str, signature: str) -> None:
        """Send the incident to every sink that has not had it, and record each send."""
        key = (namespace, task_name, signature)
        task = await self._tasks.read_task(namespace, task_name)
        incident = incident_from_task(task) if task is not None else None
        if task is None or incident is None or incident.signature != signature:
            return  # not finished yet, or already another incident: a later look submits it
        annotations = (task.get("metadata") or {}).get("annotations") or {}
        delivered = True
        for sink in self._sinks:
            if annotations.get(notified_annotation(sink.name)) == signature:
                metrics.NOTIFICATIONS.labels(sink.name, "skipped").inc()
                continue
            delivered = await self._deliver_to(sink, key, incident) and delivered
        if delivered:
            self._remember(key)
        else:
            self._give_up(key)

    async def _deliver_to(self, sink: Sink, key: Key, incident: Incident) -> bool:
        if (key, sink.name) not in self._sent:
            if not await self._send(sink, incident):
                return False
            _bounded_put(self._sent, (key, sink.name), None)
        namespace, task_name, signature = key
        await self._tasks.patch_task_metadata(
            namespace, task_name, {"annotations": {notified_annotation(sink.name): signature}}
        )
        self._sent.pop((key, sink.name), None)
        return True

    async def _send(self, sink: Sink, incident: Incident) -> bool:
        """Send with bounded retries and exponential backoff; True when the sink accepted."""
        for attempt in range(1, self._attempts + 1):
            try:
                await sink.send(self._http, incident)
            except Undelivered as exc:
                if not exc.retryable or attempt == self._attempts:
                    metrics.NOTIFICATIONS.labels(sink.name, "failed").inc()
                    log.warning("notification of %s not delivered: %s", incident.task, exc)
                    return False
                metrics.NOTIFICATIONS.labels(sink.name, "retried").inc()
                wait = exc.retry_after
                if wait is None:
                    wait = min(self._backoff * 2 ** (attempt - 1), MAX_BACKOFF)
                await self._sleep(wait)
                continue
            metrics.NOTIFICATIONS.labels(sink.name, "sent").inc()
            log.info("notified %s of %s/%s", sink.name, incident.namespace, incident.task)
            return True
        return False

    def _remember(self, key: Key) -> None:
        self._given_up.pop(key, None)
        _bounded_put(self._done, key, None)

    def _give_up(self, key: Key) -> None:
        """Wait ``GIVE_UP_COOLDOWN`` before trying this incident again; a cool-down that has
        passed is forgotten, and so are the oldest beyond ``REMEMBERED`` (they are tried again
        sooner, never sent twice: the task's annotations still say what was sent)."""
        now = time.monotonic()
        while self._given_up:
            oldest = next(iter(self._given_up.values()))
            if now - oldest < GIVE_UP_COOLDOWN:
                break
            self._given_up.popitem(last=False)
        _bounded_put(self._given_up, key, now)

    @property
    def records(self) -> int:
        """Incidents and sends held in memory (bounded by ``REMEMBERED`` each)."""
        return len(self._done) + len(self._sent) + len(self._given_up)


def _bounded_put(records: OrderedDict[_K, _V], key: _K, value: _V) -> None:
    """Insert as the newest entry; drop the oldest beyond ``REMEMBERED``."""
    records.pop(key, None)
    records[key] = value
    while len(records) > REMEMBERED:
        records.popitem(last=False)
