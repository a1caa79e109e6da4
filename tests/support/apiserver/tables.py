"""Server-side printing (``Accept: …;as=Table``), as ``kubectl get`` asks for it.

Columns are NAME, the resource's declared printer columns (a CRD's
``additionalPrinterColumns``: simple ``.a.b`` JSON paths), and AGE — enough for tests to read
``kubectl get agt`` the way a user does. Built-in kinds get NAME and AGE only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

PrinterColumn = dict[str, Any]


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def _lookup(obj: Any, path: str) -> Any:
    value = obj
    for part in path.strip(".").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _age(timestamp: Any) -> str:
    if not isinstance(timestamp, str):
        return "<unknown>"
    created = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    seconds = int((datetime.now(UTC) - created).total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def table(
    objects: list[dict[str, Any]], columns: list[PrinterColumn], resource_version: str
) -> dict[str, Any]:
    """A ``meta.k8s.io/v1`` Table of ``objects``."""
    custom = [c for c in columns if c.get("jsonPath") != ".metadata.creationTimestamp"]
    definitions = [
        {"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0},
        *(
            {
                "name": c["name"],
                "type": c.get("type", "string"),
                "format": "",
                "description": "",
                "priority": c.get("priority", 0),
            }
            for c in custom
        ),
        {"name": "Age", "type": "string", "format": "", "description": "", "priority": 0},
    ]
    rows = []
    for obj in objects:
        cells = [obj["metadata"]["name"]]
        for column in custom:
            value = _lookup(obj, column["jsonPath"])
            cells.append("" if value is None else value)
        cells.append(_age(obj["metadata"].get("creationTimestamp")))
        rows.append({"cells": cells, "object": obj})
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": definitions,
        "rows": rows,
    }
