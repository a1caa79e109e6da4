"""Benchmark what saying "which change broke it" costs the API server: the extra reads.

500 failing Deployments in one namespace of the emulated API server (loopback HTTP), each at
revision 2 with a crash-looping pod: half applied by Argo CD (an Application each, in
``argocd``), half by Flux (a Kustomization each, all built from one GitRepository). Each is
diagnosed as the operator diagnoses an incident — ``LiveSource.target_snapshot`` — in turns
with and without reading its GitOps source, counting the GETs and timing the read. Then the
namespace at once (``namespace_snapshot``), as ``diagnose --live -n`` and /assist read it.

    python benchmarks/gitops_reads_bench.py [--deployments 500]

Figures are reports, not assertions: the machine they run on decides them.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "operator"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from kubernetes import config  # noqa: E402
from tests.support.apiserver.serve import (  # noqa: E402
    GITOPS_CRDS,
    RunningApiServer,
    declare_crd,
    running_api_server,
)
from tests.support.apiserver.store import ResourceType  # noqa: E402

from highpeaks_agent.engine import diagnose  # noqa: E402
from highpeaks_agent.engine.delivery import DELIVERY_KINDS  # noqa: E402
from highpeaks_agent.sources import live as live_module  # noqa: E402
from highpeaks_agent.sources.live import LiveSource  # noqa: E402
from highpeaks_agent.visibility import EVERYTHING, Visibility  # noqa: E402
from operator_bench import DEPLOYMENT, NAMESPACE, REPLICASET, add_pod, owner  # noqa: E402

NS = "bench"
OLD, NEW = "7e2b94c1d8a3f5062b1e9d4c7a8f3e5b2d6c1a94", "c4d1a9e8f2b7360d5e9a1c8b4f7e2d6a3b5c9e01"
_GITOPS_GROUPS = {info.group for info in DELIVERY_KINDS}
APPLICATION = ResourceType(("argoproj.io", "v1alpha1", "applications"), "Application", True, False)
# written as the controller's status already holds it (the store's create keeps ``status``)
KUSTOMIZATION = ResourceType(
    ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations"), "Kustomization", True, False
)
GIT_REPOSITORY = ResourceType(
    ("source.toolkit.fluxcd.io", "v1", "gitrepositories"), "GitRepository", True, True
)
WITHOUT_SOURCES = Visibility(delivery=False)


def failing_rollout(server: RunningApiServer, name: str, metadata: dict[str, Any]) -> None:
    """``name`` at revision 2 (its revision 1 ReplicaSet kept), one crash-looping pod."""
    store = server.emulator.store
    template = {
        "metadata": {"labels": {"app": name}},
        "spec": {"containers": [{"name": "app", "image": f"registry.example.com/{name}:2"}]},
    }
    deployment = store.create(
        DEPLOYMENT,
        NS,
        {
            "metadata": {"name": name, **metadata},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": name}},
                "template": template,
            },
            "status": {"replicas": 2, "updatedReplicas": 1, "availableReplicas": 0},
        },
    )
    deployment["metadata"].setdefault("annotations", {})["deployment.kubernetes.io/revision"] = "2"
    new = None
    for revision in (1, 2):
        new = store.create(
            REPLICASET,
            NS,
            {
                "metadata": {
                    "name": f"{name}-r{revision}",
                    "annotations": {"deployment.kubernetes.io/revision": str(revision)},
                    "labels": {"app": name},
                    "ownerReferences": [owner(deployment)],
                },
                "spec": {"replicas": revision - 1, "template": template},
            },
        )
    assert new is not None
    add_pod(server, NS, new, 0, crashing=True)


def populate(server: RunningApiServer, deployments: int) -> None:
    store = server.emulator.store
    for ns in (NS, "argocd", "flux-system"):
        store.create(NAMESPACE, None, {"metadata": {"name": ns}})
    source = {"repoURL": "https://github.com/example/shop-deploy.git", "path": "apps"}
    store.create(
        GIT_REPOSITORY,
        "flux-system",
        {"metadata": {"name": "fleet"}, "spec": {"url": "ssh://git@gitlab.com/example/fleet.git"}},
    )
    for d in range(deployments):
        name = f"svc-{d}"
        if d % 2 == 0:
            tracking = f"{name}:apps/Deployment:{NS}/{name}"
            failing_rollout(
                server, name, {"annotations": {"argocd.argoproj.io/tracking-id": tracking}}
            )
            history = [
                {"id": 1, "revision": OLD, "deployedAt": "2026-11-20T09:00:00Z", "source": source},
                {"id": 2, "revision": NEW, "deployedAt": "2099-01-01T00:00:00Z", "source": source},
            ]
            store.create(
                APPLICATION,
                "argocd",
                {
                    "metadata": {"name": name},
                    "spec": {"source": source},
                    "status": {"sync": {"revision": NEW}, "history": history},
                },
            )
        else:
            labels = {
                "kustomize.toolkit.fluxcd.io/name": name,
                "kustomize.toolkit.fluxcd.io/namespace": "flux-system",
            }
            failing_rollout(server, name, {"labels": labels})
            store.create(
                KUSTOMIZATION,
                "flux-system",
                {
                    "metadata": {"name": name},
                    "spec": {
                        "path": f"./apps/{name}",
                        "sourceRef": {"kind": "GitRepository", "name": "fleet"},
                    },
                    "status": {"lastAppliedRevision": f"main@sha1:{NEW}"},
                },
            )


class CountingReads:
    """Wraps the live reader's ``get_json``: every GET, and those of GitOps objects."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self._real = live_module.get_json

    async def __call__(self, api: Any, path: str, query: Any = ()) -> Any:
        self.paths.append(path)
        return await self._real(api, path, query)

    def take(self) -> tuple[int, int]:
        """(all GETs, GitOps GETs) since the last take."""
        paths, self.paths = self.paths, []
        gitops = sum(1 for p in paths if p.split("/")[2:3] and p.split("/")[2] in _GITOPS_GROUPS)
        return len(paths), gitops


async def timed(read: Awaitable[Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await read
    return time.perf_counter() - started, result


async def measure(live: LiveSource, reads: CountingReads, deployments: int) -> None:
    per_kind: dict[str, Counter[int]] = {"Argo CD": Counter(), "Flux": Counter()}
    plain_reads: Counter[int] = Counter()
    with_times: list[float] = []
    without_times: list[float] = []
    named = 0
    for d in range(deployments):
        name = f"svc-{d}"
        spent, _ = await timed(
            live.target_snapshot(NS, "Deployment", name, visible=WITHOUT_SOURCES)
        )
        without_times.append(spent)
        plain_reads[reads.take()[0]] += 1
        spent, snapshot = await timed(
            live.target_snapshot(NS, "Deployment", name, visible=EVERYTHING)
        )
        with_times.append(spent)
        per_kind["Argo CD" if d % 2 == 0 else "Flux"][reads.take()[1]] += 1
        [found] = diagnose(snapshot, now=snapshot.newest_timestamp() or _now())
        named += bool(
            found.rollout and found.rollout.delivery and found.rollout.delivery.commit == NEW
        )
    print(f"{deployments} failing Deployments, each diagnosed as an incident (target_snapshot):")
    print(f"  reads per diagnosis without the GitOps source: {dict(plain_reads)}")
    for kind, counts in per_kind.items():
        print(f"  extra GETs per diagnosis, {kind}: {dict(counts)}")
    print(f"  diagnoses naming the failing commit: {named} of {deployments}")
    extra = sum(with_times) - sum(without_times)
    print(
        "  read time per diagnosis, median: "
        f"{statistics.median(without_times) * 1000:.1f} ms without, "
        f"{statistics.median(with_times) * 1000:.1f} ms with"
    )
    total_gets = sum(n * c for counts in per_kind.values() for n, c in counts.items())
    print(
        f"  at {deployments}: {total_gets} extra GETs, {extra:.1f} s extra read time in all "
        f"({sum(without_times):.1f} s → {sum(with_times):.1f} s)"
    )
    for visible, label in ((WITHOUT_SOURCES, "without"), (EVERYTHING, "with")):
        spent, _ = await timed(live.namespace_snapshot(NS, visible=visible))
        total, gitops = reads.take()
        print(f"  namespace read {label} sources: {total} GETs ({gitops} GitOps), {spent:.2f} s")


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=500)
    args = parser.parse_args()
    with running_api_server() as server, tempfile.TemporaryDirectory() as tmp:
        for path in GITOPS_CRDS:
            declare_crd(server.emulator, path)
        server.call(lambda: populate(server, args.deployments))
        api = config.new_client_from_config(str(server.write_kubeconfig(Path(tmp) / "kubeconfig")))
        reads = CountingReads()
        live_module.get_json = reads  # type: ignore[assignment]
        live = LiveSource(api)
        asyncio.run(measure(live, reads, args.deployments))


if __name__ == "__main__":
    main()
