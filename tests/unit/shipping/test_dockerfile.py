"""The image: the Dockerfile, read as Docker reads it, builds what the Deployment expects.

No Docker engine is needed: the file is parsed here (continuations, comments, stages) and
checked against the Deployment it runs in; CI builds and runs the real image.
"""

from __future__ import annotations

import json
import shlex
import tomllib
from dataclasses import dataclass, field

import pytest

from tests.unit.shipping.shipped import ROOT, agent_container, load, one

COMPILERS = ("gcc", "g++", "clang", "build-essential", "make", "python3-dev", "libc6-dev")


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, instruction: str) -> list[str]:
        return [rest for name, rest in self.instructions if name == instruction]

    def last(self, instruction: str) -> str:
        found = self.all(instruction)
        assert found, f"the stage FROM {self.image} has no {instruction}"
        return found[-1]

    def env(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for rest in self.all("ENV"):
            words = shlex.split(rest)
            if "=" not in words[0]:  # the old form: ENV NAME value
                out[words[0]] = " ".join(words[1:])
                continue
            for word in words:
                name, _, value = word.partition("=")
                out[name] = value
        return out


def parse(text: str) -> list[Stage]:
    """Stages of a Dockerfile, each with its (INSTRUCTION, arguments) in order."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or not stripped:
            continue  # comments and parser directives; blank lines inside continuations too
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    assert not pending, "the Dockerfile ends inside a line continuation"
    stages: list[Stage] = []
    for line in lines:
        instruction, _, rest = line.partition(" ")
        instruction, rest = instruction.upper(), " ".join(rest.split())
        if instruction == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].lower() == "as" else None
            stages.append(Stage(words[0], name))
        else:
            assert stages, f"{instruction} before the first FROM"
            stages[-1].instructions.append((instruction, rest))
    return stages


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse((ROOT / "Dockerfile").read_text())


def test_the_parser_reads_continuations_comments_and_stages() -> None:
    stages = parse(
        "# syntax=docker/dockerfile:1\n"
        "FROM --platform=linux/amd64 python:3.12-slim AS builder\n"
        "RUN pip wheel \\\n"
        "    # a comment inside\n"
        "    --no-deps .\n"
        "from python:3.12-slim\n"
        'env A=1 B="two words"\n'
    )
    assert [(s.image, s.name) for s in stages] == [
        ("python:3.12-slim", "builder"),
        ("python:3.12-slim", None),
    ]
    assert stages[0].all("RUN") == ["pip wheel --no-deps ."]
    assert stages[1].env() == {"A": "1", "B": "two words"}


def test_a_builder_stage_wheels_the_project_apart_from_the_runtime(stages: list[Stage]) -> None:
    assert len(stages) >= 2, "multi-stage: the wheel is built apart from the runtime"
    builder, final = stages[0], stages[-1]
    assert builder.name, "the builder stage is named, for COPY --from"
    assert any("pip wheel" in run and "--no-deps" in run for run in builder.all("RUN"))
    assert any(copy.startswith(f"--from={builder.name} ") for copy in final.all("COPY"))
    assert all(copy.startswith("--from=") for copy in final.all("COPY")), (
        "the runtime takes only the built wheel, no source tree"
    )


def test_the_runtime_is_slim_and_has_no_compilers(stages: list[Stage]) -> None:
    final = stages[-1]
    assert final.image == "python:3.12-slim"
    runs = " ".join(final.all("RUN"))
    assert "pip install --no-cache-dir" in runs
    for run in final.all("RUN"):
        if "apt-get install" in run or "apk add" in run:
            words = set(run.split())
            assert not words & set(COMPILERS), f"compilers in the runtime image: {run}"


def test_the_image_runs_as_the_deployments_non_root_user(stages: list[Stage]) -> None:
    user = stages[-1].last("USER").split(":")
    assert len(user) == 2 and all(part.isdigit() for part in user), "a numeric UID:GID"
    uid, gid = (int(part) for part in user)
    assert uid != 0 and gid != 0
    pod = one(load("k8s/base/deployment.yaml"), "Deployment")["spec"]["template"]["spec"]
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"]) == (
        uid,
        gid,
    ), "runAsNonRoot admits the image only if its numeric user matches"


def test_the_image_serves_the_deployments_port_and_command(stages: list[Stage]) -> None:
    final = stages[-1]
    assert final.last("EXPOSE") == "8000"
    deployment = one(load("k8s/base/deployment.yaml"), "Deployment")
    container = agent_container(deployment)
    assert {p["containerPort"] for p in container["ports"]} == {8000}
    entrypoint = json.loads(final.last("ENTRYPOINT"))
    command = json.loads(final.last("CMD"))
    assert entrypoint == ["highpeaks-agent"] and command == ["run"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert entrypoint[0] in scripts, "the entrypoint is the package's console script"
    assert container.get("args", ["run"]) == ["run"] and "command" not in container


def test_the_runtime_works_on_a_read_only_root(stages: list[Stage]) -> None:
    env = stages[-1].env()
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["HOME"] == env["TMPDIR"] == "/tmp", "the only writable place is /tmp"
    container = agent_container(one(load("k8s/base/deployment.yaml"), "Deployment"))
    writable = {m["mountPath"] for m in container["volumeMounts"] if not m.get("readOnly")}
    assert writable == {"/tmp"}


def test_the_build_context_keeps_what_the_wheel_needs_only() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "tests", "benchmarks", ".pytest_cache", ".mypy_cache"} <= ignored
    assert not ignored & {"pyproject.toml", "README.md", "operator", "*", "**"}
