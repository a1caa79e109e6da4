"""Benchmark /assist under a flood of made-up bearer tokens, against the real operator process.

600 requests with distinct made-up tokens are sent over 10 s (60 a second, 20 at a time)
from one address while /health is probed every 100 ms. Reports how many TokenReviews reached
the (emulated) API server (goal: a bounded few a second, not one per request), the answers'
status codes, and /health latency before and during the flood (goal: stays in milliseconds).

    python benchmarks/assist_flood_bench.py [--requests 600] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "operator"))
sys.path.insert(0, str(ROOT))

from tests.support.apiserver.serve import RunningApiServer  # noqa: E402
from tests.support.operator_process import OperatorProcess  # noqa: E402


async def probe_health(agent: httpx.AsyncClient, stop: asyncio.Event) -> list[float]:
    latencies = []
    while not stop.is_set():
        started = time.perf_counter()
        response = await agent.get("/health")
        assert response.status_code == 200
        latencies.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.1)
    return latencies


async def flood(agent: httpx.AsyncClient, requests: int, seconds: float) -> Counter[int]:
    statuses: Counter[int] = Counter()
    batch = 20
    pause = seconds / (requests / batch)
    for start in range(0, requests, batch):
        answers = await asyncio.gather(
            *(
                agent.post(
                    "/assist",
                    json={"query": "status?"},
                    headers={"Authorization": f"Bearer made-up-token-{i}"},
                )
                for i in range(start, min(start + batch, requests))
            )
        )
        statuses.update(a.status_code for a in answers)
        await asyncio.sleep(pause)
    return statuses


def summary(name: str, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[int(len(ordered) * 0.95) - 1] if len(ordered) >= 20 else ordered[-1]
    return (
        f"{name}: {len(ordered)} probes, median {statistics.median(ordered):.1f} ms, "
        f"p95 {p95:.1f} ms, max {ordered[-1]:.1f} ms"
    )


async def measure(
    url: str, requests: int, seconds: float
) -> tuple[Counter[int], list[float], list[float]]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as agent:
        quiet_stop = asyncio.Event()
        quiet = asyncio.create_task(probe_health(agent, quiet_stop))
        await asyncio.sleep(2)
        quiet_stop.set()
        baseline = await quiet
        stop = asyncio.Event()
        during = asyncio.create_task(probe_health(agent, stop))
        statuses = await flood(agent, requests, seconds)
        stop.set()
        return statuses, baseline, await during


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    server = RunningApiServer()
    server.start()
    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = server.write_kubeconfig(Path(tmp) / "config")
        process = OperatorProcess(kubeconfig, Path(tmp) / "operator.log")
        process.start()
        try:
            started = time.perf_counter()
            statuses, baseline, during = asyncio.run(
                measure(process.url, args.requests, args.seconds)
            )
            elapsed = time.perf_counter() - started - 2
        finally:
            process.stop()
            server.stop()
    reviews = server.emulator.reviews.count("TokenReview")
    print(f"{args.requests} made-up tokens in {elapsed:.1f} s from one address")
    print(f"TokenReviews sent to the API server: {reviews}")
    print(f"answers: {dict(sorted(statuses.items()))}")
    print(summary("/health before", baseline))
    print(summary("/health during", during))


if __name__ == "__main__":
    main()
