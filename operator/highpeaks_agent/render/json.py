"""The JSON output of ``diagnose -o json`` (CONTRACT §1 and §1a): exactly one object.

``schemas/diagnose-output.schema.json`` describes it; ``schemaVersion`` changes only when a
field changes meaning (fields are only ever added).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from highpeaks_agent.engine.model import Diagnosis
from highpeaks_agent.explain import ExplainOutcome
from highpeaks_agent.render.steps import status_steps

SCHEMA_VERSION = 1


def render_json(
    diagnoses: list[Diagnosis],
    *,
    now: datetime,
    pods_checked: int,
    explanation: ExplainOutcome | None = None,
) -> str:
    """``{"schemaVersion", "now", "podsChecked", "diagnoses"[, "explanation"]}``, indented."""
    document: dict[str, Any] = {
        "schemaVersion": SCHEMA_VERSION,
        "now": now.isoformat().replace("+00:00", "Z"),
        "podsChecked": pods_checked,
        "diagnoses": [d.to_json_dict() for d in diagnoses],
    }
    if explanation is not None and explanation.status == "ok":
        document["explanation"] = {
            "generated": True,
            "source": "flowise",
            "summary": explanation.summary,
            "rootCause": explanation.root_cause,
            "recommendations": explanation.recommendations,
            "answer": explanation.answer,
            "steps": status_steps(explanation.steps),
        }
    return json.dumps(document, indent=2) + "\n"
