"""The Helm chart (k8s/helm/highpeaks-agent): one source of truth with Kustomize.

With default values the chart renders exactly the objects of ``k8s/base`` (same kinds, names,
RBAC rules, security contexts, probes, settings, NetworkPolicy: whole objects are compared,
less the labels Helm adds and the Namespace, which the installer creates), and with its
monitoring on, exactly what ``k8s/components/monitoring`` adds. Bad values fail with the
schema's message. ``helm`` is the one ``make helm`` builds from the Go module proxy.
"""

from __future__ import annotations

import base64
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from highpeaks_agent.settings import Settings
from highpeaks_agent.settings_names import SECRET_SETTING_NAMES, SETTING_NAMES
from tests.unit.shipping.shipped import (
    CHART,
    KUBERNETES_VERSION,
    NAME,
    NAMESPACE,
    ROOT,
    Objects,
    agent_container,
    as_mounted,
    effective_env,
    helm,
    label,
    one,
    render,
    render_chart,
    secret_files,
)

#: Settings the chart derives from values of their own, not from ``settings``.
DEDICATED = {"watch_namespaces", "watch_namespace_selector", "http_port", "peering"}
DIGEST = "sha256:" + "0123456789abcdef" * 4
MONITORING_ON = (
    "--set",
    "monitoring.serviceMonitor.enabled=true,monitoring.prometheusRule.enabled=true,"
    "monitoring.dashboard.enabled=true",
)


def key(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    meta = obj["metadata"]
    return obj["kind"], meta.get("namespace", ""), meta["name"]


def comparable(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object less what Helm adds by design: its labels, and the pod template's
    annotations (a checksum of the settings, so an upgrade that changes them restarts)."""
    copy: dict[str, Any] = json.loads(json.dumps(obj))
    copy["metadata"].pop("labels", None)
    template = copy.get("spec", {}).get("template", {}).get("metadata", {})
    template.pop("annotations", None)
    return copy


def by_key(objects: Objects) -> dict[tuple[str, str, str], dict[str, Any]]:
    keyed = {key(o): o for o in objects}
    assert len(keyed) == len(objects), "no object twice"
    return keyed


# --- one source of truth -------------------------------------------------------------------


def test_the_chart_renders_the_objects_of_k8s_base(
    base_objects: Objects, chart_objects: Objects
) -> None:
    base = {k: o for k, o in by_key(base_objects).items() if k[0] != "Namespace"}
    chart = by_key(chart_objects)
    assert sorted(chart) == sorted(base), "same kinds and names, in the same namespaces"
    for k, obj in base.items():
        assert comparable(chart[k]) == comparable(obj), f"{'/'.join(k)} differs from k8s/base"
        if k[0] == "CustomResourceDefinition":
            continue  # Helm installs crds/ as they are, never templated: Kustomize labels them
        base_labels = obj["metadata"].get("labels", {})
        assert base_labels.items() <= chart[k]["metadata"].get("labels", {}).items(), k


def test_the_comparison_notices_a_changed_rule_probe_or_security_context(
    chart_objects: Objects,
) -> None:
    role = one(chart_objects, "ClusterRole", NAME)
    deployment = one(chart_objects, "Deployment")
    wider = json.loads(json.dumps(role))
    wider["rules"][0]["verbs"].append("delete")
    looser = json.loads(json.dumps(deployment))
    looser["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonRoot"] = False
    slower = json.loads(json.dumps(deployment))
    slower["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["periodSeconds"] = 60
    for changed, original in ((wider, role), (looser, deployment), (slower, deployment)):
        assert comparable(changed) != comparable(original)


def test_the_monitoring_values_render_what_the_kustomize_component_adds(
    helm_path: str, base_objects: Objects
) -> None:
    monitored = by_key(render("k8s/overlays/monitoring"))
    added = {k: o for k, o in monitored.items() if k not in by_key(base_objects)}
    chart = by_key(render_chart(helm_path, *MONITORING_ON))
    assert {k: comparable(chart[k]) for k in added} == {k: comparable(o) for k, o in added.items()}
    assert set(added) == {
        ("ServiceMonitor", NAMESPACE, NAME),
        ("PrometheusRule", NAMESPACE, NAME),
        ("ConfigMap", NAMESPACE, f"{NAME}-dashboard"),
    }


def test_the_chart_is_the_agents_version() -> None:
    chart = yaml.safe_load((ROOT / CHART / "Chart.yaml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert chart["appVersion"] == project["version"]


@pytest.mark.parametrize(
    ("copy", "source"),
    [
        ("crds/agenttask.yaml", "crds/agenttask.yaml"),
        ("crds/kopfpeering.yaml", "crds/kopfpeering.yaml"),
        ("files/dashboard.json", "k8s/components/monitoring/dashboard.json"),
        ("files/prometheusrule.yaml", "k8s/components/monitoring/prometheusrule.yaml"),
        ("files/actions-policy.yaml", "k8s/components/actions/policy.yaml"),
    ],
)
def test_the_charts_copies_are_the_sources(copy: str, source: str) -> None:
    # A chart is packaged from its own directory, hence copies; edit the source, then copy.
    assert (ROOT / CHART / copy).read_text() == (ROOT / source).read_text(), f"cp {source}"


def test_the_chart_lints_strictly(helm_path: str) -> None:
    done = helm(helm_path, "lint", "--strict", CHART)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in done.stdout


def test_every_object_with_every_feature_on_validates(helm_path: str, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(
        yaml.safe_dump(
            {
                "image": {"digest": DIGEST, "pullPolicy": "IfNotPresent"},
                "secrets": {
                    "flowise": {"apiKey": "k"},
                    "alertmanager": {"token": "t"},
                    "notify": {"webhookUrl": "https://hooks.example/a"},
                },
                "networkPolicy": {
                    "egress": {"flowise": {"to": [{"namespaceSelector": {}}], "ports": [3000]}}
                },
            }
        )
    )
    for obj in render_chart(helm_path, "-f", str(values), *MONITORING_ON):
        if obj["apiVersion"].startswith(("monitoring.coreos.com/", "kopf.dev/")):
            continue  # validated against their APIs in test_monitoring and test_manifests
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{label(obj)} does not validate against {KUBERNETES_VERSION}: {exc}")


# --- values ---------------------------------------------------------------------------------


def test_values_set_replicas_image_resources_namespaces_and_settings(helm_path: str) -> None:
    objects = render_chart(
        helm_path,
        "--set",
        "replicaCount=3,image.repository=registry.example/highpeaks,image.tag=0.1.0,"
        f"image.digest={DIGEST},resources.limits.memory=512Mi,watchNamespaces={{shop,payments}},"
        "settings.LOG_FORMAT=json,settings.OTEL_EXPORTER_OTLP_ENDPOINT=http://otel:4318",
    )
    deployment = one(objects, "Deployment")
    container = agent_container(deployment)
    assert deployment["spec"]["replicas"] == 3
    assert container["image"] == f"registry.example/highpeaks:0.1.0@{DIGEST}", "pinned"
    assert container["resources"]["limits"]["memory"] == "512Mi"
    env = effective_env(objects)
    assert env["WATCH_NAMESPACES"] == "shop,payments"
    assert env["LOG_FORMAT"] == "json"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel:4318"


def test_changed_settings_roll_the_pods(helm_path: str, chart_objects: Objects) -> None:
    annotations = one(chart_objects, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    debug = render_chart(helm_path, "--set", "settings.DEBUG=true")
    changed = one(debug, "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert changed["checksum/settings"] != annotations["checksum/settings"]


def test_the_settings_values_are_every_setting_but_secrets_and_dedicated_ones() -> None:
    schema = json.loads((ROOT / CHART / "values.schema.json").read_text())
    settings = schema["properties"]["settings"]
    assert {name.lower() for name in settings["properties"]} == (
        SETTING_NAMES - SECRET_SETTING_NAMES - DEDICATED
    )
    defaults = yaml.safe_load((ROOT / CHART / "values.yaml").read_text())["settings"]
    assert set(defaults) <= set(settings["properties"])


def test_the_rendered_settings_are_what_the_agent_accepts(
    chart_objects: Objects, tmp_path: Path
) -> None:
    env = effective_env(chart_objects)
    settings = Settings.from_environ(as_mounted(env, tmp_path))
    assert settings.peering == one(chart_objects, "ClusterKopfPeering")["metadata"]["name"]
    assert settings.http_port == 8000


def test_secret_values_become_secrets_the_agent_reads_as_files(
    helm_path: str, tmp_path: Path
) -> None:
    objects = render_chart(
        helm_path,
        "--set",
        "secrets.flowise.apiKey=flowise-key,secrets.alertmanager.token=am-token,"
        "secrets.notify.slackWebhookUrl=https://hooks.slack.example/T0/B0/x",
    )
    secrets = {
        o["metadata"]["name"]: {k: base64.b64decode(v).decode() for k, v in o["data"].items()}
        for o in objects
        if o["kind"] == "Secret"
    }
    assert secrets == {
        f"{NAME}-flowise": {"api-key": "flowise-key"},
        f"{NAME}-alertmanager": {"token": "am-token"},
        f"{NAME}-notify": {"slack-webhook-url": "https://hooks.slack.example/T0/B0/x"},
    }
    # Lay the Secrets out as the kubelet mounts them, and read them as the agent does.
    for setting, (secret, item) in secret_files(objects).items():
        if item in secrets[secret]:
            (tmp_path / f"{setting.lower().replace('_', '-')}").write_text(secrets[secret][item])
    settings = Settings.from_environ(as_mounted(effective_env(objects), tmp_path))
    assert settings.flowise_api_key.get_secret_value() == "flowise-key"
    assert settings.alertmanager_token.get_secret_value() == "am-token"
    assert settings.notify_slack_webhook_url.get_secret_value() == (
        "https://hooks.slack.example/T0/B0/x"
    )
    assert settings.notify_webhook_url.get_secret_value() == "", "its key is not in the Secret"
    config = one(objects, "ConfigMap")["data"]
    assert not any(v in json.dumps(config) for v in ("flowise-key", "am-token"))


def test_without_secret_values_the_chart_creates_no_secret(chart_objects: Objects) -> None:
    assert not [o for o in chart_objects if o["kind"] == "Secret"], "bring your own, or none"


def test_network_policy_values_open_exactly_what_they_name(helm_path: str) -> None:
    monitoring = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "mon"}}}
    flowise = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "flowise"}}}
    values = {
        "networkPolicy": {
            "ingress": {"monitoring": [monitoring], "alertmanager": [], "clients": []},
            "egress": {"flowise": {"to": [flowise], "ports": [3000]}},
        }
    }
    objects = render_chart(
        helm_path, "--set-json", f"networkPolicy={json.dumps(values['networkPolicy'])}"
    )
    policy = one(objects, "NetworkPolicy")["spec"]
    assert policy["ingress"] == [
        {"ports": [{"port": "http", "protocol": "TCP"}], "from": [monitoring]}
    ]
    assert {"ports": [{"port": 3000, "protocol": "TCP"}], "to": [flowise]} in policy["egress"]
    closed = render_chart(helm_path, "--set-json", 'networkPolicy.ingress={"clients": []}')
    assert not one(closed, "NetworkPolicy")["spec"]["ingress"], "no peer: nothing gets in"


# --- bad values fail with the schema's message ----------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ("replicaCount=-1", "at '/replicaCount'"),
        ("replicas=2", "additional properties 'replicas' not allowed"),
        ("settings.FLOWISE_APIKEY=x", "additional properties 'FLOWISE_APIKEY' not allowed"),
        ("settings.FLOWISE_API_KEY=x", "additional properties 'FLOWISE_API_KEY' not allowed"),
        (
            "settings.FLOWISE_MAX_RESPONSE_BYTES=1000000",  # rendered as 1e+06 if let through
            "at '/settings/FLOWISE_MAX_RESPONSE_BYTES': got number, want boolean or string",
        ),
        ("image.digest=sha256:abc", "at '/image/digest': 'sha256:abc' does not match pattern"),
        ("networkPolicy.ingress.everyone=true", "additional properties 'everyone' not allowed"),
    ],
)
def test_bad_values_fail_with_the_schemas_message(
    helm_path: str, values: str, message: str
) -> None:
    done = helm(helm_path, "template", NAME, CHART, "--set", values)
    assert done.returncode != 0, f"{values} was accepted"
    assert "values don't meet the specifications of the schema" in done.stderr
    assert message in done.stderr, done.stderr


def test_a_negative_replica_count_says_what_is_allowed(helm_path: str) -> None:
    done = helm(helm_path, "template", NAME, CHART, "--set", "replicaCount=-1")
    assert "minimum: got -1, want 0" in done.stderr, done.stderr
