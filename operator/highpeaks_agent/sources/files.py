"""File sources: a ``kubectl cluster-info dump`` tree, a List file (JSON or YAML), or stdin.

Unusable input raises :class:`InputError` naming the file and the problem; objects of the
wrong shape inside a valid list are skipped into ``Snapshot.warnings``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import yaml

from highpeaks_agent.engine.snapshot import ContainerLog, Snapshot
from highpeaks_agent.errors import InputError

_LOG_BLOCK = re.compile(
    r"^==== START logs for container (?P<container>\S+) of pod (?P<ns>[^/\s]+)/(?P<pod>\S+) ====\n"
    r"(?P<text>.*?)"
    r"^==== END logs for container (?P=container) of pod (?P=ns)/(?P=pod) ====$",
    re.MULTILINE | re.DOTALL,
)


def load_path(path: str, stdin: TextIO) -> Snapshot:
    """A snapshot of what ``path`` holds: a dump directory, a List file, or ``-`` for stdin."""
    if path == "-":
        try:
            text = stdin.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError("<stdin>", f"cannot read: {exc}") from exc
        snapshot = Snapshot()
        _add_documents(snapshot, text, "<stdin>")
    else:
        target = Path(path)
        if not target.exists():
            raise InputError(path, "no such file or directory")
        snapshot = _load_directory(target) if target.is_dir() else _load_file(target)
    if not snapshot.unread_objects and not any(True for _ in snapshot.all_objects()):
        raise InputError(path if path != "-" else "<stdin>", "no Kubernetes objects found")
    snapshot.reindex()
    return snapshot


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(str(path), "not a text file (invalid UTF-8)") from exc
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from exc


def _load_file(path: Path) -> Snapshot:
    snapshot = Snapshot()
    _add_documents(snapshot, _read_text(path), str(path))
    return snapshot


def _load_directory(root: Path) -> Snapshot:
    """A ``cluster-info dump --output-directory`` tree: lists per namespace, logs per pod."""
    snapshot = Snapshot()
    try:
        list_files = sorted(root.glob("*.json")) + sorted(root.glob("*/*.json"))
        log_files = sorted(root.glob("*/*/logs.txt"))
    except OSError as exc:
        raise InputError(str(root), f"cannot read directory: {exc.strerror or exc}") from exc
    for path in list_files:
        _add_documents(snapshot, _read_text(path), str(path))
    for path in log_files:
        for match in _LOG_BLOCK.finditer(_read_text(path)):
            key = (match["ns"], match["pod"], match["container"])
            snapshot.logs[key] = ContainerLog(match["text"])
    return snapshot


def _add_documents(snapshot: Snapshot, text: str, origin: str) -> None:
    found = False
    for document in _parse(text, origin):
        if document is None:
            continue
        _add_list(snapshot, document, origin)
        found = True
    if not found:
        raise InputError(origin, "empty document: expected a Kubernetes List")


def _parse(text: str, origin: str) -> Iterator[Any]:
    """JSON (one document, or several concatenated as `cluster-info dump` writes to stdout),
    else YAML (one or more documents)."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        decoder = json.JSONDecoder()
        position = len(text) - len(stripped)
        documents = []
        while position < len(text):
            try:
                document, end = decoder.raw_decode(text, position)
            except json.JSONDecodeError as exc:
                raise InputError(
                    origin, f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
                ) from exc
            except RecursionError as exc:
                raise InputError(origin, "malformed JSON: nested too deeply") from exc
            documents.append(document)
            position = end
            while position < len(text) and text[position].isspace():
                position += 1
        yield from documents
        return
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise InputError(origin, f"malformed YAML{where}: {exc.problem}") from exc
    except (yaml.YAMLError, RecursionError) as exc:
        raise InputError(origin, f"malformed YAML: {exc}") from exc
    yield from documents


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
