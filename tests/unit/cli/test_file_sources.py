"""What ``cluster-info dump`` writes, in each of its forms, and big YAML read through libyaml."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from highpeaks_agent.errors import InputError
from highpeaks_agent.sources.files import load_path
from tests.support.diagnose_cli import ROOT, run_in_process

DUMP = ROOT / "examples" / "dumps" / "crashloop-bad-config"
FATAL = "cannot parse config file /etc/orders/config.yaml"


def stdout_form(dump: Path) -> str:
    """The dump as ``kubectl cluster-info dump`` prints it without ``--output-directory``:
    nodes, then per namespace its lists followed by each pod's log blocks."""
    parts = [(dump / "nodes.json").read_text()]
    for namespace in sorted(p for p in dump.iterdir() if p.is_dir()):
        parts.extend(path.read_text() for path in sorted(namespace.glob("*.json")))
        parts.extend(path.read_text() for path in sorted(namespace.glob("*/logs.txt")))
    return "".join(part if part.endswith("\n") else part + "\n" for part in parts)


def root_cause(ran_out: str) -> dict[str, Any]:
    finding: dict[str, Any] = json.loads(ran_out)["diagnoses"][0]["findings"][0]
    return finding


def test_the_stdout_form_of_cluster_info_dump_is_read_with_its_logs(tmp_path: Path) -> None:
    text = stdout_form(DUMP)
    assert "==== START logs for container" in text
    path = tmp_path / "cluster-info.dump"
    path.write_text(text)
    for args, stdin in (([str(path)], ""), (["-"], text)):
        ran = run_in_process([*args, "-o", "json"], stdin=stdin)
        assert ran.code == 1, ran.err
        finding = root_cause(ran.out)
        assert finding["code"] == "CrashLoopBackOff"
        assert any(FATAL in line for line in finding["evidence"])


def test_a_log_without_a_final_newline_and_an_unterminated_log_block(tmp_path: Path) -> None:
    pods = (DUMP / "orders" / "pods.json").read_text()
    block = (
        "==== START logs for container orders-api of pod orders/orders-api-z96dz2rfzm-640cd ====\n"
        "level=fatal msg=boom"
        "==== END logs for container orders-api of pod orders/orders-api-z96dz2rfzm-640cd ====\n"
    )
    snapshot = load_path("-", io.StringIO(pods + "\n" + block))
    log = snapshot.log("orders", "orders-api-z96dz2rfzm-640cd", "orders-api")
    assert log is not None and log.text == "level=fatal msg=boom"
    cut = pods + "\n" + block.splitlines()[0] + "\nlevel=fatal msg=boom\n"
    with pytest.raises(InputError, match=r"log block at line \d+ has no END marker"):
        load_path("-", io.StringIO(cut))


def test_a_namespace_folder_keeps_its_pods_logs() -> None:
    ran = run_in_process([str(DUMP / "orders"), "-o", "json"])
    assert ran.code == 1, ran.err
    assert any(FATAL in line for line in root_cause(ran.out)["evidence"])


def test_yaml_is_read_through_libyaml_when_it_is_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaders: list[Any] = []
    real_load_all = yaml.load_all

    def spy(stream: Any, Loader: Any) -> Any:
        loaders.append(Loader)
        return real_load_all(stream, Loader=Loader)

    monkeypatch.setattr(yaml, "load_all", spy)
    path = tmp_path / "objects.yaml"
    pods = json.loads((DUMP / "orders" / "pods.json").read_text())
    path.write_text(yaml.safe_dump(pods))
    snapshot = load_path(str(path), io.StringIO())
    assert len(snapshot.pods) == len(pods["items"])
    assert loaders == [getattr(yaml, "CSafeLoader", yaml.SafeLoader)]
    assert hasattr(yaml, "CSafeLoader"), "PyYAML here is built with libyaml"


def test_malformed_yaml_still_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("kind: List\nitems:\n  - a: b\n   c: d\n")
    with pytest.raises(InputError, match=r"malformed YAML at line 4 column \d+"):
        load_path(str(path), io.StringIO())


def test_reading_reports_progress_per_file() -> None:
    seen: list[str] = []
    load_path(str(DUMP), io.StringIO(), seen.append)
    assert seen[0].startswith(f"reading {DUMP}: file 1 of ")
    assert seen[-1] == "indexing"
