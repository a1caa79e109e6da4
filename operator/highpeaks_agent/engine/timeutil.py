"""Kubernetes timestamps, parsed leniently: a malformed time is "unknown", never an error."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=4096)
def _parse(value: str) -> datetime | None:
    return _parse_text(value)


def _parse_text(value: str) -> datetime | None:
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time (``2026-11-20T09:31:07Z``, with or without micro seconds) or None."""
    if not isinstance(value, str) or not value:
        return None
    return _parse(value)


def parse_time_uncached(value: Any) -> datetime | None:
    """:func:`parse_time` for a one-off pass over many distinct times (no cache churn)."""
    if not isinstance(value, str) or not value:
        return None
    return _parse_text(value)


def age_seconds(value: Any, now: datetime) -> float | None:
    """Seconds from the timestamp ``value`` to ``now``; None when ``value`` is not a time."""
    when = parse_time(value)
    return None if when is None else (now - when).total_seconds()
