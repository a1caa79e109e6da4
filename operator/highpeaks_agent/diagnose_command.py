"""``highpeaks-agent diagnose``: read a dump or List, run the engine, render, exit 0/1/2."""

from __future__ import annotations

from typing import TextIO


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
    raise NotImplementedError
