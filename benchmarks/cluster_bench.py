"""Benchmark the operator and `diagnose --live` against the real control plane of the test tier.

1. Burst: N Deployments of P pods each are rolled with `kubectl set image` to a revision
   that crash-loops (the real Deployment controller, the played kubelet). Reports the time
   from the last rollout to the last IncidentNote (goal: every Deployment one note), the
   notes posted, and the operator's RSS.
2. `diagnose --live -A` with a user allowed to view every namespace: the whole command's
   time over several runs, and the number of failing workloads it found.

    python benchmarks/cluster_bench.py [--deployments 20] [--pods-per 5] [--live-runs 5]

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
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "operator"))
sys.path.insert(0, str(ROOT))

from tests.support.cluster import TestCluster  # noqa: E402
from tests.support.operator_process import OperatorProcess  # noqa: E402

NAMESPACE = "bench"


def rss_mb(pid: int) -> tuple[float, float]:
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=20)
    parser.add_argument("--pods-per", type=int, default=5)
    parser.add_argument("--live-runs", type=int, default=5)
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
        operator = OperatorProcess(config, Path(tmp) / "operator.log")
        try:
            operator.start()
            print(f"operator start: RSS {rss_mb(operator.pid)[0]:.0f} MB")
            print(f"burst: {args.deployments} Deployments x {args.pods_per} pods")
            burst(kube, args.deployments, args.pods_per)
            now, peak = rss_mb(operator.pid)
            print(f"  operator RSS {now:.0f} MB (peak {peak:.0f} MB)")
            live(kube, args.live_runs)
        finally:
            operator.stop()
            kube.stop()


if __name__ == "__main__":
    main()
