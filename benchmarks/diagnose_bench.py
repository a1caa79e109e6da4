"""Benchmark ``highpeaks-agent diagnose`` on a synthetic dump: 10,000 pods in 500 Deployments.

5 % of the pods fail, with mixed causes (crash loops with logs, image pulls, missing
Secrets, unschedulable pods, OOM kills). Prints end-to-end time (a subprocess, median of
several runs), the phases separately (reading + JSON parsing, indexing, analyzers alone) and
peak RSS. Goal: < 1 s end to end on one core, analyzers cheaper than JSON parsing.

    python benchmarks/diagnose_bench.py [--pods 10000] [--deployments 500] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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

from tests.unit.engine import builders as b  # noqa: E402

from highpeaks_agent.engine import Snapshot, diagnose  # noqa: E402

CAUSES = ["crash", "pull", "secret", "unschedulable", "oom"]


def failing_status(cause: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pod status overrides, extra pod kwargs) for one failure cause."""
    if cause == "crash":
        return {"statuses": [b.waiting(restarts=6, last=b.terminated(1))]}, {}
    if cause == "pull":
        return {"statuses": [b.waiting(reason="ImagePullBackOff", message="manifest unknown")]}, {}
    if cause == "secret":
        return {
            "statuses": [
                b.waiting(reason="CreateContainerConfigError", message='secret "db" not found')
            ]
        }, {}
    if cause == "oom":
        return {"statuses": [b.waiting(restarts=4, last=b.terminated(137, "OOMKilled"))]}, {}
    cond = {
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": "0/3 nodes are available: 3 Insufficient cpu.",
    }
    return {"statuses": [], "phase": "Pending", "conditions": [cond]}, {}


def generate(directory: Path, pods: int, deployments: int) -> None:
    """Write a ``cluster-info dump`` tree with the given shape into ``directory``."""
    per_dep = pods // deployments
    fail_every = 20  # 5 %
    namespaces = 10
    buckets: dict[str, dict[str, list[Any]]] = {}
    logs: list[tuple[str, str, str]] = []
    n = 0
    for d in range(deployments):
        ns = f"team-{d % namespaces}"
        bucket = buckets.setdefault(
            ns, {"pods": [], "deployments": [], "replicasets": [], "events": []}
        )
        dep = b.deployment(f"svc-{d}", ns, available=per_dep, replicas=per_dep)
        rs = b.replicaset(dep, f"{d:05x}abcd", revision=1, replicas=per_dep, ready=per_dep)
        bucket["deployments"].append(dep)
        bucket["replicasets"].append(rs)
        for i in range(per_dep):
            name = f"svc-{d}-{d:05x}abcd-{i:05d}"
            if n % fail_every == 0:
                cause = CAUSES[(n // fail_every) % len(CAUSES)]
                overrides, _ = failing_status(cause)
                p = b.pod(name, ns, owner=rs, **overrides)
                bucket["events"].append(
                    b.event(p, "BackOff", f"Back-off restarting failed container app in pod {name}")
                )
                if cause == "crash":
                    logs.append(
                        (ns, name, "starting\npanic: runtime error: invalid memory address\n")
                    )
            else:
                p = b.pod(name, ns, owner=rs)
            bucket["pods"].append(p)
            n += 1
    for ns, kinds in buckets.items():
        (directory / ns).mkdir(parents=True, exist_ok=True)
        for kind, items in kinds.items():
            list_kind = {
                "pods": "PodList",
                "deployments": "DeploymentList",
                "replicasets": "ReplicaSetList",
                "events": "EventList",
            }[kind]
            (directory / ns / f"{kind}.json").write_text(
                json.dumps({"kind": list_kind, "apiVersion": "v1", "items": items}, indent=4)
            )
    for ns, name, text in logs:
        (directory / ns / name).mkdir(exist_ok=True)
        (directory / ns / name / "logs.txt").write_text(
            f"==== START logs for container app of pod {ns}/{name} ====\n{text}==== END logs for container app of pod {ns}/{name} ====\n"
        )
    (directory / "nodes.json").write_text(
        json.dumps({"kind": "NodeList", "apiVersion": "v1", "items": []})
    )


def phases(directory: Path) -> dict[str, float]:
    """Time reading+parsing, indexing and the analyzers in this process."""
    start = time.perf_counter()
    documents = [json.loads(f.read_text()) for f in sorted(directory.glob("*/*.json"))]
    parsed = time.perf_counter()
    snapshot = Snapshot()
    for document in documents:
        for item in document["items"]:
            snapshot.add(item, kind=document["kind"][:-4])
    snapshot.reindex()
    indexed = time.perf_counter()
    now = snapshot.newest_timestamp() or b.NOW
    results = diagnose(snapshot, now=now)
    analyzed = time.perf_counter()
    assert results, "the synthetic dump has failing workloads"
    return {
        "read + JSON parse": parsed - start,
        "snapshot indexing": indexed - parsed,
        "analyzers": analyzed - indexed,
        "failing workloads": float(len(results)),
    }


def end_to_end(directory: Path, runs: int) -> list[float]:
    """Wall time of ``python -m highpeaks_agent diagnose DIR -o json`` as a subprocess."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "operator")}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "highpeaks_agent", "diagnose", str(directory), "-o", "json"],
            env=env,
            capture_output=True,
            check=False,
        )
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"diagnose failed ({proc.returncode}): {proc.stderr.decode()[:500]}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--deployments", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="diagnose-bench-") as tmp:
        directory = Path(tmp)
        generate(directory, args.pods, args.deployments)
        size = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
        print(f"dump: {args.pods} pods, {args.deployments} deployments, {size / 1e6:.1f} MB")
        for name, value in phases(directory).items():
            print(f"  {name:<20} {value:8.3f}{'' if name == 'failing workloads' else ' s'}")
        times = end_to_end(directory, args.runs)
        print(
            f"  {'end to end (median)':<20} {statistics.median(times):8.3f} s  (runs: {', '.join(f'{t:.3f}' for t in times)})"
        )
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"  {'peak RSS (child)':<20} {peak:8.1f} MB")


if __name__ == "__main__":
    main()
