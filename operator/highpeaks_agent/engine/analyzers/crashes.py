"""Crashes: a container that keeps ending, with the most specific reason its exit gives."""

from __future__ import annotations

from highpeaks_agent.engine import catalogue
from highpeaks_agent.engine.analyzers.context import ContainerContext, as_mapping
from highpeaks_agent.engine.model import Finding


def oom_killed(container: ContainerContext) -> Finding | None:
    """Crash-looping because the kernel kills it at its memory limit."""
    if not container.crash_looping or container.terminated.get("reason") != "OOMKilled":
        return None
    resources = as_mapping(container.spec.get("resources"))
    limit = as_mapping(resources.get("limits")).get("memory")
    return container.finding(
        catalogue.OOM_KILLED,
        f"{container.label} is killed for exceeding its memory limit"
        + (f" ({limit})" if limit else ""),
        detail="The kernel's OOM killer ended the container (exit code 137).",
        evidence=container.crash_evidence,
        suggestion=(
            f"Raise the memory limit (now {limit or 'unset'}) or reduce the process's "
            "memory use; compare with `kubectl top pod`."
        ),
    )


def exits_immediately(container: ContainerContext) -> Finding | None:
    """A main container restarted after exiting 0: a short-lived process under Always."""
    if not container.crash_looping or container.is_init or container.exit_code != 0:
        return None
    return container.finding(
        catalogue.CONTAINER_EXITS_IMMEDIATELY,
        f"{container.label} exits successfully and is restarted",
        detail="The main process ends with exit code 0 while restartPolicy is Always.",
        evidence=container.crash_evidence,
        suggestion="Run a long-lived process in the foreground (no daemonizing), or use "
        "a Job for run-to-completion work.",
    )


def crash_loop_back_off(container: ContainerContext) -> Finding | None:
    """Crash-looping with no more specific cause known."""
    if not container.crash_looping:
        return None
    pod = container.pod
    return container.finding(
        catalogue.CRASH_LOOP_BACK_OFF,
        f"{container.label} keeps crashing (exit code {container.exit_code})",
        detail=container.exit_message
        or "The container exits with a non-zero code and is restarted with back-off.",
        evidence=container.crash_evidence,
        suggestion="Read the crashed instance's log: "
        f"`kubectl logs {pod.name} -n {pod.namespace} -c {container.name} --previous`.",
    )
