"""Message → finding code: how kubelet, the scheduler and the controllers word each cause.

The reason tables below are the one list of every reason the kubelet writes on a container
(waiting or terminated) or on a pod, with the code it maps to and when it becomes a failure;
the rules in ``analyzers/`` take their reason sets from here, and a test walks every row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from highpeaks_agent.engine import catalogue


class When(StrEnum):
    """When a reason becomes a failure (CONTRACT §2, "Default thresholds")."""

    AT_ONCE = "at once"
    RESTARTS = "from the CRASHLOOP_RESTARTS-th restart"
    PENDING = "after PENDING_SECONDS"
    NEVER = "not a failure"


@dataclass(frozen=True, slots=True)
class ReasonRule:
    """What one kubelet reason means: its code (None when it is no failure) and when."""

    code: str | None
    when: When


def _rules(rows: dict[str, tuple[str | None, When]]) -> Mapping[str, ReasonRule]:
    return MappingProxyType({reason: ReasonRule(*row) for reason, row in rows.items()})


_AT_ONCE, _RESTARTS, _PENDING, _NEVER = When.AT_ONCE, When.RESTARTS, When.PENDING, When.NEVER

WAITING_REASONS: Final = _rules(
    {
        # pkg/kubelet/kuberuntime, pkg/kubelet/kubelet_pods.go: still starting
        "ContainerCreating": (catalogue.START_ERROR, _PENDING),
        "PodInitializing": (catalogue.START_ERROR, _PENDING),
        # pkg/kubelet/images: pulls (refined by the runtime's message)
        "ErrImagePull": (catalogue.IMAGE_PULL_ERROR, _AT_ONCE),
        "ImagePullBackOff": (catalogue.IMAGE_PULL_ERROR, _AT_ONCE),
        "ImageInspectError": (catalogue.IMAGE_PULL_ERROR, _AT_ONCE),
        "ErrImageNeverPull": (catalogue.IMAGE_PULL_NEVER_PULL, _AT_ONCE),
        "RegistryUnavailable": (catalogue.IMAGE_PULL_NETWORK, _AT_ONCE),
        "InvalidImageName": (catalogue.INVALID_IMAGE_NAME, _AT_ONCE),
        # pkg/kubelet/kuberuntime/kuberuntime_container.go: creating and starting
        "CreateContainerConfigError": (catalogue.CONFIG_ERROR, _AT_ONCE),
        "PreCreateHookError": (catalogue.START_HOOK, _AT_ONCE),
        "CreateContainerError": (catalogue.START_ERROR, _AT_ONCE),
        "PreStartHookError": (catalogue.START_HOOK, _AT_ONCE),
        "PostStartHookError": (catalogue.START_HOOK, _AT_ONCE),
        # pkg/kubelet/container/sync_result.go
        "RunContainerError": (catalogue.START_ERROR, _AT_ONCE),
        "StartError": (catalogue.START_ERROR, _AT_ONCE),
        "ContainerCannotRun": (catalogue.START_ERROR, _AT_ONCE),
        "KillContainerError": (catalogue.START_ERROR, _AT_ONCE),
        "VerifyNonRootError": (catalogue.START_SECURITY_CONTEXT, _AT_ONCE),
        "RunInitContainerError": (catalogue.INIT_CONTAINER_FAILING, _AT_ONCE),
        # sandbox errors are often transient (the CNI still starting): only when they persist
        "CreatePodSandboxError": (catalogue.START_ERROR, _PENDING),
        "ConfigPodSandboxError": (catalogue.START_ERROR, _PENDING),
        "KillPodSandboxError": (catalogue.START_ERROR, _PENDING),
        "CrashLoopBackOff": (catalogue.CRASH_LOOP_BACK_OFF, _RESTARTS),
    }
)
"""``state.waiting.reason`` → its code and when it fails."""

TERMINATED_REASONS: Final = _rules(
    {
        "Error": (catalogue.CRASH_LOOP_BACK_OFF, _RESTARTS),
        "OOMKilled": (catalogue.OOM_KILLED, _RESTARTS),
        # exit 0 under restartPolicy Always; a run-to-completion pod that succeeded is done
        "Completed": (catalogue.CONTAINER_EXITS_IMMEDIATELY, _RESTARTS),
        # the container was lost (node reboot, runtime restart): a failure only when repeated
        "ContainerStatusUnknown": (catalogue.CRASH_LOOP_BACK_OFF, _RESTARTS),
        "StartError": (catalogue.START_ERROR, _AT_ONCE),
        "ContainerCannotRun": (catalogue.START_ERROR, _AT_ONCE),
        "PreStartHookError": (catalogue.START_HOOK, _AT_ONCE),
        "PostStartHookError": (catalogue.START_HOOK, _AT_ONCE),
    }
)
"""``state.terminated.reason`` / ``lastState.terminated.reason`` → its code and when it fails."""

POD_REASONS: Final = _rules(
    {
        "Evicted": (catalogue.EVICTED, _AT_ONCE),
        "NodeLost": (catalogue.NODE_NOT_READY, _AT_ONCE),
        # the kubelet refused the pod at admission (pkg/kubelet/lifecycle/predicate.go)
        "OutOfcpu": (catalogue.UNSCHEDULABLE_RESOURCES, _AT_ONCE),
        "OutOfmemory": (catalogue.UNSCHEDULABLE_RESOURCES, _AT_ONCE),
        "OutOfpods": (catalogue.UNSCHEDULABLE_RESOURCES, _AT_ONCE),
        "OutOfephemeral-storage": (catalogue.UNSCHEDULABLE_RESOURCES, _AT_ONCE),
        "NodeAffinity": (catalogue.UNSCHEDULABLE_NODE_AFFINITY, _AT_ONCE),
        "NodeSelectorMismatching": (catalogue.UNSCHEDULABLE_NODE_AFFINITY, _AT_ONCE),
        "UnexpectedAdmissionError": (catalogue.UNSCHEDULABLE, _AT_ONCE),
        "TopologyAffinityError": (catalogue.UNSCHEDULABLE, _AT_ONCE),
        "SysctlForbidden": (catalogue.UNSCHEDULABLE, _AT_ONCE),
        # ended as asked: a node shut down gracefully (the controller replaces the pod), or
        # activeDeadlineSeconds ran out (a Job's own Failed condition names that)
        "Terminated": (None, _NEVER),
        "Shutdown": (None, _NEVER),
        "NodeShutdown": (None, _NEVER),
        "DeadlineExceeded": (None, _NEVER),
    }
)
"""``status.reason`` of a pod → its code and when it fails."""


def pod_reason_rule(reason: object) -> ReasonRule | None:
    """The rule for a pod's status.reason; any ``OutOf<resource>`` is an admission refusal."""
    if not isinstance(reason, str):
        return None
    if reason.startswith("OutOf") and reason not in POD_REASONS:
        return POD_REASONS["OutOfcpu"]
    return POD_REASONS.get(reason)


def waiting_reasons(*codes: str, when: When = When.AT_ONCE) -> frozenset[str]:
    """The waiting reasons that map to one of ``codes`` and fail at ``when``."""
    return frozenset(
        reason
        for reason, rule in WAITING_REASONS.items()
        if rule.code in codes and rule.when is when
    )


def terminated_reasons(*codes: str, when: When = When.AT_ONCE) -> frozenset[str]:
    """The terminated reasons that map to one of ``codes`` and fail at ``when``."""
    return frozenset(
        reason
        for reason, rule in TERMINATED_REASONS.items()
        if rule.code in codes and rule.when is when
    )


# --- images ---------------------------------------------------------------------------------

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
    r"network is unreachable|context deadline exceeded|connection reset|x509: |"
    r"Client\.Timeout exceeded|request canceled while waiting for connection",
    re.I,
)
_NEVER_PULL = re.compile(r"with pull policy of Never|ErrImageNeverPull", re.I)


def image_pull_code(message: str, reason: object = None) -> str:
    """Refine a pull failure by the waiting reason, then by the runtime's message."""
    if reason == "ErrImageNeverPull" or _NEVER_PULL.search(message):
        return catalogue.IMAGE_PULL_NEVER_PULL
    if reason == "RegistryUnavailable":
        return catalogue.IMAGE_PULL_NETWORK
    if reason == "ImageInspectError":
        return catalogue.IMAGE_PULL_ERROR  # the image is on the node but cannot be read
    if _PULL_UNAUTHORIZED.search(message):
        return catalogue.IMAGE_PULL_UNAUTHORIZED
    if _PULL_NETWORK.search(message):
        return catalogue.IMAGE_PULL_NETWORK
    if _PULL_NOT_FOUND.search(message):
        return catalogue.IMAGE_PULL_NOT_FOUND
    return catalogue.IMAGE_PULL_ERROR


# --- configuration and start-up -------------------------------------------------------------

# kubelets word a missing object in the singular ("secret") or the resource's plural ("secrets")
_SECRET_NOT_FOUND = re.compile(r'\bsecrets? "([^"]+)" not found', re.I)
_CONFIGMAP_NOT_FOUND = re.compile(r'\bconfigmaps? "([^"]+)" not found', re.I)
_KEY_NOT_FOUND = re.compile(r"couldn't find key (\S+) in (Secret|ConfigMap) ([^\s]+)", re.I)
_EXEC_FORMAT = re.compile(r"exec format error", re.I)
_COMMAND_NOT_FOUND = re.compile(r"executable file not found|no such file or directory", re.I)
_SECURITY = re.compile(
    r"runAsNonRoot|non-numeric user|permission denied|operation not permitted", re.I
)


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


def is_exec_format_error(text: str) -> bool:
    """The kernel refused the entrypoint: a binary for another CPU, or a script with no #!."""
    return bool(_EXEC_FORMAT.search(text))


def start_error_code(message: str) -> str:
    """Refine RunContainerError / CreateContainerError / StartError."""
    if is_exec_format_error(message):
        return catalogue.START_EXEC_FORMAT
    if _SECURITY.search(message) and "no such file" not in message:
        return catalogue.START_SECURITY_CONTEXT
    if _COMMAND_NOT_FOUND.search(message):
        return catalogue.START_COMMAND_NOT_FOUND
    if _SECURITY.search(message):
        return catalogue.START_SECURITY_CONTEXT
    return catalogue.START_ERROR


# --- scheduling -----------------------------------------------------------------------------

# Every wording the scheduler has used for a predicate, old names (1.5-1.9 "fit failure
# summary", "No nodes are available that match all of the predicates") and new, by code.
_PREDICATES: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    (
        catalogue.UNSCHEDULABLE_RESOURCES,
        re.compile(
            r"Insufficient \S|Too many pods|PodFitsResources|"
            r"PodExceedsFreeCPU|PodExceedsFreeMemory|PodExceedsMaxPodNumber|"
            r"exceed max volume count|MaxEBSVolumeCount|MaxGCEPDVolumeCount|MaxAzureDiskVolumeCount",
            re.I,
        ),
    ),
    (
        catalogue.UNSCHEDULABLE_VOLUME_BINDING,
        re.compile(
            r"unbound immediate PersistentVolumeClaims|volume node affinity conflict|"
            r"persistentvolumeclaim \S+ not found|node\(s\) had volume|had no available volume zone|"
            r"didn't find available persistent volumes|NoVolumeZoneConflict|NoDiskConflict|"
            r"CheckVolumeBinding|VolumeBinding|VolumeRestrictions|VolumeZone|"
            r"no persistent volumes available",
            re.I,
        ),
    ),
    (
        catalogue.UNSCHEDULABLE_NODE_AFFINITY,
        re.compile(
            r"didn't match Pod's node affinity|didn't match node selector|node affinity/selector|"
            r"MatchNodeSelector|NodeAffinity|HostName|PodFitsHost\b|didn't match the requested hostname|"
            r"pod affinity|anti-affinity|MatchInterPodAffinity|InterPodAffinity",
            re.I,
        ),
    ),
    (
        catalogue.UNSCHEDULABLE_TAINTS,
        re.compile(
            r"taint|were unschedulable|PodToleratesNodeTaints|TaintToleration|NodeUnschedulable|"
            r"were not ready|had disk pressure|had memory pressure|had pid pressure|"
            r"were out of disk|NodeNotReady|NodeUnderDiskPressure|NodeUnderMemoryPressure|"
            r"CheckNodeMemoryPressure|CheckNodeDiskPressure|CheckNodeCondition|NodeOutOfDisk",
            re.I,
        ),
    ),
    # known, but no refinement of its own: counted, so it can outweigh a lesser predicate
    (
        catalogue.UNSCHEDULABLE,
        re.compile(
            r"free ports|PodFitsHostPorts|NodePorts|topology spread|PodTopologySpread|"
            r"didn't satisfy plugin|no nodes available",
            re.I,
        ),
    ),
)
_PREEMPTION = re.compile(r"\bpreemption:|Preemption is not helpful", re.I)
_SUMMARY = re.compile(r"available|fit failure|predicates", re.I)
_PER_NODE = re.compile(r"fit failure on node \([^)]*\):\s*(.+)")  # 1.4: one line per node
_COUNTED = re.compile(r"^(\d+)\s+(.+)$", re.S)  # "10 node(s) didn't match node selector"
_SUFFIX_COUNTED = re.compile(r"^(.+?)\s*\((\d+)\)$", re.S)  # "MatchNodeSelector (2)"
_SUFFIX_SPLIT = re.compile(r",\s*")
# a taint is written "{key: value}, that the pod didn't tolerate": split only before a count
_COUNT_SPLIT = re.compile(r",\s*(?=\d+\s)")


# The default profile's Filter plugins, in the order the scheduler runs them on each node
# (pkg/scheduler/apis/config/v1/default_plugins.go): a node is counted under the first filter
# it fails, so the filter furthest along names what stopped the nodes that got furthest.
_FILTER_ORDER: Final[tuple[re.Pattern[str], ...]] = tuple(
    re.compile(pattern, re.I)
    for pattern in (
        r"were unschedulable|NodeUnschedulable",
        r"didn't match the requested hostname|\bNodeName\b|PodFitsHost\b",
        r"taint|TaintToleration|were not ready|pressure|out of disk",
        r"didn't match Pod's node affinity|didn't match node selector|node affinity/selector|"
        r"MatchNodeSelector|\bNodeAffinity\b",
        r"free ports|PodFitsHostPorts|NodePorts",
        r"Insufficient \S|Too many pods|PodFitsResources|PodExceeds",
        r"NoDiskConflict|VolumeRestrictions|ReadWriteOncePod",
        r"exceed max volume count|Max\w+VolumeCount|NodeVolumeLimits",
        r"unbound immediate PersistentVolumeClaims|volume node affinity conflict|"
        r"didn't find available persistent volumes|persistentvolumeclaim \S+ not found|"
        r"node\(s\) had volume|VolumeBinding|CheckVolumeBinding|no persistent volumes",
        r"no available volume zone|NoVolumeZoneConflict|VolumeZone",
        r"topology spread|PodTopologySpread",
        r"pod affinity|anti-affinity|MatchInterPodAffinity|InterPodAffinity",
    )
)
_TOTAL_NODES = re.compile(r"\b\d+/(\d+) nodes? (?:are|is) available")


def scheduling_code(message: str) -> str:
    """Refine a FailedScheduling message ("0/3 nodes are available: …").

    Since the scheduler framework, each node is counted once, under the first filter it
    fails: the cause is the filter furthest along that stopped some nodes — "3 node(s) had
    volume node affinity conflict, 7 node(s) didn't match Pod's node affinity/selector" means
    the 3 nodes the selector allows fail on their volumes. Older schedulers ran every
    predicate on every node, so their counts overlap (add up to more than the nodes): there
    the predicate that rules out the most nodes decides ("10 node(s) didn't match node
    selector, 4 Insufficient cpu" of 10 nodes is a selector problem). Ties go to the more
    specific code (catalogue order).
    """
    summary = _PREEMPTION.split(message, maxsplit=1)[0]
    nodes_by_clause: dict[str, int] = {}
    for clause, count in _clauses(summary):
        nodes_by_clause[clause] = nodes_by_clause.get(clause, 0) + count
    nodes_by_code: dict[str, int] = {}
    for clause, count in nodes_by_clause.items():
        if (code := _predicate_code(clause)) is not None:
            nodes_by_code[code] = max(nodes_by_code.get(code, 0), count)
    if not nodes_by_code:
        return catalogue.UNSCHEDULABLE
    total = _TOTAL_NODES.search(summary)
    counted_once = total is not None and 0 < sum(nodes_by_code.values()) <= int(total.group(1))
    if counted_once and len(nodes_by_code) > 1:
        return _furthest_filter(nodes_by_clause) or _most_nodes(nodes_by_code)
    return _most_nodes(nodes_by_code)


def _most_nodes(nodes_by_code: Mapping[str, int]) -> str:
    return min(nodes_by_code, key=lambda c: (-nodes_by_code[c], catalogue.CATALOGUE[c].rank))


def _furthest_filter(nodes_by_clause: Mapping[str, int]) -> str | None:
    """The code of the counted clause whose filter runs last."""
    staged = [
        (stage, code)
        for clause, count in nodes_by_clause.items()
        if count
        and (stage := _filter_stage(clause)) is not None
        and (code := _predicate_code(clause)) is not None
    ]
    return max(staged, key=lambda pair: pair[0])[1] if staged else None


def _filter_stage(clause: str) -> int | None:
    for stage, pattern in enumerate(_FILTER_ORDER):
        if pattern.search(clause):
            return stage
    return None


def _clauses(reasons: str) -> Iterator[tuple[str, int]]:
    """Each "N reason" or "Reason (N)" clause with its node count (0 when uncounted)."""
    if per_node := _PER_NODE.findall(reasons):
        for line in per_node:
            for part in line.split(","):
                yield part.strip(), 1
        return
    head, colon, body = reasons.partition(":")
    if not (colon and _SUMMARY.search(head)):
        body = reasons
    splitter = _SUFFIX_SPLIT if re.search(r"\(\d+\)", body) else _COUNT_SPLIT
    for raw in splitter.split(body):
        clause = raw.strip().strip(":").strip().rstrip(".").strip()
        if not clause:
            continue
        if match := _COUNTED.match(clause):
            yield match.group(2), int(match.group(1))
        elif match := _SUFFIX_COUNTED.match(clause):
            yield match.group(1), int(match.group(2))
        else:
            yield clause, 0


def _predicate_code(clause: str) -> str | None:
    for code, pattern in _PREDICATES:
        if pattern.search(clause):
            return code
    return None


# --- controllers ----------------------------------------------------------------------------


def replica_create_code(message: str) -> str:
    """Refine a FailedCreate / ReplicaFailure message."""
    if re.search(r"exceeded quota|must specify limits|must specify requests", message, re.I):
        return catalogue.REPLICA_CREATE_QUOTA
    if re.search(
        r"is forbidden|violates PodSecurity|admission webhook|denied the request", message, re.I
    ):
        return catalogue.REPLICA_CREATE_FORBIDDEN
    return catalogue.REPLICA_CREATE_FAILED
