"""``diagnose --live``: the cluster of the user's kubeconfig, read by the operator's own reader.

The kubeconfig is chosen exactly as kubectl chooses it (``KUBECONFIG``, else
``~/.kube/config``; ``--context``, else the current context; the context's namespace unless
``-n``/``-A``), and the user's own credentials read the cluster through
:class:`~highpeaks_agent.sources.live.LiveSource`, previous logs of crashed containers
included. The Kubernetes client is imported here only, when ``--live`` runs.

With no kubeconfig file at all (``KUBECONFIG`` unset or empty and no ``~/.kube/config``),
kubectl falls back to the pod's service account, and so does this: when
``KUBERNETES_SERVICE_HOST``/``KUBERNETES_SERVICE_PORT`` are set and the service-account token
exists, the server is ``https://HOST:PORT`` with that token and CA, in the namespace
``POD_NAMESPACE`` names, else the service account's own, else ``default``. There are no
contexts then, so ``--context`` is refused. A kubeconfig that exists but does not load is an
error, never a reason to fall back.

Every request gets a deadline (the client has none by default, so an unreachable server would
hang the terminal), and every refused request is noted, so a 403 names the verb and the
resource that was refused rather than a bare status.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from highpeaks_agent.engine.kinds import TARGET_KINDS, KindInfo, lookup
from highpeaks_agent.engine.model import ObjectRef
from highpeaks_agent.engine.snapshot import Snapshot
from highpeaks_agent.errors import AgentError
from highpeaks_agent.kubeapi import DeadlineRest
from highpeaks_agent.settings import Settings
from highpeaks_agent.terminal.console import Console
from highpeaks_agent.terminal.gathered import Gathered, diagnosable_namespaces
from highpeaks_agent.terminal.request import DiagnoseRequest

#: (connect, read) seconds for each API request; kubectl's dialer gives up connecting at 30 s.
REQUEST_TIMEOUT = (10.0, 60.0)
#: Retries of a failed connection (urllib3's default is 3, each waiting the connect timeout).
CONNECT_RETRIES = 1


class UsageError(AgentError):
    """Options that do not fit together, or a KIND/NAME that names nothing diagnosable."""


class KubeconfigError(AgentError):
    """No usable kubeconfig (nor a service account to fall back on), or no such context in it."""


class ClusterUnreachable(AgentError):
    """The API server did not answer (refused, timed out, TLS failure …)."""

    def __init__(self, server: str, reason: str) -> None:
        super().__init__(f"cannot reach the Kubernetes API server at {server}: {reason}")


class AccessDenied(AgentError):
    """The API server refused a read the diagnosis needs (401 or 403)."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """One request the API server refused: ``list pods in namespace shop`` (HTTP 403)."""

    verb: str
    resource: str
    namespace: str | None
    status: int

    def __str__(self) -> str:
        where = f" in namespace {self.namespace}" if self.namespace else " cluster-wide"
        return f"{self.verb} {self.resource}{where}"


def parse_target(text: str) -> tuple[KindInfo, str]:
    """``deploy/checkout`` → (Deployment, ``checkout``), with kubectl's names for kinds."""
    kind_name, slash, name = text.partition("/")
    if not slash or not kind_name or not name or "/" in name:
        raise UsageError(f"{text!r}: expected KIND/NAME, e.g. deploy/checkout or pod/web-0")
    info = lookup(kind_name)
    if info is None or not info.target:
        raise UsageError(
            f"{text!r}: cannot diagnose {kind_name!r}; expected one of "
            f"{', '.join(k.lower() for k in TARGET_KINDS)} (or kubectl's short names)"
        )
    return info, name


def read_live(request: DiagnoseRequest, settings: Settings, console: Console) -> Gathered:
    """Read what the request asks about from the cluster; errors are :class:`AgentError`."""
    target = parse_target(request.target) if request.target else None
    if target is not None and request.all_namespaces:
        raise UsageError("a KIND/NAME is in one namespace: use -n NS, not -A")
    cluster = connect(request.context)
    namespace = None if request.all_namespaces else (request.namespace or cluster.namespace)
    console.progress(f"reading from {cluster.server} …")
    try:
        snapshot = asyncio.run(_read(cluster, settings, namespace, target))
    finally:
        cluster.close()
    for refusal in cluster.refused:  # logs the user may not read: diagnosed without them
        console.warning(f"not allowed to {refusal}: diagnosed without it")
    if target is not None:
        assert namespace is not None  # -A with a target was refused above
        return _target_gathered(snapshot, namespace, *target)
    if namespace is not None and namespace not in diagnosable_namespaces(snapshot):
        raise UsageError(
            f"nothing to diagnose in namespace {namespace!r} at {cluster.server}: "
            "no pods or workloads there (does the namespace exist?)"
        )
    return Gathered(
        snapshot=snapshot,
        now=datetime.now(UTC),
        scope=f"namespace {namespace}" if namespace else "all namespaces",
        subject=f"namespace/{namespace or '*'}",
        namespace=namespace,
    )


def _target_gathered(snapshot: Snapshot, namespace: str, info: KindInfo, name: str) -> Gathered:
    ref = ObjectRef(kind=info.kind, namespace=namespace, name=name)
    obj = snapshot.get(ref.kind, ref.namespace, ref.name) or {}
    uid = (obj.get("metadata") or {}).get("uid")
    return Gathered(
        snapshot=snapshot,
        now=datetime.now(UTC),
        scope=f"{info.kind} {namespace}/{name}",
        subject=str(uid) if uid else str(ref),  # the operator's subject for a target too
        namespace=namespace,
        target=ref,
    )


async def _read(
    cluster: Cluster,
    settings: Settings,
    namespace: str | None,
    target: tuple[KindInfo, str] | None,
) -> Snapshot:
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    from highpeaks_agent.sources.live import LiveSource

    source = LiveSource(
        cluster.api_client,
        log_tail_lines=settings.log_tail_lines,
        log_tail_bytes=settings.log_tail_bytes,
    )
    try:
        if target is not None:
            assert namespace is not None  # -A with a target was refused above
            return await source.target_snapshot(namespace, target[0].kind, target[1])
        if namespace is None:
            return await source.all_namespaces_snapshot()
        return await source.namespace_snapshot(namespace)
    except ApiException as exc:
        raise _api_error(cluster, exc) from None
    except (HTTPError, OSError) as exc:
        raise ClusterUnreachable(cluster.server, connection_reason(exc)) from None


def _api_error(cluster: Cluster, exc: Any) -> AgentError:
    status = int(exc.status or 0)
    message = status_message(exc.body)
    refused = next((r for r in reversed(cluster.refused) if r.status == status), None)
    if refused is not None:
        cluster.refused.remove(refused)
    if status in (401, 403):
        what = f"not allowed to {refused}" if refused else f"HTTP {status}"
        verdict = "unauthorized" if status == 401 else "forbidden"
        detail = f": {message}" if message else ""
        return AccessDenied(f"{cluster.server} refused the read ({verdict}): {what}{detail}")
    return AgentError(
        f"the API server at {cluster.server} answered HTTP {status}: {message or exc.reason}"
    )


def status_message(body: Any) -> str:
    try:
        decoded = json.loads(body) if body else {}
    except (TypeError, ValueError):
        return str(body)[:200]
    return str(decoded.get("message") or "") if isinstance(decoded, dict) else ""


def connection_reason(exc: BaseException) -> str:
    """The innermost cause, in words: ``connection refused``, ``timed out`` …"""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        exc = reason
    text = str(exc)
    for known in (
        "Connection refused",
        "timed out",
        "Name or service not known",
        "No route to host",
    ):
        if known.lower() in text.lower():
            return known.lower()
    return text.split(": ", 1)[-1] if ": " in text else text or type(exc).__name__


# --- the kubeconfig and the client ---------------------------------------------------------


#: Where kubectl looks for a kubeconfig when ``KUBECONFIG`` is unset or empty.
HOME_KUBECONFIG = "~/.kube/config"


@dataclass(slots=True)
class Cluster:
    """An API client for one kubeconfig context (or the pod's service account), and its namespace."""

    api_client: Any
    server: str
    namespace: str
    refused: list[Refusal] = field(default_factory=list)

    def close(self) -> None:
        self.api_client.close()


def connect(context: str | None) -> Cluster:
    """A client for ``context`` (else the current one) of ``$KUBECONFIG`` / ``~/.kube/config``,
    else, with no kubeconfig file at all, for the pod's service account."""
    from kubernetes import client

    path = _kubeconfig_path()
    if path is None:
        configuration, namespace = _in_cluster(context)
    else:
        configuration, namespace = _from_kubeconfig(path, context)
    configuration.retries = CONNECT_RETRIES
    api_client = client.ApiClient(configuration)
    cluster = Cluster(api_client, configuration.host, namespace)
    api_client.rest_client = _ObservedRest(api_client.rest_client, cluster.refused)  # type: ignore[assignment]
    return cluster


def _kubeconfig_path() -> str | None:
    """``$KUBECONFIG``, else ``~/.kube/config`` if it exists; None when there is no kubeconfig."""
    named = os.environ.get("KUBECONFIG")
    if named:
        return named
    return HOME_KUBECONFIG if os.path.exists(os.path.expanduser(HOME_KUBECONFIG)) else None


def _from_kubeconfig(path: str, context: str | None) -> tuple[Any, str]:
    """The client configuration of ``context`` (else the current one), and its namespace."""
    import yaml
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    try:
        contexts, current = config.list_kube_config_contexts(config_file=path)  # type: ignore[no-untyped-call]
        chosen = current if context is None else _named(contexts, context)
        configuration = client.Configuration()
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=path, context=context, client_configuration=configuration
        )
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise KubeconfigError(f"kubeconfig {path}: malformed YAML{where}: {exc.problem}") from None
    except (ConfigException, OSError, ValueError, yaml.YAMLError) as exc:
        raise KubeconfigError(f"kubeconfig {path}: {_first_line(exc)}") from None
    return configuration, ((chosen or {}).get("context") or {}).get("namespace") or "default"


def _in_cluster(context: str | None) -> tuple[Any, str]:
    """The pod's service account, as kubectl uses it when there is no kubeconfig file."""
    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    nowhere = f"no kubeconfig at {HOME_KUBECONFIG} ({_blank('KUBECONFIG')})"
    if context is not None:
        raise KubeconfigError(f"{nowhere}, so no context {context!r} to use")
    absent = _not_in_cluster()
    if absent is not None:
        raise KubeconfigError(f"{nowhere} and not running in a cluster ({absent})")
    configuration = client.Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    except (ConfigException, OSError) as exc:
        raise KubeconfigError(f"in-cluster service account: {_first_line(exc)}") from None
    return configuration, _pod_namespace()


def _not_in_cluster() -> str | None:
    """Why kubectl would not use the in-cluster configuration here; None when it would."""
    from kubernetes.config import incluster_config

    for variable in (
        incluster_config.SERVICE_HOST_ENV_NAME,
        incluster_config.SERVICE_PORT_ENV_NAME,
    ):
        if not os.environ.get(variable):
            return _blank(variable)
    token = incluster_config.SERVICE_TOKEN_FILENAME
    return None if os.path.isfile(token) else f"no service-account token at {token}"


def _blank(variable: str) -> str:
    """``KUBECONFIG unset`` or ``KUBECONFIG empty``: why a variable says nothing."""
    return f"{variable} {'unset' if os.environ.get(variable) is None else 'empty'}"


def _pod_namespace() -> str:
    """``POD_NAMESPACE``, else the service account's ``namespace`` file beside its token,
    else ``default``: kubectl's namespace inside a pod."""
    from kubernetes.config import incluster_config

    if named := os.environ.get("POD_NAMESPACE"):
        return named
    try:
        text = Path(incluster_config.SERVICE_TOKEN_FILENAME).with_name("namespace").read_text()
    except (OSError, UnicodeDecodeError):
        text = ""
    return text.strip() or "default"


def _named(contexts: list[dict[str, Any]], name: str) -> dict[str, Any]:
    for entry in contexts:
        if entry.get("name") == name:
            return entry
    known = ", ".join(str(c.get("name")) for c in contexts) or "none"
    raise KubeconfigError(f"no context {name!r} in the kubeconfig (contexts: {known})")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


class _ObservedRest(DeadlineRest):
    """The client's REST layer, with a deadline on every request and a note of refusals."""

    def __init__(self, inner: Any, refused: list[Refusal]) -> None:
        super().__init__(inner, REQUEST_TIMEOUT)
        self._refused = refused

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = super().request(method, url, *args, **kwargs)
        if response.status in (401, 403):
            self._refused.append(_refusal(method, url, response.status))
        return response


def _refusal(method: str, url: str, status: int) -> Refusal:
    """What a request asked for, in RBAC's words: ``list pods``, ``get pods/log`` …"""
    parts = [unquote(p) for p in urlsplit(url).path.strip("/").split("/")]
    parts = parts[2:] if parts[:1] == ["api"] else parts[3:]  # drop /api/v1, /apis/g/v
    namespace = None
    if len(parts) >= 3 and parts[0] == "namespaces":
        namespace, parts = parts[1], parts[2:]
    resource = parts[0] if parts else "?"
    if len(parts) >= 3:
        resource = f"{resource}/{parts[2]}"
    verb = {"GET": "list" if len(parts) == 1 else "get"}.get(method.upper(), method.lower())
    return Refusal(verb, resource, namespace, status)
