"""Pod-level causes: containers that crash, cannot start, cannot pull, or never get ready.

Each function looks at one pod (its status, its events, its logs) and returns findings.
Thresholds decide when a symptom is a failure; "now" is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cached_property
from typing import Any

from highpeaks_agent.engine import classify, codes
from highpeaks_agent.engine.analyzers import hints
from highpeaks_agent.engine.findings import default_severity, pod_ref
from highpeaks_agent.engine.logs import key_lines
from highpeaks_agent.engine.model import Finding
from highpeaks_agent.engine.snapshot import Snapshot, meta
from highpeaks_agent.engine.thresholds import Thresholds
from highpeaks_agent.engine.timeutil import age_seconds

_PULL_REASONS = {"ErrImagePull", "ImagePullBackOff"}
_START_REASONS = {"CreateContainerError", "RunContainerError", "StartError", "ContainerCannotRun"}
_SLOW_START_REASONS = {"ContainerCreating", "PodInitializing"}


class PodContext:
    """One pod with what the analyzers need about it, computed once."""

    def __init__(self, pod: Mapping[str, Any], snapshot: Snapshot, now: datetime) -> None:
        md = meta(pod)
        self.pod = pod
        self.name = str(md.get("name"))
        self.namespace = md.get("namespace") if isinstance(md.get("namespace"), str) else None
        self.now = now
        status = pod.get("status")
        self.status: Mapping[str, Any] = status if isinstance(status, Mapping) else {}
        spec = pod.get("spec")
        self.spec: Mapping[str, Any] = spec if isinstance(spec, Mapping) else {}
        self.snapshot = snapshot
        started = self.status.get("startTime") or md.get("creationTimestamp")
        self.age = age_seconds(started, now)

    @cached_property
    def events(self) -> list[dict[str, Any]]:
        """This pod's events, read only when an analyzer needs them (most pods are healthy)."""
        return self.snapshot.events_for(self.pod)

    @property
    def ref(self) -> Any:
        return pod_ref(self.name, self.namespace)

    def event_messages(self, reason: str, contains: str = "") -> list[str]:
        """Messages of this pod's events with that reason (newest last)."""
        found = []
        for event in self.events:
            message = event.get("message")
            if event.get("reason") == reason and isinstance(message, str) and contains in message:
                found.append(message)
        return found

    def container_spec(self, name: str) -> Mapping[str, Any]:
        for key in ("containers", "initContainers"):
            for container in self.spec.get(key) or []:
                if isinstance(container, Mapping) and container.get("name") == name:
                    return container
        return {}

    def log_lines(self, container: str) -> list[str]:
        entry = self.snapshot.log(self.namespace or "", self.name, container)
        return key_lines(entry.text, redact=self.snapshot.redactor.text) if entry else []

    def finding(
        self,
        code: str,
        title: str,
        *,
        detail: str = "",
        evidence: list[str] | None = None,
        suggestion: str = "",
    ) -> Finding:
        return Finding(
            code=code,
            severity=default_severity(code),
            title=title,
            detail=detail,
            evidence=[e for e in evidence or [] if e][:6],
            suggestion=suggestion,
            objects=[self.ref],
        )


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def analyze_pod(
    pod: Mapping[str, Any], snapshot: Snapshot, now: datetime, thresholds: Thresholds
) -> list[Finding]:
    """Every failure this pod shows past the thresholds; empty when it is healthy or starting."""
    ctx = PodContext(pod, snapshot, now)
    if meta(pod).get("deletionTimestamp"):
        return []  # being replaced: a rollout in progress, not a failure
    phase = ctx.status.get("phase")
    if phase == "Succeeded":
        return []
    if ctx.status.get("reason") == "Evicted":
        return [_evicted(ctx)]
    findings = _scheduling(ctx)
    if findings:
        return findings
    for key, is_init in (("initContainerStatuses", True), ("containerStatuses", False)):
        for cs in ctx.status.get(key) or []:
            if isinstance(cs, Mapping) and isinstance(cs.get("name"), str):
                findings.extend(_container(ctx, cs, is_init, thresholds))
    if not findings:
        findings.extend(_stuck_starting(ctx, thresholds))
    return findings


def _evicted(ctx: PodContext) -> Finding:
    message = str(ctx.status.get("message") or "The pod was evicted.")
    return ctx.finding(
        codes.EVICTED,
        f"Pod {ctx.name} was evicted by the kubelet",
        detail=message,
        evidence=[message],
        suggestion="Check node pressure (`kubectl describe node "
        f"{ctx.spec.get('nodeName') or 'NODE'}`) and set requests close to real usage so "
        "this pod is not first to go; evicted pods can be deleted once replaced.",
    )


def _scheduling(ctx: PodContext) -> list[Finding]:
    for item in ctx.status.get("conditions") or []:
        condition = _dict(item)
        if (
            condition.get("type") == "PodScheduled"
            and condition.get("status") == "False"
            and condition.get("reason") == "Unschedulable"
        ):
            messages = ctx.event_messages("FailedScheduling")
            message = messages[-1] if messages else str(condition.get("message") or "")
            code = classify.scheduling_code(message)
            return [
                ctx.finding(
                    code,
                    f"Pod {ctx.name} cannot be scheduled",
                    detail=message,
                    evidence=[message],
                    suggestion=hints.scheduling_hint(code, ctx),
                )
            ]
    return []


def _container(
    ctx: PodContext, cs: Mapping[str, Any], is_init: bool, thresholds: Thresholds
) -> list[Finding]:
    name = str(cs["name"])
    label = f"{'Init container' if is_init else 'Container'} {name}"
    state = _dict(cs.get("state"))
    waiting = _dict(state.get("waiting"))
    reason = waiting.get("reason")
    message = str(waiting.get("message") or "")
    spec = ctx.container_spec(name)
    image = str(spec.get("image") or cs.get("image") or "")

    if reason in _PULL_REASONS:
        pulls = ctx.event_messages("Failed", "ailed to pull image")
        text = pulls[-1] if pulls else message
        code = classify.image_pull_code(f"{message} {text}")
        return [
            ctx.finding(
                code,
                f"{label} cannot pull image {image}",
                detail=text,
                evidence=[text] if text else [reason],
                suggestion=hints.pull_hint(code, image, ctx),
            )
        ]
    if reason == "InvalidImageName":
        return [
            ctx.finding(
                codes.INVALID_IMAGE_NAME,
                f"{label} has an invalid image reference {image!r}",
                detail=message,
                evidence=[message or f"image: {image}"],
                suggestion="Fix the image reference (registry/repository:tag or @sha256:digest, lower case).",
            )
        ]
    if reason == "CreateContainerConfigError":
        code, missing = classify.config_error_code(message)
        return [
            ctx.finding(
                code,
                f"{label} cannot start: {message or 'configuration error'}",
                detail=message,
                evidence=[message],
                suggestion=hints.config_hint(code, missing, ctx),
            )
        ]
    if reason in _START_REASONS:
        return [_start_error(ctx, label, message)]

    restarts = _int(cs.get("restartCount"))
    last = _dict(_dict(cs.get("lastState")).get("terminated"))
    current = _dict(state.get("terminated"))
    restart_policy = ctx.spec.get("restartPolicy", "Always")
    crash_looping = reason == "CrashLoopBackOff" and restarts >= thresholds.crashloop_restarts
    terminated = current or last
    if current and _int(current.get("exitCode")) != 0 and restart_policy == "Never":
        crash_looping = True  # a Job-style pod that failed for good
    if current and current.get("reason") == "StartError":
        return [_start_error(ctx, label, str(current.get("message") or ""))]
    if (
        not crash_looping
        and state.get("running")
        and last
        and restarts >= thresholds.crashloop_restarts
    ):
        # restarted often but running now: failing while the last crash is recent; a
        # container whose last termination is older than RECOVERED_SECONDS has recovered
        since = age_seconds(last.get("finishedAt"), ctx.now)
        crash_looping = since is None or since <= thresholds.recovered_seconds
    if crash_looping:
        return [_crash(ctx, label, name, cs, terminated, is_init, restarts)]
    if state.get("running") and cs.get("ready") is False and not is_init:
        started = age_seconds(_dict(state.get("running")).get("startedAt"), ctx.now)
        if started is not None and started > thresholds.not_ready_seconds:
            return _not_ready(ctx, label, name, spec, cs)
    return []


def _start_error(ctx: PodContext, label: str, message: str) -> Finding:
    code = classify.start_error_code(message)
    hint = {
        codes.START_COMMAND_NOT_FOUND: "The command or entrypoint does not exist in the image: "
        "check `command`/`args` against the image's contents (a distroless image has no shell).",
        codes.START_SECURITY_CONTEXT: "The security context cannot be satisfied by this image: "
        "set runAsUser to a non-root UID the image supports, or fix file permissions.",
    }.get(
        code, f"Read the runtime's message: `kubectl describe pod {ctx.name} -n {ctx.namespace}`."
    )
    return ctx.finding(
        code,
        f"{label} cannot start",
        detail=message,
        evidence=[message],
        suggestion=hint,
    )


def _crash(
    ctx: PodContext,
    label: str,
    name: str,
    cs: Mapping[str, Any],
    terminated: Mapping[str, Any],
    is_init: bool,
    restarts: int,
) -> Finding:
    exit_code = _int(terminated.get("exitCode"), -1)
    reason = terminated.get("reason")
    message = str(terminated.get("message") or "")
    status_line = (
        f"{name}: terminated with exit code {exit_code}"
        + (f" ({reason})" if reason else "")
        + f", restarted {restarts} times"
    )
    logs = ctx.log_lines(name)
    evidence = [status_line, *([message] if message else []), *logs]
    if reason == "OOMKilled":
        limit = _dict(_dict(ctx.container_spec(name).get("resources")).get("limits")).get("memory")
        return ctx.finding(
            codes.OOM_KILLED,
            f"{label} is killed for exceeding its memory limit" + (f" ({limit})" if limit else ""),
            detail="The kernel's OOM killer ended the container (exit code 137).",
            evidence=evidence,
            suggestion=(
                f"Raise the memory limit (now {limit or 'unset'}) or reduce the process's "
                "memory use; compare with `kubectl top pod`."
            ),
        )
    if reason in ("StartError", "ContainerCannotRun"):
        return _start_error(ctx, label, message)
    liveness = ctx.event_messages("Unhealthy", "Liveness probe failed")
    killed = ctx.event_messages("Killing", "liveness probe")
    if not is_init and (liveness or killed):
        return ctx.finding(
            codes.LIVENESS_PROBE_FAILING,
            f"{label} is restarted because its liveness probe fails",
            detail=(liveness or killed)[-1],
            evidence=[*(liveness[-2:] or killed[-1:]), status_line, *logs],
            suggestion=hints.probe_hint(ctx.container_spec(name).get("livenessProbe")),
        )
    startup = ctx.event_messages("Unhealthy", "Startup probe failed")
    if not is_init and startup:
        return ctx.finding(
            codes.STARTUP_PROBE_FAILING,
            f"{label} never passes its startup probe",
            detail=startup[-1],
            evidence=[startup[-1], status_line, *logs],
            suggestion=hints.probe_hint(ctx.container_spec(name).get("startupProbe"))
            + " Raise failureThreshold × periodSeconds if the app needs longer to start.",
        )
    if is_init:
        return ctx.finding(
            codes.INIT_CONTAINER_FAILING,
            f"{label} fails (exit code {exit_code}), so the pod never starts",
            detail=message,
            evidence=evidence,
            suggestion=f"Read its log: `kubectl logs {ctx.name} -n {ctx.namespace} -c {name} "
            "--previous`.",
        )
    if exit_code == 0:
        return ctx.finding(
            codes.CONTAINER_EXITS_IMMEDIATELY,
            f"{label} exits successfully and is restarted",
            detail="The main process ends with exit code 0 while restartPolicy is Always.",
            evidence=evidence,
            suggestion="Run a long-lived process in the foreground (no daemonizing), or use "
            "a Job for run-to-completion work.",
        )
    return ctx.finding(
        codes.CRASH_LOOP_BACK_OFF,
        f"{label} keeps crashing (exit code {exit_code})",
        detail=message
        or "The container exits with a non-zero code and is restarted with back-off.",
        evidence=evidence,
        suggestion=f"Read the crashed instance's log: `kubectl logs {ctx.name} -n {ctx.namespace} "
        f"-c {name} --previous`.",
    )


def _not_ready(
    ctx: PodContext, label: str, name: str, spec: Mapping[str, Any], cs: Mapping[str, Any]
) -> list[Finding]:
    startup = ctx.event_messages("Unhealthy", "Startup probe failed")
    if startup and cs.get("started") is not True:
        return [
            ctx.finding(
                codes.STARTUP_PROBE_FAILING,
                f"{label} never passes its startup probe",
                detail=startup[-1],
                evidence=startup[-2:],
                suggestion=hints.probe_hint(spec.get("startupProbe")),
            )
        ]
    readiness = ctx.event_messages("Unhealthy", "Readiness probe failed")
    return [
        ctx.finding(
            codes.READINESS_PROBE_FAILING,
            f"{label} runs but never becomes Ready",
            detail=readiness[-1] if readiness else "The container is running but not Ready.",
            evidence=[*readiness[-2:], *ctx.log_lines(name)],
            suggestion=hints.probe_hint(spec.get("readinessProbe")),
        )
    ]


def _stuck_starting(ctx: PodContext, thresholds: Thresholds) -> list[Finding]:
    """Pending, ContainerCreating or PodInitializing for longer than the threshold."""
    if ctx.status.get("phase") not in ("Pending", None) or ctx.age is None:
        return []
    if ctx.age <= thresholds.pending_seconds:
        return []
    mounts = ctx.event_messages("FailedMount") + ctx.event_messages("FailedAttachVolume")
    if mounts:
        return [
            ctx.finding(
                codes.VOLUME_MOUNT_FAILURE,
                f"Pod {ctx.name} cannot mount a volume",
                detail=mounts[-1],
                evidence=mounts[-2:],
                suggestion="Check that the referenced Secret/ConfigMap/PVC exists and the "
                f"volume can attach to node {ctx.spec.get('nodeName') or '(unassigned)'}.",
            )
        ]
    minutes = int(ctx.age // 60)
    pulling = ctx.event_messages("Pulling")
    pulled = ctx.event_messages("Pulled")
    if pulling and len(pulled) < len(pulling):
        return [
            ctx.finding(
                codes.IMAGE_PULL_ERROR,
                f"Pod {ctx.name} is still pulling its image after {minutes} minutes",
                detail=pulling[-1],
                evidence=pulling[-1:],
                suggestion="A slow or stuck pull: check the image size, the registry's "
                "throughput and the node's disk (`kubectl describe node`).",
            )
        ]
    sandbox = ctx.event_messages("FailedCreatePodSandBox") + ctx.event_messages("FailedKillPod")
    detail = sandbox[-1] if sandbox else f"Phase Pending for {minutes} minutes."
    return [
        ctx.finding(
            codes.START_ERROR,
            f"Pod {ctx.name} has been starting for {minutes} minutes",
            detail=detail,
            evidence=[detail],
            suggestion=f"Read the pod's events: `kubectl describe pod {ctx.name} -n {ctx.namespace}`"
            + (" (the container runtime or CNI failed to create the sandbox)." if sandbox else "."),
        )
    ]
