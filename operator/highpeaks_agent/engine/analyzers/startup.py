"""Start-up: containers the runtime cannot start, init containers that fail, pods stuck starting."""

from __future__ import annotations

from highpeaks_agent.engine import catalogue, classify
from highpeaks_agent.engine.analyzers.context import ContainerContext, PodContext, as_mapping
from highpeaks_agent.engine.model import Finding
from highpeaks_agent.engine.snapshot import meta

_START_CODES = (catalogue.START_ERROR, catalogue.START_SECURITY_CONTEXT)
_START_REASONS = classify.waiting_reasons(*_START_CODES)
_START_TERMINATIONS = classify.terminated_reasons(*_START_CODES)
_HOOK_REASONS = classify.waiting_reasons(catalogue.START_HOOK)
_HOOK_TERMINATIONS = classify.terminated_reasons(catalogue.START_HOOK)
_INIT_REASONS = classify.waiting_reasons(catalogue.INIT_CONTAINER_FAILING)
_STARTING = classify.waiting_reasons(catalogue.START_ERROR, when=classify.When.PENDING)

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
    reason_code = catalogue.START_ERROR
    if container.reason in _START_REASONS:
        message = container.message
        reason_code = classify.WAITING_REASONS[str(container.reason)].code or reason_code
    elif container.current.get("reason") in _START_TERMINATIONS or (
        container.crash_looping and container.terminated.get("reason") in _START_TERMINATIONS
    ):
        message = container.exit_message
    else:
        return None
    code = classify.start_error_code(message)
    if code == catalogue.START_EXEC_FORMAT:
        return _exec_format_finding(container, message)
    if code == catalogue.START_ERROR:
        code = reason_code  # the reason itself may say more (VerifyNonRootError)
    pod = container.pod
    hint = _START_HINTS.get(
        code, f"Read the runtime's message: `kubectl describe pod {pod.name} -n {pod.namespace}`."
    )
    return container.finding(
        code, f"{container.label} cannot start", detail=message, evidence=[message], suggestion=hint
    )


def hook_failing(container: ContainerContext) -> Finding | None:
    """A lifecycle hook failed: at once, since the kubelet kills the container for it."""
    if container.reason in _HOOK_REASONS:
        messages = [container.message or str(container.reason)]
    elif container.is_running:
        return None  # the kubelet runs a container only once its postStart hook succeeded
    elif container.terminated.get("reason") in _HOOK_TERMINATIONS:
        messages = [container.exit_message or str(container.terminated.get("reason"))]
    elif not (messages := _hook_events(container)):
        return None
    pod = container.pod
    return container.finding(
        catalogue.START_HOOK,
        f"{container.label}: a lifecycle hook fails",
        detail=messages[-1],
        evidence=messages[-2:],
        suggestion="Run the hook's command in the image by hand "
        f"(`kubectl describe pod {pod.name} -n {pod.namespace}` shows it): a missing binary or a "
        "hook that exits non-zero or times out makes the kubelet kill the container.",
    )


def _hook_events(container: ContainerContext) -> list[str]:
    """FailedPostStartHook events naming this container; FailedPreStopHook ones only when no
    probe killed it (a probe-killed container runs its preStop hook as a consequence)."""
    pod = container.pod
    found = pod.event_messages("FailedPostStartHook")
    probe_kills = pod.event_messages("Killing", "probe")
    if not probe_kills:
        found += pod.event_messages("FailedPreStopHook")
    named = f'ontainer "{container.name}"'
    return [m for m in found if named in m or 'ontainer "' not in m]


def exec_format_error(container: ContainerContext) -> Finding | None:
    """ "exec format error" in the termination message, the log or a start event: at once,
    since no restart changes the image's architecture."""
    if container.is_running:
        return None  # an entrypoint the kernel refuses never runs
    if not (container.restarts or container.current) and (
        not container.reason or container.reason in _STARTING
    ):
        return None  # never started yet: nothing has been executed
    starts = container.pod.event_messages("Failed", "exec format error")
    texts = [container.message, container.exit_message, *container.logs, *starts]
    message = next((t for t in texts if classify.is_exec_format_error(t)), None)
    return None if message is None else _exec_format_finding(container, message)


def _exec_format_finding(container: ContainerContext, message: str) -> Finding:
    arch = _node_architecture(container.pod)
    node_name = container.pod.spec.get("nodeName") or "its node"
    arch_line = f"node {node_name}: kubernetes.io/arch={arch}" if arch else ""
    return container.finding(
        catalogue.START_EXEC_FORMAT,
        f"{container.label} cannot execute its entrypoint (exec format error)",
        detail=message,
        evidence=[message, arch_line, container.exit_line],
        suggestion=f"The image {container.image} has no build for "
        + (f"{arch} (the architecture of node {node_name})" if arch else "the node's architecture")
        + ", or its entrypoint is a script without a #! line: publish a multi-arch image "
        "(`docker buildx build --platform linux/amd64,linux/arm64`) or pin the pod to matching "
        "nodes with a nodeSelector on kubernetes.io/arch.",
    )


def _node_architecture(pod: PodContext) -> str | None:
    """The CPU architecture of the pod's node: its label, else what its kubelet reports."""
    node = pod.node
    if node is None:
        return None
    labels = as_mapping(meta(node).get("labels"))
    node_info = as_mapping(as_mapping(node.get("status")).get("nodeInfo"))
    arch = (
        labels.get("kubernetes.io/arch")
        or labels.get("beta.kubernetes.io/arch")
        or node_info.get("architecture")
    )
    return str(arch) if arch else None


def init_container_failing(container: ContainerContext) -> Finding | None:
    """An init container that keeps failing, so the pod's containers never start."""
    if not container.is_init:
        return None
    if not (container.crash_looping or container.reason in _INIT_REASONS):
        return None
    pod = container.pod
    return container.finding(
        catalogue.INIT_CONTAINER_FAILING,
        f"{container.label} fails (exit code {container.exit_code}), so the pod never starts",
        detail=container.exit_message or container.message,
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
    waiting = pod.waiting_lines()
    detail = (sandbox or waiting or [f"Phase Pending for {pod.age_minutes} minutes."])[-1]
    return [
        pod.finding(
            catalogue.START_ERROR,
            f"Pod {pod.name} has been starting for {pod.age_minutes} minutes",
            detail=detail,
            evidence=[*sandbox[-1:], *waiting] or [detail],
            suggestion=f"Read the pod's events: `kubectl describe pod {pod.name} -n {pod.namespace}`"
            + (" (the container runtime or CNI failed to create the sandbox)." if sandbox else "."),
        )
    ]
