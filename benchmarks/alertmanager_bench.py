"""Benchmark POST /alertmanager on the operator process against the emulated API server.

N Deployments each have a crash-looping pod; one Alertmanager group carries a
KubePodCrashLooping alert per pod (labels ``namespace`` + ``pod``, so each is resolved to its
Deployment). Reports the time of the first POST (N tasks created), of a re-send (N "exists"),
and from the first POST until the operator has diagnosed every task.

    python benchmarks/alertmanager_bench.py [--workloads 50]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx
from kubernetes import client, config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "operator"))
sys.path.insert(0, str(ROOT))

from tests.support.alertmanager import alert, group  # noqa: E402
from tests.support.apiserver.serve import RunningApiServer  # noqa: E402
from tests.support.controllers import SimulatedControllers  # noqa: E402
from tests.support.operator_process import OperatorProcess  # noqa: E402

TOKEN = "bench-token"
LOG = "panic: missing required setting PAYMENTS_API_URL\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workloads", type=int, default=50)
    n = parser.parse_args().workloads
    server = RunningApiServer()
    server.start()
    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = server.write_kubeconfig(Path(tmp) / "config")
        api = config.new_client_from_config(str(kubeconfig))
        cluster = SimulatedControllers(api, server, "bench")
        alerts = []
        for i in range(n):
            name = f"svc-{i}"
            cluster.deployment(name, f"registry.example.com/{name}:1.0", replicas=1)
            pod = cluster.pod(cluster.rollout(name, 1, f"registry.example.com/{name}:1.0"))
            cluster.crash_loop(pod, restarts=5, log=LOG)
            alerts.append(alert(f"{i:016x}", {"namespace": "bench", "pod": pod}))
        body = group(*alerts)
        operator = OperatorProcess(
            kubeconfig, Path(tmp) / "operator.log", env={"ALERTMANAGER_TOKEN": TOKEN}
        )
        operator.start()
        try:
            report(operator, body, n, api)
        finally:
            operator.stop()
            server.stop()


def report(operator: OperatorProcess, body: dict, n: int, api: client.ApiClient) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{operator.url}/alertmanager"
    start = time.monotonic()
    first = httpx.post(url, json=body, headers=headers, timeout=120)
    created = time.monotonic() - start
    outcomes = [r["outcome"] for r in first.json()["results"]]
    t0 = time.monotonic()
    again = httpx.post(url, json=body, headers=headers, timeout=120)
    resent = time.monotonic() - t0
    custom = client.CustomObjectsApi(api)
    while True:
        items = custom.list_namespaced_custom_object(
            "devops.highpeaks.io",
            "v1alpha1",
            "bench",
            "agenttasks",
            label_selector="devops.highpeaks.io/trigger=alert",
        )["items"]
        done = [t for t in items if (t.get("status") or {}).get("phase") == "Succeeded"]
        if len(done) == n or time.monotonic() - start > 300:
            break
        time.sleep(0.2)
    diagnosed = time.monotonic() - start
    print(
        f"{n} alerts: first POST {created:.2f} s ({outcomes.count('created')} created), "
        f"re-send {resent:.2f} s ({[r['outcome'] for r in again.json()['results']].count('exists')} exists), "
        f"all {len(done)} tasks diagnosed {diagnosed:.1f} s after the first POST"
    )


if __name__ == "__main__":
    main()
