"""The shipped ClusterRole is exactly what the operator needs, read from the API server's audit log.

Runs after every other test of the tier (conftest orders it last): by then the operator has
taken every path the tier drives — incidents, tasks, /assist reviews, peering, faults. Both
ways: no request of the operator was refused (the role is not too small), and every rule of
the role was used with success at least once (no rule is there for nothing).
"""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from tests.support.cluster import ROOT, TestCluster

pytestmark = pytest.mark.cluster
AGENT = "system:serviceaccount:highpeaks-system:highpeaks-agent"


def granted() -> set[tuple[str, str, str]]:
    role = yaml.safe_load((ROOT / "k8s" / "base" / "clusterrole.yaml").read_text())
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def requests(kube: TestCluster) -> Counter[tuple[str, str, str, int]]:
    seen: Counter[tuple[str, str, str, int]] = Counter()
    for entry in kube.control_plane.audit(AGENT):
        if entry.get("stage") not in ("ResponseComplete", "ResponseStarted"):
            continue
        ref = entry.get("objectRef") or {}
        resource = ref.get("resource", "")
        if ref.get("subresource"):
            resource += "/" + ref["subresource"]
        code = int(entry.get("responseStatus", {}).get("code", 0))
        seen[(ref.get("apiGroup", ""), resource, entry["verb"], code)] += 1
    return seen


def test_the_cluster_role_is_neither_too_small_nor_too_large(installed: TestCluster) -> None:
    seen = requests(installed)
    assert seen, "the operator made no request the audit log recorded"
    refused = sorted(key for key in seen if key[3] == 403)
    assert not refused, f"the operator was refused: {refused}"
    used = {(group, resource, verb) for group, resource, verb, code in seen if code < 400}
    unused = sorted(granted() - used)
    assert not unused, f"rules of the ClusterRole no path of the tier used: {unused}"
