"""OpenTelemetry traces: off unless the standard ``OTEL_*`` variables ask for them.

``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) turns on OTLP/HTTP
export; ``OTEL_TRACES_EXPORTER`` picks ``otlp`` (the default), ``console`` or ``none``. Every
other ``OTEL_*`` variable (headers, timeouts, batching, resource attributes) is read by the
SDK itself. The service name is ``highpeaks-agent`` unless ``OTEL_SERVICE_NAME`` says otherwise.

The SDK is the optional extra ``.[otel]`` and is imported only when tracing is asked for, so
``diagnose`` and an operator without the extra load nothing of it; :func:`span` is then a no-op.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Tracer

log = logging.getLogger(__name__)

SERVICE_NAME = "highpeaks-agent"
TRACER_NAME = "highpeaks_agent"
#: Probes and scrapes are not worth a trace each.
UNTRACED_URLS = "/health,/ready,/metrics"
AttributeValue = str | bool | int | float

_tracer: Tracer | None = None


class SpanLike(Protocol):
    """What callers may do with the span :func:`span` yields (real or no-op)."""

    def set_attribute(self, key: str, value: AttributeValue) -> None: ...


class _NoSpan:
    def set_attribute(self, key: str, value: AttributeValue) -> None:
        del key, value


_NO_SPAN = _NoSpan()


def tracing_requested(environ: Mapping[str, str]) -> bool:
    """True when the standard variables ask for traces (and do not say ``none``)."""
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none" or environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    endpoint = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    return bool(exporter or endpoint)


def configure_tracing(environ: Mapping[str, str] = os.environ) -> TracerProvider | None:
    """Build and install the tracer provider the environment asks for; None when off."""
    if not tracing_requested(environ):
        return None
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning(
            "OTEL_* asks for traces but OpenTelemetry is not installed "
            "(pip install 'highpeaks-devops-agent[otel]'): tracing stays off"
        )
        return None
    attributes = {} if environ.get("OTEL_SERVICE_NAME") else {"service.name": SERVICE_NAME}
    provider = TracerProvider(resource=Resource.create(attributes))
    for exporter in _exporters(environ):
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    use_provider(provider)
    return provider


def _exporters(environ: Mapping[str, str]) -> list[Any]:
    """One exporter per name in ``OTEL_TRACES_EXPORTER`` (``otlp`` when unset)."""
    names = environ.get("OTEL_TRACES_EXPORTER", "") or "otlp"
    exporters: list[Any] = []
    for name in {n.strip().lower() for n in names.split(",") if n.strip()}:
        if name == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporters.append(ConsoleSpanExporter())
        elif name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())  # endpoint, headers, timeout from OTEL_*
        else:
            log.warning("OTEL_TRACES_EXPORTER=%s: unknown exporter, ignored", name)
    return exporters


def use_provider(provider: TracerProvider | None) -> None:
    """Make :func:`span` record into ``provider`` (None: spans are no-ops again)."""
    global _tracer  # noqa: PLW0603 - one tracer per process, set at start-up
    _tracer = provider.get_tracer(TRACER_NAME) if provider is not None else None


@contextlib.contextmanager
def span(
    name: str, attributes: Mapping[str, AttributeValue | None] | None = None
) -> Iterator[SpanLike]:
    """A span around the block (exceptions are recorded on it); a no-op when tracing is off."""
    if _tracer is None:
        yield _NO_SPAN
        return
    given = {k: v for k, v in (attributes or {}).items() if v is not None}
    with _tracer.start_as_current_span(name, attributes=given) as current:
        yield current


def instrument_app(app: Any, provider: TracerProvider | None) -> None:
    """One server span per HTTP request to ``app`` (not probes or scrapes) when tracing is on."""
    if provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider, excluded_urls=UNTRACED_URLS)


def current_trace_ids() -> dict[str, str]:
    """``trace_id``/``span_id`` of the active span (for log lines); empty when none."""
    if _tracer is None:
        return {}
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}
