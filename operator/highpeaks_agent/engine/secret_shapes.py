"""What secrets look like: names that hold them, and the shapes they take in text.

:mod:`highpeaks_agent.engine.redact` applies these rules; they are kept apart so the list of
shapes (CONTRACT §3) reads as one table. Each :class:`Rule` replaces one shape and runs only on
text that holds one of its ``needs``, so text without any of them costs a few substring tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

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
#: A key's body line, which may already hold what known values left of it: the known values of
#: a snapshot are replaced before any rule runs, and a body line that held one (a short env
#: value that happens to sit in the base64, or the whole line) must not end the key there.
_PEM_BODY_LINE = re.compile(
    r"(?P<prefix>(?:[^\n]*[ \t])?)(?P<body>(?:[A-Za-z0-9+/=]|\[REDACTED(?::[a-z-]+)?\])+)[ \t\r]*"
)
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
        if line is None or (line["prefix"] and not _is_long_enough_body(line["body"])):
            break
        found, start = line.start("body"), above
    return found


def _is_long_enough_body(body: str) -> bool:
    """Is the base64 run after a line's prefix long enough to be a key's? A replaced known
    value hides how long the run was, so a run holding one counts."""
    return "[REDACTED" in body or len(body) >= _MIN_PREFIXED_BODY


# Order matters: whole blocks and specific shapes before generic name=value pairs.
RULES: tuple[Rule, ...] = (
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
ALL_NEEDS = tuple(sorted({need for rule in RULES for need in rule.needs}))
