"""End-to-end tests against a real cluster running the deployed operator (kind in CI).

Set ``E2E_KUBECONFIG`` to a kubeconfig whose cluster runs the operator
(``kubectl apply -k k8s/overlays/dev``); without it every test here is skipped, with that
reason shown in the summary.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

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
    result = subprocess.run(
        ["kubectl", "--kubeconfig", KUBECONFIG, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
    return result.stdout


def kubectl_json(*args: str) -> Any:
    return json.loads(kubectl(*args, "-o", "json"))


def eventually(check: Callable[[], T], *, timeout: float = 300, what: str = "") -> T:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except (AssertionError, KeyError, StopIteration, json.JSONDecodeError) as exc:
            last = exc
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}: {last!r}")
