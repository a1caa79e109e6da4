"""Next steps a person can act on, one function per family of causes.

Each hint names the object and the command to look at it, so the suggestion in
`kubectl describe` can be pasted into a terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from highpeaks_agent.engine import codes

if TYPE_CHECKING:
    from highpeaks_agent.engine.analyzers.pods import PodContext


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def scheduling_hint(code: str, ctx: PodContext) -> str:
    if code == codes.UNSCHEDULABLE_RESOURCES:
        requests = []
        for container in ctx.spec.get("containers") or []:
            res = _dict(_dict(container).get("resources")).get("requests")
            if isinstance(res, Mapping) and res:
                pairs = ", ".join(f"{k}={v}" for k, v in sorted(res.items()))
                requests.append(f"{_dict(container).get('name')}: {pairs}")
        asked = f" The pod requests {'; '.join(requests)}." if requests else ""
        return (
            "No node has enough free capacity." + asked + " Lower the requests, free capacity, "
            "or add nodes (`kubectl describe nodes | grep -A5 Allocated`)."
        )
    if code == codes.UNSCHEDULABLE_NODE_AFFINITY:
        return "Check the pod's nodeSelector/affinity against node labels (`kubectl get nodes --show-labels`)."
    if code == codes.UNSCHEDULABLE_TAINTS:
        return "The fitting nodes carry taints this pod does not tolerate: add a toleration or untaint a node."
    if code == codes.UNSCHEDULABLE_VOLUME_BINDING:
        return (
            f"Check the pod's PersistentVolumeClaims (`kubectl get pvc -n {ctx.namespace}`): "
            "are they Bound, and is the volume in a zone the pod can run in?"
        )
    return f"Read the scheduler's message: `kubectl describe pod {ctx.name} -n {ctx.namespace}`."


def probe_hint(probe: Any) -> str:
    probe = _dict(probe)
    http = _dict(probe.get("httpGet"))
    if http:
        target = f"HTTP GET {http.get('path', '/')} on port {http.get('port')}"
    elif probe.get("tcpSocket"):
        target = f"TCP port {_dict(probe.get('tcpSocket')).get('port')}"
    elif probe.get("exec"):
        target = "the exec command"
    else:
        target = "the probe"
    return (
        f"Check that {target} answers in time (timeoutSeconds "
        f"{probe.get('timeoutSeconds', 1)}, initialDelaySeconds "
        f"{probe.get('initialDelaySeconds', 0)}) and that the app listens where the probe asks."
    )


def pull_hint(code: str, image: str, ctx: PodContext) -> str:
    if code == codes.IMAGE_PULL_NOT_FOUND:
        return (
            f"The image or tag does not exist: check {image} in its registry (a typo in the tag?)."
        )
    if code == codes.IMAGE_PULL_UNAUTHORIZED:
        secrets = [str(_dict(s).get("name")) for s in ctx.spec.get("imagePullSecrets") or []]
        where = f"imagePullSecrets {', '.join(secrets)}" if secrets else "no imagePullSecrets set"
        return (
            f"The registry refused the pull ({where}): create or fix the pull secret "
            f"(`kubectl get secret -n {ctx.namespace}`) and reference it in the pod spec or "
            "service account."
        )
    if code == codes.IMAGE_PULL_NETWORK:
        return (
            "The node cannot reach the registry: check DNS, egress/proxy and the registry's status."
        )
    return f"Read the pull error: `kubectl describe pod {ctx.name} -n {ctx.namespace}`."


def config_hint(code: str, missing: str | None, ctx: PodContext) -> str:
    ns = ctx.namespace
    if code == codes.CONFIG_SECRET_NOT_FOUND:
        return f"Create the Secret or fix its name: `kubectl get secret {missing} -n {ns}`."
    if code == codes.CONFIG_CONFIGMAP_NOT_FOUND:
        return f"Create the ConfigMap or fix its name: `kubectl get configmap {missing} -n {ns}`."
    if code == codes.CONFIG_KEY_NOT_FOUND:
        return f"Add the key or fix the reference: {missing} (`kubectl describe` the object)."
    if code == codes.START_SECURITY_CONTEXT:
        return "The image runs as root but the pod requires runAsNonRoot: set runAsUser to a non-root UID."
    return f"Check the pod's env/volume references: `kubectl describe pod {ctx.name} -n {ns}`."
