"""The AgentTask spec as the operator accepts it (CONTRACT §4).

The CRD's schema rejects most bad specs at admission; this model checks again (a cluster may
run an older CRD, and the emulator used in tests validates nothing) and adds the rule the
schema cannot express: the target lives in the task's own namespace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from highpeaks_agent.engine.kinds import DNS_1123_SUBDOMAIN, DNS_1123_SUBDOMAIN_MAX, TargetKind

MAX_QUESTION_CHARS = 2000


class TargetSpec(BaseModel):
    """``spec.target``."""

    model_config = ConfigDict(extra="forbid")

    kind: TargetKind
    name: str = Field(min_length=1, max_length=DNS_1123_SUBDOMAIN_MAX, pattern=DNS_1123_SUBDOMAIN)
    namespace: str | None = None


class ActionSpec(BaseModel):
    """``spec.action``: an action asked for directly (run by ``actions/``, CONTRACT §10)."""

    model_config = ConfigDict(extra="forbid")

    name: Literal["rollback", "restart", "pause", "resume"]
    by: str = Field(min_length=1, max_length=DNS_1123_SUBDOMAIN_MAX)


class ApprovalSpec(BaseModel):
    """``spec.approval``: a proposed action approved by its id."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(min_length=1, max_length=63)
    by: str = Field(min_length=1, max_length=DNS_1123_SUBDOMAIN_MAX)


class AgentTaskSpec(BaseModel):
    """``spec``."""

    model_config = ConfigDict(extra="forbid")

    target: TargetSpec
    question: str | None = Field(default=None, max_length=MAX_QUESTION_CHARS)
    action: ActionSpec | None = None
    approval: ApprovalSpec | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a task cannot be run; becomes phase Failed and the Diagnosed condition's message."""

    reason: str
    message: str


def parse_spec(spec: Any, task_namespace: str) -> AgentTaskSpec | Rejection:
    """The validated spec, or a rejection whose message says exactly what is wrong."""
    try:
        parsed = AgentTaskSpec.model_validate(spec if spec is not None else {})
    except ValidationError as exc:
        problems = "; ".join(
            f"spec.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        return Rejection("InvalidSpec", problems)
    namespace = parsed.target.namespace
    if namespace is not None and namespace != task_namespace:
        return Rejection(
            "TargetOutsideNamespace",
            f"spec.target.namespace {namespace!r} differs from the task's namespace "
            f"{task_namespace!r}: a task may only diagnose workloads in its own namespace",
        )
    return parsed
