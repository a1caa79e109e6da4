"""``diagnose`` works on files only: it must not load the operator's or the server's libraries.

Runs the real command with ``python -X importtime``, which lists every module the process
imports, and fails on any module of Kopf, the Kubernetes client, FastAPI or uvicorn.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ONLINE_ONLY = frozenset({"kopf", "kubernetes", "fastapi", "uvicorn"})
IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|\s*(?P<module>[\w.]+)$", re.MULTILINE)


def imported_packages(stderr: str) -> set[str]:
    return {found["module"].split(".")[0] for found in IMPORT_LINE.finditer(stderr)}


def test_diagnose_imports_no_operator_or_server_library() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "operator"),
        # a selector is validated on every start: its parser must not need Kopf either
        "WATCH_NAMESPACE_SELECTOR": "env in (prod,staging),!legacy",
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
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["diagnoses"]
    packages = imported_packages(proc.stderr)
    assert "highpeaks_agent" in packages  # the listing really is the command's imports
    assert packages.isdisjoint(ONLINE_ONLY), sorted(packages & ONLINE_ONLY)
