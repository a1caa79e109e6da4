"""A crash explained by the crashed instance's own log (CONTRACT §2a).

The log says what failed; the pod spec says why it could: the env var the spec does not set,
the securityContext that makes the file system read-only, the heap flag against the memory
limit. Each code's next step names those, so the reader need not open the spec.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from highpeaks_agent.engine import catalogue
from highpeaks_agent.engine.analyzers.context import ContainerContext, as_list, as_mapping
from highpeaks_agent.engine.crashlog import LogCause, read_cause
from highpeaks_agent.engine.dependencies import dependency_for
from highpeaks_agent.engine.model import Dependency, Finding


def crash_explained_by_log(container: ContainerContext) -> Finding | None:
    """A crash-looping container, init container or failed run-to-completion container whose
    crashed instance's log shows why."""
    if not container.crash_looping or container.exit_code == 0:
        return None
    pod = container.pod
    entry = pod.snapshot.log(pod.namespace or "", pod.name, container.name)
    if entry is None:
        return None
    cause = read_cause(entry.text)
    if cause is None:
        return None
    # the log's key lines are redacted already: a cause line among them needs no second pass
    key_lines = container.logs
    line = cause.line if cause.line in key_lines else pod.snapshot.redactor.text(cause.line)
    dependency = _dependency(container, cause)
    title, step = _WORDING[cause.code](container, cause, dependency)
    # an init container that keeps failing holds the whole pod back: say so, as its bare
    # InitContainerFailing finding would
    consequence = ", so the pod never starts" if container.is_init else ""
    finding = container.finding(
        cause.code,
        f"{container.label} crashes: {title}{consequence}",
        detail="Read from the crashed instance's own log: its first evidence line shows why.",
        # the cause first, then how it ended and the log's last key lines around it
        evidence=[
            line,
            container.exit_line,
            _dependency_line(dependency),
            *(other for other in key_lines if other != line),
        ],
        suggestion=step,
    )
    finding.dependency = dependency
    return finding


_LINKED = frozenset(
    {
        catalogue.CRASH_DEPENDENCY_UNREACHABLE,
        catalogue.CRASH_AUTH_FAILED,
        catalogue.CRASH_TLS_ERROR,
    }
)


def _dependency(container: ContainerContext, cause: LogCause) -> Dependency | None:
    if cause.code not in _LINKED or not cause.host:
        return None
    return dependency_for(cause.host, container.pod.namespace or "", container.pod.snapshot)


def _dependency_line(dependency: Dependency | None) -> str:
    if dependency is None or dependency.service is None:
        return ""
    service = f"Service {dependency.service.namespace}/{dependency.service.name}"
    if not dependency.exists:
        return f"{service} does not exist"
    ready = dependency.ready_endpoints
    line = f"{service}: {'unknown' if ready is None else ready} ready endpoint" + (
        "" if ready == 1 else "s"
    )
    return line + (f", pods of {dependency.workload}" if dependency.workload else "")


# --- each code's title and next step ---------------------------------------------------------

Wording = Callable[[ContainerContext, LogCause, Dependency | None], tuple[str, str]]


def _missing_module(c: ContainerContext, cause: LogCause, _: Dependency | None) -> tuple[str, str]:
    name = cause.subject or "a dependency"
    return (
        f"{name} is not in the image",
        f"Add {name} to the image {c.image} (its requirements, package.json, pom, Gemfile or "
        "system packages) and rebuild; the running code expects it.",
    )


def _config_missing(c: ContainerContext, cause: LogCause, _: Dependency | None) -> tuple[str, str]:
    name = cause.subject
    if name.startswith("/"):
        return f"{name} does not exist", _file_step(c, name)
    if not name:
        return "a required setting is missing", (
            f"Set the setting the log names; container {c.name} sets "
            f"{_env_summary(c.spec) or 'no env vars'}."
        )
    return f"required setting {name} is not set", _env_step(c, name)


def _env_step(c: ContainerContext, name: str) -> str:
    env = {str(e.get("name")): e for e in map(as_mapping, as_list(c.spec.get("env")))}
    if name in env:
        source = _env_source(env[name])
        return (
            f"The pod spec sets {name} on container {c.name} ({source}), but the process does "
            "not accept it: check its value."
        )
    sources = _env_from(c.spec)
    tail = f"; it takes env from {', '.join(sources)}: check that one has {name}" if sources else ""
    return f"The pod spec does not set {name} on container {c.name}: add it under env{tail}."


def _env_source(entry: Mapping[str, Any]) -> str:
    value_from = as_mapping(entry.get("valueFrom"))
    for key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
        ref = as_mapping(value_from.get(key))
        if ref:
            return f"from {kind} {ref.get('name')} key {ref.get('key')}"
    return "a literal value" if "value" in entry else "from a field"


def _env_from(spec: Mapping[str, Any]) -> list[str]:
    found = []
    for source in map(as_mapping, as_list(spec.get("envFrom"))):
        for key, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
            ref = as_mapping(source.get(key))
            if ref.get("name"):
                found.append(f"{kind} {ref['name']}")
    return found


def _env_summary(spec: Mapping[str, Any]) -> str:
    names = [str(as_mapping(e).get("name")) for e in as_list(spec.get("env"))]
    return ", ".join([*names[:8], *_env_from(spec)])


def _file_step(c: ContainerContext, path: str) -> str:
    mount = _mount_for(c, path)
    if mount is None:
        return (
            f"No volume of container {c.name} is mounted at {posixpath.dirname(path)}: mount "
            f"the ConfigMap/Secret that holds {posixpath.basename(path)} there, or build it into "
            f"the image {c.image}."
        )
    mount_path, source = mount
    return (
        f"{path} is under the volume mounted at {mount_path} ({source}): check that it has "
        f"the key {posixpath.basename(path)} (a mount's items or subPath may leave it out)."
    )


def _mount_for(c: ContainerContext, path: str) -> tuple[str, str] | None:
    """The deepest volumeMount holding ``path``, and what its volume is."""
    best: tuple[str, str] | None = None
    volumes = {
        str(as_mapping(v).get("name")): as_mapping(v) for v in as_list(c.pod.spec.get("volumes"))
    }
    for mount in map(as_mapping, as_list(c.spec.get("volumeMounts"))):
        mount_path = str(mount.get("mountPath") or "")
        if not mount_path:
            continue
        inside = path == mount_path or path.startswith(mount_path.rstrip("/") + "/")
        if inside and (best is None or len(mount_path) > len(best[0])):
            best = (mount_path, _volume_source(volumes.get(str(mount.get("name"))), mount))
    return best


def _volume_source(volume: Mapping[str, Any] | None, mount: Mapping[str, Any]) -> str:
    name = str(mount.get("name"))
    if volume is None:
        return f"volume {name}"
    for key, label, field in (
        ("configMap", "ConfigMap", "name"),
        ("secret", "Secret", "secretName"),
        ("persistentVolumeClaim", "PersistentVolumeClaim", "claimName"),
    ):
        source = as_mapping(volume.get(key))
        if source:
            return f"volume {name}: {label} {source.get(field)}"
    if "emptyDir" in volume:
        limit = as_mapping(volume.get("emptyDir")).get("sizeLimit")
        return f"volume {name}: emptyDir" + (f", sizeLimit {limit}" if limit else "")
    return f"volume {name}"


def _config_invalid(c: ContainerContext, cause: LogCause, _: Dependency | None) -> tuple[str, str]:
    where = _position(cause.line)
    subject = f" {cause.subject}" if cause.subject else ""
    return (
        f"its configuration{subject} is rejected",
        f"Fix the configuration{subject} the log names{where}; if it comes from a ConfigMap, "
        f"correct it there ({_config_maps(c) or 'the pod mounts no ConfigMap'}) and restart.",
    )


_POSITION = re.compile(
    r"(line \d+(?:,? column \d+)?|position \d+|at line \d+|:\d+(?=\)|$|\s)|column \d+)", re.I
)


def _position(line: str) -> str:
    match = _POSITION.search(line)
    return f" (at {match.group(1).lstrip(':')})" if match else ""


def _config_maps(c: ContainerContext) -> str:
    volumes = [as_mapping(v) for v in as_list(c.pod.spec.get("volumes"))]
    names = [str(as_mapping(v.get("configMap")).get("name")) for v in volumes if v.get("configMap")]
    names += [s.split(" ", 1)[1] for s in _env_from(c.spec) if s.startswith("ConfigMap ")]
    return ", ".join(f"ConfigMap {n}" for n in dict.fromkeys(names))


def _permission_denied(
    c: ContainerContext, cause: LogCause, _: Dependency | None
) -> tuple[str, str]:
    subject = cause.subject
    context = _security_context(c)
    if subject.isdigit() and int(subject) < 1024:
        port = int(subject)
        user = context.get("runAsUser")
        who = f"runs as user {user}" if user not in (None, 0) else "runs as non-root"
        return f"may not bind port {port}", (
            f"Container {c.name} {who} and port {port} is below 1024: listen on a port >= 1024 "
            "(and point the Service's targetPort at it), or add capability NET_BIND_SERVICE."
        )
    if "read-only file system" in cause.line.lower() or "EROFS" in cause.line:
        return f"cannot write {subject or 'its files'} (read-only file system)", _read_only_step(
            c, subject, context
        )
    user = context.get("runAsUser")
    group = context.get("fsGroup")
    identity = f"runs as user {user}" if user is not None else "runs as the image's user"
    target = subject or "the path in the log"
    return f"permission denied on {target}", (
        f"Container {c.name} {identity}"
        + (f" with fsGroup {group}" if group is not None else " without an fsGroup")
        + f" and may not use {target}: set securityContext.fsGroup (or runAsUser) to the owner "
        "of that path, or make the image's files writable by that user."
    )


def _read_only_step(c: ContainerContext, path: str, context: Mapping[str, Any]) -> str:
    where = posixpath.dirname(path) if path else "the directory it writes"
    mount = _mount_for(c, path) if path else None
    if mount is not None:
        return (
            f"{path} is on the volume mounted at {mount[0]} ({mount[1]}), which is read-only "
            "(ConfigMap and Secret volumes always are): copy the file to a writable emptyDir "
            "or let the process write elsewhere."
        )
    if context.get("readOnlyRootFilesystem") is True:
        return (
            f"securityContext.readOnlyRootFilesystem is true on container {c.name}: mount an "
            f"emptyDir at {where}, or let the process write elsewhere."
        )
    return f"Mount a writable volume (emptyDir) at {where} for container {c.name}."


def _security_context(c: ContainerContext) -> dict[str, Any]:
    """The container's effective securityContext: the pod's, overridden by the container's."""
    pod_level = as_mapping(c.pod.spec.get("securityContext"))
    return {**pod_level, **as_mapping(c.spec.get("securityContext"))}


def _port_in_use(c: ContainerContext, cause: LogCause, _: Dependency | None) -> tuple[str, str]:
    port = cause.subject
    users = [
        str(as_mapping(spec).get("name"))
        for spec in [*as_list(c.pod.spec.get("containers"))]
        if any(
            str(as_mapping(p).get("containerPort")) == port
            for p in as_list(as_mapping(spec).get("ports"))
        )
    ]
    others = [u for u in users if u != c.name]
    shared = "the pod's containers share one network namespace"
    if others:
        step = f"Port {port} is also declared by container {', '.join(others)} ({shared})"
    elif c.pod.spec.get("hostNetwork") is True:
        step = f"The pod uses hostNetwork, so port {port or 'in the log'} is the node's"
    else:
        step = f"Another process in container {c.name} or its pod holds port {port or '?'}"
    return (
        f"port {port or 'it needs'} is already in use",
        step + ": use another port or stop the other user.",
    )


def _unreachable(c: ContainerContext, cause: LogCause, dep: Dependency | None) -> tuple[str, str]:
    host = cause.subject or "a service it needs"
    return f"cannot reach {host}", _service_step(dep, host) or (
        f"Check that {host} is the right address and that it is up and reachable from "
        f"namespace {c.pod.namespace} (DNS, NetworkPolicy)."
    )


def _service_step(dep: Dependency | None, host: str) -> str:
    if dep is None or dep.service is None:
        return ""
    service = f"Service {dep.service.namespace}/{dep.service.name}"
    if not dep.exists:
        return f"{service} does not exist: create it, or fix the host {host} the app is given."
    if dep.workload_root_cause:
        return (
            f"{service} is served by {dep.workload}, which is failing "
            f"({dep.workload_root_cause}): fix that first; this container recovers after it."
        )
    if dep.ready_endpoints == 0:
        behind = f" ({dep.workload})" if dep.workload else " (its selector matches no pod)"
        return f"{service} has no ready endpoints{behind}: make its pods Ready."
    return f"{service} has ready endpoints: check its ports against {host} and any NetworkPolicy."


def _auth_failed(c: ContainerContext, cause: LogCause, dep: Dependency | None) -> tuple[str, str]:
    other = cause.host or "the other service"
    user = f" of user {cause.subject}" if cause.subject else ""
    secrets = _credential_secrets(c)
    where = f"from {'; '.join(secrets)}" if secrets else "from no Secret in its spec"
    return f"{other} rejects its credentials{user}", (
        f"Check that the credentials container {c.name} takes ({where}) match what {other} "
        "expects: a rotated password, a wrong user or database."
        + (f" {_service_step(dep, other)}" if dep is not None and dep.workload_root_cause else "")
    )


_CREDENTIAL_NAME = re.compile(r"PASS|USER|TOKEN|SECRET|KEY|AUTH|CRED|DSN|URL|URI", re.I)


def _credential_secrets(c: ContainerContext) -> list[str]:
    found = []
    for entry in map(as_mapping, as_list(c.spec.get("env"))):
        ref = as_mapping(as_mapping(entry.get("valueFrom")).get("secretKeyRef"))
        if ref and _CREDENTIAL_NAME.search(str(entry.get("name"))):
            found.append(
                f"env {entry.get('name')} from Secret {ref.get('name')} key {ref.get('key')}"
            )
    found += [s for s in _env_from(c.spec) if s.startswith("Secret ")]
    return list(dict.fromkeys(found))


_TLS_PROBLEMS: Final = (
    (re.compile(r"expired|CERT_HAS_EXPIRED", re.I), "its certificate has expired"),
    (
        re.compile(r"unknown authority|unable to get|PKIX|self[- ]signed|first certificate", re.I),
        "its certificate is signed by a CA the container does not trust",
    ),
    (
        re.compile(r"valid for|altname|doesn't match|not valid for|hostname", re.I),
        "its certificate does not name that host",
    ),
)


def _tls_error(c: ContainerContext, cause: LogCause, dep: Dependency | None) -> tuple[str, str]:
    host = cause.subject or "the server"
    problem = next(
        (text for rx, text in _TLS_PROBLEMS if rx.search(cause.line)),
        "its certificate fails verification",
    )
    return f"TLS to {host} fails: {problem}", (
        f"{host}: {problem}. Mount the issuing CA into container {c.name} (a ConfigMap/Secret "
        "bundle and the runtime's trust setting), or renew/reissue the server's certificate."
    )


_HEAP_FLAGS: Final = (
    re.compile(r"-Xmx\S+"),
    re.compile(r"-XX:MaxRAMPercentage=\S+"),
    re.compile(r"--max-old-space-size=\d+"),
    re.compile(r"\bGOMEMLIMIT=\S+"),
    re.compile(r"memory_limit=\S+"),
)


def _out_of_memory(c: ContainerContext, cause: LogCause, _: Dependency | None) -> tuple[str, str]:
    limit = as_mapping(as_mapping(c.spec.get("resources")).get("limits")).get("memory")
    flags = _heap_flags(c.spec)
    setting = ", ".join(flags) if flags else "no heap flag in its command, args or env"
    return "the runtime ran out of memory" + (f" ({cause.subject})" if cause.subject else ""), (
        f"Container {c.name} has {setting} against a memory limit of {limit or 'none'}: raise "
        "the heap setting (keeping it below the limit, with room for the runtime) or the limit, "
        "or find what holds the memory."
    )


def _heap_flags(spec: Mapping[str, Any]) -> list[str]:
    texts = [str(a) for a in [*as_list(spec.get("command")), *as_list(spec.get("args"))]]
    for entry in map(as_mapping, as_list(spec.get("env"))):
        if isinstance(entry.get("value"), str):
            texts.append(f"{entry.get('name')}={entry['value']}")
    found = []
    for text in texts:
        for pattern in _HEAP_FLAGS:
            found.extend(pattern.findall(text))
    return list(dict.fromkeys(found))


def _disk_full(c: ContainerContext, cause: LogCause, _: Dependency | None) -> tuple[str, str]:
    path = cause.subject if cause.subject.startswith("/") else ""
    mount = _mount_for(c, path) if path else None
    storage = as_mapping(as_mapping(c.spec.get("resources")).get("limits")).get("ephemeral-storage")
    if mount is not None:
        where = f"{path} is on the volume mounted at {mount[0]} ({mount[1]}): grow it"
    else:
        where = (
            f"{path or 'The path'} is on the container's own writable layer "
            f"(ephemeral-storage limit {storage or 'unset'}): mount a volume there or grow the "
            "node's disk"
        )
    return f"no space left on {path or 'a device'}", where + ", or clean up what fills it."


def _database_schema(c: ContainerContext, cause: LogCause, _: Dependency | None) -> tuple[str, str]:
    subject = f" {cause.subject}" if cause.subject else ""
    inits = [str(as_mapping(i).get("name")) for i in as_list(c.pod.spec.get("initContainers"))]
    runner = (
        f" (init containers: {', '.join(inits)})" if inits else " (the pod has no init container)"
    )
    return f"the database lacks{subject or ' what it expects'}", (
        f"The database is reached but{subject or ' its schema'} is missing or wrong: run the "
        f"migrations (or create the database) before this version starts{runner}."
    )


def _app_error(c: ContainerContext, cause: LogCause, _: Dependency | None) -> tuple[str, str]:
    where = f" at {cause.frame}" if cause.frame else ""
    return f"unhandled {cause.subject or 'error'}{where}", (
        f"Fix the {cause.subject or 'error'}{where} in the application (image {c.image}); if it "
        "started with a new version, roll back to the previous one meanwhile."
    )


_WORDING: Final[dict[str, Wording]] = {
    catalogue.CRASH_MISSING_MODULE: _missing_module,
    catalogue.CRASH_CONFIG_MISSING: _config_missing,
    catalogue.CRASH_CONFIG_INVALID: _config_invalid,
    catalogue.CRASH_PERMISSION_DENIED: _permission_denied,
    catalogue.CRASH_PORT_IN_USE: _port_in_use,
    catalogue.CRASH_DEPENDENCY_UNREACHABLE: _unreachable,
    catalogue.CRASH_AUTH_FAILED: _auth_failed,
    catalogue.CRASH_TLS_ERROR: _tls_error,
    catalogue.CRASH_OUT_OF_MEMORY: _out_of_memory,
    catalogue.CRASH_DISK_FULL: _disk_full,
    catalogue.CRASH_DATABASE_SCHEMA: _database_schema,
    catalogue.CRASH_APP_ERROR: _app_error,
}
