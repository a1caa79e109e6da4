"""The published OpenAPI 3.1 document (``/openapi.json``): bodies, auth schemes, error bodies.

The routes read their bodies themselves (the caller is checked before the body is parsed,
and the size is bounded while reading), so FastAPI cannot see their request models. A route
names its model with :func:`json_body`; :func:`publish_request_models` adds those models to
``components/schemas`` with FastAPI's own reference template, so every ``$ref`` resolves from
the document root, nested models included.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Security
from fastapi.openapi.constants import REF_TEMPLATE
from fastapi.params import Depends
from fastapi.security import HTTPBearer
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from highpeaks_agent.http.models import ErrorResponse

#: A Kubernetes bearer token, as for /assist; ``auto_error=False``: the route answers 401 itself.
KUBERNETES_TOKEN = HTTPBearer(
    scheme_name="KubernetesToken",
    description=(
        "A Kubernetes bearer token (a user's or a service account's), checked with a "
        "TokenReview; SubjectAccessReviews for the caller bound what is answered."
    ),
    auto_error=False,
)
#: The shared secret Alertmanager sends (``ALERTMANAGER_TOKEN``, ``http_config.authorization``).
ALERTMANAGER_TOKEN = HTTPBearer(
    scheme_name="AlertmanagerToken",
    description="The value of ALERTMANAGER_TOKEN, sent by Alertmanager as a bearer token.",
    auto_error=False,
)

#: Request models named by :func:`json_body`, by their component name.
_REQUEST_MODELS: dict[str, type[BaseModel]] = {}


def json_body(model: type[BaseModel], description: str) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads ``model`` as its JSON body itself."""
    known = _REQUEST_MODELS.setdefault(model.__name__, model)
    if known is not model:
        raise ValueError(f"two request models are named {model.__name__}")
    schema = {"$ref": REF_TEMPLATE.format(model=model.__name__)}
    return {
        "requestBody": {
            "description": description,
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    }


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The documented error answers of a route: each an ``ErrorResponse`` JSON body."""
    return {
        code: {"model": ErrorResponse, "description": HTTPStatus(code).phrase} for code in codes
    }


def bearer(scheme: HTTPBearer | None) -> list[Depends]:
    """Route dependencies that declare ``scheme`` (nothing when nobody is checked)."""
    return [] if scheme is None else [Security(scheme)]


def publish_request_models(
    app: FastAPI, max_lengths: Mapping[tuple[str, str], int] | None = None
) -> None:
    """Extend FastAPI's document with the request models its routes refer to.

    ``max_lengths`` are the bounds a setting gives a string field, by (model, field): the
    model cannot carry them, and a client should know them before it is refused.
    """
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(_request_model_schemas(_referenced_models(document)))
        for (model, field), limit in (max_lengths or {}).items():
            if model in schemas:
                schemas[model]["properties"][field]["maxLength"] = limit
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented extension point


def _referenced_models(document: dict[str, Any]) -> list[type[BaseModel]]:
    refs = {
        media.get("schema", {}).get("$ref")
        for operations in document.get("paths", {}).values()
        for operation in operations.values()
        for media in operation.get("requestBody", {}).get("content", {}).values()
    }
    return [
        model
        for name, model in sorted(_REQUEST_MODELS.items())
        if REF_TEMPLATE.format(model=name) in refs
    ]


def _request_model_schemas(models: list[type[BaseModel]]) -> dict[str, Any]:
    if not models:
        return {}
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=REF_TEMPLATE)
    definitions: dict[str, Any] = top.get("$defs", {})
    return definitions
