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
    ],
)
def test_is_secret_name(name: str, expected: bool) -> None:
    assert is_secret_name(name) is expected
