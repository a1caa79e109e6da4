"""The bounded expiring cache shared by /assist's reviews and the Flowise bridge."""

from __future__ import annotations

from highpeaks_agent.ttlcache import TTLCache


def test_entries_expire_after_their_time() -> None:
    now = [0.0]
    cache: TTLCache[str, int] = TTLCache(10, clock=lambda: now[0])
    cache.put("a", 1)
    now[0] = 9.9
    assert cache.get("a") == 1
    now[0] = 10.0
    assert cache.get("a") is None
    assert len(cache) == 0  # an expired entry is dropped when seen


def test_zero_seconds_caches_nothing() -> None:
    cache: TTLCache[str, int] = TTLCache(0, clock=lambda: 5.0)
    cache.put("a", 1)
    assert cache.get("a") is None


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: TTLCache[str, int] = TTLCache(60, size=2, clock=lambda: 0.0)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
