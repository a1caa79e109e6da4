"""Which namespaces the operator serves when ``WATCH_NAMESPACE_SELECTOR`` is set.

The namespace index answers at once for namespaces already seen. A task can arrive before its
namespace's watch event does (``kubectl apply`` of a Namespace and an AgentTask together), so
an unknown namespace is asked about once, from the API server, which evaluates the selector
itself: no second implementation of label selectors here.
"""

from __future__ import annotations

from collections.abc import Container

from kubernetes import client

from highpeaks_agent.kubeapi import api_path, request_json


class NamespaceScope:
    """``allows(namespace)``: whether a namespace matches the selector (always, without one)."""

    def __init__(self, api_client: client.ApiClient | None, selector: str) -> None:
        self._api = api_client
        self._selector = selector

    def known(self, namespace: str | None, index: Container[str] | None) -> bool:
        """The quick answer from the index (for the many Pod and Deployment events)."""
        return not self._selector or (namespace is not None and namespace in (index or {}))

    async def allows(self, namespace: str | None, index: Container[str] | None) -> bool:
        """The index's answer, or the API server's for a namespace the index has not seen."""
        if self.known(namespace, index):
            return True
        if namespace is None or self._api is None:
            return False
        matching = await request_json(
            self._api,
            "GET",
            api_path("", "v1", "namespaces"),
            [("labelSelector", self._selector), ("fieldSelector", f"metadata.name={namespace}")],
        )
        return bool(matching.get("items"))
