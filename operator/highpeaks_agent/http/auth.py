"""Who may ask /assist: a TokenReview to authenticate, a SubjectAccessReview to authorise.

Reviews go to the API server through :func:`highpeaks_agent.kubeapi.call_json`, so the event
loop never waits on them. Positive answers are cached briefly (keyed by a hash of the token,
never the token itself) so a chat client does not cost two API calls per message.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from kubernetes import client

from highpeaks_agent.kubeapi import call_json


@dataclass(frozen=True, slots=True)
class User:
    """An authenticated caller, as the TokenReview described them."""

    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class Access:
    """One permission to check: ``verb`` on ``resource`` (in ``group``) in ``namespace``."""

    verb: str
    resource: str
    namespace: str
    group: str = ""
    name: str = ""


class AuthError(Exception):
    """401 (not authenticated) or 403 (not allowed), with a reason safe to show."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class _TTLCache:
    def __init__(self, seconds: float, size: int = 1024) -> None:
        self._seconds = seconds
        self._size = size
        self._items: OrderedDict[Any, tuple[float, Any]] = OrderedDict()

    def get(self, key: Any) -> Any:
        item = self._items.get(key)
        if item is None or time.monotonic() - item[0] > self._seconds:
            self._items.pop(key, None)
            return None
        return item[1]

    def put(self, key: Any, value: Any) -> None:
        self._items[key] = (time.monotonic(), value)
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


class KubernetesAuth:
    """TokenReview + SubjectAccessReview against the cluster's API server."""

    def __init__(self, api_client: client.ApiClient, *, cache_seconds: float = 60.0) -> None:
        self._authn = client.AuthenticationV1Api(api_client)
        self._authz = client.AuthorizationV1Api(api_client)
        self._users = _TTLCache(cache_seconds)
        self._grants = _TTLCache(cache_seconds)

    async def authenticate(self, authorization: str | None) -> User:
        """The caller behind ``Authorization: Bearer …``; AuthError(401) otherwise."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthError(401, "missing bearer token")
        key = hashlib.sha256(token.encode()).hexdigest()
        cached = self._users.get(key)
        if isinstance(cached, User):
            return cached
        review: Any = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token},
        }
        result = await call_json(self._authn.create_token_review, review)
        status = result.get("status") or {}
        if not status.get("authenticated"):
            raise AuthError(401, "invalid or expired token")
        info = status.get("user") or {}
        user = User(
            username=str(info.get("username") or ""),
            uid=str(info.get("uid") or ""),
            groups=tuple(str(g) for g in info.get("groups") or []),
            extra=tuple(
                sorted(
                    (str(k), tuple(str(x) for x in v)) for k, v in (info.get("extra") or {}).items()
                )
            ),
        )
        self._users.put(key, user)
        return user

    async def authorize(self, user: User, access: Access) -> None:
        """AuthError(403) unless the user may do ``access``."""
        key = (user, access)
        if self._grants.get(key):
            return
        attributes = {
            "verb": access.verb,
            "resource": access.resource,
            "group": access.group,
            "namespace": access.namespace,
        }
        if access.name:
            attributes["name"] = access.name
        review: Any = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": user.username,
                "uid": user.uid,
                "groups": list(user.groups),
                "extra": {k: list(v) for k, v in user.extra},
                "resourceAttributes": attributes,
            },
        }
        result = await call_json(self._authz.create_subject_access_review, review)
        status = result.get("status") or {}
        if not status.get("allowed") or status.get("denied"):
            # the same answer whether or not the namespace exists: nothing leaks
            raise AuthError(
                403,
                f"{user.username or 'caller'} may not {access.verb} {access.resource} in namespace {access.namespace}",
            )
        self._grants.put(key, True)
