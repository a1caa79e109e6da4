"""Errors a person sees: each names what was wrong and where, never a traceback."""

from __future__ import annotations


class InputError(Exception):
    """Input the agent cannot use: a missing path, malformed JSON/YAML, not a Kubernetes list."""

    def __init__(self, origin: str, problem: str) -> None:
        super().__init__(f"{origin}: {problem}")
        self.origin = origin
        self.problem = problem


class TargetNotFound(Exception):
    """The workload a task or request names does not exist."""

    def __init__(self, kind: str, namespace: str, name: str) -> None:
        super().__init__(f"{kind} {namespace}/{name} not found")
        self.kind = kind
        self.namespace = namespace
        self.name = name
