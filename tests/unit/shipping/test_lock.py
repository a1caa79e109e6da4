"""requirements.lock: the image's runtime dependencies, each version and file hash pinned.

The lock must satisfy every dependency pyproject.toml declares (and the ``otel`` extra the
image installs), and the Dockerfile must install from it alone, in hash-checking mode.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.unit.shipping.shipped import ROOT
from tests.unit.shipping.test_dockerfile import Stage, parse

LOCK = ROOT / "requirements.lock"


@dataclass(frozen=True)
class Pin:
    name: str
    version: Version
    hashes: tuple[str, ...]


def read_lock(text: str) -> dict[str, Pin]:
    """Pins by canonical name, from pip's requirements format with ``--hash`` options."""
    joined = re.sub(r"\\\n", " ", text)
    pins: dict[str, Pin] = {}
    for raw in joined.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = shlex.split(line)
        requirement = Requirement(words[0])
        (spec,) = requirement.specifier
        assert spec.operator == "==", f"not an exact pin: {words[0]}"
        hashes = tuple(w.removeprefix("--hash=") for w in words[1:] if w.startswith("--hash="))
        assert len(hashes) == len(words) - 1, f"options other than --hash: {line}"
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"{name} pinned twice"
        pins[name] = Pin(name, Version(spec.version), hashes)
    return pins


@pytest.fixture(scope="module")
def pins() -> dict[str, Pin]:
    return read_lock(LOCK.read_text())


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [
        Requirement(r)
        for r in [*project["dependencies"], *project["optional-dependencies"]["otel"]]
    ]


def test_the_reader_understands_the_format() -> None:
    text = "# header\nkopf==1.45.2 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n    # via x\n"
    assert read_lock(text) == {"kopf": Pin("kopf", Version("1.45.2"), ("sha256:aa", "sha256:bb"))}
    with pytest.raises(AssertionError, match="exact pin"):
        read_lock("kopf>=1.37 --hash=sha256:aa\n")


def test_every_declared_dependency_is_locked_within_its_range(pins: dict[str, Pin]) -> None:
    for requirement in declared():
        pin = pins.get(canonicalize_name(requirement.name))
        assert pin is not None, f"{requirement} is not in requirements.lock (run `make lock`)"
        assert requirement.specifier.contains(pin.version, prereleases=True), (
            f"requirements.lock pins {pin.name}=={pin.version}, outside {requirement}"
        )


def test_every_pin_is_exact_and_hashed(pins: dict[str, Pin]) -> None:
    assert len(pins) >= len(declared())
    for pin in pins.values():
        assert pin.hashes, f"{pin.name} has no hash"
        assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in pin.hashes), pin.name


def _runtime(stages: list[Stage]) -> str:
    return " ".join(stages[-1].all("RUN"))


def test_the_image_installs_the_lock_in_hash_checking_mode_then_the_wheel_alone() -> None:
    stages = parse((ROOT / "Dockerfile").read_text())
    runs = _runtime(stages)
    lock_install = re.search(r"pip install ([^&]*)-r (\S*requirements\.lock)", runs)
    assert lock_install, "the runtime installs requirements.lock"
    options = lock_install.group(1).split()
    assert {"--require-hashes", "--no-deps", "--only-binary=:all:"} <= set(options)
    wheel_install = re.search(r"pip install ([^&]*)/wheels/\*\.whl", runs)
    assert wheel_install and "--no-deps" in wheel_install.group(1).split()
    assert lock_install.start() < wheel_install.start(), "the lock before the project"
    assert "pip check" in runs, "the build fails when the lock misses a dependency"


def test_the_lock_is_resolved_for_the_images_python() -> None:
    image = parse((ROOT / "Dockerfile").read_text())[-1].image
    image_python = re.fullmatch(r"python:(\d+\.\d+)-slim", image)
    assert image_python, image
    makefile = (ROOT / "Makefile").read_text()
    assert f"--python-version {image_python.group(1)}" in makefile
    assert "--generate-hashes" in makefile and "--extra otel" in makefile
