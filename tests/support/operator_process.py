"""The real ``highpeaks-agent run`` process, started against a kubeconfig, for integration tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from highpeaks_agent.controller.leadership import PeerId, is_leader


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class OperatorProcess:
    """One operator process; its output goes to a log file the tests print on failure."""

    def __init__(self, kubeconfig: Path, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.kubeconfig = kubeconfig
        self.log_path = log_path
        self.port = free_port()
        self.env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "HTTP_PORT": str(self.port),
            "INCIDENT_DEBOUNCE_SECONDS": "0.5",
            "AUTH_MODE": "kubernetes",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "highpeaks_agent", "run"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"operator exited early:\n{self.logs()}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"operator not ready after {timeout}s:\n{self.logs()}")

    def stop(self) -> int | None:
        """SIGTERM, as the kubelet does; returns the exit status."""
        if self._process is None:
            return None
        self._process.send_signal(signal.SIGTERM)
        try:
            return self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            return self._process.wait()
        finally:
            self._process = None

    def kill(self) -> None:
        """SIGKILL: the process dies at once, mid-request, with nothing cleaned up."""
        if self._process is None:
            return
        self._process.kill()
        self._process.wait(timeout=30)
        self._process = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")[-20000:]


def acting_replica(peers: Mapping[str, Any], replicas: list[OperatorProcess]) -> OperatorProcess:
    """The replica Kopf lets act, by the operator's own rule (:func:`is_leader`) on the peering
    object's ``status``; every live peer must be one of ``replicas``, and each of them live."""
    now = datetime.now(UTC)
    live = {
        identity: info
        for identity, info in peers.items()
        if datetime.fromisoformat(info["lastseen"]) + timedelta(seconds=info["lifetime"]) > now
    }
    by_pid = {int(identity.split("@", 1)[1].split("/", 1)[0]): identity for identity in live}
    assert sorted(by_pid) == sorted(r.pid for r in replicas), live
    return next(
        r
        for r in replicas
        if is_leader(peers, PeerId(by_pid[r.pid], live[by_pid[r.pid]]["priority"]), now)
    )
