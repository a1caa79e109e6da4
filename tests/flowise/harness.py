"""A real Flowise server for tests: installed into a cache outside the repo, started on
loopback with its data in a temp dir, provisioned through its own API, torn down after.

Install (once per machine, ~4 min, ~3 GB): ``npm install --ignore-scripts flowise@3.1.4`` then
``npm rebuild sqlite3`` (an install script of an optional dependency fetches from the internet,
hence ``--ignore-scripts``). ``HIGHPEAKS_FLOWISE_DIR`` overrides the cache directory.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.operator_process import free_port

VERSION = "3.1.4"
ROOT = Path(__file__).resolve().parents[2]
FLOW = ROOT / "flows" / "troubleshooting.chatflow.json"
ANSWER_ONLY_FLOW = ROOT / "flows" / "troubleshooting-answer-only.chatflow.json"
#: What the tool-using flow lets a prediction override (Configuration → Security → Override
#: Configuration in Flowise's UI): the two variables its Custom MCP node reads, and the Tool
#: Agent's iterations (FLOW_MAX_STEPS and one more for the answer).
TOOL_FLOW_OVERRIDES = {
    "overrideConfig": {
        "status": True,
        "nodes": {
            "Tool Agent": [
                {
                    "label": "Max Iterations",
                    "name": "maxIterations",
                    "type": "number",
                    "enabled": True,
                }
            ]
        },
        "variables": [
            {"name": "highpeaksFlowToken", "type": "static", "enabled": True},
            {"name": "highpeaksMcpUrl", "type": "static", "enabled": True},
        ],
    }
}
CACHE = Path(
    os.environ.get(
        "HIGHPEAKS_FLOWISE_DIR", Path.home() / ".cache" / "highpeaks-agent" / f"flowise-{VERSION}"
    )
)
ADMIN = {
    "name": "Highpeaks Tests",
    "email": "tests@highpeaks.example",
    "password": "Str0ng!Passw0rd#42",
}


def flowise_binary() -> Path:
    return CACHE / "node_modules" / ".bin" / "flowise"


def install() -> Path:
    """Install Flowise into the cache unless a complete install is there already."""
    marker = CACHE / ".installed"
    if marker.exists() and flowise_binary().exists():
        return flowise_binary()
    if shutil.which("npm") is None:
        raise RuntimeError("npm is required to install Flowise for the Flowise test tier")
    CACHE.mkdir(parents=True, exist_ok=True)
    npm = ["npm", "--prefix", str(CACHE), "--no-audit", "--no-fund", "--loglevel=error"]
    subprocess.run([*npm, "install", "--ignore-scripts", f"flowise@{VERSION}"], check=True)
    subprocess.run([*npm, "rebuild", "sqlite3"], check=True)
    marker.write_text(VERSION)
    return flowise_binary()


class FlowiseServer:
    """One Flowise process with an admin account, an API key and our flow imported."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.api_key = ""
        self.flow_id = ""
        self.answer_only_flow_id = ""
        self._session = httpx.Client(base_url=self.url, timeout=60)

    def start(self, timeout: float = 240) -> None:
        binary = install()
        data = self.workdir / "data"
        data.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "DATABASE_PATH": str(data),
            "SECRETKEY_PATH": str(data),
            "LOG_PATH": str(data / "logs"),
            "BLOB_STORAGE_PATH": str(data / "storage"),
            "DISABLE_FLOWISE_TELEMETRY": "true",
            "OPENAI_API_KEY": "sk-test-not-a-real-key",
            # Flowise refuses MCP servers on loopback and private addresses (an in-cluster
            # Service's too) unless its own deny list is turned off (README "Flowise").
            "HTTP_SECURITY_CHECK": "false",
        }
        log = (self.workdir / "flowise.log").open("ab")
        self.process = subprocess.Popen(
            [str(binary), "start"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Flowise exited early:\n{self.logs()}")
            try:
                if httpx.get(f"{self.url}/api/v1/ping", timeout=2).text.strip() == "pong":
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise RuntimeError(f"Flowise did not answer /api/v1/ping within {timeout}s:\n{self.logs()}")

    def stop(self) -> None:
        self._session.close()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def logs(self) -> str:
        path = self.workdir / "flowise.log"
        return path.read_text(errors="replace")[-8000:] if path.exists() else ""

    # --- provisioning through Flowise's own API ----------------------------------------

    def _manage(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._session.request(
            method, path, headers={"x-request-from": "internal"}, **kwargs
        )
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path} → {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None

    def provision(self, model_url: str) -> None:
        """Admin account, API key, and the shipped flow pointed at ``model_url``."""
        self._manage(
            "POST",
            "/api/v1/account/register",
            json={
                "user": {
                    "name": ADMIN["name"],
                    "email": ADMIN["email"],
                    "credential": ADMIN["password"],
                }
            },
        )
        self._manage(
            "POST",
            "/api/v1/auth/login",
            json={"email": ADMIN["email"], "password": ADMIN["password"]},
        )
        key = self._manage(
            "POST",
            "/api/v1/apikey",
            json={
                "keyName": "highpeaks-agent",
                "permissions": ["chatflows:view", "chatflows:create"],
            },
        )
        keys = key if isinstance(key, list) else [key]
        entry = next(k for k in keys if k.get("keyName") == "highpeaks-agent")
        self.api_key = entry["apiKey"]
        self.flow_id = self._import(FLOW, "highpeaks troubleshooting", model_url, entry["id"])
        self.answer_only_flow_id = self._import(
            ANSWER_ONLY_FLOW, "highpeaks troubleshooting (answer only)", model_url, entry["id"]
        )
        self._manage(
            "PUT",
            f"/api/v1/chatflows/{self.flow_id}",
            json={"apiConfig": json.dumps(TOOL_FLOW_OVERRIDES)},
        )

    def _import(self, path: Path, name: str, model_url: str, key_id: str) -> str:
        """One shipped flow, its model pointed at ``model_url``, protected by the API key."""
        flow = json.loads(path.read_text())
        for node in flow["nodes"]:
            if node["data"]["name"] == "chatOpenAI":
                node["data"]["inputs"]["basepath"] = model_url
                node["data"]["inputs"]["modelName"] = "test-model"
        created = self._manage(
            "POST",
            "/api/v1/chatflows",
            json={"name": name, "flowData": json.dumps(flow), "type": "CHATFLOW"},
        )
        flow_id: str = created["id"]
        self._manage("PUT", f"/api/v1/chatflows/{flow_id}", json={"apikeyid": key_id})
        return flow_id
