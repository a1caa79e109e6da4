"""One way to call the Kubernetes API: the official client, in a worker thread, raw JSON back.

Calls run in worker threads so the event loop never waits on the API server.
``_preload_content=False`` skips the client's model classes: callers want the dicts the API
server sent (camelCase keys, unknown fields kept), and it is much cheaper. Errors stay the
client's :class:`~kubernetes.client.exceptions.ApiException` (``.status`` 404, 409, …).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any
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


async def call_json(method: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Call a generated client method (``CoreV1Api.create_namespaced_event``, …) for its JSON.

    Every answer the API server gives is a JSON object; anything else reads as ``{}``, which
    callers already treat as "nothing there".
    """
    response = await asyncio.to_thread(method, *args, _preload_content=False, **kwargs)
    return _object(response.data)


def resource_path(
    info: KindInfo, namespace: str | None, name: str | None = None, subresource: str | None = None
) -> str:
    """``/apis/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}[/{subresource}]]``."""
    parts = ["/apis", info.group] if info.group else ["/api"]
    parts.append(info.version)
    if info.namespaced and namespace is not None:
        parts.extend(("namespaces", quote(namespace, safe="")))
    parts.append(info.plural)
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


def _get(api_client: client.ApiClient, path: str, query: Query) -> bytes:
    # The generated methods do exactly this: the same URL encoding, Accept header and token.
    method, url, headers, body, post_params = api_client.param_serialize(
        method="GET",
        resource_path=path,
        query_params=list(query),
        header_params={"Accept": "application/json"},
        auth_settings=["BearerToken"],
    )
    response = api_client.call_api(method, url, headers, body, post_params)
    data: bytes = response.read()  # type: ignore[no-untyped-call]
    if not 200 <= response.status <= 299:
        raise ApiException.from_response(http_resp=response, body=None, data=None)
    return data


def _object(raw: bytes) -> dict[str, Any]:
    decoded = json.loads(raw)
    return decoded if isinstance(decoded, dict) else {}
