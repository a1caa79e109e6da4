"""Redaction (CONTRACT §3): planted secrets of every listed kind never survive."""

from __future__ import annotations

import base64

import pytest

from highpeaks_agent.engine.redact import (
    REDACTED,
    Redactor,
    collect_secret_values,
    is_secret_name,
    redact_text,
    redactor_for,
)

PLANTED = {
    "bearer": (
        "Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123",
        "abcdefghijklmnopqrstuvwxyz0123",
    ),
    "jwt": (
        "token was eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzcmUifQ.c2lnbmF0dXJlLWhlcmU rejected",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzcmUifQ.c2lnbmF0dXJlLWhlcmU",
    ),
    "basic-auth-url": (
        "dial postgres://orders:Sup3rS3cret@db.orders:5432/app failed",
        "Sup3rS3cret",
    ),
    "aws-key-id": ("using key AKIAIOSFODNN7EXAMPLE for s3", "AKIAIOSFODNN7EXAMPLE"),
    "aws-secret": (
        "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    "github": (
        "clone with ghp_1234567890abcdefghijklmnopqrstuvwxyzAB",
        "ghp_1234567890abcdefghijklmnopqrstuvwxyzAB",
    ),
    "github-pat": (
        "GITHUB=github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
    ),
    "gitlab": ("glpat-AbCdEfGhIjKlMnOpQrSt12 expired", "glpat-AbCdEfGhIjKlMnOpQrSt12"),
    "slack": ("posting with xoxb-123456789012-abcdefghijkl", "xoxb-123456789012-abcdefghijkl"),
    "private-key": (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEA7",
    ),
    "password-assignment": ("DB_PASSWORD=correct-horse-battery", "correct-horse-battery"),
    "json-key": ('{"apiKey": "k-12345-abcde"}', "k-12345-abcde"),
    "flag": ("exec: app --client-secret=s3cr3t-value --port 80", "s3cr3t-value"),
    "url-empty-user": ("connect redis://:Redis-pw-77@cache:6379/0 refused", "Redis-pw-77"),
    "url-password-with-at": ("amqp://app:p@ss-w0rd@mq:5672", "ss-w0rd"),
    "secret-name-pw": ("MYSQL_ROOT_PW=rootpw-4417 exported", "rootpw-4417"),
    "secret-name-passwd": ("DB_PASSWD: passwd-value-9", "passwd-value-9"),
    "secret-name-pass": ("REDIS_PASS=redis-pass-31", "redis-pass-31"),
    "secret-name-apikey": ("STRIPE_APIKEY=sk_live_1a2b3c", "sk_live_1a2b3c"),
    "secret-name-private": ("SSH_PRIVATE=ssh-priv-value-5", "ssh-priv-value-5"),
    "pair-inside-value": ("probe failed: DB_PASSWORD=inner-pw-8 at init", "inner-pw-8"),
    "flag-separate-value": ("exec: app --db-password Hunter2-xyz --port 80", "Hunter2-xyz"),
    "token-flag": ("exec: app --token abc123def --port 80", "abc123def"),
    "mysql-short-p": ("+ mysql -h db -uroot -pS3cretRoot orders", "S3cretRoot"),
    "mysqldump-short-p": ("mysqldump -u app -p'quoted pw' shop", "quoted pw"),
    "pgpassword": ("PGPASSWORD=pg-secret-12 psql -h db -U app", "pg-secret-12"),
    "password-word": ("login failed with password hunter2 for app", "hunter2"),
    "password-is": ("the password is Tr0ub4dor.", "Tr0ub4dor"),
    "pwd-word": ("using pwd x9-secret now", "x9-secret"),
    "aws-secret-after-id": (
        "AKIAIOSFODNN7EXAMPLE:wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    "escaped-json": ('{"log":"{\\"password\\":\\"esc-pw-1\\"}"}', "esc-pw-1"),
    "private-key-without-end": (
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n(log cut here)",
        "b3BlbnNzaC1rZXktdjEAAAAA",
    ),
    "private-key-without-begin": (
        "tail of the log\nQUJDREVGR0hJSktMTU5PUFFS\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----",
        "QUJDREVGR0hJSktMTU5PUFFS",
    ),
    "private-key-timestamped-tail": (
        "2026-11-20T10:00:00Z F QUJDREVGR0hJSktMTU5PUFFS\n2026-11-20T10:00:00Z F -----END PRIVATE KEY-----",
        "QUJDREVGR0hJSktMTU5PUFFS",
    ),
}


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_pattern_redaction_removes_planted_secret(kind: str) -> None:
    text, secret = PLANTED[kind]
    out = redact_text(text)
    assert secret not in out
    assert "[REDACTED" in out


def test_harmless_text_is_untouched() -> None:
    for text in (
        'Readiness probe failed: Get "http://10.244.1.10:8080/ready": dial tcp: connection refused',
        "Back-off restarting failed container orders-api in pod orders-api-z96dz2rfzm-640cd",
        'Failed to pull image "docker.io/example/worker:2.0.0-typo": not found',
        "0/3 nodes are available: 3 Insufficient cpu.",
        'secret "db-credentials" not found',
    ):
        assert redact_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "password reset link sent to ops@example.com",
        'FATAL: password authentication failed for user "postgres"',
        "Password Expired for account app, please change it",
        "password must be at least 12 characters",
        "wrong password 3 times",
        "cache key=orders/42 miss",
        "--key /etc/tls/tls.key --cert /etc/tls/tls.crt",
        "BYPASS_CACHE=true PASSIVE_MODE=on compass=north",
        "docker run -p8080:80 nginx",
        "redis-cli -p 6379 ping",
        "mysql connection to db:3306 established",
        "KEY_FILE=/etc/keys/app.pem PUBLIC_KEY=ssh-ed25519",
        "PWD=/app OLDPWD=/",
        "GET http://10.0.0.7:8080/health?next=/login 200",
    ],
)
def test_benign_look_alikes_are_kept(text: str) -> None:
    assert redact_text(text) == text


def test_redaction_is_stable_when_applied_again() -> None:
    for text, _secret in PLANTED.values():
        once = redact_text(text)
        assert redact_text(once) == once


def test_known_values_from_env_are_redacted_in_logs() -> None:
    pod = {
        "kind": "Pod",
        "spec": {
            "containers": [
                {
                    "name": "api",
                    "env": [
                        {"name": "REDIS_PASSWORD", "value": "example-not-a-real-secret-123"},
                        {"name": "LOG_LEVEL", "value": "debug"},
                    ],
                }
            ]
        },
    }
    redactor = redactor_for([pod])
    line = "auth failed for redis using example-not-a-real-secret-123 at level debug"
    assert redactor.text(line) == f"auth failed for redis using {REDACTED} at level debug"
    cleaned = redactor.data(pod)
    env = cleaned["spec"]["containers"][0]["env"]
    assert env[0]["value"] == REDACTED
    assert env[1]["value"] == "debug"


def test_secret_objects_lose_data_and_decoded_values_are_known() -> None:
    secret = {"kind": "Secret", "data": {"password": base64.b64encode(b"hunter2-long").decode()}}
    assert "hunter2-long" in collect_secret_values([secret])
    assert Redactor().data(secret)["data"] == {"password": REDACTED}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("DB_PASSWORD", True),
        ("API_KEY", True),
        ("GITHUB_TOKEN", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("GOOGLE_APPLICATION_CREDENTIALS_JSON", True),
        ("LOG_LEVEL", False),
        ("MONKEY_COUNT", False),
        ("PORT", False),
        ("MYSQL_ROOT_PW", True),
        ("rootPw", True),
        ("MYSQL_PASSWD", True),
        ("REDIS_PASS", True),
        ("dbPass", True),
        ("PGPASSWORD", True),
        ("STRIPE_APIKEY", True),
        ("SSH_PRIVATE", True),
        ("ENCRYPTION_KEY_BASE", True),
        ("masterKey", True),
        ("DB_PWD", True),
        ("PWD", False),
        ("BYPASS_CACHE", False),
        ("PASSIVE_MODE", False),
        ("PASSPORT_NUMBER", False),
        ("KEYCLOAK_URL", False),
        ("KEY_FILE", False),
    ],
)
def test_is_secret_name(name: str, expected: bool) -> None:
    assert is_secret_name(name) is expected


def test_known_values_take_the_token_they_are_glued_into() -> None:
    redactor = Redactor(["hunter2-known"])
    assert redactor.text("Bearer hunter2-knownXYZ sent") == f"Bearer {REDACTED} sent"
    assert redactor.text("user:hunter2-known@db") == f"user:{REDACTED}@db"
    assert redactor.text("DB_PASSWORD=hunter2-known") == f"DB_PASSWORD={REDACTED}"


@pytest.mark.parametrize("known", ["wJalrXUt", "K7MDENG", "CYEXAMPLEKEY"])
@pytest.mark.parametrize(
    "form",
    [
        "AKIAIOSFODNN7EXAMPLE:{}",
        "aws_secret_access_key={} region=eu-west-1",
        "using key AKIAIOSFODNN7EXAMPLE and secret {} now",
        '{{"SecretAccessKey": "{}"}}',
    ],
)
def test_a_known_value_inside_a_base64_blob_takes_the_blob(known: str, form: str) -> None:
    """The pieces between the "/" of a secret access key are no longer 40 characters long."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    out = Redactor([known]).text(form.format(secret))
    for piece in secret.split("/"):
        assert piece not in out


@pytest.mark.parametrize(
    "form",
    [
        "AKIAIOSFODNN7EXAMPLE:{}",
        "using key AKIAIOSFODNN7EXAMPLE and secret {} now",
    ],
)
def test_a_key_id_that_held_a_known_value_still_marks_the_secret_after_it(form: str) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    out = Redactor(["IOSFODNN"]).text(form.format(secret))
    assert "[REDACTED:aws-access-key]" in out
    assert "[REDACTED:aws-secret-key]" in out
    assert not any(piece in out for piece in secret.split("/"))


def test_a_known_value_in_a_short_path_takes_only_its_token() -> None:
    out = Redactor(["hunter2-known"]).text("GET /api/v1/hunter2-known/profile 200")
    assert out == f"GET /api/v1/{REDACTED}/profile 200"


#: The tail of a key whose BEGIN line a log cut off; an env value sits in its middle line.
_KEY_TAIL = (
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
    "MZR0HB1VfDBmLp7xKfu3ghnd/Qx9Gd2Yvd1cY0fY3RkeS2Kk+hGy/Vh1Pq3kCz9a",
    "uO3kbPGwE7nVq8d2",
)


@pytest.mark.parametrize("known", ["Gd2Yvd1c", _KEY_TAIL[2]], ids=["inside-a-line", "whole-line"])
@pytest.mark.parametrize("prefix", ["", "2026-11-20T10:00:00Z F "], ids=["bare", "timestamped"])
def test_a_known_value_inside_a_key_tail_does_not_end_the_key_there(
    known: str, prefix: str
) -> None:
    """Known values are replaced first; what they leave in a body line is still key."""
    lines = [*_KEY_TAIL, "-----END PRIVATE KEY-----"]
    log = "app starting\n" + "".join(f"{prefix}{line}\n" for line in lines)
    out = Redactor([known]).text(log)
    assert out == f"app starting\n{prefix}[REDACTED:private-key]\n"


def test_env_names_in_every_spelling_make_their_values_known() -> None:
    env = [{"name": name, "value": f"value-of-{name}-77"} for name in ("MYSQL_ROOT_PW", "X_APIKEY")]
    pod = {"kind": "Pod", "spec": {"containers": [{"name": "db", "env": env}]}}
    line = "echo value-of-MYSQL_ROOT_PW-77 and value-of-X_APIKEY-77"
    assert redactor_for([pod]).text(line) == f"echo {REDACTED} and {REDACTED}"


@pytest.mark.parametrize(
    ("items", "program", "expected"),
    [
        (["--password", "pw-1", "--port", "80"], "", ["--password", REDACTED, "--port", "80"]),
        (["--db-password=pw-2"], "", [f"--db-password={REDACTED}"]),
        (["mysql", "-uroot", "-ppw-3", "db"], "", ["mysql", "-uroot", f"-p{REDACTED}", "db"]),
        (["-uroot", "-ppw-4"], "mysql", ["-uroot", f"-p{REDACTED}"]),
        (["-p8080"], "nginx", ["-p8080"]),
        (["sh", "-c", "mysql -ppw-5 db"], "", ["sh", "-c", f"mysql -p{REDACTED} db"]),
        (["env", "PGPASSWORD=pw-6", "psql"], "", ["env", f"PGPASSWORD={REDACTED}", "psql"]),
        (["--token", "--verbose"], "", ["--token", "--verbose"]),
    ],
)
def test_command_lines_are_judged_whole(
    items: list[str], program: str, expected: list[str]
) -> None:
    assert Redactor().argv(items, program=program) == expected


def test_a_secret_spanning_items_hides_them_all() -> None:
    items = ["--note", "password='two", "words'", "--port"]
    assert Redactor().argv(items) == [REDACTED] * 4
