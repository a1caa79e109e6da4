"""Request and response bodies of /assist."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from highpeaks_agent.engine.kinds import DNS_1123_SUBDOMAIN, DNS_1123_SUBDOMAIN_MAX, TargetKind


class TargetRef(BaseModel):
    """The workload a question is about, in the request's namespace."""

    model_config = ConfigDict(extra="forbid")

    kind: TargetKind
    name: str = Field(min_length=1, max_length=DNS_1123_SUBDOMAIN_MAX, pattern=DNS_1123_SUBDOMAIN)


class AssistRequest(BaseModel):
    """``POST /assist``; unknown fields are rejected so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")

    # no max_length here: ASSIST_MAX_QUERY_CHARS decides, in the route (and in /openapi.json)
    query: str = Field(min_length=1)
    namespace: str | None = Field(
        default=None, min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
    )
    target: TargetRef | None = None


class AssistResponse(BaseModel):
    """The answer, the diagnoses behind it (CONTRACT §1 shape) and who answered."""

    answer: str
    diagnoses: list[dict[str, Any]]
    source: Literal["rules", "flowise"]
    namespace: str
    recommendations: list[str] = Field(default_factory=list)
    withheld: list[str] = Field(default_factory=list)
    """Kinds of evidence left out because the caller may not read them (CONTRACT §7)."""
    generated: bool = False
    """Whether ``answer`` holds text written by the flow (labelled so in the text too)."""
    steps: list[dict[str, Any]] = Field(default_factory=list)
    """The read-only tool calls the flow made with the caller's rights (CONTRACT §11):
    ``tool``, ``arguments``, ``result`` in one line, ``durationMs``."""


class ErrorResponse(BaseModel):
    """Every 4xx/5xx body."""

    error: str
    reason: str
