"""What one /assist caller may see, from SubjectAccessReviews for that caller (CONTRACT §7).

A question about a target needs ``get`` on the target (else 403, whether it exists or not);
then ``get pods`` shows pod states, ``get pods/log`` log lines, ``list events`` event
messages, ``get persistentvolumeclaims`` the claims its pods mount, ``get nodes`` (cluster
scope: no namespace in the review) the nodes its pods run on, and what lies between a
target and its pods or history (a Deployment's ReplicaSets, a CronJob's Jobs, a StatefulSet's
or DaemonSet's ControllerRevisions) needs ``get`` on that kind. A question about a namespace
reads with ``list`` on each namespaced kind (listing is what it does) and needs at least one
of them; nodes are read by name there too. Claims and nodes are extra evidence: read when
allowed, never reported as withheld.
The reviews run concurrently and each answer is cached per user.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from highpeaks_agent.engine.kinds import BY_KIND
from highpeaks_agent.errors import Forbidden
from highpeaks_agent.http.auth import Access, KubernetesAuth, User
from highpeaks_agent.visibility import READABLE_KINDS, Visibility

_CLAIM = "PersistentVolumeClaim"
_NODE = "Node"
#: Extra evidence about a crash's dependency (CONTRACT §2a): read when allowed, never withheld.
_DEPENDENCY_KINDS = ("Service", "EndpointSlice")
#: ``get nodes`` at the cluster scope: a Node has no namespace.
_NODE_ACCESS = Access("get", BY_KIND[_NODE].plural, "", BY_KIND[_NODE].group)
#: The kinds a namespace diagnosis lists (nodes are cluster-scoped: read by name).
_LISTED_KINDS = frozenset(k for k in READABLE_KINDS if BY_KIND[k].namespaced)

#: Kinds read with a target on the way to its pods or its history, beside the pods themselves
#: and the claims they mount.
READ_WITH_TARGET: dict[str, tuple[str, ...]] = {
    "Deployment": ("ReplicaSet",),
    "CronJob": ("Job",),
    "StatefulSet": ("ControllerRevision",),
    "DaemonSet": ("ControllerRevision",),
}


def _kind_access(verb: str, kind: str, namespace: str, name: str = "") -> Access:
    info = BY_KIND[kind]
    return Access(verb, info.plural, namespace, info.group, name)


async def target_visibility(
    auth: KubernetesAuth, user: User, namespace: str, kind: str, name: str
) -> Visibility:
    """What ``user`` may see of target ``kind/name``; raises ``Forbidden`` unless they may get it."""
    await auth.authorize(user, _kind_access("get", kind, namespace, name))
    pods = () if kind == "Pod" else ("Pod",)
    with_target = (*READ_WITH_TARGET.get(kind, ()), *pods)
    # claims are extra evidence on a pod that mounts one: read when allowed, never "withheld"
    related = {k: _kind_access("get", k, namespace) for k in (*with_target, _CLAIM)}
    related |= {k: _kind_access("list", k, namespace) for k in _DEPENDENCY_KINDS}
    related[_NODE] = _NODE_ACCESS
    granted = await _granted(auth, user, related.values())
    kinds = {kind} | {k for k, access in related.items() if granted[access]}
    wanted = frozenset({kind, *with_target})
    return await _with_logs_and_events(auth, user, namespace, frozenset(kinds), wanted)


async def namespace_visibility(auth: KubernetesAuth, user: User, namespace: str) -> Visibility:
    """What ``user`` may see in ``namespace``; raises ``Forbidden`` when they may list none of
    the kinds a diagnosis reads."""
    listing = {kind: _kind_access("list", kind, namespace) for kind in sorted(_LISTED_KINDS)}
    granted = await _granted(auth, user, [*listing.values(), _NODE_ACCESS])
    kinds = frozenset(k for k, access in listing.items() if granted[access])
    if not kinds:
        raise Forbidden(
            f"{user.username or 'caller'} may not list pods or workloads in namespace {namespace}"
        )
    if granted[_NODE_ACCESS]:
        kinds |= {_NODE}
    wanted = _LISTED_KINDS - {_CLAIM, *_DEPENDENCY_KINDS}
    return await _with_logs_and_events(auth, user, namespace, kinds, wanted)


async def _with_logs_and_events(
    auth: KubernetesAuth,
    user: User,
    namespace: str,
    kinds: frozenset[str],
    wanted: frozenset[str],
) -> Visibility:
    logs = Access("get", "pods/log", namespace)
    events = _kind_access("list", "Event", namespace)
    granted = await _granted(auth, user, [logs, events])
    # a log line is only read for a pod the user can see
    return Visibility(
        kinds=kinds, logs=granted[logs] and "Pod" in kinds, events=granted[events], wanted=wanted
    )


async def _granted(
    auth: KubernetesAuth, user: User, accesses: Iterable[Access]
) -> dict[Access, bool]:
    wanted = list(accesses)
    answers = await asyncio.gather(*(auth.allowed(user, access) for access in wanted))
    return dict(zip(wanted, answers, strict=True))
