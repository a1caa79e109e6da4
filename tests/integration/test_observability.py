"""The operator process as an SRE team watches it: JSON log lines, traces sent to an OTLP/HTTP
receiver on loopback, and the metrics that say how fast incidents are noted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.apiserver.serve import RunningApiServer
from tests.support.controllers import SimulatedControllers
from tests.support.operator_process import OperatorProcess
from tests.support.otlp import OtlpReceiver, ReceivedSpan

from .conftest import eventually
from .test_agenttasks import create_task, finished_task
from .test_incidents import broken_rollout, one_incident

pytestmark = pytest.mark.integration
NAMESPACE = "it-observed"


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    otlp = OtlpReceiver()
    otlp.start()
    yield otlp
    otlp.stop()


@pytest.fixture(scope="module")
def operator(
    kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory, receiver: OtlpReceiver
) -> Iterator[OperatorProcess]:
    """This module's own operator, on its own namespace (other modules leave incidents in
    theirs): JSON logs, traces on, /assist without authentication."""
    env = {
        "WATCH_NAMESPACES": NAMESPACE,
        "LOG_FORMAT": "json",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "AUTH_MODE": "none",
    }
    log = tmp_path_factory.mktemp("operator-observed") / "operator.log"
    process = OperatorProcess(kubeconfig, log, env=env)
    process.start()
    yield process
    process.stop()
    print(process.logs()[-6000:])  # shown with a failure, as the fault tests do


@pytest.fixture
def cluster(
    api: Any, apiserver: RunningApiServer, operator: OperatorProcess
) -> SimulatedControllers:
    return SimulatedControllers(api, apiserver, NAMESPACE)


def samples(operator: OperatorProcess) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    text = httpx.get(f"{operator.url}/metrics", timeout=10).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(
    found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_an_incident_and_a_question_seen_in_metrics_traces_and_json_logs(
    cluster: SimulatedControllers, operator: OperatorProcess, receiver: OtlpReceiver
) -> None:
    broken_rollout(cluster)
    one_incident(cluster)
    create_task(cluster, "why-checkout", {"target": {"kind": "Deployment", "name": "checkout"}})
    finished_task(cluster, "why-checkout")
    answer = httpx.post(
        f"{operator.url}/assist", json={"query": "why?", "namespace": cluster.ns}, timeout=30
    )
    assert answer.status_code == 200

    found = eventually(
        lambda: _with_open_incident(samples(operator)), what="open-incidents gauge at 1"
    )
    assert value(found, "highpeaks_agent_incident_detection_seconds_count") == 1
    # The pods were created moments ago: their kubelet events' older first times do not count.
    assert 0 <= value(found, "highpeaks_agent_incident_detection_seconds_sum") < 60
    assert value(found, "highpeaks_agent_diagnosis_seconds_count", trigger="incident") >= 1
    assert value(found, "highpeaks_agent_diagnosis_seconds_count", trigger="task") >= 1
    assert value(found, "highpeaks_agent_diagnosis_seconds_count", trigger="assist") == 1
    assert value(found, "highpeaks_agent_ready") == 1

    spans = eventually(lambda: _all_kinds_of_span(receiver.spans), what="spans at the receiver")
    assert {s.resource["service.name"] for s in spans} == {"highpeaks-agent"}
    (request,) = [s for s in spans if s.name == "POST /assist"]
    traced = [s for s in spans if s.trace_id == request.trace_id]
    assert {"highpeaks.diagnosis", "highpeaks.read", "highpeaks.engine"} <= {s.name for s in traced}
    incident = next(s for s in spans if s.name == "highpeaks.incident")
    assert incident.attributes["k8s.deployment.name"] == "checkout"

    assert operator.stop() == 0
    _check_json_lines(operator.log_path.read_text())


def _with_open_incident(found: dict[Any, float]) -> dict[Any, float]:
    assert value(found, "highpeaks_agent_open_incidents") == 1
    return found


def _all_kinds_of_span(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    wanted = {"highpeaks.incident", "highpeaks.diagnosis", "highpeaks.read", "POST /assist"}
    assert wanted <= {s.name for s in spans}
    return spans


def _check_json_lines(text: str) -> None:
    """Every line of the process's output is one JSON object with the promised fields."""
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines and all(isinstance(line, dict) for line in lines)
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    loggers = {line["logger"].split(".")[0] for line in lines}
    assert {"highpeaks_agent", "kopf", "uvicorn"} <= loggers
    task_lines = [line for line in lines if line.get("agenttask", "").endswith("/why-checkout")]
    assert task_lines, "no line names the AgentTask"
    assert task_lines[0]["object"]["kind"] == "AgentTask"
