"""What changed between two pod templates: often the real answer to "why now?".

Compares images, env var names (never values), resources, probes, command/args, volume
mounts, volumes and the container set. Output lines are short, deterministic and safe to show:
command and args are redacted as one command line, so neither ``--db-password X`` nor
``mysql -pX`` shows its value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from highpeaks_agent.engine.redact import DEFAULT_REDACTOR, Redactor


def _containers(template: Mapping[str, Any], key: str) -> dict[str, Mapping[str, Any]]:
    spec = template.get("spec") if isinstance(template, Mapping) else None
    items = spec.get(key) if isinstance(spec, Mapping) else None
    if not isinstance(items, list):
        return {}
    return {str(c.get("name")): c for c in items if isinstance(c, Mapping) and c.get("name")}


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _env_source(var: Mapping[str, Any]) -> str:
    """Where an env var's value comes from, without the value itself."""
    source = var.get("valueFrom")
    if isinstance(source, Mapping):
        return _canon(source)
    return "literal:" + _canon(var.get("value"))


def _short(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, str):
        return value
    return _canon(value)


def diff_pod_templates(
    old: Mapping[str, Any], new: Mapping[str, Any], redactor: Redactor = DEFAULT_REDACTOR
) -> list[str]:
    """Human-readable changes from the ``old`` pod template to the ``new`` one.

    ``redactor`` hides the secrets of the values shown; give it the snapshot's, so literal
    secrets of the objects are known too.
    """
    changes: list[str] = []
    for key, label in (("initContainers", "init container"), ("containers", "container")):
        before, after = _containers(old, key), _containers(new, key)
        for name in sorted(before.keys() - after.keys()):
            changes.append(f"{label} {name} removed")
        for name in sorted(after.keys() - before.keys()):
            changes.append(f"{label} {name} added (image {_short(after[name].get('image'))})")
        for name in sorted(before.keys() & after.keys()):
            changes.extend(
                _container_changes(f"{label} {name}", before[name], after[name], redactor)
            )
    old_spec = old.get("spec") if isinstance(old, Mapping) else None
    new_spec = new.get("spec") if isinstance(new, Mapping) else None
    old_volumes = _named((old_spec or {}).get("volumes") if isinstance(old_spec, Mapping) else None)
    new_volumes = _named((new_spec or {}).get("volumes") if isinstance(new_spec, Mapping) else None)
    for name in sorted(old_volumes.keys() - new_volumes.keys()):
        changes.append(f"volume {name} removed")
    for name in sorted(new_volumes.keys() - old_volumes.keys()):
        changes.append(f"volume {name} added")
    for name in sorted(old_volumes.keys() & new_volumes.keys()):
        if _canon(old_volumes[name]) != _canon(new_volumes[name]):
            changes.append(f"volume {name} source changed")
    for field in ("serviceAccountName", "nodeSelector", "securityContext"):
        a = old_spec.get(field) if isinstance(old_spec, Mapping) else None
        b = new_spec.get(field) if isinstance(new_spec, Mapping) else None
        if _canon(a) != _canon(b):
            changes.append(f"pod {field}: {redactor.text(_short(a))} -> {redactor.text(_short(b))}")
    return changes


def _named(items: Any) -> dict[str, Any]:
    """A list of ``{"name": …}`` entries (containers, env, volumes) keyed by name."""
    if not isinstance(items, list):
        return {}
    return {str(v["name"]): v for v in items if isinstance(v, Mapping) and v.get("name")}


def _container_changes(
    label: str, before: Mapping[str, Any], after: Mapping[str, Any], redactor: Redactor
) -> list[str]:
    changes: list[str] = []
    if before.get("image") != after.get("image"):
        changes.append(
            f"{label} image: {_short(before.get('image'))} -> {_short(after.get('image'))}"
        )
    env_before, env_after = _named(before.get("env")), _named(after.get("env"))
    for name in sorted(env_before.keys() - env_after.keys()):
        changes.append(f"{label} env {name} removed")
    for name in sorted(env_after.keys() - env_before.keys()):
        changes.append(f"{label} env {name} added")
    for name in sorted(env_before.keys() & env_after.keys()):
        if _env_source(env_before[name]) != _env_source(env_after[name]):
            changes.append(f"{label} env {name} value changed")
    if _canon(before.get("envFrom")) != _canon(after.get("envFrom")):
        changes.append(f"{label} envFrom changed")
    changes.extend(_command_changes(label, before, after, redactor))
    resources_before = before.get("resources") or {}
    resources_after = after.get("resources") or {}
    for bucket in ("requests", "limits"):
        a = resources_before.get(bucket) if isinstance(resources_before, Mapping) else None
        b = resources_after.get(bucket) if isinstance(resources_after, Mapping) else None
        a, b = a if isinstance(a, Mapping) else {}, b if isinstance(b, Mapping) else {}
        for resource in sorted(a.keys() | b.keys()):
            if a.get(resource) != b.get(resource):
                changes.append(
                    f"{label} {bucket}.{resource}: {_short(a.get(resource))} -> "
                    f"{_short(b.get(resource))}"
                )
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        a, b = before.get(probe), after.get(probe)
        if _canon(a) != _canon(b):
            verb = "added" if a is None else "removed" if b is None else "changed"
            changes.append(f"{label} {probe} {verb}")
    if _canon(_named(before.get("volumeMounts"))) != _canon(_named(after.get("volumeMounts"))):
        changes.append(f"{label} volumeMounts changed")
    return changes


def _command_changes(
    label: str, before: Mapping[str, Any], after: Mapping[str, Any], redactor: Redactor
) -> list[str]:
    """Changed ``command`` / ``args``, compared as written and shown redacted."""
    shown_before, shown_after = _shown_command(before, redactor), _shown_command(after, redactor)
    changes = []
    for field in ("command", "args"):
        if _canon(before.get(field)) == _canon(after.get(field)):
            continue
        if shown_before[field] == shown_after[field]:  # only a redacted value changed
            changes.append(f"{label} {field} changed (values redacted)")
        else:
            changes.append(f"{label} {field}: {shown_before[field]} -> {shown_after[field]}")
    return changes


def _shown_command(container: Mapping[str, Any], redactor: Redactor) -> dict[str, str]:
    """``command`` and ``args`` as shown: redacted together, as the one command line they are."""
    command, args = container.get("command"), container.get("args")
    if not (_is_argv(command) and _is_argv(args)):  # not lists of strings: show them as text
        return {"command": redactor.text(_short(command)), "args": redactor.text(_short(args))}
    items = [*(command or []), *(args or [])]
    redacted = redactor.argv(items, program=_program(container.get("image")))
    split = len(command or [])
    return {
        "command": _short(redacted[:split] if command is not None else None),
        "args": _short(redacted[split:] if args is not None else None),
    }


def _is_argv(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _program(image: Any) -> str:
    """The image's repository name (``mysql`` for ``docker.io/library/mysql:8.4@sha256:…``).

    When the pod overrides only ``args``, the image's entrypoint is the program they go to.
    """
    if not isinstance(image, str):
        return ""
    name = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return name.split(":", 1)[0]
