"""Probes: the kubelet restarts a container, or keeps it out of service, because a probe fails."""

from __future__ import annotations

from typing import Any

from highpeaks_agent.engine import catalogue
from highpeaks_agent.engine.analyzers.context import ContainerContext, as_mapping
from highpeaks_agent.engine.model import Finding

_LONGER_START = " Raise failureThreshold × periodSeconds if the app needs longer to start."


def liveness_probe_failing(container: ContainerContext) -> Finding | None:
    """Crash-looping because the kubelet kills it when its liveness probe fails."""
    if not container.crash_looping or container.is_init:
        return None
    failed = container.pod.event_messages("Unhealthy", "Liveness probe failed")
    killed = container.pod.event_messages("Killing", "liveness probe")
    if not (failed or killed):
        return None
    return container.finding(
        catalogue.LIVENESS_PROBE_FAILING,
        f"{container.label} is restarted because its liveness probe fails",
        detail=(failed or killed)[-1],
        evidence=[*(failed[-2:] or killed[-1:]), container.exit_line, *container.logs],
        suggestion=_probe_hint(container.spec.get("livenessProbe")),
    )


def startup_probe_restarts(container: ContainerContext) -> Finding | None:
    """Crash-looping because the startup probe keeps failing until the kubelet restarts it."""
    if not container.crash_looping or container.is_init:
        return None
    failed = container.pod.event_messages("Unhealthy", "Startup probe failed")
    if not failed:
        return None
    return container.finding(
        catalogue.STARTUP_PROBE_FAILING,
        f"{container.label} never passes its startup probe",
        detail=failed[-1],
        evidence=[failed[-1], container.exit_line, *container.logs],
        suggestion=_probe_hint(container.spec.get("startupProbe")) + _LONGER_START,
    )


def startup_probe_pending(container: ContainerContext) -> Finding | None:
    """Running but not started past the threshold, its startup probe failing."""
    if not container.not_ready_too_long or container.status.get("started") is True:
        return None
    failed = container.pod.event_messages("Unhealthy", "Startup probe failed")
    if not failed:
        return None
    return container.finding(
        catalogue.STARTUP_PROBE_FAILING,
        f"{container.label} never passes its startup probe",
        detail=failed[-1],
        evidence=failed[-2:],
        suggestion=_probe_hint(container.spec.get("startupProbe")),
    )


def readiness_probe_failing(container: ContainerContext) -> Finding | None:
    """Running but not Ready past the threshold."""
    if not container.not_ready_too_long:
        return None
    failed = container.pod.event_messages("Unhealthy", "Readiness probe failed")
    return container.finding(
        catalogue.READINESS_PROBE_FAILING,
        f"{container.label} runs but never becomes Ready",
        detail=failed[-1] if failed else "The container is running but not Ready.",
        evidence=[*failed[-2:], *container.logs],
        suggestion=_probe_hint(container.spec.get("readinessProbe")),
    )


def _probe_hint(probe: Any) -> str:
    """What the probe asks for and its timing, to check against the app."""
    probe = as_mapping(probe)
    http = as_mapping(probe.get("httpGet"))
    if http:
        target = f"HTTP GET {http.get('path', '/')} on port {http.get('port')}"
    elif probe.get("tcpSocket"):
        target = f"TCP port {as_mapping(probe.get('tcpSocket')).get('port')}"
    elif probe.get("exec"):
        target = "the exec command"
    else:
        target = "the probe"
    return (
        f"Check that {target} answers in time (timeoutSeconds "
        f"{probe.get('timeoutSeconds', 1)}, initialDelaySeconds "
        f"{probe.get('initialDelaySeconds', 0)}) and that the app listens where the probe asks."
    )
