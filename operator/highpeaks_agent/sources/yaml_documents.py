"""YAML documents built straight from the parser's events, through libyaml when installed.

PyYAML's loaders first compose a node tree of the whole document (every scalar a node with
its marks), then construct Python objects from it: for a 46 MB ``kind: List`` that tree is
gigabytes. Here the objects are built as the events arrive, with PyYAML's own resolver
deciding what a plain scalar is, so the only memory is the objects themselves (about a fifth
of the peak, and faster too). The result equals ``yaml.safe_load_all``'s, except that
timestamps stay strings — what Kubernetes objects hold and what the engine reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml
from yaml import events
from yaml.constructor import ConstructorError

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.SafeLoader("")
_TAG = "tag:yaml.org,2002:"
_AS_TEXT = frozenset({f"{_TAG}str", f"{_TAG}timestamp", f"{_TAG}binary"})
_CONVERT = {
    f"{_TAG}int": _CONSTRUCTOR.construct_yaml_int,
    f"{_TAG}float": _CONSTRUCTOR.construct_yaml_float,
    f"{_TAG}bool": _CONSTRUCTOR.construct_yaml_bool,
}
_MERGE = f"{_TAG}merge"


def load_documents(text: str) -> Iterator[Any]:
    """Each document of ``text`` in turn; raises ``yaml.YAMLError`` (marked where it can)."""
    loader = _LOADER(text)
    try:
        yield from _Builder(loader).documents()
    finally:
        loader.dispose()


class _Open:
    """A mapping or sequence being filled, with the key awaiting its value."""

    __slots__ = ("container", "key", "merges", "waiting_for_value")

    def __init__(self, container: dict[Any, Any] | list[Any]) -> None:
        self.container = container
        self.key: Any = None
        self.waiting_for_value = False
        self.merges: list[Any] = []


class _Builder:
    def __init__(self, loader: Any) -> None:
        self._loader = loader
        self._stack: list[_Open] = []
        self._anchors: dict[str, Any] = {}

    def documents(self) -> Iterator[Any]:
        while True:
            event = self._loader.get_event()
            kind = type(event)
            if kind is events.StreamEndEvent:
                return
            if kind is events.DocumentStartEvent:
                self._anchors = {}
            elif kind is events.MappingStartEvent or kind is events.SequenceStartEvent:
                self._open(event, {} if kind is events.MappingStartEvent else [])
            elif kind is events.MappingEndEvent or kind is events.SequenceEndEvent:
                done = self._close()
                if not self._stack:
                    yield done
                else:
                    self._place(done, event)
            elif kind is events.ScalarEvent or kind is events.AliasEvent:
                value = self._scalar(event) if kind is events.ScalarEvent else self._alias(event)
                if not self._stack:
                    yield value
                else:
                    self._place(value, event)

    def _open(self, event: Any, container: dict[Any, Any] | list[Any]) -> None:
        if event.anchor:
            self._anchors[event.anchor] = container
        self._stack.append(_Open(container))

    def _close(self) -> Any:
        frame = self._stack.pop()
        container = frame.container
        if isinstance(container, dict):
            for source in frame.merges:  # explicit keys win; earlier merges win over later
                for key, value in source.items():
                    container.setdefault(key, value)
        return container

    def _place(self, value: Any, event: Any) -> None:
        frame = self._stack[-1]
        container = frame.container
        in_key_position = isinstance(container, dict) and not frame.waiting_for_value
        if value is _MERGE_KEY and not in_key_position:
            raise _error("a merge (<<) is only a mapping key", event)
        if isinstance(container, list):
            container.append(value)
        elif not frame.waiting_for_value:
            frame.key, frame.waiting_for_value = value, True
        else:
            frame.waiting_for_value = False
            if frame.key is _MERGE_KEY:
                frame.merges.extend(_merge_sources(value, event))
                return
            try:
                container[frame.key] = value
            except TypeError:
                raise _error(
                    f"unhashable mapping key ({type(frame.key).__name__})", event
                ) from None

    def _scalar(self, event: Any) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)  # type: ignore[no-untyped-call]
        value: Any
        if tag in _AS_TEXT:
            value = event.value
        elif tag == f"{_TAG}null":
            value = None
        elif tag in _CONVERT:
            value = _convert(tag, event)
        elif tag == _MERGE:
            value = _MERGE_KEY
        else:
            raise _error(f"unsupported tag {tag!r}", event)
        if event.anchor:
            self._anchors[event.anchor] = value
        return value

    def _alias(self, event: Any) -> Any:
        try:
            return self._anchors[event.anchor]
        except KeyError:
            raise _error(f"found undefined alias {event.anchor!r}", event) from None


def _convert(tag: str, event: Any) -> Any:
    try:
        return _CONVERT[tag](yaml.ScalarNode(tag, event.value))
    except (ValueError, KeyError, TypeError, IndexError):  # an explicit tag that does not fit
        raise _error(f"{event.value!r} is not a valid {tag.removeprefix(_TAG)}", event) from None


class _MergeKey:
    """The ``<<`` key of a YAML merge: never stored, its value is merged into the mapping."""


_MERGE_KEY = _MergeKey()


def _merge_sources(value: Any, event: Any) -> list[dict[Any, Any]]:
    sources = value if isinstance(value, list) else [value]
    if not all(isinstance(source, dict) for source in sources):
        raise _error("a merge (<<) needs a mapping or a list of mappings", event)
    return sources


def _error(problem: str, event: Any) -> ConstructorError:
    return ConstructorError(None, None, problem, event.start_mark)
