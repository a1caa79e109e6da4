"""Runs an action a person asked for or approved, exactly once, and records it (CONTRACT §10).

For a task with ``spec.action`` or ``spec.approval`` whose ``status.actions`` has no finished
entry for it:

1. refuse, with the reason, when the admission policy that checks who asks is not in force
   (and set the condition ``ActionsEnabled=False``), when an approval names no proposal or a
   refused one, when the target is not a Deployment, StatefulSet or DaemonSet, or when a
   GitOps controller manages it (its self-heal would put the change back: the GitOps way is
   named instead);
2. compute the change from the live objects at that moment (:mod:`.changes`);
3. record ``Started`` — with the action's id and the time the patch is computed from — in
   ``status.actions``, conditional on the task's resourceVersion, so of two writers only one
   starts it;
4. patch the workload (idempotent: a retry after a fault changes nothing more), note that
   in the record, follow the rollout until it completes or exceeds its progress deadline
   (:mod:`.progress`), and record ``Succeeded`` or ``Failed``;
5. post one Event on the task and one on the workload, notify the sinks, count it.

A record found ``Started`` (the operator was killed, the API server went away, another replica
started it) is carried on from step 4 with the change recomputed from the record, never
started again. Kopf runs the handlers only on the active replica; within one process a task
is run by one caller at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import urllib3
from kubernetes.client.exceptions import ApiException

from highpeaks_agent import metrics
from highpeaks_agent.actions import changes
from highpeaks_agent.actions.changes import Change, Refusal
from highpeaks_agent.actions.gate import ComponentMissing, PolicyGate
from highpeaks_agent.actions.progress import Progress, progress
from highpeaks_agent.actions.request import (
    FINISHED,
    REFUSED_CONDITION,
    Asked,
    action_of_id,
    actions_of,
    asked_of,
    proposal_of,
    record_of,
    refused_unnamed,
    rollback_revision,
)
from highpeaks_agent.controller.incidents import AUTO
from highpeaks_agent.controller.status import condition
from highpeaks_agent.controller.tasks import TRIGGER_LABEL, is_settled
from highpeaks_agent.engine.delivery import delivery_of, manager_of, source_object
from highpeaks_agent.engine.diagnose import diagnose_target
from highpeaks_agent.engine.model import ObjectRef
from highpeaks_agent.engine.snapshot import Snapshot, meta
from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS, Thresholds
from highpeaks_agent.engine.timeutil import parse_time
from highpeaks_agent.errors import TargetNotFound
from highpeaks_agent.kubeapi import api_path, request_json

log = logging.getLogger(__name__)

WORKLOADS = {"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets"}
#: Actions a GitOps controller would undo; resuming a paused rollout it would not.
UNDONE_BY_GITOPS = frozenset({"rollback", "restart", "pause"})
CONDITION = "ActionsEnabled"
_MANAGERS = {
    "argocd": "Argo CD Application",
    "flux-kustomization": "Flux Kustomization",
    "flux-helmrelease": "Flux HelmRelease",
}


class RetryLater(Exception):
    """The API server failed in a way worth retrying (the handler turns it into a retry)."""


class DiagnosisFirst(RetryLater):
    """A person's task is being diagnosed for its current generation: the action waits, so
    the diagnosis' status never overwrites what the action wrote."""


class TaskStore(Protocol):
    """The task reads and writes the runner needs (``controller.kube.KubeWriter``)."""

    async def read_task(self, namespace: str, name: str) -> dict[str, Any] | None: ...

    async def patch_task_status(
        self,
        namespace: str,
        name: str,
        status: Mapping[str, Any],
        *,
        resource_version: str | None = None,
    ) -> dict[str, Any]: ...

    async def post_event(
        self,
        obj: Mapping[str, Any],
        *,
        reason: str,
        message: str,
        type_: Any,
        key: str,
        now: datetime,
        once: bool = False,
    ) -> bool: ...


class SnapshotSource(Protocol):
    async def target_snapshot(self, namespace: str, kind: str, name: str) -> Snapshot: ...


class Workloads(Protocol):
    """GET and PATCH of the target (``kubeapi.request_json`` bound to the operator's client)."""

    async def get(self, path: str) -> dict[str, Any]: ...

    async def patch(self, path: str, body: Any, content_type: str) -> dict[str, Any]: ...


class ApiWorkloads:
    """:class:`Workloads` over the operator's API client."""

    def __init__(self, api_client: Any) -> None:
        self._api = api_client

    async def get(self, path: str) -> dict[str, Any]:
        return await request_json(self._api, "GET", path)

    async def patch(self, path: str, body: Any, content_type: str) -> dict[str, Any]:
        return await request_json(self._api, "PATCH", path, body=body, content_type=content_type)


class Notifier(Protocol):
    async def notify(self, task: Mapping[str, Any], record: Mapping[str, Any]) -> None: ...


@dataclass(frozen=True, slots=True)
class Refused:
    """An action that will not run: why, and for a GitOps-managed workload the GitOps way."""

    reason: str
    message: str
    action: str
    id: str


@dataclass(frozen=True, slots=True)
class Target:
    kind: str
    namespace: str
    name: str

    @property
    def path(self) -> str:
        return api_path("apps", "v1", WORKLOADS[self.kind], self.namespace, self.name)


def _time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class ActionRunner:
    """Refuse, or start, carry out and record one task's action."""

    def __init__(
        self,
        tasks: TaskStore,
        workloads: Workloads,
        live: SnapshotSource,
        gate: PolicyGate,
        *,
        notifier: Notifier | None = None,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        poll_seconds: float = 2.0,
    ) -> None:
        self._tasks = tasks
        self._workloads = workloads
        self._live = live
        self._gate = gate
        self._notifier = notifier
        self._thresholds = thresholds
        self._clock = clock
        self._sleep = sleep
        self._poll = poll_seconds
        self._running: set[tuple[str, str]] = set()

    async def run(self, body: Mapping[str, Any]) -> None:
        """Carry the task's action as far as it goes; API failures raise :class:`RetryLater`."""
        md = meta(body)
        key = (str(md.get("namespace", "")), str(md.get("name", "")))
        if key in self._running:
            return  # the handler and the resync both found it: one of them carries it
        self._running.add(key)
        try:
            await self._run(*key)
        except ApiException as exc:
            raise RetryLater(f"Kubernetes API error {exc.status}: {exc.reason}") from exc
        except (OSError, urllib3.exceptions.HTTPError) as exc:  # refused, reset, timed out
            raise RetryLater(f"Kubernetes API unreachable: {exc}") from exc
        finally:
            self._running.discard(key)

    async def _run(self, namespace: str, name: str) -> None:
        task = await self._tasks.read_task(namespace, name)
        asked = asked_of(task) if task is not None else None
        if task is None or asked is None or refused_unnamed(task):
            return
        if _diagnosis_pending(task):
            raise DiagnosisFirst(f"task {namespace}/{name} is being diagnosed")
        record = record_of(task, asked)
        if record is not None and record.get("result") in FINISHED:
            await self._publish(task, record)  # its first publication may have been cut off
            return
        if record is None:
            now = self._clock()
            planned = await self._plan(task, asked, now)
            if isinstance(planned, Refused):
                await self._refuse(task, asked, planned, now)
                return
            record = await self._start(task, asked, planned, now)
        await self._carry_out(task, record)

    # --- before: may it run, and what exactly does it change -----------------------------

    async def _plan(self, task: Mapping[str, Any], asked: Asked, now: datetime) -> Change | Refused:
        action, action_id = asked.name, asked.approved
        try:
            await self._gate.check(asked.written_at)
        except ComponentMissing as exc:
            return Refused("ComponentMissing", str(exc), action, action_id or action)
        spec = _map(task.get("spec"))
        if spec.get("action") and spec.get("approval"):
            return Refused("Invalid", "set spec.action or spec.approval, not both", action, action)
        if asked.field == "approval":
            proposal = proposal_of(task, action_id)
            problem = _unusable_proposal(proposal, action_id)
            if problem:
                return Refused("NotProposed", problem, action, action_id)
        target = _target(task)
        if target is None:
            kind = _map(spec.get("target")).get("kind")
            message = f"actions act on Deployments, StatefulSets and DaemonSets, not a {kind}"
            return Refused("UnsupportedTarget", message, action, action_id or action)
        try:
            snapshot = await self._live.target_snapshot(target.namespace, target.kind, target.name)
        except TargetNotFound as exc:
            return Refused("TargetNotFound", str(exc), action, action_id or action)
        workload = snapshot.get(target.kind, target.namespace, target.name) or {}
        return self._change(workload, snapshot, target, asked, now)

    def _change(
        self,
        workload: Mapping[str, Any],
        snapshot: Snapshot,
        target: Target,
        asked: Asked,
        now: datetime,
    ) -> Change | Refused:
        action, action_id = asked.name, asked.approved or asked.name
        ref = ObjectRef(kind=target.kind, namespace=target.namespace, name=target.name)
        diagnosis = diagnose_target(snapshot, ref, now=now, thresholds=self._thresholds)
        rollout = diagnosis.rollout if diagnosis is not None else None
        gitops = _gitops_refusal(workload, snapshot, rollout.delivery if rollout else None)
        if gitops and action in UNDONE_BY_GITOPS:
            return Refused("ManagedByGitOps", gitops, action, action_id)
        planned: Change | Refusal
        if action == "rollback":
            wanted = rollback_revision(asked.approved) if asked.approved else None
            if wanted is None:
                previous = rollout.previous_revision if rollout else None
                wanted = changes.last_healthy_revision(workload, snapshot, previous)
            if wanted is None:
                message = f"{target.kind} {target.name} has no earlier revision to roll back to"
                return Refused("NoEarlierRevision", message, action, action_id)
            planned = changes.rollback(workload, snapshot, wanted, snapshot.redactor)
        elif action == "restart":
            planned = changes.restart(workload, _time(now))
        else:
            planned = changes.set_paused(workload, action == "pause")
        if isinstance(planned, Refusal):
            return Refused(planned.reason, planned.message, action, action_id)
        if asked.approved and planned.id != asked.approved:
            message = f"the approved id {asked.approved} is not the change computed ({planned.id})"
            return Refused("NotProposed", message, action, asked.approved)
        return planned

    # --- the record -----------------------------------------------------------------------

    async def _refuse(
        self, task: Mapping[str, Any], asked: Asked, refused: Refused, now: datetime
    ) -> None:
        status: dict[str, Any] = {}
        generation = meta(task).get("generation")
        if refused.reason == "ComponentMissing":
            status["conditions"] = _with_condition(
                task,
                condition(CONDITION, False, "ComponentMissing", refused.message, now, generation),
            )
        record = {
            "id": refused.id,
            "action": refused.action,
            "by": asked.by,
            "at": _time(now),
            "result": "Refused",
            "message": refused.message,
            "finishedAt": _time(now),
        }
        if refused.action:
            status["actions"] = [*actions_of(task), record]
        else:  # an id naming no action: nothing a record could name, so a condition says it
            status["conditions"] = _with_condition(
                {"status": {"conditions": status.get("conditions", _conditions(task))}},
                condition(
                    REFUSED_CONDITION, True, refused.reason, refused.message, now, generation
                ),
            )
        written = await self._write(task, status)
        if refused.action:
            metrics.ACTIONS.labels(refused.action, "Refused").inc()
            await self._publish(written, record)
        else:
            await self._event(written, written, record, "task")

    async def _start(
        self, task: Mapping[str, Any], asked: Asked, change: Change, now: datetime
    ) -> dict[str, Any]:
        record = {
            "id": change.id,
            "action": change.action,
            "by": asked.by,
            "at": _time(now),
            "change": change.description,
            "result": "Started",
            "message": "computed from the live objects; patching the workload",
        }
        await self._write(task, {"actions": [*actions_of(task), record]})
        log.info("action %s on %s started by %s", change.id, _target(task), asked.by)
        return record

    async def _update(
        self, task: Mapping[str, Any], record: Mapping[str, Any], **fields: str
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """Replace this action's entry (read fresh) with ``fields`` changed; None when the
        entry is final already: another replica finished it (a leadership handover in the
        middle of a rollout), and its record, Events and count stand alone."""
        md = meta(task)
        current = await self._tasks.read_task(str(md.get("namespace")), str(md.get("name")))
        if current is None:
            return dict(task), dict(record)
        entries = actions_of(current)
        if any(e.get("id") == record.get("id") and e.get("result") in FINISHED for e in entries):
            log.info("action %s was finished by another replica", record.get("id"))
            return None
        updated = dict(record) | fields
        entries = [updated if e.get("id") == record.get("id") else e for e in entries]
        return await self._write(current, {"actions": entries}), updated

    async def _write(self, task: Mapping[str, Any], status: Mapping[str, Any]) -> dict[str, Any]:
        """Write ``status`` only if the task is still as read: a 409 means another writer
        came first, and the caller's retry reads what it wrote."""
        md = meta(task)
        return await self._tasks.patch_task_status(
            str(md.get("namespace")),
            str(md.get("name")),
            status,
            resource_version=str(md.get("resourceVersion") or "") or None,
        )

    # --- the run --------------------------------------------------------------------------

    async def _carry_out(self, task: Mapping[str, Any], record: dict[str, Any]) -> None:
        target = _target(task)
        started = parse_time(record.get("at")) or self._clock()
        if target is None:
            return
        try:
            workload = await self._apply(target, record)
        except TargetNotFound:
            await self._finish(task, record, "Failed", f"{target.kind} {target.name} was deleted")
            return
        except ApiException as exc:
            if exc.status not in (403, 404, 422):
                raise
            await self._finish(task, record, "Failed", _patch_failure(exc, target))
            return
        updated = await self._update(
            task, record, message="workload patched; following the rollout"
        )
        if updated is not None:
            await self._follow(*updated, target, workload, started)

    async def _follow(
        self,
        task: Mapping[str, Any],
        record: dict[str, Any],
        target: Target,
        workload: Mapping[str, Any],
        started: datetime,
    ) -> None:
        """Until the rollout completes or fails (:func:`progress`), then the final record."""
        action = str(record.get("action"))
        while True:
            state = progress(workload, action, started=started, now=self._clock())
            if state.state != "Progressing":
                await self._finish(task, record, state.state, state.message)
                return
            await self._sleep(self._poll)
            try:
                workload = await self._workloads.get(target.path)
            except ApiException as exc:
                if exc.status != 404:
                    raise
                message = f"{target.kind} {target.name} was deleted during its rollout"
                await self._finish(task, record, "Failed", message)
                return

    async def _apply(self, target: Target, record: Mapping[str, Any]) -> dict[str, Any]:
        """Patch the workload with the change the record names, computed again now; a
        rollback whose revision is already the current template changes nothing."""
        snapshot = await self._live.target_snapshot(target.namespace, target.kind, target.name)
        workload = snapshot.get(target.kind, target.namespace, target.name) or {}
        change = _recorded_change(workload, snapshot, record)
        if change is None:
            return await self._workloads.get(target.path)
        return await self._workloads.patch(target.path, change.patch, change.content_type)

    async def _finish(
        self, task: Mapping[str, Any], record: Mapping[str, Any], result: str, message: str
    ) -> None:
        updated = await self._update(
            task, record, result=result, message=message, finishedAt=_time(self._clock())
        )
        if updated is None:
            return
        written, finished = updated
        metrics.ACTIONS.labels(str(record.get("action")), result).inc()
        log.info("action %s: %s (%s)", record.get("id"), result, message)
        await self._publish(written, finished)

    # --- telling people -------------------------------------------------------------------

    async def _publish(self, task: Mapping[str, Any], record: Mapping[str, Any]) -> None:
        """One Event on the task and one on the workload, and the sinks; each at most once."""
        await self._event(task, task, record, "task")
        target = _target(task)
        if target is not None:
            try:
                workload = await self._workloads.get(target.path)
            except ApiException:
                workload = None  # deleted, or unreadable: the task's Event says it all
            if workload is not None:
                await self._event(task, workload, record, "workload")
        if self._notifier is not None:
            await self._notifier.notify(task, record)

    async def _event(
        self, task: Mapping[str, Any], about: Mapping[str, Any], record: Mapping[str, Any], on: str
    ) -> None:
        result = str(record.get("result"))
        by, action = record.get("by"), record.get("action") or "action"
        change = f": {record['change']}" if record.get("change") else ""
        where = f" (task {meta(task).get('name')})" if on == "workload" else ""
        await self._tasks.post_event(
            about,
            reason=f"Action{result}",
            message=f"{action} by {by}{change}. {result}: {record.get('message', '')}{where}",
            type_="Normal" if result == "Succeeded" else "Warning",
            key=f"action/{meta(task).get('uid')}/{record.get('id')}/{result}",
            now=self._clock(),
            once=True,
        )


# --- pure helpers ---------------------------------------------------------------------------


def _target(task: Mapping[str, Any]) -> Target | None:
    target = _map(_map(task.get("spec")).get("target"))
    kind, name = str(target.get("kind", "")), str(target.get("name", ""))
    namespace = str(meta(task).get("namespace", ""))
    if kind not in WORKLOADS or not name or target.get("namespace") not in (None, namespace):
        return None
    return Target(kind, namespace, name)


def _unusable_proposal(proposal: Mapping[str, Any] | None, action_id: str) -> str:
    if proposal is None or action_of_id(action_id) != proposal.get("action"):
        return (
            f"no proposed action has the id {action_id!r} (`kubectl highpeaks actions TASK` "
            "lists them)"
        )
    if proposal.get("refused"):
        instead = f" Instead: {proposal['instead']}" if proposal.get("instead") else ""
        return f"the proposal {action_id} is refused: {proposal['refused']}.{instead}"
    return ""


def _gitops_refusal(workload: Mapping[str, Any], snapshot: Snapshot, delivery: Any) -> str:
    """Why a GitOps controller's workload is not changed by hand, and its own way; ""."""
    manager = manager_of(workload)
    if manager is None or manager.manager not in _MANAGERS:
        return ""
    source = manager.source
    if manager.guessed:
        # only the instance label, which Helm and many charts set too: Argo CD's only when an
        # Application of that name was read (the live reader looks for it)
        application = source_object(manager, snapshot)
        if application is None:
            return ""
        source = ObjectRef(
            kind=source.kind,
            namespace=str(meta(application).get("namespace") or ""),
            name=source.name,
        )
    found = delivery if delivery is not None else delivery_of(workload, snapshot)
    instead = getattr(found, "next_step", "") or "revert the change in Git"
    return (
        f"{workload.get('kind')} {meta(workload).get('name')} is managed by "
        f"{_MANAGERS[manager.manager]} {source.namespace}/{source.name}: its self-heal would "
        f"put a change made here back. The GitOps way: {instead}"
    )


def _recorded_change(
    workload: Mapping[str, Any], snapshot: Snapshot, record: Mapping[str, Any]
) -> Change | None:
    """The patch a started record stands for; None when there is nothing left to patch."""
    action = record.get("action")
    if action == "restart":
        return changes.restart(workload, str(record.get("at")))
    if action in ("pause", "resume"):
        planned = changes.set_paused(workload, action == "pause")
        return planned if isinstance(planned, Change) else None
    wanted = rollback_revision(str(record.get("id")))
    template = changes.restored_template(workload, snapshot, wanted) if wanted else None
    if template is None or template == _map(workload.get("spec")).get("template"):
        return None  # restored already (a StatefulSet's revision took the newest number)
    return Change(
        str(record.get("id")),
        "rollback",
        str(record.get("change", "")),
        [{"op": "replace", "path": "/spec/template", "value": template}],
        changes.JSON_PATCH,
    )


def _diagnosis_pending(task: Mapping[str, Any]) -> bool:
    """A person's task whose diagnosis of the current generation has not finished (incident
    tasks are diagnosed once, when they are made, never for an approval's generation)."""
    labels = _map(meta(task).get("labels"))
    return labels.get(TRIGGER_LABEL) != AUTO and not is_settled(task)


def _patch_failure(exc: ApiException, target: Target) -> str:
    if exc.status == 403:
        return (
            f"the operator may not patch {WORKLOADS[target.kind]}: its rights come with "
            "k8s/components/actions (or the chart's actions.enabled)"
        )
    if exc.status == 404:
        return f"{target.kind} {target.name} was deleted"
    return f"the API server refused the patch ({exc.status}): {exc.reason}"


def _conditions(task: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = _map(task.get("status")).get("conditions")
    return [dict(c) for c in found if isinstance(c, Mapping)] if isinstance(found, list) else []


def _with_condition(task: Mapping[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    return [*(c for c in _conditions(task) if c.get("type") != new["type"]), new]


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


__all__ = ["ActionRunner", "Progress", "RetryLater"]
