"""Traces: off unless OTEL_* asks; a span per diagnosis (read, engine), explanation, Flowise
call and /assist request, recorded by the real SDK's in-memory exporter."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from aiohttp import web
from opentelemetry.trace import StatusCode

from highpeaks_agent import tracing
from highpeaks_agent.errors import TargetNotFound
from highpeaks_agent.explain import ExplainOutcome
from highpeaks_agent.flowise.client import FlowiseClient, FlowiseError
from tests.support.loopback import serve

from ..http.test_assist_app import http, make_app
from ..service.test_diagnosis_service import (
    RecordingExplainer,
    SnapshotSource,
    failing_objects,
    service,
)
from .conftest import Recorded


@pytest.mark.parametrize(
    ("environ", "requested"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "x"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
    ],
)
def test_only_the_standard_variables_turn_tracing_on(
    environ: dict[str, str], requested: bool
) -> None:
    assert tracing.tracing_requested(environ) is requested
    if not requested:
        assert tracing.configure_tracing(environ) is None


def test_spans_are_no_ops_when_tracing_is_off() -> None:
    with tracing.span("highpeaks.diagnosis", {"highpeaks.trigger": "task"}) as span:
        span.set_attribute("highpeaks.actions", "none")
    assert tracing.current_trace_ids() == {}


def test_configured_provider_names_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    installed: list[Any] = []
    monkeypatch.setattr("opentelemetry.trace.set_tracer_provider", installed.append)
    provider = tracing.configure_tracing({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    try:
        assert provider is not None and installed == [provider]
        assert provider.resource.attributes["service.name"] == "highpeaks-agent"
    finally:
        tracing.use_provider(None)
        if provider is not None:
            provider.shutdown()


def test_each_named_exporter_is_used_and_unknown_ones_are_said(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    exporters = tracing._exporters({"OTEL_TRACES_EXPORTER": "console, otlp, zipkin"})
    assert sorted(type(e).__name__ for e in exporters) == sorted(
        [ConsoleSpanExporter.__name__, OTLPSpanExporter.__name__]
    )
    assert "zipkin: unknown exporter" in caplog.text
    (default,) = tracing._exporters({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"})
    assert isinstance(default, OTLPSpanExporter)


def test_without_the_extra_tracing_stays_off_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)
    provider = tracing.configure_tracing({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"})
    assert provider is None
    assert "OpenTelemetry is not installed" in caplog.text


async def test_a_diagnosis_is_one_span_with_its_read_and_engine(recorded: Recorded) -> None:
    explainer = RecordingExplainer(ExplainOutcome(status="ok", summary="s", answer="a"))
    svc = service(SnapshotSource(*failing_objects()), explainer)

    diagnosed = await svc.diagnose_target("shop", "Deployment", "checkout", trigger="incident")
    await svc.explain(diagnosed)

    diagnosis = recorded.one("highpeaks.diagnosis")
    assert diagnosis.attributes is not None
    assert dict(diagnosis.attributes) == {
        "highpeaks.trigger": "incident",
        "k8s.namespace.name": "shop",
        "highpeaks.target.kind": "Deployment",
    }
    for child in ("highpeaks.read", "highpeaks.engine"):
        span = recorded.one(child)
        assert span.parent is not None and span.parent.span_id == diagnosis.context.span_id
    explain = recorded.one("highpeaks.explain")
    assert explain.attributes is not None and explain.attributes["highpeaks.trigger"] == "incident"


async def test_a_failed_diagnosis_is_an_error_span(recorded: Recorded) -> None:
    svc = service(SnapshotSource(*failing_objects()))
    with pytest.raises(TargetNotFound):
        await svc.diagnose_target("shop", "Deployment", "missing", trigger="task")
    diagnosis = recorded.one("highpeaks.diagnosis")
    assert diagnosis.status.status_code is StatusCode.ERROR
    assert [e.name for e in diagnosis.events] == ["exception"]


async def test_each_flowise_call_is_a_span(recorded: Recorded) -> None:
    answers = iter([web.json_response({"json": {"summary": "ok"}}), web.Response(status=401)])

    async def predict(_: web.Request) -> web.Response:
        return next(answers)

    app = web.Application()
    app.router.add_post("/api/v1/prediction/flow-1", predict)
    async with serve(app) as url:
        client = FlowiseClient(url, "flow-1", max_retries=0)
        assert await client.predict("why?", "s-1") == {"json": {"summary": "ok"}}
        with pytest.raises(FlowiseError):
            await client.predict("why?", "s-1")
        await client.aclose()

    ok, failed = recorded.named("flowise.predict")
    assert ok.status.status_code is StatusCode.UNSET
    assert failed.status.status_code is StatusCode.ERROR


async def test_each_assist_request_is_a_server_span_around_its_diagnosis(
    recorded: Recorded,
) -> None:
    app = make_app(None, auth_mode="none")
    tracing.instrument_app(app, recorded.provider)
    async with http(app) as agent:
        assert (await agent.get("/health")).status_code == 200
        answer = await agent.post("/assist", json={"query": "what is failing?"})
        assert answer.status_code == 200

    (request,) = [s for s in recorded.spans if s.name == "POST /assist"]
    assert request.attributes is not None
    status = request.attributes.get("http.response.status_code")
    assert request.attributes.get("http.status_code", status) == 200
    diagnosis = recorded.one("highpeaks.diagnosis")
    assert diagnosis.context.trace_id == request.context.trace_id
    assert not [s for s in recorded.spans if "/health" in s.name]
