"""Alertmanager webhook bodies for tests: the recorded one, and workload alerts derived from it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

RECORDED = Path(__file__).parents[1] / "fixtures" / "alertmanager" / "probe-failure.v4.json"


def recorded() -> dict[str, Any]:
    """The recorded Alertmanager body (one alert that names no Kubernetes workload)."""
    data: dict[str, Any] = json.loads(RECORDED.read_text())
    return data


def group(*alerts: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    """The recorded body with ``alerts`` in place of its own (every other field as recorded)."""
    body = recorded()
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
    """An alert shaped like the recorded one, with kube-state-metrics-style labels."""
    item = copy.deepcopy(recorded()["alerts"][0])
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
