"""Errors a person or a client sees: each names what was wrong and where, never a traceback.

Every error the agent raises on purpose derives from :class:`AgentError`, so the edges (the
CLI, the AgentTask handler, the HTTP layer) map them by type in one place each.
"""

from __future__ import annotations


class AgentError(Exception):
    """An expected failure with a message that is safe to show."""

    headers: dict[str, str] = {}  # noqa: RUF012 - read-only; HTTP headers the answer carries


class InputError(AgentError):
    """Input the agent cannot use: a missing path, malformed JSON/YAML, not a Kubernetes list."""

    def __init__(self, origin: str, problem: str) -> None:
        super().__init__(f"{origin}: {problem}")
        self.origin = origin
        self.problem = problem


class TargetNotFound(AgentError):
    """The workload a task or request names does not exist."""

    def __init__(self, kind: str, namespace: str, name: str) -> None:
        super().__init__(f"{kind} {namespace}/{name} not found")
        self.kind = kind
        self.namespace = namespace
        self.name = name


class UnsupportedTarget(AgentError):
    """A target kind the engine does not diagnose."""

    def __init__(self, kind: str, supported: tuple[str, ...]) -> None:
        super().__init__(
            f"unsupported target kind {kind!r}; expected one of {', '.join(supported)}"
        )
        self.kind = kind


class Unauthenticated(AgentError):
    """A caller without a valid bearer token."""

    headers = {"WWW-Authenticate": "Bearer"}  # noqa: RUF012 - read-only


class Forbidden(AgentError):
    """An authenticated caller who may not read what they asked about."""


class InvalidRequest(AgentError):
    """A request body that parses but says something the agent cannot do."""


class MalformedBody(AgentError):
    """A request body that is not valid JSON."""


class PayloadTooLarge(AgentError):
    """A request body over its size limit."""


class TooManyRequests(AgentError):
    """A caller over its rate limit; ``retry_after`` is when the next request may pass."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(int(retry_after) + 1)}


class ReviewUnavailable(AgentError):
    """A TokenReview or SubjectAccessReview could not be made (API error, timeout): nobody
    can be let in or kept out, so the request is answered 503, never guessed."""


class ClusterUnavailable(AgentError):
    """The Kubernetes API did not answer a read the request needed."""


class NotReadable(AgentError):
    """What was asked for cannot be read as asked (a container with no previous instance, a
    pod gone); the message is the API server's reason."""
