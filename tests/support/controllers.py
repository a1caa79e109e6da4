"""What the workload controllers and the kubelet would write, written by the tests.

The emulated API server runs no controllers: these helpers create the ReplicaSet of each
revision and its pods (owned through ownerReferences, labelled with ``pod-template-hash``),
a StatefulSet's or DaemonSet's ControllerRevisions and their pods (labelled with
``controller-revision-hash``),
write pod and Deployment status through ``/status`` and post the Events and log lines kubelet
would, worded the way kubelet words them. Everything goes over HTTP through the official
client, exactly as a real controller's writes would arrive.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes import client

from tests.support.apiserver.serve import RunningApiServer


def _ts(seconds_ago: float = 0) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _owner(obj: Any, kind: str, api_version: str = "apps/v1") -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


class SimulatedControllers:
    """Plays the controller-manager and kubelet for one namespace of the emulated cluster."""

    def __init__(self, api: client.ApiClient, server: RunningApiServer, namespace: str) -> None:
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.batch = client.BatchV1Api(api)
        self.server = server
        self.ns = namespace
        self._pods = 0
        self.core.create_namespace({"metadata": {"name": namespace}})

    # --- Deployments and ReplicaSets ---------------------------------------------------

    def deployment(
        self, name: str, image: str, *, replicas: int = 3, env: list[Any] | None = None
    ) -> Any:
        body = {
            "metadata": {"name": name, "labels": {"app": name}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": self._template(name, image, env),
            },
        }
        return self.apps.create_namespaced_deployment(self.ns, body, _preload_content=False)

    def _template(self, name: str, image: str, env: list[Any] | None) -> dict[str, Any]:
        return {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "app", "image": image, "env": env or []}]},
        }

    def rollout(self, name: str, revision: int, image: str, env: list[Any] | None = None) -> str:
        """Roll ``name`` to ``revision`` with ``image``: new template, annotation, ReplicaSet."""
        template = self._template(name, image, env)
        self.apps.patch_namespaced_deployment(
            name,
            self.ns,
            {
                "metadata": {"annotations": {"deployment.kubernetes.io/revision": str(revision)}},
                "spec": {"template": template},
            },
        )
        deployment = self.read_deployment(name)
        pod_hash = hashlib.sha256(f"{name}{image}{revision}".encode()).hexdigest()[:10]
        template["metadata"]["labels"]["pod-template-hash"] = pod_hash
        rs_name = f"{name}-{pod_hash}"
        self.apps.create_namespaced_replica_set(
            self.ns,
            {
                "metadata": {
                    "name": rs_name,
                    "labels": {"app": name, "pod-template-hash": pod_hash},
                    "annotations": {"deployment.kubernetes.io/revision": str(revision)},
                    "ownerReferences": [_owner(deployment, "Deployment")],
                },
                "spec": {
                    "replicas": deployment["spec"]["replicas"],
                    "selector": {"matchLabels": {"app": name, "pod-template-hash": pod_hash}},
                    "template": template,
                },
            },
        )
        return rs_name

    def read_deployment(self, name: str) -> Any:
        import json

        return json.loads(
            self.apps.read_namespaced_deployment(name, self.ns, _preload_content=False).data
        )

    def deployment_status(
        self, name: str, *, updated: int, available: int, progressing: bool = True
    ) -> None:
        deployment = self.read_deployment(name)
        replicas = deployment["spec"]["replicas"]
        conditions = [
            {
                "type": "Available",
                "status": "True" if available >= replicas else "False",
                "reason": "MinimumReplicasAvailable"
                if available >= replicas
                else "MinimumReplicasUnavailable",
                "message": "Deployment has minimum availability."
                if available >= replicas
                else "Deployment does not have minimum availability.",
                "lastTransitionTime": _ts(),
                "lastUpdateTime": _ts(),
            },
            {
                "type": "Progressing",
                "status": "True" if progressing else "False",
                "reason": "NewReplicaSetAvailable"
                if available >= replicas
                else "ReplicaSetUpdated",
                "message": f'ReplicaSet "{name}" is progressing.',
                "lastTransitionTime": _ts(),
                "lastUpdateTime": _ts(),
            },
        ]
        self.apps.patch_namespaced_deployment_status(
            name,
            self.ns,
            {
                "status": {
                    "observedGeneration": deployment["metadata"]["generation"],
                    "replicas": replicas,
                    "updatedReplicas": updated,
                    "readyReplicas": available,
                    "availableReplicas": available,
                    "unavailableReplicas": max(replicas - available, 0) or None,
                    "conditions": conditions,
                }
            },
        )

    # --- StatefulSets and DaemonSets -------------------------------------------------------

    def revisioned(self, kind: str, name: str, image: str, *, replicas: int = 2) -> Any:
        """A StatefulSet or DaemonSet (no revision yet: :meth:`revision` adds them)."""
        spec: dict[str, Any] = {
            "selector": {"matchLabels": {"app": name}},
            "template": self._template(name, image, None),
        }
        if kind == "StatefulSet":
            spec |= {"replicas": replicas, "serviceName": name}
            create = self.apps.create_namespaced_stateful_set
        else:
            create = self.apps.create_namespaced_daemon_set
        body = {"metadata": {"name": name, "labels": {"app": name}}, "spec": spec}
        return self._json(create(self.ns, body, _preload_content=False))

    def revision(self, kind: str, name: str, number: int, image: str) -> str:
        """Roll ``name`` to a new template: the ControllerRevision the controller records
        (``revision`` numbered, ``data`` the template patch), named ``<name>-<hash>``.
        Returns the value its pods carry in ``controller-revision-hash``: the revision's
        name for a StatefulSet, only the hash for a DaemonSet."""
        template = self._template(name, image, None)
        read, patch = self._revisioned_calls(kind)
        patch(name, self.ns, {"spec": {"template": template}})
        owner = self._json(read(name, self.ns, _preload_content=False))
        revision_hash = hashlib.sha256(f"{name}{image}{number}".encode()).hexdigest()[:10]
        revision_name = f"{name}-{revision_hash}"
        self.apps.create_namespaced_controller_revision(
            self.ns,
            {
                "metadata": {
                    "name": revision_name,
                    "labels": {"app": name, "controller-revision-hash": revision_hash},
                    "ownerReferences": [_owner(owner, kind)],
                },
                "revision": number,
                "data": {"spec": {"template": {**template, "$patch": "replace"}}},
            },
        )
        return revision_name if kind == "StatefulSet" else revision_hash

    def _revisioned_calls(self, kind: str) -> tuple[Any, Any]:
        if kind == "StatefulSet":
            return self.apps.read_namespaced_stateful_set, self.apps.patch_namespaced_stateful_set
        return self.apps.read_namespaced_daemon_set, self.apps.patch_namespaced_daemon_set

    def revisioned_pod(self, kind: str, name: str, revision: str, ordinal: int) -> str:
        """Pod ``ordinal`` of the StatefulSet (``<name>-<ordinal>``) or DaemonSet (one per
        node, ``worker-<ordinal>``) at ``revision``."""
        read, _ = self._revisioned_calls(kind)
        owner = self._json(read(name, self.ns, _preload_content=False))
        pod = f"{name}-{ordinal}" if kind == "StatefulSet" else f"{name}-{revision[:5]}{ordinal}"
        template = owner["spec"]["template"]
        self.core.create_namespaced_pod(
            self.ns,
            {
                "metadata": {
                    "name": pod,
                    "labels": {
                        **template["metadata"]["labels"],
                        "controller-revision-hash": revision,
                    },
                    "ownerReferences": [_owner(owner, kind)],
                },
                "spec": {**template["spec"], "nodeName": f"worker-{ordinal}"},
            },
        )
        return pod

    def statefulset_status(
        self, name: str, *, ready: int, updated: int, current: str, update: str
    ) -> None:
        sts = self._json(
            self.apps.read_namespaced_stateful_set(name, self.ns, _preload_content=False)
        )
        replicas = sts["spec"]["replicas"]
        self.apps.patch_namespaced_stateful_set_status(
            name,
            self.ns,
            {
                "status": {
                    "observedGeneration": sts["metadata"]["generation"],
                    "replicas": replicas,
                    "readyReplicas": ready,
                    "availableReplicas": ready,
                    "currentReplicas": replicas - updated,
                    "updatedReplicas": updated,
                    "currentRevision": current,
                    "updateRevision": update,
                }
            },
        )

    def daemonset_status(self, name: str, *, desired: int, updated: int, available: int) -> None:
        ds = self._json(self.apps.read_namespaced_daemon_set(name, self.ns, _preload_content=False))
        self.apps.patch_namespaced_daemon_set_status(
            name,
            self.ns,
            {
                "status": {
                    "observedGeneration": ds["metadata"]["generation"],
                    "desiredNumberScheduled": desired,
                    "currentNumberScheduled": desired,
                    "numberMisscheduled": 0,
                    "updatedNumberScheduled": updated,
                    "numberReady": available,
                    "numberAvailable": available,
                    "numberUnavailable": max(desired - available, 0) or None,
                }
            },
        )

    def image_pull_failing(self, pod: str, image: str) -> None:
        """kubelet cannot pull the image: the registry says it does not exist."""
        self._status(
            pod,
            running=False,
            ready=False,
            restarts=0,
            waiting={"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'},
        )
        self._kubelet_event(
            pod,
            "Failed",
            f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull '
            f'and unpack image "{image}": failed to resolve reference "{image}": {image}: not found',
            3,
        )

    # --- CronJobs and Jobs ---------------------------------------------------------------

    def cronjob(self, name: str, image: str) -> Any:
        body = {
            "metadata": {"name": name},
            "spec": {
                "schedule": "0 2 * * *",
                "jobTemplate": {"spec": {"template": self._job_template(name, image, {})}},
            },
        }
        return self._json(
            self.batch.create_namespaced_cron_job(self.ns, body, _preload_content=False)
        )

    def job(self, name: str, image: str, *, cronjob: Any = None, backoff_limit: int = 2) -> Any:
        """A Job selecting its pods by its own uid, as the job controller defaults it."""
        metadata: dict[str, Any] = {"name": name}
        if cronjob is not None:
            metadata["ownerReferences"] = [_owner(cronjob, "CronJob", "batch/v1")]
        body = {
            "metadata": metadata,
            "spec": {
                "backoffLimit": backoff_limit,
                "template": self._job_template(name, image, {}),
            },
        }
        job = self._json(self.batch.create_namespaced_job(self.ns, body, _preload_content=False))
        selector = {"batch.kubernetes.io/controller-uid": job["metadata"]["uid"]}
        return self._json(
            self.batch.patch_namespaced_job(
                name,
                self.ns,
                {
                    "spec": {
                        "selector": {"matchLabels": selector},
                        "template": self._job_template(name, image, selector),
                    }
                },
                _preload_content=False,
            )
        )

    def _job_template(self, name: str, image: str, labels: dict[str, str]) -> dict[str, Any]:
        return {
            "metadata": {"labels": {"batch.kubernetes.io/job-name": name, **labels}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "app", "image": image}]},
        }

    def job_pod_failed(self, job: Any, log: str, *, exit_code: int = 1) -> str:
        """One attempt of the Job: a pod whose container exited non-zero for good."""
        self._pods += 1
        name = f"{job['metadata']['name']}-{self._pods:05d}"
        template = job["spec"]["template"]
        self.core.create_namespaced_pod(
            self.ns,
            {
                "metadata": {
                    "name": name,
                    "labels": template["metadata"]["labels"],
                    "ownerReferences": [_owner(job, "Job", "batch/v1")],
                },
                "spec": {**template["spec"], "nodeName": "worker-1"},
            },
        )
        self.server.emulator.pod_logs[(self.ns, name, "app", False)] = log
        ended = {
            "exitCode": exit_code,
            "reason": "Error",
            "startedAt": _ts(120),
            "finishedAt": _ts(60),
        }
        status = {
            "name": "app",
            "image": template["spec"]["containers"][0]["image"],
            "imageID": "",
            "ready": False,
            "started": False,
            "restartCount": 0,
            "state": {"terminated": ended},
            "lastState": {},
        }
        self.core.patch_namespaced_pod_status(
            name,
            self.ns,
            {"status": {"phase": "Failed", "startTime": _ts(130), "containerStatuses": [status]}},
        )
        return name

    def job_failed(self, name: str, *, failed: int, reason: str, message: str) -> None:
        """The job controller gives up: ``Failed`` condition (after ``FailureTarget``)."""
        conditions = [
            {
                "type": kind,
                "status": "True",
                "reason": reason,
                "message": message,
                "lastProbeTime": _ts(),
                "lastTransitionTime": _ts(),
            }
            for kind in ("FailureTarget", "Failed")
        ]
        self.batch.patch_namespaced_job_status(
            name,
            self.ns,
            {"status": {"failed": failed, "startTime": _ts(300), "conditions": conditions}},
        )

    def _json(self, response: Any) -> Any:
        import json

        return json.loads(response.data)

    # --- pods ----------------------------------------------------------------------------

    def pod(self, rs_name: str, *, node: str = "worker-1") -> str:
        """A new pod of ``rs_name``, scheduled (on ``node``) and starting."""
        import json

        rs = json.loads(
            self.apps.read_namespaced_replica_set(rs_name, self.ns, _preload_content=False).data
        )
        self._pods += 1
        name = f"{rs_name}-{self._pods:05d}"
        template = rs["spec"]["template"]
        self.core.create_namespaced_pod(
            self.ns,
            {
                "metadata": {
                    "name": name,
                    "labels": template["metadata"]["labels"],
                    "ownerReferences": [_owner(rs, "ReplicaSet")],
                },
                "spec": {**template["spec"], "nodeName": node},
            },
        )
        return name

    def crash_loop(self, pod: str, restarts: int, log: str, *, exit_code: int = 1) -> None:
        """The pod's container keeps exiting; kubelet backs off (status, BackOff Event, log)."""
        self.server.emulator.pod_logs[(self.ns, pod, "app", True)] = log
        self._backing_off(pod, restarts, exit_code, "Error")

    def oom_loop(self, pod: str, restarts: int) -> None:
        """The container is OOM-killed on every start (exit code 137, reason OOMKilled)."""
        self._backing_off(pod, restarts, 137, "OOMKilled")

    def _backing_off(self, pod: str, restarts: int, exit_code: int, reason: str) -> None:
        self._status(
            pod,
            running=False,
            ready=False,
            restarts=restarts,
            waiting={
                "reason": "CrashLoopBackOff",
                "message": f"back-off 5m0s restarting failed container=app pod={pod}_{self.ns}",
            },
            last_terminated={
                "exitCode": exit_code,
                "reason": reason,
                "startedAt": _ts(40),
                "finishedAt": _ts(30),
            },
        )
        self._kubelet_event(
            pod,
            "BackOff",
            f"Back-off restarting failed container app in pod {pod}_{self.ns}",
            restarts,
        )

    def running(self, pod: str, *, ready: bool = True) -> None:
        self._status(pod, running=True, ready=ready, restarts=0)

    def delete_pod(self, pod: str) -> None:
        self.core.delete_namespaced_pod(pod, self.ns)

    def _status(
        self,
        pod: str,
        *,
        running: bool,
        ready: bool,
        restarts: int,
        waiting: dict[str, Any] | None = None,
        last_terminated: dict[str, Any] | None = None,
    ) -> None:
        state: dict[str, Any] = (
            {"running": {"startedAt": _ts(600)}} if running else {"waiting": waiting or {}}
        )
        container_status = {
            "name": "app",
            "image": "registry.example.com/shop/app",
            "imageID": "",
            "ready": ready,
            "started": running,
            "restartCount": restarts,
            "state": state,
            "lastState": {"terminated": last_terminated} if last_terminated else {},
        }
        ready_text = "True" if ready else "False"
        self.core.patch_namespaced_pod_status(
            pod,
            self.ns,
            {
                "status": {
                    "phase": "Running",
                    "startTime": _ts(900),
                    "conditions": [
                        {"type": "PodScheduled", "status": "True", "lastTransitionTime": _ts(900)},
                        {"type": "Initialized", "status": "True", "lastTransitionTime": _ts(900)},
                        {
                            "type": "ContainersReady",
                            "status": ready_text,
                            "lastTransitionTime": _ts(800),
                        },
                        {"type": "Ready", "status": ready_text, "lastTransitionTime": _ts(800)},
                    ],
                    "containerStatuses": [container_status],
                }
            },
        )

    # --- a StatefulSet behind a Service -----------------------------------------------------

    def statefulset_pull_failing(self, name: str, image: str) -> str:
        """StatefulSet ``name`` whose pod ``name-0`` cannot pull ``image`` (not found)."""
        import json

        labels = {"app": name}
        created = self.apps.create_namespaced_stateful_set(
            self.ns,
            {
                "metadata": {"name": name},
                "spec": {
                    "replicas": 1,
                    "serviceName": name,
                    "selector": {"matchLabels": labels},
                    "template": {
                        "metadata": {"labels": labels},
                        "spec": {"containers": [{"name": "app", "image": image}]},
                    },
                },
                "status": {"replicas": 1, "readyReplicas": 0},
            },
            _preload_content=False,
        )
        owner = json.loads(created.data)
        pod = f"{name}-0"
        self.core.create_namespaced_pod(
            self.ns,
            {
                "metadata": {
                    "name": pod,
                    "labels": labels,
                    "ownerReferences": [_owner(owner, "StatefulSet")],
                },
                "spec": {"containers": [{"name": "app", "image": image}], "nodeName": "worker-1"},
            },
        )
        self.core.patch_namespaced_pod_status(
            pod,
            self.ns,
            {
                "status": {
                    "phase": "Pending",
                    "startTime": _ts(900),
                    "containerStatuses": [
                        {
                            "name": "app",
                            "image": image,
                            "imageID": "",
                            "ready": False,
                            "started": False,
                            "restartCount": 0,
                            "state": {
                                "waiting": {
                                    "reason": "ImagePullBackOff",
                                    "message": f'Back-off pulling image "{image}"',
                                }
                            },
                        }
                    ],
                }
            },
        )
        self._kubelet_event(
            pod,
            "Failed",
            f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull '
            f'and unpack image "{image}": failed to resolve reference "{image}": not found',
            6,
        )
        return pod

    def service(self, name: str, selector: dict[str, str], cluster_ip: str, port: int) -> None:
        """Service ``name`` and its EndpointSlice, whose endpoints are not ready."""
        self.core.create_namespaced_service(
            self.ns,
            {
                "metadata": {"name": name},
                "spec": {"selector": selector, "clusterIP": cluster_ip, "ports": [{"port": port}]},
            },
        )
        client.DiscoveryV1Api(self.core.api_client).create_namespaced_endpoint_slice(
            self.ns,
            {
                "metadata": {
                    "name": f"{name}-x7k2p",
                    "labels": {"kubernetes.io/service-name": name},
                },
                "addressType": "IPv4",
                "endpoints": [{"addresses": ["10.1.2.3"], "conditions": {"ready": False}}],
                "ports": [{"port": port}],
            },
        )

    # --- nodes -----------------------------------------------------------------------------

    def node(self, name: str, *, arch: str = "amd64") -> None:
        """A Node whose kubelet reports Ready (Nodes are cluster-scoped: use a unique name)."""
        self.core.create_node(
            {
                "metadata": {
                    "name": name,
                    "labels": {"kubernetes.io/arch": arch, "kubernetes.io/hostname": name},
                },
                "spec": {},
            }
        )
        ready = {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
            "lastHeartbeatTime": _ts(10),
            "lastTransitionTime": _ts(3600),
        }
        self.core.patch_node_status(name, {"status": {"conditions": [ready]}})

    def node_unreachable(self, name: str, *, silent_for: float = 60) -> None:
        """The node lifecycle controller after the kubelet stopped posting status: Ready
        Unknown (the last heartbeat kept), then the unreachable taints."""
        lost = {
            "type": "Ready",
            "status": "Unknown",
            "reason": "NodeStatusUnknown",
            "message": "Kubelet stopped posting node status.",
            "lastHeartbeatTime": _ts(silent_for),
            "lastTransitionTime": _ts(),
        }
        self.core.patch_node_status(name, {"status": {"conditions": [lost]}})
        taints = [
            {"key": "node.kubernetes.io/unreachable", "effect": effect, "timeAdded": _ts()}
            for effect in ("NoSchedule", "NoExecute")
        ]
        self.core.patch_node(name, {"spec": {"taints": taints}})

    def mark_not_ready(self, pod: str) -> None:
        """What MarkPodsNotReady writes for each pod of that node: only ``Ready`` flipped to
        False (containers untouched), then a ``NodeNotReady`` Event on the pod."""
        import json

        obj = json.loads(self.core.read_namespaced_pod(pod, self.ns, _preload_content=False).data)
        conditions = obj["status"]["conditions"]
        for condition in conditions:
            if condition["type"] == "Ready":
                condition.update(status="False", lastTransitionTime=_ts())
        self.core.patch_namespaced_pod_status(pod, self.ns, {"status": {"conditions": conditions}})
        self._controller_event(pod, obj["metadata"]["uid"], "NodeNotReady", "Node is not ready")

    def _controller_event(self, pod: str, uid: str, reason: str, message: str) -> None:
        self.core.create_namespaced_event(
            self.ns,
            {
                "metadata": {"generateName": f"{pod}."},
                "involvedObject": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": pod,
                    "namespace": self.ns,
                    "uid": uid,
                },
                "reason": reason,
                "message": message,
                "type": "Warning",
                "count": 1,
                "firstTimestamp": _ts(),
                "lastTimestamp": _ts(),
                "source": {"component": "node-controller"},
            },
        )

    def _kubelet_event(self, pod: str, reason: str, message: str, count: int) -> None:
        import json

        obj = json.loads(self.core.read_namespaced_pod(pod, self.ns, _preload_content=False).data)
        name = f"{pod}.{hashlib.sha256(reason.encode()).hexdigest()[:16]}"
        body = {
            "metadata": {"name": name},
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "Pod",
                "name": pod,
                "namespace": self.ns,
                "uid": obj["metadata"]["uid"],
                "fieldPath": "spec.containers{app}",
            },
            "reason": reason,
            "message": message,
            "type": "Warning",
            "count": count,
            "firstTimestamp": _ts(900),
            "lastTimestamp": _ts(),
            "source": {"component": "kubelet", "host": "worker-1"},
        }
        try:
            self.core.create_namespaced_event(self.ns, body)
        except client.ApiException as exc:
            if exc.status != 409:
                raise
            self.core.patch_namespaced_event(
                name, self.ns, {"count": count, "lastTimestamp": _ts()}
            )
