"""The stable finding codes of CONTRACT §2.

A code, once shipped, is never renamed: scripts, alert routes and dashboards match on it.
Dotted codes refine their prefix (``ImagePullError.NotFound`` is an ``ImagePullError``), so a
consumer may match on the prefix and stay correct when a refinement is added.
"""

from __future__ import annotations

from typing import Final

CRASH_LOOP_BACK_OFF: Final = "CrashLoopBackOff"
OOM_KILLED: Final = "OOMKilled"
CONTAINER_EXITS_IMMEDIATELY: Final = "ContainerExitsImmediately"
LIVENESS_PROBE_FAILING: Final = "LivenessProbeFailing"
READINESS_PROBE_FAILING: Final = "ReadinessProbeFailing"
STARTUP_PROBE_FAILING: Final = "StartupProbeFailing"
INIT_CONTAINER_FAILING: Final = "InitContainerFailing"
IMAGE_PULL_NOT_FOUND: Final = "ImagePullError.NotFound"
IMAGE_PULL_UNAUTHORIZED: Final = "ImagePullError.Unauthorized"
IMAGE_PULL_NETWORK: Final = "ImagePullError.Network"
IMAGE_PULL_ERROR: Final = "ImagePullError"
INVALID_IMAGE_NAME: Final = "InvalidImageName"
CONFIG_SECRET_NOT_FOUND: Final = "ConfigError.SecretNotFound"
CONFIG_CONFIGMAP_NOT_FOUND: Final = "ConfigError.ConfigMapNotFound"
CONFIG_KEY_NOT_FOUND: Final = "ConfigError.KeyNotFound"
CONFIG_ERROR: Final = "ConfigError"
START_COMMAND_NOT_FOUND: Final = "ContainerStartError.CommandNotFound"
START_SECURITY_CONTEXT: Final = "ContainerStartError.SecurityContext"
START_ERROR: Final = "ContainerStartError"
VOLUME_MOUNT_FAILURE: Final = "VolumeMountFailure"
UNSCHEDULABLE_RESOURCES: Final = "Unschedulable.InsufficientResources"
UNSCHEDULABLE_NODE_AFFINITY: Final = "Unschedulable.NodeAffinity"
UNSCHEDULABLE_TAINTS: Final = "Unschedulable.Taints"
UNSCHEDULABLE_VOLUME_BINDING: Final = "Unschedulable.VolumeBinding"
UNSCHEDULABLE: Final = "Unschedulable"
EVICTED: Final = "Evicted"
REPLICA_CREATE_QUOTA: Final = "ReplicaCreateFailed.QuotaExceeded"
REPLICA_CREATE_FORBIDDEN: Final = "ReplicaCreateFailed.Forbidden"
REPLICA_CREATE_FAILED: Final = "ReplicaCreateFailed"
ROLLOUT_STALLED: Final = "RolloutStalled"

ALL_CODES: Final[frozenset[str]] = frozenset(
    value for name, value in dict(globals()).items() if name.isupper() and isinstance(value, str)
)
