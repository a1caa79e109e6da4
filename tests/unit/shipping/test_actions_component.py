"""k8s/components/actions: the admission policy, its binding and the operator's extra rights,
the overlay that uses it, and the chart's ``actions.enabled`` rendering the same objects."""

from __future__ import annotations

import kubernetes_validate
import pytest

from highpeaks_agent.actions.gate import POLICY_NAME
from highpeaks_agent.permissions import ACTIONS_PERMISSIONS, cluster_role_rules
from tests.unit.shipping.shipped import (
    KUBERNETES_VERSION,
    NAME,
    NAMESPACE,
    Objects,
    grants,
    label,
    render,
    render_chart,
)
from tests.unit.shipping.test_chart import by_key, comparable

ADDED = {
    ("ValidatingAdmissionPolicy", "", POLICY_NAME),
    ("ValidatingAdmissionPolicyBinding", "", POLICY_NAME),
    ("ClusterRole", "", POLICY_NAME),
    ("ClusterRoleBinding", "", POLICY_NAME),
}


@pytest.fixture(scope="module")
def actions_objects() -> Objects:
    return render("k8s/overlays/actions")


def added(actions_objects: Objects, base_objects: Objects) -> dict[tuple[str, str, str], dict]:  # type: ignore[type-arg]
    base = by_key(base_objects)
    return {k: o for k, o in by_key(actions_objects).items() if k not in base}


def test_the_overlay_is_the_base_and_the_component(
    actions_objects: Objects, base_objects: Objects
) -> None:
    extra = added(actions_objects, base_objects)
    assert set(extra) == ADDED
    base = by_key(base_objects)
    assert all(by_key(actions_objects)[k] == o for k, o in base.items()), "the base unchanged"
    for obj in extra.values():
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{label(obj)} does not validate against {KUBERNETES_VERSION}: {exc}")


def test_the_component_role_grants_exactly_the_actions_permissions(
    actions_objects: Objects, base_objects: Objects
) -> None:
    extra = added(actions_objects, base_objects)
    role = extra[("ClusterRole", "", POLICY_NAME)]
    assert grants(role["rules"]) == grants(cluster_role_rules(ACTIONS_PERMISSIONS))
    writes = {(g, r) for g, r, v in grants(role["rules"]) if v not in ("get", "list", "watch")}
    assert writes == {("apps", "deployments"), ("apps", "statefulsets"), ("apps", "daemonsets")}
    binding = extra[("ClusterRoleBinding", "", POLICY_NAME)]
    assert binding["roleRef"]["name"] == POLICY_NAME
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]


def test_the_binding_denies_with_the_policy_the_operator_looks_for(
    actions_objects: Objects, base_objects: Objects
) -> None:
    extra = added(actions_objects, base_objects)
    binding = extra[("ValidatingAdmissionPolicyBinding", "", POLICY_NAME)]
    assert binding["spec"] == {"policyName": POLICY_NAME, "validationActions": ["Deny"]}
    policy = extra[("ValidatingAdmissionPolicy", "", POLICY_NAME)]["spec"]
    assert policy["failurePolicy"] == "Fail"
    (rule,) = policy["matchConstraints"]["resourceRules"]
    assert rule["resources"] == ["agenttasks"] and rule["operations"] == ["CREATE", "UPDATE"]
    checks = " ".join(v["expression"] for v in policy["validations"])
    assert "request.userInfo.username" in checks and ".check('patch').allowed()" in checks


def test_the_chart_renders_the_component_with_actions_enabled(
    helm_path: str, actions_objects: Objects, base_objects: Objects
) -> None:
    extra = added(actions_objects, base_objects)
    chart = by_key(render_chart(helm_path, "--set", "actions.enabled=true"))
    assert {k: comparable(chart[k]) for k in extra} == {k: comparable(o) for k, o in extra.items()}
    plain = by_key(render_chart(helm_path))
    assert not set(plain) & ADDED, "off by default"
