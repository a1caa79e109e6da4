"""``diagnose PATH``: a post-mortem of a dump or a List file, read the same whenever it is run."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TextIO

from highpeaks_agent.errors import InputError
from highpeaks_agent.sources.files import ProgressCallback, load_path
from highpeaks_agent.terminal.gathered import Gathered, diagnosable_namespaces, holds_workloads


def read_offline(
    path: str, namespace: str | None, stdin: TextIO, progress: ProgressCallback
) -> Gathered:
    """Read ``path``; raises :class:`InputError` when it holds nothing to diagnose.

    An input with only events (or only services) would otherwise read as "nothing failing",
    an all-clear nobody checked; so would a namespace the input does not hold.
    """
    origin = "<stdin>" if path == "-" else path
    snapshot = load_path(path, stdin, progress)
    if not holds_workloads(snapshot):
        raise InputError(origin, "nothing to diagnose: no pods or workloads in the input")
    if namespace is not None:
        held = diagnosable_namespaces(snapshot)
        if namespace not in held:
            raise InputError(
                origin,
                f"nothing in namespace {namespace!r} (the input holds: {', '.join(sorted(held))})",
            )
    # "now" of a post-mortem is the dump's own newest timestamp, so it reads the same later
    now = snapshot.newest_timestamp() or datetime.now(UTC)
    scope = f"namespace {namespace}" if namespace else f"the dump {origin}"
    return Gathered(
        snapshot=snapshot,
        now=now,
        scope=scope,
        subject=f"dump/{origin}/{namespace or ''}",
        namespace=namespace,
    )
