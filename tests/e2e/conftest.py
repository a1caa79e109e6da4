"""End-to-end tests against a real cluster running the deployed operator (kind in CI).

Set ``E2E_KUBECONFIG`` to a kubeconfig whose cluster runs the operator
(``kubectl apply -k k8s/overlays/dev``); without it every test here is skipped, with that
reason shown in the summary.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from tests.support.waiting import eventually as wait_until

T = TypeVar("T")
KUBECONFIG = os.environ.get("E2E_KUBECONFIG", "")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if KUBECONFIG:
        return
    skip = pytest.mark.skip(reason="E2E_KUBECONFIG is not set: no real cluster to test against")
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(skip)


def kubectl_run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["kubectl", "--kubeconfig", KUBECONFIG, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def kubectl(*args: str, stdin: str | None = None, check: bool = True) -> str:
    result = kubectl_run(*args, stdin=stdin)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def kubectl_json(*args: str) -> Any:
    return json.loads(kubectl(*args, "-o", "json"))


def eventually(check: Callable[[], T], *, timeout: float = 300, what: str = "") -> T:
    """Poll ``check`` every 2 s; a real cluster takes minutes to crash-loop."""
    return wait_until(
        check,
        timeout=timeout,
        interval=2,
        what=what,
        expected=(AssertionError, KeyError, StopIteration, json.JSONDecodeError),
    )
