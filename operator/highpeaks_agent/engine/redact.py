"""Redaction: nothing secret leaves the process (CONTRACT §3).

Two complementary nets:

* **patterns** catch secrets by their shape wherever they appear: bearer tokens, JWTs,
  ``scheme://user:pass@host`` URLs, AWS key ids and secret keys, GitHub/GitLab/Slack tokens,
  PEM private keys, and ``name=value`` / ``name: value`` pairs whose name looks secret;
* **known values** catch secrets that have no tell-tale shape: the literal values of env vars
  whose names look secret (``REDIS_PASSWORD: hunter2``) and Secret data found in the objects.
  When such a value is echoed into a log line or an event message, it is redacted there too.

A :class:`Redactor` is cheap to build; build one per snapshot with :func:`redactor_for` so the
known values are those of the objects being diagnosed. Every publisher (CLI, AgentTask status,
Events, Flowise, /assist, logs) passes its text through one.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

REDACTED = "[REDACTED]"

#: Words that make a variable, key or flag name look secret.
_SECRET_NAME = re.compile(
    r"pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|"
    r"(?:^|[_-])key$|^key[_-]|credential|auth(?:orization)?$|session[_-]?id|cookie|"
    r"client[_-]?secret|signing|salt|dsn|connection[_-]?string",
    re.IGNORECASE,
)

#: Names that contain a secret word but are known not to hold secrets.
_NOT_SECRET_NAME = re.compile(
    r"(?:^|[_-])(?:file|path|dir|ref|name|id|enabled|length|ttl|expiry|expires|url_path)$|"
    r"^key[_-]?(?:file|path)$|^(?:public[_-]?key|keyspace|key[_-]?prefix)$",
    re.IGNORECASE,
)


def is_secret_name(name: str) -> bool:
    """Does an env var, config key or flag with this name probably hold a secret?"""
    if not name or not _SECRET_NAME.search(name):
        return False
    return not (_NOT_SECRET_NAME.search(name) and not re.search(r"pass|secret|token", name, re.I))


_KEYWORD = (
    r"[A-Za-z0-9_.-]*(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|access[_-]?key|"
    r"private[_-]?key|credentials?|client[_-]?secret)[A-Za-z0-9_.-]*"
)

# (kind, pattern, replacement). Order matters: specific shapes before generic name=value pairs.
_PATTERNS: list[tuple[str, re.Pattern[str], str]] = [
    (
        "private-key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|.*)",
            re.DOTALL,
        ),
        "[REDACTED:private-key]",
    ),
    (
        "jwt",
        re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
        "[REDACTED:jwt]",
    ),
    (
        "bearer",
        re.compile(r"\b(Bearer|Basic|Token)(\s+)[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE),
        r"\1\2[REDACTED:token]",
    ),
    (
        "url-credentials",
        re.compile(r"\b([a-z][a-z0-9+.-]*://)[^\s:/@'\"]+:[^\s/@'\"]+@", re.IGNORECASE),
        r"\1[REDACTED:url-credentials]@",
    ),
    (
        "aws-access-key",
        re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"),
        "[REDACTED:aws-access-key]",
    ),
    (
        "aws-secret-key",
        re.compile(
            r"(aws_?secret_?(?:access_?)?key[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])",
            re.IGNORECASE,
        ),
        r"\1[REDACTED:aws-secret-key]",
    ),
    (
        "github-token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})\b"),
        "[REDACTED:github-token]",
    ),
    ("gitlab-token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), "[REDACTED:gitlab-token]"),
    (
        "slack-token",
        re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{10,}|hooks\.slack\.com/services/[A-Za-z0-9/]+"),
        "[REDACTED:slack-token]",
    ),
    (
        "json-env-secret",
        # {"name":"DB_PASSWORD","value":"..."} inside serialized JSON (e.g. last-applied config)
        re.compile(
            r'("name"\s*:\s*"' + _KEYWORD + r'"\s*,\s*"value"\s*:\s*")((?:[^"\\]|\\.)*)(")',
            re.IGNORECASE,
        ),
        r"\1[REDACTED]\3",
    ),
    (
        "secret-assignment",
        # PASSWORD=x, password: x, --db-password=x, "apiKey": "x", token='x'
        re.compile(
            r"(\b" + _KEYWORD + r"[\"']?\s*(?:=|:(?!//))\s*)(?!\[REDACTED)"
            r"(\"[^\"]*\"|'[^']*'|[^\s,;&\"'}\]]+)",
            re.IGNORECASE,
        ),
        r"\1[REDACTED]",
    ),
]


#: A cheap first look: every pattern above needs one of these fragments, and most text has
#: none of them, so one search of literals replaces a dozen substitutions.
_PRECHECK = re.compile(
    r"pass|pwd|secret|token|key|credential|bearer|basic|eyJ|://|AKIA|ASIA|AGPA|AIDA|AROA|"
    r"ANPA|ANVA|AIPA|gh[pousr]_|github_pat|glpat-|xox|hooks\.slack",
    re.IGNORECASE,
)

_MIN_KNOWN_VALUE = 4
_T = TypeVar("_T")


class Redactor:
    """Replaces secrets in text and in nested JSON-like data with ``[REDACTED]``."""

    def __init__(self, known_values: Iterable[str] = ()) -> None:
        values = sorted(
            {v for v in known_values if isinstance(v, str) and len(v.strip()) >= _MIN_KNOWN_VALUE},
            key=len,
            reverse=True,
        )
        self._known: re.Pattern[str] | None = (
            re.compile("|".join(re.escape(v) for v in values)) if values else None
        )

    def text(self, value: str) -> str:
        """``value`` with every secret replaced."""
        if not value:
            return value
        if self._known is not None:
            value = self._known.sub(REDACTED, value)
        if _PRECHECK.search(value) is None:
            return value
        for _kind, pattern, replacement in _PATTERNS:
            value = pattern.sub(replacement, value)
        return value

    def data(self, value: _T) -> _T:
        """A deep copy of JSON-like data with every string redacted.

        Env entries whose name looks secret lose their ``value``; a Secret's ``data`` and
        ``stringData`` lose every value.
        """
        return self._data(value)  # type: ignore[no-any-return]

    def _data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self._data(v) for v in value]
        if isinstance(value, Mapping):
            out: dict[Any, Any] = {}
            is_secret_obj = value.get("kind") == "Secret"
            secret_env = isinstance(value.get("name"), str) and is_secret_name(value["name"])
            for key, item in value.items():
                if is_secret_obj and key in ("data", "stringData") and isinstance(item, Mapping):
                    out[key] = {k: REDACTED for k in item}
                elif secret_env and key == "value" and isinstance(item, str):
                    out[key] = REDACTED
                elif isinstance(key, str) and is_secret_name(key) and isinstance(item, str):
                    out[key] = REDACTED if item else item
                else:
                    out[key] = self._data(item)
            return out
        return value


def collect_secret_values(objects: Iterable[Any]) -> set[str]:
    """Literal secrets in the objects: secret-named env values and Secret data (decoded too)."""
    found: set[str] = set()
    for obj in objects:
        if not isinstance(obj, Mapping):
            continue
        if obj.get("kind") == "Secret":
            for bucket in ("data", "stringData"):
                data = obj.get(bucket)
                if isinstance(data, Mapping):
                    for item in data.values():
                        if isinstance(item, str):
                            found.add(item)
                            if bucket == "data":
                                found.update(_b64decode(item))
            continue
        for container in _containers_of(obj):
            env = container.get("env")
            if not isinstance(env, list):
                continue
            for var in env:
                if (
                    isinstance(var, Mapping)
                    and isinstance(var.get("name"), str)
                    and isinstance(var.get("value"), str)
                    and is_secret_name(var["name"])
                ):
                    found.add(var["value"])
    return found


def _containers_of(obj: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    spec = obj.get("spec")
    if type(spec) is not dict and not isinstance(spec, Mapping):
        return
    template = spec.get("template")
    if isinstance(template, Mapping):  # Deployment, ReplicaSet, StatefulSet, Job ...
        spec = template.get("spec")
        if not isinstance(spec, Mapping):
            return
    job_template = spec.get("jobTemplate")  # CronJob
    if isinstance(job_template, Mapping):
        yield from _containers_of(job_template)
        return
    for key in ("initContainers", "containers", "ephemeralContainers"):
        items = spec.get(key)
        if isinstance(items, list):
            yield from (c for c in items if isinstance(c, dict))


def _b64decode(value: str) -> list[str]:
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return []
    return [decoded.strip(), decoded] if decoded.strip() else []


def redactor_for(objects: Iterable[Any]) -> Redactor:
    """A redactor that knows the literal secrets of these objects."""
    return Redactor(collect_secret_values(objects))


DEFAULT_REDACTOR = Redactor()


def redact_text(value: str) -> str:
    """Pattern-only redaction, for text that comes with no objects (user questions, answers)."""
    return DEFAULT_REDACTOR.text(value)
