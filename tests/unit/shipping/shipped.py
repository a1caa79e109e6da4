"""Reading what ships: the rendered Kustomize trees, the objects in them, their settings."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]

# Kubernetes release whose OpenAPI schemas (from kubernetes-validate, offline) the objects
# must satisfy; strict: unknown fields are errors, as with `kubectl apply --validate=strict`.
KUBERNETES_VERSION = "1.32"

NAMESPACE = "highpeaks-system"
NAME = "highpeaks-agent"
CHART = "k8s/helm/highpeaks-agent"

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


def helm_binary() -> str:
    """The helm that ``make helm`` builds from the Go module proxy into the tools cache.

    ``make`` exports its path as HIGHPEAKS_HELM; run on their own, the tests ask make for it,
    which builds it first when the cache does not hold it yet (minutes, once).
    """
    path = os.environ.get("HIGHPEAKS_HELM", "")
    if path and Path(path).is_file():
        return path
    done = subprocess.run(
        ["make", "-s", "--no-print-directory", "helm-path"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"make helm failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout.strip().splitlines()[-1]


def helm(helm_path: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``helm ARGS`` run with no cluster to reach, its output captured."""
    return subprocess.run(
        [helm_path, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "KUBECONFIG": os.devnull},
    )


def render_chart(helm_path: str, *args: str) -> Objects:
    """Every object ``helm template`` renders from the chart (CRDs included) into the agent's
    namespace, with the release name that gives k8s/base's names; ``args`` set values."""
    done = helm(
        helm_path,
        "template",
        NAME,
        CHART,
        "--namespace",
        NAMESPACE,
        "--include-crds",
        *args,
    )
    if done.returncode != 0:
        pytest.fail(f"helm template {' '.join(args)} failed:\n{done.stderr}")
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def load(path: str) -> Objects:
    """The objects of one YAML file under the root."""
    return [doc for doc in yaml.safe_load_all((ROOT / path).read_text()) if doc]


def one(objects: Iterable[Mapping[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    """The only object of ``kind`` (named ``name``, when given)."""
    found = [
        dict(o)
        for o in objects
        if o.get("kind") == kind and name in (None, (o.get("metadata") or {}).get("name"))
    ]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
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


def secret_files(objects: Objects) -> dict[str, tuple[str, str]]:
    """Each secret setting the agent reads from a file (``NAME_FILE``), as the (Secret, key)
    the file is projected from: follows the path through the container's mounts."""
    deployment = one(objects, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = agent_container(deployment)
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    found: dict[str, tuple[str, str]] = {}
    for var in container.get("env", []):
        if not var["name"].endswith("_FILE"):
            continue
        path = PurePosixPath(var["value"])
        (mount,) = [
            m for m in container["volumeMounts"] if path.parent == PurePosixPath(m["mountPath"])
        ]
        assert mount.get("readOnly") is True, f"{mount['name']} is mounted read-only"
        sources = volumes[mount["name"]]["projected"]["sources"]
        (source,) = [
            (s["secret"], item)
            for s in sources
            for item in s["secret"].get("items", [])
            if item["path"] == path.name
        ]
        secret, item = source
        assert secret["optional"] is True, "the agent runs without it"
        found[var["name"].removesuffix("_FILE")] = (secret["name"], item["key"])
    return found


def as_mounted(env: Mapping[str, str], mount: Path) -> dict[str, str]:
    """``env`` with its ``*_FILE`` paths moved under ``mount``, a directory standing in for
    the mounted Secret volume (so Settings can read them in a test)."""
    return {
        name: str(mount / PurePosixPath(value).name) if name.endswith("_FILE") else value
        for name, value in env.items()
    }
