"""Kopf registrations only: each handler checks the event cheaply and hands it to a service.

The handlers are plain functions; :func:`register` puts them on a registry built per process
(not Kopf's global one), so what is watched follows the settings: the namespace-selector
index exists only when a selector is set. ``memo`` is the process's :class:`Services`. Pods
and the workloads that get incidents (Deployments, StatefulSets, DaemonSets, Jobs) are
watched with ``on.event`` — they are read, never annotated; only our own AgentTasks carry
Kopf's bookkeeping annotations.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import kopf

from highpeaks_agent.actions.executor import DiagnosisFirst
from highpeaks_agent.actions.executor import RetryLater as ActionRetry
from highpeaks_agent.actions.request import is_unfinished
from highpeaks_agent.controller.incident_kinds import BY_KIND, BY_PLURAL, INCIDENT_KINDS
from highpeaks_agent.controller.incidents import AUTO, is_resolved
from highpeaks_agent.controller.leadership import PEERING_LIFETIME
from highpeaks_agent.controller.services import Services
from highpeaks_agent.controller.tasks import TRIGGER_LABEL, RetryLater, is_settled
from highpeaks_agent.controller.watch_filters import (
    labels_filter,
    owning_workload,
    pod_needs_look,
)
from highpeaks_agent.engine.snapshot import controller_ref
from highpeaks_agent.settings import Settings

AGENTTASKS = ("devops.highpeaks.io", "v1alpha1", "agenttasks")
PREFIX = "devops.highpeaks.io"

#: (namespace, ReplicaSet) → the Deployment that owns it.
ReplicaSetOwners = kopf.Index[tuple[str, str], str]
#: (namespace, kind, workload) → present while one of its incident tasks is not resolved.
OpenIncidents = kopf.Index[tuple[str, str, str], bool]
#: Names of the namespaces matching ``WATCH_NAMESPACE_SELECTOR``.
SelectedNamespaces = kopf.Index[str, bool]


def register(registry: kopf.OperatorRegistry, settings: Settings) -> None:
    """Register every handler of the operator on ``registry``."""
    kopf.on.login(id="login", registry=registry)(login)
    kopf.on.startup(id="configure", registry=registry)(configure)
    kopf.on.cleanup(id="shutdown", registry=registry)(shutdown)
    if settings.watch_namespace_selector:
        labels = labels_filter(settings.watch_namespace_selector)
        kopf.index(
            "", "v1", "namespaces", id="selected_namespaces", labels=labels, registry=registry
        )(selected_namespaces)
    kopf.index("apps", "v1", "replicasets", id="replicaset_owners", registry=registry)(
        replicaset_owners
    )
    kopf.index(*AGENTTASKS, labels={TRIGGER_LABEL: AUTO}, id="open_incidents", registry=registry)(
        open_incidents
    )
    # Kopf passes the indices as extra keyword arguments, which its handler protocol cannot
    # name: the two event handlers that require them are typed here, not in that protocol.
    kopf.on.event("", "v1", "pods", id="pod_event", registry=registry)(
        pod_event  # type: ignore[arg-type]
    )
    for kind in INCIDENT_KINDS:
        kopf.on.event(
            kind.group, kind.version, kind.plural, id=f"{kind.plural}_event", registry=registry
        )(
            workload_event  # type: ignore[arg-type]
        )
    kopf.on.event(*AGENTTASKS, id="task_phase", registry=registry)(task_phase)
    # One id for resume and create: Kopf then runs a task that is both new and found at
    # start-up (created while the operator was down) once, not twice.
    kopf.on.resume(*AGENTTASKS, id="run_task", when=needs_answer, registry=registry)(run_task)
    kopf.on.create(*AGENTTASKS, id="run_task", when=needs_answer, registry=registry)(run_task)
    kopf.on.update(*AGENTTASKS, id="run_task", field="spec", when=needs_answer, registry=registry)(
        run_task
    )
    # After run_task (Kopf runs one object's handlers in order): the diagnosis first. The
    # timer is the resync of actions a fault cut off; Kopf runs both on the active replica only.
    kopf.on.resume(*AGENTTASKS, id="run_action", when=action_unfinished, registry=registry)(
        run_action
    )
    kopf.on.create(*AGENTTASKS, id="run_action", when=action_unfinished, registry=registry)(
        run_action
    )
    kopf.on.update(
        *AGENTTASKS, id="run_action", field="spec", when=action_unfinished, registry=registry
    )(run_action)
    kopf.timer(
        *AGENTTASKS,
        id="finish_action",
        interval=settings.resync_seconds,
        when=action_unfinished,
        registry=registry,
    )(finish_action)


def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    """In-cluster service account, else KUBECONFIG, exactly as kubectl finds the cluster."""
    return kopf.login_via_client(**kwargs)


async def configure(*, settings: kopf.OperatorSettings, memo: Services, **_: Any) -> None:
    """Keep Kopf's bookkeeping in our own annotations and out of ``kubectl describe``."""
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=PREFIX, key="last-handled-configuration"
    )
    settings.persistence.finalizer = f"{PREFIX}/finalizer"
    settings.posting.level = logging.WARNING  # our own Events say what happened
    # Kopf keeps a worker per watched object until it has been idle this long (default 5 s).
    # With 10,000 pods arriving at once (an operator start) short-lived workers keep peak
    # memory down: 133 MB instead of 181 MB in benchmarks/operator_bench.py.
    settings.batching.idle_timeout = 0.5
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    # With PEERING, a killed replica's standby takes over after this many seconds.
    settings.peering.lifetime = PEERING_LIFETIME
    memo.readiness.mark_ready()
    memo.resync.start()  # the periodic resync (CONTRACT §6) lives as long as the operator


async def shutdown(*, memo: Services, **_: Any) -> None:
    await memo.close()


def selected_namespaces(*, name: str, **_: Any) -> dict[str, bool]:
    """Namespaces matching ``WATCH_NAMESPACE_SELECTOR``. An index, because Kopf fills every
    index before any handler runs: no task is judged before its namespace is."""
    return {name: True}


def replicaset_owners(
    *, namespace: str | None, name: str, body: kopf.Body, **_: Any
) -> dict[tuple[str, str], str]:
    """(namespace, ReplicaSet) → its Deployment, so a pod event finds its rollout."""
    ref = controller_ref(body) or {}
    if namespace is None or ref.get("kind") != "Deployment":
        return {}  # not None: an empty result also drops what this ReplicaSet had indexed
    return {(namespace, name): str(ref.get("name", ""))}


def open_incidents(
    *, namespace: str | None, body: kopf.Body, **_: Any
) -> dict[tuple[str, str, str], bool]:
    """(namespace, kind, workload) of incident tasks not yet resolved, rebuilt on every start."""
    if namespace is None or is_resolved(body):
        return {}  # not None, which would keep a resolved incident in the index
    owners = body.get("metadata", {}).get("ownerReferences") or []
    return {
        (namespace, str(r.get("kind")), str(r.get("name"))): True
        for r in owners
        if r.get("kind") in BY_KIND
    }


async def pod_event(
    *,
    type: str | None,
    body: kopf.Body,
    namespace: str | None,
    memo: Services,
    replicaset_owners: ReplicaSetOwners,
    open_incidents: OpenIncidents,
    selected_namespaces: SelectedNamespaces | None = None,
    **_: Any,
) -> None:
    """Poke the pod's workload when the pod may fail it, or while it has an open incident."""
    if namespace is None or not memo.scope.known(namespace, selected_namespaces):
        return
    owner = owning_workload(body, functools.partial(_owner, replicaset_owners))
    if owner is None:
        return
    kind, name = owner
    looks_bad = type != "DELETED" and pod_needs_look(body)
    if looks_bad or (namespace, kind, name) in open_incidents:
        memo.incidents.poke(namespace, name, kind)


def _owner(owners: ReplicaSetOwners, namespace: str, replicaset: str) -> str | None:
    return next(iter(owners.get((namespace, replicaset), ())), None)


async def workload_event(
    *,
    type: str | None,
    body: kopf.Body,
    name: str,
    namespace: str | None,
    resource: kopf.Resource,
    memo: Services,
    open_incidents: OpenIncidents,
    selected_namespaces: SelectedNamespaces | None = None,
    **_: Any,
) -> None:
    """Poke a workload whose controller reports trouble, or that has an open incident."""
    kind = BY_PLURAL.get(resource.plural)
    if namespace is None or type == "DELETED" or kind is None:
        return
    if not memo.scope.known(namespace, selected_namespaces):
        return
    if kind.needs_look(body) or (namespace, kind.kind, name) in open_incidents:
        memo.incidents.poke(namespace, name, kind.kind)


async def task_phase(
    *,
    type: str | None,
    body: kopf.Body,
    status: kopf.Status,
    name: str,
    namespace: str | None,
    memo: Services,
    **_: Any,
) -> None:
    """Keep the AgentTasks-by-phase and open-incidents gauges equal to the cluster."""
    memo.phases.observe(namespace or "", name, status.get("phase"), deleted=type == "DELETED")
    memo.open_incidents.observe(namespace or "", name, body, deleted=type == "DELETED")


def needs_answer(*, labels: kopf.Labels, body: kopf.Body, **_: Any) -> bool:
    """A person's task (not an incident's) whose status does not answer its current spec yet.

    So a resume after a restart, or a create event delivered late, of a task that is already
    Succeeded or Failed for its generation does not diagnose it again.
    """
    return labels.get(TRIGGER_LABEL) != AUTO and not is_settled(body)


async def run_task(
    *,
    body: kopf.Body,
    namespace: str | None,
    memo: Services,
    selected_namespaces: SelectedNamespaces | None = None,
    **_: Any,
) -> None:
    """Diagnose the task's target and write its status; API errors become Kopf retries."""
    if not await memo.scope.allows(namespace, selected_namespaces):
        return
    try:
        await memo.tasks.run(body)
    except RetryLater as exc:
        raise kopf.TemporaryError(str(exc), delay=10) from exc


def action_unfinished(*, body: kopf.Body, **_: Any) -> bool:
    """The task asks for an action (spec.action or spec.approval) not finished yet."""
    return is_unfinished(body)


async def run_action(
    *,
    body: kopf.Body,
    namespace: str | None,
    memo: Services,
    selected_namespaces: SelectedNamespaces | None = None,
    **_: Any,
) -> None:
    """Refuse, or run and record, the action the task asks for; API errors become retries."""
    if memo.actions is None or not await memo.scope.allows(namespace, selected_namespaces):
        return
    try:
        await memo.actions.run(body)
    except DiagnosisFirst as exc:
        raise kopf.TemporaryError(str(exc), delay=2) from exc
    except ActionRetry as exc:
        raise kopf.TemporaryError(str(exc), delay=5) from exc


async def finish_action(
    *,
    body: kopf.Body,
    namespace: str | None,
    memo: Services,
    selected_namespaces: SelectedNamespaces | None = None,
    **_: Any,
) -> None:
    """The resync: carry on an action a fault cut off (the next tick retries a failure)."""
    if memo.actions is None or not await memo.scope.allows(namespace, selected_namespaces):
        return
    try:
        await memo.actions.run(body)
    except DiagnosisFirst:
        return  # the change handlers run the action once the diagnosis is written
    except ActionRetry as exc:
        logging.getLogger(__name__).warning(
            "action of %s not finished yet: %s", body.get("metadata", {}).get("name"), exc
        )


__all__ = ["register"]
