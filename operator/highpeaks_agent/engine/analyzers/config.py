"""Configuration: a container whose env or volume references name what does not exist."""

from __future__ import annotations

from highpeaks_agent.engine import catalogue, classify
from highpeaks_agent.engine.analyzers.context import ContainerContext, PodContext
from highpeaks_agent.engine.model import Finding


def config_error(container: ContainerContext) -> Finding | None:
    """Waiting in CreateContainerConfigError, refined by what is missing."""
    if container.reason != "CreateContainerConfigError":
        return None
    message = container.message
    code, missing = classify.config_error_code(message)
    return container.finding(
        code,
        f"{container.label} cannot start: {message or 'configuration error'}",
        detail=message,
        evidence=[message],
        suggestion=_config_hint(code, missing, container.pod),
    )


def _config_hint(code: str, missing: str | None, pod: PodContext) -> str:
    ns = pod.namespace
    if code == catalogue.CONFIG_SECRET_NOT_FOUND:
        return f"Create the Secret or fix its name: `kubectl get secret {missing} -n {ns}`."
    if code == catalogue.CONFIG_CONFIGMAP_NOT_FOUND:
        return f"Create the ConfigMap or fix its name: `kubectl get configmap {missing} -n {ns}`."
    if code == catalogue.CONFIG_KEY_NOT_FOUND:
        return f"Add the key or fix the reference: {missing} (`kubectl describe` the object)."
    if code == catalogue.START_SECURITY_CONTEXT:
        # kubelet reports runAsNonRoot against a root image as a config error
        return "The image runs as root but the pod requires runAsNonRoot: set runAsUser to a non-root UID."
    return f"Check the pod's env/volume references: `kubectl describe pod {pod.name} -n {ns}`."
