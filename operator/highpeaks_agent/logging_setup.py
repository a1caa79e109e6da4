"""Logging for ``highpeaks-agent run``: plain text (default) or one JSON object per line.

Set up once, in the entry point, on the root logger; Kopf's and uvicorn's loggers are made to
propagate to it, so every line of the process has the same shape. Each message (and any
traceback) passes through :func:`~highpeaks_agent.engine.redact.redact_text` first: a token in
an exception text or an echoed URL never reaches the log collector.

JSON lines carry ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``, and, where
known, ``object`` (``kind``, ``namespace``, ``name`` — from Kopf's per-object logger, or bound
with :func:`log_context` around a diagnosis), ``agenttask`` (``namespace/name``) and, while
tracing is on, the ``trace_id``/``span_id`` of the active span.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal

from highpeaks_agent.engine.redact import redact_text
from highpeaks_agent.tracing import current_trace_ids

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Loggers that configure handlers of their own in some set-ups; ours propagate to the root.
THIRD_PARTY_LOGGERS = ("kopf", "uvicorn", "uvicorn.error", "uvicorn.access")

_context: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "highpeaks_log_context", default=MappingProxyType({})
)


@contextlib.contextmanager
def log_context(
    *,
    kind: str | None = None,
    namespace: str | None = None,
    name: str | None = None,
    agenttask: str | None = None,
) -> Iterator[None]:
    """Name the object (and AgentTask) the lines logged inside this block are about."""
    given = {"kind": kind, "namespace": namespace, "name": name, "agenttask": agenttask}
    fields = {**_context.get(), **{k: v for k, v in given.items() if v}}
    token = _context.set(MappingProxyType(fields))
    try:
        yield
    finally:
        _context.reset(token)


class RedactingTextFormatter(logging.Formatter):
    """The classic one-line text format, with secrets removed."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line, with secrets removed."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
        }
        line.update(_object_fields(record))
        line.update(current_trace_ids())
        if record.exc_info:
            line["exception"] = redact_text(self.formatException(record.exc_info))
        elif record.stack_info:
            line["stack"] = redact_text(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def _object_fields(record: logging.LogRecord) -> dict[str, Any]:
    """``object`` and ``agenttask``: Kopf's per-object ``k8s_ref`` wins over a bound context."""
    bound = dict(_context.get())
    ref = getattr(record, "k8s_ref", None)
    if isinstance(ref, Mapping) and ref.get("name"):
        bound.update({k: str(ref[k]) for k in ("kind", "namespace", "name") if ref.get(k)})
        if ref.get("kind") == "AgentTask":
            bound["agenttask"] = f"{ref.get('namespace')}/{ref.get('name')}"
    fields: dict[str, Any] = {}
    obj = {k: bound[k] for k in ("kind", "namespace", "name") if k in bound}
    if obj:
        fields["object"] = obj
    if "agenttask" in bound:
        fields["agenttask"] = bound["agenttask"]
    return fields


def configure_logging(log_format: LogFormat, *, debug: bool) -> None:
    """Send every logger's records to stderr in ``log_format``, at INFO (DEBUG with ``debug``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else RedactingTextFormatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for name in THIRD_PARTY_LOGGERS:
        third_party = logging.getLogger(name)
        for old in list(third_party.handlers):
            third_party.removeHandler(old)
        third_party.propagate = True
    if not debug:  # the kubernetes client logs every request body at DEBUG
        logging.getLogger("kubernetes").setLevel(logging.WARNING)
        logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
