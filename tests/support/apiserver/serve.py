"""Run the emulated API server on loopback in a background thread, with a kubeconfig for it.

kmock has no standalone serve command; a thread with its own event loop lets the test's
``kubernetes`` client, kubectl and a separate operator process all reach it over HTTP.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import kmock
import yaml

from tests.support.apiserver.emulator import ApiServerEmulator

_T = TypeVar("_T")
ROOT = Path(__file__).resolve().parents[3]

#: The operator's token in the kubeconfig; the emulator maps it to a service account.
OPERATOR_TOKEN = "operator-token"


def declare_cluster_resources(emulator: ApiServerEmulator) -> None:
    """The built-in resources (with their real subresources) and the AgentTask CRD's."""
    emulator.resources.load_bundled()
    emulator.declare(
        "devops.highpeaks.io",
        "v1alpha1",
        "agenttasks",
        kind="AgentTask",
        subresources={"status"},
        shortnames={"agt"},
        categories={"highpeaks"},
    )
    crd = yaml.safe_load((ROOT / "crds" / "agenttask.yaml").read_text())
    emulator.printer_columns[("devops.highpeaks.io", "v1alpha1", "agenttasks")] = crd["spec"][
        "versions"
    ][0]["additionalPrinterColumns"]


#: The Argo CD and Flux CRDs, written from their published API references (only the fields the
#: agent reads), which a cluster running those controllers has.
GITOPS_CRDS = sorted((ROOT / "tests" / "support" / "crds").glob("*.yaml"))


def declare_crd(emulator: ApiServerEmulator, path: Path) -> None:
    """Serve the resource a CustomResourceDefinition file describes (its first version)."""
    crd = yaml.safe_load(path.read_text())
    spec, names = crd["spec"], crd["spec"]["names"]
    version = spec["versions"][0]
    emulator.declare(
        spec["group"],
        version["name"],
        names["plural"],
        kind=names["kind"],
        namespaced=spec["scope"] == "Namespaced",
        subresources=set(version.get("subresources") or {}),
        singular=names.get("singular"),
        shortnames=set(names.get("shortNames") or ()),
    )


class RunningApiServer:
    """An :class:`ApiServerEmulator` served on 127.0.0.1 from its own thread."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port
        self.emulator = ApiServerEmulator()
        declare_cluster_resources(self.emulator)
        self.emulator.tokens[OPERATOR_TOKEN] = {
            "username": "system:serviceaccount:highpeaks-system:highpeaks-agent",
            "groups": ["system:serviceaccounts"],
        }
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="apiserver", daemon=True)
        self._started: Future[str] = Future()
        self._stop: asyncio.Event | None = None
        self.url = ""

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        try:
            async with (
                self.emulator,
                kmock.Server(self.emulator, host="127.0.0.1", port=self.port) as server,
            ):
                self.port = server.port
                self._started.set_result(f"http://127.0.0.1:{server.port}")
                await self._stop.wait()
        except BaseException as exc:
            if not self._started.done():
                self._started.set_exception(exc)
            raise

    def start(self) -> None:
        self._thread.start()
        self.url = self._started.result(timeout=30)

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)

    def call(self, fn: Callable[[], _T]) -> _T:
        """Run ``fn`` on the server's loop (for touching the store from tests safely)."""

        async def run() -> _T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    def write_kubeconfig(
        self, path: Path, token: str = OPERATOR_TOKEN, *, via: str | None = None
    ) -> Path:
        """A kubeconfig that reaches this server with ``token`` (through the proxy ``via``)."""
        config: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "emulated", "cluster": {"server": via or self.url}}],
            "users": [{"name": "operator", "user": {"token": token}}],
            "contexts": [
                {"name": "emulated", "context": {"cluster": "emulated", "user": "operator"}}
            ],
            "current-context": "emulated",
        }
        path.write_text(yaml.safe_dump(config))
        return path


@contextmanager
def running_api_server() -> Iterator[RunningApiServer]:
    """Start an emulated API server for the duration of the block."""
    server = RunningApiServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
