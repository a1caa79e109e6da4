"""One-request flow credentials: bounded steps, expiry, revocation, no token kept."""

from __future__ import annotations

from highpeaks_agent.flowise.grants import MAX_LIVE_GRANTS, FlowGrants, Step
from highpeaks_agent.http.auth import User


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_grant_is_found_by_its_token_until_revoked() -> None:
    grants = FlowGrants()
    token, grant = grants.issue(namespace="shop", user=None, max_steps=2, ttl_seconds=30)
    assert grants.lookup(token) is grant
    assert not grant.on_behalf_of_caller
    grants.revoke(token)
    assert grants.lookup(token) is None


def test_an_expired_grant_is_not_found() -> None:
    clock = Clock()
    grants = FlowGrants(clock)
    token, _ = grants.issue(namespace="shop", user=User("alice"), max_steps=2, ttl_seconds=30)
    clock.now += 30
    assert grants.lookup(token) is None


def test_the_step_past_the_budget_is_refused() -> None:
    grants = FlowGrants()
    _, grant = grants.issue(namespace="shop", user=User("alice"), max_steps=2, ttl_seconds=30)
    for tool in ("logs", "events"):
        assert grant.take_step()
        grant.record(Step(tool, "{}", "ok", 3))
    assert not grant.take_step()
    assert [s.tool for s in grant.recorded()] == ["logs", "events"]


def test_tokens_are_unguessable_and_not_stored() -> None:
    grants = FlowGrants()
    tokens = {
        grants.issue(namespace="a", user=None, max_steps=1, ttl_seconds=5)[0] for _ in range(50)
    }
    assert len(tokens) == 50 and all(len(t) > 40 for t in tokens)
    assert not any(t in repr(grants.__dict__) for t in tokens)


def test_live_grants_are_bounded() -> None:
    grants = FlowGrants()
    first, _ = grants.issue(namespace="a", user=None, max_steps=1, ttl_seconds=5)
    for _ in range(MAX_LIVE_GRANTS):
        grants.issue(namespace="a", user=None, max_steps=1, ttl_seconds=60)
    assert grants.lookup(first) is None
