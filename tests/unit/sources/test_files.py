"""File sources: any valid Kubernetes object is input, even one the engine does not read."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from highpeaks_agent.errors import InputError
from highpeaks_agent.sources.files import load_path
from highpeaks_agent.terminal.command import run_diagnose
from highpeaks_agent.terminal.request import DiagnoseRequest

BOUND_PVC = {
    "apiVersion": "v1",
    "kind": "PersistentVolumeClaim",
    "metadata": {"name": "data-postgres-0", "namespace": "db"},
    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}},
    "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}},
}


def diagnose_file(path: Path) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run_diagnose(
        DiagnoseRequest(path=str(path), output="json", color="never"),
        stdout=stdout,
        stderr=stderr,
        stdin=io.StringIO(),
        environ={},
    )
    return code, stdout.getvalue(), stderr.getvalue()


def test_a_list_holding_only_a_bound_pvc_is_valid_and_healthy(tmp_path: Path) -> None:
    path = tmp_path / "pvc.json"
    path.write_text(json.dumps({"kind": "List", "apiVersion": "v1", "items": [BOUND_PVC]}))
    snapshot = load_path(str(path), io.StringIO())
    assert [c["metadata"]["name"] for c in snapshot.persistentvolumeclaims] == [
        BOUND_PVC["metadata"]["name"]
    ]
    code, out, err = diagnose_file(path)
    assert (code, err) == (0, "")
    assert json.loads(out)["diagnoses"] == []


def test_a_typed_list_of_configmaps_is_read_but_has_nothing_to_diagnose(tmp_path: Path) -> None:
    """Valid input (not "no Kubernetes objects"), but an all-clear would be a false one."""
    path = tmp_path / "cm.yaml"
    path.write_text(
        "kind: ConfigMapList\napiVersion: v1\nitems:\n"
        "  - metadata: {name: app-config, namespace: shop}\n    data: {LOG_LEVEL: info}\n"
    )
    assert load_path(str(path), io.StringIO()).unread_objects == 1
    code, out, err = diagnose_file(path)
    assert (code, out) == (2, "")
    assert "nothing to diagnose" in err and "no Kubernetes objects" not in err


@pytest.mark.parametrize(
    "items",
    [[], [{"kind": "PersistentVolumeClaim", "spec": {}}], [{"metadata": {"name": "x"}}]],
)
def test_lists_without_a_well_formed_object_are_still_refused(
    tmp_path: Path, items: list[object]
) -> None:
    path = tmp_path / "objects.json"
    path.write_text(json.dumps({"kind": "List", "items": items}))
    with pytest.raises(InputError, match="no Kubernetes objects found"):
        load_path(str(path), io.StringIO())
