"""The part of prometheus-operator's ``monitoring.coreos.com/v1`` API the shipped monitoring
objects use, as JSON Schemas: field names and types as the operator documents them, every
object closed to unknown fields (a typo such as ``intervall`` is refused, as
``kubectl apply --validate=strict`` would against the real CRD)."""

from __future__ import annotations

from typing import Any

_STRING: dict[str, Any] = {"type": "string"}
_DURATION: dict[str, Any] = {"type": "string", "pattern": r"^(0|([0-9]+(ms|s|m|h|d|w|y))+)$"}
_LABELS: dict[str, Any] = {"type": "object", "additionalProperties": _STRING}


def _closed(properties: dict[str, Any], *required: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


_METADATA = {
    "type": "object",
    "properties": {
        "name": _STRING,
        "namespace": _STRING,
        "labels": _LABELS,
        "annotations": _LABELS,
    },
    "required": ["name"],
}

_LABEL_SELECTOR = _closed(
    {
        "matchLabels": _LABELS,
        "matchExpressions": {
            "type": "array",
            "items": _closed(
                {
                    "key": _STRING,
                    "operator": {"enum": ["In", "NotIn", "Exists", "DoesNotExist"]},
                    "values": {"type": "array", "items": _STRING},
                },
                "key",
                "operator",
            ),
        },
    }
)

_ENDPOINT = _closed(
    {
        "port": _STRING,
        "targetPort": {"type": ["integer", "string"]},
        "path": _STRING,
        "scheme": {"enum": ["http", "https"]},
        "interval": _DURATION,
        "scrapeTimeout": _DURATION,
        "honorLabels": {"type": "boolean"},
    }
)

SERVICE_MONITOR = _closed(
    {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": _METADATA,
        "spec": _closed(
            {
                "jobLabel": _STRING,
                "selector": _LABEL_SELECTOR,
                "namespaceSelector": _closed(
                    {"any": {"type": "boolean"}, "matchNames": {"type": "array", "items": _STRING}}
                ),
                "endpoints": {"type": "array", "items": _ENDPOINT, "minItems": 1},
            },
            "selector",
            "endpoints",
        ),
    },
    "apiVersion",
    "kind",
    "metadata",
    "spec",
)

_RULE = {
    **_closed(
        {
            "alert": _STRING,
            "record": _STRING,
            "expr": {"type": ["string", "integer"]},
            "for": _DURATION,
            "keep_firing_for": _DURATION,
            "labels": _LABELS,
            "annotations": _LABELS,
        },
        "expr",
    ),
    "oneOf": [{"required": ["alert"]}, {"required": ["record"]}],
}

PROMETHEUS_RULE = _closed(
    {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "PrometheusRule"},
        "metadata": _METADATA,
        "spec": _closed(
            {
                "groups": {
                    "type": "array",
                    "items": _closed(
                        {
                            "name": _STRING,
                            "interval": _DURATION,
                            "rules": {"type": "array", "items": _RULE},
                        },
                        "name",
                        "rules",
                    ),
                }
            },
            "groups",
        ),
    },
    "apiVersion",
    "kind",
    "metadata",
    "spec",
)

SCHEMAS: dict[str, dict[str, Any]] = {
    "ServiceMonitor": SERVICE_MONITOR,
    "PrometheusRule": PROMETHEUS_RULE,
}
