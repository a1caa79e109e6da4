"""The operator loads only what its configured features use (README "Footprint").

Each case builds the operator's services and HTTP app in a fresh interpreter, as ``run`` does
at start, and lists the modules it then holds: the generated Kubernetes API classes (about
20 MB resident for ``CoreV1Api`` alone), the HTTP client of the Flowise bridge and the
notification sinks, and the OpenTelemetry SDK come only with the setting that needs them;
the MCP SDK only with the first request to /mcp.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

BUILD = """
import json, sys
from kubernetes import client
from highpeaks_agent.main import build_services
from highpeaks_agent.settings import Settings
from highpeaks_agent.tracing import configure_tracing

provider = configure_tracing()
build_services(Settings.from_environ(), client.ApiClient())
print(json.dumps(sorted(sys.modules)))
"""
GENERATED_APIS = "kubernetes.client.api."
OTEL_SDK = "opentelemetry.sdk"


def modules_at_start(**settings: str) -> set[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "NOTIFY_"))},
        "PYTHONPATH": str(ROOT / "operator"),
        "AUTH_MODE": "kubernetes",
        "FLOWISE_URL": "",
        "FLOWISE_FLOW_ID": "",
        **settings,
    }
    proc = subprocess.run(
        [sys.executable, "-c", BUILD], capture_output=True, text=True, env=env, check=True
    )
    loaded: list[str] = json.loads(proc.stdout.splitlines()[-1])
    assert "highpeaks_agent.http.alertmanager" in loaded  # the listing is the built operator's
    return set(loaded)


def test_with_no_optional_feature_configured_none_of_their_libraries_load() -> None:
    loaded = modules_at_start()
    assert not {m for m in loaded if m.startswith(GENERATED_APIS)}
    assert "httpx" not in loaded
    assert "highpeaks_agent.flowise.client" not in loaded
    assert "highpeaks_agent.notify.sinks" not in loaded
    assert not {m for m in loaded if m.startswith(OTEL_SDK)}
    # /mcp is served, but its SDK is loaded by the first request that passes its gate
    assert "highpeaks_agent.mcp.gate" in loaded
    assert not {m for m in loaded if m == "mcp" or m.startswith("mcp.")}


def test_each_configured_feature_loads_what_it_needs() -> None:
    loaded = modules_at_start(
        NOTIFY_WEBHOOK_URL="http://hooks.example/x",
        FLOWISE_URL="http://flowise.example",
        FLOWISE_FLOW_ID="flow",
        OTEL_TRACES_EXPORTER="console",
    )
    assert {"httpx", "highpeaks_agent.flowise.client", "highpeaks_agent.notify.sinks"} <= loaded
    assert "opentelemetry.sdk.trace" in loaded
    assert not {m for m in loaded if m.startswith(GENERATED_APIS)}
