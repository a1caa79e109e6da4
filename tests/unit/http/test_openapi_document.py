"""/openapi.json: a valid OpenAPI 3.1 document whose every reference resolves, with the
request bodies, auth schemes, content types and error bodies the routes really have."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from kubernetes import client
from openapi_spec_validator import validate

from highpeaks_agent.http.models import ErrorResponse
from highpeaks_agent.main import build_services
from highpeaks_agent.settings import Settings

KUBERNETES = {"auth_mode": "kubernetes"}
NONE = {"auth_mode": "none"}
ALERTMANAGER = {"auth_mode": "kubernetes", "alertmanager_token": "am-0123456789abcdef"}
ERROR_RESPONSE = {"$ref": "#/components/schemas/ErrorResponse"}


def app_with(**settings: Any) -> Any:
    _, app = build_services(Settings(**settings), client.ApiClient())
    return app


def document(**settings: Any) -> dict[str, Any]:
    published: dict[str, Any] = app_with(**settings).openapi()
    return published


def references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def resolve(root: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"{ref} is not a reference inside the document"
    node: Any = root
    for escaped in ref[2:].split("/"):
        part = escaped.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} resolves to nothing"
        node = node[part]
    return node


def operations(published: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in published["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


@pytest.mark.parametrize("settings", [KUBERNETES, NONE, ALERTMANAGER], ids=["k8s", "none", "am"])
def test_the_document_is_valid_openapi_3_1_and_every_reference_resolves(
    settings: dict[str, str],
) -> None:
    published = document(**settings)
    assert published["openapi"].startswith("3.1.")
    validate(published)
    refs = set(references(published))
    assert refs, "the document refers to its components"
    for ref in refs:
        resolve(published, ref)


def test_request_bodies_are_registered_components() -> None:
    published = document(**KUBERNETES)
    schemas = published["components"]["schemas"]
    for path, model in (("/assist", "AssistRequest"), ("/alertmanager", "AlertGroup")):
        body = published["paths"][path]["post"]["requestBody"]
        assert body["required"] is True
        assert body["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{model}"
        }
    assert schemas["AssistRequest"]["properties"]["target"]["anyOf"][0] == {
        "$ref": "#/components/schemas/TargetRef"
    }
    assert schemas["AlertGroup"]["properties"]["alerts"]["items"] == {
        "$ref": "#/components/schemas/Alert"
    }
    assert "$defs" not in str(published), "nested definitions belong in components/schemas"


def test_the_query_limit_is_the_configured_one() -> None:
    schemas = document(**NONE, assist_max_query_chars="120")["components"]["schemas"]
    assert schemas["AssistRequest"]["properties"]["query"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 120,
        "title": "Query",
    }


def test_every_error_answer_is_an_error_response() -> None:
    published = document(**KUBERNETES)
    errors = 0
    for method, path, operation in operations(published):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                errors += 1
                media = response["content"]["application/json"]
                assert media["schema"] == ERROR_RESPONSE, f"{method} {path} {status}"
    assert errors >= 14
    assert published["components"]["schemas"]["ErrorResponse"]["required"] == ["error", "reason"]


def security(published: dict[str, Any], path: str) -> list[dict[str, list[str]]] | None:
    found: list[dict[str, list[str]]] | None = published["paths"][path]["post"].get("security")
    return found


def test_the_bearer_schemes_follow_the_settings() -> None:
    kubernetes, none, alertmanager = (
        document(**KUBERNETES),
        document(**NONE),
        document(**ALERTMANAGER),
    )
    scheme = kubernetes["components"]["securitySchemes"]["KubernetesToken"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert security(kubernetes, "/assist") == [{"KubernetesToken": []}]
    assert security(kubernetes, "/alertmanager") == [{"KubernetesToken": []}]
    assert security(alertmanager, "/assist") == [{"KubernetesToken": []}]
    assert security(alertmanager, "/alertmanager") == [{"AlertmanagerToken": []}]
    assert alertmanager["components"]["securitySchemes"]["AlertmanagerToken"]["scheme"] == "bearer"
    # nobody is checked: no scheme is claimed
    assert security(none, "/assist") is None and security(none, "/alertmanager") is None
    assert "securitySchemes" not in none.get("components", {})
    for method, path, operation in operations(kubernetes):
        if path not in ("/assist", "/alertmanager"):
            assert "security" not in operation, f"{method} {path} is open"


async def get(app: Any, path: str, method: str = "GET") -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://agent") as http:
        return await http.request(method, path)


async def test_metrics_are_documented_and_served_as_prometheus_text() -> None:
    app = app_with(**NONE)
    documented = app.openapi()["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(documented) == ["text/plain; version=0.0.4"]
    response = await get(app, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "# TYPE highpeaks_agent_" in response.text


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("DELETE", "/assist", 405, "MethodNotAllowed"),
        ("GET", "/alertmanager", 405, "MethodNotAllowed"),
        ("GET", "/no-such-path", 404, "NotFound"),
    ],
)
async def test_what_the_framework_answers_is_an_error_response(
    method: str, path: str, status: int, error: str
) -> None:
    response = await get(app_with(**KUBERNETES), path, method)
    assert response.status_code == status
    body = ErrorResponse.model_validate(response.json())
    assert body.error == error and body.reason
    if status == 405:
        assert response.headers["allow"] == "POST"
