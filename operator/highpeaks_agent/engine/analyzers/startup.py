"""Start-up: containers the runtime cannot start, init containers that fail, pods stuck starting."""

from __future__ import annotations

from highpeaks_agent.engine import catalogue, classify
from highpeaks_agent.engine.analyzers.context import ContainerContext, PodContext
from highpeaks_agent.engine.model import Finding

_START_REASONS = frozenset(
    {"CreateContainerError", "RunContainerError", "StartError", "ContainerCannotRun"}
)
_START_TERMINATIONS = frozenset({"StartError", "ContainerCannotRun"})

_START_HINTS = {
    catalogue.START_COMMAND_NOT_FOUND: "The command or entrypoint does not exist in the image: "
    "check `command`/`args` against the image's contents (a distroless image has no shell).",
    catalogue.START_SECURITY_CONTEXT: "The security context cannot be satisfied by this image: "
    "set runAsUser to a non-root UID the image supports, or fix file permissions.",
}


def cannot_start(container: ContainerContext) -> Finding | None:
    """The runtime failed to create or start the container, refined by its message.

    Seen as a waiting reason, as the current termination, or as the termination a crash loop
    repeats.
    """
    if container.reason in _START_REASONS:
        message = container.message
    elif container.current.get("reason") == "StartError" or (
        container.crash_looping and container.terminated.get("reason") in _START_TERMINATIONS
    ):
        message = container.exit_message
    else:
        return None
    code = classify.start_error_code(message)
    pod = container.pod
    hint = _START_HINTS.get(
        code, f"Read the runtime's message: `kubectl describe pod {pod.name} -n {pod.namespace}`."
    )
    return container.finding(
        code, f"{container.label} cannot start", detail=message, evidence=[message], suggestion=hint
    )


def init_container_failing(container: ContainerContext) -> Finding | None:
    """An init container that keeps failing, so the pod's containers never start."""
    if not (container.is_init and container.crash_looping):
        return None
    pod = container.pod
    return container.finding(
        catalogue.INIT_CONTAINER_FAILING,
        f"{container.label} fails (exit code {container.exit_code}), so the pod never starts",
        detail=container.exit_message,
        evidence=container.crash_evidence,
        suggestion=f"Read its log: `kubectl logs {pod.name} -n {pod.namespace} -c {container.name} "
        "--previous`.",
    )


def volume_mount_failure(pod: PodContext) -> list[Finding]:
    """Pending past the threshold with FailedMount or FailedAttachVolume events."""
    if not pod.pending_too_long:
        return []
    mounts = pod.event_messages("FailedMount") + pod.event_messages("FailedAttachVolume")
    if not mounts:
        return []
    return [
        pod.finding(
            catalogue.VOLUME_MOUNT_FAILURE,
            f"Pod {pod.name} cannot mount a volume",
            detail=mounts[-1],
            evidence=mounts[-2:],
            suggestion="Check that the referenced Secret/ConfigMap/PVC exists and the "
            f"volume can attach to node {pod.spec.get('nodeName') or '(unassigned)'}.",
        )
    ]


def stuck_starting(pod: PodContext) -> list[Finding]:
    """Pending past the threshold with no more specific cause; a failed sandbox if one shows."""
    if not pod.pending_too_long:
        return []
    sandbox = pod.event_messages("FailedCreatePodSandBox") + pod.event_messages("FailedKillPod")
    detail = sandbox[-1] if sandbox else f"Phase Pending for {pod.age_minutes} minutes."
    return [
        pod.finding(
            catalogue.START_ERROR,
            f"Pod {pod.name} has been starting for {pod.age_minutes} minutes",
            detail=detail,
            evidence=[detail],
            suggestion=f"Read the pod's events: `kubectl describe pod {pod.name} -n {pod.namespace}`"
            + (" (the container runtime or CNI failed to create the sandbox)." if sandbox else "."),
        )
    ]
