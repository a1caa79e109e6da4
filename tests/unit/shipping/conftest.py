"""The shipped manifests, rendered once per test session with the real ``kubectl kustomize``,
and the Helm chart with the helm ``make helm`` builds."""

from __future__ import annotations

import pytest

from tests.unit.shipping.shipped import Objects, helm_binary, render, render_chart


@pytest.fixture(scope="session")
def base_objects() -> Objects:
    return render("k8s/base")


@pytest.fixture(scope="session")
def dev_objects() -> Objects:
    return render("k8s/overlays/dev")


@pytest.fixture(scope="session")
def helm_path() -> str:
    return helm_binary()


@pytest.fixture(scope="session")
def chart_objects(helm_path: str) -> Objects:
    return render_chart(helm_path)
