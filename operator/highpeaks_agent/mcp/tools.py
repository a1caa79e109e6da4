"""The tools as MCP clients see them: names, typed parameters (their JSON Schemas), descriptions.

Each function is a thin edge: read who calls (put on the request by ``gate.py``), pick the
namespace, hand the call to the step runner and the toolbox, and turn the answer into a tool
result. A result the caller may not see is said in words (``withheld``), not raised; only a
call that could not be answered (not found, a bad argument, the cluster silent) is marked as
an error, so a model can correct itself.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from highpeaks_agent.engine.kinds import DNS_1123_SUBDOMAIN, DNS_1123_SUBDOMAIN_MAX, TargetKind
from highpeaks_agent.mcp.access import CALLER_SCOPE_KEY, Caller
from highpeaks_agent.mcp.steps import StepRunner
from highpeaks_agent.mcp.toolbox import MAX_TAIL_LINES, ToolAnswer, Toolbox

DNS_1123_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

#: Kinds ``get`` serves: the workloads and pods, and the objects read as evidence about them.
#: Never a Secret (CONTRACT §3); nodes have their own tool.
GettableKind = Literal[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "ReplicaSet",
    "Pod",
    "CronJob",
    "Service",
    "EndpointSlice",
    "PersistentVolumeClaim",
    "ControllerRevision",
]
EventedKind = Literal[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "ReplicaSet",
    "Pod",
    "CronJob",
    "Service",
    "PersistentVolumeClaim",
    "Node",
]
HistoryKind = Literal["Deployment", "StatefulSet", "DaemonSet"]

Namespace = Annotated[
    str | None,
    Field(
        description="The namespace; default: the flow request's own namespace, else the "
        "operator's ASSIST_DEFAULT_NAMESPACE.",
        pattern=DNS_1123_LABEL,
        max_length=63,
    ),
]
Name = Annotated[
    str,
    Field(
        description="The object's name.",
        pattern=DNS_1123_SUBDOMAIN,
        max_length=DNS_1123_SUBDOMAIN_MAX,
    ),
]
READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)


def register_tools(
    server: MCPServer[Any], toolbox: Toolbox, steps: StepRunner, default_namespace: str
) -> None:
    """Add the six read-only tools to ``server``."""

    def namespace_of(caller: Caller, asked: str | None) -> str:
        if asked:
            return asked
        return caller.grant.namespace if caller.grant is not None else default_namespace

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def diagnose(
        ctx: Context[Any, Any],
        namespace: Namespace = None,
        kind: Annotated[
            TargetKind | None,
            Field(description="The target's kind; with name. Without both: the namespace."),
        ] = None,
        name: Annotated[
            str | None,
            Field(
                description="The target's name; with kind.",
                pattern=DNS_1123_SUBDOMAIN,
                max_length=DNS_1123_SUBDOMAIN_MAX,
            ),
        ] = None,
    ) -> CallToolResult:
        """The rules' diagnosis (root cause, findings with evidence, next step, what the
        rollout changed) of one workload, or of every failing workload of a namespace: the
        same as /assist, from what the caller may read."""
        caller = caller_of(ctx)
        ns = namespace_of(caller, namespace)
        arguments = {"namespace": ns, "kind": kind, "name": name}
        return result(
            await steps.run(
                caller, "diagnose", arguments, lambda: toolbox.diagnose(caller, ns, kind, name)
            )
        )

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def logs(
        ctx: Context[Any, Any],
        pod: Annotated[str, Field(description="The pod's name.", pattern=DNS_1123_SUBDOMAIN)],
        container: Annotated[
            str | None,
            Field(
                description="The container; default: the pod's default or first container.",
                pattern=DNS_1123_LABEL,
                max_length=63,
            ),
        ] = None,
        previous: Annotated[
            bool,
            Field(description="The previous (crashed) instance's log, as kubectl logs -p."),
        ] = False,
        tail: Annotated[
            int, Field(description="How many of the last lines.", ge=1, le=MAX_TAIL_LINES)
        ] = 100,
        namespace: Namespace = None,
    ) -> CallToolResult:
        """A container's log tail (newest last), secrets redacted, at most 8 kB."""
        caller = caller_of(ctx)
        ns = namespace_of(caller, namespace)
        arguments = {
            "namespace": ns,
            "pod": pod,
            "container": container,
            "previous": previous,
            "tail": tail,
        }
        return result(
            await steps.run(
                caller,
                "logs",
                arguments,
                lambda: toolbox.logs(caller, ns, pod, container, previous, tail),
            )
        )

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def events(
        ctx: Context[Any, Any],
        kind: Annotated[EventedKind, Field(description="The object's kind.")],
        name: Name,
        namespace: Namespace = None,
    ) -> CallToolResult:
        """The Events about one object, oldest first (the newest 30), as kubectl describe
        lists them. A Node's Events are in the namespace default."""
        caller = caller_of(ctx)
        ns = namespace_of(caller, namespace)
        arguments = {"namespace": ns, "kind": kind, "name": name}
        return result(
            await steps.run(
                caller, "events", arguments, lambda: toolbox.events(caller, ns, kind, name)
            )
        )

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def get(
        ctx: Context[Any, Any],
        kind: Annotated[GettableKind, Field(description="The object's kind (never a Secret).")],
        name: Name,
        namespace: Namespace = None,
    ) -> CallToolResult:
        """One object as JSON, without managedFields and the last-applied annotation, values
        of secret-looking env vars masked; at most 8 kB."""
        caller = caller_of(ctx)
        ns = namespace_of(caller, namespace)
        arguments = {"namespace": ns, "kind": kind, "name": name}
        return result(
            await steps.run(caller, "get", arguments, lambda: toolbox.get(caller, ns, kind, name))
        )

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def rollout_history(
        ctx: Context[Any, Any],
        kind: Annotated[HistoryKind, Field(description="The workload's kind.")],
        name: Name,
        namespace: Namespace = None,
    ) -> CallToolResult:
        """A workload's revisions, oldest first: number, images, ready pods, and what each
        changed from the one before (env var names, never their values)."""
        caller = caller_of(ctx)
        ns = namespace_of(caller, namespace)
        arguments = {"namespace": ns, "kind": kind, "name": name}
        return result(
            await steps.run(
                caller,
                "rollout_history",
                arguments,
                lambda: toolbox.rollout_history(caller, ns, kind, name),
            )
        )

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def node(ctx: Context[Any, Any], name: Name) -> CallToolResult:
        """A node's conditions, taints, pressure (memory, disk, PID), allocatable and
        capacity, architecture and kubelet version."""
        caller = caller_of(ctx)
        return result(
            await steps.run(caller, "node", {"name": name}, lambda: toolbox.node(caller, name))
        )


def caller_of(ctx: Context[Any, Any]) -> Caller:
    """Who called, as the gate found them (the gate lets nobody through without one)."""
    request = ctx.request_context.request
    caller = request.scope.get(CALLER_SCOPE_KEY) if request is not None else None
    if not isinstance(caller, Caller):
        raise RuntimeError("a tool call reached /mcp without passing its gate")
    return caller


def result(answer: ToolAnswer) -> CallToolResult:
    """The MCP result: the text, marked as an error only when the call could not be answered."""
    return CallToolResult(
        content=[TextContent(type="text", text=answer.text)],
        is_error=answer.outcome == "error",
    )
