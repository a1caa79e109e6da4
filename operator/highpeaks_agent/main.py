"""``highpeaks-agent run``: the Kopf operator and the HTTP server in one event loop."""

from __future__ import annotations


def run_operator(*, port: int | None, namespaces: list[str] | None) -> int:
    """Run until signalled; returns the process exit status."""
    raise NotImplementedError
