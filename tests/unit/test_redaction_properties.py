"""CONTRACT §3 as a property: secrets of every shape, planted anywhere, never come out.

Random secrets are placed at random positions of long multi-line logs, termination messages,
event messages, container command/args of the failing and the previous template, env values
echoed elsewhere, and the user's question. The engine and every renderer then run: the CLI's
text and JSON, the AgentTask status, the IncidentNote Event, the /assist answer and the
Flowise request. No piece of any secret may appear in any of them.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from highpeaks_agent.controller.events import new_event
from highpeaks_agent.controller.incidents import Action, note_message
from highpeaks_agent.controller.status import completed_status
from highpeaks_agent.engine import Snapshot, diagnose
from highpeaks_agent.engine.snapshot import ContainerLog
from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS
from highpeaks_agent.explain import ExplainOutcome, ExplainRequest
from highpeaks_agent.flowise.context import render_request
from highpeaks_agent.http.models import AssistResponse
from highpeaks_agent.render.json import render_json
from highpeaks_agent.render.table import render_table
from highpeaks_agent.render.text import render_text
from highpeaks_agent.service import DiagnosisService, Report
from tests.support.strategies import Planted, log_around, planted_secrets, text_around

from .engine.builders import (
    NOW,
    container,
    deployment,
    event,
    pod,
    replicaset,
    terminated,
    waiting,
)

PLACES = ("log", "termination", "event", "args-new", "args-old", "question")
WINDOW = 8  # no run of this many characters of a secret may come out
MIN_PIECE = 4  # the shortest env value the redactor takes as a known secret


@dataclass
class Incident:
    """A failing rollout with secrets planted in it, ready to diagnose."""

    planted: list[Planted]
    objects: list[dict[str, Any]]
    logs: dict[tuple[str, str, str], ContainerLog]
    question: str
    deployment: dict[str, Any] = field(default_factory=dict)

    def snapshot(self) -> Snapshot:
        snapshot = Snapshot.from_objects(self.objects)
        snapshot.logs.update(self.logs)
        return snapshot

    @property
    def secrets(self) -> list[str]:
        return [secret for planted in self.planted for secret in planted.secrets]


def _command(draw: st.DrawFn, planted: Planted) -> dict[str, Any]:
    """``planted.argv`` as container command + args, split at a random item."""
    argv = list(planted.argv)
    if planted.program:
        return {"image": planted.program, "args": argv}
    split = draw(st.integers(0, len(argv)))
    return {"command": argv[:split] or None, "args": argv[split:] or None}


@st.composite
def incidents(draw: st.DrawFn) -> Incident:
    planted = draw(st.lists(planted_secrets, min_size=1, max_size=3))
    texts: dict[str, list[str]] = {place: [] for place in PLACES}
    new_app: dict[str, Any] = {}
    old_app: dict[str, Any] = {"args": ["--port", "80"]}
    env = [{"name": "LOG_LEVEL", "value": "debug"}]
    for item in planted:
        env.extend({"name": name, "value": value} for name, value in item.env.items())
        places = [p for p in PLACES if item.argv or not p.startswith("args")]
        places = [p for p in places if item.in_question or p != "question"]
        place = draw(st.sampled_from(places))
        if place == "args-new":
            new_app.update(_command(draw, item))
        elif place == "args-old":
            old_app = _command(draw, item)
        elif place == "log":
            texts["log"].append(draw(log_around(item)))
        else:
            texts[place].append(draw(text_around(item)))
    if draw(st.booleans()):
        env.append(_piece_of_a_secret(draw, planted))
    return _build(planted, texts, new_app, old_app, env)


def _piece_of_a_secret(draw: st.DrawFn, planted: list[Planted]) -> dict[str, Any]:
    """A secret env var whose value is a piece of a planted secret: a short password that
    happens to occur inside a key's body, a key id or a token. Known values are replaced before
    the shape rules run, so what is left of the secret around one must still be found; random
    secrets drawn apart almost never overlap like this."""
    secret = draw(st.sampled_from([s for item in planted for s in item.secrets]))
    start = draw(st.integers(0, len(secret) - MIN_PIECE))
    end = draw(st.integers(start + MIN_PIECE, len(secret)))
    return {"name": "CACHE_PASSWORD", "value": secret[start:end]}


def _build(
    planted: list[Planted],
    texts: dict[str, list[str]],
    new_app: dict[str, Any],
    old_app: dict[str, Any],
    env: list[dict[str, Any]],
) -> Incident:
    new = container(**{"image": "shop/checkout:2.14.0", **new_app}, env=env)
    old = container(**{"image": "shop/checkout:2.13.4", **old_app}, env=env)
    dep = deployment(revision=2, available=0, replicas=1, containers=[new])
    old_rs = replicaset(dep, "5d8c7b9f4", revision=1, replicas=0, containers=[old])
    new_rs = replicaset(dep, "7c9f8d6b5", revision=2, containers=[new])
    message = "\n".join(texts["termination"])
    failing = pod(
        "checkout-7c9f8d6b5-x2k4q",
        owner=new_rs,
        containers=[new],
        statuses=[waiting(restarts=5, last=terminated(1, message=message))],
    )
    events = [
        event(failing, "Unhealthy", f"Liveness probe failed: {text}") for text in texts["event"]
    ]
    logs = {}
    if texts["log"]:
        log = ContainerLog("".join(texts["log"]), previous=True)
        logs[("shop", failing["metadata"]["name"], "app")] = log
    question = "Why is checkout failing? " + " ".join(texts["question"])
    return Incident(planted, [dep, old_rs, new_rs, failing, *events], logs, question, dep)


class IncidentSource:
    """Serves the incident the way the live source would."""

    def __init__(self, incident: Incident) -> None:
        self.incident = incident

    async def target_snapshot(self, namespace: str, kind: str, name: str, **_: object) -> Snapshot:
        return self.incident.snapshot()

    async def namespace_snapshot(self, namespace: str, **_: object) -> Snapshot:
        return self.incident.snapshot()


class RecordingExplainer:
    """A flow that never answers, keeping what it was asked."""

    def __init__(self) -> None:
        self.requests: list[ExplainRequest] = []

    async def explain(self, request: ExplainRequest) -> ExplainOutcome:
        self.requests.append(request)
        return ExplainOutcome(status="unavailable", reason="timeout")


async def _reports(incident: Incident) -> tuple[Report, Report, list[ExplainRequest]]:
    explainer = RecordingExplainer()
    service = DiagnosisService(
        IncidentSource(incident),
        thresholds=DEFAULT_THRESHOLDS,
        explainer=explainer,
        clock=lambda: NOW,
    )
    question = incident.question
    diagnosed = await service.diagnose_target("shop", "Deployment", "checkout", trigger="task")
    target = await service.explain(diagnosed, question=question)
    in_namespace = await service.diagnose_namespace("shop", trigger="assist")
    namespace = await service.explain(in_namespace, question=question)
    return target, namespace, explainer.requests


def rendered(incident: Incident) -> dict[str, str]:
    """Everything each way out of the process would publish about this incident."""
    diagnoses = diagnose(incident.snapshot(), now=NOW)
    assert diagnoses and diagnoses[0].findings, "the planted incident must be diagnosed"
    target, namespace, requests = asyncio.run(_reports(incident))
    note = note_message(target, Action("open", "incident-checkout-r2", 2, "CrashLoopBackOff"))
    status = completed_status(
        target, generation=1, started_at=NOW, now=NOW, flowise_configured=True
    )
    assist = AssistResponse(
        answer=namespace.answer,
        diagnoses=[d.to_json_dict() for d in namespace.diagnoses],
        source=namespace.source,
        namespace="shop",
        recommendations=namespace.recommendations,
    )
    outputs = {
        "diagnose -o text": render_text(diagnoses, pods=1, namespaces=1, color=False),
        "diagnose -o json": render_json(diagnoses, now=NOW, pods_checked=1),
        "diagnose -o table": render_table(diagnoses, now=NOW, created={}, pods=1, namespaces=1),
        "AgentTask status": json.dumps(status),
        "IncidentNote Event": json.dumps(
            new_event(
                incident.deployment,
                reason="IncidentNote",
                message=note,
                type_="Warning",
                key="2/CrashLoopBackOff",
                now=NOW,
            )
        ),
        "/assist answer": assist.model_dump_json(),
    }
    for index, request in enumerate(requests):
        sent = render_request(request, 8192)
        outputs[f"Flowise request {index}"] = sent
        outputs[f"Flowise request {index}, decoded"] = json.dumps(json.loads(sent))
    return outputs


def leaks(outputs: dict[str, str], secrets: list[str]) -> list[str]:
    """Where any run of WINDOW characters of a secret appears."""
    found = []
    for where, text in outputs.items():
        for secret in secrets:
            windows = {secret[i : i + WINDOW] for i in range(max(1, len(secret) - WINDOW + 1))}
            found.extend(f"{where}: {w!r} of {secret!r}" for w in windows if w in text)
    return found


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(incident=incidents())
def test_no_planted_secret_comes_out_of_any_renderer(incident: Incident) -> None:
    outputs = rendered(incident)
    assert leaks(outputs, incident.secrets) == []
