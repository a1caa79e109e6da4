"""A small bounded cache whose entries expire: reviewed tokens, grants, flow answers.

Hand-written rather than a dependency: thirty lines, typed, with an injectable clock so
expiry is tested without sleeping.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """At most ``size`` entries, each kept ``seconds`` after it was put; oldest evicted first."""

    def __init__(
        self, seconds: float, size: int = 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._seconds = seconds
        self._size = size
        self._clock = clock
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value, or None when it was never put or has expired."""
        item = self._items.get(key)
        if item is None:
            return None
        if self._clock() - item[0] >= self._seconds:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key: K, value: V) -> None:
        self._items[key] = (self._clock(), value)
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
