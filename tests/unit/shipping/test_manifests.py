"""What ships: the Kustomize manifests validate, grant exactly what the code uses, and meet
PodSecurity "restricted"; the Dockerfile builds the image the manifests expect.

Rendering uses the real ``kubectl kustomize``; validation uses the Kubernetes JSON schemas of
``kubernetes-validate`` (offline, strict: unknown fields are errors).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from highpeaks_agent.permissions import cluster_role_rules

ROOT = Path(__file__).resolve().parents[3]
KUBERNETES_VERSION = "1.32"


def render(overlay: str) -> list[dict[str, Any]]:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed: cannot render the Kustomize manifests")
    out = subprocess.run(
        ["kubectl", "kustomize", str(ROOT / overlay)], capture_output=True, text=True, check=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module")
def base() -> list[dict[str, Any]]:
    return render("k8s/base")


@pytest.fixture(scope="module")
def dev() -> list[dict[str, Any]]:
    return render("k8s/overlays/dev")


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [o for o in objects if o["kind"] == kind]
    return found


def env_of(deployment: dict[str, Any]) -> dict[str, Any]:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


@pytest.mark.parametrize("overlay", ["base", "dev"])
def test_every_rendered_object_validates(overlay: str, request: pytest.FixtureRequest) -> None:
    objects = request.getfixturevalue(overlay)
    kinds = sorted(o["kind"] for o in objects)
    assert kinds == sorted(
        [
            "ClusterRole",
            "ClusterRoleBinding",
            "ConfigMap",
            "CustomResourceDefinition",
            "Deployment",
            "Namespace",
            "Service",
            "ServiceAccount",
        ]
    )
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def test_the_cluster_role_grants_exactly_what_the_code_uses(base: list[dict[str, Any]]) -> None:
    def normal(rules: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
        return {
            (group, resource, verb)
            for rule in rules
            for group in rule["apiGroups"]
            for resource in rule["resources"]
            for verb in rule["verbs"]
        }

    granted = normal(one(base, "ClusterRole")["rules"])
    used = normal(cluster_role_rules())
    assert granted - used == set(), "the manifest grants more than the code uses"
    assert used - granted == set(), "the code uses more than the manifest grants"
    binding = one(base, "ClusterRoleBinding")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "highpeaks-agent", "namespace": "highpeaks-system"}
    ]


def test_the_deployment_meets_pod_security_restricted(base: list[dict[str, Any]]) -> None:
    deployment = one(base, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp"}
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["ports"] == [{"name": "http", "containerPort": 8000}]
    assert container["resources"]["limits"] and container["resources"]["requests"]
    assert (
        deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
    )
    assert pod["serviceAccountName"] == "highpeaks-agent"
    secret = env_of(deployment)["FLOWISE_API_KEY"]["secretKeyRef"]
    assert secret["optional"] is True  # the base runs without Flowise


def test_service_and_settings(base: list[dict[str, Any]], dev: list[dict[str, Any]]) -> None:
    service = one(base, "Service")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http"}]
    config = one(base, "ConfigMap")["data"]
    assert config["AUTH_MODE"] == "kubernetes" and config["DEBUG"] == "false"
    assert config["FLOWISE_URL"] == ""
    dev_env = env_of(one(dev, "Deployment"))
    assert dev_env["DEBUG"] == "true" and dev_env["AUTH_MODE"] == "none"
    assert "AUTH_MODE" not in env_of(one(base, "Deployment"))


def test_every_setting_in_the_config_map_is_a_setting() -> None:
    from highpeaks_agent.settings import Settings

    config = yaml.safe_load((ROOT / "k8s" / "base" / "configmap.yaml").read_text())["data"]
    assert {k.lower() for k in config} <= set(Settings.model_fields)


def test_examples_validate() -> None:
    for path in (ROOT / "examples").glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), rest.strip()))
    return stages


def test_dockerfile_builds_a_slim_non_root_image() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2, "multi-stage: build the wheel apart from the runtime"
    final: dict[str, str] = {}
    for instruction, rest in stages[-1]:
        final.setdefault(instruction, rest)
        if instruction in ("USER", "EXPOSE", "ENTRYPOINT", "CMD"):
            final[instruction] = rest
    assert final["FROM"] == "python:3.12-slim"
    user = final["USER"].split(":")
    assert all(part.isdigit() and int(part) > 0 for part in user), "a fixed non-root UID:GID"
    assert final["EXPOSE"] == "8000"
    assert final["ENTRYPOINT"] == '["highpeaks-agent"]' and final["CMD"] == '["run"]'
    runs = " ".join(rest for instruction, rest in stages[-1] if instruction == "RUN")
    assert "--no-cache-dir" in runs
    assert not any(word in runs for word in ("apt-get install", "gcc", "build-essential"))
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "tests"} <= set(ignored)
