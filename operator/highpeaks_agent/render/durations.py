"""Ages written the way ``kubectl get`` writes its AGE column (``45s``, ``3m20s``, ``5h``, ``12d``)."""

from __future__ import annotations

from datetime import timedelta

_MINUTE, _HOUR, _YEAR = 60, 3600, 365 * 86400


def human_duration(age: timedelta) -> str:
    """kubectl's ``duration.HumanDuration``: coarser the older, at most two units."""
    seconds = int(age.total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 2 * _MINUTE:
        return f"{max(seconds, 0)}s"
    minutes = seconds // _MINUTE
    if minutes < 10:
        return _two(minutes, "m", seconds % _MINUTE, "s")
    if minutes < 3 * 60:
        return f"{minutes}m"
    hours = seconds // _HOUR
    if hours < 8:
        return _two(hours, "h", minutes % 60, "m")
    if hours < 48:
        return f"{hours}h"
    if hours < 8 * 24:
        return _two(hours // 24, "d", hours % 24, "h")
    if hours < 2 * 365 * 24:
        return f"{hours // 24}d"
    if hours < 8 * 365 * 24:
        return _two(seconds // _YEAR, "y", (hours // 24) % 365, "d")
    return f"{seconds // _YEAR}y"


def _two(major: int, major_unit: str, minor: int, minor_unit: str) -> str:
    return f"{major}{major_unit}{minor}{minor_unit}" if minor else f"{major}{major_unit}"
