"""The AgentTask CRD (CONTRACT §4): names, printer columns, and a schema that admits the
shipped examples and rejects bad specs the way the API server's validation would."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
CRD = yaml.safe_load((ROOT / "crds" / "agenttask.yaml").read_text())
VERSION = CRD["spec"]["versions"][0]
SCHEMA = VERSION["schema"]["openAPIV3Schema"]
EXAMPLES = sorted((ROOT / "examples" / "agenttasks").glob("*.yaml"))


def validate(obj: dict[str, Any]) -> None:
    jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(obj)


def test_names_and_subresources() -> None:
    spec = CRD["spec"]
    assert CRD["metadata"]["name"] == "agenttasks.devops.highpeaks.io"
    assert (spec["group"], spec["scope"]) == ("devops.highpeaks.io", "Namespaced")
    assert spec["names"] == {
        "kind": "AgentTask",
        "listKind": "AgentTaskList",
        "plural": "agenttasks",
        "singular": "agenttask",
        "shortNames": ["agt"],
        "categories": ["highpeaks"],
    }
    assert VERSION["name"] == "v1alpha1" and VERSION["subresources"] == {"status": {}}
    columns = [c["name"] for c in VERSION["additionalPrinterColumns"]]
    assert columns == ["Target", "Phase", "Severity", "Root Cause", "Age"]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_admitted(path: Path) -> None:
    validate(yaml.safe_load(path.read_text()))


BASE = yaml.safe_load((ROOT / "examples" / "agenttasks" / "why-checkout.yaml").read_text())


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda t: t["spec"].pop("target"), "target is required"),
        (lambda t: t["spec"]["target"].pop("name"), "target name is required"),
        (lambda t: t["spec"]["target"].update(kind="CronTab"), "unknown kind"),
        (lambda t: t["spec"]["target"].update(name="Not_A_Name"), "invalid name"),
        (lambda t: t["spec"].update(question="x" * 2001), "question too long"),
    ],
)
def test_bad_specs_are_rejected(change: Any, why: str) -> None:
    task = copy.deepcopy(BASE)
    change(task)
    with pytest.raises(jsonschema.ValidationError):
        validate(task)


def test_a_full_status_is_admitted() -> None:
    task = copy.deepcopy(BASE)
    task["status"] = {
        "phase": "Succeeded",
        "severity": "critical",
        "rootCause": "CrashLoopBackOff",
        "summary": "s",
        "answer": "a",
        "recommendations": ["r"],
        "source": "rules",
        "findings": [
            {
                "code": "CrashLoopBackOff",
                "severity": "critical",
                "title": "t",
                "detail": "d",
                "evidence": ["e"],
                "suggestion": "s",
                "objects": [{"kind": "Pod", "namespace": "shop", "name": "p"}],
            }
        ],
        "rollout": {"revision": 2, "previousRevision": 1, "changes": ["c"]},
        "observedGeneration": 1,
        "startedAt": "2026-11-20T09:00:00Z",
        "completedAt": "2026-11-20T09:00:02Z",
        "conditions": [
            {
                "type": "Diagnosed",
                "status": "True",
                "reason": "RootCauseFound",
                "message": "m",
                "lastTransitionTime": "2026-11-20T09:00:02Z",
            }
        ],
    }
    validate(task)
    task["status"]["severity"] = "none"
    validate(task)
    task["status"]["phase"] = "Done"
    with pytest.raises(jsonschema.ValidationError):
        validate(task)
