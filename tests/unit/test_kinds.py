"""The table of kinds: the Literal pydantic validates against, kubectl's names, the models and
the pod grouping that read it."""

from __future__ import annotations

from typing import get_args

import pytest
from pydantic import ValidationError

from highpeaks_agent.controller.spec import TargetSpec
from highpeaks_agent.engine import kinds
from highpeaks_agent.engine.kinds import BY_KIND, KINDS, TARGET_KINDS, WORKLOAD_KINDS, lookup
from highpeaks_agent.http.assist import TARGET_RESOURCES
from highpeaks_agent.http.models import TargetRef


def test_the_literal_names_exactly_the_target_kinds_of_the_table() -> None:
    assert get_args(kinds.TargetKind) == TARGET_KINDS
    assert TARGET_KINDS == (
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "Job",
        "ReplicaSet",
        "Pod",
        "CronJob",
    )


def test_pods_group_under_the_controllers_that_own_them() -> None:
    workloads = ["DaemonSet", "Deployment", "Job", "ReplicaSet", "StatefulSet"]
    assert sorted(WORKLOAD_KINDS) == workloads
    cronjob = BY_KIND["CronJob"]
    assert cronjob.target and not cronjob.workload, "a CronJob controls Jobs, not pods"


def test_every_spelling_names_one_kind_only() -> None:
    spellings = [name for info in KINDS for name in info.names]
    assert len(spellings) == len(set(spellings))


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Deployment", "Deployment"),
        ("deployment", "Deployment"),
        ("deployments", "Deployment"),
        ("deploy", "Deployment"),
        ("deployments.apps", "Deployment"),
        ("sts", "StatefulSet"),
        ("ds", "DaemonSet"),
        ("job", "Job"),
        ("jobs.batch", "Job"),
        ("rs", "ReplicaSet"),
        ("po", "Pod"),
        ("pod", "Pod"),
        ("cronjob", "CronJob"),
        ("cj", "CronJob"),
        ("cronjobs.batch", "CronJob"),
        ("pvc", "PersistentVolumeClaim"),
        ("controllerrevisions.apps", "ControllerRevision"),
        ("no", "Node"),
        ("nodes", "Node"),
    ],
)
def test_kubectl_names_find_their_kind(name: str, kind: str) -> None:
    info = lookup(name)
    assert info is not None and info.kind == kind


@pytest.mark.parametrize("name", ["deploy.batch", "crontab", "", "secrets"])
def test_unknown_names_and_wrong_groups_find_nothing(name: str) -> None:
    assert lookup(name) is None


def test_api_versions() -> None:
    assert [BY_KIND[k].api_version for k in ("Deployment", "Job", "Pod")] == [
        "apps/v1",
        "batch/v1",
        "v1",
    ]


def test_assist_checks_get_on_the_tables_resource_for_every_target_kind() -> None:
    assert TARGET_RESOURCES == {
        "Deployment": ("deployments", "apps"),
        "StatefulSet": ("statefulsets", "apps"),
        "DaemonSet": ("daemonsets", "apps"),
        "ReplicaSet": ("replicasets", "apps"),
        "Job": ("jobs", "batch"),
        "Pod": ("pods", ""),
        "CronJob": ("cronjobs", "batch"),
    }


@pytest.mark.parametrize("model", [TargetSpec, TargetRef])
def test_task_and_assist_targets_accept_the_same_kinds_and_names(model: type) -> None:
    for kind in TARGET_KINDS:
        assert model.model_validate({"kind": kind, "name": "web-1.blue"}).kind == kind
    for bad in (
        {"kind": "ControllerRevision", "name": "x"},
        {"kind": "Service", "name": "x"},
        {"kind": "Node", "name": "worker-1"},
        {"kind": "Pod", "name": "Web"},
    ):
        with pytest.raises(ValidationError):
            model.model_validate(bad)
    with pytest.raises(ValidationError):
        model.model_validate({"kind": "Pod", "name": "a" * 254})
