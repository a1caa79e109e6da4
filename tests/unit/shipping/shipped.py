"""Reading what ships: the rendered Kustomize trees, the objects in them, their settings."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]

# Kubernetes release whose OpenAPI schemas (from kubernetes-validate, offline) the objects
# must satisfy; strict: unknown fields are errors, as with `kubectl apply --validate=strict`.
KUBERNETES_VERSION = "1.32"

NAMESPACE = "highpeaks-system"
NAME = "highpeaks-agent"

Objects = list[dict[str, Any]]
Grant = tuple[str, str, str]


def render(tree: str) -> Objects:
    """Every object ``kubectl kustomize`` renders from ``tree`` (a path under the root)."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: cannot render the Kustomize manifests")
    done = subprocess.run(
        [kubectl, "kustomize", str(ROOT / tree)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"kubectl kustomize {tree} failed:\n{done.stderr}")
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def load(path: str) -> Objects:
    """The objects of one YAML file under the root."""
    return [doc for doc in yaml.safe_load_all((ROOT / path).read_text()) if doc]


def one(objects: Iterable[Mapping[str, Any]], kind: str) -> dict[str, Any]:
    """The only object of ``kind``."""
    found = [dict(o) for o in objects if o.get("kind") == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def label(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind')}/{meta.get('namespace', '')}/{meta.get('name')}"


def agent_container(deployment: Mapping[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container)


def effective_env(objects: Objects) -> dict[str, str]:
    """The literal environment of the agent container: ``envFrom`` ConfigMaps, then ``env``."""
    config_maps = {
        o["metadata"]["name"]: o.get("data") or {} for o in objects if o["kind"] == "ConfigMap"
    }
    container = agent_container(one(objects, "Deployment"))
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]])
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
    return env


def grants(rules: Iterable[Mapping[str, Any]]) -> set[Grant]:
    """ClusterRole rules as (API group, resource, verb) triples: order and grouping removed."""
    out: set[Grant] = set()
    for rule in rules:
        assert set(rule) <= {"apiGroups", "resources", "verbs"}, (
            f"rules name groups, resources and verbs only (no resourceNames, no URLs): {rule}"
        )
        out |= {
            (group, resource, verb)
            for group in rule["apiGroups"]
            for resource in rule["resources"]
            for verb in rule["verbs"]
        }
    return out
