"""Kopf registrations only: each handler checks the event cheaply and hands it to a service.

Registered on a registry built per process (not Kopf's global one), so what is watched
follows the settings: the namespace-selector index exists only when a selector is set.
Pods and Deployments are watched with ``on.event`` — they are read, never annotated; only
our own AgentTasks carry Kopf's bookkeeping annotations.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from highpeaks_agent.controller.incidents import AUTO, is_resolved
from highpeaks_agent.controller.leadership import PEERING_LIFETIME
from highpeaks_agent.controller.runtime import Services
from highpeaks_agent.controller.tasks import TRIGGER_LABEL, RetryLater
from highpeaks_agent.controller.watch_filters import (
    deployment_needs_look,
    labels_filter,
    owning_deployment,
    pod_needs_look,
)
from highpeaks_agent.engine.snapshot import controller_ref
from highpeaks_agent.settings import Settings

AGENTTASKS = ("devops.highpeaks.io", "v1alpha1", "agenttasks")
PREFIX = "devops.highpeaks.io"


def _first(index: Any, key: Any) -> Any:
    values = index.get(key) if index is not None else None
    return next(iter(values), None) if values else None


def register(registry: kopf.OperatorRegistry, settings: Settings) -> None:
    """Register every handler of the operator on ``registry``."""
    selector = settings.watch_namespace_selector

    def watched(namespace: str | None, memo: Any, kwargs: dict[str, Any]) -> bool:
        return bool(memo.services.scope.known(namespace, kwargs.get("selected_namespaces")))

    @kopf.on.startup(id="configure", registry=registry)
    async def configure(*, settings: kopf.OperatorSettings, memo: Any, **_: Any) -> None:
        """Keep Kopf's bookkeeping in our own annotations and out of ``kubectl describe``."""
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=PREFIX)
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
            prefix=PREFIX, key="last-handled-configuration"
        )
        settings.persistence.finalizer = f"{PREFIX}/finalizer"
        settings.posting.level = logging.WARNING  # our own Events say what happened
        # Kopf keeps a worker per watched object until it has been idle this long (default
        # 5 s). With 10,000 pods arriving at once (an operator start) short-lived workers keep
        # peak memory down: 133 MB instead of 181 MB in benchmarks/operator_bench.py.
        settings.batching.idle_timeout = 0.5
        settings.watching.server_timeout = 300
        settings.watching.client_timeout = 330
        memo.services.readiness.mark_ready()

    @kopf.on.cleanup(id="shutdown", registry=registry)
    async def shutdown(*, memo: Any, **_: Any) -> None:
        await memo.services.incidents.close()

    if selector:

        @kopf.index(
            "",
            "v1",
            "namespaces",
            id="selected_namespaces",
            labels=labels_filter(selector),
            registry=registry,
        )
        def selected_namespaces(*, name: str, **_: Any) -> Any:
            """Namespaces matching ``WATCH_NAMESPACE_SELECTOR``. An index, because Kopf fills
            every index before any handler runs: no task is judged before its namespace is."""
            return {name: True}

    @kopf.index("apps", "v1", "replicasets", id="replicaset_owners", registry=registry)
    def replicaset_owners(*, namespace: str | None, name: str, body: kopf.Body, **_: Any) -> Any:
        """(namespace, ReplicaSet) → its Deployment, so a pod event finds its rollout."""
        ref = controller_ref(body) or {}
        if ref.get("kind") != "Deployment":
            return None
        return {(namespace, name): ref.get("name")}

    @kopf.index(*AGENTTASKS, labels={TRIGGER_LABEL: AUTO}, id="open_incidents", registry=registry)
    def open_incidents(*, namespace: str | None, body: kopf.Body, **_: Any) -> Any:
        """(namespace, Deployment) of incident tasks not yet resolved, rebuilt on every start."""
        if is_resolved(body):
            return None
        owners = [r for r in body.get("metadata", {}).get("ownerReferences") or []]
        names = [r.get("name") for r in owners if r.get("kind") == "Deployment"]
        return {(namespace, n): True for n in names}

    @kopf.on.event("", "v1", "pods", id="pod_event", registry=registry)
    async def pod_event(
        *, body: kopf.Body, namespace: str | None, memo: Any, **kwargs: Any
    ) -> None:
        replicaset_owners, open_incidents = kwargs["replicaset_owners"], kwargs["open_incidents"]
        if namespace is None or not watched(namespace, memo, kwargs):
            return
        deployment = owning_deployment(body, lambda ns, rs: _first(replicaset_owners, (ns, rs)))
        if deployment is None:
            return
        deleted = kwargs.get("type") == "DELETED"
        if (not deleted and pod_needs_look(body)) or (namespace, deployment) in open_incidents:
            memo.services.incidents.poke(namespace, deployment)

    @kopf.on.event("apps", "v1", "deployments", id="deployment_event", registry=registry)
    async def deployment_event(
        *, body: kopf.Body, name: str, namespace: str | None, memo: Any, **kwargs: Any
    ) -> None:
        open_incidents = kwargs["open_incidents"]
        if namespace is None or kwargs.get("type") == "DELETED":
            return
        if not watched(namespace, memo, kwargs):
            return
        if deployment_needs_look(body) or (namespace, name) in open_incidents:
            memo.services.incidents.poke(namespace, name)

    @kopf.on.event(*AGENTTASKS, id="task_phase", registry=registry)
    async def task_phase(
        *, body: kopf.Body, name: str, namespace: str | None, memo: Any, **kwargs: Any
    ) -> None:
        """Keep the AgentTasks-by-phase gauge equal to the cluster."""
        phase = (body.get("status") or {}).get("phase")
        deleted = kwargs.get("type") == "DELETED"
        memo.services.phases.observe(namespace or "", name, phase, deleted=deleted)

    def user_task(*, labels: Any, **_: Any) -> bool:
        return bool(labels.get(TRIGGER_LABEL) != AUTO)

    @kopf.on.create(*AGENTTASKS, id="run_task", when=user_task, registry=registry)
    @kopf.on.update(*AGENTTASKS, id="rerun_task", field="spec", when=user_task, registry=registry)
    async def run_task(*, body: kopf.Body, namespace: str | None, memo: Any, **kwargs: Any) -> None:
        """Diagnose the task's target and write its status (retried on API errors)."""
        await _task(memo.services, body, namespace, kwargs, resume=False)

    @kopf.on.resume(*AGENTTASKS, id="resume_task", when=user_task, registry=registry)
    async def resume_task(
        *, body: kopf.Body, namespace: str | None, memo: Any, **kwargs: Any
    ) -> None:
        """After a restart, finish only tasks whose status does not answer their spec."""
        await _task(memo.services, body, namespace, kwargs, resume=True)

    _register_resync(registry)


def _register_resync(registry: kopf.OperatorRegistry) -> None:
    """The periodic resync (CONTRACT §6) lives as long as the operator."""

    @kopf.on.startup(id="start_resync", registry=registry)
    async def start_resync(*, settings: kopf.OperatorSettings, memo: Any, **_: Any) -> None:
        # With PEERING, a killed replica's standby takes over after this many seconds.
        settings.peering.lifetime = PEERING_LIFETIME
        memo.services.resync.start()

    @kopf.on.cleanup(id="stop_resync", registry=registry)
    async def stop_resync(*, memo: Any, **_: Any) -> None:
        await memo.services.resync.stop()


async def _task(
    services: Services,
    body: kopf.Body,
    namespace: str | None,
    kwargs: dict[str, Any],
    *,
    resume: bool,
) -> None:
    """Run (or resume) a task in a served namespace; API errors become Kopf retries."""
    if not await services.scope.allows(namespace, kwargs.get("selected_namespaces")):
        return
    try:
        if resume:
            await services.tasks.resume(body)
        else:
            await services.tasks.run(body)
    except RetryLater as exc:
        raise kopf.TemporaryError(str(exc), delay=10) from exc


__all__ = ["register"]
