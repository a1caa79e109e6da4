"""The JSON output of ``diagnose -o json`` (CONTRACT §1): exactly one object."""

from __future__ import annotations

import json

from highpeaks_agent.engine.model import Diagnosis


def render_json(diagnoses: list[Diagnosis]) -> str:
    """``{"diagnoses": [...]}``, indented, one trailing newline."""
    return json.dumps({"diagnoses": [d.to_json_dict() for d in diagnoses]}, indent=2) + "\n"
