"""k8s/components/monitoring: ServiceMonitor, PrometheusRule and Grafana dashboard, offline.

Rendered with the real ``kubectl kustomize`` through ``k8s/overlays/monitoring`` (the base plus
the component); the two prometheus-operator objects are validated, strictly, against the part
of its ``monitoring.coreos.com/v1`` API they use (``monitoring_api.py``); every PromQL expression, in the
alerts and in the dashboard, is parsed with ``promql-parser`` and may name only metrics the
agent defines (and Prometheus's ``up``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
import kubernetes_validate
import promql_parser
import pytest
from prometheus_client.metrics import MetricWrapperBase

from highpeaks_agent import metrics
from tests.unit.shipping.monitoring_api import SCHEMAS
from tests.unit.shipping.shipped import (
    KUBERNETES_VERSION,
    NAME,
    NAMESPACE,
    Objects,
    label,
    one,
    render,
)

ADDED = {"ServiceMonitor", "PrometheusRule", "ConfigMap/highpeaks-agent-dashboard"}
ALERTS = {
    "HighpeaksAgentNotReady",
    "HighpeaksAgentIncidentOpenTooLong",
    "HighpeaksAgentFlowiseFallingBack",
    "HighpeaksAgentAssistErrors",
}
#: Series Prometheus itself adds to every target.
PROMETHEUS_SERIES = {"up"}
#: The operator questions the dashboard must answer.
ON_THE_DASHBOARD = {
    "highpeaks_agent_ready",
    "highpeaks_agent_open_incidents",
    "highpeaks_agent_incident_detection_seconds_bucket",
    "highpeaks_agent_diagnosis_seconds_bucket",
    "highpeaks_agent_flowise_errors_total",
    "highpeaks_agent_assist_requests_total",
}
SAMPLE_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
}


@pytest.fixture(scope="module")
def monitored() -> Objects:
    return render("k8s/overlays/monitoring")


def added(objects: Objects) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] in ADDED or _kind_name(o) in ADDED]


def _kind_name(obj: Mapping[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def defined_series() -> set[str]:
    """Every series name the agent's metrics expose (``_total``, ``_bucket`` … included)."""
    names: set[str] = set()
    for collector in vars(metrics).values():
        if isinstance(collector, MetricWrapperBase):
            for family in collector.describe():
                names |= {family.name + suffix for suffix in SAMPLE_SUFFIXES[family.type]}
    return names


def selectors(expr: str) -> list[Any]:
    """The vector selectors of a PromQL expression (raises ValueError when it does not parse)."""
    found: list[Any] = []
    promql_parser.walk(
        promql_parser.parse(expr),
        lambda node: found.append(node) if isinstance(node, promql_parser.VectorSelector) else None,
    )
    return found


def check_expression(expr: str, where: str) -> set[str]:
    """Parse ``expr``; every metric it reads exists; a ``job`` matcher names the agent's job."""
    try:
        found = selectors(expr)
    except ValueError as exc:
        pytest.fail(f"{where}: PromQL does not parse ({exc}): {expr}")
    known = defined_series() | PROMETHEUS_SERIES
    names = {s.name for s in found}
    assert names, f"{where} reads no metric: {expr}"
    assert names <= known, f"{where} reads metrics the agent does not define: {names - known}"
    for selector in found:
        for matcher in selector.matchers.matchers:
            if matcher.name == "job":
                assert matcher.value == NAME, f"{where}: the job is the Service's name, {NAME}"
    return names


# --- the component adds three objects and changes nothing else -----------------------------


def test_the_component_adds_monitoring_and_changes_nothing_else(
    monitored: Objects, base_objects: Objects
) -> None:
    new = added(monitored)
    assert sorted(_kind_name(o) for o in new) == sorted(
        [
            f"ServiceMonitor/{NAME}",
            f"PrometheusRule/{NAME}",
            "ConfigMap/highpeaks-agent-dashboard",
        ]
    )
    rest = [o for o in monitored if o not in new]
    key = json.dumps
    assert sorted(map(key, rest)) == sorted(map(key, base_objects))
    for obj in new:
        assert obj["metadata"]["namespace"] == NAMESPACE, label(obj)
        assert obj["metadata"]["labels"]["app.kubernetes.io/name"] == NAME


# --- the prometheus-operator objects validate against its API ------------------------------


def crd_schema(kind: str) -> dict[str, Any]:
    return SCHEMAS[kind]


@pytest.mark.parametrize("kind", ["ServiceMonitor", "PrometheusRule"])
def test_prometheus_operator_objects_validate_against_its_api(
    monitored: Objects, kind: str
) -> None:
    obj = one(monitored, kind)
    assert obj["apiVersion"] == "monitoring.coreos.com/v1"
    validator = jsonschema.Draft202012Validator(crd_schema(kind))
    errors = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(obj)]
    assert not errors, f"{kind} does not validate against its API: {errors}"


def test_the_strict_schema_refuses_unknown_and_mistyped_fields(monitored: Objects) -> None:
    validator = jsonschema.Draft202012Validator(crd_schema("ServiceMonitor"))
    obj = one(monitored, "ServiceMonitor")
    typo = json.loads(json.dumps(obj))
    typo["spec"]["endpoints"][0]["intervall"] = "30s"
    assert list(validator.iter_errors(typo))
    mistyped = json.loads(json.dumps(obj))
    mistyped["spec"]["endpoints"] = "http"
    assert list(validator.iter_errors(mistyped))


def test_the_dashboard_configmap_validates(monitored: Objects) -> None:
    (config_map,) = [o for o in added(monitored) if o["kind"] == "ConfigMap"]
    kubernetes_validate.validate(config_map, KUBERNETES_VERSION, strict=True)


# --- the ServiceMonitor scrapes the agent ---------------------------------------------------


def test_the_service_monitor_scrapes_the_agents_metrics(monitored: Objects) -> None:
    monitor = one(monitored, "ServiceMonitor")["spec"]
    service = one(monitored, "Service")
    assert monitor["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert "namespaceSelector" not in monitor, "the Service is in the ServiceMonitor's namespace"
    (endpoint,) = monitor["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"


# --- the alerts -----------------------------------------------------------------------------


def rules(monitored: Objects) -> Iterator[dict[str, Any]]:
    for group in one(monitored, "PrometheusRule")["spec"]["groups"]:
        yield from group["rules"]


def test_the_alerts_are_the_four_the_operators_need(monitored: Objects) -> None:
    assert {r["alert"] for r in rules(monitored)} == ALERTS


def test_every_alert_parses_and_reads_defined_metrics(monitored: Objects) -> None:
    for rule in rules(monitored):
        where = f"alert {rule['alert']}"
        check_expression(rule["expr"], where)
        assert promql_parser.parse_duration(rule["for"]).total_seconds() >= 300, where
        assert rule["labels"]["severity"] in {"critical", "warning"}, where
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], where


def test_each_alert_reads_what_it_is_about(monitored: Objects) -> None:
    reads = {r["alert"]: check_expression(r["expr"], r["alert"]) for r in rules(monitored)}
    assert "highpeaks_agent_ready" in reads["HighpeaksAgentNotReady"]
    assert "up" in reads["HighpeaksAgentNotReady"], "a replica that is not scraped at all"
    assert (
        "highpeaks_agent_oldest_open_incident_timestamp_seconds"
        in (reads["HighpeaksAgentIncidentOpenTooLong"])
    )
    assert "highpeaks_agent_flowise_errors_total" in reads["HighpeaksAgentFlowiseFallingBack"]
    assert "highpeaks_agent_assist_requests_total" in reads["HighpeaksAgentAssistErrors"]


def test_the_checks_notice_bad_expressions() -> None:
    with pytest.raises(pytest.fail.Exception, match="does not parse"):
        check_expression("sum(rate(highpeaks_agent_diagnoses_total[5m])", "broken")
    with pytest.raises(AssertionError, match="does not define"):
        check_expression("rate(highpeaks_agent_diagnoses[5m])", "misnamed")
    with pytest.raises(AssertionError, match="job is the Service"):
        check_expression('highpeaks_agent_ready{job="agent"}', "wrong job")


# --- the dashboard --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dashboard(monitored: Objects) -> dict[str, Any]:
    (config_map,) = [o for o in added(monitored) if o["kind"] == "ConfigMap"]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1", "the sidecar's label"
    ((file_name, text),) = config_map["data"].items()
    assert file_name.endswith(".json")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def test_the_dashboard_is_a_grafana_dashboard(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    for panel in dashboard["panels"]:
        assert panel["title"] and panel["description"], panel["id"]
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]


def test_every_dashboard_query_parses_and_reads_defined_metrics(
    dashboard: dict[str, Any],
) -> None:
    read: set[str] = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            # Grafana substitutes its interval variable before Prometheus sees the query.
            expr = re.sub(r"\$__rate_interval|\$__interval", "5m", target["expr"])
            read |= check_expression(expr, f"panel {panel['title']!r}")
    missing = ON_THE_DASHBOARD - read
    assert not missing, f"the dashboard does not show {missing}"
