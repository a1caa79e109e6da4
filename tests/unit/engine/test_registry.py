"""Every rule a family module defines is tried, exactly once, from the registry."""

from __future__ import annotations

import inspect
from collections import Counter
from types import ModuleType

from highpeaks_agent.engine.analyzers import (
    config,
    controllers,
    crashes,
    images,
    nodes,
    probes,
    registry,
    scheduling,
    startup,
)

FAMILIES = (config, controllers, crashes, images, nodes, probes, scheduling, startup)


def public_functions(module: ModuleType) -> set[object]:
    return {
        function
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if not name.startswith("_") and function.__module__ == module.__name__
    }


def test_every_family_rule_is_registered_once() -> None:
    registered = Counter([*registry.POD_RULES, *registry.CONTAINER_RULES, *registry.WORKLOAD_RULES])
    defined = set().union(*(public_functions(module) for module in FAMILIES))
    assert defined - set(registered) == set()
    assert [rule for rule, count in registered.items() if count > 1] == []
