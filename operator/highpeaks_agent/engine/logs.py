"""Pick the few log lines that explain a crash, not the whole tail."""

from __future__ import annotations

import re
from collections.abc import Callable

_IMPORTANT = re.compile(
    r"(fatal|panic|error|exception|traceback|caused by|critical|failed|cannot|unable to|"
    r"refused|denied|invalid|segmentation fault|killed)",
    re.I,
)
MAX_LINE = 300


def key_lines(
    text: str, limit: int = 3, *, redact: Callable[[str], str] | None = None
) -> list[str]:
    """The last important line and the lines just before it; else the last lines.

    A stack trace ends with the exception, so the last matching line and its one or two
    predecessors say most; a log without such a line is shown by its tail. ``redact`` runs on
    the whole text before it is cut: a private key whose BEGIN line falls outside the window,
    or a password beyond a long line's cut, is still found.
    """
    if redact is not None:
        text = redact(text)
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    for index in range(len(lines) - 1, -1, -1):
        if _IMPORTANT.search(lines[index]):
            chosen = lines[max(0, index - limit + 1) : index + 1]
            break
    else:
        chosen = lines[-limit:]
    return [line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…" for line in chosen]
