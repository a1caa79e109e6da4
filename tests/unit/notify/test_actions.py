"""A finished action to the sinks: the webhook's JSON, Slack's message, each sent once."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from highpeaks_agent.notify.actions import (
    ActionNotifier,
    action_slack_message,
    action_webhook_body,
    notified_annotation,
)
from highpeaks_agent.notify.sinks import slack_sink, webhook_sink
from tests.support.loopback import serve

from .test_notifier import FakeRecords, Receiver

RECORD = {
    "id": "rollback-to-1",
    "action": "rollback",
    "by": "alice",
    "at": "2026-12-07T10:00:10Z",
    "change": "pod template back to revision 1: container app image: a:2 -> a:1",
    "result": "Succeeded",
    "message": "rollout complete: 2 of 2 replicas updated and available",
    "finishedAt": "2026-12-07T10:00:40Z",
}


def action_task() -> dict[str, Any]:
    return {
        "metadata": {"name": "fix-checkout", "namespace": "shop", "annotations": {}},
        "spec": {"target": {"kind": "Deployment", "name": "checkout"}},
    }


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    fake = Receiver()
    app = web.Application()
    app.router.add_post("/{sink}/T000/B000/secretpath", fake.handle)
    async with serve(app) as url:
        yield fake, url


def test_the_webhook_json_names_who_did_what_to_which_workload() -> None:
    assert action_webhook_body(action_task(), RECORD) == {
        "type": "Action",
        "schemaVersion": 1,
        "target": {"kind": "Deployment", "namespace": "shop", "name": "checkout"},
        "task": "fix-checkout",
        **{k: RECORD[k] for k in ("id", "action", "by", "at", "change", "result")},
        "message": RECORD["message"],
        "finishedAt": RECORD["finishedAt"],
    }


def test_the_slack_message_says_it_in_two_sections() -> None:
    message = action_slack_message(action_task(), RECORD | {"change": "a <b> & c"})
    assert message["text"] == (
        ":white_check_mark: rollback of Deployment shop/checkout by alice: Succeeded"
    )
    details = message["blocks"][1]["text"]["text"]
    assert "*Change:* a &lt;b&gt; &amp; c" in details
    assert "`kubectl describe agenttask fix-checkout -n shop`" in details


async def test_each_sink_gets_it_once_and_the_send_is_recorded(
    receiver: tuple[Receiver, str],
) -> None:
    fake, url = receiver
    records = FakeRecords(task=action_task())
    sinks = [
        webhook_sink(f"{url}/hook/T000/B000/secretpath"),
        slack_sink(f"{url}/slack/T000/B000/secretpath"),
    ]
    notifier = ActionNotifier(sinks, records)
    try:
        await notifier.notify(action_task(), RECORD)
        assert [b["type"] for b in fake.bodies["hook"]] == ["Action"]
        assert len(fake.bodies["slack"]) == 1
        assert records.task is not None
        annotations = records.task["metadata"]["annotations"]
        assert annotations == {
            notified_annotation("webhook", "rollback-to-1"): "Succeeded",
            notified_annotation("slack", "rollback-to-1"): "Succeeded",
        }
        await notifier.notify(copy.deepcopy(records.task), RECORD)  # a retry, another replica
        assert len(fake.bodies["hook"]) == 1 and len(fake.bodies["slack"]) == 1
    finally:
        await notifier.aclose()


async def test_a_sink_that_refuses_is_not_recorded(receiver: tuple[Receiver, str]) -> None:
    fake, url = receiver
    fake.answers = [(400, {})]
    records = FakeRecords(task=action_task())
    notifier = ActionNotifier([webhook_sink(f"{url}/hook/T000/B000/secretpath")], records)
    try:
        await notifier.notify(action_task(), RECORD)
    finally:
        await notifier.aclose()
    assert records.patches == []
