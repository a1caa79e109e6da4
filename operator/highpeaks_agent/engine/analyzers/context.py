"""What the rules look at: one pod, one of its containers, or one workload, read once.

A rule is a small function over one of these contexts. Thresholds and "now" travel in the
context, so a rule never reads settings or the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, TypeAlias

from highpeaks_agent.engine.findings import default_severity
from highpeaks_agent.engine.logs import key_lines
from highpeaks_agent.engine.model import Finding, ObjectRef
from highpeaks_agent.engine.snapshot import KubeObject, Snapshot, meta
from highpeaks_agent.engine.thresholds import Thresholds
from highpeaks_agent.engine.timeutil import age_seconds


def as_mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one: API objects may be partial."""
    if type(value) is dict:  # the common case, without the slow ABC check
        return value
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty one: a malformed field is read as absent."""
    return value if isinstance(value, list) else []


def as_int(value: Any, default: int = 0) -> int:
    """``value`` when it is an int (not a bool), else ``default``."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default


class PodContext:
    """One pod with what the rules need about it, computed once."""

    def __init__(
        self, pod: Mapping[str, Any], snapshot: Snapshot, now: datetime, thresholds: Thresholds
    ) -> None:
        md = meta(pod)
        self.pod = pod
        self.name = str(md.get("name"))
        self.namespace = md.get("namespace") if isinstance(md.get("namespace"), str) else None
        self.now = now
        self.thresholds = thresholds
        self.status = as_mapping(pod.get("status"))
        self.spec = as_mapping(pod.get("spec"))
        self.snapshot = snapshot
        started = self.status.get("startTime") or md.get("creationTimestamp")
        self.age = age_seconds(started, now)

    @cached_property
    def events(self) -> list[dict[str, Any]]:
        """This pod's events, read only when a rule needs them (most pods are healthy)."""
        return self.snapshot.events_for(self.pod)

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef(kind="Pod", namespace=self.namespace, name=self.name)

    @property
    def node(self) -> Mapping[str, Any] | None:
        """The Node the pod is bound to, when the source had nodes."""
        return self.snapshot.node(self.spec.get("nodeName"))

    def condition(self, kind: str) -> Mapping[str, Any] | None:
        """The pod condition of that type (``PodScheduled``, ``Ready``), if it has one."""
        for condition in as_list(self.status.get("conditions")):
            if isinstance(condition, Mapping) and condition.get("type") == kind:
                return condition
        return None

    def waiting_lines(self) -> list[str]:
        """One line per (init) container waiting with a reason: what a Pending pod is stuck on."""
        lines = []
        for key in ("initContainerStatuses", "containerStatuses"):
            for status in map(as_mapping, as_list(self.status.get(key))):
                waiting = as_mapping(as_mapping(status.get("state")).get("waiting"))
                if waiting.get("reason"):
                    message = f": {waiting['message']}" if waiting.get("message") else ""
                    lines.append(f"{status.get('name')}: waiting ({waiting['reason']}){message}")
        return lines

    @property
    def age_minutes(self) -> int:
        return int((self.age or 0) // 60)

    @property
    def pending_too_long(self) -> bool:
        """Still Pending (ContainerCreating, PodInitializing, pulling) past the threshold."""
        if self.status.get("phase") not in ("Pending", None) or self.age is None:
            return False
        return self.age > self.thresholds.pending_seconds

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
            for container in as_list(self.spec.get(key)):
                if isinstance(container, Mapping) and container.get("name") == name:
                    return container
        return {}

    def log_lines(self, container: str) -> list[str]:
        entry = self.snapshot.log(self.namespace or "", self.name, container)
        if entry is None:
            return []
        return key_lines(entry.text, redact=self.snapshot.redactor.text)

    def finding(
        self,
        code: str,
        title: str,
        *,
        detail: str = "",
        evidence: list[str] | None = None,
        suggestion: str = "",
    ) -> Finding:
        """A finding about this pod, at the code's default severity, with at most 6 evidence lines."""
        return Finding(
            code=code,
            severity=default_severity(code),
            title=title,
            detail=detail,
            evidence=[e for e in evidence or [] if e][:6],
            suggestion=suggestion,
            objects=[self.ref],
        )


class ContainerContext:
    """One entry of a pod's (init)containerStatuses, with the facts several rules share."""

    def __init__(self, pod: PodContext, status: Mapping[str, Any], *, is_init: bool) -> None:
        self.pod = pod
        self.status = status
        self.name = str(status["name"])
        self.is_init = is_init
        self.label = f"{'Init container' if is_init else 'Container'} {self.name}"
        state = as_mapping(status.get("state"))
        self.is_running = bool(state.get("running"))
        self.running = as_mapping(state.get("running"))
        self.waiting = as_mapping(state.get("waiting"))
        self.reason = self.waiting.get("reason")
        """The waiting reason (``CrashLoopBackOff``, ``ErrImagePull``, ...), if waiting."""
        self.message = str(self.waiting.get("message") or "")
        self.current = as_mapping(state.get("terminated"))
        self.last = as_mapping(as_mapping(status.get("lastState")).get("terminated"))
        self.terminated = self.current or self.last
        """The termination that explains the container: the current one, else the last."""
        self.restarts = as_int(status.get("restartCount"))
        # every container is asked both; plain attributes, since a cached_property locks
        self.crash_looping = self._crash_looping()
        self.not_ready_too_long = self._not_ready_too_long()

    @cached_property
    def spec(self) -> Mapping[str, Any]:
        return self.pod.container_spec(self.name)

    @property
    def image(self) -> str:
        """The image the spec asks for, else the one the status reports."""
        return str(self.spec.get("image") or self.status.get("image") or "")

    @cached_property
    def logs(self) -> list[str]:
        """The key lines of this container's log."""
        return self.pod.log_lines(self.name)

    def _crash_looping(self) -> bool:
        """Failing by restarts or by a final non-zero exit, not merely restarted once."""
        thresholds = self.pod.thresholds
        if self.reason == "CrashLoopBackOff" and self.restarts >= thresholds.crashloop_restarts:
            return True
        if self.reason == "CrashLoopBackOff" and self.pod.pending_too_long:
            return True  # still not started past PENDING_SECONDS, below the restart count
        restart_policy = self.pod.spec.get("restartPolicy", "Always")
        if self.current and as_int(self.current.get("exitCode")) != 0 and restart_policy == "Never":
            return True  # a Job-style pod that failed for good
        if self.restarts >= thresholds.crashloop_restarts and self._will_restart(restart_policy):
            return True  # caught between two restarts, before the kubelet's back-off shows
        if self.is_running and self.last and self.restarts >= thresholds.crashloop_restarts:
            # restarted often but running now: failing while the last crash is recent; a
            # container whose last termination is older than RECOVERED_SECONDS has recovered
            since = age_seconds(self.last.get("finishedAt"), self.pod.now)
            return since is None or since <= thresholds.recovered_seconds
        return False

    def _will_restart(self, restart_policy: Any) -> bool:
        """Terminated now, and the kubelet will start it again (a success ends an init container)."""
        if not self.current or restart_policy == "Never":
            return False
        failed = as_int(self.current.get("exitCode")) != 0
        return failed or (restart_policy == "Always" and not self.is_init)

    def _not_ready_too_long(self) -> bool:
        """A running main container that has not become Ready past the threshold."""
        if not self.is_running or self.status.get("ready") is not False or self.is_init:
            return False
        started = age_seconds(self.running.get("startedAt"), self.pod.now)
        return started is not None and started > self.pod.thresholds.not_ready_seconds

    @property
    def exit_code(self) -> int:
        """The explaining termination's exit code; -1 when it has none."""
        return as_int(self.terminated.get("exitCode"), -1)

    @cached_property
    def exit_line(self) -> str:
        """How the container last ended, as one evidence line."""
        reason = self.terminated.get("reason")
        return (
            f"{self.name}: terminated with exit code {self.exit_code}"
            + (f" ({reason})" if reason else "")
            + f", restarted {self.restarts} times"
        )

    @property
    def exit_message(self) -> str:
        """The runtime's message on the explaining termination."""
        return str(self.terminated.get("message") or "")

    @property
    def crash_evidence(self) -> list[str]:
        """The exit line, the runtime's termination message and the log's key lines."""
        message = self.exit_message
        return [self.exit_line, *([message] if message else []), *self.logs]

    def finding(
        self,
        code: str,
        title: str,
        *,
        detail: str = "",
        evidence: list[str] | None = None,
        suggestion: str = "",
    ) -> Finding:
        """A finding about this container's pod."""
        return self.pod.finding(
            code, title, detail=detail, evidence=evidence, suggestion=suggestion
        )


@dataclass(frozen=True, slots=True)
class WorkloadContext:
    """A workload (or a bare pod) with the ReplicaSets it owns, newest last."""

    obj: KubeObject
    kind: str
    replicasets: list[KubeObject]
    snapshot: Snapshot


PodRule: TypeAlias = Callable[[PodContext], list[Finding]]
"""Findings about one pod; an empty list lets the next rule look."""

ContainerRule: TypeAlias = Callable[[ContainerContext], Finding | None]
"""The finding about one container, or None to let the next rule look."""

WorkloadRule: TypeAlias = Callable[[WorkloadContext], list[Finding]]
"""Findings about the workload object itself (its conditions and its controller's events)."""
