"""Aggregated core v1 Events: deterministic names, kubectl-readable involvedObject, counts."""

from __future__ import annotations

from datetime import timedelta

from highpeaks_agent.controller.events import new_event, repeat_patch

from ..engine.builders import NOW, deployment


def test_same_note_same_event_different_note_new_event() -> None:
    dep = deployment()
    first = new_event(
        dep, reason="IncidentNote", message="m", type_="Warning", key="r1/CrashLoopBackOff", now=NOW
    )
    again = new_event(
        dep,
        reason="IncidentNote",
        message="m2",
        type_="Warning",
        key="r1/CrashLoopBackOff",
        now=NOW + timedelta(minutes=5),
    )
    other = new_event(
        dep, reason="IncidentNote", message="m", type_="Warning", key="r1/OOMKilled", now=NOW
    )
    assert first["metadata"]["name"] == again["metadata"]["name"] != other["metadata"]["name"]
    assert "generateName" not in first["metadata"]


def test_event_is_readable_by_kubectl_describe() -> None:
    dep = deployment()
    event = new_event(dep, reason="IncidentNote", message="note", type_="Warning", key="k", now=NOW)
    involved = event["involvedObject"]
    assert (involved["kind"], involved["name"], involved["namespace"], involved["uid"]) == (
        "Deployment",
        "checkout",
        "shop",
        dep["metadata"]["uid"],
    )
    assert (event["apiVersion"], event["type"], event["count"]) == ("v1", "Warning", 1)
    assert event["metadata"]["namespace"] == "shop"
    assert event["firstTimestamp"] == event["lastTimestamp"] == "2026-11-20T10:00:00Z"


def test_repeat_bumps_count_and_time_and_messages_are_redacted() -> None:
    dep = deployment()
    event = new_event(
        dep,
        reason="IncidentNote",
        message="DB_PASSWORD=hunter2-secret failing",
        type_="Warning",
        key="k",
        now=NOW,
    )
    assert "hunter2-secret" not in event["message"]
    patch = repeat_patch(event, message="again token=abc123456789", now=NOW + timedelta(seconds=30))
    assert patch["count"] == 2
    assert patch["lastTimestamp"] == "2026-11-20T10:00:30Z"
    assert "abc123456789" not in patch["message"]
    assert (
        len(
            new_event(dep, reason="R", message="x" * 5000, type_="Normal", key="k", now=NOW)[
                "message"
            ]
        )
        == 1024
    )
