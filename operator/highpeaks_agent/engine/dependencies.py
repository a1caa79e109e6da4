"""The Service behind a host a crashed container could not use (CONTRACT §2a).

A host is a Service of the input when it is spelled ``name``, ``name.ns``, ``name.ns.svc`` or
``name.ns.svc.<cluster domain>`` (with or without a port), or is a Service's cluster IP. For
it the finding says whether the Service exists, how many ready endpoints its EndpointSlices
list (its selected pods' readiness when the input has no slices), and which workload owns the
pods it selects, so the diagnosis can say when the crash is that workload's consequence.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from highpeaks_agent.engine.analyzers.context import as_list, as_mapping
from highpeaks_agent.engine.model import Dependency, ObjectRef
from highpeaks_agent.engine.snapshot import KubeObject, Snapshot, meta
from highpeaks_agent.engine.workloads import target_of

#: The label an EndpointSlice carries naming its Service.
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def service_for(host: str, namespace: str, snapshot: Snapshot) -> KubeObject | None:
    """The Service of the snapshot that ``host`` names, if any."""
    name = _without_port(host)
    spelled = _service_name(name, namespace, snapshot)
    if spelled is not None:
        return snapshot.get("Service", spelled[1], spelled[0])
    return _by_cluster_ip(name, snapshot)


def _without_port(host: str) -> str:
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def dependency_for(host: str, namespace: str, snapshot: Snapshot) -> Dependency | None:
    """What the snapshot knows of ``host`` as a Service; None when it is no in-cluster name."""
    name = _without_port(host)
    service = _by_cluster_ip(name, snapshot)
    if service is None:
        spelled = _service_name(name, namespace, snapshot)
        if spelled is None:
            return None
        service = snapshot.get("Service", spelled[1], spelled[0])
        if service is None and not snapshot.services:
            return None  # the input holds no Services at all: nothing is known of this one
        if service is None:
            ref = ObjectRef(kind="Service", namespace=spelled[1], name=spelled[0])
            return Dependency(host=host, service=ref, exists=False, ready_endpoints=0)
    md = meta(service)
    ref = ObjectRef(kind="Service", namespace=md.get("namespace"), name=str(md["name"]))
    return Dependency(
        host=host,
        service=ref,
        exists=True,
        ready_endpoints=ready_endpoints(service, snapshot),
        workload=_backing_workload(service, snapshot),
    )


def _service_name(name: str, namespace: str, snapshot: Snapshot) -> tuple[str, str] | None:
    """(service, namespace) for a cluster DNS spelling of a Service, else None."""
    labels = name.lower().split(".")
    if not all(labels) or _is_ip(name):
        return None
    if len(labels) == 1:
        return labels[0], namespace
    # a namespace of the input: the pod's, or one its Services live in (a short list to scan,
    # where every object would be 10,000s)
    known = {namespace} | {meta(svc).get("namespace") for svc in snapshot.services}
    if len(labels) == 2 and labels[1] in known:
        return labels[0], labels[1]
    if len(labels) >= 3 and labels[2] == "svc":
        return labels[0], labels[1]
    return None  # a name outside the cluster (api.example.com)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _by_cluster_ip(name: str, snapshot: Snapshot) -> KubeObject | None:
    if not _is_ip(name):
        return None
    for service in snapshot.services:
        spec = as_mapping(service.get("spec"))
        if name == spec.get("clusterIP") or name in as_list(spec.get("clusterIPs")):
            return service
    return None


def ready_endpoints(service: Mapping[str, Any], snapshot: Snapshot) -> int | None:
    """Ready endpoints of the Service's EndpointSlices; else its selected pods that are Ready;
    None when the input holds neither."""
    md = meta(service)
    namespace, name = md.get("namespace") or "", md.get("name")
    slices = [
        s
        for s in snapshot.endpointslices
        if (meta(s).get("namespace") or "") == namespace
        and as_mapping(meta(s).get("labels")).get(SERVICE_NAME_LABEL) == name
    ]
    if slices:
        return sum(
            1
            for s in slices
            for endpoint in map(as_mapping, as_list(s.get("endpoints")))
            # an absent ready condition means ready (discovery.k8s.io/v1)
            if as_mapping(endpoint.get("conditions")).get("ready") is not False
        )
    pods = selected_pods(service, snapshot)
    if not pods and not snapshot.pods:
        return None
    return sum(1 for pod in pods if _pod_ready(pod))


def selected_pods(service: Mapping[str, Any], snapshot: Snapshot) -> list[KubeObject]:
    """The pods of the Service's namespace its selector matches (none without a selector)."""
    selector = as_mapping(as_mapping(service.get("spec")).get("selector"))
    if not selector:
        return []
    namespace = meta(service).get("namespace") or ""
    return [
        pod
        for pod in snapshot.pods_by_namespace.get(namespace, [])
        if all(as_mapping(meta(pod).get("labels")).get(k) == v for k, v in selector.items())
    ]


def _pod_ready(pod: Mapping[str, Any]) -> bool:
    conditions = as_list(as_mapping(pod.get("status")).get("conditions"))
    return any(
        as_mapping(c).get("type") == "Ready" and as_mapping(c).get("status") == "True"
        for c in conditions
    )


def _backing_workload(service: Mapping[str, Any], snapshot: Snapshot) -> ObjectRef | None:
    """The workload owning the pods the Service selects (the first, by name, if several)."""
    refs = {target_of(pod, snapshot)[0] for pod in selected_pods(service, snapshot)}
    return min(refs, key=str) if refs else None
