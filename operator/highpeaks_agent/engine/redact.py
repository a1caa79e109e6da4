"""Redaction: nothing secret leaves the process (CONTRACT §3).

Two complementary nets:

* **rules** catch secrets by their shape wherever they appear: bearer tokens, JWTs,
  ``scheme://user:pass@host`` URLs (the user may be empty), AWS key ids and secret keys,
  GitHub/GitLab/Slack tokens, PEM private keys, ``name=value`` / ``name: value`` pairs and
  ``--flag value`` arguments whose name looks secret, ``mysql -pX`` and ``password X``;
* **known values** catch secrets that have no tell-tale shape: the literal values of env vars
  whose names look secret (``REDIS_PASSWORD: hunter2``) and Secret data found in the objects.
  When such a value is echoed into a log line or an event message, it is redacted there too.

Redaction works on whole texts: callers redact a log, a message or a command line before they
cut it into lines or shorten it, so a private key is redacted whatever window of it is shown
and a long line loses its secret before it loses its end.

A :class:`Redactor` is cheap to build; a snapshot builds one for its objects (known values
included) and every publisher (CLI, AgentTask status, Events, Flowise, /assist, logs) passes
its text through one.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeGuard, TypeVar

from highpeaks_agent.engine.secret_shapes import ALL_NEEDS, REDACTED, RULES, is_secret_name

__all__ = [
    "DEFAULT_REDACTOR",
    "REDACTED",
    "Redactor",
    "collect_secret_values",
    "is_secret_name",
    "redact_text",
    "redactor_for",
]

_MIN_KNOWN_VALUE = 4
#: Characters that glue a known value into one token with its neighbours (not ``=``, ``:``,
#: ``/`` or ``@``, which separate a name, a user or a host from the secret).
_GLUE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~+-")
_GLUED = re.compile(r"[A-Za-z0-9_.~+\-]*")
#: A base64 run at least this long is one blob (a secret access key, a key's body line): a
#: known value inside it takes it whole, "/" included, since the pieces left between its "/"
#: would no longer have the shape (40 characters, a body line) the rules look for.
_MIN_BASE64_BLOB = 32
_BASE64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_BASE64_TAIL = re.compile(r"[A-Za-z0-9+/]*=*")
_SHAPE_PLACEHOLDER = re.compile(r"\[REDACTED:[a-z-]+\]")
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
        """``value`` with every secret replaced; give it whole texts, not cut pieces."""
        if not value:
            return value
        # the needs of the text as given: a key id that held a known value still calls for the
        # rule that finds the secret after it
        lowered = value.lower()
        if self._known is not None:
            value = _replace_known(self._known, value)
        return _apply_rules(value, lowered)

    def argv(self, items: Sequence[str], program: str = "") -> list[str]:
        """A command line's items (``command`` + ``args``) with secrets replaced.

        The items are judged as one command line, so a secret flag's value in the next item
        (``["--password", "X"]``) and ``-pX`` after a ``mysql`` command are found too.
        ``program`` names the program when the items do not (the image's name).
        """
        separator = "\t"  # whitespace to the rules, and rare inside one argument
        line = self.text(separator.join([program, *items]))
        parts = line.split(separator)
        if len(parts) != len(items) + 1:  # a secret spanned items: which ones is unclear
            return [REDACTED] * len(items)
        return parts[1:]

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


def _apply_rules(value: str, lowered: str) -> str:
    """The shape rules whose needs ``lowered`` holds, applied to ``value`` in turn."""
    if not any(need in lowered for need in ALL_NEEDS):
        return value
    for rule in RULES:
        # ``lowered`` is the text before earlier rules ran: it can only hold more needs
        if any(need in lowered for need in rule.needs):
            value = rule.apply(value)
    return value


def _placeholder_for(token: str) -> str:
    """What replaces a token that held a known value: the shape's own placeholder when the
    rules would replace the whole token (later rules look for some, e.g. a secret key after
    ``[REDACTED:aws-access-key]``), else ``[REDACTED]``."""
    shaped = _apply_rules(token, token.lower())
    return shaped if _SHAPE_PLACEHOLDER.fullmatch(shaped) else REDACTED


def _replace_known(known: re.Pattern[str], text: str) -> str:
    """Known values, with the token they are glued into (``Bearer <value>xyz``) or the base64
    blob they sit in: what is left of a token around a secret no longer has the shape the rules
    look for."""
    pieces: list[str] = []
    done = 0
    for match in known.finditer(text):
        if match.end() <= done:
            continue  # inside the token just replaced
        value = max(match.start(), done), match.end()
        start, end = _token_around(text, *value, done, _GLUE, _GLUED)
        blob_start, blob_end = _token_around(text, *value, done, _BASE64_CHARS, _BASE64_TAIL)
        if blob_end - blob_start >= _MIN_BASE64_BLOB:
            start, end = min(start, blob_start), max(end, blob_end)
        pieces += [text[done:start], _placeholder_for(text[start:end])]
        done = end
    return "".join(pieces) + text[done:] if pieces else text


def _token_around(
    text: str, start: int, end: int, floor: int, before: frozenset[str], after: re.Pattern[str]
) -> tuple[int, int]:
    """``start:end`` widened by the ``before`` characters left of it (not past ``floor``) and
    what ``after`` matches right of it."""
    while start > floor and text[start - 1] in before:
        start -= 1
    tail = after.match(text, end)
    return start, max(end, tail.end()) if tail is not None else end


def collect_secret_values(objects: Iterable[Any]) -> set[str]:
    """Literal secrets in the objects: secret-named env values and Secret data (decoded too)."""
    found: set[str] = set()
    for obj in objects:
        if not _is_mapping(obj):
            continue
        if obj.get("kind") == "Secret":
            found.update(_secret_data(obj))
            continue
        for container in _containers_of(obj):
            env = container.get("env")
            if not isinstance(env, list):
                continue
            for var in env:
                if (
                    _is_mapping(var)
                    and isinstance(var.get("name"), str)
                    and isinstance(var.get("value"), str)
                    and is_secret_name(var["name"])
                ):
                    found.add(var["value"])
    return found


def _secret_data(secret: Mapping[str, Any]) -> Iterable[str]:
    for bucket in ("data", "stringData"):
        data = secret.get(bucket)
        if not isinstance(data, Mapping):
            continue
        for item in data.values():
            if isinstance(item, str):
                yield item
                if bucket == "data":
                    yield from _b64decode(item)


def _is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """``isinstance(value, Mapping)``, without the slow ABC check for the common dict."""
    return type(value) is dict or isinstance(value, Mapping)


def _containers_of(obj: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    spec = obj.get("spec")
    if not _is_mapping(spec):
        return
    template = spec.get("template")
    if _is_mapping(template):  # Deployment, ReplicaSet, StatefulSet, Job ...
        spec = template.get("spec")
        if not _is_mapping(spec):
            return
    job_template = spec.get("jobTemplate")  # CronJob
    if _is_mapping(job_template):
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
    """Rule-only redaction, for text that comes with no objects (user questions, answers)."""
    return DEFAULT_REDACTOR.text(value)
