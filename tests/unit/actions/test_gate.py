"""The policy gate: the operator acts only on requests the admission policy checked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from highpeaks_agent.actions.gate import ComponentMissing, PolicyGate
from tests.unit.actions.fakes import policy_objects

AFTER = datetime(2026, 12, 7, 10, 0, 0, tzinfo=UTC)


def gate(objects: dict[str, Any], status: int = 404) -> PolicyGate:
    async def read(path: str) -> dict[str, Any]:
        plural = path.split("/")[-2]
        assert path.startswith("/apis/admissionregistration.k8s.io/v1/"), path
        if plural not in objects:
            raise ApiException(status=status, reason="no")
        return dict(objects[plural])

    return PolicyGate(read)


async def test_in_force_for_a_request_written_after_the_policy_and_binding() -> None:
    await gate(policy_objects()).check(AFTER)


@pytest.mark.parametrize("status", [404, 403])
@pytest.mark.parametrize(
    "missing", ["validatingadmissionpolicies", "validatingadmissionpolicybindings"]
)
async def test_absent_or_unreadable_is_component_missing(missing: str, status: int) -> None:
    objects = policy_objects()
    del objects[missing]
    with pytest.raises(ComponentMissing, match=r"actions\.enabled=true"):
        await gate(objects, status).check(AFTER)


async def test_a_binding_that_only_warns_does_not_count() -> None:
    objects = policy_objects()
    objects["validatingadmissionpolicybindings"]["spec"]["validationActions"] = ["Warn"]
    with pytest.raises(ComponentMissing, match="does not deny"):
        await gate(objects).check(AFTER)


@pytest.mark.parametrize("written", [datetime(2026, 12, 7, 9, 30, tzinfo=UTC), None])
async def test_a_request_from_before_the_policy_was_never_checked(written: datetime | None) -> None:
    with pytest.raises(ComponentMissing, match="before the admission policy"):
        await gate(policy_objects()).check(written)


async def test_other_api_errors_are_not_a_verdict() -> None:
    objects = policy_objects()
    del objects["validatingadmissionpolicies"]
    with pytest.raises(ApiException):
        await gate(objects, 503).check(AFTER)
