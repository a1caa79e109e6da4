"""Benchmark ``highpeaks-agent diagnose``: offline at 10,000 pods, a small dump, and live.

1. A synthetic dump, 10,000 pods in 500 Deployments on 100 Ready Nodes, 5 % failing with
   mixed causes (crash loops with logs, image pulls, missing Secrets, unschedulable pods, OOM
   kills). Prints the
   phases measured in this process (reading + JSON parsing, indexing, analyzers), then the
   real command and a process that only reads and parses the same files (``json.loads``),
   run in turns: each one's median and peak RSS, and the ratio of each pair.
   Goal: end to end ≤ 2 × (reading + parsing). Then what reading the crashed containers'
   logs (CONTRACT §2a) adds: the analyzers with and without that rule, against the median of
   the command end to end. Goal: ≤ 5 %.
2. The same dump as one YAML List file (libyaml), end to end and peak RSS.
3. The shipped 3-pod dump, end to end, as a terminal user runs it (none of the agent's
   settings in the environment) and with one setting set. Goal: < 0.3 s.
4. ``diagnose --live -n bench`` against the emulated API server over loopback HTTP: 500
   Deployments in one namespace, one pod each, 5 % crash-looping with a previous log.

    python benchmarks/diagnose_bench.py [--pods 10000] [--deployments 500] [--runs 5] [--no-live]

Figures are reports, not assertions: the machine they run on decides them.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "operator"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from tests.unit.engine import builders as b  # noqa: E402

from highpeaks_agent.engine import Snapshot, diagnose  # noqa: E402
from highpeaks_agent.settings_names import sets_any_setting  # noqa: E402

CAUSES = ["crash", "pull", "secret", "unschedulable", "oom"]
#: Ready Nodes the pods run on, listed in the dump's nodes.json as cluster-info dump lists them.
NODES = 100
SMALL_DUMP = ROOT / "examples" / "dumps" / "healthy"
LIST_KINDS = {
    "pods": "PodList",
    "deployments": "DeploymentList",
    "replicasets": "ReplicaSetList",
    "events": "EventList",
}


def failing_status(cause: str) -> dict[str, Any]:
    """Pod status overrides for one failure cause."""
    if cause == "crash":
        return {"statuses": [b.waiting(restarts=6, last=b.terminated(1))]}
    if cause == "pull":
        return {"statuses": [b.waiting(reason="ImagePullBackOff", message="manifest unknown")]}
    if cause == "secret":
        message = 'secret "db" not found'
        return {"statuses": [b.waiting(reason="CreateContainerConfigError", message=message)]}
    if cause == "oom":
        return {"statuses": [b.waiting(restarts=4, last=b.terminated(137, "OOMKilled"))]}
    cond = {
        "type": "PodScheduled",
        "status": "False",
        "reason": "Unschedulable",
        "message": "0/3 nodes are available: 3 Insufficient cpu.",
    }
    return {"statuses": [], "phase": "Pending", "conditions": [cond]}


#: A crashed instance's last 100 lines, as the live reader fetches them: start-up chatter, a
#: retried connection, then a Java trace whose deepest cause is the refused connection.
CRASH_TAIL = (
    "".join(
        f"2026-11-20 09:58:{i % 60:02d}.120 INFO 1 --- [main] o.e.Bootstrap : step {i}\n"
        for i in range(86)
    )
    + "2026-11-20 09:59:40.001 WARN 1 --- [main] o.e.Db : db:5432 refused, retrying\n"
    + "2026-11-20 09:59:41.210 ERROR 1 --- [main] o.s.boot.SpringApplication : Application run failed\n"
    + "org.springframework.beans.factory.BeanCreationException: Error creating bean 'dataSource'\n"
    + "".join(
        f"\tat org.springframework.beans.Factory.create{i}(Factory.java:{i})\n" for i in range(8)
    )
    + "Caused by: java.net.ConnectException: Connection refused: db/10.96.12.7:5432\n"
    + "\tat java.base/sun.nio.ch.Net.pollConnect(Native Method)\n"
    + "\t... 42 more\n"
)


def generate(directory: Path, pods: int, deployments: int) -> None:
    """Write a ``cluster-info dump`` tree with the given shape into ``directory``."""
    per_dep = pods // deployments
    buckets: dict[str, dict[str, list[Any]]] = {}
    logs: list[tuple[str, str, str]] = []
    n = 0
    for d in range(deployments):
        ns = f"team-{d % 10}"
        bucket = buckets.setdefault(ns, {kind: [] for kind in LIST_KINDS})
        dep = b.deployment(f"svc-{d}", ns, available=per_dep, replicas=per_dep)
        rs = b.replicaset(dep, f"{d:05x}abcd", revision=1, replicas=per_dep, ready=per_dep)
        bucket["deployments"].append(dep)
        bucket["replicasets"].append(rs)
        for i in range(per_dep):
            name = f"svc-{d}-{d:05x}abcd-{i:05d}"
            if n % 20 == 0:  # 5 %
                cause = CAUSES[(n // 20) % len(CAUSES)]
                p = b.pod(name, ns, owner=rs, **failing_status(cause))
                message = f"Back-off restarting failed container app in pod {name}"
                bucket["events"].append(b.event(p, "BackOff", message))
                if cause == "crash":
                    logs.append((ns, name, CRASH_TAIL))
            else:
                p = b.pod(name, ns, owner=rs)
            p["spec"]["nodeName"] = f"worker-{n % NODES}"
            bucket["pods"].append(p)
            n += 1
    _write_tree(directory, buckets, logs)


def _write_tree(
    directory: Path, buckets: dict[str, dict[str, list[Any]]], logs: list[tuple[str, str, str]]
) -> None:
    for ns, kinds in buckets.items():
        (directory / ns).mkdir(parents=True, exist_ok=True)
        for kind, items in kinds.items():
            document = {"kind": LIST_KINDS[kind], "apiVersion": "v1", "items": items}
            (directory / ns / f"{kind}.json").write_text(json.dumps(document, indent=4))
    for ns, name, text in logs:
        (directory / ns / name).mkdir(exist_ok=True)
        marker = f"logs for container app of pod {ns}/{name} ===="
        (directory / ns / name / "logs.txt").write_text(
            f"==== START {marker}\n{text}==== END {marker}\n"
        )
    nodes = [b.node(f"worker-{k}") for k in range(NODES)]
    (directory / "nodes.json").write_text(
        json.dumps({"kind": "NodeList", "apiVersion": "v1", "items": nodes}, indent=4)
    )


def list_files(directory: Path) -> list[Path]:
    """The dump's lists: nodes.json at the top, the rest in a folder per namespace."""
    return sorted(directory.glob("*.json")) + sorted(directory.glob("*/*.json"))


def phases(directory: Path) -> dict[str, float]:
    """Time reading+parsing, indexing and the analyzers in this process."""
    start = time.perf_counter()
    documents = [json.loads(f.read_text()) for f in list_files(directory)]
    parsed = time.perf_counter()
    snapshot = Snapshot()
    for document in documents:
        for item in document["items"]:
            snapshot.add(item, kind=document["kind"][:-4])
    snapshot.reindex()
    indexed = time.perf_counter()
    results = diagnose(snapshot, now=snapshot.newest_timestamp() or b.NOW)
    analyzed = time.perf_counter()
    assert results, "the synthetic dump has failing workloads"
    return {
        "read + JSON parse": parsed - start,
        "snapshot indexing": indexed - parsed,
        "analyzers": analyzed - indexed,
    }


def log_reading_cost(directory: Path, runs: int) -> None:
    """The analyzers with and without the crash-log rule, on the same snapshot."""
    from highpeaks_agent.engine.analyzers import crash_causes, registry
    from highpeaks_agent.sources.files import load_path

    snapshot = load_path(str(directory), sys.stdin)
    now = snapshot.newest_timestamp() or b.NOW
    with_rule = registry.CONTAINER_RULES
    without_rule = tuple(r for r in with_rule if r is not crash_causes.crash_explained_by_log)

    def analyzers(rules: tuple[Any, ...]) -> float:
        registry.CONTAINER_RULES = rules
        try:
            start = time.perf_counter()
            diagnose(snapshot, now=now)
            return time.perf_counter() - start
        finally:
            registry.CONTAINER_RULES = with_rule

    timings = [(analyzers(without_rule), analyzers(with_rule)) for _ in range(runs)]
    before = statistics.median(t[0] for t in timings)
    after = statistics.median(t[1] for t in timings)
    timed_command([str(directory), "-o", "json"])  # writes the bytecode caches
    end_to_end = statistics.median(
        timed_command([str(directory), "-o", "json"])[0] for _ in range(runs)
    )
    added = statistics.median(t[1] - t[0] for t in timings)  # each pair on the same heap
    print(
        f"crash-log reading ({len(snapshot.logs)} crashed containers, 100-line tails): "
        f"analyzers {before:.3f} s -> {after:.3f} s, +{added * 1000:.0f} ms = "
        f"{added / end_to_end * 100:.1f} % of diagnose end to end ({end_to_end:.3f} s); "
        "goal ≤ 5 %"
    )


def as_yaml_list(directory: Path, path: Path) -> None:
    """The whole dump as one YAML ``kind: List`` (what ``kubectl get … -o yaml`` writes)."""
    items = []
    for file in list_files(directory):
        document = json.loads(file.read_text())
        kind = document["kind"][: -len("List")]
        items.extend({**item, "kind": kind} for item in document["items"])
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    path.write_text(yaml.dump({"apiVersion": "v1", "kind": "List", "items": items}, Dumper=dumper))


#: Runs a command and prints its wall time and its peak RSS: measured from a small parent, so
#: the fork of this (large) benchmark process is not counted as the command's memory, and
#: timed there, so the parent's own start is not counted as the command's time.
_MEASURE = (
    "import resource, subprocess, sys, time; start = time.perf_counter(); "
    "code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL); "
    "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
    "sys.exit(code)"
)


#: Bytecode caches for the measured commands, as an installed package has them: a source
#: checkout run with PYTHONDONTWRITEBYTECODE would compile every module on every start.
_PYCACHE = Path(tempfile.gettempdir()) / "highpeaks-diagnose-bench-pycache"


def command_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment with bytecode caches, and the agent's own variables only as given (a
    setting in the shell running the benchmark would change the figures)."""
    inherited = {k: v for k, v in os.environ.items() if not sets_any_setting([k])}
    env = {**inherited, "PYTHONPATH": str(ROOT / "operator"), **(extra or {})}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(_PYCACHE)
    return env


def measured(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of ``command``, which must exit 0 or 1 (diagnose's verdicts)."""
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command],
        env=command_environment(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{command} failed ({proc.returncode}): {proc.stderr[:500]}")
    elapsed, peak_kb = proc.stdout.split()[-2:]
    return float(elapsed), int(peak_kb) / 1024


def timed_command(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of ``python -m highpeaks_agent diagnose ARGS``."""
    return measured([sys.executable, "-m", "highpeaks_agent", "diagnose", *args], env)


def report_runs(label: str, run: Callable[[], tuple[float, float]], runs: int) -> float:
    """Run ``runs`` times after one unmeasured run (it writes the bytecode caches); print the
    median, every run and the peak RSS; return the median."""
    run()
    return report(label, [run() for _ in range(runs)])


def report(label: str, results: list[tuple[float, float]]) -> float:
    """Print the median time, every run and the peak RSS of ``results``; return the median."""
    times = [t for t, _ in results]
    median = statistics.median(times)
    each = ", ".join(f"{t:.3f}" for t in times)
    peak = max(rss for _, rss in results)
    print(f"  {label:<28} {median:8.3f} s  (runs: {each}; peak RSS {peak:.0f} MB)")
    return median


#: Reading and parsing the dump's lists and nothing else, the plain way, as a process.
_READ_AND_PARSE = (
    "import json, pathlib, sys; "
    "root = pathlib.Path(sys.argv[1]); "
    "[json.loads(f.read_text()) for f in [*root.glob('*.json'), *root.glob('*/*.json')]]"
)


def timed_read_and_parse(directory: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of a Python process that only reads and parses the dump."""
    return measured([sys.executable, "-c", _READ_AND_PARSE, str(directory)])


def paired(directory: Path, runs: int) -> None:
    """The command against a process that only reads and parses the same files, in turns, so
    a drift of the machine's speed moves both; the goal is on the ratio of each pair."""
    command = lambda: timed_command([str(directory), "-o", "json"])  # noqa: E731
    command(), timed_read_and_parse(directory)  # bytecode and page caches, not measured
    pairs = [(command(), timed_read_and_parse(directory)) for _ in range(runs)]
    report("end to end (median)", [c for c, _ in pairs])
    report("read + parse alone (median)", [r for _, r in pairs])
    ratios = sorted(c[0] / r[0] for c, r in pairs)
    print(
        f"  {'end to end / (read + parse)':<28} {statistics.median(ratios):8.2f}   "
        f"(pair by pair, {ratios[0]:.2f}–{ratios[-1]:.2f}; goal ≤ 2)"
    )


def offline(args: argparse.Namespace, directory: Path) -> None:
    generate(directory, args.pods, args.deployments)
    size = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    print(f"dump: {args.pods} pods, {args.deployments} deployments, {size / 1e6:.1f} MB")
    each_run = [phases(directory) for _ in range(args.runs)]
    measured = {name: statistics.median(run[name] for run in each_run) for name in each_run[0]}
    for name, value in measured.items():
        print(f"  {name:<28} {value:8.3f} s  (median of {args.runs}, in this process)")
    paired(directory, args.runs)
    log_reading_cost(directory, args.runs)
    listing = directory.parent / "objects.yaml"
    as_yaml_list(directory, listing)
    print(f"YAML List of the same objects: {listing.stat().st_size / 1e6:.1f} MB")
    report_runs("end to end (median)", lambda: timed_command([str(listing), "-o", "json"]), 1)
    print(f"small dump: {SMALL_DUMP.relative_to(ROOT)} (3 pods)")
    runs = max(args.runs, 5)
    report_runs("end to end (median)", lambda: timed_command([str(SMALL_DUMP)]), runs)
    with_setting = {"CRASHLOOP_RESTARTS": "3"}  # any setting: the environment is validated
    report_runs(
        "  with a setting set", lambda: timed_command([str(SMALL_DUMP)], with_setting), runs
    )
    print("  goal: < 0.3 s")


def live(args: argparse.Namespace, workdir: Path) -> None:
    """500 Deployments in one namespace of the emulated API server, diagnosed live."""
    from tests.support.apiserver.serve import running_api_server

    from operator_bench import NAMESPACE, add_pod, workload

    with running_api_server() as server:
        ns = "bench"

        def write() -> None:
            server.emulator.store.create(NAMESPACE, None, {"metadata": {"name": ns}})
            for d in range(args.deployments):
                _, rs = workload(server, ns, f"svc-{d}", 1, 1)
                add_pod(server, ns, rs, 0, crashing=d % 20 == 0)

        server.call(write)
        env = {"KUBECONFIG": str(server.write_kubeconfig(workdir / "kubeconfig"))}
        print(
            f"live: {args.deployments} Deployments, one pod each, 5 % crash-looping, one namespace"
        )
        report_runs(
            "end to end (median)",
            lambda: timed_command(["--live", "-n", ns, "-o", "json"], env),
            args.runs,
        )
    report_runs("of which `import kubernetes`", _import_kubernetes, args.runs)
    report_runs(
        "  (without dev extras)", lambda: _import_kubernetes(_WITHOUT_DEV_EXTRAS), args.runs
    )


def _import_kubernetes(code: str = "import kubernetes") -> tuple[float, float]:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=command_environment(), check=True)
    return time.perf_counter() - start, 0.0


#: ``import kubernetes`` as a user's install does it: the client imports the optional
#: ``kubernetes_validate`` (a development dependency here, which loads jsonschema) when found.
_WITHOUT_DEV_EXTRAS = "import sys; sys.modules['kubernetes_validate'] = None; import kubernetes"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--deployments", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-live", action="store_true", help="skip the live-mode figure")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="diagnose-bench-") as tmp:
        (Path(tmp) / "dump").mkdir()
        offline(args, Path(tmp) / "dump")
        if not args.no_live:
            live(args, Path(tmp))


if __name__ == "__main__":
    main()
