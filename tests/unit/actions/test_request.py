"""What a task asks for, when it was written, and what its status already records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from highpeaks_agent.actions.request import (
    REFUSED_CONDITION,
    action_of_id,
    asked_of,
    is_unfinished,
    record_of,
    rollback_revision,
)
from tests.unit.actions.objects import task


def test_an_approval_names_its_id_and_the_action_the_id_stands_for() -> None:
    asked = asked_of(task({"approval": {"action": "rollback-to-3", "by": "alice"}}))
    assert asked is not None
    assert (asked.field, asked.name, asked.approved, asked.by) == (
        "approval",
        "rollback",
        "rollback-to-3",
        "alice",
    )
    assert asked.written_at == datetime(2026, 12, 7, 10, 0, 5, tzinfo=UTC)


def test_a_direct_action_is_its_name() -> None:
    asked = asked_of(task({"action": {"name": "restart", "by": "bob"}}, field="action"))
    assert asked is not None and (asked.field, asked.name, asked.approved) == (
        "action",
        "restart",
        "",
    )


def test_a_task_that_asks_nothing() -> None:
    assert asked_of(task({})) is None
    assert not is_unfinished(task({}))


@pytest.mark.parametrize(
    ("action_id", "action", "revision"),
    [
        ("rollback-to-12", "rollback", 12),
        ("restart", "restart", None),
        ("pause", "pause", None),
        ("resume", "resume", None),
        ("rollback", "", None),  # a rollback id always names its revision
        ("rollback-to-x", "", None),
        ("delete", "", None),
    ],
)
def test_ids(action_id: str, action: str, revision: int | None) -> None:
    assert action_of_id(action_id) == action
    assert rollback_revision(action_id) == revision


def test_the_written_time_is_the_newest_managed_field_entry_owning_it() -> None:
    body = task({"approval": {"action": "restart", "by": "alice"}})
    body["metadata"]["managedFields"].append(
        {"time": "2026-12-07T11:00:00Z", "fieldsV1": {"f:spec": {"f:question": {}}}}
    )
    asked = asked_of(body)
    assert asked is not None and asked.written_at == datetime(2026, 12, 7, 10, 0, 5, tzinfo=UTC)
    del body["metadata"]["managedFields"]
    asked = asked_of(body)
    assert asked is not None and asked.written_at == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_unfinished_until_a_record_says_how_it_ended() -> None:
    spec = {"approval": {"action": "rollback-to-1", "by": "alice"}}
    assert is_unfinished(task(spec))
    started = {"id": "rollback-to-1", "action": "rollback", "by": "alice", "result": "Started"}
    assert is_unfinished(task(spec, status={"actions": [started]}))
    for result in ("Succeeded", "Failed", "Refused"):
        done = task(spec, status={"actions": [started | {"result": result}]})
        assert not is_unfinished(done)
        asked = asked_of(done)
        assert asked is not None and record_of(done, asked) == started | {"result": result}


def test_another_ids_record_is_not_this_approvals() -> None:
    spec = {"approval": {"action": "restart", "by": "alice"}}
    other = {"id": "rollback-to-1", "action": "rollback", "by": "bob", "result": "Succeeded"}
    assert is_unfinished(task(spec, status={"actions": [other]}))


def test_an_id_naming_no_action_is_finished_by_its_condition_for_that_generation() -> None:
    spec = {"approval": {"action": "delete-it", "by": "alice"}}
    refused = {"type": REFUSED_CONDITION, "status": "True", "observedGeneration": 2}
    assert not is_unfinished(task(spec, status={"conditions": [refused]}))
    older = refused | {"observedGeneration": 1}
    assert is_unfinished(task(spec, status={"conditions": [older]}))
