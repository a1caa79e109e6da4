"""Plays kubelet for the nodes of the test control plane.

The real controllers and scheduler make and bind pods; nothing runs them. This player keeps
Ready Node objects and their Leases, and for every pod bound to one of its nodes writes what a
kubelet would: container statuses, restarts, terminations, the pod phase and conditions, the
Events kubelet posts (worded as kubelet words them), and the container logs, served the way
kubelet serves them (``/containerLogs/NS/POD/CONTAINER`` over HTTPS at the Node's kubelet
port), so ``pods/log`` goes through the real API server.

What a container does is read from its spec, the way a reader of the manifest would expect:
an ``sh -c`` script of ``echo`` lines and an ``exit N`` prints those lines and exits with N;
an image whose name contains ``pull-missing`` or ``does-not-exist`` is not found by the
registry, ``pull-denied`` is refused; ``oom`` is killed by the kernel; ``crash`` exits 1;
anything else runs and becomes Ready. A ConfigMap the container's env names that does not
exist holds it in CreateContainerConfigError until it does, as kubelet's would.
"""

from __future__ import annotations

import hashlib
import http.server
import logging
import re
import shlex
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from tests.support.cluster.pki import CertificateAuthority

TICK = 0.5
#: Restarts a crash-looping container reaches before the player stops counting (a real
#: kubelet backs off to five minutes; the tests need only "more than three").
MAX_RESTARTS = 5
_ECHO = re.compile(r"""^echo\s+(?:'([^']*)'|"([^"]*)"|(.*?))\s*(?:[12]?>&[12])?$""")


class _NotFromThePlayer(logging.Filter):
    """Keeps the player's own requests (a lease renewal every few seconds, a pod list every
    tick) out of the ``httpx`` log, which the session's other tests read as their own."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != PLAYER_THREAD


PLAYER_THREAD = "kubelet-player"
_QUIET = _NotFromThePlayer()


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Plan:
    """What one container does when started."""

    lines: tuple[str, ...] = ("started",)
    exit_code: int | None = None  # None: runs until stopped
    pull_error: str = ""  # the registry's answer when the image cannot be pulled
    oom: bool = False


def plan_for(container: dict[str, Any]) -> Plan:
    image: str = container.get("image", "")
    if "pull-missing" in image or "does-not-exist" in image:
        return Plan(
            pull_error=f'rpc error: code = NotFound desc = failed to pull and unpack image "{image}": '
            f'failed to resolve reference "{image}": {image}: not found'
        )
    if "pull-denied" in image:
        return Plan(
            pull_error=f'rpc error: code = Unknown desc = failed to pull and unpack image "{image}": '
            f'failed to resolve reference "{image}": pull access denied, repository does not exist '
            "or may require authorization: server message: insufficient_scope: authorization failed"
        )
    if "oom" in image:
        return Plan(lines=("allocating",), exit_code=137, oom=True)
    script = _script(container)
    if script is not None:
        return script
    if "crash" in image:
        return Plan(lines=("starting", "fatal: cannot start"), exit_code=1)
    return Plan()


def _script(container: dict[str, Any]) -> Plan | None:
    words = [*container.get("command", []), *container.get("args", [])]
    if len(words) < 3 or words[0] not in ("sh", "/bin/sh", "bash") or words[1] != "-c":
        return None
    lines: list[str] = []
    exit_code: int | None = None
    for raw in re.split(r"[;\n]", words[2]):
        statement = raw.strip()
        if match := _ECHO.match(statement):
            lines.append(next(group for group in match.groups() if group is not None))
        elif statement.startswith("exit"):
            exit_code = int(shlex.split(statement)[1]) if len(statement.split()) > 1 else 0
            break
    return Plan(lines=tuple(lines), exit_code=exit_code)


@dataclass
class ContainerRun:
    """One container's life so far, as kubelet would track it."""

    name: str
    image: str
    plan: Plan
    restarts: int = 0
    started_at: str = ""
    finished_at: str = ""
    ticks: int = 0
    logs: list[list[str]] = field(default_factory=list)  # one list per instance

    def container_id(self) -> str:
        digest = hashlib.sha256(f"{self.name}{self.restarts}{self.started_at}".encode()).hexdigest()
        return f"containerd://{digest}"


@dataclass
class PodRun:
    uid: str
    namespace: str
    name: str
    node: str
    ip: str
    restart_policy: str
    containers: dict[str, ContainerRun]
    started: str = field(default_factory=now)
    ticks: int = 0


class KubeletPlayer:
    """Nodes, their Leases, and the kubelet's part for their pods, from a background thread."""

    def __init__(
        self, url: str, client: httpx.Client, ca: CertificateAuthority, nodes: int = 2
    ) -> None:
        self.url = url
        self.http = client
        self.nodes = [f"node-{i}" for i in range(1, nodes + 1)]
        self.pods: dict[str, PodRun] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._events: dict[tuple[str, str, str], tuple[str, int]] = {}
        self._ips = iter(f"10.244.{i // 250}.{i % 250 + 2}" for i in range(1, 60000))
        self._server = _LogServer(self, ca)
        self.port = self._server.port
        self._thread = threading.Thread(target=self._run, name=PLAYER_THREAD, daemon=True)
        self.stopped_nodes: set[str] = set()
        self.errors: list[str] = []

    def start(self) -> None:
        logging.getLogger("httpx").addFilter(_QUIET)
        self._server.start()
        for node in self.nodes:
            self._register(node)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self._server.stop()
        logging.getLogger("httpx").removeFilter(_QUIET)

    # --- nodes -------------------------------------------------------------------------

    def _register(self, node: str) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": node,
                "labels": {
                    "kubernetes.io/hostname": node,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                },
            },
        }
        self._ok(self.http.post("/api/v1/nodes", json=body), 409)
        self._ok(
            self.http.patch(
                f"/api/v1/nodes/{node}/status",
                json={"status": self._node_status(node)},
                headers={"Content-Type": "application/merge-patch+json"},
            )
        )
        self._renew_lease(node)

    def _node_status(self, node: str) -> dict[str, Any]:
        resources = {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"}
        stamp = now()

        def condition(kind: str, status: str, reason: str) -> dict[str, str]:
            return {
                "type": kind,
                "status": status,
                "reason": reason,
                "message": reason,
                "lastHeartbeatTime": stamp,
                "lastTransitionTime": stamp,
            }

        return {
            "capacity": resources,
            "allocatable": resources,
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID"),
                condition("Ready", "True", "KubeletReady"),
            ],
            "addresses": [
                {"type": "InternalIP", "address": "127.0.0.1"},
                {"type": "Hostname", "address": node},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": self.port}},
            "nodeInfo": {
                "architecture": "amd64",
                "operatingSystem": "linux",
                "kubeletVersion": "v1.37.2",
                "kubeProxyVersion": "",
                "containerRuntimeVersion": "containerd://2.2.0",
                "kernelVersion": "6.12.0",
                "osImage": "Debian GNU/Linux 13 (trixie)",
                "machineID": hashlib.md5(node.encode()).hexdigest(),
                "systemUUID": hashlib.md5(node.encode()).hexdigest(),
                "bootID": hashlib.md5(node.encode()).hexdigest(),
            },
        }

    def _renew_lease(self, node: str) -> None:
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": node, "namespace": "kube-node-lease"},
            "spec": {
                "holderIdentity": node,
                "leaseDurationSeconds": 40,
                "renewTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            },
        }
        path = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{node}"
        response = self.http.patch(
            path,
            json={"spec": lease["spec"]},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        if response.status_code == 404:
            response = self.http.post(
                "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", json=lease
            )
        self._ok(response, 409)

    def stop_node(self, node: str) -> None:
        """The node stops reporting, as when its kubelet dies: no lease renewals from now."""
        self.stopped_nodes.add(node)

    # --- the loop ----------------------------------------------------------------------

    def _run(self) -> None:
        last_lease = 0.0
        while not self._stop.wait(TICK):
            try:
                if time.monotonic() - last_lease > 5:
                    for node in self.nodes:
                        if node not in self.stopped_nodes:
                            self._renew_lease(node)
                    last_lease = time.monotonic()
                self._sync_pods()
            except Exception as exc:  # the player keeps going; a test reads .errors
                self.errors.append(repr(exc))

    def _sync_pods(self) -> None:
        response = self.http.get("/api/v1/pods", params={"fieldSelector": "spec.nodeName!="})
        self._ok(response)
        seen = set()
        for pod in response.json()["items"]:
            meta, spec = pod["metadata"], pod["spec"]
            if spec.get("nodeName") not in self.nodes or spec["nodeName"] in self.stopped_nodes:
                continue
            seen.add(meta["uid"])
            if meta.get("deletionTimestamp"):
                self._finish_deletion(pod)
                continue
            run = self.pods.get(meta["uid"]) or self._admit(pod)
            if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
                continue
            self._advance(pod, run)
        with self._lock:
            for uid in set(self.pods) - seen:
                del self.pods[uid]

    def _admit(self, pod: dict[str, Any]) -> PodRun:
        meta, spec = pod["metadata"], pod["spec"]
        run = PodRun(
            uid=meta["uid"],
            namespace=meta["namespace"],
            name=meta["name"],
            node=spec["nodeName"],
            ip=next(self._ips),
            restart_policy=spec.get("restartPolicy", "Always"),
            containers={
                c["name"]: ContainerRun(c["name"], c["image"], plan_for(c))
                for c in spec["containers"]
            },
        )
        with self._lock:
            self.pods[run.uid] = run
        for container in run.containers.values():
            if not container.plan.pull_error:
                self._event(
                    pod, "Pulled", f'Container image "{container.image}" already present on machine'
                )
        return run

    def _finish_deletion(self, pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        response = self.http.request(
            "DELETE",
            f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}",
            json={
                "kind": "DeleteOptions",
                "apiVersion": "v1",
                "gracePeriodSeconds": 0,
                "preconditions": {"uid": meta["uid"]},
            },
        )
        self._ok(response, 404, 409)

    # --- containers --------------------------------------------------------------------

    def _advance(self, pod: dict[str, Any], run: PodRun) -> None:
        run.ticks += 1
        statuses = [self._step(pod, run, c) for c in run.containers.values()]
        ready = all(s.get("ready") for s in statuses)
        terminated = [s["state"].get("terminated") for s in statuses]
        phase = "Running"
        if run.restart_policy != "Always" and all(terminated):
            phase = "Failed" if any(t["exitCode"] for t in terminated if t) else "Succeeded"
        elif any("waiting" in s["state"] for s in statuses) and not any(
            s["restartCount"] for s in statuses
        ):
            phase = "Pending"
        stamp = now()

        def condition(kind: str, ok: bool, reason: str = "") -> dict[str, Any]:
            entry: dict[str, Any] = {
                "type": kind,
                "status": "True" if ok else "False",
                "lastTransitionTime": stamp,
                "lastProbeTime": None,
            }
            if reason:
                entry["reason"] = reason
            return entry

        status = {
            "phase": phase,
            "hostIP": "127.0.0.1",
            "hostIPs": [{"ip": "127.0.0.1"}],
            "podIP": run.ip,
            "podIPs": [{"ip": run.ip}],
            "startTime": run.started,
            "qosClass": pod.get("status", {}).get("qosClass", "BestEffort"),
            "conditions": [
                condition("PodReadyToStartContainers", True),
                condition("Initialized", True),
                condition("ContainersReady", ready, "" if ready else "ContainersNotReady"),
                condition("Ready", ready, "" if ready else "ContainersNotReady"),
                condition("PodScheduled", True),
            ],
            "containerStatuses": statuses,
        }
        old = pod.get("status", {})
        if _same(old, status):
            return
        response = self.http.patch(
            f"/api/v1/namespaces/{run.namespace}/pods/{run.name}/status",
            json={"status": status},
            headers={"Content-Type": "application/merge-patch+json"},
        )
        self._ok(response, 404, 409)

    def _step(self, pod: dict[str, Any], run: PodRun, c: ContainerRun) -> dict[str, Any]:
        c.ticks += 1
        base = {
            "name": c.name,
            "image": c.image,
            "imageID": "",
            "restartCount": c.restarts,
            "started": False,
            "ready": False,
        }
        if c.plan.pull_error:
            waiting = "ErrImagePull" if c.ticks % 4 in (1, 2) else "ImagePullBackOff"
            if waiting == "ErrImagePull":
                self._event(pod, "Pulling", f'Pulling image "{c.image}"')
                self._event(
                    pod,
                    "Failed",
                    f'Failed to pull image "{c.image}": {c.plan.pull_error}',
                    warning=True,
                )
                self._event(pod, "Failed", "Error: ErrImagePull", warning=True)
                message = c.plan.pull_error
            else:
                self._event(pod, "BackOff", f'Back-off pulling image "{c.image}"', warning=True)
                message = f'Back-off pulling image "{c.image}": ErrImagePull: {c.plan.pull_error}'
            return {**base, "state": {"waiting": {"reason": waiting, "message": message}}}
        if not c.started_at and (problem := self._missing_config(pod, c.name)):
            # kubelet resolves env references when it creates the container, so a missing
            # ConfigMap holds the container before it ever starts, until the object appears.
            self._event(pod, "Failed", f"Error: {problem}", warning=True)
            return {
                **base,
                "state": {"waiting": {"reason": "CreateContainerConfigError", "message": problem}},
            }
        image_id = f"{c.image.split(':')[0]}@sha256:{hashlib.sha256(c.image.encode()).hexdigest()}"
        base["imageID"] = image_id
        if not c.started_at:
            self._start_instance(pod, c)
        if c.plan.exit_code is None:
            return {
                **base,
                "containerID": c.container_id(),
                "started": True,
                "ready": True,
                "state": {"running": {"startedAt": c.started_at}},
            }
        return self._after_exit(pod, run, c, base)

    def _missing_config(self, pod: dict[str, Any], container: str) -> str:
        """kubelet's message for the first ConfigMap (or key) the container's env names that
        does not exist; empty when all do (optional references may be missing)."""
        spec = next(c for c in pod["spec"]["containers"] if c["name"] == container)
        namespace = pod["metadata"]["namespace"]
        wanted = [
            (source["configMapRef"]["name"], None)
            for source in spec.get("envFrom", [])
            if "configMapRef" in source and not source["configMapRef"].get("optional")
        ] + [
            (ref["name"], ref["key"])
            for env in spec.get("env", [])
            if (ref := (env.get("valueFrom") or {}).get("configMapKeyRef"))
            and not ref.get("optional")
        ]
        for name, key in wanted:
            found = self.http.get(f"/api/v1/namespaces/{namespace}/configmaps/{name}")
            if found.status_code == 404:
                return f'configmap "{name}" not found'
            if key is not None and key not in (found.json().get("data") or {}):
                return f"couldn't find key {key} in ConfigMap {namespace}/{name}"
        return ""

    def _start_instance(self, pod: dict[str, Any], c: ContainerRun) -> None:
        c.started_at = now()
        c.finished_at = ""
        with self._lock:
            c.logs.append(list(c.plan.lines))
        self._event(pod, "Created", f"Created container: {c.name}")
        self._event(pod, "Started", f"Started container {c.name}")

    def _after_exit(
        self, pod: dict[str, Any], run: PodRun, c: ContainerRun, base: dict[str, Any]
    ) -> dict[str, Any]:
        code = c.plan.exit_code or 0
        if not c.finished_at:
            c.finished_at = now()
        reason = "OOMKilled" if c.plan.oom else ("Completed" if code == 0 else "Error")
        terminated = {
            "exitCode": code,
            "reason": reason,
            "startedAt": c.started_at,
            "finishedAt": c.finished_at,
            "containerID": c.container_id(),
        }
        restarts = run.restart_policy == "Always" or (run.restart_policy == "OnFailure" and code)
        if not restarts:
            return {**base, "containerID": c.container_id(), "state": {"terminated": terminated}}
        if c.ticks % 2 == 0 and c.restarts < MAX_RESTARTS:
            # The back-off ran out: kubelet starts a new instance, which exits the same way.
            c.restarts += 1
            self._start_instance(pod, c)
            c.finished_at = now()
            terminated = {
                **terminated,
                "startedAt": c.started_at,
                "finishedAt": c.finished_at,
                "containerID": c.container_id(),
            }
        self._event(
            pod,
            "BackOff",
            f"Back-off restarting failed container {c.name} in pod {run.name}_{run.namespace}({run.uid})",
            warning=True,
        )
        message = f"back-off 10s restarting failed container={c.name} pod={run.name}_{run.namespace}({run.uid})"
        return {
            **base,
            "restartCount": c.restarts,
            "containerID": c.container_id(),
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": message}},
            "lastState": {"terminated": terminated},
        }

    # --- events and logs -----------------------------------------------------------------

    def _event(
        self, pod: dict[str, Any], reason: str, message: str, *, warning: bool = False
    ) -> None:
        meta = pod["metadata"]
        key = (meta["uid"], reason, message)
        stamp = now()
        if key in self._events:
            name, count = self._events[key]
            self._events[key] = (name, count + 1)
            response = self.http.patch(
                f"/api/v1/namespaces/{meta['namespace']}/events/{name}",
                json={"count": count + 1, "lastTimestamp": stamp},
                headers={"Content-Type": "application/merge-patch+json"},
            )
            self._ok(response, 404)
            return
        name = f"{meta['name']}.{hashlib.sha256(repr(key).encode()).hexdigest()[:16]}"
        self._events[key] = (name, 1)
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": meta["namespace"]},
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "Pod",
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta["uid"],
                "fieldPath": f"spec.containers{{{pod['spec']['containers'][0]['name']}}}",
            },
            "reason": reason,
            "message": message,
            "type": "Warning" if warning else "Normal",
            "source": {"component": "kubelet", "host": pod["spec"]["nodeName"]},
            "reportingComponent": "kubelet",
            "reportingInstance": pod["spec"]["nodeName"],
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        }
        self._ok(self.http.post(f"/api/v1/namespaces/{meta['namespace']}/events", json=body), 409)

    def container_log(
        self, namespace: str, pod: str, container: str, previous: bool
    ) -> list[str] | None:
        with self._lock:
            for run in self.pods.values():
                if (run.namespace, run.name) == (namespace, pod) and container in run.containers:
                    logs = run.containers[container].logs
                    index = -2 if previous else -1
                    if len(logs) < (2 if previous else 1):
                        return None
                    return list(logs[index])
        return None

    def _ok(self, response: httpx.Response, *tolerated: int) -> None:
        if response.status_code >= 400 and response.status_code not in tolerated:
            raise RuntimeError(
                f"{response.request.method} {response.request.url}: {response.status_code} {response.text[:400]}"
            )


def _same(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Equal but for the timestamps of conditions, which kubelet only moves on a change."""

    def shape(status: dict[str, Any]) -> Any:
        conditions = sorted((c.get("type"), c.get("status")) for c in status.get("conditions", []))
        return (
            status.get("phase"),
            status.get("podIP"),
            conditions,
            [
                (
                    c.get("name"),
                    c.get("restartCount"),
                    sorted(c.get("state", {})),
                    c.get("ready"),
                    next(iter(c.get("state", {}).values()), {}).get("reason"),
                )
                for c in status.get("containerStatuses", [])
            ],
        )

    return bool(shape(old) == shape(new))


class _LogServer:
    """kubelet's log endpoint: HTTPS, client certificates of the test CA only."""

    def __init__(self, player: KubeletPlayer, ca: CertificateAuthority) -> None:
        pair = ca.issue("kubelet", "kubelet", hosts=("127.0.0.1", "localhost"), server=True)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pair.cert, pair.key)
        context.load_verify_locations(ca.cert)
        context.verify_mode = ssl.CERT_REQUIRED
        handler = _handler(player)
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="kubelet-logs", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(player: KubeletPlayer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            parts = [unquote(p) for p in url.path.strip("/").split("/")]
            if len(parts) != 4 or parts[0] != "containerLogs":
                self._answer(404, "not found")
                return
            query = parse_qs(url.query)
            previous = query.get("previous", ["false"])[0] == "true"
            lines = player.container_log(parts[1], parts[2], parts[3], previous)
            if lines is None:
                which = "previous terminated" if previous else ""
                self._answer(
                    400, f'{which} container "{parts[3]}" in pod "{parts[2]}" not found'.strip()
                )
                return
            if "tailLines" in query:
                tail = int(query["tailLines"][0])
                lines = lines[-tail:] if tail else []
            text = "".join(f"{line}\n" for line in lines)
            if "limitBytes" in query:
                text = text.encode()[: int(query["limitBytes"][0])].decode(errors="ignore")
            self._answer(200, text)

        def _answer(self, code: int, text: str) -> None:
            body = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
