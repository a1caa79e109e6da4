"""Real crash-log tails through the whole engine: each names its CONTRACT §2a refinement.

The corpus (``crashlogs/cases.yaml``) holds tails copied from public issue threads, each with
its source. Every tail is placed where the kubelet leaves it, as the previous log of a
crash-looping container, and the engine runs: the root cause is the refinement, and its first
evidence line is the line of the log that shows it. The look-alikes leave a crash loop bare
and a healthy pod quiet. A property test adds random logs: what a log says never changes
whether a pod is failing, only why.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from highpeaks_agent.engine import Snapshot, diagnose
from highpeaks_agent.engine.catalogue import CATALOGUE
from highpeaks_agent.engine.model import Diagnosis
from highpeaks_agent.engine.redact import DEFAULT_REDACTOR
from highpeaks_agent.engine.snapshot import ContainerLog

from .builders import NOW, failing_deployment, running, terminated, waiting

CORPUS: dict[str, list[dict[str, str]]] = yaml.safe_load(
    (Path(__file__).parent / "crashlogs" / "cases.yaml").read_text(encoding="utf-8")
)
REFINEMENTS = sorted(code for code in CATALOGUE if code.startswith("CrashLoopBackOff."))


def run(statuses: list[dict[str, Any]], log: str | None) -> list[Diagnosis]:
    dep, rs, p = failing_deployment(statuses)
    snapshot = Snapshot.from_objects([dep, rs, p])
    if log is not None:
        snapshot.logs[("shop", p["metadata"]["name"], "app")] = ContainerLog(log, previous=True)
    return diagnose(snapshot, now=NOW)


def crash_looping() -> list[dict[str, Any]]:
    return [waiting(restarts=6, last=terminated(1))]


def healthy() -> list[dict[str, Any]]:
    return [running(restarts=1, last=terminated(1, finished_ago=7200))]


#: the runtimes and servers whose own wording the reader knows, each with real tails
RUNTIMES = {"python", "java", "node", "go", "ruby", "dotnet", "php", "rust"}
SERVERS = {"nginx", "postgres", "mysql", "redis"}


def test_every_refinement_has_six_real_tails_and_the_corpus_eighty() -> None:
    counts = Counter(case["code"] for case in CORPUS["crashes"])
    assert set(counts) == set(REFINEMENTS)
    assert min(counts.values()) >= 6, counts
    assert sum(counts.values()) >= 80
    assert len(CORPUS["quiet"]) >= 20
    for case in [*CORPUS["crashes"], *CORPUS["quiet"]]:
        assert case["source"].startswith("https://"), case["source"]


def test_the_corpus_speaks_every_runtime_it_claims() -> None:
    runtimes = Counter(case["runtime"] for case in CORPUS["crashes"])
    assert set(runtimes) >= RUNTIMES | SERVERS, runtimes
    assert runtimes["ruby"] >= 6 and runtimes["dotnet"] >= 6, runtimes


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=f"{c['code'].split('.')[1]}-{i}") for i, c in enumerate(CORPUS["crashes"])],
)
def test_a_real_tail_names_its_refinement(case: dict[str, str]) -> None:
    result = run(crash_looping(), case["log"])
    assert len(result) == 1
    finding = result[0].findings[0]
    assert finding.code == case["code"], finding.evidence[0]
    first = finding.evidence[0]
    # the line that shows it, as logged and redacted (a JSON record is read as its message)
    logged = DEFAULT_REDACTOR.text(case["log"])
    assert first and (first in logged or logged.lstrip().startswith("{"))


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=f"{c['situation']}-{i}") for i, c in enumerate(CORPUS["quiet"])]
)
def test_a_look_alike_refines_nothing(case: dict[str, str]) -> None:
    crashing = run(crash_looping(), case["log"])
    assert [d.findings[0].code for d in crashing] == ["CrashLoopBackOff"]
    assert run(healthy(), case["log"]) == []


LINES = [line for case in CORPUS["crashes"] for line in case["log"].splitlines()]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.one_of(st.sampled_from(LINES), st.text(max_size=120)), max_size=40),
    st.booleans(),
)
def test_a_log_never_changes_whether_a_pod_fails(lines: list[str], crashing: bool) -> None:
    statuses = crash_looping() if crashing else healthy()
    with_log = run(statuses, "\n".join(lines))
    without = run(statuses, None)
    assert [(d.target, d.pods_affected, d.severity) for d in with_log] == [
        (d.target, d.pods_affected, d.severity) for d in without
    ]
    if crashing:
        assert with_log[0].findings[0].code.startswith("CrashLoopBackOff")
