"""A finished incident task, as the incident monitor writes it (CONTRACT §4 status)."""

from __future__ import annotations

from typing import Any

SIGNATURE = "CrashLoopBackOff"


def incident_task(
    *,
    evidence: list[str] | None = None,
    changes: list[str] | None = None,
    signature: str = SIGNATURE,
    phase: str = "Succeeded",
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "apiVersion": "devops.highpeaks.io/v1alpha1",
        "kind": "AgentTask",
        "metadata": {
            "name": "incident-checkout-r2",
            "namespace": "shop",
            "labels": {"devops.highpeaks.io/trigger": "auto"},
            "annotations": {
                "devops.highpeaks.io/revision": "2",
                "devops.highpeaks.io/failure-signature": signature,
                **(annotations or {}),
            },
        },
        "spec": {"target": {"kind": "Deployment", "name": "checkout"}},
        "status": {
            "phase": phase,
            "severity": "critical",
            "rootCause": "CrashLoopBackOff",
            "summary": "Deployment shop/checkout is failing: Container app keeps crashing (exit code 1).",
            "findings": [
                {
                    "code": "CrashLoopBackOff",
                    "severity": "critical",
                    "title": "Container app keeps crashing (exit code 1)",
                    "evidence": evidence
                    if evidence is not None
                    else [
                        "app: terminated with exit code 1 (Error), restarted 4 times",
                        "panic: missing PAYMENTS_API_URL",
                    ],
                    "suggestion": "Read the crashed instance's log.",
                }
            ],
            "recommendations": [
                "Read the crashed instance's log: `kubectl logs checkout-x -n shop -c app --previous`."
            ],
            "rollout": {
                "revision": 2,
                "previousRevision": 1,
                "changes": changes
                if changes is not None
                else ["container app image: shop/checkout:2.13.4 -> shop/checkout:2.14.0"],
            },
        },
    }
