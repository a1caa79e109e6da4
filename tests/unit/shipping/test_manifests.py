"""What ships to a cluster: the Kustomize base and dev overlay render, every object validates
against the Kubernetes schemas, the ClusterRole grants exactly what the code uses, and the
Deployment meets PodSecurity "restricted".

Rendering uses the real ``kubectl kustomize`` (once per session, see conftest); validation
uses the OpenAPI schemas bundled with ``kubernetes-validate`` (offline, strict). The AgentTask
CRD's own schema is exercised in ``tests/unit/crd``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from highpeaks_agent.permissions import PERMISSIONS, cluster_role_rules
from highpeaks_agent.settings import Settings
from highpeaks_agent.settings_names import SECRET_SETTING_NAMES
from tests.unit.shipping.shipped import (
    KUBERNETES_VERSION,
    NAME,
    NAMESPACE,
    ROOT,
    Objects,
    agent_container,
    as_mounted,
    effective_env,
    grants,
    label,
    load,
    one,
    secret_files,
)

KINDS = [
    "ClusterKopfPeering",
    "ClusterRole",  # the agent's
    "ClusterRole",  # aggregated into view
    "ClusterRole",  # aggregated into edit
    "ClusterRoleBinding",
    "ConfigMap",
    "CustomResourceDefinition",  # AgentTask
    "CustomResourceDefinition",  # ClusterKopfPeering
    "Deployment",
    "Namespace",
    "NetworkPolicy",
    "PodDisruptionBudget",
    "Service",
    "ServiceAccount",
]
CLUSTER_SCOPED = {
    "ClusterKopfPeering",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "Namespace",
}
#: Custom resources the manifests ship instances of: validated against their shipped CRD.
CUSTOM = {"ClusterKopfPeering"}
API_VERBS = {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}


@pytest.fixture(params=["base", "dev"])
def rendered(request: pytest.FixtureRequest) -> Objects:
    objects: Objects = request.getfixturevalue(f"{request.param}_objects")
    return objects


# --- every object is a valid Kubernetes object ---------------------------------------------


def test_every_rendered_object_validates(rendered: Objects) -> None:
    assert sorted(o["kind"] for o in rendered) == sorted(KINDS), "the expected objects"
    for obj in rendered:
        if obj["kind"] in CUSTOM:
            assert_served_by_a_shipped_crd(rendered, obj)
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{label(obj)} does not validate against {KUBERNETES_VERSION}: {exc}")


def assert_served_by_a_shipped_crd(rendered: Objects, obj: dict[str, Any]) -> None:
    """A custom object is served by a CRD in the same manifests, with the same scope."""
    group, version = obj["apiVersion"].split("/")
    crds = [o for o in rendered if o["kind"] == "CustomResourceDefinition"]
    (crd,) = [c for c in crds if c["spec"]["group"] == group]
    assert crd["spec"]["names"]["kind"] == obj["kind"]
    assert crd["spec"]["scope"] == ("Cluster" if obj["kind"] in CLUSTER_SCOPED else "Namespaced")
    assert [v["name"] for v in crd["spec"]["versions"] if v["served"]] == [version]


def test_everything_lands_in_the_agent_namespace(rendered: Objects) -> None:
    for obj in rendered:
        namespace = obj["metadata"].get("namespace")
        if obj["kind"] in CLUSTER_SCOPED:
            assert namespace is None, label(obj)
        else:
            assert namespace == NAMESPACE, label(obj)
    assert one(rendered, "Namespace")["metadata"]["name"] == NAMESPACE
    crds = {o["metadata"]["name"] for o in rendered if o["kind"] == "CustomResourceDefinition"}
    assert crds == {"agenttasks.devops.highpeaks.io", "clusterkopfpeerings.kopf.dev"}


def test_the_agent_namespace_enforces_pod_security_restricted(base_objects: Objects) -> None:
    labels = one(base_objects, "Namespace")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


# --- RBAC: exactly the permissions list ----------------------------------------------------


def test_the_cluster_role_grants_exactly_what_the_code_uses(base_objects: Objects) -> None:
    granted = grants(one(base_objects, "ClusterRole", NAME)["rules"])
    used = grants(cluster_role_rules())
    assert sorted(granted - used) == [], "the manifest grants more than permissions.py lists"
    assert sorted(used - granted) == [], "permissions.py lists more than the manifest grants"


def test_the_comparison_notices_one_verb_too_many_or_too_few() -> None:
    rules = cluster_role_rules()
    wider: list[dict[str, Any]] = [
        *rules,
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
    ]
    narrower = [dict(rules[0], verbs=rules[0]["verbs"][1:]), *rules[1:]]
    assert grants(wider) - grants(rules) == {("", "secrets", "get")}
    assert len(grants(rules) - grants(narrower)) == 1


def test_the_permissions_list_is_least_privilege() -> None:
    seen: set[tuple[str, str, str]] = set()
    for permission in PERMISSIONS:
        assert permission.why, f"{permission} says which code needs it"
        for resource in permission.resources:
            for verb in permission.verbs:
                assert "*" not in (permission.api_group, resource, verb), "no wildcards"
                assert verb in API_VERBS, verb
                assert (permission.api_group, resource, verb) not in seen, "listed once"
                seen.add((permission.api_group, resource, verb))
    # The operator reads Secrets never, and changes nothing it watches but Events, tasks and
    # the peering object.
    assert not {g for g in seen if g[1] in ("secrets", "configmaps")}
    writes = {(g, r) for g, r, v in seen if v not in ("get", "list", "watch")}
    assert writes == {
        ("", "events"),
        ("devops.highpeaks.io", "agenttasks"),
        ("devops.highpeaks.io", "agenttasks/status"),
        ("authentication.k8s.io", "tokenreviews"),
        ("authorization.k8s.io", "subjectaccessreviews"),
        ("kopf.dev", "clusterkopfpeerings"),  # Kopf's peering keep-alives, its own object
    }


def test_the_cluster_role_is_bound_to_the_agent_service_account(base_objects: Objects) -> None:
    role = one(base_objects, "ClusterRole", NAME)
    binding = one(base_objects, "ClusterRoleBinding")
    account = one(base_objects, "ServiceAccount")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": NAMESPACE}
    ]
    pod = one(base_objects, "Deployment")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == account["metadata"]["name"] == NAME


# --- the Deployment ------------------------------------------------------------------------


def test_the_deployment_meets_pod_security_restricted(rendered: Objects) -> None:
    pod = one(rendered, "Deployment")["spec"]["template"]["spec"]
    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == security["runAsGroup"] == 10001
    assert security["fsGroup"] == 10001
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    for forbidden in ("hostNetwork", "hostPID", "hostIPC"):
        assert not pod.get(forbidden), forbidden
    restricted_volumes = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral"}
    restricted_volumes |= {"persistentVolumeClaim", "projected", "secret"}
    for volume in pod.get("volumes", []):
        assert set(volume) - {"name"} <= restricted_volumes, f"{volume['name']}: its type"
    container = agent_container(one(rendered, "Deployment"))
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert not context.get("privileged")
    assert context.get("runAsUser", 10001) != 0


def test_the_read_only_root_filesystem_has_a_writable_tmp(base_objects: Objects) -> None:
    pod = one(base_objects, "Deployment")["spec"]["template"]["spec"]
    mounts = agent_container(one(base_objects, "Deployment"))["volumeMounts"]
    (mount,) = [m for m in mounts if not m.get("readOnly")]
    assert mount["mountPath"] == "/tmp"
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert "emptyDir" in volume


def test_the_deployment_runs_two_peered_agents_with_probes_and_limits(
    base_objects: Objects,
) -> None:
    deployment = one(base_objects, "Deployment")
    assert deployment["spec"]["replicas"] == 2, "one acts, one stands by (Kopf peering)"
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
    }, "an update never leaves no agent running"
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == NAME
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    container = agent_container(deployment)
    assert container["image"] == "highpeaks-devops-agent:dev"
    assert container["ports"] == [{"name": "http", "containerPort": 8000}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert container["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    }


def test_a_drain_keeps_one_of_the_two_agents(base_objects: Objects) -> None:
    budget = one(base_objects, "PodDisruptionBudget")
    deployment = one(base_objects, "Deployment")
    assert budget["spec"]["minAvailable"] == 1 < deployment["spec"]["replicas"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()


def test_every_secret_is_a_file_of_an_optional_secret(rendered: Objects) -> None:
    assert secret_files(rendered) == {
        "FLOWISE_API_KEY": ("highpeaks-agent-flowise", "api-key"),
        "ALERTMANAGER_TOKEN": ("highpeaks-agent-alertmanager", "token"),
        "NOTIFY_WEBHOOK_URL": ("highpeaks-agent-notify", "webhook-url"),
        "NOTIFY_SLACK_WEBHOOK_URL": ("highpeaks-agent-notify", "slack-webhook-url"),
    }
    assert {name.lower() for name in secret_files(rendered)} == SECRET_SETTING_NAMES


def test_no_secret_reaches_the_process_environment(rendered: Objects) -> None:
    container = agent_container(one(rendered, "Deployment"))
    assert all("secretRef" not in source for source in container.get("envFrom", []))
    assert all("valueFrom" not in var for var in container.get("env", []))
    config = one(rendered, "ConfigMap")["data"]
    assert not {name.lower() for name in config} & SECRET_SETTING_NAMES, "not in a ConfigMap"


def test_the_service_reaches_the_http_port(base_objects: Objects) -> None:
    service = one(base_objects, "Service")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http"}]
    deployment = one(base_objects, "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    ports = {p["name"]: p["containerPort"] for p in agent_container(deployment)["ports"]}
    assert ports["http"] == 8000


# --- settings ------------------------------------------------------------------------------


def test_the_base_is_the_production_shape(base_objects: Objects) -> None:
    env = effective_env(base_objects)
    assert env["AUTH_MODE"] == "kubernetes"
    assert env["DEBUG"] == "false"
    assert env["WATCH_NAMESPACES"] == "" and env["ASSIST_DEFAULT_NAMESPACE"] == "default"
    assert env["FLOWISE_URL"] == "" and env["FLOWISE_FLOW_ID"] == ""
    assert "imagePullPolicy" not in agent_container(one(base_objects, "Deployment"))


def test_the_dev_overlay_debugs_without_authentication(dev_objects: Objects) -> None:
    env = effective_env(dev_objects)
    assert env["DEBUG"] == "true"
    assert env["AUTH_MODE"] == "none"
    assert agent_container(one(dev_objects, "Deployment"))["imagePullPolicy"] == "IfNotPresent"


def test_the_dev_overlay_changes_nothing_else(base_objects: Objects, dev_objects: Objects) -> None:
    base_env, dev_env = effective_env(base_objects), effective_env(dev_objects)
    changed = {k for k in base_env.keys() | dev_env.keys() if base_env.get(k) != dev_env.get(k)}
    assert changed == {"DEBUG", "AUTH_MODE"}
    assert grants(one(dev_objects, "ClusterRole", NAME)["rules"]) == grants(cluster_role_rules())


def test_every_configured_variable_is_a_valid_setting(rendered: Objects, tmp_path: Path) -> None:
    env = effective_env(rendered)
    names = {name.lower().removesuffix("_file") for name in env}
    assert names <= set(Settings.model_fields), "no unknown variables"
    # What the pod reads, its Secrets absent (all optional); raises on a value it would refuse.
    settings = Settings.from_environ(as_mounted(env, tmp_path))
    assert settings.http_port == 8000
    peering = one(rendered, "ClusterKopfPeering")
    assert settings.peering == peering["metadata"]["name"], "replicas peer on the shipped object"
    assert not settings.watch_namespaces, "cluster-wide, so Kopf uses the ClusterKopfPeering"


# --- the example to try it with ------------------------------------------------------------


def test_the_broken_example_validates_and_crashes_at_start() -> None:
    objects = load("examples/broken-deployment.yaml")
    assert one(objects, "Namespace")["metadata"]["name"] == "shop"
    deployment = one(objects, "Deployment")
    assert (deployment["metadata"]["namespace"], deployment["metadata"]["name"]) == (
        "shop",
        "checkout",
    )
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    script = " ".join(container["command"])
    assert "PAYMENTS_API_URL is not set" in script and "exit 1" in script


def test_every_plain_kubernetes_example_validates() -> None:
    paths = sorted(ROOT.glob("examples/*.yaml"))
    assert ROOT / "examples" / "broken-deployment.yaml" in paths
    for path in paths:
        for obj in load(str(path.relative_to(ROOT))):
            try:
                kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{path.name}: {label(obj)}: {exc}")


# --- the NetworkPolicy -----------------------------------------------------------------------


def test_the_network_policy_isolates_the_agent_both_ways(base_objects: Objects) -> None:
    policy = one(base_objects, "NetworkPolicy")["spec"]
    pod_labels = one(base_objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
    (ingress,) = policy["ingress"]
    assert ingress["ports"] == [{"port": "http", "protocol": "TCP"}], "the HTTP port only"


def test_the_network_policy_lets_the_agent_reach_dns_and_the_api_server(
    base_objects: Objects,
) -> None:
    egress = one(base_objects, "NetworkPolicy")["spec"]["egress"]
    ports = {(p["port"], p["protocol"]) for rule in egress for p in rule["ports"]}
    assert {(53, "UDP"), (53, "TCP")} <= ports, "DNS"
    assert {(443, "TCP"), (6443, "TCP")} <= ports, "the API server, by Service and directly"
    assert ports <= {(53, "UDP"), (53, "TCP"), (443, "TCP"), (6443, "TCP")}, "nothing else"
