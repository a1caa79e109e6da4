"""Alertmanager's webhook body, version 4, as its ``webhook_config`` documentation gives it.

Unknown fields are ignored (Alertmanager adds fields over time; ``truncatedAlerts`` came
later than version 4 itself); the fields it knows are checked strictly, with JSON's own types
(no ``false`` for a count, no number for a label), as the published schema says.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AlertStatus = Literal["firing", "resolved"]


class Alert(BaseModel):
    """One alert of a group: its labels say what it is about, ``fingerprint`` who it is."""

    model_config = ConfigDict(extra="ignore", strict=True)

    status: AlertStatus
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: str = ""
    endsAt: str = ""
    generatorURL: str = ""
    fingerprint: str = ""

    @property
    def name(self) -> str:
        """The ``alertname`` label (every Prometheus alert has one)."""
        return self.labels.get("alertname", "")

    @property
    def summary(self) -> str:
        """What the rule's author wrote about it: ``summary``, else ``description``/``message``."""
        for key in ("summary", "description", "message"):
            if self.annotations.get(key):
                return self.annotations[key]
        return ""


class AlertGroup(BaseModel):
    """``POST`` body of an Alertmanager webhook receiver."""

    model_config = ConfigDict(extra="ignore", strict=True)

    version: Literal["4"]
    groupKey: str = ""
    truncatedAlerts: int = 0
    status: AlertStatus
    receiver: str = ""
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[Alert]
