"""The live reader against an API server on loopback that records every request: the paths
and query parameters it sends, what it makes of the answers, and that the ClusterRole grants
every read it makes."""

from __future__ import annotations

import copy
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from kubernetes.client.exceptions import ApiException

from highpeaks_agent.engine import diagnose, diagnose_target
from highpeaks_agent.engine.delivery import DELIVERY_KINDS
from highpeaks_agent.engine.kinds import BY_KIND, KINDS, TARGET_KINDS
from highpeaks_agent.engine.model import ObjectRef
from highpeaks_agent.errors import Forbidden, TargetNotFound, UnsupportedTarget
from highpeaks_agent.permissions import cluster_role_rules
from highpeaks_agent.sources.live import MAX_NODES, NAMESPACE_KINDS, LiveSource
from highpeaks_agent.visibility import Visibility
from tests.support.loopback import api_client_for
from tests.unit.shipping.shipped import grants

from ..engine import gitops
from ..engine.builders import (
    NOW,
    controller_revision,
    event,
    marked_not_ready,
    node,
    owner_ref,
    pod,
    pvc,
    running,
    terminated,
    uid,
    unreachable_taints,
    waiting,
    with_claim,
)
from ..service.test_diagnosis_service import failing_objects

PATH = re.compile(
    r"^/(?:api|apis/(?P<group>[^/]+))/v[0-9a-z]+(?:/namespaces/(?P<namespace>[^/]+))?/(?P<plural>[^/]+)"
    r"(?:/(?P<name>[^/]+)(?:/(?P<sub>log))?)?$"
)
LOG_TEXT = "panic: cannot reach the database\n"
PLURAL_KIND = {info.plural: info.kind for info in (*KINDS, *DELIVERY_KINDS)}


@dataclass
class RecordingApiServer:
    """Serves objects by path the way the API server does (list items without ``kind``)."""

    objects: list[dict[str, Any]]
    requests: list[str] = field(default_factory=list)
    #: pod name → its log text (else LOG_TEXT)
    logs: dict[str, str] = field(default_factory=dict)
    #: resources (plurals) every request for which is refused with 403
    forbidden: set[str] = field(default_factory=set)

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        match = PATH.match(request.path)
        assert match, request.path
        if match["plural"] in self.forbidden:
            body = {"kind": "Status", "reason": "Forbidden", "code": 403}
            return web.json_response(body, status=403)
        if match["sub"] == "log":
            return web.Response(text=self.logs.get(match["name"], LOG_TEXT))
        kind, namespace = PLURAL_KIND[match["plural"]], match["namespace"]
        found = [
            o
            for o in self.objects
            if o["kind"] == kind and o["metadata"].get("namespace") == namespace
        ]
        if match["name"] is None:
            items = [{k: v for k, v in o.items() if k != "kind"} for o in found]
            return web.json_response({"kind": f"{kind}List", "items": items})
        for obj in found:
            if obj["metadata"]["name"] == match["name"]:
                return web.json_response(obj)
        return web.json_response({"kind": "Status", "reason": "NotFound", "code": 404}, status=404)

    def grants_used(self) -> set[tuple[str, str, str]]:
        """The (API group, resource, verb) triples the recorded requests needed."""
        used = set()
        for path in self.requests:
            match = PATH.match(path.partition("?")[0])
            assert match, path
            resource = match["plural"] + ("/log" if match["sub"] else "")
            used.add((match["group"] or "", resource, "get" if match["name"] else "list"))
        return used


@pytest.fixture
async def cluster() -> AsyncIterator[tuple[RecordingApiServer, LiveSource]]:
    server = RecordingApiServer(objects=[])
    app = web.Application()
    app.router.add_get("/{tail:.*}", server.handle)
    async with api_client_for(app) as api_client:
        yield server, LiveSource(api_client, log_tail_lines=100, log_tail_bytes=16384)


def workload(kind: str, name: str) -> dict[str, Any]:
    info = BY_KIND[kind]
    return {
        "apiVersion": info.api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": "shop", "uid": uid()},
        "spec": {"selector": {"matchLabels": {"app": name}}},
    }


def crashing_pod(owner: dict[str, Any] | None, name: str) -> dict[str, Any]:
    crashed = waiting(restarts=3, last=terminated(1))
    return pod(name, owner=owner, statuses=[crashed])


async def test_a_deployment_is_read_with_the_paths_and_parameters_kubectl_uses(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    dep, rs, crashed = failing_objects()
    server.objects = [dep, rs, crashed, event(crashed, "BackOff", "Back-off restarting")]
    snapshot = await live.target_snapshot("shop", "Deployment", "checkout")
    assert server.requests == [
        "/apis/apps/v1/namespaces/shop/deployments/checkout",
        "/apis/apps/v1/namespaces/shop/replicasets?labelSelector=app%3Dcheckout",
        "/api/v1/namespaces/shop/pods?labelSelector=app%3Dcheckout",
        "/api/v1/namespaces/shop/events",
        f"/api/v1/namespaces/shop/pods/{crashed['metadata']['name']}/log"
        "?container=app&limitBytes=16384&previous=true&tailLines=100",
        "/api/v1/nodes/worker-1",  # not there: a 404 the reader leaves out
    ]
    assert sorted(o["kind"] for o in snapshot.all_objects()) == [
        "Deployment",
        "Event",
        "Pod",
        "ReplicaSet",
    ]
    log = snapshot.logs[("shop", crashed["metadata"]["name"], "app")]
    assert (log.text, log.previous) == (LOG_TEXT, True)


@pytest.mark.parametrize(
    "kind", [k for k in TARGET_KINDS if k not in ("Deployment", "Pod", "CronJob")]
)
async def test_every_controller_kind_is_read_with_its_own_pods(
    cluster: tuple[RecordingApiServer, LiveSource], kind: str
) -> None:
    server, live = cluster
    target, other = workload(kind, "db"), workload(kind, "cache")
    mine, theirs = crashing_pod(target, "db-0"), crashing_pod(other, "cache-0")
    server.objects = [target, other, mine, theirs]
    snapshot = await live.target_snapshot("shop", kind, "db")
    plural = BY_KIND[kind].plural
    assert server.requests[0].endswith(f"/namespaces/shop/{plural}/db")
    assert snapshot.get(kind, "shop", "db") is not None
    assert [p["metadata"]["name"] for p in snapshot.pods] == ["db-0"]
    assert list(snapshot.logs) == [("shop", "db-0", "app")]


def owned_job(cronjob: dict[str, Any], name: str) -> dict[str, Any]:
    job = workload("Job", name)
    job["metadata"]["ownerReferences"] = [owner_ref(cronjob)]
    job["spec"]["selector"] = {"matchLabels": {"controller-uid": job["metadata"]["uid"]}}
    return job


def job_pod(job: dict[str, Any], name: str) -> dict[str, Any]:
    p = crashing_pod(job, name)
    p["metadata"]["labels"] = {"controller-uid": job["metadata"]["uid"]}
    return p


async def test_a_cronjob_is_read_with_its_jobs_and_their_pods(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    nightly, hourly = workload("CronJob", "nightly"), workload("CronJob", "hourly")
    for cj in (nightly, hourly):
        del cj["spec"]["selector"]  # a CronJob has none
    first, second, other = (
        owned_job(nightly, "nightly-1"),
        owned_job(nightly, "nightly-2"),
        owned_job(hourly, "hourly-1"),
    )
    pods = [job_pod(first, "nightly-1-a"), job_pod(second, "nightly-2-a"), job_pod(other, "x")]
    server.objects = [nightly, hourly, first, second, other, *pods]
    snapshot = await live.target_snapshot("shop", "CronJob", "nightly")
    reads = [r for r in server.requests if "/log" not in r]
    assert reads[:2] == [
        "/apis/batch/v1/namespaces/shop/cronjobs/nightly",
        "/apis/batch/v1/namespaces/shop/jobs",
    ]
    assert sorted(reads[2:4]) == sorted(
        f"/api/v1/namespaces/shop/pods?labelSelector=controller-uid%3D{j['metadata']['uid']}"
        for j in (first, second)
    )
    assert [j["metadata"]["name"] for j in snapshot.jobs] == ["nightly-1", "nightly-2"]
    assert sorted(p["metadata"]["name"] for p in snapshot.pods) == ["nightly-1-a", "nightly-2-a"]


@pytest.mark.parametrize("kind", ["StatefulSet", "DaemonSet"])
async def test_a_revisioned_set_is_read_with_its_own_controller_revisions(
    cluster: tuple[RecordingApiServer, LiveSource], kind: str
) -> None:
    server, live = cluster
    target, other = workload(kind, "db"), workload(kind, "cache")
    other["spec"]["selector"] = target["spec"]["selector"]  # overlapping selectors happen
    mine = controller_revision(target, "5d8c7b9f6", 1, "registry.example.com/db:1")
    theirs = controller_revision(other, "6e9d8c0a7", 1, "registry.example.com/cache:1")
    server.objects = [target, other, mine, theirs, crashing_pod(target, "db-0")]
    snapshot = await live.target_snapshot("shop", kind, "db")
    assert "/apis/apps/v1/namespaces/shop/controllerrevisions?labelSelector=app%3Ddb" in (
        server.requests
    )
    assert [r["metadata"]["name"] for r in snapshot.controllerrevisions] == ["db-5d8c7b9f6"]


async def test_claims_are_read_only_when_a_pod_mounts_one(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    target = workload("StatefulSet", "db")
    waiting_pod = with_claim(crashing_pod(target, "db-0"), "data-db-0")
    claim, unrelated = pvc("data-db-0"), pvc("data-cache-0")
    failed = event(claim, "ProvisioningFailed", 'storageclass.storage.k8s.io "fast" not found')
    server.objects = [target, waiting_pod, claim, unrelated, failed]
    snapshot = await live.target_snapshot("shop", "StatefulSet", "db")
    assert [c["metadata"]["name"] for c in snapshot.persistentvolumeclaims] == ["data-db-0"]
    assert [e["reason"] for e in snapshot.events_for(claim)] == ["ProvisioningFailed"]
    server.requests.clear()
    server.objects = [target, crashing_pod(target, "db-0")]
    await live.target_snapshot("shop", "StatefulSet", "db")
    assert not any("persistentvolumeclaims" in r for r in server.requests)


async def test_a_pod_is_its_own_target(cluster: tuple[RecordingApiServer, LiveSource]) -> None:
    server, live = cluster
    server.objects = [crashing_pod(None, "standalone")]
    snapshot = await live.target_snapshot("shop", "Pod", "standalone")
    assert [p["metadata"]["name"] for p in snapshot.pods] == ["standalone"]
    assert server.requests[0] == "/api/v1/namespaces/shop/pods/standalone"


async def test_a_missing_target_is_not_found(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    with pytest.raises(TargetNotFound):
        await cluster[1].target_snapshot("shop", "StatefulSet", "nope")


@pytest.mark.parametrize(
    "kind", ["Event", "CronTab", "ControllerRevision", "PersistentVolumeClaim"]
)
async def test_kinds_that_are_not_targets_are_refused_before_any_read(
    cluster: tuple[RecordingApiServer, LiveSource], kind: str
) -> None:
    server, live = cluster
    with pytest.raises(UnsupportedTarget, match="unsupported target kind"):
        await live.target_snapshot("shop", kind, "x")
    assert server.requests == []


async def test_a_namespace_is_read_kind_by_kind(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    server.objects = failing_objects()
    snapshot = await live.namespace_snapshot("shop")
    lists = sorted(r for r in server.requests if "/log" not in r)
    assert lists == sorted(
        f"{'/apis/' + i.group if i.group else '/api'}/v1/namespaces/shop/{i.plural}"
        for i in NAMESPACE_KINDS
    )
    assert snapshot.get("Deployment", "shop", "checkout") is not None


async def test_the_cluster_role_grants_every_read_the_live_reader_makes(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    for kind in TARGET_KINDS:
        name = f"t-{kind.lower()}"
        target = workload(kind, name) if kind != "Pod" else crashing_pod(None, name)
        mounting = with_claim(crashing_pod(target, f"{name}-0"), f"data-{name}-0")
        server.objects.extend([target, mounting])
        if kind == "CronJob":
            server.objects.append(owned_job(target, f"{name}-1"))
        await live.target_snapshot("shop", kind, name)
    server.objects.append(node())
    lost = marked_not_ready(pod("lost-0", statuses=[running()]))
    server.objects.append(lost)
    await live.namespace_snapshot("shop")
    used = server.grants_used()
    granted = grants(cluster_role_rules())
    assert used - granted == set(), "the live reader makes reads the ClusterRole does not grant"
    for kind in TARGET_KINDS:
        info = BY_KIND[kind]
        assert {(info.group, info.plural, "get"), (info.group, info.plural, "list")} <= used
    assert ("", "pods/log", "get") in used
    assert {
        ("apps", "controllerrevisions", "list"),
        ("batch", "jobs", "list"),
        ("", "persistentvolumeclaims", "list"),
        ("", "nodes", "get"),
    } <= used
    assert ("", "nodes", "list") not in used, "nodes are read by name, never listed"


def test_the_cluster_role_grants_reading_every_kind_of_the_table_the_reader_reads() -> None:
    granted = grants(cluster_role_rules())
    for kind in TARGET_KINDS:
        info = BY_KIND[kind]
        assert (info.group, info.plural, "get") in granted, kind
    for info in NAMESPACE_KINDS:
        assert (info.group, info.plural, "list") in granted, info.kind


async def test_a_deployment_is_read_only_as_far_as_the_caller_may_see(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    """A caller without logs or events: neither is requested at all (CONTRACT §7)."""
    server, live = cluster
    dep, rs, crashed = failing_objects()
    server.objects = [dep, rs, crashed, event(crashed, "BackOff", "Back-off restarting")]
    visible = Visibility(
        kinds=frozenset({"Deployment", "ReplicaSet", "Pod"}), logs=False, events=False
    )
    snapshot = await live.target_snapshot("shop", "Deployment", "checkout", visible=visible)
    assert server.requests == [
        "/apis/apps/v1/namespaces/shop/deployments/checkout",
        "/apis/apps/v1/namespaces/shop/replicasets?labelSelector=app%3Dcheckout",
        "/api/v1/namespaces/shop/pods?labelSelector=app%3Dcheckout",
    ]
    assert snapshot.logs == {} and snapshot.events == []


async def test_without_pods_a_deployment_is_read_alone(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    dep, rs, crashed = failing_objects()
    server.objects = [dep, rs, crashed, event(dep, "ScalingReplicaSet", "Scaled up")]
    visible = Visibility(kinds=frozenset({"Deployment"}), logs=True, events=True)
    snapshot = await live.target_snapshot("shop", "Deployment", "checkout", visible=visible)
    assert server.requests == [
        "/apis/apps/v1/namespaces/shop/deployments/checkout",
        "/api/v1/namespaces/shop/events",
    ]
    assert snapshot.pods == [] and len(snapshot.events) == 1


async def test_a_target_kind_the_caller_may_not_read_is_refused_before_any_read(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    with pytest.raises(Forbidden):
        await live.target_snapshot(
            "shop", "Deployment", "checkout", visible=Visibility(kinds=frozenset({"Pod"}))
        )
    assert server.requests == []


async def test_a_namespace_is_read_only_as_far_as_the_caller_may_see(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    server.objects = failing_objects()
    visible = Visibility(kinds=frozenset({"Pod"}), logs=False, events=False)
    snapshot = await live.namespace_snapshot("shop", visible=visible)
    assert server.requests == ["/api/v1/namespaces/shop/pods"]
    assert [o["kind"] for o in snapshot.all_objects()] == ["Pod"]


def on_node(p: dict[str, Any], name: str) -> dict[str, Any]:
    p["spec"]["nodeName"] = name
    return p


def node_reads(server: RecordingApiServer) -> list[str]:
    return [r for r in server.requests if r.startswith("/api/v1/nodes")]


async def test_a_target_is_read_with_each_node_its_pods_run_on_once(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    target = workload("StatefulSet", "db")
    pods = [
        on_node(crashing_pod(target, "db-0"), "worker-1"),
        on_node(crashing_pod(target, "db-1"), "worker-1"),
        on_node(crashing_pod(target, "db-2"), "worker-gone"),  # deleted with its machine
    ]
    server.objects = [target, *pods, node("worker-1"), node("worker-2")]
    snapshot = await live.target_snapshot("shop", "StatefulSet", "db")
    # read at once, so in no particular order
    assert sorted(node_reads(server)) == ["/api/v1/nodes/worker-1", "/api/v1/nodes/worker-gone"]
    assert [n["metadata"]["name"] for n in snapshot.nodes] == ["worker-1"]
    assert snapshot.node("worker-1")["kind"] == "Node"


async def test_at_most_a_few_nodes_are_read_and_the_lost_ones_first(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    target = workload("DaemonSet", "agent")
    pods = [
        on_node(pod(f"agent-{i}", owner=target, statuses=[running()]), f"worker-{i}")
        for i in range(2 * MAX_NODES)
    ]
    pods.append(on_node(marked_not_ready(pod("agent-lost", owner=target)), "worker-lost"))
    server.objects = [target, *pods]
    await live.target_snapshot("shop", "DaemonSet", "agent")
    reads = node_reads(server)
    assert len(reads) == MAX_NODES
    assert "/api/v1/nodes/worker-lost" in reads


async def test_a_namespace_reads_only_the_nodes_of_pods_that_look_node_related(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    crashing = on_node(crashing_pod(None, "crashing"), "worker-1")
    lost = on_node(marked_not_ready(pod("lost", statuses=[running()])), "worker-2")
    wrong_arch = on_node(crashing_pod(None, "arm-only"), "worker-3")
    reported = on_node(pod("reported", statuses=[running()]), "worker-4")
    server.objects = [
        crashing,
        lost,
        wrong_arch,
        reported,
        event(reported, "NodeNotReady", "Node is not ready"),
        *(node(f"worker-{i}") for i in range(1, 5)),
    ]
    server.logs = {"arm-only": "exec /app/server: exec format error\n"}
    snapshot = await live.namespace_snapshot("shop")
    assert sorted(node_reads(server)) == [
        "/api/v1/nodes/worker-2",
        "/api/v1/nodes/worker-3",
        "/api/v1/nodes/worker-4",
    ]
    assert sorted(n["metadata"]["name"] for n in snapshot.nodes) == [
        "worker-2",
        "worker-3",
        "worker-4",
    ]


async def test_nodes_are_read_only_when_the_caller_may_get_them(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    dep, rs, crashed = failing_objects()
    server.objects = [dep, rs, marked_not_ready(crashed), node()]
    visible = Visibility(kinds=frozenset({"Deployment", "ReplicaSet", "Pod"}))
    snapshot = await live.target_snapshot("shop", "Deployment", "checkout", visible=visible)
    assert node_reads(server) == [] and snapshot.nodes == []
    await live.namespace_snapshot("shop", visible=visible)
    assert node_reads(server) == []
    assert not any("Node" in line for line in visible.withheld()), "extra evidence, never withheld"


async def test_a_node_the_credentials_may_not_get_is_left_out(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    """``diagnose --live`` with a user's own credentials, which often stop at the namespace."""
    server, live = cluster
    dep, rs, crashed = failing_objects()
    server.objects = [dep, rs, crashed, node()]
    server.forbidden = {"nodes"}
    snapshot = await live.target_snapshot("shop", "Deployment", "checkout")
    assert node_reads(server) == ["/api/v1/nodes/worker-1"]
    assert snapshot.nodes == [] and len(snapshot.pods) == 1


async def test_a_live_read_of_a_pod_on_an_unreachable_node_diagnoses_node_not_ready(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    dep, rs, healthy = failing_objects()
    healthy["status"]["containerStatuses"] = [running()]
    lost = node(ready="Unknown", taints=unreachable_taints(), heartbeat_ago=200)
    server.objects = [dep, rs, marked_not_ready(healthy), lost]
    snapshot = await live.target_snapshot("shop", "Deployment", "checkout")
    ref = ObjectRef(kind="Deployment", namespace="shop", name="checkout")
    finding = diagnose_target(snapshot, ref, now=NOW).findings[0]
    assert finding.code == "NodeNotReady"
    assert "NodeStatusUnknown: Kubelet stopped posting node status." in finding.evidence[0]
    assert "node worker-1: taint node.kubernetes.io/unreachable:NoExecute" in finding.evidence


async def test_a_crash_on_a_service_is_followed_to_the_failing_workload_behind_it(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    api = workload("Deployment", "api")
    api_pod = crashing_pod(api, "api-0")
    api_pod["metadata"]["labels"] = {"app": "api"}
    db = workload("StatefulSet", "db")
    image = "registry.example.com/shop/postgres:16.9-missing"
    db_pod = pod("db-0", owner=db, phase="Pending", statuses=[waiting(reason="ImagePullBackOff")])
    db_pod["metadata"]["labels"] = {"app": "db"}
    pulled = event(db_pod, "Failed", f'Failed to pull image "{image}": not found')
    service = {
        "kind": "Service",
        "metadata": {"name": "db", "namespace": "shop", "uid": uid()},
        "spec": {"selector": {"app": "db"}, "clusterIP": "10.96.12.7"},
    }
    endpoints = {
        "kind": "EndpointSlice",
        "metadata": {
            "name": "db-x7k2p",
            "namespace": "shop",
            "labels": {"kubernetes.io/service-name": "db"},
        },
        "endpoints": [{"addresses": ["10.1.2.3"], "conditions": {"ready": False}}],
    }
    server.objects = [api, api_pod, db, db_pod, pulled, service, endpoints]
    server.logs["api-0"] = (
        "Caused by: java.net.ConnectException: Connection refused: db/10.96.12.7:5432\n"
    )
    snapshot = await live.target_snapshot("shop", "Deployment", "api")
    assert {
        "/api/v1/namespaces/shop/services",
        "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices",
        "/api/v1/namespaces/shop/pods?labelSelector=app%3Ddb",
        "/apis/apps/v1/namespaces/shop/statefulsets/db",
    } <= set(server.requests)
    assert server.grants_used() - grants(cluster_role_rules()) == set()

    diagnosis = diagnose_target(
        snapshot, ObjectRef(kind="Deployment", namespace="shop", name="api"), now=NOW
    )
    assert diagnosis is not None
    dependency = diagnosis.findings[0].dependency
    assert dependency is not None and dependency.ready_endpoints == 0
    assert dependency.workload == ObjectRef(kind="StatefulSet", namespace="shop", name="db")
    assert dependency.workload_root_cause == "ImagePullError.NotFound"
    assert "It fails because StatefulSet/shop/db is failing" in diagnosis.summary


async def test_without_the_right_to_list_services_no_dependency_is_read(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    api = workload("Deployment", "api")
    server.objects = [api, crashing_pod(api, "api-0")]
    server.logs["api-0"] = "dial tcp 10.96.12.7:5432: connect: connection refused\n"
    visible = Visibility(kinds=frozenset({"Deployment", "Pod"}))
    await live.target_snapshot("shop", "Deployment", "api", visible=visible)
    assert not any("services" in r or "endpointslices" in r for r in server.requests)


# --- the GitOps source of a failing rollout --------------------------------------------------


def gitops_reads(server: RecordingApiServer) -> list[str]:
    groups = {info.group for info in DELIVERY_KINDS}
    return [r for r in server.requests if r.split("/")[2:3] and r.split("/")[2] in groups]


async def test_an_argocd_workload_costs_one_more_get_its_application(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    server.objects = [*gitops.rollout(annotations=gitops.TRACKING), gitops.application()]
    snapshot = await live.target_snapshot("shop", "Deployment", "checkout")
    assert gitops_reads(server) == [
        "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/checkout"
    ]
    [found] = diagnose(snapshot, now=NOW)
    assert found.rollout is not None and found.rollout.delivery is not None
    assert (found.rollout.delivery.commit, found.rollout.delivery.previous_commit) == (
        gitops.NEW,
        gitops.OLD,
    )
    assert server.grants_used() <= grants(cluster_role_rules())


async def test_a_flux_workload_costs_two_its_kustomization_and_gitrepository(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    server.objects = [*gitops.rollout(labels=gitops.FLUX_LABELS), *gitops.kustomization()]
    snapshot = await live.target_snapshot("shop", "Deployment", "checkout")
    assert gitops_reads(server) == [
        "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/apps",
        "/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories/fleet",
    ]
    [found] = diagnose(snapshot, now=NOW)
    assert found.rollout is not None and found.rollout.delivery is not None
    assert found.rollout.delivery.compare_url.startswith(
        "https://gitlab.com/example/fleet/-/compare/"
    )
    assert server.grants_used() <= grants(cluster_role_rules())


@pytest.mark.parametrize(
    ("forbidden", "reason"),
    [
        ({"applications"}, "reading it is forbidden"),
        (set(), "not found (its CRD or the object is absent)"),
    ],
)
async def test_a_forbidden_or_absent_application_is_skipped_and_said(
    cluster: tuple[RecordingApiServer, LiveSource], forbidden: set[str], reason: str
) -> None:
    server, live = cluster
    server.objects = gitops.rollout(annotations=gitops.TRACKING)
    server.forbidden = forbidden
    snapshot = await live.target_snapshot("shop", "Deployment", "checkout")
    assert snapshot.unread_sources == {("Application", "argocd", "checkout"): reason}
    [found] = diagnose(snapshot, now=NOW)
    assert found.findings[0].code.startswith("CrashLoopBackOff")
    assert found.rollout is not None and found.rollout.delivery is not None
    assert (
        found.rollout.delivery.note
        == f"Could not see the GitOps source Application argocd/checkout: {reason}."
    )


async def test_an_instance_label_without_an_application_is_no_gitops_source(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    server.objects = gitops.rollout(labels={"app.kubernetes.io/instance": "checkout"})
    snapshot = await live.target_snapshot("shop", "Deployment", "checkout")
    assert len(gitops_reads(server)) == 1 and snapshot.unread_sources == {}
    [found] = diagnose(snapshot, now=NOW)
    assert found.rollout is not None and found.rollout.delivery is None


async def test_an_assist_callers_share_never_reads_gitops_sources(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    server.objects = [*gitops.rollout(annotations=gitops.TRACKING), gitops.application()]
    visible = Visibility(kinds=frozenset({"Deployment", "ReplicaSet", "Pod"}))
    snapshot = await live.target_snapshot("shop", "Deployment", "checkout", visible=visible)
    assert gitops_reads(server) == []
    reason = "not read with the asker's rights"
    assert snapshot.unread_sources == {("Application", "argocd", "checkout"): reason}


async def test_a_namespace_reads_each_source_of_a_rolling_workload_once(
    cluster: tuple[RecordingApiServer, LiveSource],
) -> None:
    server, live = cluster
    failing = gitops.rollout(annotations=gitops.TRACKING)
    second = copy.deepcopy(failing[0])
    second["metadata"].update(name="checkout-canary", uid=uid())
    healthy = copy.deepcopy(failing[0])
    healthy["metadata"].update(name="web", uid=uid())
    healthy["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] = (
        "web:apps/Deployment:shop/web"
    )
    healthy["status"].update(updatedReplicas=1, availableReplicas=1, readyReplicas=1)
    server.objects = [*failing, second, healthy, gitops.application()]
    await live.namespace_snapshot("shop")
    assert gitops_reads(server) == [
        "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/checkout"
    ]


@pytest.mark.parametrize(("status", "read"), [(503, False), (429, False), (400, True)])
async def test_a_log_the_server_cannot_give_now_fails_the_read_rather_than_the_diagnosis(
    status: int, read: bool
) -> None:
    """A 5xx or 429 on a crashed container's log fails the look, which is made again: deciding
    without the log would publish a less refined cause, then a second note once it is read.
    A 400 ("previous terminated container not found") is an answer: no log."""
    server = RecordingApiServer(objects=list(failing_objects()))

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/log"):
            return web.json_response({"kind": "Status", "code": status}, status=status)
        return await server.handle(request)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    async with api_client_for(app) as api_client:
        live = LiveSource(api_client, log_tail_lines=100, log_tail_bytes=16384)
        if read:
            snapshot = await live.target_snapshot("shop", "Deployment", "checkout")
            assert not snapshot.logs
        else:
            with pytest.raises(ApiException) as raised:
                await live.target_snapshot("shop", "Deployment", "checkout")
            assert raised.value.status == status
