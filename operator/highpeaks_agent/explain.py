"""The contract between the diagnosis service and whatever explains a diagnosis (Flowise).

The service depends on this protocol, not on the Flowise client, so rules-only deployments
import nothing of the bridge and tests can plug in their own explainer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from highpeaks_agent.engine.model import Diagnosis

if TYPE_CHECKING:  # the offline CLI imports this module: no HTTP or grant code at run time
    from highpeaks_agent.flowise.grants import Step
    from highpeaks_agent.http.auth import User


@dataclass(frozen=True, slots=True)
class ExplainRequest:
    """What an explainer gets: already-redacted diagnoses and the user's (redacted) question."""

    scope: str
    """What is being diagnosed, e.g. ``Deployment shop/checkout`` or ``namespace shop``."""
    diagnoses: list[Diagnosis]
    question: str | None
    subject: str
    """Who the diagnoses are about, stable across looks: the target's uid, or the namespace.
    An explainer derives its conversation and cache identities from it (with the revision and
    root causes it reads from ``diagnoses``)."""
    readers: str = ""
    """Empty when the diagnoses were read with every right; else which share of the data they
    hold (an /assist caller's). An explainer never gives an answer made for one share to
    another: it could repeat evidence the other may not read."""
    namespace: str = ""
    """The namespace diagnosed: what a task's or an incident's troubleshooting steps may read."""
    asker: User | None = None
    """The /assist caller whose own rights bound the flow's troubleshooting steps; None for an
    AgentTask or an incident (read access to ``namespace`` only) and for the CLI."""


@dataclass(frozen=True, slots=True)
class ExplainOutcome:
    """An explanation, or why there is none (the rules' answer stands then).

    ``status`` is ``ok`` with the fields filled, ``disabled`` when no explainer is configured,
    or ``unavailable`` with ``reason`` saying what went wrong (``timeout``, ``unauthorized``,
    ``circuit open``, ``bad answer`` …), which the task's ``FlowiseAvailable`` condition shows.
    """

    status: Literal["ok", "disabled", "unavailable"]
    reason: str = ""
    summary: str = ""
    root_cause: str = ""
    recommendations: list[str] = field(default_factory=list)
    answer: str = ""
    steps: tuple[Step, ...] = ()
    """The read-only tool calls the flow made before it answered (CONTRACT §11), in order."""


DISABLED = ExplainOutcome(status="disabled", reason="Flowise is not configured")


class Explainer(Protocol):
    """Turns diagnoses into a richer explanation; must never raise, only report unavailability."""

    async def explain(self, request: ExplainRequest) -> ExplainOutcome:
        """Explain ``request`` or say why not."""
        ...
