"""What the user asked ``diagnose`` for, as parsed from the command line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Output = Literal["text", "json", "table"]
ColorChoice = Literal["auto", "always", "never"]


@dataclass(frozen=True, slots=True)
class DiagnoseRequest:
    """One ``diagnose`` invocation: a PATH offline, or ``--live`` with an optional KIND/NAME."""

    path: str | None = None
    live: bool = False
    target: str | None = None
    namespace: str | None = None
    all_namespaces: bool = False
    context: str | None = None
    explain: bool = False
    output: Output = "text"
    color: ColorChoice = "auto"
