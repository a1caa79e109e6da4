"""``highpeaks-agent diagnose`` end to end: example dumps, List files, stdin, exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from highpeaks_agent.cli import main
from highpeaks_agent.errors import InputError
from highpeaks_agent.sources.files import load_path
from tests.support.diagnose_cli import validate_output

ROOT = Path(__file__).resolve().parents[3]
DUMPS = ROOT / "examples" / "dumps"
PLANTED = "example-not-a-real-secret-123"


class Streams:
    def __init__(self, stdin: str = "") -> None:
        self.stdin = io.StringIO(stdin)
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()


def run(
    args: list[str], stdin: str = "", monkeypatch: pytest.MonkeyPatch | None = None
) -> tuple[int, str, str]:
    streams = Streams(stdin)
    old = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = streams.stdin, streams.stdout, streams.stderr
    try:
        code = main(args)
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
    return code, streams.stdout.getvalue(), streams.stderr.getvalue()


@pytest.mark.parametrize(
    ("dump", "expected_exit", "expected"),
    [
        (
            "crashloop-bad-config",
            1,
            {("Deployment", "orders-api"): "CrashLoopBackOff.ConfigInvalid"},
        ),
        ("image-not-found", 1, {("Deployment", "worker"): "ImagePullError.NotFound"}),
        ("healthy", 0, {}),
    ],
)
def test_example_dumps_json(
    dump: str, expected_exit: int, expected: dict[tuple[str, str], str]
) -> None:
    code, out, err = run(["diagnose", str(DUMPS / dump), "-o", "json"])
    assert code == expected_exit, err
    document = json.loads(out)
    assert set(document) == {"schemaVersion", "now", "podsChecked", "diagnoses"}
    found = {
        (d["target"]["kind"], d["target"]["name"]): d["findings"][0]["code"]
        for d in document["diagnoses"]
    }
    assert found == expected
    for diagnosis in document["diagnoses"]:
        assert set(diagnosis) >= {
            "target",
            "severity",
            "summary",
            "findings",
            "source",
            "podsAffected",
            "podsTotal",
        }
        assert set(diagnosis["findings"][0]) == {
            "code",
            "severity",
            "title",
            "detail",
            "evidence",
            "suggestion",
            "objects",
        }
    assert PLANTED not in out + err


LISTS = ROOT / "examples" / "lists"


@pytest.mark.parametrize(
    ("example", "target", "code"),
    [
        ("failed-cronjob.json", ("CronJob", "nightly-export"), "JobFailed.BackoffLimitExceeded"),
        ("statefulset-rollout.json", ("StatefulSet", "ledger"), "CrashLoopBackOff"),
        ("pending-claim.json", ("StatefulSet", "reports-db"), "Unschedulable.VolumeBinding"),
    ],
)
def test_example_lists_of_the_other_workload_kinds(
    example: str, target: tuple[str, str], code: str
) -> None:
    exit_code, out, err = run(["diagnose", str(LISTS / example), "-o", "json"])
    assert exit_code == 1, err
    [diagnosis] = json.loads(out)["diagnoses"]
    assert (diagnosis["target"]["kind"], diagnosis["target"]["name"]) == target
    assert diagnosis["findings"][0]["code"] == code


def test_the_statefulset_example_shows_its_revisions_diff() -> None:
    _, out, _ = run(["diagnose", str(LISTS / "statefulset-rollout.json"), "-o", "json"])
    rollout = json.loads(out)["diagnoses"][0]["rollout"]
    assert rollout == {
        "revision": 2,
        "previousRevision": 1,
        "changes": [
            "container app image: ghcr.io/example/ledger:7.3.1 -> ghcr.io/example/ledger:7.4.0",
            "container app env LEDGER_WAL_MODE added",
        ],
    }


def test_the_claim_example_names_the_missing_storage_class() -> None:
    _, out, _ = run(["diagnose", str(LISTS / "pending-claim.json")])
    assert (
        'data-reports-db-0 ProvisioningFailed: storageclass.storage.k8s.io "fast-ssd" not found'
        in out
    )
    assert "check that StorageClass fast-ssd exists" in out


def test_crashloop_dump_names_the_fatal_log_line_and_the_rollout() -> None:
    code, out, _ = run(["diagnose", str(DUMPS / "crashloop-bad-config"), "-o", "json"])
    assert code == 1
    diagnosis = json.loads(out)["diagnoses"][0]
    assert any("cannot parse config file" in line for line in diagnosis["findings"][0]["evidence"])
    assert diagnosis["rollout"] == {
        "revision": 2,
        "previousRevision": 1,
        "changes": [
            "container orders-api image: ghcr.io/example/orders-api:1.6.2 -> ghcr.io/example/orders-api:1.7.0"
        ],
    }


def test_text_output_and_no_colour_when_not_a_terminal() -> None:
    code, out, _ = run(["diagnose", str(DUMPS / "crashloop-bad-config")])
    assert code == 1
    assert "Deployment orders/orders-api  [warning]" in out
    assert "CrashLoopBackOff.ConfigInvalid (root cause)" in out
    assert "\033[" not in out
    _, coloured, _ = run(["diagnose", str(DUMPS / "crashloop-bad-config"), "--color", "always"])
    assert "\033[" in coloured
    code, out, _ = run(["diagnose", str(DUMPS / "healthy")])
    assert (code, out) == (0, "No failing workloads found in 3 pods across 1 namespace.\n")


def test_namespace_filter() -> None:
    code, out, err = run(["diagnose", str(DUMPS / "image-not-found"), "-o", "json", "-n", "jobs"])
    assert code == 1, err
    assert [d["target"]["namespace"] for d in json.loads(out)["diagnoses"]] == ["jobs"]


def test_a_namespace_the_input_does_not_hold_is_not_an_all_clear() -> None:
    dump = DUMPS / "image-not-found"
    code, out, err = run(["diagnose", str(dump), "-o", "json", "--namespace", "elsewhere"])
    assert (code, out) == (2, "")
    assert err == (
        f"highpeaks-agent: error: {dump}: nothing in namespace 'elsewhere' "
        "(the input holds: jobs)\n"
    )


def _list_of_dump(dump: str) -> dict[str, object]:
    items: list[object] = []
    for path in sorted((DUMPS / dump).glob("*/*.json")):
        document = json.loads(path.read_text())
        kind = document["kind"][: -len("List")]
        items.extend({**item, "kind": kind} for item in document["items"])
    return {"apiVersion": "v1", "kind": "List", "items": items}


def test_list_file_json_yaml_and_stdin(tmp_path: Path) -> None:
    listing = _list_of_dump("image-not-found")
    json_file = tmp_path / "objects.json"
    json_file.write_text(json.dumps(listing))
    yaml_file = tmp_path / "objects.yaml"
    yaml_file.write_text(yaml.safe_dump(listing))
    for args, stdin in (
        ([str(json_file)], ""),
        ([str(yaml_file)], ""),
        (["-"], json.dumps(listing)),
    ):
        code, out, err = run(["diagnose", *args, "-o", "json"], stdin=stdin)
        assert code == 1, err
        assert json.loads(out)["diagnoses"][0]["findings"][0]["code"] == "ImagePullError.NotFound"


def test_typed_list_items_get_their_kind_and_bad_items_are_warned(tmp_path: Path) -> None:
    pods = json.loads((DUMPS / "image-not-found" / "jobs" / "pods.json").read_text())
    pods["items"].append("not an object")
    pods["items"].append({"metadata": {}})
    path = tmp_path / "pods.json"
    path.write_text(json.dumps(pods))
    code, out, err = run(["diagnose", str(path), "-o", "json"])
    assert code == 1
    assert "warning: skipped an item that is not an object" in err
    assert "warning: skipped a Pod without metadata.name" in err
    # only pods: the owner is known from ownerReferences, the Deployment above it is not
    # (names are never parsed to guess it)
    assert json.loads(out)["diagnoses"][0]["target"] == {
        "kind": "ReplicaSet",
        "namespace": "jobs",
        "name": "worker-ffp85xq6g7",
    }


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        (
            "truncated.json",
            '{"kind": "PodList", "items": [{"metadata": ',
            "malformed JSON at line 1",
        ),
        ("bad.yaml", "kind: List\nitems: [\n  - a: b\n  c", "malformed YAML"),
        ("object.json", '["just", "an", "array"]', "not a Kubernetes list"),
        ("config.yaml", "apiVersion: v1\nclusters: []\n", "not a Kubernetes list"),
        ("empty.json", "", "empty document"),
        ("empty-list.json", '{"kind": "List", "items": []}', "no Kubernetes objects found"),
    ],
)
def test_unusable_files_exit_2_with_one_line(
    tmp_path: Path, name: str, content: str, problem: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    code, out, err = run(["diagnose", str(path)])
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"highpeaks-agent: error: {path}: ")
    assert problem in err


def test_missing_path_binary_file_and_empty_directory(tmp_path: Path) -> None:
    code, _, err = run(["diagnose", str(tmp_path / "nope")])
    assert code == 2 and "no such file or directory" in err
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 10)
    code, _, err = run(["diagnose", str(binary)])
    assert code == 2 and "not a text file" in err
    code, _, err = run(["diagnose", str(tmp_path)])
    assert code == 2 and "no Kubernetes objects found" in err


def test_a_broken_file_in_a_dump_names_that_file(tmp_path: Path) -> None:
    dump = tmp_path / "dump"
    (dump / "shop").mkdir(parents=True)
    (dump / "shop" / "pods.json").write_text('{"kind": "PodList", "items": [')
    code, _, err = run(["diagnose", str(dump)])
    assert code == 2
    assert str(dump / "shop" / "pods.json") in err


def test_dump_logs_are_split_per_container() -> None:
    snapshot = load_path(str(DUMPS / "crashloop-bad-config"), io.StringIO())
    entry = snapshot.log("orders", "orders-api-z96dz2rfzm-640cd", "orders-api")
    assert entry is not None and "level=fatal" in entry.text
    assert "==== " not in entry.text
    assert len(snapshot.pods) == 7


def test_real_subprocess() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "operator")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "highpeaks_agent",
            "diagnose",
            str(DUMPS / "image-not-found"),
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["diagnoses"][0]["target"]["name"] == "worker"


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=400) | st.text(max_size=400).map(str.encode))
def test_arbitrary_bytes_never_crash_the_reader(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "input"
    path.write_bytes(data)
    try:
        snapshot = load_path(str(path), io.StringIO())
    except InputError as exc:
        assert exc.origin == str(path) and exc.problem
    else:
        assert any(True for _ in snapshot.all_objects())


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(min_value=1, max_value=4000))
def test_truncated_real_dump_files_exit_cleanly(tmp_path: Path, cut: int) -> None:
    text = (DUMPS / "crashloop-bad-config" / "orders" / "pods.json").read_text()
    path = tmp_path / "pods.json"
    path.write_text(text[:cut])
    code, _, err = run(["diagnose", str(path), "-o", "json"])
    assert code == 2
    assert err.count("\n") == 1


def test_run_refuses_invalid_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WATCH_NAMESPACE_SELECTOR", "bad key!=x")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "invalid settings: WATCH_NAMESPACE_SELECTOR" in err and "bad key" in err


def test_the_argocd_example_names_the_commit_that_broke_the_rollout() -> None:
    exit_code, out, err = run(["diagnose", str(LISTS / "argocd-rollout.json"), "-o", "json"])
    assert exit_code == 1, err
    validate_output(json.loads(out))
    [diagnosis] = json.loads(out)["diagnoses"]
    delivery = diagnosis["rollout"]["delivery"]
    assert delivery["source"] == {
        "kind": "Application",
        "namespace": "argocd",
        "name": "shop-checkout",
    }
    assert (delivery["commit"][:7], delivery["previousCommit"][:7]) == ("c4d1a9e", "7e2b94c")
    assert (delivery["historyId"], delivery["previousHistoryId"]) == (42, 41)
    assert delivery["syncedAt"] == "2026-11-20T09:31:00Z"
    assert delivery["compareUrl"] == (
        "https://github.com/example/shop-deploy/compare/"
        "7e2b94c1d8a3f5062b1e9d4c7a8f3e5b2d6c1a94...c4d1a9e8f2b7360d5e9a1c8b4f7e2d6a3b5c9e01"
    )
    _, text, _ = run(["diagnose", str(LISTS / "argocd-rollout.json")])
    assert "`argocd app rollback shop-checkout 41`" in text
    _, table, _ = run(["diagnose", str(LISTS / "argocd-rollout.json"), "-o", "table"])
    assert table.splitlines()[0].split()[-1] == "COMMIT" and table.splitlines()[1].endswith(
        "c4d1a9e"
    )
