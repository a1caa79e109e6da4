"""A FailedScheduling message is read by the scheduler's filter order, not by the largest count.

Each node is counted under the first filter it fails, so the filter furthest along names what
stopped the nodes that got furthest; an old scheduler's overlapping counts (every predicate on
every node) still go to the predicate that rules out the most nodes.
"""

from __future__ import annotations

import pytest

from highpeaks_agent.engine.classify import scheduling_code


@pytest.mark.parametrize(
    ("message", "code"),
    [
        # the 3 nodes the selector allows fail on their volumes
        (
            "0/10 nodes are available: 3 node(s) had volume node affinity conflict, "
            "7 node(s) didn't match Pod's node affinity/selector.",
            "Unschedulable.VolumeBinding",
        ),
        # the nodes past the taints lack cpu
        (
            "0/6 nodes are available: 2 Insufficient cpu, 4 node(s) had untolerated taint "
            "{dedicated: gpu}.",
            "Unschedulable.InsufficientResources",
        ),
        # past cpu and volumes, the last node fails on anti-affinity
        (
            "0/9 nodes are available: 1 node(s) didn't match pod anti-affinity rules, "
            "2 Insufficient memory, 6 node(s) didn't match Pod's node affinity/selector.",
            "Unschedulable.NodeAffinity",
        ),
        # one filter only: its code whatever its count
        ("0/3 nodes are available: 3 Insufficient memory.", "Unschedulable.InsufficientResources"),
    ],
)
def test_the_filter_furthest_along_names_the_cause(message: str, code: str) -> None:
    assert scheduling_code(message) == code


def test_overlapping_counts_of_an_old_scheduler_go_by_the_most_nodes() -> None:
    # 10 + 4 > 10 nodes: every predicate ran on every node
    message = "0/10 nodes are available: 10 node(s) didn't match node selector, 4 Insufficient cpu."
    assert scheduling_code(message) == "Unschedulable.NodeAffinity"


def test_resource_shortages_of_one_node_count_once() -> None:
    # NodeResourcesFit reports cpu and memory for the same 2 nodes: 2 + 2 + 1 > 4 yet one pass
    message = (
        "0/4 nodes are available: 1 node(s) had volume node affinity conflict, "
        "2 Insufficient cpu, 2 Insufficient memory, 1 node(s) were unschedulable."
    )
    assert scheduling_code(message) == "Unschedulable.VolumeBinding"
