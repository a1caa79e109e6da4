"""Delivery: once per incident and sink, recorded on the task, retried with backoff, never blocking."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from highpeaks_agent import metrics
from highpeaks_agent.notify.notifier import Notifier, notified_annotation
from highpeaks_agent.notify.sinks import slack_sink, webhook_sink
from tests.support.loopback import serve

from .builders import SIGNATURE, incident_task

KEY = ("shop", "incident-checkout-r2", SIGNATURE)


@dataclass
class Receiver:
    """Stands in for Slack and a webhook: records bodies, answers what it is told to."""

    bodies: dict[str, list[Any]] = field(default_factory=lambda: {"slack": [], "hook": []})
    answers: list[tuple[int, dict[str, str]]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        status, headers = self.answers.pop(0) if self.answers else (200, {})
        self.bodies[request.match_info["sink"]].append(await request.json())
        return web.Response(status=status, text="ok" if status == 200 else "no", headers=headers)


@dataclass
class FakeRecords:
    task: dict[str, Any] | None = field(default_factory=incident_task)
    patches: list[dict[str, Any]] = field(default_factory=list)
    fail_patch: int = 0

    async def read_task(self, namespace: str, name: str) -> dict[str, Any] | None:
        return copy.deepcopy(self.task)

    async def patch_task_metadata(
        self, namespace: str, name: str, metadata: Mapping[str, Any]
    ) -> dict[str, Any]:
        if self.fail_patch:
            self.fail_patch -= 1
            raise OSError("API server unreachable")
        assert self.task is not None
        self.patches.append(dict(metadata))
        self.task["metadata"]["annotations"].update(metadata["annotations"])
        return self.task


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    fake = Receiver()
    app = web.Application()
    app.router.add_post("/{sink}/T000/B000/secretpath", fake.handle)
    async with serve(app) as url:
        yield fake, url


def notifier(
    url: str, records: FakeRecords, waits: list[float] | None = None, **kwargs: Any
) -> Notifier:
    async def sleep(seconds: float) -> None:
        (waits if waits is not None else []).append(seconds)

    return Notifier(
        [
            webhook_sink(f"{url}/hook/T000/B000/secretpath"),
            slack_sink(f"{url}/slack/T000/B000/secretpath"),
        ],
        records,
        sleep=sleep,
        **kwargs,
    )


def count(sink: str, result: str) -> float:
    return metrics.NOTIFICATIONS.labels(sink, result)._value.get()


async def test_one_message_per_sink_then_recorded_and_never_again(
    receiver: tuple[Receiver, str],
) -> None:
    fake, url = receiver
    records = FakeRecords()
    sent_before = count("slack", "sent")
    notify = notifier(url, records)
    notify.submit(*KEY)
    await notify.join()
    assert [len(fake.bodies["hook"]), len(fake.bodies["slack"])] == [1, 1]
    assert fake.bodies["hook"][0]["task"] == "incident-checkout-r2"
    assert fake.bodies["slack"][0]["blocks"][0]["type"] == "header"
    annotations = records.task["metadata"]["annotations"]  # type: ignore[index]
    assert annotations[notified_annotation("webhook")] == SIGNATURE
    assert annotations[notified_annotation("slack")] == SIGNATURE
    assert count("slack", "sent") == sent_before + 1
    for _ in range(3):  # repeated looks at the Deployment: remembered, not even read
        notify.submit(*KEY)
    await notify.join()
    restarted = notifier(url, records)  # a new process reads the record from the task
    restarted.submit(*KEY)
    await restarted.join()
    assert [len(fake.bodies["hook"]), len(fake.bodies["slack"])] == [1, 1]
    await notify.aclose()
    await restarted.aclose()


async def test_a_sink_already_recorded_is_skipped() -> None:
    records = FakeRecords(task=incident_task(annotations={notified_annotation("slack"): SIGNATURE}))
    fake = Receiver()
    app = web.Application()
    app.router.add_post("/{sink}/T000/B000/secretpath", fake.handle)
    async with serve(app) as url:
        notify = notifier(url, records)
        notify.submit(*KEY)
        await notify.join()
        await notify.aclose()
    assert [len(fake.bodies["hook"]), len(fake.bodies["slack"])] == [1, 0]


async def test_nothing_is_sent_for_an_unfinished_or_other_incident(
    receiver: tuple[Receiver, str],
) -> None:
    fake, url = receiver
    for task in (incident_task(phase="Running"), incident_task(signature="OOMKilled"), None):
        notify = notifier(url, FakeRecords(task=task))
        notify.submit(*KEY)
        await notify.join()
        await notify.aclose()
    assert fake.bodies == {"slack": [], "hook": []}


async def test_5xx_and_429_are_retried_with_backoff_and_retry_after(
    receiver: tuple[Receiver, str],
) -> None:
    fake, url = receiver
    fake.answers = [(500, {}), (503, {}), (200, {}), (429, {"Retry-After": "7"}), (200, {})]
    waits: list[float] = []
    records = FakeRecords()
    notify = notifier(url, records, waits, backoff_seconds=0.5)
    notify.submit(*KEY)
    await notify.join()
    await notify.aclose()
    assert waits == [0.5, 1.0, 7.0]
    assert [len(fake.bodies["hook"]), len(fake.bodies["slack"])] == [3, 2]
    assert len(records.patches) == 2


async def test_4xx_is_not_retried_and_attempts_are_bounded(receiver: tuple[Receiver, str]) -> None:
    fake, url = receiver
    fake.answers = [(400, {})] + [(500, {})] * 3
    failed_before = count("slack", "failed")
    records = FakeRecords()
    notify = notifier(url, records, max_attempts=3)
    notify.submit(*KEY)
    await notify.join()
    assert [len(fake.bodies["hook"]), len(fake.bodies["slack"])] == [1, 3]
    assert count("slack", "failed") == failed_before + 1
    assert records.patches == []  # nothing recorded: a restart tries again
    notify.submit(*KEY)  # given up: not retried by every look at the Deployment
    await notify.join()
    assert len(fake.bodies["slack"]) == 3
    await notify.aclose()


async def test_a_failed_record_is_retried_without_sending_again(
    receiver: tuple[Receiver, str],
) -> None:
    fake, url = receiver
    records = FakeRecords(fail_patch=1)
    notify = notifier(url, records)
    notify.submit(*KEY)
    await notify.join()
    notify.submit(*KEY)
    await notify.join()
    await notify.aclose()
    assert [len(fake.bodies["hook"]), len(fake.bodies["slack"])] == [1, 1]
    annotations = records.task["metadata"]["annotations"]  # type: ignore[index]
    assert annotations[notified_annotation("webhook")] == SIGNATURE
    assert annotations[notified_annotation("slack")] == SIGNATURE


async def test_submit_never_blocks_and_a_full_queue_drops(receiver: tuple[Receiver, str]) -> None:
    _, url = receiver
    dropped_before = count("webhook", "dropped")
    notify = notifier(url, FakeRecords(), queue_size=1)
    notify.submit("shop", "incident-a-r1", SIGNATURE)
    notify.submit("shop", "incident-b-r1", SIGNATURE)  # queue full: returns at once
    assert count("webhook", "dropped") == dropped_before + 1
    await notify.aclose()


async def test_unreachable_sinks_fail_without_naming_the_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    records = FakeRecords()
    notify = notifier("http://127.0.0.1:9", records, max_attempts=2)
    notify.submit(*KEY)
    await asyncio.wait_for(notify.join(), 30)
    await notify.aclose()
    assert records.patches == []
    assert "secretpath" not in caplog.text
    assert "secretpath" not in repr(webhook_sink("http://x/secretpath"))


async def test_what_the_receiver_gets_is_json_without_planted_secrets(
    receiver: tuple[Receiver, str],
) -> None:
    fake, url = receiver
    planted = "xoxb-1234567890-abcdefghijklmnop"
    records = FakeRecords(task=incident_task(evidence=[f"SLACK_TOKEN={planted}"]))
    notify = notifier(url, records)
    notify.submit(*KEY)
    await notify.join()
    await notify.aclose()
    dumped = json.dumps(fake.bodies)
    assert planted not in dumped and "REDACTED" in dumped


async def test_request_logs_never_show_a_sink_url(
    receiver: tuple[Receiver, str], caplog: pytest.LogCaptureFixture
) -> None:
    _, url = receiver
    caplog.set_level(logging.INFO, logger="httpx")
    notify = notifier(url, FakeRecords())
    notify.submit(*KEY)
    await notify.join()
    await notify.aclose()
    requests = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert len(requests) == 2 and all("<slack URL>" in m or "<webhook URL>" in m for m in requests)
    assert "secretpath" not in caplog.text


async def test_given_up_and_unrecorded_sends_are_bounded(
    receiver: tuple[Receiver, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every incident a sink refused, and every send whose record could not be written, is
    remembered in memory: never more than ``REMEMBERED`` of each, the oldest forgotten."""
    monkeypatch.setattr("highpeaks_agent.notify.notifier.REMEMBERED", 3)
    fake, url = receiver
    fake.answers = [(400, {})] * 20
    refusing = notifier(url, FakeRecords())
    for number in range(10):
        refusing.submit("shop", f"incident-r{number}-r1", SIGNATURE)
        await refusing.join()
    assert refusing.records == 3
    await refusing.aclose()

    fake.answers, fake.bodies["hook"] = [], []
    unrecorded = notifier(url, FakeRecords(fail_patch=100))
    for number in range(10):
        unrecorded.submit("shop", f"incident-s{number}-r1", SIGNATURE)
        await unrecorded.join()
    assert len(fake.bodies["hook"]) == 10  # accepted each time, never recorded
    assert unrecorded.records <= 3
    await unrecorded.aclose()
