"""What a tool answers: objects trimmed, Events and nodes summarised, every text bounded.

Pure functions over plain dicts. Redaction happens on whole texts first (CONTRACT §3), then
the text is cut to :data:`MAX_RESULT_CHARS` with a marker that says so, so a model (or a
person) knows it did not see everything.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from highpeaks_agent.engine.redact import Redactor
from highpeaks_agent.engine.snapshot import event_time_key, meta

#: The longest answer one tool call gives, in characters (about 8 kB of ASCII).
MAX_RESULT_CHARS = 8192
#: A step as ``status.steps[]`` records it: one line, at most this long.
MAX_STEP_CHARS = 200
#: Events shown for one object at most (the newest).
MAX_EVENTS = 30
#: Metadata annotations that repeat the object or say nothing about its trouble.
_NOISY_ANNOTATIONS = ("kubectl.kubernetes.io/last-applied-configuration",)
_WHITESPACE = re.compile(r"\s+")


def cut_marker(omitted: int) -> str:
    return f"[cut: {omitted} more characters not shown]"


def bounded(text: str, *, keep: str = "head", limit: int = MAX_RESULT_CHARS) -> str:
    """``text`` at most ``limit`` characters, the cut said where it is.

    ``keep="tail"`` keeps the end (a log's newest lines) and marks the cut at the top."""
    if len(text) <= limit:
        return text
    # the widest marker this text can need, so the answer never exceeds ``limit``
    room = max(0, limit - len(cut_marker(len(text))) - 1)
    marker = cut_marker(len(text) - room)
    if keep == "tail":
        return f"{marker}\n{text[-room:] if room else ''}"
    return f"{text[:room]}\n{marker}"


def one_line(text: str, limit: int = MAX_STEP_CHARS) -> str:
    """``text`` on one line (whitespace runs folded), cut to ``limit`` characters with ``…``."""
    flat = _WHITESPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def as_json(value: Any) -> str:
    """Compact, stable JSON for a tool's answer."""
    return json.dumps(value, sort_keys=False, separators=(",", ":"), default=str)


def trimmed(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object without what only the API server needs: ``managedFields``, the
    last-applied annotation (a second copy of the spec), empty annotations."""
    shown = dict(obj)
    md = dict(meta(obj))
    md.pop("managedFields", None)
    annotations = {
        k: v for k, v in (md.get("annotations") or {}).items() if k not in _NOISY_ANNOTATIONS
    }
    if annotations:
        md["annotations"] = annotations
    else:
        md.pop("annotations", None)
    shown["metadata"] = md
    return shown


def object_text(obj: Mapping[str, Any], redactor: Redactor) -> str:
    """The object trimmed and redacted (secret-looking env values masked, each container's
    command and args judged as the one command line they are), as JSON."""
    return as_json(redactor.data(_command_lines_redacted(trimmed(obj), redactor)))


def _command_lines_redacted(value: Any, redactor: Redactor) -> Any:
    """A copy in which every container's ``command`` + ``args`` went through
    :meth:`Redactor.argv` together, so ``["--password", "X"]`` loses ``X`` across items."""
    if isinstance(value, list):
        return [_command_lines_redacted(v, redactor) for v in value]
    if not isinstance(value, Mapping):
        return value
    copied = {k: _command_lines_redacted(v, redactor) for k, v in value.items()}
    command, args = copied.get("command"), copied.get("args")
    if (command is not None or args is not None) and _argv(command) and _argv(args):
        items = [*(command or []), *(args or [])]
        redacted = redactor.argv(items, program=_program(copied.get("image")))
        split = len(command or [])
        if command is not None:
            copied["command"] = redacted[:split]
        if args is not None:
            copied["args"] = redacted[split:]
    return copied


def _argv(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _program(image: Any) -> str:
    """The image's repository name: the program ``args`` go to when ``command`` is unset."""
    if not isinstance(image, str):
        return ""
    return image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]


def event_lines(events: list[dict[str, Any]], redactor: Redactor) -> str:
    """Events as ``kubectl describe`` lists them, oldest first, the newest :data:`MAX_EVENTS`."""
    ordered = sorted(events, key=event_time_key)[-MAX_EVENTS:]
    lines = []
    for event in ordered:
        when = (
            event.get("lastTimestamp")
            or event.get("eventTime")
            or event.get("firstTimestamp")
            or ""
        )
        count = event.get("count") or (event.get("series") or {}).get("count") or 1
        source = (event.get("source") or {}).get("component") or event.get("reportingComponent")
        lines.append(
            f"{when} {event.get('type', '')} {event.get('reason', '')} x{count}"
            f" ({source or 'unknown'}): {event.get('message', '')}"
        )
    omitted = len(events) - len(ordered)
    header = f"({omitted} older events not shown)\n" if omitted > 0 else ""
    return redactor.text(header + "\n".join(lines))


def node_summary(node: Mapping[str, Any]) -> dict[str, Any]:
    """What a node says about the pods on it: conditions, taints, pressure, capacity."""
    spec, status = node.get("spec") or {}, node.get("status") or {}
    conditions = [
        {
            "type": c.get("type"),
            "status": c.get("status"),
            "reason": c.get("reason"),
            "message": c.get("message"),
            "since": c.get("lastTransitionTime"),
        }
        for c in status.get("conditions") or []
        if isinstance(c, Mapping)
    ]
    pressure = sorted(
        str(c["type"])
        for c in conditions
        if str(c["type"]).endswith("Pressure") and c["status"] == "True"
    )
    info = status.get("nodeInfo") or {}
    return {
        "name": meta(node).get("name"),
        "unschedulable": bool(spec.get("unschedulable")),
        "taints": spec.get("taints") or [],
        "pressure": pressure,
        "conditions": conditions,
        "allocatable": status.get("allocatable") or {},
        "capacity": status.get("capacity") or {},
        "architecture": info.get("architecture"),
        "kubeletVersion": info.get("kubeletVersion"),
        "labels": {
            k: v
            for k, v in (meta(node).get("labels") or {}).items()
            if k.startswith(("topology.kubernetes.io/", "node.kubernetes.io/", "kubernetes.io/"))
        },
    }
