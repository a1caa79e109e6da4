"""``highpeaks-agent run``: the Kopf operator and the HTTP server in one event loop.

Everything is built once here from one :class:`Settings`: logging (text or JSON), tracing
(when ``OTEL_*`` asks for it), the API client, the live source, the Flowise explainer, the
diagnosis service (shared by AgentTasks, incidents and /assist), the writers and the HTTP
app. Kopf owns the process signals; when it stops, the HTTP server stops after it, so a
SIGTERM from the kubelet ends both cleanly.

What only a configured feature uses is imported when that feature is configured: the Flowise
client and the notification sinks (both bring an HTTP client), and OpenTelemetry
(``tracing.py``). An operator with none of them starts lighter (README "Footprint").
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

import kopf
import uvicorn
from kubernetes import client
from pydantic import ValidationError

from highpeaks_agent import metrics
from highpeaks_agent.actions.executor import ActionRunner, ApiWorkloads
from highpeaks_agent.actions.gate import PolicyGate
from highpeaks_agent.alerts.intake import AlertIntake
from highpeaks_agent.controller.handlers import register
from highpeaks_agent.controller.incidents import IncidentMonitor
from highpeaks_agent.controller.kube import KubeWriter
from highpeaks_agent.controller.leadership import PeerId, new_peer_id
from highpeaks_agent.controller.resync import build_resync
from highpeaks_agent.controller.scope import NamespaceScope
from highpeaks_agent.controller.services import Services
from highpeaks_agent.controller.tasks import TaskRunner
from highpeaks_agent.flowise.grants import FlowGrants
from highpeaks_agent.http.alertmanager import alertmanager_router
from highpeaks_agent.http.app import create_app
from highpeaks_agent.http.auth import KubernetesAuth
from highpeaks_agent.kubeapi import make_api_client, request_json
from highpeaks_agent.logging_setup import configure_logging
from highpeaks_agent.readiness import Readiness
from highpeaks_agent.service import DiagnosisService, utcnow
from highpeaks_agent.settings import Settings
from highpeaks_agent.sources.live import LiveSource
from highpeaks_agent.sources.owners import LiveWorkloads
from highpeaks_agent.tracing import configure_tracing, instrument_app

if TYPE_CHECKING:
    from highpeaks_agent.flowise.bridge import FlowiseExplainer
    from highpeaks_agent.notify.actions import ActionNotifier
    from highpeaks_agent.notify.notifier import Notifier
    from highpeaks_agent.notify.sinks import Sink

log = logging.getLogger(__name__)


class _QuietSignalsServer(uvicorn.Server):
    """uvicorn without its own signal handlers: Kopf's handle SIGINT/SIGTERM for both."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build_sinks(settings: Settings) -> list[Sink]:
    """The notification sinks that are configured (none: an empty list)."""
    webhook_url = settings.notify_webhook_url.get_secret_value()
    slack_url = settings.notify_slack_webhook_url.get_secret_value()
    if not (webhook_url or slack_url):
        return []
    from highpeaks_agent.notify.sinks import slack_sink, webhook_sink

    sinks: list[Sink] = []
    if webhook_url:
        sinks.append(webhook_sink(webhook_url))
    if slack_url:
        sinks.append(slack_sink(slack_url))
    return sinks


def build_notifier(settings: Settings, kube: KubeWriter) -> Notifier | None:
    """The notification sinks that are configured; None when there is none."""
    sinks = build_sinks(settings)
    if not sinks:
        return None
    from highpeaks_agent.notify.notifier import Notifier

    log.info("IncidentNotes are also sent to: %s", ", ".join(s.name for s in sinks))
    return Notifier(
        sinks,
        kube,
        timeout_seconds=settings.notify_timeout_seconds,
        max_attempts=settings.notify_max_attempts,
        backoff_seconds=settings.notify_backoff_seconds,
        queue_size=settings.notify_queue_size,
    )


def build_actions(
    settings: Settings, api_client: client.ApiClient, kube: KubeWriter, live: LiveSource
) -> tuple[ActionRunner, ActionNotifier | None]:
    """The action runner (CONTRACT §10), and the sinks it tells when some are configured."""
    notifier: ActionNotifier | None = None
    sinks = build_sinks(settings)
    if sinks:
        from highpeaks_agent.notify.actions import ActionNotifier

        notifier = ActionNotifier(sinks, kube, timeout_seconds=settings.notify_timeout_seconds)

    async def read(path: str) -> dict[str, Any]:
        return await request_json(api_client, "GET", path)

    runner = ActionRunner(
        kube,
        ApiWorkloads(api_client),
        live,
        PolicyGate(read),
        notifier=notifier,
        thresholds=settings.thresholds,
        clock=utcnow,
    )
    return runner, notifier


def build_explainer(
    settings: Settings, flow_grants: FlowGrants | None = None
) -> FlowiseExplainer | None:
    """The Flowise explainer when Flowise is configured; None (rules only) otherwise. Its
    troubleshooting steps hold ``flow_grants``, which ``/mcp`` honours."""
    if not settings.flowise_enabled:
        return None
    from highpeaks_agent.flowise import bridge

    return bridge.build_explainer(settings, flow_grants)


def build_services(
    settings: Settings, api_client: client.ApiClient, peer: PeerId | None = None
) -> tuple[Services, Any]:
    """The shared services and the HTTP app, from one settings object."""
    live = LiveSource(
        api_client, log_tail_lines=settings.log_tail_lines, log_tail_bytes=settings.log_tail_bytes
    )
    grants = FlowGrants()  # one object: the flow issues from it, /mcp accepts from it
    explainer = build_explainer(settings, grants)
    service = DiagnosisService(
        live,
        thresholds=settings.thresholds,
        explainer=explainer,
        max_concurrency=settings.max_concurrent_diagnoses,
    )
    kube = KubeWriter(api_client)
    notifier = build_notifier(settings, kube)

    async def api_probe() -> None:
        await request_json(api_client, "GET", "/version", deadline=3)

    readiness = Readiness(api_probe=api_probe)
    scope = NamespaceScope(api_client, settings.watch_namespace_selector)
    incidents = IncidentMonitor(
        service,
        kube,
        debounce_seconds=settings.incident_debounce_seconds,
        flowise_configured=settings.flowise_enabled,
        notifier=notifier,
    )
    actions, action_notifier = build_actions(settings, api_client, kube, live)
    services = Services(
        tasks=TaskRunner(service, kube, flowise_configured=settings.flowise_enabled),
        actions=actions,
        action_notifier=action_notifier,
        incidents=incidents,
        readiness=readiness,
        scope=scope,
        resync=build_resync(settings, api_client, incidents, peer),
        grants=grants,
        explainer=explainer,
        notifier=notifier,
    )
    auth = (
        KubernetesAuth(api_client, cache_seconds=settings.auth_cache_seconds)
        if settings.auth_mode == "kubernetes"
        else None
    )
    alerts = AlertIntake(
        LiveWorkloads(api_client),
        kube,
        watch_namespaces=settings.watch_namespaces,
        selected=functools.partial(scope.allows, index=None)
        if settings.watch_namespace_selector
        else None,
        clock=utcnow,
    )
    app = create_app(settings, service, readiness, auth, live=live, grants=grants)
    metrics.READY.set_function(lambda: 1.0 if readiness.ready else 0.0)

    app.include_router(alertmanager_router(settings, alerts, auth))
    return services, app


class _StoppableServer:
    """Stops uvicorn and waits until it has stopped, its lifespan's shutdown included."""

    def __init__(self, server: uvicorn.Server, task: asyncio.Task[None]) -> None:
        self._server, self._task = server, task

    async def aclose(self) -> None:
        self._server.should_exit = True
        await asyncio.wait({self._task})  # its outcome is the caller of serve()'s to see


async def serve(settings: Settings) -> None:
    """Run until Kopf stops (SIGTERM/SIGINT), then stop the HTTP server."""
    tracer_provider = configure_tracing()
    api_client = make_api_client(request_timeout=settings.kube_request_timeout_seconds)
    peer = new_peer_id() if settings.peering else None
    services, app = build_services(settings, api_client, peer)
    instrument_app(app, tracer_provider)
    registry = kopf.OperatorRegistry()
    register(registry, settings)
    server = _QuietSignalsServer(
        uvicorn.Config(
            app,
            host="0.0.0.0",  # a pod's port: the Service and the kubelet's probes reach it
            port=settings.http_port,
            lifespan="on",  # the /mcp session manager runs in the app's lifespan
            log_config=None,
            access_log=settings.debug,
        )
    )
    http_task = asyncio.create_task(server.serve(), name="http")
    services.http = _StoppableServer(server, http_task)
    namespaces = settings.watch_namespaces
    try:
        await kopf.operator(
            registry=registry,
            memo=services,
            clusterwide=not namespaces,
            namespaces=namespaces,
            standalone=not settings.peering,
            peering_name=settings.peering or None,
            identity=cast(Any, peer.identity) if peer else None,
            priority=peer.priority if peer else None,
        )
    finally:
        services.readiness.mark_unready("shutting down")
        server.should_exit = True
        await http_task
        api_client.close()  # type: ignore[no-untyped-call]
        if tracer_provider is not None:
            await asyncio.to_thread(tracer_provider.shutdown)  # exports what is still batched


def run(port: int | None, namespaces: Sequence[str]) -> int:
    """Entry point of ``highpeaks-agent run``; flags override the environment."""
    overrides: dict[str, Any] = {}
    if port is not None:
        overrides["http_port"] = port
    if namespaces:
        overrides["watch_namespaces"] = list(namespaces)
    try:
        settings = Settings.from_environ(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        print(f"highpeaks-agent run: invalid settings: {problems}", file=sys.stderr)
        return 2
    configure_logging(settings.log_format, debug=settings.debug)
    if settings.auth_mode == "none":
        log.warning(
            "AUTH_MODE=none: /assist and /mcp answer anyone who can reach port %d",
            settings.http_port,
        )
    asyncio.run(serve(settings))
    return 0
