"""Process-wide state shared by the operator and the HTTP surface: readiness."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Readiness:
    """Whether the operator is connected to the API server and its watches are running.

    The operator updates it (start-up, probe handlers); ``/ready`` reads it.
    """

    ready: bool = False
    reason: str = "starting: not yet connected to the Kubernetes API"

    def mark_ready(self) -> None:
        self.ready = True
        self.reason = "connected and watching"

    def mark_unready(self, reason: str) -> None:
        self.ready = False
        self.reason = reason
