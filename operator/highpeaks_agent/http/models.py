"""Request and response bodies of /assist."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_QUERY_CHARS = 2000


class TargetRef(BaseModel):
    """The workload a question is about, in the request's namespace."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet", "Pod"]
    name: str = Field(min_length=1, max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


class AssistRequest(BaseModel):
    """``POST /assist``; unknown fields are rejected so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
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


class ErrorResponse(BaseModel):
    """Every 4xx/5xx body."""

    error: str
    reason: str
