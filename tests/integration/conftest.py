"""The integration fixture: an API server on loopback and the real operator process against it.

Without ``E2E_KUBECONFIG`` the API server is the emulator of ``tests/support/apiserver`` and
the tests play the controllers and kubelet themselves (``SimulatedControllers``). The operator
is always the real ``highpeaks-agent run`` process, reached over HTTP.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kubernetes import client, config

from tests.support.apiserver.faults import FaultyProxy
from tests.support.apiserver.serve import RunningApiServer
from tests.support.controllers import SimulatedControllers
from tests.support.notes import assert_says_each_fact_once
from tests.support.operator_process import OperatorProcess
from tests.support.waiting import eventually as wait_until

pytestmark = pytest.mark.integration
T = TypeVar("T")
_namespaces = itertools.count(1)


@pytest.fixture(scope="session")
def apiserver() -> Iterator[RunningApiServer]:
    server = RunningApiServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def kubeconfig(apiserver: RunningApiServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return apiserver.write_kubeconfig(tmp_path_factory.mktemp("kube") / "config")


@pytest.fixture(scope="session")
def api(kubeconfig: Path) -> client.ApiClient:
    return config.new_client_from_config(str(kubeconfig))


@pytest.fixture(scope="module")
def proxy(apiserver: RunningApiServer) -> Iterator[FaultyProxy]:
    """A :class:`FaultyProxy` in front of the module's API server, for the fault tests."""
    faulty = FaultyProxy(apiserver.url)
    faulty.start()
    yield faulty
    faulty.close()


@pytest.fixture(scope="module")
def operator(
    kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    process = OperatorProcess(kubeconfig, tmp_path_factory.mktemp("operator") / "operator.log")
    process.start()
    yield process
    process.stop()


@pytest.fixture
def cluster(
    api: client.ApiClient, apiserver: RunningApiServer, operator: OperatorProcess
) -> Iterator[SimulatedControllers]:
    """A fresh namespace with simulated controllers, watched by the running operator.

    Afterwards, every IncidentNote the operator posted in it must say each fact once."""
    simulated = SimulatedControllers(api, apiserver, f"it-{next(_namespaces)}")
    yield simulated
    events = read_json(simulated.core.list_namespaced_event, simulated.ns)["items"]
    for note in (e for e in events if e.get("reason") == "IncidentNote"):
        assert_says_each_fact_once(note["message"])


def eventually(check: Callable[[], T], *, timeout: float = 60, what: str = "") -> T:
    """Poll ``check``; API errors (e.g. a 404 before the object exists) mean "not yet".

    60 s: a passing check returns as soon as it holds; the bound is for a 2-core machine
    busy with the operator processes, the emulator and the test itself."""
    return wait_until(
        check,
        timeout=timeout,
        what=what,
        expected=(AssertionError, KeyError, StopIteration, client.ApiException),
    )


def read_json(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return json.loads(call(*args, _preload_content=False, **kwargs).data)
