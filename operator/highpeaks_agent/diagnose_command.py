"""``highpeaks-agent diagnose``: read a dump or List, run the engine, render, exit 0/1/2."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TextIO

from highpeaks_agent import engine
from highpeaks_agent.engine.redact import redact_text
from highpeaks_agent.errors import InputError
from highpeaks_agent.render.json import render_json
from highpeaks_agent.render.text import render_text
from highpeaks_agent.settings import Settings
from highpeaks_agent.sources.files import load_path

EXIT_HEALTHY, EXIT_FAILING, EXIT_UNUSABLE = 0, 1, 2


def run_diagnose(
    path: str,
    *,
    output: str,
    namespace: str | None,
    color: str,
    stdout: TextIO,
    stderr: TextIO,
    stdin: TextIO,
) -> int:
    """Diagnose ``path`` and print the result; returns the exit status of CONTRACT §1."""
    try:
        snapshot = load_path(path, stdin)
    except InputError as exc:
        stderr.write(f"highpeaks-agent: error: {redact_text(str(exc))}\n")
        return EXIT_UNUSABLE
    for warning in snapshot.warnings:
        stderr.write(f"highpeaks-agent: warning: {redact_text(warning)}\n")
    # "now" of a post-mortem is the dump's own newest timestamp, so it reads the same later
    now = snapshot.newest_timestamp() or datetime.now(UTC)
    diagnoses = engine.diagnose(
        snapshot, now=now, thresholds=Settings().thresholds, namespace=namespace
    )
    if output == "json":
        stdout.write(render_json(diagnoses))
    else:
        use_color = color == "always" or (color == "auto" and stdout.isatty())
        pods = [
            p
            for p in snapshot.pods
            if namespace is None or p["metadata"].get("namespace") == namespace
        ]
        namespaces = [namespace] if namespace else snapshot.namespaces()
        stdout.write(
            render_text(diagnoses, pods=len(pods), namespaces=len(namespaces), color=use_color)
        )
    return EXIT_FAILING if any(d.findings for d in diagnoses) else EXIT_HEALTHY
