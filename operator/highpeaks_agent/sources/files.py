"""File sources: a ``kubectl cluster-info dump`` tree, a List file (JSON or YAML), or stdin.

Unusable input raises :class:`InputError` naming the file and the problem; objects of the
wrong shape inside a valid list are skipped into ``Snapshot.warnings``.

What ``cluster-info dump`` writes is read in both of its forms: the tree of
``--output-directory`` (or one namespace folder of it, with its pods' ``logs.txt``), and the
stream it prints to stdout, where JSON documents alternate with each pod's log blocks.
Documents are added to the snapshot one at a time, so only one document's text and parse
tree is held at once besides the snapshot itself.
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from highpeaks_agent.engine.snapshot import ContainerLog, Snapshot
from highpeaks_agent.errors import InputError

#: Told what is being read, for a progress line; the caller decides whether to show it.
ProgressCallback = Callable[[str], None]

_LOG_START = "==== START logs for container "
# kubectl writes the END marker right after the log's bytes: when the log does not end in a
# newline, the marker ends the log's last line instead of starting a line of its own.
_LOG_BLOCK = re.compile(
    r"==== START logs for container (?P<container>\S+) of pod (?P<ns>[^/\s]+)/(?P<pod>\S+) ====\n"
    r"(?P<text>.*?)"
    r"==== END logs for container (?P=container) of pod (?P=ns)/(?P=pod) ====[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_JSON_DECODER = json.JSONDecoder()


def load_path(path: str, stdin: TextIO, progress: ProgressCallback | None = None) -> Snapshot:
    """A snapshot of what ``path`` holds: a dump directory, a List file, or ``-`` for stdin."""
    with _collector_paused():
        return _load_path(path, stdin, progress or _quiet)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Build the snapshot without the cycle collector, then exempt it from later passes.

    Parsed documents are trees (no reference cycles), so every collector pass over a large
    dump's million objects finds nothing: paused while parsing, and frozen (``gc.freeze``)
    once built, a 10,000-pod dump reads about a third faster. Objects are still freed when
    their last reference goes; the command that loads a dump exits when it is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def _load_path(path: str, stdin: TextIO, report: ProgressCallback) -> Snapshot:
    if path == "-":
        report("reading standard input")
        try:
            text = stdin.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError("<stdin>", f"cannot read: {exc}") from exc
        snapshot = Snapshot()
        _add_text(snapshot, text, "<stdin>")
    else:
        target = Path(path)
        if not target.exists():
            raise InputError(path, "no such file or directory")
        if target.is_dir():
            snapshot = _load_directory(target, report)
        else:
            snapshot = _load_file(target, report)
    if not snapshot.unread_objects and not any(True for _ in snapshot.all_objects()):
        raise InputError(path if path != "-" else "<stdin>", "no Kubernetes objects found")
    report("indexing")
    snapshot.reindex()
    return snapshot


def _quiet(message: str) -> None:
    del message


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(str(path), "not a text file (invalid UTF-8)") from exc
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from exc


def _load_file(path: Path, report: ProgressCallback) -> Snapshot:
    snapshot = Snapshot()
    report(f"reading {path} ({_size(path)})")
    _add_text(snapshot, _read_text(path), str(path))
    return snapshot


def _size(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError:
        return "size unknown"
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"


def _load_directory(root: Path, report: ProgressCallback) -> Snapshot:
    """A ``cluster-info dump --output-directory`` tree, or one namespace folder of it.

    Lists sit at the top (``nodes.json``) and per namespace; each pod's ``logs.txt`` sits in a
    folder of its own, one level below the lists that hold the pod.
    """
    snapshot = Snapshot()
    try:
        list_files = sorted(root.glob("*.json")) + sorted(root.glob("*/*.json"))
        log_files = sorted(root.glob("*/logs.txt")) + sorted(root.glob("*/*/logs.txt"))
    except OSError as exc:
        raise InputError(str(root), f"cannot read directory: {exc.strerror or exc}") from exc
    total = len(list_files) + len(log_files)
    for index, path in enumerate([*list_files, *log_files], start=1):
        report(f"reading {root}: file {index} of {total}")
        if path.name == "logs.txt":
            _add_logs(snapshot, _read_text(path))
        else:
            _add_text(snapshot, _read_text(path), str(path))
    return snapshot


def _add_logs(snapshot: Snapshot, text: str) -> None:
    for match in _LOG_BLOCK.finditer(text):
        _add_log(snapshot, match)


def _add_log(snapshot: Snapshot, match: re.Match[str]) -> None:
    key = (match["ns"], match["pod"], match["container"])
    snapshot.logs[key] = ContainerLog(match["text"])


def _add_text(snapshot: Snapshot, text: str, origin: str) -> None:
    """Every document of ``text`` (JSON or YAML) into ``snapshot``, one at a time."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[", _LOG_START)):
        found = _add_json_stream(snapshot, text, len(text) - len(stripped), origin)
    else:
        found = 0
        for document in _yaml_documents(text, origin):
            if document is not None:
                _add_list(snapshot, document, origin)
                found += 1
    if not found:
        raise InputError(origin, "empty document: expected a Kubernetes List")


def _add_json_stream(snapshot: Snapshot, text: str, position: int, origin: str) -> int:
    """JSON documents one after another, as ``cluster-info dump`` prints them to stdout, with
    the log blocks it prints between them; returns how many documents and logs were read."""
    found = 0
    end = len(text)
    while position < end:
        if text.startswith(_LOG_START, position):
            match = _LOG_BLOCK.match(text, position)
            if match is None:
                line = text.count("\n", 0, position) + 1
                raise InputError(origin, f"log block at line {line} has no END marker")
            _add_log(snapshot, match)
            position = match.end()
        else:
            document, position = _decode_json(text, position, origin)
            _add_list(snapshot, document, origin)
        found += 1
        while position < end and text[position].isspace():
            position += 1
    return found


def _decode_json(text: str, position: int, origin: str) -> tuple[Any, int]:
    try:
        return _JSON_DECODER.raw_decode(text, position)
    except json.JSONDecodeError as exc:
        raise InputError(
            origin, f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except RecursionError as exc:
        raise InputError(origin, "malformed JSON: nested too deeply") from exc


def _yaml_documents(text: str, origin: str) -> Iterator[Any]:
    """YAML documents one at a time, built from libyaml's events when it is installed (about
    five times faster than PyYAML's pure-Python parser, and no node tree held in memory)."""
    import yaml  # only YAML input pays for the import

    from highpeaks_agent.sources.yaml_documents import load_documents

    try:
        yield from load_documents(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise InputError(origin, f"malformed YAML{where}: {exc.problem}") from exc
    except (yaml.YAMLError, RecursionError) as exc:
        raise InputError(origin, f"malformed YAML: {exc}") from exc


def _add_list(snapshot: Snapshot, document: Any, origin: str) -> None:
    if not isinstance(document, dict):
        raise InputError(
            origin, f"not a Kubernetes list: the document is a {type(document).__name__}"
        )
    kind = document.get("kind")
    items = document.get("items")
    if not isinstance(kind, str) or not kind.endswith("List") or not isinstance(items, list):
        if isinstance(kind, str) and isinstance(document.get("metadata"), dict) and items is None:
            snapshot.add(document)  # a single object (`kubectl get pod x -o json`)
            return
        raise InputError(
            origin, f"not a Kubernetes list (kind {kind!r}, expected a *List with items)"
        )
    item_kind = kind[: -len("List")] or None
    for item in items:
        snapshot.add(item, kind=item_kind)
