"""The contract between the diagnosis service and whatever explains a diagnosis (Flowise).

The service depends on this protocol, not on the Flowise client, so rules-only deployments
import nothing of the bridge and tests can plug in their own explainer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from highpeaks_agent.engine.model import Diagnosis


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


DISABLED = ExplainOutcome(status="disabled", reason="Flowise is not configured")


class Explainer(Protocol):
    """Turns diagnoses into a richer explanation; must never raise, only report unavailability."""

    async def explain(self, request: ExplainRequest) -> ExplainOutcome:
        """Explain ``request`` or say why not."""
        ...
