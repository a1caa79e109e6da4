"""The diagnosis engine: pure functions from Kubernetes object dicts to findings.

It imports nothing that does I/O (no kopf, kubernetes, httpx, fastapi): the CLI, the operator
and /assist all hand it a :class:`Snapshot`, a "now" and the :class:`Thresholds`, and get the
same answer for the same objects.
"""

from highpeaks_agent.engine.diagnose import diagnose, diagnose_target
from highpeaks_agent.engine.model import Diagnosis, Finding, ObjectRef, Rollout, Severity
from highpeaks_agent.engine.snapshot import Snapshot
from highpeaks_agent.engine.thresholds import Thresholds

__all__ = [
    "Diagnosis",
    "Finding",
    "ObjectRef",
    "Rollout",
    "Severity",
    "Snapshot",
    "Thresholds",
    "diagnose",
    "diagnose_target",
]
