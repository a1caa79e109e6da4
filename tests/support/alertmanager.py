"""Alertmanager webhook bodies for tests: the sample in the documented v4 format, and workload
alerts derived from it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).parents[1] / "fixtures" / "alertmanager" / "endpoint-down.v4.json"


def sample() -> dict[str, Any]:
    """The sample Alertmanager body (one alert that names no Kubernetes workload)."""
    data: dict[str, Any] = json.loads(SAMPLE.read_text())
    return data


def group(*alerts: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    """The sample body with ``alerts`` in place of its own (every other field as written)."""
    body = sample()
    body["alerts"] = list(alerts)
    firing = any(a["status"] == "firing" for a in alerts)
    body["status"] = status or ("firing" if firing else "resolved")
    body["commonLabels"] = alerts[0]["labels"] if len(alerts) == 1 else {}
    return body


def alert(
    fingerprint: str,
    labels: dict[str, str],
    *,
    status: str = "firing",
    summary: str = "",
    alertname: str = "KubePodCrashLooping",
) -> dict[str, Any]:
    """An alert shaped like the sample's, with kube-state-metrics-style labels."""
    item = copy.deepcopy(sample()["alerts"][0])
    item["status"] = status
    item["labels"] = {
        "alertname": alertname,
        "job": "kube-state-metrics",
        "severity": "warning",
        **labels,
    }
    item["annotations"] = {"summary": summary} if summary else {}
    item["fingerprint"] = fingerprint
    if status == "resolved":
        item["endsAt"] = "2023-02-06T13:20:45.828Z"
    return item
