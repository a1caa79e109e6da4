"""One way to call the Kubernetes API: the official client, in a worker thread, raw JSON back.

Calls run in worker threads so the event loop never waits on the API server.
:func:`request_json` sends a request to a path built here, through the client's
:class:`ApiClient` (its configuration, token refresh, TLS and pool), without the generated
``CoreV1Api``-style classes or the model classes: callers want the dicts the API server sent
(camelCase keys, unknown fields kept), it is much cheaper per call, and the operator's process
never loads those modules (``CoreV1Api``'s alone is about 20 MB resident). Errors stay the
client's :class:`~kubernetes.client.exceptions.ApiException` (``.status`` 404, 409, …).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from highpeaks_agent.engine.kinds import KindInfo

#: Query parameters in the order they are sent, e.g. ``[("labelSelector", "app=x")]``.
Query = Sequence[tuple[str, str | int | bool]]


#: Seconds for one request, or (connect, read) seconds, as the client's ``_request_timeout``.
Timeout = float | tuple[float, float]


def make_api_client(request_timeout: Timeout) -> client.ApiClient:
    """An ApiClient for the in-cluster service account, else ``$KUBECONFIG``/``~/.kube/config``,
    with ``request_timeout`` on every request."""
    configuration = client.Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except ConfigException:
        config.load_kube_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    api_client = client.ApiClient(configuration)
    api_client.rest_client = DeadlineRest(api_client.rest_client, request_timeout)  # type: ignore[assignment]
    return api_client


class DeadlineRest:
    """The client's REST layer with a deadline on every request that sets none of its own.

    The client waits for ever by default: an API server (or a proxy) that holds a connection
    open without answering would block that call, and whatever awaits it, until the process
    ends. With a deadline the call fails, and the caller's retry or the resync tries again.
    """

    def __init__(self, inner: Any, timeout: Timeout) -> None:
        self._inner = inner
        self._timeout = timeout

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        kwargs["_request_timeout"] = kwargs.get("_request_timeout") or self._timeout
        return self._inner.request(method, url, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def resource_path(
    info: KindInfo, namespace: str | None, name: str | None = None, subresource: str | None = None
) -> str:
    """``/apis/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}[/{subresource}]]``."""
    return api_path(
        info.group,
        info.version,
        info.plural,
        namespace if info.namespaced else None,
        name,
        subresource,
    )


def api_path(
    group: str,
    version: str,
    plural: str,
    namespace: str | None = None,
    name: str | None = None,
    subresource: str | None = None,
) -> str:
    """The path of a collection or object of any resource (``group`` "" is the core group)."""
    parts = ["/apis", group] if group else ["/api"]
    parts.append(version)
    if namespace is not None:
        parts.extend(("namespaces", quote(namespace, safe="")))
    parts.append(plural)
    if name is not None:
        parts.append(quote(name, safe=""))  # as the generated methods quote path parameters
    if subresource is not None:
        parts.append(subresource)
    return "/".join(parts)


async def get_json(api_client: client.ApiClient, path: str, query: Query = ()) -> dict[str, Any]:
    """GET ``path`` (from :func:`resource_path`): any kind, with no per-kind client method."""
    return _object(await asyncio.to_thread(_get, api_client, path, query))


async def get_bytes(api_client: client.ApiClient, path: str, query: Query = ()) -> bytes:
    """GET ``path`` for its raw body (``pods/{name}/log``)."""
    return await asyncio.to_thread(_get, api_client, path, query)


async def request_json(
    api_client: client.ApiClient,
    method: Literal["GET", "POST", "PATCH"],
    path: str,
    query: Query = (),
    body: Mapping[str, Any] | list[Any] | None = None,
    *,
    content_type: str = "application/json",
    deadline: Timeout | None = None,
) -> dict[str, Any]:
    """Send ``body`` (if any) to ``path`` (from :func:`api_path`) and decode the answer.

    ``content_type`` says what ``body`` is (``application/merge-patch+json`` for a merge
    patch); ``deadline`` replaces the client's deadline for this call.
    """
    raw = await asyncio.to_thread(
        _send, api_client, method, path, query, body, content_type, deadline
    )
    return _object(raw)


def _get(api_client: client.ApiClient, path: str, query: Query) -> bytes:
    return _send(api_client, "GET", path, query, None, "application/json", None)


def _send(
    api_client: client.ApiClient,
    method: str,
    path: str,
    query: Query,
    body: Mapping[str, Any] | list[Any] | None,
    content_type: str,
    timeout: Timeout | None,
) -> bytes:
    # The generated methods do exactly this: the same URL encoding, headers and token.
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = content_type
    method, url, headers, payload, post_params = api_client.param_serialize(
        method=method,
        resource_path=path,
        query_params=list(query),
        header_params=headers,
        body=dict(body) if isinstance(body, Mapping) else body,  # a list: a JSON patch
        auth_settings=["BearerToken"],
    )
    response = api_client.call_api(
        method, url, headers, payload, post_params, _request_timeout=timeout
    )
    data: bytes = response.read()  # type: ignore[no-untyped-call]
    if not 200 <= response.status <= 299:
        raise ApiException.from_response(http_resp=response, body=None, data=None)
    return data


def _object(raw: bytes) -> dict[str, Any]:
    decoded = json.loads(raw)
    return decoded if isinstance(decoded, dict) else {}
