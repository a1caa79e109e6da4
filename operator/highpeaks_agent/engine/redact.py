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
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

REDACTED = "[REDACTED]"

# --- names that look secret ---------------------------------------------------------------

#: Words that make a variable, key or flag name look secret, in the spellings people use:
#: ``DB_PASSWORD``, ``PGPASSWORD``, ``MYSQL_PASSWD``, ``REDIS_PASS``, ``dbPass``, ``ROOT_PW``,
#: ``STRIPE_APIKEY``, ``SSH_PRIVATE``, ``ENCRYPTION_KEY_BASE``, ``masterKey`` …
#: ``pass`` alone counts only as a whole part of the name (not ``bypass`` or ``passive``).
_SECRET_NAME = re.compile(
    r"pass(?:word|wd|phrase)|(?<![a-z])pass(?![a-z])|(?-i:(?<=[a-z])Pass(?![a-z]))|pwd|"
    r"(?<![a-z0-9])pw(?![a-z0-9])|(?-i:(?<=[a-z])Pw(?![a-z]))|secret|token|"
    r"api[_.-]?key|access[_.-]?key|private|credential|(?<![a-z0-9])keys?(?![a-z0-9])|"
    r"(?-i:(?<=[a-z])Keys?(?![a-z]))|auth(?:orization)?$|session[_.-]?id|cookie|"
    r"signing|salt|dsn|connection[_.-]?string",
    re.IGNORECASE,
)

#: Names that contain a secret word but are known not to hold secrets.
_NOT_SECRET_NAME = re.compile(
    r"(?:^|[_.-])(?:file|path|dir|ref|name|id|enabled|length|ttl|expiry|expires|url_path)$|"
    r"^key[_-]?(?:file|path)$|^(?:public[_-]?key|keyspace|key[_-]?prefix)$",
    re.IGNORECASE,
)
_ALWAYS_SECRET_NAME = re.compile(r"pass|secret|token", re.IGNORECASE)

#: The shell's working directories, not passwords.
_SHELL_NAMES = frozenset({"pwd", "oldpwd"})

#: Words that look secret as part of a name but are ordinary words on their own in prose and
#: command lines (``key=orders/42`` in a cache log, ``--key /etc/tls/tls.key``).
_GENERIC_WORDS = frozenset({"key", "keys", "auth", "signing", "private"})


def is_secret_name(name: str) -> bool:
    """Does an env var, config key or flag with this name probably hold a secret?"""
    if not name or name.lower() in _SHELL_NAMES or not _SECRET_NAME.search(name):
        return False
    return not (_NOT_SECRET_NAME.search(name) and not _ALWAYS_SECRET_NAME.search(name))


def _is_secret_word_in_text(name: str) -> bool:
    """The stricter test for a name found in free text: a bare generic word is not enough."""
    bare = name.lstrip("-")
    return bare.lower() not in _GENERIC_WORDS and is_secret_name(bare)


# --- rules that find secrets by their shape -----------------------------------------------


class Rule(NamedTuple):
    """A rule runs only on text that holds one of its ``needs`` (lower case): a few substring
    tests are much cheaper than a regular expression that finds nothing."""

    needs: tuple[str, ...]
    apply: Callable[[str], str]


_Replacement = str | Callable[[re.Match[str]], str]

_PEM_LABEL = r"(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?"
_PEM_END = re.compile(r"-----END " + _PEM_LABEL + "-----")
_PEM_BODY_LINE = re.compile(r"(?P<prefix>(?:[^\n]*[ \t])?)(?P<body>[A-Za-z0-9+/=]+)[ \t\r]*")
_MIN_PREFIXED_BODY = 16

_TOKEN_START = r"(?<![\w.\-])"
#: A value: escaped-quoted (inside a JSON string), quoted, or up to a delimiter.
_VALUE = r"\\\"(?:[^\"\\]|\\[^\"])*\\\"|\"[^\"]*\"|'[^']*'|[^\s,;&\"'}\]]+"

_MYSQL_COMMAND = re.compile(
    r"(?<![\w.\-])(?:[\w.\-]*/)?(?:mysql(?:dump|admin|import|show|check|pump|sh)?|"
    r"mariadb(?:-?dump|-?admin|-?import|-?show|-?check)?)(?![\w.\-])"
)
_MYSQL_SHORT_PASSWORD = re.compile(
    r"(?<=[\s\"',=])-p(?!\[REDACTED)(?:'[^']*'|\"[^\"]*\"|[^\s'\",\]]+)"
)
#: Fragments every name that looks secret holds (see ``_SECRET_NAME``), in lower case.
_NAME_WORDS = (
    "pass", "pw", "secret", "token", "key", "private", "credential", "auth", "session",
    "cookie", "signing", "salt", "dsn", "connection",
)  # fmt: skip
_AWS_KEY_PREFIXES = ("akia", "asia", "agpa", "aida", "aroa", "anpa", "anva", "aipa")
_SECRET_LOOKING = re.compile(r"\d|[^A-Za-z]|.[A-Z]")
_TRAILING_PUNCTUATION = re.compile(r"[.,;:!?)\]}]+$")


def _sub(needs: tuple[str, ...], pattern: str, replacement: _Replacement, flags: int = 0) -> Rule:
    compiled = re.compile(pattern, flags)
    return Rule(needs, lambda text: compiled.sub(replacement, text))


def _secret_values(pattern: str) -> Rule:
    """A rule for ``name<sep>value`` pairs whose name looks secret.

    Only the name and separator are consumed, so a value that holds another pair
    (``failed: DB_PASSWORD=x``) is looked at too.
    """
    compiled = re.compile(pattern)

    def rule(text: str) -> str:
        pieces: list[str] = []
        done = 0
        for match in compiled.finditer(text):
            if match.start("value") < done or not _is_secret_word_in_text(match["name"]):
                continue
            pieces += [text[done : match.start("value")], REDACTED]
            done = match.end("value")
        return "".join(pieces) + text[done:] if pieces else text

    return Rule(_NAME_WORDS, rule)


def _password_word(match: re.Match[str]) -> str:
    """``password hunter2``: the word after "password" is redacted when it looks like one.

    English goes on after "password" ("password reset link sent", "password authentication
    failed"), so a plain word of letters is kept; a quoted value, or one with a digit, a
    symbol or an inner capital, is not English and is redacted.
    """
    value, kept = match["value"], ""
    if value[0] not in "\"'":
        trail = _TRAILING_PUNCTUATION.search(value)
        if trail is not None:
            value, kept = value[: trail.start()], trail[0]
        if len(value) < 3 or not _SECRET_LOOKING.search(value):
            return match[0]
    return match["head"] + REDACTED + kept


def _mysql_line(match: re.Match[str]) -> str:
    """``mysql -uroot -pX db``: the value glued to ``-p`` is the password."""
    return match["command"] + _MYSQL_SHORT_PASSWORD.sub("-p" + REDACTED, match["rest"])


def _env_entry(match: re.Match[str]) -> str:
    """``{"name":"DB_PASSWORD","value":"…"}`` inside serialized JSON (e.g. a logged spec)."""
    if not is_secret_name(match["name"]):
        return match[0]
    return match[0][: match.start("value") - match.start()] + REDACTED + match["end"]


def _private_key_tails(text: str) -> str:
    """Key body lines above an END line whose BEGIN line was cut off (a log's tail)."""
    if "-----END" not in text:
        return text
    for end in reversed(list(_PEM_END.finditer(text))):
        start = _key_body_start(text, end.start())
        if start < end.start():
            text = text[:start] + "[REDACTED:private-key]" + text[end.end() :]
    return text


def _key_body_start(text: str, end_line: int) -> int:
    """Where the base64 lines just above the END marker at ``end_line`` begin.

    A line may carry a prefix before its base64 (a log's timestamp, an argument before it);
    then only a long enough base64 run at its end counts, and the prefix stays.
    """
    start = text.rfind("\n", 0, end_line) + 1  # the marker's line: nothing above when 0
    found = end_line
    while start > 0:
        above = text.rfind("\n", 0, start - 1) + 1
        line = _PEM_BODY_LINE.fullmatch(text, above, start - 1)
        if line is None or (line["prefix"] and len(line["body"]) < _MIN_PREFIXED_BODY):
            break
        found, start = line.start("body"), above
    return found


# Order matters: whole blocks and specific shapes before generic name=value pairs.
_RULES: tuple[Rule, ...] = (
    _sub(
        ("-----begin",),
        r"-----BEGIN " + _PEM_LABEL + "-----(?:.*?-----END " + _PEM_LABEL + "-----|.*)",
        "[REDACTED:private-key]",
        re.DOTALL,
    ),
    Rule(("-----end",), _private_key_tails),
    _sub(
        ("eyj",),
        r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
        "[REDACTED:jwt]",
    ),
    _sub(
        ("bearer", "basic", "token"),
        r"\b(Bearer|Basic|Token)(\s+)(?!-)[A-Za-z0-9._~+/=-]{8,}",
        r"\1\2[REDACTED:token]",
        re.IGNORECASE,
    ),
    # the user may be empty (redis://:pw@host); a password may hold an unescaped "@"
    _sub(
        ("://",),
        r"(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*://)[^\s:/@'\"]*:[^\s/'\"]+@",
        r"\1[REDACTED:url-credentials]@",
        re.IGNORECASE,
    ),
    _sub(
        _AWS_KEY_PREFIXES,
        r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b",
        "[REDACTED:aws-access-key]",
    ),
    _sub(
        ("secret",),
        r"(aws_?secret_?(?:access_?)?key[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])",
        r"\1[REDACTED:aws-secret-key]",
        re.IGNORECASE,
    ),
    # a 40-character secret on the same line after a key id: "AKIA…:wJalr…", "id AKIA… key …"
    _sub(
        _AWS_KEY_PREFIXES,
        r"(\[REDACTED:aws-access-key\][^\n]{0,80}?)(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}"
        r"(?![A-Za-z0-9/+=])",
        r"\1[REDACTED:aws-secret-key]",
    ),
    _sub(
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})\b",
        "[REDACTED:github-token]",
    ),
    _sub(("glpat-",), r"\bglpat-[A-Za-z0-9_-]{20,}", "[REDACTED:gitlab-token]"),
    _sub(
        ("xox", "hooks.slack"),
        r"\bxox[abposre]-[A-Za-z0-9-]{10,}|hooks\.slack\.com/services/[A-Za-z0-9/]+",
        "[REDACTED:slack-token]",
    ),
    _sub(
        ('name"',),
        r'"name"\s*:\s*"(?P<name>[^"\\]*)"\s*,\s*"value"\s*:\s*"(?P<value>(?:[^"\\]|\\.)*)(?P<end>")',
        _env_entry,
    ),
    _sub(
        ('name\\"',),
        r'\\"name\\"\s*:\s*\\"(?P<name>[^"\\]*)\\"\s*,\s*\\"value\\"\s*:\s*\\"'
        r'(?P<value>(?:[^"\\]|\\[^"])*)(?P<end>\\")',
        _env_entry,
    ),
    _sub(
        ("mysql", "mariadb"),
        r"(?P<command>" + _MYSQL_COMMAND.pattern + r")(?P<rest>[^\n]*)",
        _mysql_line,
    ),
    # NAME=value, name: value, --db-password=value, "apiKey": "value"
    _secret_values(
        _TOKEN_START + r"(?P<name>-{0,2}[A-Za-z_][\w.\-]*)"
        r"(?P<sep>\\?[\"']?\s*(?:=|:(?!//))\s*)(?!\[REDACTED|(?i:bearer|basic|token)\s+\[REDACTED)"
        r"(?=(?P<value>" + _VALUE + "))"
    ),
    # --password value, --token value: a secret flag and its separate value
    _secret_values(
        _TOKEN_START + r"(?P<name>--?[A-Za-z][\w.\-]*)(?P<sep>[ \t]+)(?!-|\[REDACTED)"
        r"(?=(?P<value>\"[^\"]*\"|'[^']*'|[^\s\"']+))"
    ),
    _sub(
        ("pass", "pwd"),
        r"(?P<head>" + _TOKEN_START + r"(?:password|passwd|passphrase|pwd)"
        r"(?:\s+(?:is|was|of|set\s+to|=|:))?\s+)(?!\[REDACTED)(?P<value>\"[^\"]*\"|'[^']*'|\S+)",
        _password_word,
        re.IGNORECASE,
    ),
)


#: A cheap first look: every rule needs one of these fragments, and most text has none.
_ALL_NEEDS = tuple(sorted({need for rule in _RULES for need in rule.needs}))

_MIN_KNOWN_VALUE = 4
#: Characters that glue a known value into one token with its neighbours (not ``=``, ``:``,
#: ``/`` or ``@``, which separate a name, a user or a host from the secret).
_GLUE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~+-")
_GLUED = re.compile(r"[A-Za-z0-9_.~+\-]*")
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
        if self._known is not None:
            value = _replace_known(self._known, value)
        lowered = value.lower()
        if not any(need in lowered for need in _ALL_NEEDS):
            return value
        for rule in _RULES:
            # ``lowered`` is the text before earlier rules ran: it can only hold more needs
            if any(need in lowered for need in rule.needs):
                value = rule.apply(value)
        return value

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


def _replace_known(known: re.Pattern[str], text: str) -> str:
    """Known values, with the token they are glued into (``Bearer <value>xyz``): what is left
    of a token around a secret no longer has the shape the rules look for."""
    pieces: list[str] = []
    done = 0
    for match in known.finditer(text):
        if match.end() <= done:
            continue  # inside the token just replaced
        start = max(match.start(), done)
        while start > done and text[start - 1] in _GLUE:
            start -= 1
        glued = _GLUED.match(text, match.end())
        pieces += [text[done:start], REDACTED]
        done = glued.end() if glued is not None else match.end()
    return "".join(pieces) + text[done:] if pieces else text


def collect_secret_values(objects: Iterable[Any]) -> set[str]:
    """Literal secrets in the objects: secret-named env values and Secret data (decoded too)."""
    found: set[str] = set()
    for obj in objects:
        if not isinstance(obj, Mapping):
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
                    isinstance(var, Mapping)
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
    """Rule-only redaction, for text that comes with no objects (user questions, answers)."""
    return DEFAULT_REDACTOR.text(value)
