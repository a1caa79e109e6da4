"""Benchmark the operator and `diagnose --live` against the real control plane of the test tier.

1. Burst: N Deployments of P pods each are rolled with `kubectl set image` to a revision
   that crash-loops (the real Deployment controller, the played kubelet). Reports the time
   from the last rollout to the last IncidentNote (goal: every Deployment one note), the
   notes posted, and the operator's RSS.
2. `diagnose --live -A` with a user allowed to view every namespace: the whole command's
   time over several runs, and the number of failing workloads it found.
3. Tasks: T AgentTasks created at once (eight writers) on one of the burst's crash-looping
   Deployments. Reports the time from the first create until every task is final (goal:
   1,000 in <= 10 s) and whether each has exactly one Diagnosed Event with count 1.
4. Alerts: one Alertmanager group with an alert for each of the burst's crash-looping pods
   (20 x 5 = 100), POSTed to /alertmanager. Reports the time from the POST until every task
   it created is diagnosed (goal: <= 5 s).

    python benchmarks/cluster_bench.py [--deployments 20] [--pods-per 5] [--live-runs 5]
        [--tasks 1000] [--as-image]

``--as-image`` starts the operator without the development-only packages, as
``operator_bench.py --as-image`` does, so its RSS is the image's.

Needs the control-plane binary (`make cluster`; HIGHPEAKS_CONTROLPLANE_DIR or a build on
first use). A report, not a test: nothing here fails on a slow figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "operator"))
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from tests.support.alertmanager import alert, group  # noqa: E402
from tests.support.cluster import TestCluster  # noqa: E402
from tests.support.operator_process import OperatorProcess  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from operator_bench import rss_mb, without_dev_packages  # noqa: E402

NAMESPACE = "bench"
ALERTMANAGER_TOKEN = "bench-token"
TICKS = os.sysconf("SC_CLK_TCK")
TASKS = f"/apis/devops.highpeaks.io/v1alpha1/namespaces/{NAMESPACE}/agenttasks"


def deployment(name: str, image: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "progressDeadlineSeconds": 30,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
        },
    }


def wait(check: Any, timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.5)
    raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")


def burst(kube: TestCluster, deployments: int, pods_per: int) -> None:
    names = [f"svc-{i}" for i in range(deployments)]
    kube.apply([deployment(n, f"registry.test/bench/{n}:1.0", pods_per) for n in names])

    def all_available() -> bool:
        items = kube.kubectl_json("-n", NAMESPACE, "get", "deploy")["items"]
        return all(d["status"].get("availableReplicas") == pods_per for d in items)

    took = wait(all_available, 600, "every Deployment available")
    print(f"  {deployments * pods_per} pods available in {took:.1f} s")
    for name in names:
        kube.kubectl(
            "-n",
            NAMESPACE,
            "set",
            "image",
            f"deploy/{name}",
            f"app=registry.test/bench/{name}:1.1-crash",
        )
    rolled = time.monotonic()

    def noted() -> bool:
        events = kube.kubectl_json(
            "-n", NAMESPACE, "get", "events", "--field-selector", "reason=IncidentNote"
        )
        return len({e["involvedObject"]["name"] for e in events["items"]}) >= deployments

    wait(noted, 600, "a note on every Deployment")
    print(f"  last IncidentNote {time.monotonic() - rolled:.1f} s after the last rollout began")
    events = kube.kubectl_json(
        "-n", NAMESPACE, "get", "events", "--field-selector", "reason=IncidentNote"
    )
    counts = sorted({e.get("count", 1) for e in events["items"]})
    print(f"  notes: {len(events['items'])} for {deployments} Deployments (counts {counts})")


def live(kube: TestCluster, runs: int) -> None:
    kube.apply(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "bench-alice-view"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "view",
            },
            "subjects": [
                {"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}
            ],
        }
    )
    config = kube.user_kubeconfig("alice")
    times, found = [], 0
    for _ in range(runs):
        start = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "highpeaks_agent", "diagnose", "--live", "-A", "-o", "json"],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "KUBECONFIG": str(config)},
        )
        times.append(time.monotonic() - start)
        found = len(json.loads(run.stdout)["diagnoses"]) if run.stdout else 0
    print(
        f"  diagnose --live -A: median {statistics.median(times):.2f} s "
        f"(min {min(times):.2f}, max {max(times):.2f}, {runs} runs), {found} failing workloads"
    )


def final_tasks(kube: TestCluster, prefix: str) -> int:
    items = kube.get(TASKS).json()["items"]
    return sum(
        1
        for t in items
        if t["metadata"]["name"].startswith(prefix)
        and (t.get("status") or {}).get("phase") in ("Succeeded", "Failed")
    )


def diagnosed_counts(kube: TestCluster, prefix: str) -> dict[str, list[int]]:
    events = kube.get(
        f"/api/v1/namespaces/{NAMESPACE}/events?fieldSelector=reason%3DDiagnosed"
    ).json()["items"]
    counts: dict[str, list[int]] = {}
    for e in events:
        if e["involvedObject"]["name"].startswith(prefix):
            counts.setdefault(e["involvedObject"]["name"], []).append(e.get("count", 1))
    return counts


def children_cpu() -> dict[int, float]:
    """CPU seconds of each process this benchmark started (operator, control plane, kubectl)."""
    mine = str(os.getpid())
    seconds = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if stat[1] == mine:
                seconds[int(entry.name)] = (int(stat[11]) + int(stat[12])) / TICKS
    return seconds


def cpu_report(
    before: dict[int, float], bench_before: float, operator_pid: int, wall: float
) -> str:
    after = children_cpu()
    spent = {pid: after[pid] - before.get(pid, 0.0) for pid in after}
    operator = spent.pop(operator_pid, 0.0)
    return (
        f"CPU over {wall:.1f} s: operator {operator:.1f} s, control plane and the rest "
        f"{sum(spent.values()):.1f} s, this benchmark {time.process_time() - bench_before:.1f} s"
    )


def tasks(kube: TestCluster, count: int, operator_pid: int) -> None:
    def create(i: int) -> None:
        body = {
            "apiVersion": "devops.highpeaks.io/v1alpha1",
            "kind": "AgentTask",
            "metadata": {"name": f"why-{i:04d}"},
            "spec": {"target": {"kind": "Deployment", "name": "svc-0"}},
        }
        kube.http.post(TASKS, json=body).raise_for_status()  # httpx.Client is thread-safe

    cpu, bench_cpu = children_cpu(), time.process_time()
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(count)))
    created = time.monotonic() - started
    took = created + wait(lambda: final_tasks(kube, "why-") >= count, 600, "every task final")
    spent = cpu_report(cpu, bench_cpu, operator_pid, took)
    # The Diagnosed Event follows the final status: wait until every task has one, or nothing
    # changes for 10 s; late duplicates would show within seconds after that
    counts, quiet_since = diagnosed_counts(kube, "why-"), time.monotonic()
    while len(counts) < count and time.monotonic() - quiet_since < 10:
        time.sleep(1)
        now = diagnosed_counts(kube, "why-")
        if now != counts:
            counts, quiet_since = now, time.monotonic()
    time.sleep(3)
    counts = diagnosed_counts(kube, "why-")
    once = sum(1 for c in counts.values() if c == [1])
    print(f"tasks: {count} AgentTasks created at once (8 writers) on one crash-looping Deployment")
    print(
        f"  created in {created:.1f} s; all final {took:.1f} s after the first create = "
        f"{count / took:.0f} tasks/s (goal <= 10 s for 1,000)"
    )
    print(
        f"  exactly one Diagnosed Event with count 1: {once}/{count}; without one: "
        f"{count - len(counts)}; with more than one, or counted again: {len(counts) - once}"
    )
    print(f"  {spent}")


def alerts(kube: TestCluster, operator: OperatorProcess) -> None:
    pods = kube.get(f"/api/v1/namespaces/{NAMESPACE}/pods").json()["items"]
    crashing = [
        p["metadata"]["name"]
        for p in pods
        if any(
            (s.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff"
            or s.get("restartCount", 0) > 0
            for s in (p.get("status") or {}).get("containerStatuses") or []
        )
    ]
    body = group(
        *(
            alert(f"{i:016x}", {"namespace": NAMESPACE, "pod": name})
            for i, name in enumerate(crashing)
        )
    )
    started = time.monotonic()
    answer = httpx.post(
        f"{operator.url}/alertmanager",
        json=body,
        headers={"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"},
        timeout=120,
    )
    posted = time.monotonic() - started
    created = [r["outcome"] for r in answer.json()["results"]].count("created")
    took = posted + wait(lambda: final_tasks(kube, "alert-") >= created, 600, "alert tasks")
    print(f"alerts: one Alertmanager group of {len(crashing)} alerts, one per crashing pod")
    print(
        f"  POST answered in {posted:.2f} s ({created} tasks created); all diagnosed "
        f"{took:.1f} s after the POST (goal <= 5 s for 100)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=20)
    parser.add_argument("--pods-per", type=int, default=5)
    parser.add_argument("--live-runs", type=int, default=5)
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--as-image", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kube = TestCluster(Path(tmp))
        started = time.monotonic()
        kube.start()
        print(f"control plane up in {time.monotonic() - started:.1f} s")
        kube.kubectl("apply", "-k", "crds")
        kube.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
        kube.kubectl("apply", "-k", "k8s/overlays/dev")
        kube.namespace(NAMESPACE)
        config = kube.service_account_kubeconfig("highpeaks-system", "highpeaks-agent")
        image_env = without_dev_packages(Path(tmp)) if args.as_image else {}
        operator = OperatorProcess(
            config,
            Path(tmp) / "operator.log",
            env={"ALERTMANAGER_TOKEN": ALERTMANAGER_TOKEN, **image_env},
        )
        try:
            operator.start()
            print(f"operator start: RSS {rss_mb(operator.pid)[0]:.0f} MB")
            print(f"burst: {args.deployments} Deployments x {args.pods_per} pods")
            burst(kube, args.deployments, args.pods_per)
            now, peak = rss_mb(operator.pid)
            print(f"  operator RSS {now:.0f} MB (peak {peak:.0f} MB)")
            live(kube, args.live_runs)
            tasks(kube, args.tasks, operator.pid)
            now, peak = rss_mb(operator.pid)
            print(f"  operator RSS {now:.0f} MB (peak {peak:.0f} MB)")
            alerts(kube, operator)
            lost = operator.logs().count("could not post")
            print(f"Events the operator could not post (logged): {lost}")
            now, peak = rss_mb(operator.pid)
            print(f"operator RSS at the end {now:.0f} MB (peak {peak:.0f} MB)")
        finally:
            operator.stop()
            kube.stop()


if __name__ == "__main__":
    main()
