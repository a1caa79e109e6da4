"""Message → finding code: how kubelet, the scheduler and the controllers word each cause."""

from __future__ import annotations

import re

from highpeaks_agent.engine import catalogue

_PULL_NOT_FOUND = re.compile(
    r"not found|manifest unknown|NotFound|no such manifest|repository does not exist", re.I
)
_PULL_UNAUTHORIZED = re.compile(
    r"\b401\b|\b403\b|unauthorized|pull access denied|authentication required|"
    r"insufficient_scope|denied: requested access|no basic auth credentials",
    re.I,
)
_PULL_NETWORK = re.compile(
    r"dial tcp|i/o timeout|no such host|TLS handshake|connection refused|"
    r"network is unreachable|context deadline exceeded|connection reset",
    re.I,
)
_SECRET_NOT_FOUND = re.compile(r'secret "([^"]+)" not found', re.I)
_CONFIGMAP_NOT_FOUND = re.compile(r'configmap "([^"]+)" not found', re.I)
_KEY_NOT_FOUND = re.compile(r"couldn't find key (\S+) in (Secret|ConfigMap) ([^\s]+)", re.I)
_COMMAND_NOT_FOUND = re.compile(
    r"executable file not found|no such file or directory|exec format error", re.I
)
_SECURITY = re.compile(
    r"runAsNonRoot|non-numeric user|permission denied|operation not permitted", re.I
)


def image_pull_code(message: str) -> str:
    """Refine ErrImagePull/ImagePullBackOff by the runtime's message."""
    if _PULL_UNAUTHORIZED.search(message):
        return catalogue.IMAGE_PULL_UNAUTHORIZED
    if _PULL_NETWORK.search(message):
        return catalogue.IMAGE_PULL_NETWORK
    if _PULL_NOT_FOUND.search(message):
        return catalogue.IMAGE_PULL_NOT_FOUND
    return catalogue.IMAGE_PULL_ERROR


def config_error_code(message: str) -> tuple[str, str | None]:
    """Refine CreateContainerConfigError; returns (code, the missing object or key)."""
    if match := _KEY_NOT_FOUND.search(message):
        return (
            catalogue.CONFIG_KEY_NOT_FOUND,
            f"{match.group(1)} in {match.group(2)} {match.group(3)}",
        )
    if match := _SECRET_NOT_FOUND.search(message):
        return catalogue.CONFIG_SECRET_NOT_FOUND, match.group(1)
    if match := _CONFIGMAP_NOT_FOUND.search(message):
        return catalogue.CONFIG_CONFIGMAP_NOT_FOUND, match.group(1)
    if _SECURITY.search(message):
        return catalogue.START_SECURITY_CONTEXT, None
    return catalogue.CONFIG_ERROR, None


def start_error_code(message: str) -> str:
    """Refine RunContainerError / CreateContainerError / StartError."""
    if _SECURITY.search(message) and "no such file" not in message:
        return catalogue.START_SECURITY_CONTEXT
    if _COMMAND_NOT_FOUND.search(message):
        return catalogue.START_COMMAND_NOT_FOUND
    if _SECURITY.search(message):
        return catalogue.START_SECURITY_CONTEXT
    return catalogue.START_ERROR


def scheduling_code(message: str) -> str:
    """Refine a FailedScheduling message ("0/3 nodes are available: …")."""
    reasons = message.split("preemption:", maxsplit=1)[0]
    if re.search(r"Insufficient \w|Too many pods", reasons):
        return catalogue.UNSCHEDULABLE_RESOURCES
    if re.search(
        r"unbound immediate PersistentVolumeClaims|volume node affinity conflict|"
        r"persistentvolumeclaim \S+ not found|node\(s\) had volume",
        reasons,
        re.I,
    ):
        return catalogue.UNSCHEDULABLE_VOLUME_BINDING
    if re.search(
        r"didn't match Pod's node affinity|didn't match node selector|"
        r"node affinity/selector",
        reasons,
    ):
        return catalogue.UNSCHEDULABLE_NODE_AFFINITY
    if re.search(r"untolerated taint|taint", reasons):
        return catalogue.UNSCHEDULABLE_TAINTS
    return catalogue.UNSCHEDULABLE


def replica_create_code(message: str) -> str:
    """Refine a FailedCreate / ReplicaFailure message."""
    if re.search(r"exceeded quota|must specify limits|must specify requests", message, re.I):
        return catalogue.REPLICA_CREATE_QUOTA
    if re.search(
        r"is forbidden|violates PodSecurity|admission webhook|denied the request", message, re.I
    ):
        return catalogue.REPLICA_CREATE_FORBIDDEN
    return catalogue.REPLICA_CREATE_FAILED
