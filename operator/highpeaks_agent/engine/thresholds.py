"""When a symptom becomes a failure (CONTRACT §2, "Default thresholds").

The engine never reads settings or the clock: callers pass a :class:`Thresholds` built from
:class:`highpeaks_agent.settings.Settings`, so the CLI, the operator's incident detection and
/assist judge a pod by exactly the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Failure thresholds; every field is a setting of the same name in upper case."""

    crashloop_restarts: int = 3
    """A crash-looping or repeatedly terminated container fails from this restart count on."""

    pending_seconds: float = 300.0
    """A pod still Pending, ContainerCreating, PodInitializing or pulling fails after this long."""

    not_ready_seconds: float = 300.0
    """A running container that never became Ready fails after this long."""

    recovered_seconds: float = 600.0
    """A Ready container whose last termination is older than this is healthy again."""


DEFAULT_THRESHOLDS = Thresholds()
