"""What `approve` refuses before asking the server, and how `actions` lists a task."""

from __future__ import annotations

from typing import Any

import pytest

from highpeaks_agent.cli import build_parser
from highpeaks_agent.terminal.actions import NotApprovable, approvable, render_actions

ROLLBACK = {
    "id": "rollback-to-3",
    "action": "rollback",
    "target": {"kind": "StatefulSet", "name": "db"},
    "change": "container db image: pg:17 -> pg:16",
    "why": "CrashLoopBackOff since revision 4",
}
RESTART = {
    "id": "restart",
    "action": "restart",
    "target": {"kind": "StatefulSet", "name": "db"},
    "change": "pod template annotation kubectl.kubernetes.io/restartedAt",
    "refused": "Flux manages statefulset/db",
    "instead": "flux suspend kustomization db -n flux-system",
}


def task(spec: dict[str, Any] | None = None, **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "why-db", "namespace": "shop"},
        "spec": {"target": {"kind": "StatefulSet", "name": "db"}, **(spec or {})},
        "status": {"phase": "Succeeded", "proposedActions": [ROLLBACK, RESTART], **status},
    }


def test_a_proposed_action_is_approvable() -> None:
    assert approvable(task(), "rollback-to-3") is ROLLBACK


@pytest.mark.parametrize(
    ("subject", "action_id", "message"),
    [
        (task(), "pause", "proposes no action 'pause' (it proposes: rollback-to-3, restart"),
        (
            task(),
            "restart",
            "restart cannot be approved: Flux manages statefulset/db; instead: flux",
        ),
        (
            task({"approval": {"action": "rollback-to-3", "by": "alice"}}),
            "rollback-to-3",
            "already approved: rollback-to-3 by alice",
        ),
        (
            {"metadata": {"name": "why-db"}, "status": {"phase": "Running"}},
            "restart",
            "proposes no action 'restart' (it proposes: none; phase Running)",
        ),
    ],
)
def test_what_can_never_be_approved(subject: dict[str, Any], action_id: str, message: str) -> None:
    with pytest.raises(NotApprovable, match=message.replace("(", r"\(").replace(")", r"\)")):
        approvable(subject, action_id)


def test_the_listing_shows_each_state_and_who_ran_it() -> None:
    ran = [
        {
            "id": "rollback-to-3",
            "action": "rollback",
            "by": "alice",
            "at": "2026-12-07T10:00:00Z",
            "result": "Succeeded",
        }
    ]
    text = render_actions(
        task({"approval": {"action": "rollback-to-3", "by": "alice"}}, actions=ran)
    )
    assert "rollback-to-3: statefulset/db — container db image: pg:17 -> pg:16" in text
    assert "Succeeded (by alice)" in text
    assert "refused: Flux manages statefulset/db; instead: flux suspend" in text
    assert "rollback-to-3 by alice at 2026-12-07T10:00:00Z — Succeeded" in text
    waiting = render_actions(task())
    assert "awaiting approval: kubectl highpeaks approve why-db rollback-to-3" in waiting


def test_a_task_without_actions_says_so() -> None:
    bare = {"metadata": {"name": "why-db"}, "status": {"phase": "Succeeded"}}
    assert render_actions(bare) == "agenttask/why-db: no actions proposed (phase Succeeded)\n"


def test_the_commands_parse() -> None:
    parser = build_parser("kubectl highpeaks")
    approve = parser.parse_args(["approve", "why-db", "rollback-to-3", "-n", "shop"])
    assert (approve.task, approve.action_id, approve.namespace) == (
        "why-db",
        "rollback-to-3",
        "shop",
    )
    listing = parser.parse_args(["actions", "why-db", "-o", "json", "--context", "prod"])
    assert (listing.output, listing.context) == ("json", "prod")
