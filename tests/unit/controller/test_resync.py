"""Which Deployments the periodic resync looks at again (CONTRACT §6): exactly the unfinished."""

from __future__ import annotations

from typing import Any

import pytest

from highpeaks_agent.controller.incidents import SIGNATURE_ANNOTATION
from highpeaks_agent.controller.resync import is_converged, unconverged


def deployment(*, revision: int = 2, available: int = 0, uid: str = "d-1") -> dict[str, Any]:
    return {
        "metadata": {
            "name": "checkout",
            "namespace": "shop",
            "uid": uid,
            "annotations": {"deployment.kubernetes.io/revision": str(revision)},
        },
        "spec": {"replicas": 3},
        "status": {
            "updatedReplicas": 3,
            "availableReplicas": available,
            "unavailableReplicas": 3 - available or None,
        },
    }


def incident(
    revision: int = 2,
    *,
    phase: str | None = "Succeeded",
    signature: str | None = "CrashLoopBackOff",
    resolved: bool = False,
    owner: str = "d-1",
) -> dict[str, Any]:
    annotations = {SIGNATURE_ANNOTATION: signature} if signature else {}
    status: dict[str, Any] = {"phase": phase} if phase else {}
    if resolved:
        status["conditions"] = [{"type": "Resolved", "status": "True"}]
    return {
        "metadata": {
            "name": f"incident-checkout-r{revision}",
            "namespace": "shop",
            "annotations": annotations,
            "ownerReferences": [{"kind": "Deployment", "name": "checkout", "uid": owner}],
        },
        "status": status,
    }


FAILING = deployment()
HEALTHY = deployment(available=3)


@pytest.mark.parametrize(
    ("deployments", "tasks", "expected"),
    [
        pytest.param([FAILING], [], [("shop", "checkout")], id="failing, no task yet"),
        pytest.param([FAILING], [incident(phase=None, signature=None)], [("shop", "checkout")],
                     id="task created, no status"),
        pytest.param([FAILING], [incident(signature=None)], [("shop", "checkout")],
                     id="status written, note not recorded"),
        pytest.param([FAILING], [incident()], [], id="finished incident"),
        pytest.param([FAILING], [incident(1)], [("shop", "checkout")],
                     id="finished incident of an older revision only"),
        pytest.param([FAILING], [incident(owner="other")], [("shop", "checkout")],
                     id="a task owned by a deleted namesake"),
        pytest.param([HEALTHY], [], [], id="healthy, nothing open"),
        pytest.param([HEALTHY], [incident()], [("shop", "checkout")],
                     id="healthy with an open incident to resolve"),
        pytest.param([HEALTHY], [incident(resolved=True)], [], id="resolved"),
    ],
)  # fmt: skip
def test_only_unfinished_work_is_looked_at_again(
    deployments: list[Any], tasks: list[Any], expected: list[tuple[str, str]]
) -> None:
    assert unconverged(deployments, tasks) == expected


def test_converged_needs_both_status_and_the_recorded_note() -> None:
    assert is_converged(incident())
    assert not is_converged(incident(phase=None))
    assert not is_converged(incident(signature=None))
    assert not is_converged(incident(phase="Running"))
