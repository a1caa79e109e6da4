"""Why a container crashed, read from the last lines of its crashed instance's log (CONTRACT §2a).

A pure reader: log text in, at most one :class:`LogCause` out. It flattens JSON-structured
lines to their message, gives every line the level of the record it belongs to (a stack trace
inherits its header's), then walks back from the last line: the first line at error level (or
with no level) that a pattern recognises is the cause. Walking back stops at a line that shows
the process got past its trouble (a retry that connected, a server that started), so a retry
that later succeeded refines nothing; warnings and info lines never decide.

The patterns are the wording of the runtimes and servers themselves (Python, Java's deepest
``Caused by:``, Node.js, Go, Ruby, .NET, PHP, Rust; nginx, postgres, mysql, redis, kafka
clients), checked by the corpus in ``tests/unit/engine/crashlogs``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Final

from highpeaks_agent.engine import catalogue

#: How many of the last lines are read: a crash explains itself at the end of its log.
TAIL_LINES: Final = 200
#: How far above an exception's header its chained causes may be printed.
_TRACE_WINDOW: Final = 60


@dataclass(frozen=True, slots=True)
class LogCause:
    """The cause one log line shows: its code, the line, and what it names."""

    code: str
    line: str
    subject: str = ""
    """What the line names: the module, setting, path, port, host:port or exception type."""
    frame: str = ""
    """For an application error: the top frame of the application's own code."""
    host: str = ""
    """For a connection, credentials or TLS failure: the ``host:port`` (or host) it names."""


_I = re.I


class _Gated:
    """A pattern of many alternatives, searched only in lines that hold one of the literal
    words each alternative requires: a crash log is mostly lines no pattern can match, and a
    substring test is a hundred times cheaper than the regular expression."""

    __slots__ = ("_anchors", "_pattern")

    def __init__(
        self, alternatives: tuple[str, ...], flags: int, unanchored: tuple[str, ...]
    ) -> None:
        self._pattern = re.compile("|".join(f"(?:{a})" for a in alternatives), flags)
        branches = [branch for a in alternatives for branch in _top_level_branches(a)]
        anchors = {_required_literal(branch) for branch in branches}
        if None in anchors and unanchored:
            # branches that start with a group: words one of which each of them contains
            anchors = (anchors - {None}) | set(unanchored)
        # a branch without a literal it must contain: the pattern is always searched
        self._anchors = None if None in anchors else tuple(a for a in anchors if a)

    def search(self, text: str, lowered: str | None = None) -> re.Match[str] | None:
        """The pattern's match in ``text`` (``lowered``: the text in lower case, if known)."""
        if self._anchors is not None:
            lowered = text.lower() if lowered is None else lowered
            if not any(anchor in lowered for anchor in self._anchors):
                return None
        return self._pattern.search(text)

    def captured(self, text: str) -> str:
        """The first group any match in ``text`` captures: a line may match a branch without
        a group ("ActiveRecord::NoDatabaseError") before one that names the thing."""
        return next((g for m in self._pattern.finditer(text) for g in m.groups() if g), "")


def _top_level_branches(pattern: str) -> list[str]:
    """``a|b(c|d)`` → ``["a", "b(c|d)"]``: the alternatives outside groups and classes."""
    branches, depth, in_class, start, index = [], 0, False, 0, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            branches.append(pattern[start:index])
            start = index + 1
        index += 1
    branches.append(pattern[start:])
    return branches


_OPTIONAL = re.compile(r"(?:\\.|[^\\])(?:\?|\*|\{0,?\d*\})")
_NOT_LITERAL = re.compile(r"\\.|[.^$+?*{}|]|\{\d*,?\d*\}")


def _required_literal(branch: str) -> str | None:
    """The longest run of plain characters every match of ``branch`` contains, lower-cased;
    None when it has none of three characters or more (groups and classes are skipped)."""
    outside, depth, in_class, index = [], 0, False, 0
    while index < len(branch):
        char = branch[index]
        if char == "\\" and not in_class and depth == 0:
            outside.append(branch[index : index + 2])
            index += 2
            continue
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
            outside.append("\x00") if not in_class else None
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                outside.append("\x00")
        elif depth == 0:
            outside.append(char)
        index += 1
    plain = _NOT_LITERAL.sub("\x00", _OPTIONAL.sub("\x00", "".join(outside)))
    # a group or class followed by a quantifier left "\x00?" behind: the character before a
    # quantifier is optional only when it is a literal, which _OPTIONAL removed
    runs = [run for run in plain.split("\x00") if len(run.strip()) >= 3]
    return max(runs, key=len).lower() if runs else None


def _rx(*alternatives: str, flags: int = _I, unanchored: tuple[str, ...] = ()) -> _Gated:
    return _Gated(alternatives, flags, unanchored)


# --- the patterns, by code (first group that matched is the subject) ---------------------------

_MISSING_MODULE = _rx(
    r"No module named '?([\w.]+)'?",
    r"ImportError: cannot import name '?([\w.]+)'?",
    r"Cannot find module '([^']+)'",
    r"ERR_MODULE_NOT_FOUND\]?:? Cannot find (?:package|module) '([^']+)'",
    r"ClassNotFoundException:? ([\w.$]+)",
    r"NoClassDefFoundError:? ([\w./$]+)",
    r"Could not find or load main class ([\w.$]+)",
    r"error while loading shared libraries: ([^:]+): cannot open shared object file: No such",
    r"cannot load such file -- (\S+)",
    r"Could not find ([\w-]+-[\d.]+) in any of the sources",
    r"Bundler::GemNotFound",
    r"Class \"?([\w\\]+)\"? not found",
    r"Could not load file or assembly '([^',]+)",
    r"Failed opening required '([^']+)'",
)
_ENV = r"(?i:environment variable|env(?:ironment)? var(?:iable)?|env)"
_UNSET = (
    r"(?i:not set|not defined|missing|required|undefined|empty|must be (?:set|specified|provided))"
)
_ENV_MISSING = _rx(
    rf"{_ENV}s?\s+['\"`]?([A-Z][A-Z0-9_]{{2,}})['\"`]?\s+(?:is\s+|was\s+)?{_UNSET}",
    rf"['\"`]?\b([A-Z][A-Z0-9_]{{2,}})['\"`]?\s+{_ENV}\s+(?:is\s+|was\s+)?{_UNSET}",
    rf"(?i:missing|required|undefined|no)\s+(?:required\s+)?{_ENV}s?(?: set)?[:,]?\s+['\"`]?"
    r"([A-Z][A-Z0-9_]{2,})",
    r"required key ([A-Z][A-Z0-9_]+) missing value",
    r"\b([A-Z][A-Z0-9_]{2,}): unbound variable",
    r"Neither \$?([A-Z][A-Z0-9_]+) nor \$?[A-Z][A-Z0-9_]+ is set",
    r"KeyError: '([A-Z][A-Z0-9_]{2,})'",
    r"KeyError: key not found: \"([A-Z][A-Z0-9_]{2,})\"",
    r"\b([A-Z][A-Z0-9_]{2,})['\"`]? (?:is (?:not set|unset|required|missing|empty)|"
    r"must be (?:set|provided|specified|defined))\b",
    r"Could not resolve placeholder '([^']+)'",
    r"Missing required configuration \"([^\"]+)\" which has no default value",
    r"(?i:superuser password is not specified)",
    r"(?i:password option is not specified)",
    r"You need to specify one of (?:the following|MYSQL_ROOT_PASSWORD)",
    r"(?i:missing required (?:setting|config(?:uration)?|option|parameter|value)s?):? ['\"`]?"
    r"([A-Za-z_][\w.]+)",
    flags=0,
    # every branch above that starts with a group holds one of these words
    unanchored=(
        "env",
        "not set",
        "unset",
        "not defined",
        "undefined",
        "required",
        "missing",
        "empty",
        "must be",
        "not specified",
    ),
)
_FILE_MISSING = _rx(
    r"No such file or directory:? '([^']+)'",
    r"open ([/\w.\-]+): no such file or directory",
    r"FileNotFoundException:? ([/\w.\-]+) \(No such file or directory\)",
    r"ENOENT: no such file or directory, (?:open|stat|scandir|lstat) '([^']+)'",
    r"open\(\) \"([^\"]+)\" failed \(2: No such file or directory\)",
    r"could not open (?:configuration )?file \"?([^\":\s]+)\"?: No such file",
    r"(?:config|configuration|certificate|key|cert) file ['\"]?([/\w.\-]+)['\"]? (?:not found|"
    r"does not exist|is missing)",
    r"Can't open the log file: No such file",
    r"class path resource \[([^\]]+)\] cannot be opened because it does not exist",
    r"can't open config file '([^']+)': No such file",
)
_OUT_OF_MEMORY = _rx(
    r"java\.lang\.OutOfMemoryError(?:: ([\w ]+))?",
    r"JavaScript heap out of memory",
    r"Reached heap limit Allocation failed",
    r"Allocation failed - (?:JavaScript heap|process) out of memory",
    r"^fatal error: out of memory",
    r"Ineffective mark-compacts near heap limit",
    r"fatal error: runtime: out of memory",
    r"runtime: out of memory",
    r"^(?:\w+\.)*MemoryError\b",
    r"memory allocation of \d+ bytes failed",
    r"System\.OutOfMemoryException",
    r"Allowed memory size of \d+ bytes exhausted",
    r"Native memory allocation \(\w+\) failed",
    r"There is insufficient memory for the Java Runtime Environment",
    r"OOM command not allowed when used memory",
)
_DISK_FULL = _rx(
    r"No space left on device",
    r"\bENOSPC\b",
    r"\[Errno 28\]",
    r"could not extend file \"([^\"]+)\"",
    r"Disk quota exceeded",
    r"There is not enough space on the disk",
    r"MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist",
)
_PORT_IN_USE = _rx(
    r"address already in use",
    r"\bEADDRINUSE\b",
    r"Address in use",
    r"Port (\d+) (?:is|was) already in use",
    r"Only one usage of each socket address",
    r"Could not create server TCP listening socket .*:(\d+): bind: Address already in use",
)
_TLS = _rx(
    r"x509: ([\w ,'\"./:*-]+)",
    r"CERTIFICATE_VERIFY_FAILED",
    r"certificate verify failed",
    r"PKIX path building failed",
    r"unable to verify the first certificate",
    r"self[- ]signed certificate(?: in certificate chain)?",
    r"SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_HAS_EXPIRED|"
    r"ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT",
    r"SSLHandshakeException",
    r"tls: failed to verify certificate",
    r"The remote certificate is invalid",
    r"Hostname/IP does not match certificate's altnames",
    r"certificate has expired",
    r"certificate signed by unknown authority",
)
_AUTH = _rx(
    r"password authentication failed for user \"?([^\"\s]+)\"?",
    r"Access denied for user '([^']+)'",
    r"NOAUTH Authentication required",
    r"WRONGPASS",
    r"invalid username-password pair",
    r"SASL authentication failed",
    r"SaslAuthenticationException",
    r"Authentication failed",
    r"authentication failed",
    r"Login failed for user '([^']+)'",
    r"AuthenticationFailed",
    r"invalid (?:credentials|password|api key|token)",
    r"The security token included in the request is invalid",
    r"InvalidClientTokenId|SignatureDoesNotMatch|InvalidAccessKeyId",
    r"\b401 Unauthorized\b",
    r"Permission denied \(publickey",
    r"no pg_hba\.conf entry for host",
    r"ACCESS_REFUSED - Login was refused",
    flags=0,
)
_DATABASE_SCHEMA = _rx(
    r"database \"([^\"]+)\" does not exist",
    r"relation \"([^\"]+)\" does not exist",
    r"column \"([^\"]+)\" (?:of relation \"[^\"]+\" )?does not exist",
    r"Unknown database '([^']+)'",
    r"Table '([^']+)' doesn't exist",
    r"Unknown column '([^']+)'",
    r"no such table: ([\w.]+)",
    r"Schema-validation: missing (?:table|column) \[([^\]]+)\]",
    r"SchemaManagementException",
    r"Validate failed: Migrations? have failed validation",
    r"Detected failed migration",
    r"FlywayException|FlywayValidateException",
    r"Can't locate revision identified by '([^']+)'",
    r"PendingMigrationError|Migrations are pending",
    r"ActiveRecord::NoDatabaseError",
    r"Invalid object name '([^']+)'",
    r"relation \"([^\"]+)\" already exists",
    r"Table '([^']+)' already exists",
    r"You have \d+ unapplied migration",
)
_UNREACHABLE = _rx(
    r"connection refused",
    r"\bECONNREFUSED\b",
    r"ConnectException",
    r"no such host",
    r"\bENOTFOUND\b",
    r"\bEAI_AGAIN\b",
    r"Name or service not known",
    r"Temporary failure in name resolution",
    r"nodename nor servname provided",
    r"could not translate host name",
    r"UnknownHostException",
    r"i/o timeout",
    r"connection timed out",
    r"Connection timed out",
    r"\bETIMEDOUT\b",
    r"\bEHOSTUNREACH\b",
    r"No route to host",
    r"Can't connect to (?:MySQL|local MySQL|Redis) server",
    r"could not connect to server",
    r"Communications link failure",
    r"Error \d+ connecting to",
    r"could not be established\. Broker may not be available",
    r"NoBrokersAvailable",
    r"ServerSelectionTimeoutError|MongoServerSelectionError|MongoNetworkError",
    r"Failed to connect to [\w.-]+ port \d+",
    r"Unable to connect to",
    r"(?:cannot|can't|could not|unable to) reach\b",
    r"failed to connect to",
    r"Connection reset by peer",
    r"ECONNRESET",
    r"connect: network is unreachable",
    r"DNS resolution failed|getaddrinfo failed|Could not resolve host",
    r"Error connecting to",
)
_PERMISSION = _rx(
    r"Read-only file system",
    r"\bEROFS\b",
    r"Permission denied(?! \(publickey)(?! for (?:table|relation|schema|sequence|database|function))",
    r"\bEACCES\b",
    r"Operation not permitted",
    r"\bEPERM\b",
    r"AccessDeniedException:? ([/\w.\-]+)",
    r"UnauthorizedAccessException",
)
_CONFIG_INVALID = _rx(
    r"\byaml: (?:line \d+|unmarshal errors|did not find|could not find|mapping values|found)",
    r"yaml\.(?:scanner|parser|constructor)\.\w+Error",
    r"ScannerError|ParserError: while parsing",
    r"JSONDecodeError",
    r"Unexpected token .{1,20} in JSON at position \d+",
    r"invalid character '.{1,4}' (?:looking for|after|in)",
    r"toml: ",
    r"\[emerg\] (?:unknown directive|invalid|\"[\w_]+\" directive)",
    r"unknown directive \"[^\"]+\"",
    r"\[emerg\] .* in /\S+:\d+$",
    r"directive \"[^\"]+\" is not terminated",
    r"FATAL CONFIG FILE ERROR",
    r"Bad directive or wrong number of arguments",
    r"unknown variable '([^']+)'",
    r"configuration file \"([^\"]+)\" contains errors",
    r"invalid value for parameter \"([^\"]+)\"",
    r"unrecognized configuration parameter \"([^\"]+)\"",
    r"ConfigException: Invalid value",
    r"Failed to bind properties under '([^']+)'",
    r"invalid literal for int\(\) with base",
    r"strconv\.\w+: parsing \"[^\"]*\": invalid syntax",
    r"(?:error|failed) (?:parsing|to parse|to load|loading|reading|to read) "
    r"(?:the )?(?:config|configuration|settings)",
    r"invalid config(?:uration)?\b",
    r"unknown (?:configuration )?(?:option|flag|setting|field|key)",
    r"flag provided but not defined: (\S+)",
    r"unknown (?:shorthand )?flag:? ['\"]?(-[\w-]+)",
    r"Unrecognized (?:option|VM option) '?([\w+:=-]+)",
    r"Invalid (?:maximum|initial) heap size",
    r"mapping values are not allowed|found character that cannot start any token",
    r"could not find expected ':'|did not find expected key",
    r"SyntaxError: .* in JSON",
    r"Could not parse the JSON file",
    r"JsonReaderException: ",
    r"Cannot deserialize value of type",
    r"UnrecognizedPropertyException",
    unanchored=("error ", "failed "),
)

# what the subject of a line is, when the code's own pattern has no group for it
_HOST_PORT_PATTERNS: Final = (
    re.compile(r"dial tcp ([\w.-]+:\d+)"),
    re.compile(r"lookup ([\w.-]+)(?: on [\d.:]+)?: no such host"),
    re.compile(r"(?:ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN) ([\w.-]+(?::\d+)?)"),
    re.compile(r"connecting to ([\w.-]+:\d+)"),
    re.compile(r"Connection refused: ([\w.-]+)/[\d.]+:(\d+)"),
    re.compile(r"\(([\w.-]+)/[\d.]+:(\d+)\) could not be established"),
    re.compile(r"server on '([\w.-]+)'(?: \((\d+)\))?"),
    re.compile(r"(?:translate )?host name \"([\w.-]+)\""),
    re.compile(r"on host \"([\w.-]+)\".{0,60}?port (\d+)"),
    re.compile(r"server at \"([\w.:-]+)\"(?: \([\w.:]+\))?, port (\d+)"),
    re.compile(r"connect\(2\) for \"?([\w.-]+)\"?(?::| port )(\d+)"),
    re.compile(r"UnknownHostException:? ([\w.-]+)"),
    re.compile(r"Failed to connect to ([\w.-]+) port (\d+)"),
    re.compile(r"host='([\w.-]+)', port=(\d+)"),
    re.compile(r"://(?:[^/@\s]+@)?([\w.-]+(?::\d+)?)"),
    re.compile(r"(?:to|at|host) '?\"?([a-z][\w-]*(?:\.[\w-]+)*:\d{2,5})\b"),
    re.compile(r"\b([a-z][\w-]*(?:\.[\w-]+)*:\d{2,5})\b"),
    re.compile(r"\b(\d{1,3}(?:\.\d{1,3}){3}:\d{2,5})\b"),
)
_PORT = re.compile(r"(?:bind\(\) to [\w.\[\]:]*?:(\d+)|bind .*?:(\d+)|[Pp]ort (\d+)|:(\d{2,5})\b)")
_PATHS: Final = (
    re.compile(r"['\"`](/[\w.@+\-/]+)['\"`]"),
    re.compile(r"(?:^|[\s(=])(/[\w.@+\-/]+)"),
)
_SOURCE_FILE = re.compile(r"\.(?:rs|go|py|js|mjs|ts|java|kt|rb|cs|php|c|cc|cpp|h):\d+$")


# --- what decides, in the order a line is asked ---------------------------------------------

_BY_CODE: Final[tuple[tuple[str, _Gated], ...]] = (
    (catalogue.CRASH_MISSING_MODULE, _MISSING_MODULE),
    (catalogue.CRASH_OUT_OF_MEMORY, _OUT_OF_MEMORY),
    (catalogue.CRASH_DISK_FULL, _DISK_FULL),
    (catalogue.CRASH_PORT_IN_USE, _PORT_IN_USE),
    (catalogue.CRASH_CONFIG_MISSING, _ENV_MISSING),
    (catalogue.CRASH_TLS_ERROR, _TLS),
    (catalogue.CRASH_AUTH_FAILED, _AUTH),
    (catalogue.CRASH_DATABASE_SCHEMA, _DATABASE_SCHEMA),
    (catalogue.CRASH_CONFIG_MISSING, _FILE_MISSING),
    (catalogue.CRASH_DEPENDENCY_UNREACHABLE, _UNREACHABLE),
    (catalogue.CRASH_PERMISSION_DENIED, _PERMISSION),
    (catalogue.CRASH_CONFIG_INVALID, _CONFIG_INVALID),
)

# the headers of an unhandled exception or panic, by runtime; group 1 is the exception type
_NODE_PLAIN_ERROR = re.compile(r"^(Error)(?: \[\w+\])?: .+")
_APP_ERROR: Final = (
    re.compile(r"^panic: (.+)"),  # Go
    re.compile(r"^fatal error: (.+)"),  # Go runtime
    re.compile(r"thread '[^']*' panicked at (.+)"),  # Rust
    re.compile(r"Unhandled [Ee]xception[.:]\s*([\w.`]+(?:Exception|Error)\w*)"),  # .NET
    re.compile(r"PHP Fatal error:\s+Uncaught ([\w\\]+)"),  # PHP
    re.compile(r"Exception in thread \"[^\"]*\" ([\w.$]+)"),  # Java
    re.compile(r"^Caused by: ([\w.$]+)"),  # Java
    re.compile(r":in [`'][^']*': .* \(([A-Z]\w*(?:::\w+)*)\)$"),  # Ruby
    re.compile(r"^Uncaught (\w+(?:Error|Exception))"),  # Node / PHP
    _NODE_PLAIN_ERROR,
    re.compile(r"^(?:[\w]+\.)*([A-Z]\w*(?:Error|Exception))(?: \[\w+\])?(?::|$)"),  # Py/Node/Java
    re.compile(r"^([\w.]+(?:Error|Exception))\b:"),
)
_RUBY_FRAME = re.compile(r"^(\S+:\d+:in [`'][^']*')")
_TRACE_START = re.compile(r"^(Traceback \(most recent call last\)|goroutine \d+ \[)")

_GO_FRAME = re.compile(r"^([\w./-]+(?:\.\(\*?\w+\))?(?:\.[\w.]+)?\(.*\))$")
# a Go frame in the standard library: no dot in the package path's first element
_GO_STDLIB = re.compile(r"^(?!main\.)[a-z0-9_]+(?:/[a-z0-9_]+)*\.[\w(*).]+\(")
# frames, by runtime: (pattern, is it library code rather than the application's own)
_FRAMES: Final = (
    re.compile(r'^\s*File "([^"]+)", line (\d+), in (\S+)'),  # Python
    re.compile(r"^\s+at ([\w.$<>]+)\(([^)]*)\)"),  # Java
    re.compile(r"^\s+at (?:async )?(\S+) \(([^)]+)\)"),  # Node.js
    re.compile(r"^\s+at ([^\s(]+:\d+:\d+)$"),  # Node.js, anonymous
    _GO_FRAME,
    re.compile(r"^\s+at ([\w.`<>]+\(.*\))(?: in (.+))?"),  # .NET
    re.compile(r"^\s*(?:from )?([\w./-]+\.rb:\d+:in .+)"),  # Ruby
    re.compile(r"^#\d+ ([/\w.-]+\(\d+\)): .+"),  # PHP
    re.compile(r"^\s+\d+: (\S+)"),  # Rust backtrace
)
_LIBRARY = re.compile(
    r"site-packages|dist-packages|/lib/python|node_modules|node:internal|(?:^|\s)internal/|"
    r"^(?:java|javax|jdk|sun|com\.sun|org\.springframework|org\.apache|kotlin|scala)\.|"
    r"^runtime\.|/usr/local/go/|^System\.|^Microsoft\.|/gems/|/vendor/|<frozen |"
    r"^(?:std|core|alloc)::|rust_begin_unwind|__rust",
    _I,
)

# --- levels -----------------------------------------------------------------------------------

_QUIET_LEVELS = frozenset(
    {"warn", "warning", "info", "note", "notice", "debug", "trace", "verbose"}
)
# a record's level, looked for near the start of the line (searched up to _LEVEL_SPAN): an
# upper-case word, then a tagged one (level=warn, [warn]), then a "warn:" prefix
_LEVEL_SPAN = 80
_LEVEL_PATTERNS: Final = (
    re.compile(
        r"(?:\b|\[)(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|CRIT|PANIC|"
        r"EMERG|ALERT|SEVERE|LOG)\b"
    ),
    re.compile(
        r"(?:l(?:e)?v(?:e)?l=\"?|\[)(?i:(trace|debug|info|note|notice|warn|warning|error|fatal|"
        r"crit|alert|emerg|panic))\b"
    ),
    re.compile(r"[\s:](trace|debug|info|notice|warn|warning):\s"),
)
_EXCEPTION_HEAD = re.compile(r"^(?:Traceback \(most recent|[\w.$]+(?:Exception|Error)(?::|$))")
_GLOG_LEVEL = re.compile(r"^([IWEF])\d{4} ")
_GLOG_NAMES: Final = {"I": "info", "W": "warning", "E": "error", "F": "fatal"}
# Ruby's Logger: "W, [2018-02-19T03:07:16.099853 #4775]  WARN -- : ...", often behind a prefix
_RUBY_LOGGER_LEVEL = re.compile(r"\b([DIWEFA]), \[\d{4}-\d\d-\d\dT")
_RUBY_LOGGER_NAMES: Final = {**_GLOG_NAMES, "D": "debug", "A": "fatal"}
# .NET's console logger: "warn: Category[0]", the message indented on the lines below
_DOTNET_LEVEL = re.compile(r"^(trce|dbug|info|warn|fail|crit): ")
_DOTNET_NAMES: Final = {
    "trce": "trace",
    "dbug": "debug",
    "info": "info",
    "warn": "warn",
    "fail": "error",
    "crit": "critical",
}
# an indented line that starts with its own level is a record, not a frame of the one above
_INDENTED_LEVEL = re.compile(r"^\s+\[?(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|FATAL)\b")
_CONTINUATION = re.compile(
    r"^(?:\s|Caused by:|\.\.\. \d+ more|During handling of the above|"
    r"The above exception was|\s*at |goroutine \d+|created by |\S+\.go:\d+)"
)
# a line showing the process past its trouble: what was refused before has now worked
_RECOVERED = _rx(
    r"\b(?:successfully )?connected to\b",
    r"connection (?:established|restored|succeeded|opened)",
    r"\blistening on\b",
    r"\bready to accept connections\b",
    r"(?<!is the )\bserver (?:is )?(?:running|started|listening)\b",
    r"\bStarted \w+ in [\d.]+ seconds",
    r"\bstartup complete\b",
    r"\bapplication startup complete\b",
    r"\bnow listening on\b",
)

_ERRORISH = re.compile(
    r"error|fail|exception|refused|denied|unable|cannot|could not|panic|fatal|timed out", re.I
)


def _recovered(line: str) -> bool:
    """A line saying the process got past its trouble; a question ("Is the server running on
    that host?", libpq's hint under a refused connection) says nothing of the kind."""
    return (
        _RECOVERED.search(line) is not None
        and not _ERRORISH.search(line)
        and not line.rstrip().endswith("?")
    )


_JSON_MESSAGE_KEYS = (
    "msg",
    "message",
    "event",
    "error",
    "err",
    "exception",
    "stack_trace",
    "stacktrace",
    "stack",
)
_JSON_LEVEL_KEYS = ("level", "severity", "lvl", "loglevel", "log.level", "levelname")


_WARNINGS = frozenset({"warn", "warning"})


class _Levels:
    """Each line's record level, worked out only for the lines the reader visits (a tail is
    read from its end and most of it never is): a trace's frames inherit their header's
    level, and an exception printed right after a warning belongs to that warning."""

    def __init__(self, flat: list[tuple[str, str | None, bool]]) -> None:
        self._flat = flat
        self._known: dict[int, str | None] = {}

    def __getitem__(self, index: int) -> str | None:
        if index < 0:
            return None
        if index not in self._known:
            # a run of frames inherits from its header: work the run out from its top
            top = index
            while top > 0 and top - 1 not in self._known and self._inherits(top):
                top -= 1
            for position in range(top, index + 1):
                self._known[position] = self._level(position)
        return self._known[index]

    def _inherits(self, index: int) -> bool:
        text, _, from_json = self._flat[index]
        return not from_json and (
            text[0] in " \t"
            or _CONTINUATION.match(text) is not None
            or self._ends_python_trace(index)
            or _EXCEPTION_HEAD.match(text) is not None
        )

    def _level(self, index: int) -> str | None:
        text, json_level, from_json = self._flat[index]
        if from_json:
            return json_level
        if self._ends_python_trace(index):
            return self[index - 1]  # the exception that ends a traceback: the trace's level
        own = _text_level(text)
        if own is not None:
            return own
        if _EXCEPTION_HEAD.match(text):
            previous = self[index - 1]
            return previous if previous in _WARNINGS else None
        return self[index - 1] if _CONTINUATION.match(text) else None

    def _ends_python_trace(self, index: int) -> bool:
        """A line that is not indented, after the indented frames of a Python traceback."""
        text = self._flat[index][0]
        if text[0] in " \t" or index == 0 or self._flat[index - 1][0][0] not in " \t":
            return False
        above = index - 1
        while above > 0 and self._flat[above][0][0] in " \t":
            above -= 1
        return self._flat[above][0].startswith("Traceback (most recent")


def read_cause(text: str) -> LogCause | None:
    """The cause the log's last lines show, or None when they show none (or a recovery)."""
    flat = [f for f in _flattened(text.splitlines()[-TAIL_LINES:]) if f[0].strip()]
    lines = [f[0] for f in flat]
    levels = _Levels(flat)
    app_error: LogCause | None = None
    app_error_at = len(lines)
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        if app_error is not None and index < app_error_at - _TRACE_WINDOW:
            break  # an older line is not part of the trace that ended the process
        if _recovered(line):
            break  # what came before was got past
        if levels[index] in _QUIET_LEVELS:
            continue
        if (cause := _specific_cause(line)) is not None:
            return _with_record(cause, lines, index)
        if app_error is None and (app_error := _app_error(lines, index)) is not None:
            app_error_at = index
    return app_error


def _flattened(raw: list[str]) -> Iterator[tuple[str, str | None, bool]]:
    """Each line's text, its JSON level and whether it came from a JSON record."""
    for line in raw:
        stripped = line.strip()
        if stripped.startswith("{") and stripped.endswith("}"):
            record = _json_record(stripped)
            if record is not None:
                for text, level in _record_lines(record):
                    yield text, level, True
                continue
        yield line.rstrip(), None, False


def _json_record(text: str) -> dict[str, object] | None:
    try:
        record = json.loads(text)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _record_lines(record: dict[str, object]) -> Iterator[tuple[str, str | None]]:
    """A JSON record's message and error as one line, then any stack trace it carries."""
    record = {str(k).lower(): v for k, v in record.items()}  # "Level", "Message" alike
    level = next((str(record[k]).lower() for k in _JSON_LEVEL_KEYS if k in record), None)
    texts = [
        str(v) for k in _JSON_MESSAGE_KEYS if isinstance(v := record.get(k), str) and v.strip()
    ]
    single = [t for t in texts if "\n" not in t]
    if single:
        yield ": ".join(single), level
    for text in texts:
        if "\n" in text:  # a stack trace carried in one field
            for sub in text.splitlines():
                yield sub.rstrip(), level


def _text_level(text: str) -> str | None:
    if text[0] in " \t":
        # a frame or a wrapped line continues its record, unless it starts with a level
        indented = _INDENTED_LEVEL.match(text)
        return indented.group(1).lower() if indented else None
    if match := _GLOG_LEVEL.match(text):
        return _GLOG_NAMES[match.group(1)]
    if match := _DOTNET_LEVEL.match(text):
        return _DOTNET_NAMES[match.group(1)]
    if ", [" in text[:_LEVEL_SPAN] and (match := _RUBY_LOGGER_LEVEL.search(text, 0, _LEVEL_SPAN)):
        return _RUBY_LOGGER_NAMES[match.group(1)]
    for pattern in _LEVEL_PATTERNS:
        if match := pattern.search(text, 0, _LEVEL_SPAN):
            level = match.group(1).lower()
            return "info" if level == "log" else level
    return None


def _specific_cause(text: str) -> LogCause | None:
    lowered = text.lower()
    for code, pattern in _BY_CODE:
        if pattern.search(text, lowered):
            subject = pattern.captured(text)
            host = host_port(text) if code in _LINKED else ""
            return LogCause(code, text.strip(), _subject(code, text, subject), host=host)
    return None


def _with_record(cause: LogCause, lines: list[str], index: int) -> LogCause:
    """A cause whose line names no subject (or host) takes it from the rest of its record:
    libpq's "Is the server running on host ... port 5432?" under its error, a .NET outer
    exception above its inner one, a wrapped line."""
    wants_host = cause.code in _LINKED and not cause.host
    if cause.subject and not wants_host:
        return cause
    record = " ".join(line.strip() for line in _record(lines, index))
    return replace(
        cause,
        subject=cause.subject or _subject(cause.code, record, ""),
        host=host_port(record) if wants_host else cause.host,
    )


def _record(lines: list[str], index: int, reach: int = 3) -> list[str]:
    """The cause line first, then the lines of its record around it that are not frames."""
    start = index
    while start > 0 and index - start < reach and lines[start][:1].isspace():
        start -= 1
    end = index
    while end + 1 < len(lines) and end - index < reach and lines[end + 1][:1].isspace():
        end += 1
    around = [*lines[start:index], *lines[index + 1 : end + 1]]
    return [lines[index], *(t for t in around if not _FRAME_LIKE.search(t))]


# a frame of any runtime: its "file.ext:line" would read as a host:port or a port
_FRAME_LIKE = re.compile(
    r"^\s*(?:at |from |File \")|\.(?:rs|go|py|js|mjs|ts|java|kt|scala|rb|cs|php|ex|exs|c|cc|cpp|h)"
    r":\d+"
)


_LINKED: Final = frozenset(
    {
        catalogue.CRASH_DEPENDENCY_UNREACHABLE,
        catalogue.CRASH_AUTH_FAILED,
        catalogue.CRASH_TLS_ERROR,
    }
)


def _subject(code: str, text: str, found: str) -> str:
    """What the line names, when its pattern did not capture it."""
    if code in _LINKED and code != catalogue.CRASH_AUTH_FAILED:
        return host_port(text) or ("" if code == catalogue.CRASH_DEPENDENCY_UNREACHABLE else found)
    if found:
        return found.strip().rstrip(".,;:")
    if code in (catalogue.CRASH_PORT_IN_USE,):
        return _port(text)
    if code in (
        catalogue.CRASH_PERMISSION_DENIED,
        catalogue.CRASH_DISK_FULL,
        catalogue.CRASH_CONFIG_MISSING,
        catalogue.CRASH_CONFIG_INVALID,
    ):
        if "bind" in text.lower() and (port := _port(text)):
            return port
        return next((m.group(1) for p in _PATHS if (m := p.search(text))), "")
    return ""


def dependency_hosts(texts: Iterable[str]) -> list[str]:
    """The hosts the causes of these logs name for a connection, credentials or TLS failure,
    each once, in order: what a live read follows to its Service."""
    hosts: dict[str, None] = {}
    for text in texts:
        cause = read_cause(text)
        if cause is not None and cause.host:
            hosts[cause.host] = None
    return list(hosts)


def host_port(text: str) -> str:
    """The ``host:port`` (or host) a connection line names, else ""."""
    for pattern in _HOST_PORT_PATTERNS:
        if match := pattern.search(text):
            groups = [g for g in match.groups() if g]
            if not groups or groups[0].lower() in ("tcp", "udp", "http", "https"):
                continue
            if _SOURCE_FILE.search(":".join(groups[:2])):
                continue  # a source position (main.rs:10), not an address
            return ":".join(groups[:2])
    return ""


def _port(text: str) -> str:
    match = _PORT.search(text)
    return next((g for g in match.groups() if g), "") if match else ""


def _app_error(lines: list[str], index: int) -> LogCause | None:
    """An unhandled exception's or panic's header at ``index``, with the app's top frame."""
    text = lines[index].strip()
    for pattern in _APP_ERROR:
        if match := pattern.search(text):
            if pattern is _NODE_PLAIN_ERROR and not _frame_follows(lines, index):
                continue  # a plain "Error: ..." line is an unhandled Error only with its frames
            kind = match.group(1).strip()
            ruby = _RUBY_FRAME.match(text)
            frame = ruby.group(1) if ruby else _top_frame(lines, index)
            return LogCause(catalogue.CRASH_APP_ERROR, text, kind, frame)
    return None


def _frame_follows(lines: list[str], index: int) -> bool:
    return index + 1 < len(lines) and lines[index + 1].lstrip().startswith("at ")


def _top_frame(lines: list[str], index: int) -> str:
    """The innermost frame of the application's own code near the exception at ``index``.

    Python prints frames before the exception, innermost last; the other runtimes print them
    after it, innermost first.
    """
    before = lines[max(0, index - 60) : index]
    if any(_TRACE_START.match(t) for t in before) and any(
        t.lstrip().startswith("File ") for t in before
    ):
        for text in reversed(before):
            frame = _frame(text)
            if frame:
                return frame
    for line in lines[index + 1 : index + 60]:
        frame = _frame(line)
        if frame:
            return frame
    return ""


def _frame(text: str) -> str:
    for pattern in _FRAMES:
        if match := pattern.match(text):
            frame = " ".join(g for g in match.groups() if g)
            if pattern is _GO_FRAME and (_GO_STDLIB.match(frame) or frame.startswith("panic(")):
                return ""
            return "" if _LIBRARY.search(frame) else frame.strip()
    return ""
