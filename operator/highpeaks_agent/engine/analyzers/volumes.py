"""Claims: a pod that waits on a PersistentVolumeClaim names it, its phase, its StorageClass and
the claim's own events (``ProvisioningFailed``, a missing StorageClass), which say why.

The scheduler's message only says "unbound immediate PersistentVolumeClaims"; the reason is
on the claim. Claims are evidence when the input holds them (List files and the live reader
do; ``cluster-info dump`` trees do not).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from highpeaks_agent.engine import catalogue
from highpeaks_agent.engine.analyzers.context import PodContext, as_mapping
from highpeaks_agent.engine.model import Finding
from highpeaks_agent.engine.snapshot import KubeObject, Snapshot, meta

MAX_EVIDENCE = 6
#: What a claim's events say when nothing is wrong yet, or any more.
_QUIET_REASONS = frozenset({"ProvisioningSucceeded", "Provisioning", "WaitForFirstConsumer"})


def claim_names(pod: Mapping[str, Any]) -> list[str]:
    """The claims a pod mounts: named ones, and the ``<pod>-<volume>`` of ephemeral volumes."""
    names = []
    volumes = as_mapping(pod.get("spec")).get("volumes")
    for volume in map(as_mapping, volumes if isinstance(volumes, list) else []):
        claim = as_mapping(volume.get("persistentVolumeClaim")).get("claimName")
        if isinstance(claim, str):
            names.append(claim)
        elif volume.get("ephemeral") is not None and isinstance(volume.get("name"), str):
            names.append(f"{meta(pod).get('name')}-{volume['name']}")
    return names


def claims_of(pod: Mapping[str, Any], snapshot: Snapshot) -> list[KubeObject]:
    """The claims the pod mounts that the snapshot holds."""
    namespace = meta(pod).get("namespace")
    found = (snapshot.get("PersistentVolumeClaim", namespace, n) for n in claim_names(pod))
    return [claim for claim in found if claim is not None]


def phase(claim: Mapping[str, Any]) -> str:
    return str(as_mapping(claim.get("status")).get("phase") or "Pending")


def storage_class(claim: Mapping[str, Any]) -> str | None:
    """``spec.storageClassName``, else the beta annotation older clusters write."""
    name = as_mapping(claim.get("spec")).get("storageClassName")
    if isinstance(name, str):
        return name
    annotations = as_mapping(meta(claim).get("annotations"))
    legacy = annotations.get("volume.beta.kubernetes.io/storage-class")
    return legacy if isinstance(legacy, str) else None


def claim_evidence(claim: Mapping[str, Any], snapshot: Snapshot) -> list[str]:
    """The claim's phase and StorageClass, then its newest telling events (warnings first)."""
    name = meta(claim).get("name")
    sc = storage_class(claim)
    named = f"StorageClass {sc}" if sc else "no StorageClass (the cluster default, if any)"
    lines = [f"PersistentVolumeClaim {name}: {phase(claim)}, {named}"]
    events = [
        e
        for e in snapshot.events_for(claim)
        if e.get("reason") not in _QUIET_REASONS and isinstance(e.get("message"), str)
    ]
    warnings = [e for e in events if e.get("type") == "Warning"]
    latest: dict[str, str] = {}
    for event in warnings or events:
        latest.pop(str(event.get("reason")), None)
        latest[str(event.get("reason"))] = str(event["message"])
    lines.extend(f"{name} {reason}: {message}" for reason, message in list(latest.items())[-2:])
    return lines


def unbound_claim(pod: PodContext) -> list[Finding]:
    """Pending past the threshold, unscheduled, and a claim it mounts is not Bound."""
    if pod.spec.get("nodeName") or not pod.pending_too_long:  # most pods are scheduled
        return []
    waiting = [
        c
        for c in claims_of(pod.pod, pod.snapshot)
        if phase(c) != "Bound" and not _waits_for_the_pod(c, pod.snapshot)
    ]
    if not waiting:
        return []
    claim = waiting[0]
    evidence = [line for c in waiting for line in claim_evidence(c, pod.snapshot)]
    name = meta(claim).get("name")
    return [
        pod.finding(
            catalogue.UNSCHEDULABLE_VOLUME_BINDING,
            f"Pod {pod.name} waits for PersistentVolumeClaim {name}",
            detail=evidence[-1] if len(evidence) > 1 else evidence[0],
            evidence=evidence,
            suggestion=claim_hint(claim, pod.namespace),
        )
    ]


def _waits_for_the_pod(claim: Mapping[str, Any], snapshot: Snapshot) -> bool:
    """A WaitForFirstConsumer claim binds once its pod is scheduled: it is not the cause."""
    events = snapshot.events_for(claim)
    return bool(events) and events[-1].get("reason") == "WaitForFirstConsumer"


def claim_hint(claim: Mapping[str, Any], namespace: str | None) -> str:
    """What to do about a claim that does not bind."""
    name, sc = meta(claim).get("name"), storage_class(claim)
    describe = f"`kubectl describe pvc {name} -n {namespace}`"
    if sc:
        return (
            f"The claim is not bound: check that StorageClass {sc} exists and its provisioner "
            f"runs (`kubectl get storageclass {sc}`), then read {describe}."
        )
    return (
        "The claim is not bound and names no StorageClass: set one, mark a StorageClass as the "
        f"cluster default, or create a matching PersistentVolume; then read {describe}."
    )


def with_claim_evidence(
    pod: Mapping[str, Any], findings: list[Finding], snapshot: Snapshot
) -> list[Finding]:
    """Scheduling findings of a pod that mounts claims, with the claims named in the evidence.

    A volume-binding failure names every claim; any other scheduling failure names the claims
    that are not Bound (a Pending claim may be the reason the scheduler words differently).
    """
    if not snapshot.persistentvolumeclaims:
        return findings
    return [_with_claims(pod, finding, snapshot) for finding in findings]


def _with_claims(pod: Mapping[str, Any], finding: Finding, snapshot: Snapshot) -> Finding:
    if finding.code == catalogue.UNSCHEDULABLE_VOLUME_BINDING:
        claims = claims_of(pod, snapshot)
    elif finding.code.startswith(catalogue.UNSCHEDULABLE):
        claims = [c for c in claims_of(pod, snapshot) if phase(c) != "Bound"]
    else:
        return finding
    lines = [line for c in claims for line in claim_evidence(c, snapshot)]
    new = [line for line in lines if line not in finding.evidence]
    if not new:
        return finding
    update: dict[str, Any] = {"evidence": [*finding.evidence, *new][:MAX_EVIDENCE]}
    unbound = [c for c in claims if phase(c) != "Bound"]
    if unbound:  # the claim's own trouble is what to fix first
        update["suggestion"] = claim_hint(unbound[0], meta(pod).get("namespace"))
    return replace(finding, **update)
