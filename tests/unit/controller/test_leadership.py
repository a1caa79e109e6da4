"""Kopf's peering rule, as the resync applies it: act only with no live peer as high as us."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from highpeaks_agent.controller.leadership import PeerId, is_leader, new_peer_id

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
ME = PeerId("vm@100/abc123", priority=500)


def peer(priority: int, seconds_ago: float = 1, lifetime: int = 20) -> dict[str, object]:
    seen = NOW - timedelta(seconds=seconds_ago)
    return {"priority": priority, "lifetime": lifetime, "lastseen": seen.isoformat()}


def test_alone_or_highest_acts() -> None:
    assert is_leader({}, ME, NOW)
    assert is_leader({ME.identity: peer(500)}, ME, NOW)
    assert is_leader({ME.identity: peer(500), "vm@200/def456": peer(499)}, ME, NOW)


def test_a_higher_or_equal_live_peer_makes_us_stand_by() -> None:
    assert not is_leader({"vm@200/def456": peer(501)}, ME, NOW)
    assert not is_leader({"vm@200/def456": peer(500)}, ME, NOW), "Kopf pauses both on a tie"


def test_a_dead_peer_is_ignored_after_its_lifetime() -> None:
    assert is_leader({"vm@200/def456": peer(900, seconds_ago=21)}, ME, NOW)
    assert not is_leader({"vm@200/def456": peer(900, seconds_ago=19)}, ME, NOW)


def test_replicas_get_distinct_identities_and_priorities() -> None:
    ids = [new_peer_id() for _ in range(50)]
    assert len({p.identity for p in ids}) == 50
    assert len({p.priority for p in ids}) == 50
