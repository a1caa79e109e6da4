"""What a crash's cause line names, read from real corpus tails: the host:port a Service may
stand behind, the port, the path, the setting. A line that names none takes it from the rest
of its record; a runtime's frame ("Net.java:565") is never an address."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from highpeaks_agent.engine.crashlog import read_cause

CASES = {
    case["source"]: case["log"]
    for case in yaml.safe_load(
        (Path(__file__).parent / "crashlogs" / "cases.yaml").read_text(encoding="utf-8")
    )["crashes"]
}
GITHUB = "https://github.com/"


@pytest.mark.parametrize(
    ("source", "subject", "host"),
    [
        # libpq's hint two lines under its error names the host and the port
        ("datafruits/streampusher-api/issues/122", "postgres:5432", "postgres:5432"),
        # libpq 14+: connection to server at "127.0.0.1", port 5432 failed
        ("spree/spree-starter/issues/1147", "127.0.0.1:5432", "127.0.0.1:5432"),
        # Ruby's Errno::ECONNREFUSED "connect(2) for host:port"
        ("southbridgeio/redmine_2fa/issues/75", "127.0.0.1:6379", "127.0.0.1:6379"),
        # an inner .NET exception: the outer one above it names the address
        ("npgsql/npgsql/issues/4739", "127.0.0.1:5432", "127.0.0.1:5432"),
        ("mysociety/alaveteli/issues/7511", "db", "db"),
    ],
)
def test_a_connection_failure_names_its_address(source: str, subject: str, host: str) -> None:
    cause = read_cause(CASES[GITHUB + source])
    assert cause is not None
    assert (cause.code, cause.subject, cause.host) == (
        "CrashLoopBackOff.DependencyUnreachable",
        subject,
        host,
    )


@pytest.mark.parametrize(
    ("source", "code", "subject"),
    [
        ("Kareadita/Kavita/issues/1899", "CrashLoopBackOff.PortInUse", "2345"),
        ("puma/puma-dev/issues/338", "CrashLoopBackOff.PortInUse", "3206"),
        (
            "mcrio/Configuration.Provider.Docker.Secrets/issues/7",
            "CrashLoopBackOff.PermissionDenied",
            "/run/secrets/chargeampguard__uri",
        ),
        ("alphagov/govuk-docker/pull/497", "CrashLoopBackOff.ConfigMissing", "GOVUK_UPSTREAM_URI"),
        ("openSUSE/osem/issues/2345", "CrashLoopBackOff.DatabaseSchema", "osem_development"),
        ("databasus/databasus/issues/77", "CrashLoopBackOff.AuthFailed", "event-user"),
        ("docker-library/ruby/issues/89", "CrashLoopBackOff.AppError", "NoMethodError"),
    ],
)
def test_the_cause_names_what_the_record_names(source: str, code: str, subject: str) -> None:
    cause = read_cause(CASES[GITHUB + source])
    assert cause is not None
    assert (cause.code, cause.subject) == (code, subject)


@pytest.mark.parametrize(
    "source",
    [
        "Krillsson/monitee-agent/issues/185",  # ... at sun.nio.ch.Net.bind(Net.java:565)
        "plausible/analytics/issues/1040",  # (db_connection 2.2.2) lib/.../connection.ex:87
        "fabric8io/kubernetes-client/issues/3874",  # ... (SSLSocketImpl.java:131)
    ],
)
def test_a_frames_source_position_is_never_an_address(source: str) -> None:
    cause = read_cause(CASES[GITHUB + source])
    assert cause is not None
    for value in (cause.subject, cause.host):
        assert not re.search(r"(?:^|:)(?:565|87|131)$", value), value
