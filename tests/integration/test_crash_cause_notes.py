"""Each crash refinement of CONTRACT §2a through the real operator: the IncidentNote names it.

One operator process for the module; each code gets its own namespace with a ``checkout``
Deployment whose revision 2 crash-loops, the kubelet's previous log of every pod being a real
tail from the corpus (``tests/unit/engine/crashlogs``). The operator reads that log, and the
incident task and the one IncidentNote carry the refined code and the finding's words.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from highpeaks_agent.engine.catalogue import CATALOGUE
from tests.support.controllers import SimulatedControllers
from tests.support.operator_process import OperatorProcess

from .test_incidents import notes, one_incident

pytestmark = pytest.mark.integration

CORPUS = yaml.safe_load(
    (Path(__file__).parents[1] / "unit" / "engine" / "crashlogs" / "cases.yaml").read_text(
        encoding="utf-8"
    )
)
REFINEMENTS = sorted(code for code in CATALOGUE if code.startswith("CrashLoopBackOff."))


def first_tail(code: str) -> str:
    return next(case["log"] for case in CORPUS["crashes"] if case["code"] == code)


@pytest.mark.parametrize("code", REFINEMENTS)
def test_the_incident_note_names_the_refined_cause(
    code: str, cluster: SimulatedControllers, operator: OperatorProcess
) -> None:
    cluster.deployment("checkout", "registry.example.com/shop/checkout:2.13.4")
    cluster.rollout("checkout", 1, "registry.example.com/shop/checkout:2.13.4")
    cluster.deployment_status("checkout", updated=2, available=2)
    new = cluster.rollout("checkout", 2, "registry.example.com/shop/checkout:2.14.0")
    for pod in [cluster.pod(new) for _ in range(2)]:
        cluster.crash_loop(pod, restarts=4, log=first_tail(code))
    cluster.deployment_status("checkout", updated=2, available=0)

    note, task = one_incident(cluster)
    status = task["status"]
    assert status["rootCause"] == code, status["findings"][0]
    root = status["findings"][0]
    assert root["code"] == code and root["title"].startswith("Container app crashes: ")
    message = note["message"]
    assert f"Revision 2 is failing ({code})" in message, message
    # the finding's own words, up to where a long subject may be cut to fit the note
    assert root["title"][:40] in message, message
    assert len(notes(cluster, "checkout")) == 1
