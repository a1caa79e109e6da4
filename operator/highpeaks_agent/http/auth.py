"""Who may ask /assist: a TokenReview to authenticate, a SubjectAccessReview to authorise.

Reviews go to the API server through :func:`highpeaks_agent.kubeapi.call_json`, so the event
loop never waits on them. Positive answers are cached briefly (keyed by a hash of the token,
never the token itself) so a chat client does not cost two API calls per message.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from kubernetes import client

from highpeaks_agent.errors import Forbidden, Unauthenticated
from highpeaks_agent.kubeapi import call_json
from highpeaks_agent.ttlcache import TTLCache


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


class KubernetesAuth:
    """TokenReview + SubjectAccessReview against the cluster's API server."""

    def __init__(self, api_client: client.ApiClient, *, cache_seconds: float = 60.0) -> None:
        self._authn = client.AuthenticationV1Api(api_client)
        self._authz = client.AuthorizationV1Api(api_client)
        self._users: TTLCache[str, User] = TTLCache(cache_seconds)
        self._grants: TTLCache[tuple[User, Access], bool] = TTLCache(cache_seconds)

    async def authenticate(self, authorization: str | None) -> User:
        """The caller behind ``Authorization: Bearer …``; raises ``Unauthenticated`` otherwise."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("missing bearer token")
        key = hashlib.sha256(token.encode()).hexdigest()
        cached = self._users.get(key)
        if cached is not None:
            return cached
        review: Any = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token},
        }
        result = await call_json(self._authn.create_token_review, review)
        status = result.get("status") or {}
        if not status.get("authenticated"):
            raise Unauthenticated("invalid or expired token")
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
        """Raises ``Forbidden`` unless the user may do ``access``."""
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
            raise Forbidden(
                f"{user.username or 'caller'} may not {access.verb} {access.resource} in namespace {access.namespace}",
            )
        self._grants.put(key, True)
