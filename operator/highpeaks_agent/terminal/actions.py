"""``kubectl highpeaks approve TASK ID`` and ``kubectl highpeaks actions TASK`` (CONTRACT §10).

``approve`` writes ``spec.approval: {action: ID, by: USER}`` into the task with the user's own
kubeconfig. USER is the name the API server knows the user by, from a SelfSubjectReview (as
``kubectl auth whoami`` asks), so the admission policy's check that ``by`` is the requesting
user holds without the user typing their name. The policy, not this command, decides whether
the user may: this command only refuses what can never be approved (an id the task does not
propose, a refused proposal, a task already approved otherwise) before asking the server.
``actions`` lists what a task proposes and what was run, with who ran it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from highpeaks_agent.errors import AgentError
from highpeaks_agent.kubeapi import api_path, request_json
from highpeaks_agent.terminal.console import Console

GROUP, VERSION, PLURAL = "devops.highpeaks.io", "v1alpha1", "agenttasks"
SELF_SUBJECT_REVIEWS = api_path("authentication.k8s.io", "v1", "selfsubjectreviews")
EXIT_DONE, EXIT_UNUSABLE = 0, 2


@dataclass(frozen=True, slots=True)
class ActionsRequest:
    """What ``approve`` / ``actions`` were asked: the task, and for ``approve`` the proposal."""

    task: str
    action_id: str | None
    namespace: str | None
    context: str | None
    output: str = "text"


class NotApprovable(AgentError):
    """The task does not propose that action, or proposes it refused, or is approved already."""


def run_approve(
    request: ActionsRequest,
    *,
    stdout: TextIO,
    stderr: TextIO,
    environ: Mapping[str, str],
    prog: str,
) -> int:
    console = Console(stderr, prog=prog, environ=environ)
    try:
        message = asyncio.run(_approve(request))
    except AgentError as exc:
        console.error(str(exc))
        return EXIT_UNUSABLE
    stdout.write(message + "\n")
    return EXIT_DONE


def run_actions(
    request: ActionsRequest,
    *,
    stdout: TextIO,
    stderr: TextIO,
    environ: Mapping[str, str],
    prog: str,
) -> int:
    console = Console(stderr, prog=prog, environ=environ)
    try:
        task = asyncio.run(_read_task(request))
    except AgentError as exc:
        console.error(str(exc))
        return EXIT_UNUSABLE
    if request.output == "json":
        stdout.write(json.dumps(_actions_json(task), indent=2) + "\n")
    else:
        stdout.write(render_actions(task))
    return EXIT_DONE


async def _approve(request: ActionsRequest) -> str:
    from highpeaks_agent.terminal.cluster import connect

    cluster = connect(request.context)
    try:
        namespace = request.namespace or cluster.namespace
        task = await _get_task(cluster, namespace, request.task)
        assert request.action_id is not None  # the parser requires ID for approve
        proposal = approvable(task, request.action_id)
        user = await _whoami(cluster)
        approval = {"action": request.action_id, "by": user}
        await _call(
            cluster, "PATCH", _task_path(namespace, request.task), {"spec": {"approval": approval}}
        )
    finally:
        cluster.close()
    change = proposal.get("change") or proposal.get("action", "")
    return (
        f"agenttask/{request.task} approved: {request.action_id} ({change}) by {user}\n"
        f"follow it with: kubectl highpeaks actions {request.task} -n {namespace}"
    )


def approvable(task: Mapping[str, Any], action_id: str) -> Mapping[str, Any]:
    """The proposal ``action_id`` of ``task`` if it may still be approved; else why not."""
    name = (task.get("metadata") or {}).get("name", "")
    status = task.get("status") or {}
    proposals = [p for p in status.get("proposedActions") or [] if isinstance(p, dict)]
    approval = (task.get("spec") or {}).get("approval")
    if approval:
        raise NotApprovable(
            f"agenttask/{name} is already approved: {approval.get('action')} by {approval.get('by')}"
        )
    found = next((p for p in proposals if p.get("id") == action_id), None)
    if found is None:
        offered = ", ".join(str(p.get("id")) for p in proposals) or "none"
        raise NotApprovable(
            f"agenttask/{name} proposes no action {action_id!r} (it proposes: {offered}; "
            f"phase {status.get('phase') or 'not yet diagnosed'})"
        )
    if found.get("refused"):
        instead = f"; instead: {found['instead']}" if found.get("instead") else ""
        raise NotApprovable(f"{action_id} cannot be approved: {found['refused']}{instead}")
    return found


async def _read_task(request: ActionsRequest) -> dict[str, Any]:
    from highpeaks_agent.terminal.cluster import connect

    cluster = connect(request.context)
    try:
        return await _get_task(cluster, request.namespace or cluster.namespace, request.task)
    finally:
        cluster.close()


async def _get_task(cluster: Any, namespace: str, name: str) -> dict[str, Any]:
    return await _call(
        cluster,
        "GET",
        _task_path(namespace, name),
        None,
        missing=f"no AgentTask {name!r} in namespace {namespace}",
    )


async def _whoami(cluster: Any) -> str:
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    review = await _call(cluster, "POST", SELF_SUBJECT_REVIEWS, body)
    username = ((review.get("status") or {}).get("userInfo") or {}).get("username")
    if not username:
        raise AgentError(
            f"{cluster.server} did not say who you are (SelfSubjectReview without a username)"
        )
    return str(username)


def _task_path(namespace: str, name: str) -> str:
    return api_path(GROUP, VERSION, PLURAL, namespace, name)


async def _call(
    cluster: Any, method: Any, path: str, body: Mapping[str, Any] | None, *, missing: str = ""
) -> dict[str, Any]:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    from highpeaks_agent.terminal.cluster import (
        ClusterUnreachable,
        connection_reason,
        status_message,
    )

    content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
    try:
        return await request_json(
            cluster.api_client, method, path, body=body, content_type=content_type
        )
    except ApiException as exc:
        if exc.status == 404 and missing:
            raise AgentError(missing) from None
        reason = status_message(exc.body) or str(exc.reason)
        raise AgentError(f"{cluster.server} refused it (HTTP {exc.status}): {reason}") from None
    except (HTTPError, OSError) as exc:
        raise ClusterUnreachable(cluster.server, connection_reason(exc)) from None


# --- the listing --------------------------------------------------------------------------


def render_actions(task: Mapping[str, Any]) -> str:
    """What ``task`` proposes, each with its state, then what was run and by whom."""
    name = (task.get("metadata") or {}).get("name", "")
    status = task.get("status") or {}
    proposals = [p for p in status.get("proposedActions") or [] if isinstance(p, dict)]
    runs = [r for r in status.get("actions") or [] if isinstance(r, dict)]
    approval = (task.get("spec") or {}).get("approval") or {}
    asked = (task.get("spec") or {}).get("action") or {}
    lines: list[str] = []
    if not proposals and not runs and not asked:
        return f"agenttask/{name}: no actions proposed (phase {status.get('phase') or 'not yet diagnosed'})\n"
    if proposals:
        lines.append(f"agenttask/{name} proposes:")
        for proposal in proposals:
            lines.append(
                f"  {proposal.get('id')}: {_target(proposal)} — {proposal.get('change', '')}"
            )
            lines.append(f"    {_state(name, proposal, approval, runs)}")
            if proposal.get("why"):
                lines.append(f"    why: {proposal['why']}")
    if asked:
        lines.append(f"agenttask/{name} asks for {asked.get('name')} (by {asked.get('by')})")
    if runs:
        lines.append("run:")
        for run in runs:
            when = f" at {run['at']}" if run.get("at") else ""
            message = f": {run['message']}" if run.get("message") else ""
            lines.append(
                f"  {run.get('id')} by {run.get('by')}{when} — {run.get('result')}{message}"
            )
    return "\n".join(lines) + "\n"


def _target(proposal: Mapping[str, Any]) -> str:
    target = proposal.get("target") or {}
    return f"{str(target.get('kind', '')).lower()}/{target.get('name', '')}"


def _state(
    task: str, proposal: Mapping[str, Any], approval: Mapping[str, Any], runs: list[dict[str, Any]]
) -> str:
    ident = proposal.get("id")
    if proposal.get("refused"):
        instead = f"; instead: {proposal['instead']}" if proposal.get("instead") else ""
        return f"refused: {proposal['refused']}{instead}"
    run = next((r for r in reversed(runs) if r.get("id") == ident), None)
    if run is not None:
        return f"{run.get('result')} (by {run.get('by')})"
    if approval.get("action") == ident:
        return f"approved by {approval.get('by')}, not yet run"
    return f"awaiting approval: kubectl highpeaks approve {task} {ident}"


def _actions_json(task: Mapping[str, Any]) -> dict[str, Any]:
    spec = task.get("spec") or {}
    status = task.get("status") or {}
    return {
        "task": (task.get("metadata") or {}).get("name", ""),
        "namespace": (task.get("metadata") or {}).get("namespace", ""),
        "action": spec.get("action"),
        "approval": spec.get("approval"),
        "proposedActions": status.get("proposedActions") or [],
        "actions": status.get("actions") or [],
    }
