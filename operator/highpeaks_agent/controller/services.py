"""The services every handler uses, built once at start-up and handed to Kopf as its memo."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from highpeaks_agent.actions.executor import ActionRunner
from highpeaks_agent.controller.incidents import IncidentMonitor
from highpeaks_agent.controller.open_incidents import OpenIncidentCounter
from highpeaks_agent.controller.phases import PhaseCounter
from highpeaks_agent.controller.resync import Resync
from highpeaks_agent.controller.scope import NamespaceScope
from highpeaks_agent.controller.tasks import TaskRunner
from highpeaks_agent.flowise.grants import FlowGrants
from highpeaks_agent.readiness import Readiness


class AsyncClosable(Protocol):
    """Holds outgoing connections to close at shutdown (the Flowise explainer does)."""

    async def aclose(self) -> None: ...


@dataclass
class Services:
    """What every handler may call; nothing else is shared between handlers.

    Kopf copies the operator's memo into one memo per watched object; these services are
    process-wide, so a copy is the same object (Kopf's "custom memo classes").
    """

    tasks: TaskRunner
    incidents: IncidentMonitor
    readiness: Readiness
    scope: NamespaceScope
    resync: Resync
    actions: ActionRunner | None = None
    """Runs what people ask for or approve (``spec.action``, ``spec.approval``)."""
    phases: PhaseCounter = field(default_factory=PhaseCounter)
    open_incidents: OpenIncidentCounter = field(default_factory=OpenIncidentCounter)
    grants: FlowGrants = field(default_factory=FlowGrants)
    """The flow's one-request credentials: issued for a prediction, accepted by /mcp (the
    same object as the HTTP app's)."""
    explainer: AsyncClosable | None = None
    """The Flowise explainer, whose HTTP connections are closed when the operator stops."""
    notifier: AsyncClosable | None = None
    """The notification worker, stopped (and its connections closed) when the operator stops."""
    action_notifier: AsyncClosable | None = None
    """Sends finished actions to the same sinks; its connections closed at the end."""
    http: AsyncClosable | None = None
    """The HTTP server, stopped first: Kopf cancels, 5 s after a stop, every task started while
    it ran, so the server's own tasks (its lifespan, /mcp's sessions) must be done by then."""

    def __copy__(self) -> Services:
        return self

    async def close(self) -> None:
        """Stop the resync and pending incident looks, close outgoing connections (shutdown)."""
        try:
            if self.http is not None:
                self.readiness.mark_unready("shutting down")
                await self.http.aclose()
            await self.resync.stop()
            await self.incidents.close()
        finally:
            for closable in (self.explainer, self.notifier, self.action_notifier):
                if closable is not None:
                    await closable.aclose()
