"""README's code map names every module of the package, and only modules that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "operator" / "highpeaks_agent"


def code_map() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Code map\n", 1)[1].split("\n## ", 1)[0]
    block = [line for line in section.splitlines() if line.startswith("    ")]
    ends = next(i for i, line in enumerate(block) if line.startswith("    flows/"))
    return "\n".join(block[:ends])  # the package's part of the map


def test_every_name_in_the_map_exists() -> None:
    for name in re.findall(r"([a-z_]+\.py)\b", code_map()):
        assert list(PACKAGE.rglob(name)), f"README's code map names {name}, which does not exist"


def test_every_module_and_package_is_in_the_map() -> None:
    text = code_map()
    for path in sorted(PACKAGE.rglob("*")):
        if path.name in ("__init__.py", "__main__.py", "py.typed") or "__pycache__" in path.parts:
            continue
        name = f"{path.name}/" if path.is_dir() else path.name
        assert name in text, f"README's code map does not mention {path.relative_to(PACKAGE)}"
