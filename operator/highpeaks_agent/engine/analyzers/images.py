"""Images: a pull that fails or never finishes, an image reference that cannot be parsed."""

from __future__ import annotations

from highpeaks_agent.engine import catalogue, classify
from highpeaks_agent.engine.analyzers.context import (
    ContainerContext,
    PodContext,
    as_list,
    as_mapping,
)
from highpeaks_agent.engine.model import Finding

_PULL_REASONS = classify.waiting_reasons(
    catalogue.IMAGE_PULL_ERROR, catalogue.IMAGE_PULL_NEVER_PULL, catalogue.IMAGE_PULL_NETWORK
)


def pull_failing(container: ContainerContext) -> Finding | None:
    """Waiting in a pull reason (ErrImagePull, ImagePullBackOff, ErrImageNeverPull,
    ImageInspectError, RegistryUnavailable), refined by the runtime's message."""
    if container.reason not in _PULL_REASONS:
        return None
    pulls = container.pod.event_messages("Failed", "ailed to pull image")
    text = pulls[-1] if pulls else container.message
    code = classify.image_pull_code(f"{container.message} {text}", container.reason)
    return container.finding(
        code,
        _pull_title(code, container),
        detail=text,
        evidence=[text] if text else [str(container.reason)],
        suggestion=_pull_hint(code, container),
    )


def _pull_title(code: str, container: ContainerContext) -> str:
    if code == catalogue.IMAGE_PULL_NEVER_PULL:
        node = container.pod.spec.get("nodeName") or "its node"
        return (
            f"{container.label}: image {container.image} is not on {node} (imagePullPolicy Never)"
        )
    if container.reason == "ImageInspectError":
        return f"{container.label}: image {container.image} cannot be inspected on its node"
    return f"{container.label} cannot pull image {container.image}"


def invalid_image_name(container: ContainerContext) -> Finding | None:
    """Waiting in InvalidImageName: the reference does not parse."""
    if container.reason != "InvalidImageName":
        return None
    return container.finding(
        catalogue.INVALID_IMAGE_NAME,
        f"{container.label} has an invalid image reference {container.image!r}",
        detail=container.message,
        evidence=[container.message or f"image: {container.image}"],
        suggestion="Fix the image reference (registry/repository:tag or @sha256:digest, lower case).",
    )


def still_pulling(pod: PodContext) -> list[Finding]:
    """Pending past the threshold with a pull started and not finished."""
    if not pod.pending_too_long:
        return []
    pulling = pod.event_messages("Pulling")
    pulled = pod.event_messages("Pulled")
    if not pulling or len(pulled) >= len(pulling):
        return []
    return [
        pod.finding(
            catalogue.IMAGE_PULL_ERROR,
            f"Pod {pod.name} is still pulling its image after {pod.age_minutes} minutes",
            detail=pulling[-1],
            evidence=pulling[-1:],
            suggestion="A slow or stuck pull: check the image size, the registry's "
            "throughput and the node's disk (`kubectl describe node`).",
        )
    ]


def _pull_hint(code: str, container: ContainerContext) -> str:
    pod = container.pod
    if code == catalogue.IMAGE_PULL_NOT_FOUND:
        return (
            f"The image or tag does not exist: check {container.image} in its registry "
            "(a typo in the tag?)."
        )
    if code == catalogue.IMAGE_PULL_UNAUTHORIZED:
        secrets = [
            str(as_mapping(s).get("name")) for s in as_list(pod.spec.get("imagePullSecrets"))
        ]
        where = f"imagePullSecrets {', '.join(secrets)}" if secrets else "no imagePullSecrets set"
        return (
            f"The registry refused the pull ({where}): create or fix the pull secret "
            f"(`kubectl get secret -n {pod.namespace}`) and reference it in the pod spec or "
            "service account."
        )
    if code == catalogue.IMAGE_PULL_NEVER_PULL:
        return (
            "imagePullPolicy is Never, so the image must already be on the node: load it there "
            "(`kind load docker-image`, `ctr -n k8s.io images import`) or set imagePullPolicy "
            "to IfNotPresent."
        )
    if container.reason == "ImageInspectError":
        return (
            "The runtime cannot read the image on the node (a corrupt or half-pulled image, or "
            "one in a format it does not support): remove it on the node (`crictl rmi`) so it is "
            "pulled again, and check the image's manifest."
        )
    if code == catalogue.IMAGE_PULL_NETWORK:
        return (
            "The node cannot reach the registry: check DNS, egress/proxy and the registry's status."
        )
    return f"Read the pull error: `kubectl describe pod {pod.name} -n {pod.namespace}`."
