"""The Kopf wiring: what is registered for which settings, the task filter, indexers, shutdown."""

from __future__ import annotations

import copy
from typing import Any

import kopf
import pytest
from kubernetes import client

from highpeaks_agent.controller.handlers import (
    action_unfinished,
    finish_action,
    needs_answer,
    open_incidents,
    register,
    replicaset_owners,
    run_action,
    run_task,
    shutdown,
)
from highpeaks_agent.controller.tasks import TRIGGER_LABEL
from highpeaks_agent.main import build_services
from highpeaks_agent.settings import Settings


def task(
    *,
    generation: int = 1,
    status: dict[str, Any] | None = None,
    labels: dict[str, str] | None = None,
) -> kopf.Body:
    return kopf.Body(
        {
            "metadata": {
                "name": "why",
                "namespace": "shop",
                "generation": generation,
                "labels": labels or {},
            },
            "spec": {"target": {"kind": "Deployment", "name": "checkout"}},
            "status": status or {},
        }
    )


def passes(body: kopf.Body) -> bool:
    return needs_answer(labels=body.metadata.labels, body=body)


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
def test_a_task_answered_for_its_generation_is_not_run_again(phase: str) -> None:
    # e.g. a create event delivered late, or a resume, for a task already finished
    assert not passes(task(status={"phase": phase, "observedGeneration": 1}))


@pytest.mark.parametrize(
    "body",
    [
        task(),  # new: no status yet
        task(status={"phase": "Pending", "observedGeneration": 1}),
        task(status={"phase": "Running", "observedGeneration": 1}),  # interrupted by a restart
        task(generation=2, status={"phase": "Succeeded", "observedGeneration": 1}),  # spec edited
        task(generation=2, status={"phase": "Failed", "observedGeneration": 1}),
    ],
)
def test_a_task_whose_status_does_not_answer_its_spec_runs(body: kopf.Body) -> None:
    assert passes(body)


def test_incident_tasks_are_never_run_as_user_tasks() -> None:
    assert not passes(task(labels={TRIGGER_LABEL: "auto"}))
    assert passes(task(labels={TRIGGER_LABEL: "manual"}))


def test_a_resolved_incident_leaves_the_index() -> None:
    owned: dict[str, Any] = {
        "metadata": {"ownerReferences": [{"kind": "Deployment", "name": "checkout"}]},
        "status": {"conditions": []},
    }
    assert open_incidents(namespace="shop", body=kopf.Body(owned)) == {
        ("shop", "Deployment", "checkout"): True
    }
    owned["status"]["conditions"] = [{"type": "Resolved", "status": "True"}]
    # {} (not None) is what makes Kopf drop the task's earlier entry
    assert open_incidents(namespace="shop", body=kopf.Body(owned)) == {}


def test_replicasets_are_indexed_by_their_deployment() -> None:
    ref = {"kind": "Deployment", "name": "checkout", "controller": True}
    body = kopf.Body({"metadata": {"ownerReferences": [ref]}})
    assert replicaset_owners(namespace="shop", name="checkout-5d9f", body=body) == {
        ("shop", "checkout-5d9f"): "checkout"
    }
    assert replicaset_owners(namespace="shop", name="lone", body=kopf.Body({})) == {}


def registered(settings: Settings) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    register(registry, settings)
    return registry


def test_the_namespace_index_exists_only_with_a_selector() -> None:
    def indices(registry: kopf.OperatorRegistry) -> set[str]:
        return {h.id for h in registry._indexing.get_all_handlers()}

    assert indices(registered(Settings())) == {"replicaset_owners", "open_incidents"}
    assert indices(registered(Settings(watch_namespace_selector="team=payments"))) == {
        "selected_namespaces",
        "replicaset_owners",
        "open_incidents",
    }


def test_resume_create_and_spec_update_share_one_filtered_handler() -> None:
    handlers = registered(Settings())._changing.get_all_handlers()
    tasks = [h for h in handlers if h.fn is run_task]
    # (reason, initial) is how Kopf tells them apart: resume is "initial", with no reason
    assert {(h.id, str(h.reason), h.initial) for h in tasks} == {
        ("run_task", "None", True),
        ("run_task", "create", None),
        ("run_task/spec", "update", None),
    }
    assert all(h.when is needs_answer for h in tasks)


async def test_shutdown_closes_the_flowise_client() -> None:
    settings = Settings(flowise_url="http://flowise.invalid:3000", flowise_flow_id="flow")
    services, _ = build_services(settings, client.ApiClient())
    assert copy.copy(services) is services  # one memo for every object Kopf watches
    assert services.explainer is not None
    http = services.explainer._client._http  # type: ignore[attr-defined]
    assert not http.is_closed
    await shutdown(memo=services)
    assert http.is_closed


async def test_shutdown_without_flowise() -> None:
    services, _ = build_services(Settings(), client.ApiClient())
    assert services.explainer is None
    await shutdown(memo=services)


def test_actions_run_after_the_diagnosis_and_a_timer_finishes_what_a_fault_cut_off() -> None:
    registry = registered(Settings(resync_seconds=7))
    changing = registry._changing.get_all_handlers()
    ids = [h.id for h in changing if h.fn in (run_task, run_action)]
    assert ids.index("run_action") > ids.index("run_task"), "the diagnosis first"
    actions = [h for h in changing if h.fn is run_action]
    assert {(h.id, str(h.reason), h.initial) for h in actions} == {
        ("run_action", "None", True),
        ("run_action", "create", None),
        ("run_action/spec", "update", None),
    }
    assert all(h.when is action_unfinished for h in actions)
    (timer,) = [h for h in registry._spawning.get_all_handlers() if h.fn is finish_action]
    assert timer.interval == 7 and timer.when is action_unfinished


def test_a_task_asking_for_an_action_passes_the_filter_until_it_is_finished() -> None:
    body = copy.deepcopy(dict(task()))
    body["spec"]["approval"] = {"action": "restart", "by": "alice"}
    assert action_unfinished(body=kopf.Body(body))
    body["status"] = {"actions": [{"id": "restart", "action": "restart", "result": "Failed"}]}
    assert not action_unfinished(body=kopf.Body(body))
    assert not action_unfinished(body=task())
