"""A Kubernetes API server for tests: kmock's ``KubernetesEmulator`` with its gaps closed.

kmock 0.8 parses requests, serves discovery and runs the HTTP server; this subclass answers
every request for a declared resource itself, from :class:`Store`, with the semantics the
operator depends on and stock kmock lacks: 201 on create, namespace taken from the URL,
``generateName``, uid/resourceVersion/generation, the status subresource, optimistic
concurrency (409) and failing JSON-patch tests (422), PUT, label and field selectors, watches
that resume from a resourceVersion, end after ``timeoutSeconds`` and answer 410 Gone when
too old, typed lists, ``pods/log``, TokenReview and SubjectAccessReview, 403 for the
requests a test denies a token (``denied``), and the garbage collector's cascade. The request log is trimmed so routing stays fast however long a test runs.

What it still does not do (a real cluster in ``tests/e2e`` covers it): schema validation and
defaulting, RBAC and admission, strategic merge of lists, protobuf, server-side printing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import aiohttp.web
import kmock
from kmock._internal import parsing, rendering

from tests.support.apiserver.selectors import SelectorError, field_predicate, label_predicate
from tests.support.apiserver.store import ApiError, Change, ResourceType, Store
from tests.support.apiserver.tables import PrinterColumn, table, wants_table

#: Requests kept for kmock's DSL; stock kmock rescans them all on every request.
KEPT_REQUESTS = 50

Authorizer = Callable[[dict[str, Any]], bool]

_stock_parse_path = parsing.parse_path


def _parse_path(path: str) -> Any:
    """kmock's path parser, plus the Namespace resource itself (``/api/v1/namespaces[/NAME]``).

    Stock kmock reads ``namespaces`` as the start of a namespaced path and fails on it.
    """
    parts = path.strip("/").split("/")
    if parts[:3] == ["api", "v1", "namespaces"] and (
        len(parts) <= 4 or parts[4] in ("status", "finalize")
    ):
        return parsing.ParsedPath(
            "",
            "v1",
            "namespaces",
            None,
            parts[3] if len(parts) > 3 else None,
            "/".join(parts[4:]) or None,
        )
    return _stock_parse_path(path)


parsing.parse_path = _parse_path


class ApiServerEmulator(kmock.KubernetesEmulator):  # type: ignore[misc]
    """The emulated API server. Declare resources, then serve it with ``kmock.Server``."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        # ``/version/`` (the kubernetes client's spelling) answered like ``/version``.
        self.fallback["get /version/"] << self._serve_server_version
        self.store = Store()
        self.pod_logs: dict[tuple[str, str, str, bool], str] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        self.authorizer: Authorizer = lambda attributes: False
        #: bearer token → the (verb, resource) pairs refused to it with 403, as RBAC would,
        #: e.g. ``{"jane": {("list", "pods"), ("get", "pods/log")}}``; everything else is allowed.
        self.denied: dict[str, set[tuple[str, str]]] = {}
        #: kinds of the TokenReviews and SubjectAccessReviews asked, in order
        self.reviews: list[str] = []
        #: when set, every review is answered with this HTTP status (a failing authn/authz backend)
        self.review_failure: int | None = None
        self.printer_columns: dict[tuple[str, str, str], list[PrinterColumn]] = {}

    # --- declaring ---------------------------------------------------------------------

    def declare(
        self,
        group: str,
        version: str,
        plural: str,
        *,
        kind: str,
        namespaced: bool = True,
        subresources: set[str] | None = None,
        singular: str | None = None,
        shortnames: set[str] | None = None,
        categories: set[str] | None = None,
    ) -> None:
        """Declare a resource (e.g. a CRD's) so discovery lists it and requests are served."""
        self.resources[f"{group}/{version}/{plural}" if group else f"{version}/{plural}"] = {
            "kind": kind,
            "namespaced": namespaced,
            "singular": singular or kind.lower(),
            "verbs": {"create", "delete", "get", "list", "patch", "update", "watch"},
            "shortnames": shortnames or set(),
            "categories": categories or set(),
            "subresources": subresources or set(),
        }

    def _type_of(self, request: rendering.Request) -> ResourceType | None:
        resource = request.resource
        if resource is None or not resource.plural:
            return None
        for known in self.resources:
            if (known.group, known.version, known.plural) == (
                resource.group,
                resource.version,
                resource.plural,
            ):
                info = self.resources[known]
                return ResourceType(
                    key=(known.group, known.version, known.plural),
                    kind=info.kind or known.plural.capitalize(),
                    namespaced=bool(info.namespaced),
                    has_status="status" in info.subresources,
                )
        return None

    # --- serving -----------------------------------------------------------------------

    async def _handle(self, request: rendering.Request) -> aiohttp.web.StreamResponse:
        del self._requests[:-KEPT_REQUESTS]
        rtype = self._type_of(request)
        if rtype is None:
            return await super()._handle(request)  # discovery, /version, unknown paths
        try:
            self._authorize(rtype, request)
            return await self._serve(rtype, request)
        except ApiError as exc:
            return _status(exc)
        except SelectorError as exc:
            return _status(ApiError(400, "BadRequest", str(exc)))

    async def _serve(
        self, rtype: ResourceType, request: rendering.Request
    ) -> aiohttp.web.StreamResponse:
        method = str(request.method.value).upper()
        namespace = request.namespace if rtype.namespaced else None
        name, sub = request.name, request.subresource
        params = request.params
        if sub not in (None, "status", "log"):
            raise ApiError(404, "NotFound", f"the server could not find {sub}")
        if method == "GET" and params.get("watch") in ("true", "1"):
            return await self._watch(rtype, request, namespace)
        as_table = wants_table(request.headers.get("Accept", ""))
        if name is None:
            if method == "GET":
                listed = self._list(rtype, namespace, params)
                if as_table:
                    return _json(self._table(rtype, listed["items"]))
                return _json(listed)
            if method == "POST":
                return _json(self._create(rtype, namespace, request.data), 201)
            raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on collections")
        if sub == "log":
            return self._log(namespace or "", name, params)
        if method == "GET":
            found = self.store.get(rtype, namespace, name)
            return _json(self._table(rtype, [found]) if as_table else found)
        if method == "DELETE":
            return _json(self.store.delete(rtype, namespace, name))
        if method in ("PUT", "PATCH"):
            if sub == "status" and not rtype.has_status:
                raise ApiError(404, "NotFound", f"{rtype.describe()} has no status subresource")
            return _json(self._write(rtype, request, namespace, name, method))
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported")

    def _authorize(self, rtype: ResourceType, request: rendering.Request) -> None:
        """403 for a request the token's RBAC would refuse, worded as kube-apiserver words it."""
        scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
        token = token.strip() if scheme.lower() == "bearer" else ""  # any case, as kube-apiserver
        refused = self.denied.get(token)
        if not refused:
            return
        method = str(request.method.value).upper()
        plural = rtype.key[2]
        resource = f"{plural}/{request.subresource}" if request.subresource else plural
        verb = _VERBS.get(method, method.lower())
        if method == "GET":
            if request.params.get("watch") in ("true", "1"):
                verb = "watch"
            elif request.name is None:
                verb = "list"
        if (verb, resource) not in refused:
            return
        user = (self.tokens.get(token) or {}).get("username", token)
        namespace = request.namespace if rtype.namespaced else None
        where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        subject = f'{plural} "{request.name}"' if request.name else plural
        raise ApiError(
            403,
            "Forbidden",
            f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
            f'in API group "{rtype.key[0]}" {where}',
        )

    def _list(self, rtype: ResourceType, namespace: str | None, params: Any) -> dict[str, Any]:
        labels = label_predicate(params.get("labelSelector"))
        fields = field_predicate(params.get("fieldSelector"))
        items = [o for o in self.store.list(rtype, namespace) if labels(o) and fields(o)]
        return {
            "apiVersion": rtype.api_version,
            "kind": f"{rtype.kind}List",
            "metadata": {"resourceVersion": str(self.store.revision)},
            "items": items,
        }

    def _table(self, rtype: ResourceType, items: list[dict[str, Any]]) -> dict[str, Any]:
        columns = self.printer_columns.get(rtype.key, [])
        return table(items, columns, str(self.store.revision))

    async def _serve_version(self, request: rendering.Request) -> Any:
        """kmock's APIResourceList, with the core group's version spelled ``v1`` (not ``/v1``)."""
        listing = await super()._serve_version(request)
        if isinstance(listing, dict) and listing.get("groupVersion") == "/v1":
            listing["groupVersion"] = "v1"
        return listing

    def _create(self, rtype: ResourceType, namespace: str | None, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the body of the request was not a JSON object")
        if rtype.key[0] in ("authentication.k8s.io", "authorization.k8s.io"):
            self.reviews.append(rtype.kind)
            if self.review_failure is not None:
                raise ApiError(self.review_failure, "InternalError", "the review backend failed")
        if rtype.key == ("authentication.k8s.io", "v1", "tokenreviews"):
            return self._token_review(body)
        if rtype.key == ("authorization.k8s.io", "v1", "subjectaccessreviews"):
            allowed = self.authorizer(body.get("spec") or {})
            return {**body, "status": {"allowed": allowed}}
        return self.store.create(rtype, namespace, body)

    def _token_review(self, body: dict[str, Any]) -> dict[str, Any]:
        token = (body.get("spec") or {}).get("token", "")
        user = self.tokens.get(token)
        status: dict[str, Any] = {"authenticated": user is not None}
        if user is not None:
            status["user"] = user
        else:
            status["error"] = "invalid bearer token"
        return {**body, "status": status}

    def _write(
        self,
        rtype: ResourceType,
        request: rendering.Request,
        namespace: str | None,
        name: str,
        method: str,
    ) -> dict[str, Any]:
        body = request.data
        sub = request.subresource
        if method == "PUT":
            if not isinstance(body, dict):
                raise ApiError(400, "BadRequest", "the body of the request was not a JSON object")
            return self.store.update(rtype, namespace, name, replace=body, subresource=sub)
        content_type = request.headers.get("Content-Type", "").split(";")[0].strip()
        if content_type == "application/json-patch+json":
            if not isinstance(body, list):
                raise ApiError(400, "BadRequest", "a JSON patch must be a list of operations")
            return self.store.update(rtype, namespace, name, json_patch=body, subresource=sub)
        if content_type in (
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
        ):
            return self.store.update(rtype, namespace, name, merge=body, subresource=sub)
        raise ApiError(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format: {content_type}",
        )

    def _log(self, namespace: str, pod: str, params: Any) -> aiohttp.web.StreamResponse:
        container = params.get("container", "")
        previous = params.get("previous") == "true"
        text = self.pod_logs.get((namespace, pod, container, previous))
        if text is None:
            kind = "previous terminated container" if previous else "container"
            raise ApiError(
                400,
                "BadRequest",
                f'{kind} "{container}" in pod "{pod}" not found',
            )
        if params.get("tailLines"):
            text = "".join(text.splitlines(keepends=True)[-int(params["tailLines"]) :])
        data = text.encode()
        if params.get("limitBytes"):
            data = data[: int(params["limitBytes"])]
        return aiohttp.web.Response(body=data, content_type="text/plain")

    async def _watch(
        self, rtype: ResourceType, request: rendering.Request, namespace: str | None
    ) -> aiohttp.web.StreamResponse:
        params = request.params
        labels = label_predicate(params.get("labelSelector"))
        fields = field_predicate(params.get("fieldSelector"))
        timeout = float(params["timeoutSeconds"]) if params.get("timeoutSeconds") else None
        queue: asyncio.Queue[Change] = asyncio.Queue()
        self.store.watchers.add(queue)
        response = aiohttp.web.StreamResponse(headers={"Content-Type": "application/json"})
        try:
            await response.prepare(request._raw_request)
            since = params.get("resourceVersion") or ""
            if since in ("", "0"):
                backlog = [
                    Change(self.store.revision, rtype.key, "ADDED", obj)
                    for obj in self.store.list(rtype, namespace)
                ]
            else:
                found = self.store.changes_since(int(since))
                if found is None:
                    await _write_event(response, "ERROR", _gone(since))
                    return response
                backlog = found

            def wanted(change: Change) -> bool:
                obj = change.obj
                in_namespace = namespace is None or obj["metadata"].get("namespace") == namespace
                return change.resource == rtype.key and in_namespace and labels(obj) and fields(obj)

            for change in backlog:
                if wanted(change):
                    await _write_event(response, change.type, change.obj)
            # Only changes newer than the backlog: the queue may hold some of them already.
            last = max((c.resource_version for c in backlog), default=self.store.revision)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout if timeout else None
            while True:
                remaining = None if deadline is None else deadline - loop.time()
                if remaining is not None and remaining <= 0:
                    break
                try:
                    change = await asyncio.wait_for(queue.get(), remaining)
                except TimeoutError:
                    break
                if change.resource_version > last and wanted(change):
                    await _write_event(response, change.type, change.obj)
            await response.write_eof()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.store.watchers.discard(queue)
        return response


_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def _json(body: Any, status: int = 200) -> aiohttp.web.Response:
    return aiohttp.web.json_response(body, status=status)


def _status_body(exc: ApiError) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": exc.message,
        "reason": exc.reason,
        "code": exc.code,
    }


def _status(exc: ApiError) -> aiohttp.web.Response:
    return _json(_status_body(exc), exc.code)


def _gone(since: str) -> dict[str, Any]:
    return _status_body(ApiError(410, "Expired", f"too old resource version: {since}"))


async def _write_event(response: aiohttp.web.StreamResponse, type_: str, obj: Any) -> None:
    await response.write(json.dumps({"type": type_, "object": obj}).encode() + b"\n")
