"""The shipped manifests, rendered once per test session with the real ``kubectl kustomize``."""

from __future__ import annotations

import pytest

from tests.unit.shipping.shipped import Objects, render


@pytest.fixture(scope="session")
def base_objects() -> Objects:
    return render("k8s/base")


@pytest.fixture(scope="session")
def dev_objects() -> Objects:
    return render("k8s/overlays/dev")
