"""Which kinds of cluster data a diagnosis may read (CONTRACT §7).

The operator's own tasks and incidents read everything (:data:`EVERYTHING`). /assist answers
with the asking user's rights: the HTTP layer asks SubjectAccessReviews for the user and
builds a :class:`Visibility`, and the live source reads only what it allows, so the engine
never sees data the user may not read. Pure data: no client, no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass

from highpeaks_agent.engine.kinds import KINDS, NODE

#: Every kind whose objects a diagnosis may read: targets, workloads, their pods, and the
#: objects read as evidence about them (Events are governed by their own flag).
READABLE_KINDS: frozenset[str] = frozenset(
    info.kind for info in KINDS if info.target or (info.evidence and info.kind != "Event")
)


@dataclass(frozen=True, slots=True)
class Visibility:
    """What may be read: objects of ``kinds``, container logs, Events. ``wanted`` is what the
    question would read with every right (only those kinds count as withheld)."""

    kinds: frozenset[str] = READABLE_KINDS
    logs: bool = True
    events: bool = True
    wanted: frozenset[str] = READABLE_KINDS
    #: read the Argo CD or Flux object that applied a workload (engine/delivery.py): the
    #: operator's own diagnoses and a user's ``diagnose --live``, never an /assist caller's
    #: share, which no review covers
    delivery: bool = False

    def may_read(self, kind: str) -> bool:
        return kind in self.kinds

    @property
    def pods(self) -> bool:
        return "Pod" in self.kinds

    @property
    def complete(self) -> bool:
        # a share without the GitOps sources is not everything: a flow answer made with the
        # commit that broke a rollout is not handed to someone who could not read it
        return self.kinds >= self.wanted and self.logs and self.events and self.delivery

    @property
    def key(self) -> str:
        """A stable spelling of this share, e.g. ``Deployment,Pod;logs;-events``."""
        flags = ("logs" if self.logs else "-logs", "events" if self.events else "-events")
        return ";".join((",".join(sorted(self.kinds)), *flags))

    def withheld(self) -> list[str]:
        """What was left out, in words a user reads, with the permission that would show it."""
        left_out = []
        if not self.pods and "Pod" in self.wanted:
            left_out.append("pod states (get pods)")
        if not self.logs and self.pods:
            left_out.append("container logs (get pods/log)")
        if not self.events:
            left_out.append("events (list events)")
        # nodes are extra evidence, read when allowed: their absence hides nothing asked about
        hidden = sorted(self.wanted - self.kinds - {"Pod", NODE.kind})
        if hidden:
            left_out.append(", ".join(hidden) + " objects")
        return left_out


EVERYTHING = Visibility(delivery=True)
