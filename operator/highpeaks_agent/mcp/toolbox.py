"""What each tool does: check the caller's right, read through the live source, shape, redact.

The diagnosis is the engine's, made by the same service /assist uses (``service.py``); the
tools never work out a cause themselves. Every read goes through the live source
(``sources/live.py``), the one reader of the cluster. Every answer is redacted as a whole
(the redactor knows the literal values of secret-looking env vars of the objects read), then
bounded (``shaping.py``). Secrets are never read: ``get`` serves no Secret, and no tool asks
for one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from highpeaks_agent.engine.history import HISTORY_KINDS, rollout_history
from highpeaks_agent.engine.kinds import BY_KIND, NODE
from highpeaks_agent.engine.redact import DEFAULT_REDACTOR, Redactor, redactor_for
from highpeaks_agent.engine.snapshot import meta
from highpeaks_agent.errors import InvalidRequest, TargetNotFound
from highpeaks_agent.http.auth import Access
from highpeaks_agent.http.rights import READ_WITH_TARGET
from highpeaks_agent.mcp.access import Caller, Refused, ToolRights, Withheld
from highpeaks_agent.mcp.shaping import (
    MAX_RESULT_CHARS,
    as_json,
    bounded,
    event_lines,
    node_summary,
    object_text,
)
from highpeaks_agent.service import DiagnosisService
from highpeaks_agent.sources.live import LiveSource
from highpeaks_agent.visibility import Visibility

#: Lines a ``logs`` call may ask for at most.
MAX_TAIL_LINES = 500
#: Bytes of log read per call: more than is shown, so redaction sees whole blocks around
#: the window it keeps (a private key cut in half by the window is still found).
LOG_READ_BYTES = 32768

Outcome = Literal["ok", "withheld", "refused", "error", "budget"]


@dataclass(frozen=True, slots=True)
class ToolAnswer:
    """A tool's text (redacted and bounded) and how the call went."""

    text: str
    outcome: Outcome = "ok"


class Toolbox:
    """The six read-only tools, over the diagnosis service and the live source."""

    def __init__(self, service: DiagnosisService, live: LiveSource, rights: ToolRights) -> None:
        self._service = service
        self._live = live
        self._rights = rights

    async def diagnose(
        self, caller: Caller, namespace: str, kind: str | None, name: str | None
    ) -> ToolAnswer:
        """The rules' diagnosis of a target, or of every workload of the namespace."""
        if (kind is None) != (name is None):
            raise InvalidRequest("give both kind and name (a target), or neither (the namespace)")
        if kind and name:
            visible = await self._rights.for_target(caller, namespace, kind, name)
            # the same diagnosis /assist makes for an asker, counted with it
            diagnosed = await self._service.diagnose_target(
                namespace, kind, name, trigger="assist", visible=visible
            )
        else:
            visible = await self._rights.for_namespace(caller, namespace)
            diagnosed = await self._service.diagnose_namespace(
                namespace, trigger="assist", visible=visible
            )
        shown = {
            "scope": diagnosed.scope,
            "answer": diagnosed.rules_answer,
            "withheld": list(diagnosed.withheld),
            "diagnoses": [
                d.to_json_dict() for d in diagnosed.diagnoses if d.findings or kind is not None
            ],
        }
        return ToolAnswer(bounded(diagnosed.snapshot.redactor.text(as_json(shown))))

    async def logs(
        self,
        caller: Caller,
        namespace: str,
        pod: str,
        container: str | None,
        previous: bool,
        tail: int,
    ) -> ToolAnswer:
        """A container's log tail, newest lines last."""
        await self._rights.require(caller, Access("get", "pods/log", namespace))
        obj = await self._live.read_object("Pod", namespace, pod)
        if obj is None:
            raise TargetNotFound("Pod", namespace, pod)
        chosen = _container(obj, container)
        text = await self._live.container_log(
            namespace,
            pod,
            chosen,
            previous=previous,
            tail_lines=min(tail, MAX_TAIL_LINES),
            limit_bytes=LOG_READ_BYTES,
        )
        which = "previous instance" if previous else "current instance"
        header = f"log of {namespace}/{pod} container {chosen} ({which}, last {tail} lines):\n"
        body = redactor_for([obj]).text(text) or "(empty)"
        return ToolAnswer(header + bounded(body, keep="tail", limit=MAX_RESULT_CHARS - len(header)))

    async def events(self, caller: Caller, namespace: str, kind: str, name: str) -> ToolAnswer:
        """The Events about one object, as ``kubectl describe`` lists them."""
        await self._rights.require(caller, Access("list", "events", namespace))
        events = await self._live.events_about(namespace, kind, name)
        if not events:
            return ToolAnswer(f"no Events about {kind} {namespace}/{name}")
        redactor = await self._redactor_of(namespace, kind, name)
        return ToolAnswer(bounded(event_lines(events, redactor)))

    async def get(self, caller: Caller, namespace: str, kind: str, name: str) -> ToolAnswer:
        """One object, trimmed and redacted."""
        info = BY_KIND[kind]
        await self._rights.require(caller, Access("get", info.plural, namespace, info.group, name))
        obj = await self._live.read_object(kind, namespace, name)
        if obj is None:
            raise TargetNotFound(kind, namespace, name)
        return ToolAnswer(bounded(object_text(obj, redactor_for([obj]))))

    async def rollout_history(
        self, caller: Caller, namespace: str, kind: str, name: str
    ) -> ToolAnswer:
        """A workload's revisions, each with what it changed from the one before."""
        if kind not in HISTORY_KINDS:
            raise InvalidRequest(f"{kind} keeps no revisions; ask about {', '.join(HISTORY_KINDS)}")
        visible = await self._rights.for_target(caller, namespace, kind, name)
        kept = READ_WITH_TARGET[kind][0]
        if not visible.may_read(kept):
            raise Withheld(f"withheld: {caller.name} may not get {BY_KIND[kept].plural}")
        snapshot = await self._live.target_snapshot(
            namespace,
            kind,
            name,
            visible=Visibility(
                kinds=frozenset({kind, kept}), logs=False, events=False, wanted=frozenset()
            ),
        )
        workload = snapshot.get(kind, namespace, name)
        if workload is None:
            raise TargetNotFound(kind, namespace, name)
        entries = [e.to_json_dict() for e in rollout_history(workload, snapshot)]
        shown = {"workload": f"{kind} {namespace}/{name}", "revisions": entries}
        return ToolAnswer(bounded(snapshot.redactor.text(as_json(shown))))

    async def node(self, caller: Caller, name: str) -> ToolAnswer:
        """A node's conditions, taints, pressure and allocatable resources."""
        bound = caller.namespace_bound
        if bound is not None and not await self._live.runs_pods_on(bound, name):
            raise Refused(f"this credential reads only nodes that run pods of namespace {bound}")
        await self._rights.require(caller, Access("get", NODE.plural, "", NODE.group, name))
        node = await self._live.node(name)
        if node is None:
            raise TargetNotFound("Node", "", name)
        return ToolAnswer(bounded(DEFAULT_REDACTOR.text(as_json(node_summary(node)))))

    async def _redactor_of(self, namespace: str, kind: str, name: str) -> Redactor:
        """A redactor that knows the secret-looking env values of a workload or pod, so an
        Event echoing one is masked; the object is read for that only, never shown."""
        if not BY_KIND[kind].target:
            return DEFAULT_REDACTOR
        obj = await self._live.read_object(kind, namespace, name)
        return redactor_for([obj]) if obj is not None else DEFAULT_REDACTOR


def _container(pod: Mapping[str, Any], asked: str | None) -> str:
    """The container asked for, else the pod's default (kubectl's annotation) or first one;
    a name the pod does not have is an error that lists the ones it has."""
    spec = pod.get("spec") or {}
    regular = [str(c.get("name")) for c in spec.get("containers") or [] if isinstance(c, dict)]
    init = [str(c.get("name")) for c in spec.get("initContainers") or [] if isinstance(c, dict)]
    names = [*init, *regular]
    if asked:
        if asked not in names:
            raise InvalidRequest(f"no container {asked!r} in this pod; it has: {', '.join(names)}")
        return asked
    default = (meta(pod).get("annotations") or {}).get("kubectl.kubernetes.io/default-container")
    if default in names:
        return str(default)
    if not names:
        raise InvalidRequest("the pod has no containers")
    return (regular or names)[0]
