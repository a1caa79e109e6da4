"""The services the handlers use, built once at start-up and kept in Kopf's ``memo``."""

from __future__ import annotations

from dataclasses import dataclass, field

from highpeaks_agent.controller.incidents import IncidentMonitor
from highpeaks_agent.controller.phases import PhaseCounter
from highpeaks_agent.controller.resync import Resync
from highpeaks_agent.controller.scope import NamespaceScope
from highpeaks_agent.controller.tasks import TaskRunner
from highpeaks_agent.runtime import Readiness


@dataclass
class Services:
    """What every handler may call; nothing else is shared between handlers."""

    tasks: TaskRunner
    incidents: IncidentMonitor
    readiness: Readiness
    scope: NamespaceScope
    resync: Resync
    phases: PhaseCounter = field(default_factory=PhaseCounter)
