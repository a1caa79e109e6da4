"""/assist answers from the caller's own rights (CONTRACT §7): SubjectAccessReviews per kind
of data, answered by an API server on loopback with RBAC-like per-resource grants."""

from __future__ import annotations

import json
from typing import Any

from highpeaks_agent.engine.snapshot import ContainerLog
from highpeaks_agent.engine.thresholds import DEFAULT_THRESHOLDS
from highpeaks_agent.explain import ExplainOutcome
from highpeaks_agent.readiness import Readiness
from highpeaks_agent.service import DiagnosisService
from highpeaks_agent.settings import Settings
from tests.unit.http.reviews import FakeReviews, bearer, http, make_auth

from ..engine.builders import NOW, event
from ..service.test_diagnosis_service import RecordingExplainer, SnapshotSource, failing_objects

LOG_LINE = "panic: LOG-LINE-ONLY-POD-LOG-READERS-SEE"
EVENT_MESSAGE = "Liveness probe failed: HTTP probe failed with statuscode: 503 EVENT-READERS-ONLY"
POD_NAME = "checkout-7c9f8d6b5-x2k4q"
TARGET = {"kind": "Deployment", "name": "checkout"}


def shop_source() -> SnapshotSource:
    dep, rs, pod = failing_objects()
    return SnapshotSource(
        dep,
        rs,
        pod,
        event(pod, "Unhealthy", EVENT_MESSAGE),
        logs={("shop", POD_NAME, "app"): ContainerLog(f"INFO starting\n{LOG_LINE}\n", True)},
    )


def app_for(url: str, source: SnapshotSource) -> Any:
    from highpeaks_agent.http.app import create_app

    service = DiagnosisService(source, thresholds=DEFAULT_THRESHOLDS, clock=lambda: NOW)
    settings = Settings(assist_default_namespace="shop")
    return create_app(settings, service, Readiness(), make_auth(url))


async def ask(url: str, source: SnapshotSource, token: str, body: dict[str, Any]) -> Any:
    async with http(app_for(url, source)) as agent:
        return await agent.post("/assist", json={"query": "why?", **body}, headers=bearer(token))


async def test_a_user_with_every_right_sees_logs_and_events(
    reviews: tuple[FakeReviews, str],
) -> None:
    response = await ask(reviews[1], shop_source(), "alice-token", {"target": TARGET})
    assert response.status_code == 200
    assert LOG_LINE in response.text and EVENT_MESSAGE in response.text
    assert response.json()["diagnoses"][0]["findings"][0]["code"] == "LivenessProbeFailing"
    assert response.json()["withheld"] == []


async def test_get_pods_alone_shows_no_deployment_no_logs_no_events(
    reviews: tuple[FakeReviews, str],
) -> None:
    """carol may only ``get pods``: the issue's second user."""
    url = reviews[1]
    source = shop_source()
    deployment = await ask(url, source, "carol-token", {"target": TARGET})
    assert (deployment.status_code, deployment.json()["error"]) == (403, "Forbidden")
    namespace = await ask(url, source, "carol-token", {})
    assert (namespace.status_code, namespace.json()["error"]) == (403, "Forbidden")
    pod = await ask(url, source, "carol-token", {"target": {"kind": "Pod", "name": POD_NAME}})
    assert pod.status_code == 200, pod.text
    body = pod.json()
    assert body["diagnoses"][0]["findings"][0]["code"] == "CrashLoopBackOff"
    assert LOG_LINE not in pod.text and EVENT_MESSAGE not in pod.text
    assert body["withheld"] == ["container logs (get pods/log)", "events (list events)"]
    assert "Some evidence was withheld because you may not read it" in body["answer"]
    # the engine never saw what carol may not read: the log and events were not even read
    assert [(v.logs, v.events) for v in source.visibilities] == [(False, False)]


async def test_listing_pods_alone_answers_from_pods_only(reviews: tuple[FakeReviews, str]) -> None:
    response = await ask(reviews[1], shop_source(), "dave-token", {})
    assert response.status_code == 200
    body = response.json()
    assert [d["target"]["kind"] for d in body["diagnoses"]] == ["ReplicaSet"]
    assert "Deployment checkout" not in body["answer"]
    assert LOG_LINE not in response.text and EVENT_MESSAGE not in response.text
    assert "container logs (get pods/log)" in body["withheld"]


async def test_without_pods_a_deployment_gets_its_workload_level_diagnosis_only(
    reviews: tuple[FakeReviews, str],
) -> None:
    response = await ask(reviews[1], shop_source(), "erin-token", {"target": TARGET})
    assert response.status_code == 200, response.text
    assert POD_NAME not in response.text and LOG_LINE not in response.text
    assert EVENT_MESSAGE not in response.text
    assert response.json()["withheld"][0] == "pod states (get pods)"


async def test_a_target_the_user_may_not_get_is_403_whether_it_exists_or_not(
    reviews: tuple[FakeReviews, str],
) -> None:
    url = reviews[1]
    source = shop_source()
    real = await ask(url, source, "carol-token", {"target": TARGET})
    ghost = await ask(url, source, "carol-token", {"target": {**TARGET, "name": "ghost"}})
    assert real.status_code == ghost.status_code == 403
    assert real.json() == ghost.json()
    assert source.visibilities == []  # nothing was read for either


async def test_the_reviews_ask_for_the_kinds_of_data(reviews: tuple[FakeReviews, str]) -> None:
    fake, url = reviews
    await ask(url, shop_source(), "alice-token", {"target": TARGET})
    asked = {
        (
            a["verb"],
            a["resource"] + ("/" + a["subresource"] if "subresource" in a else ""),
            a.get("name", ""),
        )
        for a in (spec["resourceAttributes"] for spec in fake.sar_specs)
    }
    assert asked == {
        ("get", "deployments", "checkout"),
        ("get", "pods", ""),
        ("get", "replicasets", ""),
        ("get", "persistentvolumeclaims", ""),
        ("get", "nodes", ""),
        ("get", "pods/log", ""),
        ("list", "events", ""),
        ("list", "services", ""),
        ("list", "endpointslices", ""),
    }
    assert {spec["user"] for spec in fake.sar_specs} == {"alice"}
    # a Node has no namespace: the review asks at the cluster scope
    (node_review,) = [s for s in fake.sar_specs if s["resourceAttributes"]["resource"] == "nodes"]
    assert node_review["resourceAttributes"]["namespace"] == ""
    fake.sar_specs.clear()
    await ask(url, shop_source(), "alice-token", {})
    namespace_wide = {
        (a["verb"], a["resource"]) for a in (s["resourceAttributes"] for s in fake.sar_specs)
    }
    assert namespace_wide == {
        ("list", "deployments"),
        ("list", "statefulsets"),
        ("list", "daemonsets"),
        ("list", "jobs"),
        ("list", "cronjobs"),
        ("list", "replicasets"),
        ("list", "controllerrevisions"),
        ("list", "persistentvolumeclaims"),
        ("list", "services"),
        ("list", "endpointslices"),
        ("list", "pods"),
        ("get", "pods"),  # pods/log: resource pods, subresource log
        ("get", "nodes"),  # cluster-scoped: read by name, never listed
        ("list", "events"),
    }


async def answered_by_the_flow(url: str, outcome: ExplainOutcome) -> Any:
    from highpeaks_agent.http.app import create_app

    service = DiagnosisService(
        shop_source(),
        thresholds=DEFAULT_THRESHOLDS,
        explainer=RecordingExplainer(outcome),
        clock=lambda: NOW,
    )
    app = create_app(Settings(), service, Readiness(), make_auth(url))
    async with http(app) as agent:
        body = {"query": "why?", "namespace": "shop", "target": TARGET}
        return (await agent.post("/assist", json=body, headers=bearer("alice-token"))).json()


async def test_flow_text_in_an_answer_is_labelled_as_generated(
    reviews: tuple[FakeReviews, str],
) -> None:
    agreeing = ExplainOutcome(
        status="ok", summary="It crashes.", root_cause="LivenessProbeFailing", answer="It crashes."
    )
    body = await answered_by_the_flow(reviews[1], agreeing)
    assert (body["source"], body["generated"], body["answer"]) == (
        "flowise",
        True,
        "[generated] It crashes.",
    )
    healthy = ExplainOutcome(status="ok", summary="All good", answer="Everything is healthy.")
    body = await answered_by_the_flow(reviews[1], healthy)
    assert body["source"] == "rules" and body["generated"]
    assert body["answer"].startswith("Deployment shop/checkout is failing")
    assert body["answer"].endswith(
        "\n[generated, not used: it calls a failing workload healthy] Everything is healthy."
    )
    destructive = ExplainOutcome(
        status="ok", summary="Clean up.", recommendations=["kubectl delete namespace shop"]
    )
    body = await answered_by_the_flow(reviews[1], destructive)
    assert body["source"] == "rules" and not body["generated"]
    assert "delete" not in json.dumps(body) and "Clean up" not in json.dumps(body)


async def test_nodes_are_read_for_callers_who_may_get_them_and_never_reported_withheld(
    reviews: tuple[FakeReviews, str],
) -> None:
    url = reviews[1]
    source = shop_source()
    await ask(url, source, "alice-token", {"target": TARGET})
    await ask(url, source, "alice-token", {})
    assert [v.may_read("Node") for v in source.visibilities] == [True, True]
    response = await ask(url, source, "erin-token", {"target": TARGET})
    assert not source.visibilities[-1].may_read("Node")
    assert not any("Node" in line for line in response.json()["withheld"])
