"""The real ``highpeaks-agent diagnose`` process, and its output checked against the shipped
JSON Schema, for tests of every tier."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schemas" / "diagnose-output.schema.json").read_text())
_VALIDATOR = jsonschema.Draft202012Validator(
    SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        document = json.loads(self.out)
        validate_output(document)
        return document


def validate_output(document: Any) -> None:
    """Fail with the schema's words when ``document`` is not what the schema promises."""
    _VALIDATOR.validate(document)


def run_diagnose(
    args: list[str], env: dict[str, str] | None = None, *, timeout: float = 120
) -> Ran:
    """``python -m highpeaks_agent diagnose ARGS`` with the given extra environment."""
    proc = subprocess.run(
        [sys.executable, "-m", "highpeaks_agent", "diagnose", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "operator"), **(env or {})},
        timeout=timeout,
        check=False,
    )
    return Ran(proc.returncode, proc.stdout, proc.stderr)


def run_in_process(args: list[str], env: dict[str, str] | None = None, stdin: str = "") -> Ran:
    """``diagnose ARGS`` through the console script's own ``main``, in this process: the same
    code path without a new interpreter (importing the Kubernetes client again is slow)."""
    from highpeaks_agent.cli import main

    streams = (io.StringIO(stdin), io.StringIO(), io.StringIO())
    with _environment(env or {}), _standard_streams(*streams):
        try:
            code = main(["diagnose", *args])
        except SystemExit as exc:  # argparse's way out, as the console script would exit
            code = int(exc.code or 0)
    return Ran(code, streams[1].getvalue(), streams[2].getvalue())


@contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _standard_streams(
    stdin: io.StringIO, stdout: io.StringIO, stderr: io.StringIO
) -> Iterator[None]:
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
    try:
        yield
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
