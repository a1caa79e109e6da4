"""The engine's output types: what CONTRACT §1 calls a diagnosis and its findings.

These are the only shapes that leave the engine. The CLI renders them, the operator copies
them into AgentTask status, the Flowise bridge summarises them and /assist returns them, so
their JSON field names are part of the public contract and never change (only additions).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    """How bad a finding or diagnosis is. Ordered: critical > warning > info."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Larger is worse, so ``max(..., key=lambda s: s.rank)`` picks the worst."""
        return {"critical": 3, "warning": 2, "info": 1}[self.value]


class ObjectRef(BaseModel):
    """A pointer to a Kubernetes object, the same three fields ``kubectl`` needs."""

    model_config = ConfigDict(frozen=True)

    kind: str
    namespace: str | None = None
    name: str

    def __str__(self) -> str:
        prefix = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{prefix}{self.name}"


class Finding(BaseModel):
    """One cause the rules found, with the evidence that shows it and what to do about it."""

    code: str
    severity: Severity
    title: str
    detail: str = ""
    evidence: list[str] = Field(default_factory=list)
    suggestion: str = ""
    objects: list[ObjectRef] = Field(default_factory=list)


class Rollout(BaseModel):
    """What changed between the failing ReplicaSet's pod template and its healthy predecessor."""

    model_config = ConfigDict(populate_by_name=True)

    revision: int | None = None
    previous_revision: int | None = Field(default=None, alias="previousRevision")
    changes: list[str] = Field(default_factory=list)


class Diagnosis(BaseModel):
    """Everything the rules say about one failing workload; ``findings[0]`` is the root cause."""

    model_config = ConfigDict(populate_by_name=True)

    target: ObjectRef
    severity: Severity
    summary: str
    findings: list[Finding] = Field(default_factory=list)
    rollout: Rollout | None = None
    source: Literal["rules", "flowise"] = "rules"
    pods_affected: int = Field(default=0, ge=0, alias="podsAffected")
    """Pods the findings name (the failing ones)."""
    pods_total: int = Field(default=0, ge=0, alias="podsTotal")
    """Pods of the workload the snapshot holds (its current and older ReplicaSets' together)."""

    @property
    def root_cause(self) -> str:
        """The code of the most likely root cause, empty when nothing is failing."""
        return self.findings[0].code if self.findings else ""

    def to_json_dict(self) -> dict[str, object]:
        """The contract's JSON shape: camelCase aliases, no ``rollout`` key when there is none."""
        data = self.model_dump(mode="json", by_alias=True)
        if self.rollout is None:
            del data["rollout"]
        return data
