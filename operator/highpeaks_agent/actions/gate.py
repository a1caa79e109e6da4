"""Whether the admission policy that checks who asks for an action is in force.

The operator acts only on a request the API server checked: the actions component's
ValidatingAdmissionPolicy and its binding (``k8s/components/actions``, or the chart's
``actions.enabled``) must exist, the binding must deny, and the request must have been
written after both (a request written before was never checked). Without them — not
installed, or the operator may not read them because their rights came without the
component — every action is refused with a condition saying how to enable them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from kubernetes.client.exceptions import ApiException

from highpeaks_agent.engine.timeutil import parse_time
from highpeaks_agent.kubeapi import api_path

POLICY_NAME = "highpeaks-agent-actions"
GROUP, VERSION = "admissionregistration.k8s.io", "v1"
HOW_TO_ENABLE = (
    "install k8s/components/actions (the overlay k8s/overlays/actions uses it) or set the "
    "chart's value actions.enabled=true"
)

Reader = Callable[[str], Awaitable[dict[str, Any]]]


class ComponentMissing(Exception):
    """The policy or its binding is absent, or does not check this request."""


class PolicyGate:
    """Reads the policy and its binding (two GETs per action, never cached: a policy
    removed a second ago must stop the next action)."""

    def __init__(self, read: Reader) -> None:
        self._read = read

    async def check(self, written_at: datetime | None) -> None:
        """Raise :class:`ComponentMissing` unless a request written at ``written_at`` was
        checked by the policy."""
        policy = await self._get("validatingadmissionpolicies")
        binding = await self._get("validatingadmissionpolicybindings")
        spec = _map(binding.get("spec"))
        if spec.get("policyName") != POLICY_NAME or "Deny" not in (
            spec.get("validationActions") or []
        ):
            raise ComponentMissing(
                f"the ValidatingAdmissionPolicyBinding {POLICY_NAME} does not deny with the "
                f"policy {POLICY_NAME}; {HOW_TO_ENABLE}"
            )
        since = [
            parse_time(_map(o.get("metadata")).get("creationTimestamp")) for o in (policy, binding)
        ]
        in_force = max((t for t in since if t is not None), default=None)
        if written_at is None or in_force is None or written_at <= in_force:
            raise ComponentMissing(
                "the request was written before the admission policy was in force, so nobody "
                "checked who made it; write it again"
            )

    async def _get(self, plural: str) -> dict[str, Any]:
        try:
            return await self._read(api_path(GROUP, VERSION, plural, None, POLICY_NAME))
        except ApiException as exc:
            if exc.status in (403, 404):
                kind = "Policy" if plural.endswith("policies") else "PolicyBinding"
                seen = "does not exist" if exc.status == 404 else "cannot be read by the operator"
                raise ComponentMissing(
                    f"the ValidatingAdmission{kind} {POLICY_NAME} {seen}; "
                    f"actions are not enabled: {HOW_TO_ENABLE}"
                ) from exc
            raise


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
