"""Which replica acts when several run with Kopf peering (``PEERING``, CONTRACT §6).

Kopf pauses the watches and handlers of every replica but the one with the highest priority;
work the operator starts itself (the periodic resync) is not a Kopf handler and would not
pause. So the resync asks here first, and this module applies Kopf's own rule to the peering
object Kopf keeps: a replica acts only while no other live peer has a priority as high as its
own (equal priorities pause everyone, so each replica gets a random one).
"""

from __future__ import annotations

import os
import random
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from highpeaks_agent.kubeapi import api_path, request_json

PEERING_GROUP, PEERING_VERSION = "kopf.dev", "v1"
#: Seconds a replica stays "alive" in the peering object after its last keep-alive. Kopf's
#: default is 60; shorter lets a standby take over from a killed replica well within 90 s.
PEERING_LIFETIME = 20


@dataclass(frozen=True, slots=True)
class PeerId:
    """How this replica appears in the peering object."""

    identity: str
    priority: int


def new_peer_id() -> PeerId:
    """A unique identity (host and pid, as Kopf's own) and a random priority."""
    identity = f"{socket.gethostname()}@{os.getpid()}/{random.randrange(16**6):06x}"
    return PeerId(identity, random.randint(1, 1_000_000_000))


def is_leader(peers: Mapping[str, Any], me: PeerId, now: datetime) -> bool:
    """Kopf's rule on one peering object's ``status``: no other live peer as high as us."""
    for identity, info in peers.items():
        if identity == me.identity or not isinstance(info, Mapping):
            continue
        lastseen = info.get("lastseen")
        seen = datetime.fromisoformat(lastseen) if isinstance(lastseen, str) else now
        if seen.tzinfo is None:
            seen = seen.replace(tzinfo=UTC)
        alive = seen + timedelta(seconds=int(info.get("lifetime", 60))) > now
        if alive and int(info.get("priority", 0)) >= me.priority:
            return False
    return True


class PeeringLeadership:
    """``is_active()`` for the resync: reads the peering object(s) Kopf maintains."""

    def __init__(
        self, api_client: client.ApiClient, name: str, me: PeerId, namespaces: Sequence[str]
    ) -> None:
        self._api = api_client
        self._name = name
        self._me = me
        self._namespaces = list(namespaces)

    async def is_active(self) -> bool:
        now = datetime.now(UTC)
        return all(is_leader(peers, self._me, now) for peers in await self._peerings())

    async def _peerings(self) -> list[Mapping[str, Any]]:
        if not self._namespaces:
            return [await self._status("clusterkopfpeerings", None)]
        return [await self._status("kopfpeerings", namespace) for namespace in self._namespaces]

    async def _status(self, plural: str, namespace: str | None) -> Mapping[str, Any]:
        path = api_path(PEERING_GROUP, PEERING_VERSION, plural, namespace, self._name)
        try:
            found = await request_json(self._api, "GET", path)
        except ApiException as exc:
            if exc.status == 404:
                return {}  # Kopf itself refuses to run without it; nothing to compare with
            raise
        status = found.get("status") or {}
        return status if isinstance(status, dict) else {}
