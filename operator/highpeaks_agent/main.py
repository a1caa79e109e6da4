"""``highpeaks-agent run``: the Kopf operator and the HTTP server in one event loop.

Everything is built once here from one :class:`Settings`: the API client, the live source,
the Flowise explainer, the diagnosis service (shared by AgentTasks, incidents and /assist),
the writers and the HTTP app. Kopf owns the process signals; when it stops, the HTTP server
stops after it, so a SIGTERM from the kubelet ends both cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Iterator, Sequence
from typing import Any, cast

import kopf
import uvicorn
from kubernetes import client
from pydantic import ValidationError

from highpeaks_agent.controller.handlers import register
from highpeaks_agent.controller.incidents import IncidentMonitor
from highpeaks_agent.controller.kube import KubeWriter
from highpeaks_agent.controller.leadership import PeerId, new_peer_id
from highpeaks_agent.controller.resync import build_resync
from highpeaks_agent.controller.runtime import Services
from highpeaks_agent.controller.scope import NamespaceScope
from highpeaks_agent.controller.tasks import TaskRunner
from highpeaks_agent.flowise.bridge import build_explainer
from highpeaks_agent.http.app import create_app
from highpeaks_agent.http.auth import KubernetesAuth
from highpeaks_agent.runtime import Readiness
from highpeaks_agent.service import DiagnosisService
from highpeaks_agent.settings import Settings
from highpeaks_agent.sources.kubeclient import make_api_client
from highpeaks_agent.sources.live import LiveSource

log = logging.getLogger(__name__)


class _QuietSignalsServer(uvicorn.Server):
    """uvicorn without its own signal handlers: Kopf's handle SIGINT/SIGTERM for both."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def configure_logging(debug: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not debug:  # the kubernetes client logs every request body at DEBUG
        logging.getLogger("kubernetes").setLevel(logging.WARNING)
        logging.getLogger("uvicorn.access").setLevel(logging.WARNING)


def build_services(
    settings: Settings, api_client: client.ApiClient, peer: PeerId | None = None
) -> tuple[Services, Any]:
    """The shared services and the HTTP app, from one settings object."""
    live = LiveSource(
        api_client, log_tail_lines=settings.log_tail_lines, log_tail_bytes=settings.log_tail_bytes
    )
    service = DiagnosisService(
        live,
        thresholds=settings.thresholds,
        explainer=build_explainer(settings),
        max_concurrency=settings.max_concurrent_diagnoses,
    )
    kube = KubeWriter(api_client)
    version_api = client.VersionApi(api_client)

    async def api_probe() -> None:
        await asyncio.to_thread(version_api.get_code, _request_timeout=3)

    readiness = Readiness(api_probe=api_probe)
    incidents = IncidentMonitor(
        service,
        kube,
        debounce_seconds=settings.incident_debounce_seconds,
        flowise_configured=settings.flowise_enabled,
    )
    services = Services(
        tasks=TaskRunner(service, kube, flowise_configured=settings.flowise_enabled),
        incidents=incidents,
        readiness=readiness,
        scope=NamespaceScope(api_client, settings.watch_namespace_selector),
        resync=build_resync(settings, api_client, incidents, peer),
    )
    auth = (
        KubernetesAuth(api_client, cache_seconds=settings.auth_cache_seconds)
        if settings.auth_mode == "kubernetes"
        else None
    )
    app = create_app(settings, service, readiness, auth)
    return services, app


async def serve(settings: Settings) -> None:
    """Run until Kopf stops (SIGTERM/SIGINT), then stop the HTTP server."""
    api_client = make_api_client()
    peer = new_peer_id() if settings.peering else None
    services, app = build_services(settings, api_client, peer)
    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> Any:
        """In-cluster service account, else KUBECONFIG, exactly as kubectl finds the cluster."""
        return kopf.login_via_client(**kwargs)

    register(registry, settings)
    server = _QuietSignalsServer(
        uvicorn.Config(
            app,
            host="0.0.0.0",  # a pod's port: the Service and the kubelet's probes reach it
            port=settings.http_port,
            lifespan="off",
            log_config=None,
            access_log=settings.debug,
        )
    )
    http_task = asyncio.create_task(server.serve(), name="http")
    namespaces = settings.watch_namespaces
    try:
        await kopf.operator(
            registry=registry,
            memo=kopf.Memo(services=services),
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


def run(port: int | None, namespaces: Sequence[str]) -> int:
    """Entry point of ``highpeaks-agent run``; flags override the environment."""
    overrides: dict[str, Any] = {}
    if port is not None:
        overrides["http_port"] = port
    if namespaces:
        overrides["watch_namespaces"] = list(namespaces)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        print(f"highpeaks-agent run: invalid settings: {problems}", file=sys.stderr)
        return 2
    configure_logging(settings.debug)
    if settings.auth_mode == "none":
        log.warning(
            "AUTH_MODE=none: /assist answers anyone who can reach port %d", settings.http_port
        )
    asyncio.run(serve(settings))
    return 0
