"""Who calls a tool, and what they may read (CONTRACT §7, §11).

Three kinds of caller reach ``/mcp``:

* a person or program with a Kubernetes bearer token: their own rights, checked with
  SubjectAccessReviews exactly as /assist checks them (``http/rights.py``);
* the flow, with a one-request credential (``flowise/grants.py``): the rights of whoever asked
  — an /assist caller's own, or, for an AgentTask or an incident, read access to the task's
  namespace only, made with the operator's own reads (any other namespace is refused);
* anyone, with ``AUTH_MODE=none``: everything the operator can read, as /assist then answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from highpeaks_agent.errors import AgentError, Forbidden
from highpeaks_agent.flowise.grants import FlowGrant
from highpeaks_agent.http.auth import Access, KubernetesAuth, User
from highpeaks_agent.http.rights import namespace_visibility, target_visibility
from highpeaks_agent.visibility import EVERYTHING, Visibility

#: Where the gate puts the caller on the ASGI scope of each request, for the tools to read.
CALLER_SCOPE_KEY = "highpeaks.caller"


class Withheld(AgentError):
    """The caller may not read this; the tool says so (not an error of the call)."""


class Refused(AgentError):
    """The credential does not reach this at all (another namespace than its task's)."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Whose rights a tool call reads with."""

    user: User | None
    """A reviewed token's user, or the /assist caller a flow grant acts for; None for a
    task's grant and for anyone under ``AUTH_MODE=none``."""
    grant: FlowGrant | None = None

    @property
    def namespace_bound(self) -> str | None:
        """The one namespace a task's grant may read, else None (no such bound)."""
        if self.grant is not None and self.grant.user is None:
            return self.grant.namespace
        return None

    @property
    def name(self) -> str:
        if self.user is not None:
            return self.user.username or "caller"
        return f"task grant ({self.grant.namespace})" if self.grant else "anyone"


class ToolRights:
    """Decides, per read, whether a caller may make it; ``auth`` is None with AUTH_MODE=none."""

    def __init__(self, auth: KubernetesAuth | None) -> None:
        self._auth = auth

    def within_bound(self, caller: Caller, namespace: str) -> None:
        """Raises :class:`Refused` when a task's grant reaches for another namespace."""
        bound = caller.namespace_bound
        if bound is not None and namespace != bound:
            raise Refused(
                f"this credential reads namespace {bound} only; namespace {namespace} refused"
            )

    async def require(self, caller: Caller, access: Access) -> None:
        """Raises :class:`Withheld` unless the caller may do ``access`` (after the bound)."""
        if access.namespace:
            self.within_bound(caller, access.namespace)
        if self._auth is None or caller.user is None:
            return
        if not await self._auth.allowed(caller.user, access):
            raise Withheld(f"withheld: {caller.name} may not {_described(access)}")

    async def for_target(self, caller: Caller, namespace: str, kind: str, name: str) -> Visibility:
        """What a diagnosis of ``kind/name`` may read for this caller (as /assist)."""
        self.within_bound(caller, namespace)
        if self._auth is None or caller.user is None:
            return EVERYTHING
        try:
            return await target_visibility(self._auth, caller.user, namespace, kind, name)
        except Forbidden as exc:
            raise Withheld(f"withheld: {exc}") from exc

    async def for_namespace(self, caller: Caller, namespace: str) -> Visibility:
        """What a diagnosis of the whole namespace may read for this caller (as /assist)."""
        self.within_bound(caller, namespace)
        if self._auth is None or caller.user is None:
            return EVERYTHING
        try:
            return await namespace_visibility(self._auth, caller.user, namespace)
        except Forbidden as exc:
            raise Withheld(f"withheld: {exc}") from exc


def _described(access: Access) -> str:
    where = f" in namespace {access.namespace}" if access.namespace else " (cluster scope)"
    named = f" {access.name}" if access.name else ""
    return f"{access.verb} {access.resource}{named}{where}"
