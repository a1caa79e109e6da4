"""Hypothesis strategies shared by the robustness tests."""

from __future__ import annotations

import string
from dataclasses import dataclass, field

from hypothesis import strategies as st

#: Arbitrary JSON-like values: what a mistyped manifest or a hostile client may send.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=25,
)

# --- planted secrets (CONTRACT §3) ---------------------------------------------------------

#: No "0": uids and timestamps in the output are runs of zeros, and a secret that shrank to
#: zeros would seem to leak through them.
_ALNUM = string.ascii_letters + "123456789"
_BASE64 = string.ascii_letters + string.digits[1:] + "+/"


@dataclass(frozen=True)
class Planted:
    """One secret as it appears in text (a log line, a message) and as a command line.

    ``secrets`` are the values that must never come out; ``argv`` is the same secret as
    container ``command`` + ``args`` items (``program`` names the image when only ``args`` are
    given); ``in_question`` says whether a user could paste it into a question and expect it
    redacted without the objects (every shape but a bare known value); ``env`` is the
    variable whose value the secret is, for secrets known only from the objects.
    """

    shape: str
    text: str
    secrets: tuple[str, ...]
    argv: tuple[str, ...] = ()
    program: str = ""
    in_question: bool = True
    env: dict[str, str] = field(default_factory=dict)


def _chars(alphabet: str, size: int, max_size: int | None = None) -> st.SearchStrategy[str]:
    """Random text over ``alphabet``, drawn as indices: Hypothesis seeds ``st.text`` with string
    literals of the code under test, and a secret that spelled part of a suggestion would seem
    to leak through it."""
    indices = st.lists(st.integers(0, len(alphabet) - 1), min_size=size, max_size=max_size or size)
    return indices.map(lambda picked: "".join(alphabet[i] for i in picked))


secret_values = _chars(_ALNUM, 12, 32)

#: Variable names that look secret, in the spellings CONTRACT §3 lists.
SECRET_NAMES = (
    "DB_PASSWORD",
    "PGPASSWORD",
    "MYSQL_ROOT_PW",
    "MYSQL_PASSWD",
    "REDIS_PASS",
    "ROOT_PWD",
    "STRIPE_APIKEY",
    "SSH_PRIVATE",
    "SIGNING_PRIVATE_KEY",
    "API_TOKEN",
    "CLIENT_SECRET",
    "GOOGLE_CREDENTIALS",
    "SECRET_KEY_BASE",
    "ENCRYPTION_KEY",
    "dbPassword",
    "apiKey",
    "db.password",
    "x-api-key",
)


@st.composite
def _bearer(draw: st.DrawFn) -> Planted:
    value = draw(secret_values)
    text = f"Authorization: {draw(st.sampled_from(['Bearer', 'bearer', 'Token']))} {value}"
    return Planted("bearer", text, (value,), ("--header", text))


@st.composite
def _jwt(draw: st.DrawFn) -> Planted:
    parts = [draw(_chars(_ALNUM + "-_", 10, 40)) for _ in range(3)]
    token = f"eyJ{parts[0]}.eyJ{parts[1]}.{parts[2]}"
    return Planted("jwt", f"rejected token {token}", tuple(parts), ("--id-token", token))


@st.composite
def _url(draw: st.DrawFn) -> Planted:
    password = draw(_chars(_ALNUM + "-._~!$*+@:", 10, 30))
    user = draw(st.sampled_from(["", "app", "orders_rw"]))
    scheme = draw(st.sampled_from(["postgres", "redis", "amqp", "mongodb+srv", "https"]))
    url = f"{scheme}://{user}:{password}@db.shop.svc:5432/app"
    return Planted("url", f"connecting to {url}", (password,), ("--database-url", url))


@st.composite
def _aws(draw: st.DrawFn) -> Planted:
    key_id = "AKIA" + draw(_chars(string.ascii_uppercase + "123456789", 16))
    secret = draw(_chars(_BASE64, 40))
    text = draw(
        st.sampled_from(
            [
                f"{key_id}:{secret}",
                f"using key {key_id} and secret {secret}",
                f"aws_secret_access_key={secret} aws_access_key_id={key_id}",
            ]
        )
    )
    return Planted("aws", text, (key_id[4:], secret), (key_id, secret))


@st.composite
def _vendor_token(draw: st.DrawFn) -> Planted:
    token = draw(
        st.sampled_from(["ghp_", "gho_", "ghs_", "github_pat_", "glpat-", "xoxb-1234-", "xoxp-"])
    )
    value = draw(_chars(_ALNUM, 36, 40))
    return Planted("vendor-token", f"auth with {token}{value} failed", (value,), (token + value,))


@st.composite
def _private_key(draw: st.DrawFn) -> Planted:
    label = draw(st.sampled_from(["RSA PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY"]))
    lines = draw(st.lists(_chars(_BASE64, 64), min_size=2, max_size=6))
    last = draw(_chars(_BASE64 + "=", 8, 63))
    body = [*lines, last]
    begin, end = f"-----BEGIN {label}-----", f"-----END {label}-----"
    cut = draw(st.sampled_from(["whole", "no-begin", "no-end"]))
    shown = [begin, *body, end]
    if cut == "no-begin":  # a log tail that starts inside the key
        shown = [body[0][draw(st.integers(0, 40)) :], *body[1:], end]
    elif cut == "no-end":
        shown = [begin, *body]
    text = "\n".join(shown)
    return Planted(f"private-key-{cut}", text, tuple(body), ("--tls-key", text))


@st.composite
def _assignment(draw: st.DrawFn) -> Planted:
    name, value = draw(st.sampled_from(SECRET_NAMES)), draw(secret_values)
    form = draw(
        st.sampled_from(["{n}={v}", "{n}: {v}", '{n}="{v}"', "{n}='{v}'", '{{"{n}":"{v}"}}'])
    )
    text = form.format(n=name, v=value)
    return Planted("assignment", text, (value,), ("env", text))


@st.composite
def _flag(draw: st.DrawFn) -> Planted:
    flag = draw(
        st.sampled_from(
            ["--password", "--db-password", "--token", "--api-key", "--client-secret", "-password"]
        )
    )
    value = draw(secret_values)
    if draw(st.booleans()):
        return Planted(
            "flag", f"exec app {flag}={value} --port 80", (value,), (flag + "=" + value,)
        )
    return Planted("flag", f"exec app {flag} {value} --port 80", (value,), (flag, value))


@st.composite
def _mysql(draw: st.DrawFn) -> Planted:
    program = draw(st.sampled_from(["mysql", "mysqldump", "mariadb", "/usr/bin/mysql"]))
    value = draw(secret_values)
    args = ("-h", "db", "-uroot", f"-p{value}", "orders")
    text = f"+ {program} {' '.join(args)}"
    how = draw(st.sampled_from(["command", "shell", "image"]))
    if how == "shell":
        return Planted("mysql", text, (value,), ("sh", "-c", text[2:]))
    if how == "image":  # args only: the image's entrypoint is mysql
        return Planted("mysql", text, (value,), args, program="docker.io/library/mysql:8.4")
    return Planted("mysql", text, (value,), (program, *args))


@st.composite
def _pgpassword(draw: st.DrawFn) -> Planted:
    value = draw(secret_values)
    text = f"PGPASSWORD={value} psql -h db -U app"
    return Planted("pgpassword", text, (value,), ("env", f"PGPASSWORD={value}", "psql"))


@st.composite
def _password_word(draw: st.DrawFn) -> Planted:
    # "password X" reads as English unless X has a digit, a symbol or an inner capital
    value = draw(secret_values) + draw(st.sampled_from("123456789")) + draw(_chars(_ALNUM, 0, 6))
    word = draw(st.sampled_from(["password", "Password", "passwd", "pwd", "password is"]))
    return Planted("password-word", f"login failed with {word} {value}", (value,), ())


@st.composite
def _known_value(draw: st.DrawFn) -> Planted:
    """A secret without any shape: only the objects (an env var's value) tell it apart."""
    name, value = draw(st.sampled_from(SECRET_NAMES)), draw(secret_values)
    text = f"connected to the cache as {value} after 3 retries"
    return Planted(
        "known-value", text, (value,), ("--seed", value), in_question=False, env={name: value}
    )


planted_secrets: st.SearchStrategy[Planted] = st.one_of(
    _bearer(),
    _jwt(),
    _url(),
    _aws(),
    _vendor_token(),
    _private_key(),
    _assignment(),
    _flag(),
    _mysql(),
    _pgpassword(),
    _password_word(),
    _known_value(),
)

_WORDS = (
    "request",
    "handler",
    "served",
    "in",
    "ms",
    "retry",
    "upstream",
    "GET",
    "/api/v1/orders",
    "200",
    "worker",
    "started",
    "queue",
    "depth",
    "42",
    "info",
    "debug",
)

filler = st.lists(st.sampled_from(_WORDS), max_size=80).map(" ".join)


@st.composite
def text_around(draw: st.DrawFn, planted: Planted) -> str:
    """``planted.text`` at a random place of a long line (often across the 300th character).

    A key's tail stays at the start, where a text cut to its last bytes puts it.
    """
    if planted.shape == "private-key-no-begin":
        return f"{planted.text}\n{draw(filler)}"
    before = draw(filler)
    if draw(st.booleans()):
        before = (before + " ") * draw(st.integers(1, 8))
    return f"{before} {planted.text} {draw(filler)}".strip()


@st.composite
def log_around(draw: st.DrawFn, planted: Planted) -> str:
    """A multi-line log holding ``planted`` on one (long) line, or at its start when it is a
    key's tail (what a log cut to its last bytes looks like)."""
    lines = draw(st.lists(filler, max_size=8))
    if planted.shape == "private-key-no-begin":
        lines.insert(0, planted.text)
    else:
        lines.insert(draw(st.integers(0, len(lines))), draw(text_around(planted)))
    lines.extend(
        draw(st.lists(st.sampled_from(["ERROR: cannot reach db", "panic: boom"]), max_size=2))
    )
    return "\n".join(lines) + "\n"
