"""Kept so existing imports work: :func:`make_api_client` lives in :mod:`highpeaks_agent.kubeapi`."""

from __future__ import annotations

from highpeaks_agent.kubeapi import make_api_client

__all__ = ["make_api_client"]
