"""``diagnose PATH`` works on files only: it must not load the operator's or the server's libraries.

Runs the real command with ``python -X importtime``, which lists every module the process
imports, and fails on any module of Kopf, the Kubernetes client, FastAPI or uvicorn — nor,
offline, the HTTP client, the metrics library or the YAML parser (JSON input needs none);
and, with none of the agent's settings in the environment, not pydantic either.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from highpeaks_agent.settings_names import sets_any_setting

ROOT = Path(__file__).resolve().parents[3]
ONLINE_ONLY = frozenset({"kopf", "kubernetes", "fastapi", "uvicorn"})
#: Not needed to read a JSON dump and print a report either (each costs start-up time).
NOT_FOR_A_JSON_DUMP = frozenset({"httpx", "prometheus_client", "yaml", "urllib3"})
IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(?P<module>[\w.]+)$", re.MULTILINE)


def imported_packages(stderr: str) -> set[str]:
    return {found["module"].split(".")[0] for found in IMPORT_LINE.finditer(stderr)}


@pytest.mark.parametrize(
    "options",
    [
        ["-o", "json"],
        # the table, and --explain with no flow configured (the explaining module loads, the
        # Flowise client does not)
        ["-o", "table", "--explain"],
    ],
)
def test_diagnose_imports_no_operator_or_server_library(options: list[str]) -> None:
    packages = imported_by_diagnose(
        options,
        # a selector is validated on every start: its parser must not need Kopf either
        {"WATCH_NAMESPACE_SELECTOR": "env in (prod,staging),!legacy", "FLOWISE_URL": ""},
    )
    assert packages.isdisjoint(ONLINE_ONLY), sorted(packages & ONLINE_ONLY)
    assert packages.isdisjoint(NOT_FOR_A_JSON_DUMP), sorted(packages & NOT_FOR_A_JSON_DUMP)


def test_with_no_setting_in_the_environment_nothing_is_validated() -> None:
    """Every default holds, so the post-mortem starts without pydantic (a third of its start)."""
    packages = imported_by_diagnose(["-o", "json"], {})
    assert "pydantic" not in packages
    assert packages.isdisjoint(ONLINE_ONLY | NOT_FOR_A_JSON_DUMP)


def imported_by_diagnose(options: list[str], settings: dict[str, str]) -> set[str]:
    """The top-level packages ``diagnose`` imports on a shipped dump, with only ``settings``
    of the agent's own variables in its environment."""
    env = {
        **{k: v for k, v in os.environ.items() if not sets_any_setting([k])},
        "PYTHONPATH": str(ROOT / "operator"),
        **settings,
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "highpeaks_agent",
            "diagnose",
            str(ROOT / "examples" / "dumps" / "crashloop-bad-config"),
            *options,
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "orders-api" in proc.stdout
    packages = imported_packages(proc.stderr)
    assert "highpeaks_agent" in packages  # the listing really is the command's imports
    return packages
