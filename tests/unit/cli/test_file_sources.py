"""What ``cluster-info dump`` writes, in each of its forms, and big YAML read through libyaml."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from highpeaks_agent.errors import InputError
from highpeaks_agent.sources import yaml_documents
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
        assert finding["code"] == "CrashLoopBackOff.ConfigInvalid"
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


def test_yaml_is_read_through_libyaml_when_it_is_installed(tmp_path: Path) -> None:
    assert hasattr(yaml, "CSafeLoader"), "PyYAML here is built with libyaml"
    assert yaml_documents._LOADER is yaml.CSafeLoader
    path = tmp_path / "objects.yaml"
    pods = json.loads((DUMP / "orders" / "pods.json").read_text())
    path.write_text(yaml.safe_dump(pods))
    snapshot = load_path(str(path), io.StringIO())
    assert snapshot.pods == [{**item, "kind": "Pod"} for item in pods["items"]]


JSON_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(JSON_LIKE, min_size=1, max_size=3), st.booleans())
def test_documents_built_from_events_equal_pyyamls(documents: list[Any], flow: bool) -> None:
    text = yaml.safe_dump_all(documents, default_flow_style=flow)
    assert list(yaml_documents.load_documents(text)) == list(yaml.safe_load_all(text))


def test_anchors_merges_and_timestamps() -> None:
    text = (
        "base: &base {image: app:1, replicas: 2}\n"
        "one: {<<: *base, replicas: 3}\n"
        "two: {<<: [*base, {extra: x}], image: app:2}\n"
        "when: 2026-11-20T09:31:07Z\n"
        "flags: [yes, no, ~, 0x1F, 1.5e3, '007']\n"
    )
    (built,) = yaml_documents.load_documents(text)
    (expected,) = yaml.safe_load_all(text)
    assert built["when"] == "2026-11-20T09:31:07Z"  # a string, as Kubernetes objects hold it
    del built["when"], expected["when"]
    assert built == expected
    assert built["one"] == {"image": "app:1", "replicas": 3}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: *nowhere\n", "found undefined alias"),
        ("? [a, b]\n: c\n", "unhashable mapping key"),
        ("a: !python/object:os.system x\n", "unsupported tag"),
        ("a: <<\n", "a merge (<<) is only a mapping key"),
        ("<<: 3\n", "a merge (<<) needs a mapping"),
        ("replicas: !!int three\n", "'three' is not a valid int"),
        ("ready: !!bool maybe\n", "'maybe' is not a valid bool"),
        ("!!int\n", "'' is not a valid int"),
    ],
)
def test_yaml_that_pyyaml_refuses_is_refused_with_its_place(text: str, problem: str) -> None:
    with pytest.raises(
        InputError, match=rf"malformed YAML at line \d+ column \d+: {re.escape(problem)}"
    ):
        load_path("-", io.StringIO(text))


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
