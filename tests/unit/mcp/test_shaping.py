"""What a tool answers: bounded with a marker, one-line steps, trimmed and redacted objects."""

from __future__ import annotations

from highpeaks_agent.engine.redact import redactor_for
from highpeaks_agent.mcp.shaping import (
    MAX_RESULT_CHARS,
    bounded,
    event_lines,
    node_summary,
    object_text,
    one_line,
)


def test_a_long_answer_is_cut_to_the_bound_and_says_so() -> None:
    text = "x" * 20000
    head = bounded(text)
    assert len(head) <= MAX_RESULT_CHARS and head.endswith("not shown]")
    assert "[cut: " in head
    tail = bounded("old\n" + "y" * 20000 + "\nnewest line", keep="tail")
    assert len(tail) <= MAX_RESULT_CHARS and tail.startswith("[cut: ")
    assert tail.endswith("newest line")
    assert bounded("short") == "short"


def test_a_step_is_one_line_of_at_most_200_characters() -> None:
    line = one_line("a\nb\t c   " + "z" * 500)
    assert "\n" not in line and line.startswith("a b c ") and len(line) == 200
    assert line.endswith("…")


def test_an_object_loses_managed_fields_and_last_applied_and_its_secret_env_values() -> None:
    pod = {
        "kind": "Pod",
        "metadata": {
            "name": "api",
            "managedFields": [{"manager": "kubectl"}],
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": '{"DB_PASSWORD":"hunter22"}',
                "team": "shop",
            },
        },
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "env": [{"name": "DB_PASSWORD", "value": "hunter22"}],
                    "args": ["--token", "abcdef123456"],
                }
            ]
        },
    }
    shown = object_text(pod, redactor_for([pod]))
    assert "managedFields" not in shown and "last-applied" not in shown
    assert '"team":"shop"' in shown
    assert "hunter22" not in shown and "abcdef123456" not in shown


def test_events_are_listed_oldest_first_with_known_secrets_masked() -> None:
    pod = {
        "kind": "Pod",
        "spec": {"containers": [{"env": [{"name": "API_KEY", "value": "k-9f8e7d6c"}]}]},
    }
    events = [
        {
            "reason": "BackOff",
            "type": "Warning",
            "count": 4,
            "lastTimestamp": "2026-12-07T10:05:00Z",
            "message": "Back-off restarting",
            "source": {"component": "kubelet"},
        },
        {
            "reason": "Failed",
            "type": "Warning",
            "lastTimestamp": "2026-12-07T10:00:00Z",
            "message": "key k-9f8e7d6c refused",
            "source": {"component": "kubelet"},
        },
    ]
    text = event_lines(events, redactor_for([pod]))
    assert text.index("Failed") < text.index("BackOff") and "x4" in text
    assert "k-9f8e7d6c" not in text


def test_a_node_summary_names_its_pressure_and_taints() -> None:
    node = {
        "metadata": {"name": "n1", "labels": {"kubernetes.io/arch": "arm64", "team": "x"}},
        "spec": {"taints": [{"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"}]},
        "status": {
            "conditions": [
                {"type": "Ready", "status": "True"},
                {
                    "type": "MemoryPressure",
                    "status": "True",
                    "reason": "KubeletHasInsufficientMemory",
                },
                {"type": "DiskPressure", "status": "False"},
            ],
            "allocatable": {"memory": "1Gi"},
        },
    }
    summary = node_summary(node)
    assert summary["pressure"] == ["MemoryPressure"]
    assert summary["taints"][0]["effect"] == "NoSchedule"
    assert summary["labels"] == {"kubernetes.io/arch": "arm64"}
    assert summary["allocatable"] == {"memory": "1Gi"}
