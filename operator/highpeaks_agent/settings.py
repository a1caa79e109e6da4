"""Every setting of the agent, read once from environment variables.

One pydantic model serves the CLI, the operator, the Flowise bridge and the HTTP surface, so
a threshold means the same thing everywhere. Variable names are the field names in any case
(``WATCH_NAMESPACES``, ``FLOWISE_URL``, ``CRASHLOOP_RESTARTS`` …); README lists them all.

The environment is read by :meth:`Settings.from_environ` rather than through
pydantic-settings: every value here is one string the model validates as it stands (the
namespace list is split by its own validator), which is all that library would do for these
fields, and importing it costs about 0.1 s (it loads asyncio, argparse and its cloud
providers' sources), a third of what ``diagnose`` on a small dump may take (CONTRACT §1a).

Each secret setting (``FLOWISE_API_KEY``, ``ALERTMANAGER_TOKEN``, the notification URLs) may
instead name a file holding it, ``FLOWISE_API_KEY_FILE`` …, as a Secret mounted as a volume
gives it: the value then never sits in the process environment, where ``/proc/PID/environ``
and crash reports would show it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS, Thresholds
from highpeaks_agent.selectors import parse_selector
from highpeaks_agent.settings_names import FILE_SUFFIX, SECRET_SETTING_NAMES


class Settings(BaseModel):
    """The agent's configuration (CONTRACT §5 plus the thresholds of CONTRACT §2).

    ``Settings()`` is the defaults, ``Settings(field=value)`` a chosen value; what a process
    runs with is :meth:`from_environ`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    # --- what to watch ---------------------------------------------------------------------
    watch_namespaces: list[str] = Field(default_factory=list)
    """Namespaces to watch (comma-separated); empty watches all namespaces."""
    watch_namespace_selector: str = ""
    """Label selector on Namespace objects (e.g. ``highpeaks.io/watch=true``); empty = none."""

    # --- failure thresholds (CONTRACT §2) --------------------------------------------------
    crashloop_restarts: int = Field(default=DEFAULT_THRESHOLDS.crashloop_restarts, ge=1)
    pending_seconds: float = Field(default=DEFAULT_THRESHOLDS.pending_seconds, ge=0)
    not_ready_seconds: float = Field(default=DEFAULT_THRESHOLDS.not_ready_seconds, ge=0)
    recovered_seconds: float = Field(default=DEFAULT_THRESHOLDS.recovered_seconds, ge=0)

    # --- live context gathering ------------------------------------------------------------
    log_tail_lines: int = Field(default=100, ge=0)
    """Lines of log read per failing container (``previous=true`` for crashed ones)."""
    log_tail_bytes: int = Field(default=16384, ge=0)
    """Bytes of log kept per failing container, newest lines kept."""

    # --- operator --------------------------------------------------------------------------
    incident_debounce_seconds: float = Field(default=5.0, ge=0)
    """Quiet period per Deployment before an incident is evaluated, so a burst is one look."""
    max_concurrent_diagnoses: int = Field(default=4, ge=1)
    """Diagnoses (live context gathering + engine + Flowise) running at once, process-wide."""
    resync_seconds: float = Field(default=30.0, gt=0)
    """Period of the level-triggered resync of failing Deployments and open incidents."""
    kube_request_timeout_seconds: float = Field(default=30.0, gt=0)
    """Deadline of each Kubernetes API request the operator makes (not Kopf's watches): a
    connection held open without an answer fails the call, which is retried."""
    peering: str = ""
    """Kopf peering object name for multi-replica safety; empty runs standalone (one replica)."""

    # --- Flowise ---------------------------------------------------------------------------
    flowise_url: str = ""
    flowise_flow_id: str = ""
    flowise_api_key: SecretStr = SecretStr("")
    flowise_timeout_seconds: float = Field(default=30.0, gt=0)
    flowise_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    flowise_max_retries: int = Field(default=2, ge=0)
    flowise_breaker_failures: int = Field(default=5, ge=1)
    flowise_breaker_cooldown_seconds: float = Field(default=60.0, ge=0)
    flowise_max_concurrency: int = Field(default=4, ge=1)
    flowise_max_response_bytes: int = Field(default=1_000_000, ge=1024)
    flowise_max_request_bytes: int = Field(default=8192, ge=1024)
    flow_max_steps: int = Field(default=5, ge=0, le=50)
    """Read-only tool calls (``/mcp``) the flow may make per question; 0 gives it none."""
    mcp_url: str = ""
    """Where Flowise reaches the operator's ``/mcp``; empty: the operator's Service in
    ``highpeaks-system`` on ``HTTP_PORT``."""

    # --- HTTP surface ----------------------------------------------------------------------
    http_port: int = Field(default=8000, ge=1, le=65535)
    auth_mode: Literal["kubernetes", "none"] = "kubernetes"
    auth_cache_seconds: float = Field(default=60.0, ge=0)
    assist_default_namespace: str = "default"
    assist_rate_limit_per_minute: int = Field(default=30, ge=1)
    #: per client address, for requests whose token is not known yet (before any TokenReview)
    assist_unauthenticated_rate_limit_per_minute: int = Field(default=30, ge=1)
    assist_max_body_bytes: int = Field(default=16384, ge=256)
    assist_max_query_chars: int = Field(default=2000, ge=1)

    # --- observability ---------------------------------------------------------------------
    log_format: Literal["text", "json"] = "text"
    """``json``: one JSON object per line from every logger (``logging_setup.py``)."""

    # --- Alertmanager in -------------------------------------------------------------------
    alertmanager_token: SecretStr = SecretStr("")
    """Bearer token Alertmanager sends to ``POST /alertmanager``; empty = Kubernetes auth."""
    alertmanager_max_body_bytes: int = Field(default=262_144, ge=1024)
    alertmanager_max_alerts: int = Field(default=100, ge=1)
    """Alerts accepted in one request (set ``max_alerts`` in Alertmanager's webhook_configs)."""

    # --- notifications out -----------------------------------------------------------------
    notify_webhook_url: SecretStr = SecretStr("")
    """Generic JSON webhook, one POST per IncidentNote (mount it from a Secret)."""
    notify_slack_webhook_url: SecretStr = SecretStr("")
    """Slack incoming webhook, one Block Kit message per IncidentNote (from a Secret)."""
    notify_timeout_seconds: float = Field(default=10.0, gt=0)
    notify_max_attempts: int = Field(default=5, ge=1, le=20)
    """Tries per message and sink (5xx, 429, connection errors are retried; other 4xx not)."""
    notify_backoff_seconds: float = Field(default=1.0, ge=0)
    """First wait between tries; doubles each time, at most 60 s (Slack's Retry-After wins)."""
    notify_queue_size: int = Field(default=1000, ge=1)
    """Notifications waiting to be sent; beyond it new ones are dropped and counted."""

    debug: bool = False

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """The settings the environment sets (names in any case), then ``overrides``.

        A secret setting may come from the file its ``*_FILE`` variable names instead.
        Raises pydantic's ``ValidationError``, whose locations are the field names (or the
        ``*_file`` variable at fault), so a caller can name the variable in upper case.
        """
        source = os.environ if environ is None else environ
        lowered = {k.lower(): v for k, v in source.items()}
        given = {k: v for k, v in lowered.items() if k in cls.model_fields}
        given.update(_secrets_from_files(lowered))
        return cls.model_validate({**given, **overrides})

    @field_validator("watch_namespaces", mode="before")
    @classmethod
    def _split_namespaces(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("watch_namespace_selector")
    @classmethod
    def _check_selector(cls, value: str) -> str:
        parse_selector(value)  # raises ValueError naming the offending term
        return value

    @property
    def flowise_enabled(self) -> bool:
        """Flowise is used only when both its URL and the flow id are set."""
        return bool(self.flowise_url and self.flowise_flow_id)

    @property
    def flow_tools_url(self) -> str:
        """The ``/mcp`` URL handed to the flow with each question."""
        return self.mcp_url or f"http://highpeaks-agent.highpeaks-system.svc:{self.http_port}/mcp"

    @property
    def thresholds(self) -> Thresholds:
        """The engine's view of the failure thresholds."""
        return Thresholds(
            crashloop_restarts=self.crashloop_restarts,
            pending_seconds=self.pending_seconds,
            not_ready_seconds=self.not_ready_seconds,
            recovered_seconds=self.recovered_seconds,
        )


def _secrets_from_files(variables: Mapping[str, str]) -> dict[str, str]:
    """The secret settings whose ``*_file`` variable is set, read from those files.

    Raises ``ValidationError`` when a secret is given both ways (which one was meant is not
    ours to guess) or its file cannot be read; the message names the path, never the value.
    """
    values: dict[str, str] = {}
    problems: list[InitErrorDetails] = []
    for name in sorted(SECRET_SETTING_NAMES):
        path = variables.get(name + FILE_SUFFIX)
        if path is None:
            continue
        if name in variables:
            problems.append(
                _problem(
                    name,
                    path,
                    f"set either {name.upper()} or {name.upper()}{FILE_SUFFIX.upper()}, not both",
                )
            )
            continue
        try:
            value = _read_secret_file(Path(path))
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            # "(reason)", not ": reason": a path ending in a secret-looking name followed by
            # ": " would read as a `name: value` pair, and redaction would eat the reason.
            message = f"cannot read {path} ({reason})"
            problems.append(_problem(name + FILE_SUFFIX, path, message))
            continue
        if value is not None:
            values[name] = value
    if problems:
        raise ValidationError.from_exception_data(Settings.__name__, problems)
    return values


def _read_secret_file(path: Path) -> str | None:
    """The secret in ``path``; ``None`` when the file is absent from a directory that exists.

    That is how Kubernetes shows an optional Secret (or key) that does not exist in a mounted
    Secret volume: the agent then runs without that secret, as without the variable. A missing
    directory is a path that names no mount (a typo), so it is an error like any unreadable
    file.
    """
    if not path.exists() and path.parent.is_dir():
        return None
    # Surrounding whitespace is never part of a token or URL; a file written with `echo` ends
    # with a newline that must not reach an Authorization header.
    return path.read_text(encoding="utf-8").strip()


def _problem(location: str, path: str, message: str) -> InitErrorDetails:
    return {
        "type": PydanticCustomError("secret_file", message),
        "loc": (location,),
        "input": path,
    }
