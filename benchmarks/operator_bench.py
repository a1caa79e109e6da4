"""Benchmark the operator process against the emulated API server over loopback HTTP.

1. Burst: 50 Deployments roll to a new revision whose 20 pods each (1,000 pods) crash-loop.
   Reports the IncidentNotes posted (goal: exactly 50), the time from the end of the burst
   to the last note (goal: < 5 s) and the operator's RSS (goal: < 150 MB).
2. Outage: another burst of 50 failing Deployments, and the API server goes away for 20 s
   right after it. Reports the time from the API server answering again to the last
   converged incident (note posted, task finished and annotated; CONTRACT §6 goal: < 90 s)
   and whether every note is one Event with count 1.
3. Quiet: 10,000 healthy pods in 500 Deployments (or several totals in turn, e.g.
   ``--healthy 10000,40000,100000``). Reports RSS once the operator has seen them all, the
   operator's CPU seconds per watch event, and how many incident tasks appeared (goal: 0).
4. Tasks: 1,000 AgentTasks applied at once, all on one crash-looping Deployment. Reports the
   time until every one is final (goal: <= 10 s, >= 100 tasks/s) and whether each has exactly
   one Diagnosed Event with count 1.
5. Alerts: one Alertmanager group of 100 KubePodCrashLooping alerts, one per Deployment,
   POSTed to /alertmanager. Reports the time from the POST until every task it created is
   diagnosed (goal: <= 5 s).
6. Churn: 200 healthy pod events a second for 60 s while 20 Deployments fail one after
   another. Reports each failure's note latency (p50, p99; goal p99 <= 10 s), whether it
   grows over the run (a backlog), and the operator's CPU (cores; goal <= 0.5).

The start RSS is reported first. Each figure is a report, never an assertion.
``--as-image`` starts the operator without the packages only the development environment
has (``kubernetes-validate``, which the Kubernetes client imports when it is installed, and
with it jsonschema: about 20 MB), so its RSS is the image's.

    python benchmarks/operator_bench.py [--deployments 50] [--pods-per 20] [--healthy 10000[,40000,…]]
        [--tasks 1000] [--alerts 100] [--only burst,outage,quiet,tasks,alerts,churn] [--as-image]

Objects are written straight into the emulator's store (the operator still receives every
one through its watches, over HTTP), so the figures measure the operator, not the writer.
When the outage runs, the operator reaches the emulator through the fault-injecting proxy of
the test tier, which forwards everything untouched except during the outage; otherwise
directly (the proxy is another hop served by this process). The emulator is Python in this
process: the CPU seconds reported for it show when it, not the operator, is the bottleneck.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "operator"))
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from tests.support.alertmanager import alert, group  # noqa: E402
from tests.support.apiserver.faults import FaultyProxy  # noqa: E402
from tests.support.apiserver.serve import RunningApiServer  # noqa: E402
from tests.support.apiserver.store import ResourceType  # noqa: E402
from tests.support.operator_process import OperatorProcess  # noqa: E402

POD = ResourceType(("", "v1", "pods"), "Pod", True, True)
DEPLOYMENT = ResourceType(("apps", "v1", "deployments"), "Deployment", True, True)
REPLICASET = ResourceType(("apps", "v1", "replicasets"), "ReplicaSet", True, True)
NAMESPACE = ResourceType(("", "v1", "namespaces"), "Namespace", False, True)
TASK = ResourceType(("devops.highpeaks.io", "v1alpha1", "agenttasks"), "AgentTask", True, True)
EVENT = ResourceType(("", "v1", "events"), "Event", True, False)


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size of a process in MB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def owner(obj: dict[str, Any]) -> dict[str, Any]:
    md = obj["metadata"]
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": md["name"],
        "uid": md["uid"],
        "controller": True,
    }


def workload(
    server: RunningApiServer, ns: str, name: str, revision: int, replicas: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    store = server.emulator.store
    template = {
        "metadata": {"labels": {"app": name}},
        "spec": {
            "containers": [{"name": "app", "image": f"registry.example.com/{name}:{revision}"}]
        },
    }
    annotations = {"deployment.kubernetes.io/revision": str(revision)}
    deployment = store.create(
        DEPLOYMENT,
        ns,
        {
            "metadata": {"name": name, "annotations": annotations},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": template,
            },
        },
    )
    rs = store.create(
        REPLICASET,
        ns,
        {
            "metadata": {
                "name": f"{name}-r{revision}",
                "annotations": annotations,
                "labels": {"app": name},
                "ownerReferences": [owner(deployment)],
            },
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "template": template,
            },
        },
    )
    return deployment, rs


def add_pod(
    server: RunningApiServer, ns: str, rs: dict[str, Any], index: int, *, crashing: bool
) -> None:
    store = server.emulator.store
    template = copy.deepcopy(rs["spec"]["template"])
    pod = store.create(
        POD,
        ns,
        {
            "metadata": {
                "name": f"{rs['metadata']['name']}-{index}",
                "labels": template["metadata"]["labels"],
                "ownerReferences": [owner(rs)],
            },
            "spec": template["spec"],
        },
    )
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if crashing:
        state = {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": "back-off 40s restarting failed container",
            }
        }
        last = {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": now}}
        server.emulator.pod_logs[(ns, pod["metadata"]["name"], "app", True)] = (
            "panic: cannot reach payments API\n"
        )
    else:
        state, last = {"running": {"startedAt": now}}, {}
    status = {
        "phase": "Running",
        "startTime": now,
        "conditions": [{"type": "Ready", "status": str(not crashing)}],
        "containerStatuses": [
            {
                "name": "app",
                "ready": not crashing,
                "restartCount": 4 if crashing else 0,
                "state": state,
                "lastState": last,
            }
        ],
    }
    store.update(POD, ns, pod["metadata"]["name"], merge={"status": status}, subresource="status")


def set_rollout_status(
    server: RunningApiServer, ns: str, name: str, replicas: int, available: int
) -> None:
    server.emulator.store.update(
        DEPLOYMENT,
        ns,
        name,
        merge={
            "status": {
                "observedGeneration": 1,
                "replicas": replicas,
                "updatedReplicas": replicas,
                "availableReplicas": available,
                "unavailableReplicas": (replicas - available) or None,
            }
        },
        subresource="status",
    )


def notes(server: RunningApiServer) -> list[dict[str, Any]]:
    return [e for e in server.emulator.store.list(EVENT, None) if e.get("reason") == "IncidentNote"]


def burst(
    server: RunningApiServer, process: OperatorProcess, deployments: int, pods_per: int
) -> None:
    ns = "burst"
    server.call(lambda: server.emulator.store.create(NAMESPACE, None, {"metadata": {"name": ns}}))
    rss_before = rss_mb(process.pid)[0]
    started = time.monotonic()

    def write() -> None:
        for d in range(deployments):
            name = f"svc-{d:03d}"
            _, rs = workload(server, ns, name, 2, pods_per)
            for p in range(pods_per):
                add_pod(server, ns, rs, p, crashing=True)
            set_rollout_status(server, ns, name, pods_per, 0)

    server.call(write)
    written = time.monotonic()
    last_count, last_change = 0, written
    while time.monotonic() - last_change < 10:
        count = server.call(lambda: len(notes(server)))
        if count != last_count:
            last_count, last_change = count, time.monotonic()
        time.sleep(0.05)
    found = server.call(lambda: notes(server))
    counts = sorted({e["count"] for e in found})
    print(
        f"burst: {deployments * pods_per} failing pods over {deployments} Deployments, written in {written - started:.2f} s"
    )
    print(f"  IncidentNotes: {len(found)} (goal {deployments}); counts per note: {counts}")
    print(f"  end of burst → last note: {last_change - written:.2f} s (goal < 5 s)")
    current, peak = rss_mb(process.pid)
    print(
        f"  operator RSS: {current:.0f} MB now, {peak:.0f} MB peak, {rss_before:.0f} MB before (goal < 150 MB)"
    )


def converged_incidents(server: RunningApiServer, ns: str) -> tuple[int, list[int]]:
    """(incident tasks finished and annotated, the count of every IncidentNote) in ``ns``."""
    tasks = server.emulator.store.list(TASK, ns)
    done = [
        t
        for t in tasks
        if (t.get("status") or {}).get("phase") == "Succeeded"
        and "devops.highpeaks.io/failure-signature" in (t["metadata"].get("annotations") or {})
    ]
    counts = [e["count"] for e in notes(server) if e["metadata"]["namespace"] == ns]
    return len(done), counts


def outage(
    server: RunningApiServer, proxy: FaultyProxy, deployments: int, pods_per: int, seconds: float
) -> None:
    ns = "outage"
    server.call(lambda: server.emulator.store.create(NAMESPACE, None, {"metadata": {"name": ns}}))

    def write() -> None:
        for d in range(deployments):
            name = f"api-{d:03d}"
            _, rs = workload(server, ns, name, 2, pods_per)
            for p in range(pods_per):
                add_pod(server, ns, rs, p, crashing=True)
            set_rollout_status(server, ns, name, pods_per, 0)

    server.call(write)
    time.sleep(0.5)  # the operator has started on some of them
    before = server.call(lambda: converged_incidents(server, ns))[0]
    proxy.outage(seconds)
    back = proxy.wait_healthy(seconds + 10)
    done, counts = 0, []
    while time.monotonic() - back < 180:
        done, counts = server.call(lambda: converged_incidents(server, ns))
        if done == deployments and len(counts) == deployments:
            break
        time.sleep(0.1)
    took = time.monotonic() - back
    print(
        f"outage: {deployments} failing Deployments, API away {seconds:.0f} s right after the "
        f"burst ({before} incidents finished before it)"
    )
    print(
        f"  API back → last converged incident: {took:.1f} s (goal < 90 s); "
        f"converged {done}/{deployments}, notes {len(counts)}, counts {sorted(set(counts))}"
    )


def quiet(server: RunningApiServer, process: OperatorProcess, totals: list[int]) -> None:
    """Healthy pods, 20 per Deployment, up to each of ``totals`` in turn: RSS and the
    operator's CPU per watch event at each size."""
    ns = "quiet"
    server.call(lambda: server.emulator.store.create(NAMESPACE, None, {"metadata": {"name": ns}}))
    per, written = 20, 0
    for total in totals:
        started, cpu_before = time.monotonic(), cpu_seconds(process.pid)
        first = written // per
        for d in range(first, total // per):

            def write(d: int = d) -> None:
                name = f"web-{d:05d}"
                _, rs = workload(server, ns, name, 1, per)
                for p in range(per):
                    add_pod(server, ns, rs, p, crashing=False)
                set_rollout_status(server, ns, name, per, per)

            server.call(write)
        time.sleep(10)
        deployments = total // per - first
        # per Deployment: it, its ReplicaSet, its status; per pod: it and its status
        events = deployments * 3 + deployments * per * 2
        cpu = cpu_seconds(process.pid) - cpu_before
        written = total
        current, peak = rss_mb(process.pid)
        tasks = server.call(lambda: [t for t in server.emulator.store.list(TASK, ns)])
        print(
            f"quiet: {total} healthy pods in {total // per} Deployments "
            f"({deployments * per} added in {time.monotonic() - started - 10:.1f} s)"
        )
        print(
            f"  operator RSS: {current:.0f} MB now, {peak:.0f} MB peak (goal < 150 MB); "
            f"incident tasks: {len(tasks)} (goal 0); operator CPU {cpu:.1f} s for {events} "
            f"watch events = {cpu / events * 1e6:.0f} µs per event"
        )


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds of the operator and of this process (the emulated API server) over a span."""

    def __init__(self, operator_pid: int) -> None:
        self.pid = operator_pid
        self.start = (cpu_seconds(operator_pid), time.process_time(), time.monotonic())

    def report(self) -> str:
        operator, emulator, wall = (
            cpu_seconds(self.pid) - self.start[0],
            time.process_time() - self.start[1],
            time.monotonic() - self.start[2],
        )
        return (
            f"CPU over {wall:.1f} s: operator {operator:.1f} s, "
            f"emulated API server (with this benchmark) {emulator:.1f} s"
        )


def final_tasks(server: RunningApiServer, ns: str, prefix: str = "") -> list[dict[str, Any]]:
    return [
        t
        for t in server.emulator.store.list(TASK, ns)
        if (t.get("status") or {}).get("phase") in ("Succeeded", "Failed")
        and t["metadata"]["name"].startswith(prefix)
    ]


def wait_final(
    server: RunningApiServer, ns: str, count: int, limit: float, prefix: str = ""
) -> float:
    """Seconds until ``count`` tasks of ``ns`` are final (or ``limit`` has passed)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if server.call(lambda: len(final_tasks(server, ns, prefix))) >= count:
            break
        time.sleep(0.2)  # each look lists every task, in the emulator's thread
    return time.monotonic() - started


def failing_deployment(server: RunningApiServer, ns: str, name: str, pods: int) -> list[str]:
    """A Deployment whose ``pods`` pods crash-loop; returns the pods' names."""
    _, rs = workload(server, ns, name, 1, pods)
    for p in range(pods):
        add_pod(server, ns, rs, p, crashing=True)
    set_rollout_status(server, ns, name, pods, 0)
    return [f"{rs['metadata']['name']}-{p}" for p in range(pods)]


def tasks(server: RunningApiServer, process: OperatorProcess, count: int) -> None:
    ns = "tasks"

    def setup() -> None:
        server.emulator.store.create(NAMESPACE, None, {"metadata": {"name": ns}})
        failing_deployment(server, ns, "checkout", 5)

    server.call(setup)
    time.sleep(2)  # the incident of the failing Deployment is out of the way

    def apply() -> None:
        for i in range(count):
            server.emulator.store.create(
                TASK,
                ns,
                {
                    "apiVersion": "devops.highpeaks.io/v1alpha1",
                    "kind": "AgentTask",
                    "metadata": {"name": f"why-{i:04d}"},
                    "spec": {"target": {"kind": "Deployment", "name": "checkout"}},
                },
            )

    cpu = CpuMeter(process.pid)
    server.call(apply)
    took = wait_final(server, ns, count, 300, prefix="why-")
    spent = cpu.report()

    def diagnosed_counts() -> dict[str, list[int]]:
        counts: dict[str, list[int]] = {}
        for e in server.emulator.store.list(EVENT, ns):
            if e.get("reason") == "Diagnosed" and e["involvedObject"]["name"].startswith("why-"):
                counts.setdefault(e["involvedObject"]["name"], []).append(e["count"])
        return counts

    # The Event follows the final status: wait until every task has one, or nothing changes
    counts, quiet_since = server.call(diagnosed_counts), time.monotonic()
    while len(counts) < count and time.monotonic() - quiet_since < 10:
        time.sleep(0.5)
        now = server.call(diagnosed_counts)
        if now != counts:
            counts, quiet_since = now, time.monotonic()
    time.sleep(2)  # late duplicates would show now
    counts = server.call(diagnosed_counts)
    final = server.call(lambda: len(final_tasks(server, ns, "why-")))
    once = sum(1 for c in counts.values() if c == [1])
    print(f"tasks: {count} AgentTasks applied at once on one crash-looping Deployment")
    print(
        f"  all final: {final}/{count} in {took:.1f} s = {final / took:.0f} tasks/s "
        f"(goal <= 10 s, >= 100/s)"
    )
    print(
        f"  exactly one Diagnosed Event with count 1: {once}/{count}; without one: "
        f"{count - len(counts)}; with more than one, or counted again: {len(counts) - once}"
    )
    print(f"  {spent}")
    now, peak = rss_mb(process.pid)
    print(f"  operator RSS after them {now:.0f} MB (peak {peak:.0f} MB)")


def alerts(server: RunningApiServer, process: OperatorProcess, count: int) -> None:
    ns = "alerts"
    pods: list[str] = []

    def setup() -> None:
        server.emulator.store.create(NAMESPACE, None, {"metadata": {"name": ns}})
        for i in range(count):
            pods.extend(failing_deployment(server, ns, f"svc-{i:03d}", 1))

    server.call(setup)
    time.sleep(3)  # the incidents of the failing Deployments are out of the way
    body = group(*(alert(f"{i:016x}", {"namespace": ns, "pod": p}) for i, p in enumerate(pods)))
    headers = {"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"}
    cpu = CpuMeter(process.pid)
    started = time.monotonic()
    answer = httpx.post(f"{process.url}/alertmanager", json=body, headers=headers, timeout=120)
    posted = time.monotonic() - started
    outcomes = [r["outcome"] for r in answer.json()["results"]]
    took = posted + wait_final(server, ns, outcomes.count("created"), 300, prefix="alert-")
    print(f"alerts: one Alertmanager group of {count} alerts, one per crash-looping Deployment")
    print(
        f"  POST answered in {posted:.2f} s ({outcomes.count('created')} tasks created); "
        f"all diagnosed {took:.1f} s after the POST (goal <= 5 s)"
    )
    print(f"  {cpu.report()}")


def churn(
    server: RunningApiServer, process: OperatorProcess, seconds: float, rate: int, failing: int
) -> None:
    """``rate`` healthy pod events a second for ``seconds`` while ``failing`` Deployments fail
    one after another: each failure's note latency, and the operator's CPU."""
    ns, per, healthy_deployments = "churn", 10, 100

    def setup() -> list[str]:
        server.emulator.store.create(NAMESPACE, None, {"metadata": {"name": ns}})
        names = []
        for d in range(healthy_deployments):
            _, rs = workload(server, ns, f"steady-{d:03d}", 1, per)
            for i in range(per):
                add_pod(server, ns, rs, i, crashing=False)
                names.append(f"{rs['metadata']['name']}-{i}")
            set_rollout_status(server, ns, f"steady-{d:03d}", per, per)
        return names

    pods = server.call(setup)
    time.sleep(5)  # the operator has seen the steady state
    failed_at: dict[str, float] = {}
    noted_at: dict[str, float] = {}
    cpu_before, started = cpu_seconds(process.pid), time.monotonic()
    tick, written, n = 0.1, 0, 0

    def touch(batch: list[str], stamp: str) -> None:
        for pod in batch:  # a healthy pod's status changes (a probe, a restart of a sidecar…)
            server.emulator.store.update(
                POD,
                ns,
                pod,
                merge={
                    "status": {
                        "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": stamp}]
                    }
                },
                subresource="status",
            )

    while time.monotonic() - started < seconds:
        elapsed = time.monotonic() - started
        batch = [pods[(n + i) % len(pods)] for i in range(int(rate * tick))]
        n += len(batch)
        stamp = f"{elapsed:.3f}"
        server.call(lambda batch=batch, stamp=stamp: touch(batch, stamp))
        written += len(batch)
        due = int(elapsed / seconds * failing)
        if due >= len(failed_at) and len(failed_at) < failing:
            name = f"victim-{len(failed_at):02d}"
            server.call(lambda name=name: failing_deployment(server, ns, name, 3))
            failed_at[name] = time.monotonic()
        for note in server.call(lambda: notes(server)):
            target = note["involvedObject"]["name"]
            if note["metadata"]["namespace"] == ns and target not in noted_at:
                noted_at[target] = time.monotonic()
        time.sleep(max(0.0, started + (n / rate) - time.monotonic()))
    wall = time.monotonic() - started
    cpu = cpu_seconds(process.pid) - cpu_before
    deadline = time.monotonic() + 60
    while len(noted_at) < len(failed_at) and time.monotonic() < deadline:
        for note in server.call(lambda: notes(server)):
            target = note["involvedObject"]["name"]
            if note["metadata"]["namespace"] == ns and target not in noted_at:
                noted_at[target] = time.monotonic()
        time.sleep(0.1)
    latencies = sorted(noted_at[k] - failed_at[k] for k in failed_at if k in noted_at)
    ordered = [noted_at[k] - failed_at[k] for k in sorted(failed_at) if k in noted_at]
    half = len(ordered) // 2
    print(
        f"churn: {written / wall:.0f} healthy pod events/s for {wall:.0f} s over {len(pods)} pods, "
        f"while {len(failed_at)} Deployments failed one after another"
    )
    if latencies:
        p50 = latencies[len(latencies) // 2]
        p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
        print(
            f"  notes {len(latencies)}/{len(failed_at)}; failure visible → note: p50 {p50:.1f} s, "
            f"p99 {p99:.1f} s (goal p99 <= 10 s; the debounce is INCIDENT_DEBOUNCE_SECONDS); "
            f"first half mean {sum(ordered[:half]) / max(half, 1):.1f} s, second half "
            f"{sum(ordered[half:]) / max(len(ordered) - half, 1):.1f} s (a backlog would grow)"
        )
    print(
        f"  operator CPU {cpu:.1f} s over {wall:.0f} s = {cpu / wall:.2f} cores "
        f"(<= 0.5 keeps up under a 0.5 CPU limit); {cpu / max(written, 1) * 1e6:.0f} µs per pod event"
    )


#: Installed by ``pip install -e '.[dev]'`` but not in the image (requirements.lock).
DEV_ONLY_PACKAGES = ("kubernetes_validate",)


def without_dev_packages(directory: Path) -> dict[str, str]:
    """Environment that makes the development-only packages fail to import, as in the image."""
    hidden = directory / "image-packages"
    for package in DEV_ONLY_PACKAGES:
        (hidden / package).mkdir(parents=True)
        (hidden / package / "__init__.py").write_text(
            'raise ImportError("not installed in the image")\n'
        )
    return {"PYTHONPATH": str(hidden)}


ALERTMANAGER_TOKEN = "bench-token"
PHASES = ("burst", "outage", "quiet", "tasks", "alerts", "churn")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--deployments", type=int, default=50)
    parser.add_argument("--pods-per", type=int, default=20)
    parser.add_argument(
        "--healthy",
        default="10000",
        help="healthy pods in total, or totals reached in turn (10000,40000,100000)",
    )
    parser.add_argument("--outage-seconds", type=float, default=20.0)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--alerts", type=int, default=100)
    parser.add_argument("--churn-seconds", type=float, default=60.0)
    parser.add_argument("--churn-rate", type=int, default=200, help="healthy pod events a second")
    parser.add_argument("--only", default=",".join(PHASES), help="phases to run, in order")
    parser.add_argument(
        "--as-image",
        action="store_true",
        help="hide the development-only packages from the operator, as in the image",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the operator",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = RunningApiServer()
        server.start()
        proxy = FaultyProxy(server.url)
        proxy.start()
        phases = [p.strip() for p in args.only.split(",") if p.strip()]
        # Only the outage needs the fault-injecting proxy; it is another hop in this process.
        via = proxy.url if "outage" in phases else None
        kubeconfig = server.write_kubeconfig(Path(tmp) / "config", via=via)
        image_env = without_dev_packages(Path(tmp)) if args.as_image else {}
        process = OperatorProcess(
            kubeconfig,
            Path(tmp) / "operator.log",
            env={
                "AUTH_MODE": "none",
                "ALERTMANAGER_TOKEN": ALERTMANAGER_TOKEN,
                **image_env,
                **dict(e.split("=", 1) for e in args.env),
            },
        )
        process.start()
        try:
            print(f"operator RSS at start: {rss_mb(process.pid)[0]:.0f} MB")
            for phase in phases:
                if phase == "burst":
                    burst(server, process, args.deployments, args.pods_per)
                elif phase == "outage":
                    outage(server, proxy, args.deployments, args.pods_per, args.outage_seconds)
                elif phase == "quiet":
                    quiet(server, process, [int(n) for n in args.healthy.split(",")])
                elif phase == "tasks":
                    tasks(server, process, args.tasks)
                elif phase == "alerts":
                    alerts(server, process, args.alerts)
                elif phase == "churn":
                    churn(server, process, args.churn_seconds, args.churn_rate, 20)
                else:
                    parser.error(f"unknown phase {phase!r} (one of {', '.join(PHASES)})")
        finally:
            process.stop()
            proxy.close()
            server.stop()


if __name__ == "__main__":
    main()
