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
    # timeout|connect|http_4xx|http_5xx|unauthorized|circuit_open|bad_answer|too_large|step_budget
    ["kind"],
)
FLOW_STEPS = Counter(
    "highpeaks_agent_flow_steps_total",
    "Read-only tool calls the flow made before it answered (CONTRACT §11).",
    ["tool", "result"],  # result: ok|withheld|refused|error|budget
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
DIAGNOSIS_SECONDS = Histogram(
    "highpeaks_agent_diagnosis_seconds",
    "Time of one diagnosis (reading the cluster and running the rules; the explanation is"
    " timed by highpeaks_agent_flowise_request_seconds), by what asked for it.",
    ["trigger"],  # task|incident|assist
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
INCIDENT_DETECTION = Histogram(
    "highpeaks_agent_incident_detection_seconds",
    "Time from a workload's failure to its IncidentNote. The failure's start is the earliest"
    " sign of it the diagnosis saw (first Warning Event, failing condition's transition or"
    " container termination of the affected objects, never before they were created): an"
    " approximation that errs long, since the thresholds are crossed after the first sign.",
    buckets=(1, 2.5, 5, 10, 15, 30, 60, 120, 300, 600, 1200, 3600),
)
OPEN_INCIDENTS = Gauge(
    "highpeaks_agent_open_incidents",
    "Incident AgentTasks not yet resolved (the rollout has not recovered), cluster-wide.",
)
READY = Gauge(
    "highpeaks_agent_ready",
    "1 while the operator runs its watches (Kopf started, not shutting down), else 0.",
)
OLDEST_OPEN_INCIDENT = Gauge(
    "highpeaks_agent_oldest_open_incident_timestamp_seconds",
    "Creation time (Unix seconds) of the oldest incident AgentTask not yet resolved; 0 when"
    " none is open. `time() - this` is how long the oldest incident has been open.",
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
ACTIONS = Counter(
    "highpeaks_agent_actions_total",
    "Actions asked for or approved (CONTRACT §10), by action and how each ended.",
    ["action", "result"],  # action: rollback|restart|pause|resume; result: Succeeded|Failed|Refused
)
MCP_TOOL_CALLS = Counter(
    "highpeaks_agent_mcp_tool_calls_total",
    "Tool calls over /mcp, by tool and outcome (ok, withheld, refused, error, budget)",
    ["tool", "outcome"],
)
