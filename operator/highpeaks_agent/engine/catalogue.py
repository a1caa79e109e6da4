"""The finding codes of CONTRACT §2: one row per code, in explanation order.

A code, once shipped, is never renamed: scripts, alert routes and dashboards match on it.
Dotted codes refine their prefix (``ImagePullError.NotFound`` is an ``ImagePullError``), so a
consumer may match on the prefix and stay correct when a refinement is added.

A row's position is its rank: a cause that explains another comes before it. A missing Secret
or a bad image explains the stalled rollout; an OOM kill or a failing liveness probe explains
the crash loop; an init container's failure explains the main container's PodInitializing.
Adding a code takes one row here, one rule in ``analyzers/`` and its tests; the README's
"Finding codes" table is checked against these rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from highpeaks_agent.engine.model import Severity


class Family(StrEnum):
    """The groups of causes the README's "Finding codes" table lists."""

    CRASHES = "crashes"
    PROBES = "probes"
    START_UP = "start-up"
    IMAGES = "images"
    CONFIGURATION = "configuration"
    SCHEDULING = "scheduling"
    CONTROLLERS = "controllers"
    NODES = "nodes"


@dataclass(frozen=True, slots=True)
class CodeEntry:
    """Everything the project states about one finding code."""

    code: str
    family: Family
    rank: int
    """Explanation order: lower comes first."""
    severity: Severity
    """How bad a finding of this code is on its own."""
    meaning: str


_ENTRIES: list[CodeEntry] = []


def _row(code: str, family: Family, meaning: str, *, severity: Severity = Severity.CRITICAL) -> str:
    """Append the next row (so the next rank) and return its code for the constant."""
    _ENTRIES.append(CodeEntry(code, family, len(_ENTRIES), severity, meaning))
    return code


# A lost node explains everything its pods show: stale container states, NotReady, a
# replacement that cannot start while the old pod still holds its volume.
NODE_NOT_READY: Final = _row(
    "NodeNotReady",
    Family.NODES,
    "the pods' node stopped reporting (kubelet down, node lost, network cut)",
)
CONFIG_SECRET_NOT_FOUND: Final = _row(
    "ConfigError.SecretNotFound", Family.CONFIGURATION, "a referenced Secret does not exist"
)
CONFIG_CONFIGMAP_NOT_FOUND: Final = _row(
    "ConfigError.ConfigMapNotFound", Family.CONFIGURATION, "a referenced ConfigMap does not exist"
)
CONFIG_KEY_NOT_FOUND: Final = _row(
    "ConfigError.KeyNotFound", Family.CONFIGURATION, "the Secret/ConfigMap exists but lacks the key"
)
CONFIG_ERROR: Final = _row(
    "ConfigError", Family.CONFIGURATION, "any other CreateContainerConfigError"
)
INVALID_IMAGE_NAME: Final = _row(
    "InvalidImageName", Family.IMAGES, "the image reference cannot be parsed"
)
IMAGE_PULL_NOT_FOUND: Final = _row(
    "ImagePullError.NotFound", Family.IMAGES, "the image or tag does not exist"
)
IMAGE_PULL_UNAUTHORIZED: Final = _row(
    "ImagePullError.Unauthorized",
    Family.IMAGES,
    "the registry refused credentials or the pull secret is missing",
)
IMAGE_PULL_NETWORK: Final = _row(
    "ImagePullError.Network", Family.IMAGES, "the registry could not be reached"
)
IMAGE_PULL_NEVER_PULL: Final = _row(
    "ImagePullError.NeverPull",
    Family.IMAGES,
    "imagePullPolicy Never and the image is not on the node",
)
IMAGE_PULL_ERROR: Final = _row("ImagePullError", Family.IMAGES, "any other pull failure")
START_HOOK: Final = _row(
    "ContainerStartError.Hook",
    Family.START_UP,
    "a lifecycle hook failed (postStart, or the runtime's pre-start/pre-create hook)",
)
START_EXEC_FORMAT: Final = _row(
    "ContainerStartError.ExecFormat",
    Family.START_UP,
    "the entrypoint binary is for another CPU architecture (or a script without interpreter line)",
)
START_COMMAND_NOT_FOUND: Final = _row(
    "ContainerStartError.CommandNotFound",
    Family.START_UP,
    "the entrypoint/command does not exist in the image",
)
START_SECURITY_CONTEXT: Final = _row(
    "ContainerStartError.SecurityContext",
    Family.START_UP,
    "the security context cannot be satisfied",
)
START_ERROR: Final = _row(
    "ContainerStartError",
    Family.START_UP,
    "any other RunContainerError / CreateContainerError / StartError",
)
REPLICA_CREATE_QUOTA: Final = _row(
    "ReplicaCreateFailed.QuotaExceeded",
    Family.CONTROLLERS,
    "the controller cannot create pods: ResourceQuota exhausted",
)
REPLICA_CREATE_FORBIDDEN: Final = _row(
    "ReplicaCreateFailed.Forbidden",
    Family.CONTROLLERS,
    "pod creation rejected by admission (PodSecurity, webhook, LimitRange)",
)
REPLICA_CREATE_FAILED: Final = _row(
    "ReplicaCreateFailed", Family.CONTROLLERS, "any other pod-creation failure"
)
UNSCHEDULABLE_RESOURCES: Final = _row(
    "Unschedulable.InsufficientResources",
    Family.SCHEDULING,
    "no node has enough cpu/memory/other resources",
)
UNSCHEDULABLE_NODE_AFFINITY: Final = _row(
    "Unschedulable.NodeAffinity", Family.SCHEDULING, "no node matches nodeSelector/affinity"
)
UNSCHEDULABLE_TAINTS: Final = _row(
    "Unschedulable.Taints",
    Family.SCHEDULING,
    "the only fitting nodes carry taints the pod does not tolerate",
)
UNSCHEDULABLE_VOLUME_BINDING: Final = _row(
    "Unschedulable.VolumeBinding", Family.SCHEDULING, "PVCs are unbound or volumes conflict"
)
UNSCHEDULABLE_SCHEDULER_MISSING: Final = _row(
    "Unschedulable.SchedulerMissing",
    Family.SCHEDULING,
    "no scheduler ever picked the pod up: spec.schedulerName names a scheduler that is not running",
)
UNSCHEDULABLE: Final = _row("Unschedulable", Family.SCHEDULING, "any other scheduling failure")
VOLUME_MOUNT_FAILURE: Final = _row(
    "VolumeMountFailure", Family.START_UP, "a volume cannot be mounted"
)
INIT_CONTAINER_FAILING: Final = _row(
    "InitContainerFailing", Family.START_UP, "an init container fails, so the pod never starts"
)
OOM_KILLED: Final = _row(
    "OOMKilled", Family.CRASHES, "the container was killed for exceeding its memory limit"
)
LIVENESS_PROBE_FAILING: Final = _row(
    "LivenessProbeFailing",
    Family.PROBES,
    "the kubelet kills the container because its liveness probe fails",
)
STARTUP_PROBE_FAILING: Final = _row(
    "StartupProbeFailing", Family.PROBES, "the startup probe never succeeds"
)
CONTAINER_EXITS_IMMEDIATELY: Final = _row(
    "ContainerExitsImmediately",
    Family.CRASHES,
    "the main container exits 0 and is restarted (restartPolicy Always)",
)
# What the crashed instance's own log shows (CONTRACT §2a): more specific than the bare crash
# loop, and than a Job's verdict on its failed pods; the kernel's OOM kill and the probes that
# kill the container come first, since they explain whatever the log says last.
CRASH_MISSING_MODULE: Final = _row(
    "CrashLoopBackOff.MissingModule",
    Family.CRASHES,
    "the log shows a module, package, class or shared library missing from the image",
)
CRASH_CONFIG_MISSING: Final = _row(
    "CrashLoopBackOff.ConfigMissing",
    Family.CRASHES,
    "the log shows a required setting, env var or config/certificate file absent",
)
CRASH_CONFIG_INVALID: Final = _row(
    "CrashLoopBackOff.ConfigInvalid",
    Family.CRASHES,
    "the log shows a config file or value that cannot be parsed or is rejected",
)
CRASH_PERMISSION_DENIED: Final = _row(
    "CrashLoopBackOff.PermissionDenied",
    Family.CRASHES,
    "the log shows permission denied, a read-only file system or a port < 1024 as non-root",
)
CRASH_PORT_IN_USE: Final = _row(
    "CrashLoopBackOff.PortInUse", Family.CRASHES, "the log shows its port already in use"
)
CRASH_OUT_OF_MEMORY: Final = _row(
    "CrashLoopBackOff.OutOfMemory",
    Family.CRASHES,
    "the log shows the runtime's own out-of-memory error (Java heap, Node heap, Go runtime)",
)
CRASH_DISK_FULL: Final = _row(
    "CrashLoopBackOff.DiskFull", Family.CRASHES, "the log shows no space left on device"
)
CRASH_TLS_ERROR: Final = _row(
    "CrashLoopBackOff.TLSError",
    Family.CRASHES,
    "the log shows a certificate that fails verification",
)
CRASH_AUTH_FAILED: Final = _row(
    "CrashLoopBackOff.AuthFailed",
    Family.CRASHES,
    "the log shows another service rejecting its credentials",
)
CRASH_DATABASE_SCHEMA: Final = _row(
    "CrashLoopBackOff.DatabaseSchema",
    Family.CRASHES,
    "the log shows the database reached but its schema or database wrong or missing",
)
CRASH_DEPENDENCY_UNREACHABLE: Final = _row(
    "CrashLoopBackOff.DependencyUnreachable",
    Family.CRASHES,
    "the log shows connection refused, timed out or unknown host to another service",
)
CRASH_APP_ERROR: Final = _row(
    "CrashLoopBackOff.AppError",
    Family.CRASHES,
    "the log shows an unhandled exception or panic in the application's own code",
)
# A Job's own verdict: a specific pod-level cause (an OOM kill, a bad image) explains it, and it
# explains the bare non-zero exits of its pods, whose exit codes and logs it carries.
JOB_FAILED_BACKOFF_LIMIT: Final = _row(
    "JobFailed.BackoffLimitExceeded",
    Family.CONTROLLERS,
    "the Job gave up after its retries, no more specific pod-level cause",
)
JOB_FAILED_DEADLINE: Final = _row(
    "JobFailed.DeadlineExceeded", Family.CONTROLLERS, "the Job ran past activeDeadlineSeconds"
)
JOB_FAILED_POD_FAILURE_POLICY: Final = _row(
    "JobFailed.PodFailurePolicy", Family.CONTROLLERS, "a podFailurePolicy rule failed the Job"
)
JOB_FAILED: Final = _row("JobFailed", Family.CONTROLLERS, "any other Job failure")
CRASH_LOOP_BACK_OFF: Final = _row(
    "CrashLoopBackOff",
    Family.CRASHES,
    "a container keeps exiting with a non-zero code, no more specific cause known",
)
# Readiness and eviction alone do not take a workload down: other replicas keep serving.
READINESS_PROBE_FAILING: Final = _row(
    "ReadinessProbeFailing",
    Family.PROBES,
    "the container runs but never becomes Ready",
    severity=Severity.WARNING,
)
EVICTED: Final = _row(
    "Evicted",
    Family.SCHEDULING,
    "the kubelet evicted the pod under node pressure",
    severity=Severity.WARNING,
)
ROLLOUT_STALLED: Final = _row(
    "RolloutStalled",
    Family.CONTROLLERS,
    "Progressing=False (ProgressDeadlineExceeded) with no more specific pod-level cause",
)

CATALOGUE: Final[Mapping[str, CodeEntry]] = MappingProxyType({e.code: e for e in _ENTRIES})
"""Every finding code the engine emits, in rank order."""
