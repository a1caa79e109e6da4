"""Who may ask /assist: a TokenReview to authenticate, SubjectAccessReviews to authorise.

Reviews go to the API server through :func:`highpeaks_agent.kubeapi.request_json`, so the event
loop never waits on them. Answers are cached, keyed by a hash of the token (never the token
itself): a chat client does not cost API calls per message, and the same bad token or the
same denied read repeated costs nothing more until its shorter negative entry expires. A
review that cannot be made (API error, timeout) raises :class:`ReviewUnavailable` and is
never cached: nobody is let in or kept out on a guess.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from highpeaks_agent.errors import Forbidden, ReviewUnavailable, Unauthenticated
from highpeaks_agent.kubeapi import api_path, request_json
from highpeaks_agent.ttlcache import TTLCache

#: How long a failed token lookup or a denied access is remembered. Short, so a token that
#: was just issued or a RoleBinding that was just made works soon; long enough that a flood
#: repeating the same bad token costs one review per this many seconds.
DENIED_CACHE_SECONDS = 10.0
#: Seconds one review may take before the request is answered 503.
REVIEW_TIMEOUT_SECONDS = 10.0
TOKEN_REVIEWS = api_path("authentication.k8s.io", "v1", "tokenreviews")
ACCESS_REVIEWS = api_path("authorization.k8s.io", "v1", "subjectaccessreviews")
#: What a review call raises when the API server cannot answer it.
_REVIEW_FAILURES = (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError)


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

    def describe(self) -> str:
        return f"{self.verb} {self.resource} in namespace {self.namespace}"


class KubernetesAuth:
    """TokenReview + SubjectAccessReview against the cluster's API server."""

    def __init__(
        self,
        api_client: client.ApiClient,
        *,
        cache_seconds: float = 60.0,
        denied_cache_seconds: float = DENIED_CACHE_SECONDS,
        review_timeout: float = REVIEW_TIMEOUT_SECONDS,
    ) -> None:
        self._api = api_client
        self._timeout = review_timeout
        self._users: TTLCache[str, User] = TTLCache(cache_seconds)
        self._bad_tokens: TTLCache[str, bool] = TTLCache(denied_cache_seconds, size=4096)
        self._grants: TTLCache[tuple[User, Access], bool] = TTLCache(cache_seconds)
        self._denials: TTLCache[tuple[User, Access], bool] = TTLCache(denied_cache_seconds)

    def known_user(self, authorization: str | None) -> User | None:
        """The caller behind a token reviewed recently and found valid; else None (no call)."""
        token = _bearer_token(authorization)
        return self._users.get(_digest(token)) if token else None

    async def authenticate(self, authorization: str | None) -> User:
        """The caller behind ``Authorization: Bearer …``; raises ``Unauthenticated`` otherwise."""
        token = _bearer_token(authorization)
        if not token:
            raise Unauthenticated("missing bearer token")
        key = _digest(token)
        cached = self._users.get(key)
        if cached is not None:
            return cached
        if self._bad_tokens.get(key):
            raise Unauthenticated("invalid or expired token")
        review: Any = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token},
        }
        result = await self._review("TokenReview", TOKEN_REVIEWS, review)
        status = result.get("status") or {}
        if not status.get("authenticated"):
            self._bad_tokens.put(key, True)
            raise Unauthenticated("invalid or expired token")
        user = _user(status.get("user") or {})
        self._users.put(key, user)
        return user

    async def authorize(self, user: User, access: Access) -> None:
        """Raises ``Forbidden`` unless the user may do ``access``."""
        if not await self.allowed(user, access):
            # the same answer whether or not the namespace or object exists: nothing leaks
            raise Forbidden(f"{user.username or 'caller'} may not {access.describe()}")

    async def allowed(self, user: User, access: Access) -> bool:
        """Whether the user may do ``access`` (a SubjectAccessReview, cached either way)."""
        key = (user, access)
        if self._grants.get(key):
            return True
        if self._denials.get(key):
            return False
        review: Any = {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": {
                "user": user.username,
                "uid": user.uid,
                "groups": list(user.groups),
                "extra": {k: list(v) for k, v in user.extra},
                "resourceAttributes": _attributes(access),
            },
        }
        answer = await self._review("SubjectAccessReview", ACCESS_REVIEWS, review)
        status = answer.get("status") or {}
        allowed = bool(status.get("allowed")) and not status.get("denied")
        (self._grants if allowed else self._denials).put(key, True)
        return allowed

    async def _review(self, kind: str, path: str, review: Any) -> dict[str, Any]:
        try:
            return await request_json(self._api, "POST", path, body=review, deadline=self._timeout)
        except _REVIEW_FAILURES as exc:
            reason = f"HTTP {exc.status}" if isinstance(exc, ApiException) else type(exc).__name__
            raise ReviewUnavailable(f"the {kind} could not be made ({reason}); try again") from exc


def _bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _user(info: dict[str, Any]) -> User:
    return User(
        username=str(info.get("username") or ""),
        uid=str(info.get("uid") or ""),
        groups=tuple(str(g) for g in info.get("groups") or []),
        extra=tuple(
            sorted((str(k), tuple(str(x) for x in v)) for k, v in (info.get("extra") or {}).items())
        ),
    )


def _attributes(access: Access) -> dict[str, str]:
    # a SubjectAccessReview names a subresource apart: pods/log is resource pods, subresource log
    resource, _, subresource = access.resource.partition("/")
    attributes = {
        "verb": access.verb,
        "resource": resource,
        "group": access.group,
        "namespace": access.namespace,
    }
    if subresource:
        attributes["subresource"] = subresource
    if access.name:
        attributes["name"] = access.name
    return attributes
