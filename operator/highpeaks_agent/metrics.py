"""Prometheus metrics, defined once so the operator and the HTTP surface share them.

Served at ``/metrics`` by the HTTP surface. Names start with ``highpeaks_agent_``. Label values
are small closed sets (never object names), so cardinality stays bounded.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DIAGNOSES = Counter(
    "highpeaks_agent_diagnoses_total",
    "Diagnoses run, by what asked for them, who answered and the outcome.",
    [
        "trigger",
        "source",
        "outcome",
    ],  # trigger: task|incident|assist; outcome: failing|healthy|error
)
INCIDENT_NOTES = Counter(
    "highpeaks_agent_incident_notes_total",
    "IncidentNote Events: posted, or suppressed because the same note was already posted.",
    ["result"],  # posted|suppressed|failed
)
FLOWISE_LATENCY = Histogram(
    "highpeaks_agent_flowise_request_seconds",
    "Time of one Flowise prediction call, retries included.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60),
)
FLOWISE_ERRORS = Counter(
    "highpeaks_agent_flowise_errors_total",
    "Flowise calls that fell back to the rules, by kind of failure.",
    ["kind"],  # timeout|connect|http_4xx|http_5xx|unauthorized|circuit_open|bad_answer|too_large
)
ASSIST_REQUESTS = Counter(
    "highpeaks_agent_assist_requests_total",
    "/assist requests by HTTP status code.",
    ["status"],
)
AGENT_TASKS = Gauge(
    "highpeaks_agent_agenttasks",
    "AgentTasks known to the operator, by phase.",
    ["phase"],
)
ALERTS_RECEIVED = Counter(
    "highpeaks_agent_alerts_received_total",
    "Alerts received on POST /alertmanager, by what became of them.",
    ["result"],  # created|exists|resolved|ignored|forbidden
)
NOTIFICATIONS = Counter(
    "highpeaks_agent_notifications_total",
    "IncidentNote notifications, by sink and result.",
    ["sink", "result"],  # sink: webhook|slack; result: sent|retried|failed|skipped|dropped
)
