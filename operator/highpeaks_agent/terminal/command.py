"""``highpeaks-agent diagnose``: gather, diagnose, render, explain; exit 0, 1, 2 or 130.

Exit status (CONTRACT §1, §1a): 0 nothing failing, 1 something failing, 2 the command could
not diagnose (unusable input, an invalid setting, nothing in the namespace asked about, a
cluster it cannot reach or may not read), and 130 on Ctrl-C (``cli`` handles that one). Every
failure is one line on stderr; stdout holds the report alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from highpeaks_agent import engine
from highpeaks_agent.engine.model import Diagnosis, ObjectRef
from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS, Thresholds
from highpeaks_agent.engine.timeutil import parse_time
from highpeaks_agent.errors import AgentError
from highpeaks_agent.explain import ExplainOutcome
from highpeaks_agent.render.explanation import render_explanation
from highpeaks_agent.render.json import render_json
from highpeaks_agent.render.ordering import worst_first
from highpeaks_agent.render.table import render_table
from highpeaks_agent.render.text import render_text
from highpeaks_agent.settings_names import sets_any_setting
from highpeaks_agent.terminal.console import Console, use_color
from highpeaks_agent.terminal.gathered import Gathered
from highpeaks_agent.terminal.request import DiagnoseRequest

if TYPE_CHECKING:
    from pydantic import ValidationError

    from highpeaks_agent.settings import Settings

EXIT_HEALTHY, EXIT_FAILING, EXIT_UNUSABLE = 0, 1, 2


class InvalidSettings(AgentError):
    """An environment variable that does not parse, named as the user spells it."""

    def __init__(self, exc: ValidationError) -> None:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        super().__init__(f"invalid settings: {problems}")


def load_settings(environ: Mapping[str, str]) -> Settings | None:
    """Every setting the environment gives, validated once (a bad one is
    :class:`InvalidSettings`); ``None`` when it gives none, so every default holds.

    With nothing to validate, pydantic is not imported: a third of a post-mortem's start.
    """
    if not sets_any_setting(environ):
        return None
    from pydantic import ValidationError

    from highpeaks_agent.settings import Settings

    try:
        return Settings.from_environ(environ)
    except ValidationError as exc:
        raise InvalidSettings(exc) from None


def _complete(settings: Settings | None) -> Settings:
    """The settings for a part that needs more than thresholds (--live, --explain)."""
    if settings is not None:
        return settings
    from highpeaks_agent.settings import Settings

    return Settings()


def run_diagnose(
    request: DiagnoseRequest,
    *,
    stdout: TextIO,
    stderr: TextIO,
    stdin: TextIO,
    environ: Mapping[str, str],
    prog: str = "highpeaks-agent",
) -> int:
    """Diagnose what ``request`` names and print the report; returns the exit status."""
    console = Console(stderr, prog=prog, environ=environ)
    try:
        settings = load_settings(environ)
        gathered = _gather(request, settings, stdin, console)
    except AgentError as exc:
        console.error(str(exc))
        return EXIT_UNUSABLE
    for warning in gathered.snapshot.warnings:
        console.warning(warning)
    console.progress("diagnosing …")
    thresholds = DEFAULT_THRESHOLDS if settings is None else settings.thresholds
    diagnoses = worst_first(_diagnose(gathered, thresholds))
    explanation = None
    if request.explain:
        explanation = _explain(diagnoses, gathered, _complete(settings), console)
    console.clear()
    color = use_color(request.color, environ, stdout)
    stdout.write(_render(request, diagnoses, gathered, explanation, color=color))
    return EXIT_FAILING if any(d.findings for d in diagnoses) else EXIT_HEALTHY


def _gather(
    request: DiagnoseRequest, settings: Settings | None, stdin: TextIO, console: Console
) -> Gathered:
    if request.live:
        from highpeaks_agent.terminal.cluster import read_live

        return read_live(request, _complete(settings), console)
    from highpeaks_agent.terminal.offline import read_offline

    assert request.path is not None  # the parser requires PATH without --live
    return read_offline(request.path, request.namespace, stdin, console.progress)


def _diagnose(gathered: Gathered, thresholds: Thresholds) -> list[Diagnosis]:
    if gathered.target is not None:
        diagnosis = engine.diagnose_target(
            gathered.snapshot, gathered.target, now=gathered.now, thresholds=thresholds
        )
        return [diagnosis] if diagnosis is not None else []
    return engine.diagnose(
        gathered.snapshot, now=gathered.now, thresholds=thresholds, namespace=gathered.namespace
    )


def _explain(
    diagnoses: list[Diagnosis], gathered: Gathered, settings: Settings, console: Console
) -> ExplainOutcome:
    from highpeaks_agent.terminal.explaining import explain

    outcome = explain(diagnoses, gathered, settings, console)
    if outcome.status == "unavailable":
        console.warning(
            f"no explanation: Flowise unavailable: {outcome.reason}{_mcp_hint(outcome)}"
        )
    elif outcome.status == "disabled":
        console.warning(f"no explanation: {outcome.reason}")
    return outcome


def _mcp_hint(outcome: ExplainOutcome) -> str:
    """Why a tool-using flow cannot answer here: its MCP node needs the operator's /mcp."""
    if "MCP" not in outcome.reason:
        return ""
    return (
        " (the flow's troubleshooting steps need the operator's /mcp; for diagnose --explain"
        " import flows/troubleshooting-answer-only.chatflow.json and set FLOWISE_FLOW_ID to it)"
    )


def _render(
    request: DiagnoseRequest,
    diagnoses: list[Diagnosis],
    gathered: Gathered,
    explanation: ExplainOutcome | None,
    *,
    color: bool,
) -> str:
    if request.output == "json":
        return render_json(
            diagnoses, now=gathered.now, pods_checked=gathered.pods, explanation=explanation
        )
    if request.output == "table":
        report = render_table(
            diagnoses,
            now=gathered.now,
            created=_creation_times(diagnoses, gathered),
            pods=gathered.pods,
            namespaces=gathered.namespaces,
        )
    else:
        report = render_text(
            diagnoses, pods=gathered.pods, namespaces=gathered.namespaces, color=color
        )
    return report + (render_explanation(explanation) if explanation is not None else "")


def _creation_times(diagnoses: list[Diagnosis], gathered: Gathered) -> dict[ObjectRef, datetime]:
    found: dict[ObjectRef, datetime] = {}
    for diagnosis in diagnoses:
        ref = diagnosis.target
        obj = gathered.snapshot.get(ref.kind, ref.namespace, ref.name) or {}
        created = parse_time((obj.get("metadata") or {}).get("creationTimestamp"))
        if created is not None:
            found[ref] = created
    return found
