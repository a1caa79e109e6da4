"""Schemathesis against the real operator process, from the document it publishes.

Every operation of ``/openapi.json``, every built-in check, a bounded number of examples; run
three times: with Kubernetes auth and a valid token, with ``AUTH_MODE=none``, and
``/alertmanager`` with ``ALERTMANAGER_TOKEN``. Besides schemathesis' checks, every 4xx must be
an ``ErrorResponse``, nothing may answer 500, and neither a secret planted in the cluster nor
a token may appear in any answer. The emulated API server holds a crash-looping Deployment
with that secret in its log and environment in the namespace /assist answers by default.

The schemas are built when the tests are collected (parametrisation needs them then) by the
same code the operator runs, with the same settings; a test checks that each running process
serves exactly that document.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from kubernetes import client
from schemathesis import Case
from schemathesis.config import SchemathesisConfig

from highpeaks_agent.http.models import ErrorResponse
from highpeaks_agent.main import build_services
from highpeaks_agent.settings import Settings
from tests.support.apiserver.serve import OPERATOR_TOKEN, RunningApiServer
from tests.support.controllers import SimulatedControllers
from tests.support.operator_process import OperatorProcess

pytestmark = pytest.mark.integration

#: Examples per operation and generation phase: enough to reach every branch of the two
#: bodies' schemas, few enough that all three runs stay well under a minute.
MAX_EXAMPLES = 25
FUZZER_TOKEN = "fuzzer-token-0d5b7a"
ALERTMANAGER_TOKEN = "am-token-fuzz-51c2e8"
PASSWORD = "Pl4nted-fuzz-passw0rd-3e9a"
PLANTED_LOG = (
    "2026-11-25T10:00:00Z INFO starting checkout 2.14.0\n"
    f"2026-11-25T10:00:01Z INFO connecting to postgres://checkout:{PASSWORD}@db:5432/shop\n"
    "panic: cannot reach the database\n"
)
#: The namespace /assist answers about when a body names none.
NAMESPACE = "it-fuzz"
#: Schemathesis' statuses that reject a schema-violating request, plus 413 (too large).
NEGATIVE_REJECTIONS = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429, "5xx"]
#: Never in an answer: the planted password and every bearer token in play.
SECRETS = (PASSWORD, FUZZER_TOKEN, ALERTMANAGER_TOKEN, OPERATOR_TOKEN)


@dataclass(frozen=True)
class FuzzRun:
    """How the operator runs, the token the fuzzer presents, and the operations it tries."""

    name: str
    env: dict[str, str] = field(hash=False)
    token: str | None
    path_regex: str = ".*"

    def __str__(self) -> str:
        return self.name

    def published(self) -> dict[str, Any]:
        """The document an operator with these settings publishes, built as it builds it."""
        overrides = {name.lower(): value for name, value in {**COMMON, **self.env}.items()}
        _, app = build_services(Settings(**overrides), client.ApiClient())
        document: dict[str, Any] = app.openapi()
        return document

    def schema(self) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        config = SchemathesisConfig.from_dict(
            {
                "headers": headers,
                "checks": {
                    "enabled": True,
                    # An invalid body can be too large as well (a query over its maxLength in
                    # escaped characters passes the byte bound): 413, which both operations
                    # declare, refuses it as rightly as 422 would.
                    "negative_data_rejection": {"expected-statuses": NEGATIVE_REJECTIONS},
                },
                "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
            }
        )
        loaded = schemathesis.openapi.from_dict(self.published(), config=config)
        return loaded.include(path_regex=self.path_regex)


KUBERNETES_AUTH = FuzzRun("kubernetes-auth", {"AUTH_MODE": "kubernetes"}, FUZZER_TOKEN)
AUTH_NONE = FuzzRun("auth-none", {"AUTH_MODE": "none"}, None)
ALERTMANAGER = FuzzRun(
    "alertmanager-token",
    {"ALERTMANAGER_TOKEN": ALERTMANAGER_TOKEN},
    ALERTMANAGER_TOKEN,
    "^/alertmanager$",
)
#: Every run: the rates raised so that the fuzzer's hundreds of requests a minute meet the
#: checks under test, not the limiters (tested in test_http_surface.py), and a body without a
#: namespace asking about the planted one.
COMMON = {
    "ASSIST_RATE_LIMIT_PER_MINUTE": "100000",
    "ASSIST_UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE": "100000",
    "ASSIST_DEFAULT_NAMESPACE": NAMESPACE,
}


@pytest.fixture(scope="module")
def planted_secret(apiserver: RunningApiServer, api: Any) -> Iterator[None]:
    """The fuzzer's user may read everything; the namespace holds a crash loop with a secret."""
    apiserver.emulator.tokens[FUZZER_TOKEN] = {"username": "fuzzer", "groups": ["sre"]}
    previous = apiserver.emulator.authorizer
    apiserver.emulator.authorizer = lambda spec: spec.get("user") == "fuzzer" or previous(spec)
    cluster = SimulatedControllers(api, apiserver, NAMESPACE)
    cluster.deployment("checkout", "registry.example.com/shop/checkout:2.14.0")
    env = [{"name": "DB_PASSWORD", "value": PASSWORD}]
    rs = cluster.rollout("checkout", 1, "registry.example.com/shop/checkout:2.14.0", env)
    cluster.crash_loop(cluster.pod(rs), restarts=5, log=PLANTED_LOG)
    yield
    apiserver.emulator.authorizer = previous


@pytest.fixture(scope="module")
def operators(
    kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory, planted_secret: None
) -> Iterator[dict[FuzzRun, OperatorProcess]]:
    """One operator per run, started side by side: start-up, not fuzzing, is the slow part."""
    processes = {
        run: OperatorProcess(
            kubeconfig,
            tmp_path_factory.mktemp("fuzz-operator") / "operator.log",
            env={**COMMON, **run.env},
        )
        for run in (KUBERNETES_AUTH, AUTH_NONE, ALERTMANAGER)
    }
    try:
        with ThreadPoolExecutor(len(processes)) as pool:
            list(pool.map(OperatorProcess.start, processes.values()))
        yield processes
    finally:
        with ThreadPoolExecutor(len(processes)) as pool:
            list(pool.map(OperatorProcess.stop, processes.values()))


def errors_are_error_responses(ctx: Any, response: Any, case: Case) -> bool | None:
    """Every 4xx is a JSON ``ErrorResponse``, and nothing answers 500."""
    assert response.status_code != 500, f"500: {response.text[:300]}"
    if 400 <= response.status_code < 500:
        assert response.headers.get("content-type", [""])[0].startswith("application/json")
        body = response.json()
        ErrorResponse.model_validate(body)
        assert set(body) == {"error", "reason"}, body
    return None


def no_secret_in_answers(ctx: Any, response: Any, case: Case) -> bool | None:
    """Neither the planted password nor a bearer token leaves in a body or a header."""
    answered = response.text + repr(response.headers)
    leaked = [secret for secret in SECRETS if secret in answered]
    assert not leaked, f"{case.method} {case.path} answered a secret"
    return None


CHECKS = [errors_are_error_responses, no_secret_in_answers]


@pytest.mark.parametrize("run", [KUBERNETES_AUTH, AUTH_NONE, ALERTMANAGER], ids=str)
def test_the_fuzzed_document_is_the_one_served(
    run: FuzzRun, operators: dict[FuzzRun, OperatorProcess]
) -> None:
    served = httpx.get(f"{operators[run].url}/openapi.json", timeout=10).json()
    assert served == run.published()


def test_the_planted_secret_is_within_the_fuzzers_reach(
    operators: dict[FuzzRun, OperatorProcess],
) -> None:
    """A body with no namespace asks about the planted namespace: the secret is in reach."""
    response = httpx.post(
        f"{operators[KUBERNETES_AUTH].url}/assist",
        json={"query": "what is failing?"},
        headers={"Authorization": f"Bearer {FUZZER_TOKEN}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    assert "Deployment checkout" in response.json()["answer"]
    assert PASSWORD not in response.text


@KUBERNETES_AUTH.schema().parametrize()
def test_with_kubernetes_auth(case: Case, operators: dict[FuzzRun, OperatorProcess]) -> None:
    case.call_and_validate(base_url=operators[KUBERNETES_AUTH].url, additional_checks=CHECKS)


@AUTH_NONE.schema().parametrize()
def test_with_auth_none(case: Case, operators: dict[FuzzRun, OperatorProcess]) -> None:
    case.call_and_validate(base_url=operators[AUTH_NONE].url, additional_checks=CHECKS)


@ALERTMANAGER.schema().parametrize()
def test_alertmanager_with_its_token(case: Case, operators: dict[FuzzRun, OperatorProcess]) -> None:
    case.call_and_validate(base_url=operators[ALERTMANAGER].url, additional_checks=CHECKS)
