"""Which change broke a rollout: Argo CD, Flux and Helm recognised from the workload, the
commit pair from their status as the controllers write it, and the GitOps next step."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from highpeaks_agent.engine import Snapshot, diagnose
from highpeaks_agent.engine.delivery import manager_of
from highpeaks_agent.engine.model import Diagnosis

from .builders import NOW, ts
from .gitops import FLUX_LABELS, NEW, OLD, TRACKING, application, kustomization, rollout


def only(objects: list[dict[str, Any]]) -> Diagnosis:
    [found] = diagnose(Snapshot.from_objects(objects), now=NOW)
    return found


def test_argocd_commit_pair_sync_time_compare_link_and_rollback_step() -> None:
    found = only([*rollout(annotations=TRACKING), application()])
    assert found.rollout is not None and found.rollout.delivery is not None
    delivery = found.rollout.delivery
    assert (delivery.manager, delivery.commit, delivery.previous_commit) == ("argocd", NEW, OLD)
    assert delivery.repository == "https://github.com/example/shop-deploy"
    assert delivery.path == "apps/checkout"
    assert delivery.synced_at == ts(595)
    assert delivery.compare_url == f"https://github.com/example/shop-deploy/compare/{OLD}...{NEW}"
    assert (delivery.history_id, delivery.previous_history_id) == (5, 4)
    assert "Revert commit 9a8b7c6" in delivery.next_step
    assert "`argocd app rollback checkout 4`" in delivery.next_step
    data = found.to_json_dict()["rollout"]
    assert isinstance(data, dict)
    assert data["delivery"]["commit"] == NEW
    assert data["delivery"]["source"] == {
        "kind": "Application",
        "namespace": "argocd",
        "name": "checkout",
    }


def test_argocd_picks_the_sync_that_created_the_failing_replicaset_not_the_newest() -> None:
    app = application()
    # a later sync that changed something else (a ConfigMap) does not move the blame
    app["status"]["history"].append(
        {**app["status"]["history"][-1], "id": 6, "revision": "b" * 40, "deployedAt": ts(60)}
    )
    found = only([*rollout(annotations=TRACKING), app])
    assert found.rollout is not None and found.rollout.delivery is not None
    assert (found.rollout.delivery.commit, found.rollout.delivery.history_id) == (NEW, 5)


def test_an_application_outside_argocds_namespace_is_named_from_the_tracking_id() -> None:
    tracking = {"argocd.argoproj.io/tracking-id": "team-a_checkout:apps/Deployment:shop/checkout"}
    found = only([*rollout(annotations=tracking), application(namespace="team-a")])
    assert found.rollout is not None and found.rollout.delivery is not None
    assert found.rollout.delivery.source.namespace == "team-a"
    assert "`argocd app rollback team-a/checkout 4`" in found.rollout.delivery.next_step


def test_the_instance_label_alone_needs_an_application_of_that_name() -> None:
    labels = {"app.kubernetes.io/instance": "checkout"}
    found = only([*rollout(labels=labels), application()])
    assert found.rollout is not None and found.rollout.delivery is not None
    assert found.rollout.delivery.commit == NEW
    # many tools set the label: without an Application it says nothing
    alone = only(rollout(labels=labels))
    assert alone.rollout is not None and alone.rollout.delivery is None


def test_an_application_that_could_not_be_read_is_said_so_with_the_gitops_step() -> None:
    snapshot = Snapshot.from_objects(rollout(annotations=TRACKING))
    snapshot.unread_sources[("Application", "argocd", "checkout")] = "forbidden"
    [found] = diagnose(snapshot, now=NOW)
    assert found.rollout is not None and found.rollout.delivery is not None
    delivery = found.rollout.delivery
    assert not delivery.seen and delivery.commit == ""
    assert (
        delivery.note == "Could not see the GitOps source Application argocd/checkout: forbidden."
    )
    assert "`argocd app history checkout`" in delivery.next_step


def test_an_application_of_another_api_group_is_not_argo_cds() -> None:
    stranger = application()
    stranger["apiVersion"] = "app.k8s.io/v1beta1"
    found = only([*rollout(annotations=TRACKING), stranger])
    assert found.rollout is not None and found.rollout.delivery is not None
    assert not found.rollout.delivery.seen


def test_a_hand_made_fix_is_replaced_by_the_gitops_step_for_a_managed_workload() -> None:
    objects = rollout(annotations=TRACKING)
    dep = objects[0]
    dep["status"]["conditions"] = [
        {
            "type": "Progressing",
            "status": "False",
            "reason": "ProgressDeadlineExceeded",
            "message": 'ReplicaSet "checkout-7c9f8d6b5" has timed out progressing.',
            "lastTransitionTime": ts(60),
        }
    ]
    plain = copy.deepcopy(objects)
    del plain[0]["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"]
    by_hand = [f.suggestion for f in only(plain).findings]
    managed = [f.suggestion for f in only([*objects, application()]).findings]
    assert any("`kubectl rollout undo" in s for s in by_hand)
    assert not any("`kubectl rollout undo" in s for s in managed)
    assert any(s.startswith("Revert commit 9a8b7c6") for s in managed)


def test_flux_kustomization_commit_pair_from_its_history_and_its_gitrepository() -> None:
    found = only([*rollout(labels=FLUX_LABELS), *kustomization()])
    assert found.rollout is not None and found.rollout.delivery is not None
    delivery = found.rollout.delivery
    assert delivery.manager == "flux-kustomization"
    assert (delivery.commit, delivery.previous_commit) == (NEW, OLD)
    assert delivery.repository == "https://gitlab.com/example/fleet"
    assert delivery.path == "./apps/production"
    assert delivery.synced_at == ts(598)
    assert delivery.compare_url == f"https://gitlab.com/example/fleet/-/compare/{OLD}...{NEW}"
    assert "`flux suspend kustomization apps -n flux-system`" in delivery.next_step


def test_flux_kustomization_without_history_still_names_the_applied_commit() -> None:
    found = only([*rollout(labels=FLUX_LABELS), *kustomization(history=False)])
    assert found.rollout is not None and found.rollout.delivery is not None
    delivery = found.rollout.delivery
    assert (delivery.commit, delivery.previous_commit, delivery.compare_url) == (NEW, "", "")
    assert delivery.synced_at == ts(598)


def test_flux_helmrelease_names_the_release_pair_and_the_suspend_step() -> None:
    labels = {"helm.toolkit.fluxcd.io/name": "checkout", "helm.toolkit.fluxcd.io/namespace": "shop"}
    annotations = {
        "meta.helm.sh/release-name": "checkout",
        "meta.helm.sh/release-namespace": "shop",
    }
    hr = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "checkout", "namespace": "shop"},
        "spec": {
            "chart": {
                "spec": {
                    "chart": "checkout",
                    "sourceRef": {"kind": "HelmRepository", "name": "charts"},
                }
            }
        },
        "status": {
            "history": [
                {
                    "name": "checkout",
                    "namespace": "shop",
                    "version": 7,
                    "chartName": "checkout",
                    "chartVersion": "2.14.0",
                    "status": "deployed",
                    "lastDeployed": ts(600),
                    "firstDeployed": ts(86400),
                },
                {
                    "name": "checkout",
                    "namespace": "shop",
                    "version": 6,
                    "chartName": "checkout",
                    "chartVersion": "2.13.4",
                    "status": "superseded",
                    "lastDeployed": ts(7200),
                    "firstDeployed": ts(86400),
                },
            ]
        },
    }
    found = only([*rollout(labels=labels, annotations=annotations), hr])
    assert found.rollout is not None and found.rollout.delivery is not None
    delivery = found.rollout.delivery
    assert delivery.manager == "flux-helmrelease"
    assert (delivery.chart, delivery.previous_chart) == ("checkout@2.14.0", "checkout@2.13.4")
    assert (delivery.history_id, delivery.previous_history_id) == (7, 6)
    assert delivery.synced_at == ts(600)
    assert "`flux suspend helmrelease checkout -n shop`" in delivery.next_step


def test_plain_helm_release_and_chart_pair_from_the_pod_templates_labels() -> None:
    annotations = {
        "meta.helm.sh/release-name": "checkout",
        "meta.helm.sh/release-namespace": "shop",
    }
    objects = rollout(labels={"helm.sh/chart": "checkout-2.14.0"}, annotations=annotations)
    objects[1]["spec"]["template"]["metadata"] = {"labels": {"helm.sh/chart": "checkout-2.13.4"}}
    objects[2]["spec"]["template"]["metadata"] = {"labels": {"helm.sh/chart": "checkout-2.14.0"}}
    found = only(objects)
    assert found.rollout is not None and found.rollout.delivery is not None
    delivery = found.rollout.delivery
    assert (delivery.manager, delivery.source.name) == ("helm", "checkout")
    assert (delivery.chart, delivery.previous_chart) == ("checkout-2.14.0", "checkout-2.13.4")
    assert not delivery.gitops
    assert delivery.next_step.startswith(
        "Roll the release back to its previous revision: `helm rollback checkout -n shop`"
    )


@pytest.mark.parametrize(
    ("metadata", "manager"),
    [
        ({"annotations": TRACKING, "labels": FLUX_LABELS}, "argocd"),
        ({"labels": {**FLUX_LABELS, "helm.toolkit.fluxcd.io/name": "x"}}, "flux-helmrelease"),
        ({"labels": FLUX_LABELS}, "flux-kustomization"),
        (
            {
                "annotations": {"meta.helm.sh/release-name": "x"},
                "labels": {"app.kubernetes.io/instance": "x"},
            },
            "helm",
        ),
        ({"labels": {"app.kubernetes.io/instance": "x"}}, "argocd"),
        ({"labels": {"app": "x"}}, None),
    ],
)
def test_the_most_specific_sign_of_a_manager_wins(
    metadata: dict[str, Any], manager: str | None
) -> None:
    found = manager_of({"metadata": {"name": "x", "namespace": "shop", **metadata}})
    assert (found.manager if found else None) == manager


def test_a_workload_nobody_manages_has_no_delivery_and_its_json_no_field() -> None:
    found = only(rollout())
    assert found.rollout is not None and found.rollout.delivery is None
    assert "delivery" not in found.to_json_dict()["rollout"]  # type: ignore[operator]


def test_an_application_of_a_helm_chart_names_chart_versions_not_commits() -> None:
    app = application()
    for entry, version in zip(
        app["status"]["history"], ("2.13.0", "2.13.4", "2.14.0"), strict=True
    ):
        entry["revision"] = version
        entry["source"] = {
            "repoURL": "https://charts.example.com",
            "chart": "checkout",
            "targetRevision": version,
        }
    found = only([*rollout(annotations=TRACKING), app])
    assert found.rollout is not None and found.rollout.delivery is not None
    delivery = found.rollout.delivery
    assert (delivery.commit, delivery.previous_commit, delivery.path) == (
        "2.14.0",
        "2.13.4",
        "checkout",
    )
    assert (delivery.compare_url, delivery.repository) == ("", "https://charts.example.com")
    assert delivery.next_step.startswith("Undo revision 2.14.0 in the Application's source")
    assert "`argocd app rollback checkout 4`" in delivery.next_step
