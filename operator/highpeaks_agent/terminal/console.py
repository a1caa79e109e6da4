"""What ``diagnose`` writes besides its report: one-line errors and warnings, a progress
line, and the decision whether to colour.

Everything here goes to stderr, so stdout stays the report alone (a script can parse it).
The progress line is drawn only on a terminal and erased before the report is printed; on
a terminal that says it understands no escape sequences (``TERM=dumb``) it is drawn and
erased with carriage returns and spaces alone.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TextIO

from highpeaks_agent.engine.redact import redact_text
from highpeaks_agent.terminal.request import ColorChoice

PROG = "highpeaks-agent"
#: Redraw the progress line at most this often (seconds); a terminal is slower than a loop.
_REDRAW_EVERY = 0.1
_CLEAR_LINE = "\r\033[K"


def use_color(choice: ColorChoice, environ: Mapping[str, str], stdout: TextIO) -> bool:
    """``--color`` first; then ``NO_COLOR`` (any value, even empty: none — CONTRACT §1a); then
    ``TERM=dumb`` (none); then whether stdout is a terminal."""
    if choice != "auto":
        return choice == "always"
    if "NO_COLOR" in environ:
        return False
    if environ.get("TERM") == "dumb":
        return False
    return _isatty(stdout)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


class Console:
    """stderr for people: ``error``/``warning`` lines (redacted), and ``progress``."""

    def __init__(
        self, stderr: TextIO, *, prog: str = PROG, environ: Mapping[str, str] | None = None
    ) -> None:
        self._err = stderr
        self._prog = prog
        self._interactive = _isatty(stderr)
        self._dumb = (environ or {}).get("TERM") == "dumb"
        self._shown = False
        self._drawn = 0  # characters on the progress line, for a dumb terminal's erase
        self._last_draw = 0.0

    def error(self, message: str) -> None:
        self.clear()
        self._err.write(f"{self._prog}: error: {_one_line(message)}\n")

    def warning(self, message: str) -> None:
        self.clear()
        self._err.write(f"{self._prog}: warning: {_one_line(message)}\n")

    def progress(self, message: str) -> None:
        """Show ``message`` on the progress line (a terminal only; redraws are rate-limited)."""
        if not self._interactive:
            return
        now = time.monotonic()
        if self._shown and now - self._last_draw < _REDRAW_EVERY:
            return
        self._last_draw = now
        line = _one_line(message)[:200]
        self._err.write(f"{self._erase()}{line}")
        self._err.flush()
        self._shown, self._drawn = True, len(line)

    def clear(self) -> None:
        """Erase the progress line, before anything else is printed."""
        if self._shown:
            self._err.write(self._erase())
            self._err.flush()
            self._shown, self._drawn = False, 0

    def _erase(self) -> str:
        """Back to the start of an empty progress line: ``ESC[K`` erases it, except on a dumb
        terminal, where spaces overwrite what was drawn."""
        if not self._dumb:
            return _CLEAR_LINE
        return f"\r{' ' * self._drawn}\r" if self._drawn else "\r"


def _one_line(message: str) -> str:
    """Redacted, on one line: a message may quote an API server's or a file's words."""
    return " ".join(redact_text(message).split())
