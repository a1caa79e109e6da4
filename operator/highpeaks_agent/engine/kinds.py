"""The kinds of object the agent reads, listed once.

Specs, /assist, the live reader, the engine's pod grouping and the RBAC test all read this
table, so teaching the agent a new kind is one row here (plus its rules). Pure data: the
engine imports it, so it knows nothing of clients or HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: A DNS-1123 subdomain: what Kubernetes accepts as the name of a workload or pod.
DNS_1123_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
DNS_1123_SUBDOMAIN_MAX = 253

#: The kinds a task or /assist may name. pydantic needs a ``Literal`` spelled out for mypy, so
#: it is written here beside the table, and a test keeps the two equal.
TargetKind = Literal[
    "Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet", "Pod", "CronJob"
]


@dataclass(frozen=True, slots=True)
class KindInfo:
    """One kind: where the API serves it and what the agent does with it."""

    kind: str
    group: str  # "" for the core group
    version: str
    plural: str
    short_names: tuple[str, ...]
    #: a task or /assist may ask about it
    target: bool
    #: pods are grouped under it when it controls them (by ownerReferences)
    workload: bool
    #: read beside the workloads as evidence about them (a namespace diagnosis reads it too)
    evidence: bool = False
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        """``apps/v1``, or ``v1`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def names(self) -> tuple[str, ...]:
        """Every spelling kubectl accepts for the kind: singular, plural and short names."""
        return (self.kind.lower(), self.plural, *self.short_names)


KINDS: tuple[KindInfo, ...] = (
    KindInfo("Deployment", "apps", "v1", "deployments", ("deploy",), target=True, workload=True),
    KindInfo("StatefulSet", "apps", "v1", "statefulsets", ("sts",), target=True, workload=True),
    KindInfo("DaemonSet", "apps", "v1", "daemonsets", ("ds",), target=True, workload=True),
    KindInfo("Job", "batch", "v1", "jobs", (), target=True, workload=True),
    KindInfo("ReplicaSet", "apps", "v1", "replicasets", ("rs",), target=True, workload=True),
    KindInfo("Pod", "", "v1", "pods", ("po",), target=True, workload=False),
    # A CronJob controls Jobs, not pods: its Jobs and their pods are grouped under it.
    KindInfo("CronJob", "batch", "v1", "cronjobs", ("cj",), target=True, workload=False),
    # Evidence about every object above, read with them.
    KindInfo("Event", "", "v1", "events", ("ev",), target=False, workload=False, evidence=True),
    # A StatefulSet's or DaemonSet's pod templates, one per revision: the rollout diff.
    KindInfo(
        "ControllerRevision",
        "apps",
        "v1",
        "controllerrevisions",
        (),
        target=False,
        workload=False,
        evidence=True,
    ),
    # The claims pods wait on: their phase, StorageClass and provisioning events.
    KindInfo(
        "PersistentVolumeClaim",
        "",
        "v1",
        "persistentvolumeclaims",
        ("pvc",),
        target=False,
        workload=False,
        evidence=True,
    ),
    # The Services a crashed container could not use, and their endpoints: the workload
    # behind a dependency (CONTRACT §2a).
    KindInfo(
        "Service", "", "v1", "services", ("svc",), target=False, workload=False, evidence=True
    ),
    KindInfo(
        "EndpointSlice",
        "discovery.k8s.io",
        "v1",
        "endpointslices",
        (),
        target=False,
        workload=False,
        evidence=True,
    ),
    # The nodes pods run on: Ready condition, taints, CPU architecture. Cluster-scoped and
    # read one by one, by name, never listed.
    KindInfo(
        "Node",
        "",
        "v1",
        "nodes",
        ("no",),
        target=False,
        workload=False,
        evidence=True,
        namespaced=False,
    ),
)

BY_KIND: dict[str, KindInfo] = {info.kind: info for info in KINDS}
TARGET_KINDS: tuple[str, ...] = tuple(info.kind for info in KINDS if info.target)
WORKLOAD_KINDS: frozenset[str] = frozenset(info.kind for info in KINDS if info.workload)
EVENT = BY_KIND["Event"]
CONTROLLER_REVISION = BY_KIND["ControllerRevision"]
PERSISTENT_VOLUME_CLAIM = BY_KIND["PersistentVolumeClaim"]
NODE = BY_KIND["Node"]
SERVICE = BY_KIND["Service"]
ENDPOINT_SLICE = BY_KIND["EndpointSlice"]

_BY_NAME: dict[str, KindInfo] = {name: info for info in KINDS for name in info.names}


def lookup(name: str) -> KindInfo | None:
    """The kind a user means by ``name``, as kubectl reads it: ``Deployment``, ``deployment``,
    ``deployments`` or ``deploy``; a group suffix (``deployments.apps``) must match the kind's.
    """
    resource, _, group = name.partition(".")
    info = _BY_NAME.get(resource.lower())
    if info is None or (group and group.lower() != info.group):
        return None
    return info
