"""Parsing the flow's answer: the ``json`` field, else JSON inside ``text``, else plain text.

A flow with a structured output parser answers ``{"json": {...}}``; one without answers
``{"text": "..."}``, which may hold JSON in a code fence. Everything is validated and capped;
what cannot be used raises :class:`BadAnswer` with a short reason.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from highpeaks_agent.engine.redact import redact_text

_FENCE = re.compile(r"```(?:json)?\s*(\{.*?\})\s*```", re.DOTALL)
MAX_FIELD = 4000


class BadAnswer(Exception):
    """The flow answered, but not with anything usable."""


class FlowAnswer(BaseModel):
    """What the shipped flow's output parser yields."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    summary: str = Field(min_length=1)
    root_cause: str = Field(default="", alias="rootCause")
    recommendations: list[str] = Field(default_factory=list)
    answer: str = ""

    @field_validator("summary", "root_cause", "answer")
    @classmethod
    def _cap(cls, value: str) -> str:
        return redact_text(value.strip())[:MAX_FIELD]

    @field_validator("recommendations")
    @classmethod
    def _cap_list(cls, value: list[str]) -> list[str]:
        return [redact_text(item.strip())[:MAX_FIELD] for item in value[:10] if item.strip()]


def parse_answer(body: Any) -> FlowAnswer:
    """A validated answer from the prediction response body."""
    if not isinstance(body, dict):
        raise BadAnswer(f"expected a JSON object, got {type(body).__name__}")
    structured = body.get("json")
    if isinstance(structured, dict):
        return _validate(structured)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadAnswer("no 'json' or 'text' field in the answer")
    candidate = text.strip()
    fenced = _FENCE.search(candidate)
    if fenced:
        candidate = fenced.group(1)
    if candidate.startswith("{"):
        try:
            decoded = json.loads(candidate)
        except json.JSONDecodeError:
            decoded = None
        if isinstance(decoded, dict):
            return _validate(decoded)
    return FlowAnswer(summary=text)


def _validate(data: dict[str, Any]) -> FlowAnswer:
    try:
        return FlowAnswer.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "answer"
        raise BadAnswer(f"{where}: {first['msg']}") from exc
