# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Swarm stack's definition as it is deployed, and what a deploy would change.

Plain Python on plain data, so that tests drive it without a swarm:

* render: the Compose definition as deployed, with configs and secrets named
  by a hash of their content and a spec-hash label on every service;
* stage: the rendered file and inline configs and secrets written for
  `docker stack deploy`;
* plan: which services a deploy would add, update or remove, from the
  services' `docker service inspect` output.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible.module_utils.common.yaml import HAS_YAML, yaml_load

try:
    from yaml import YAMLError
except ImportError:  # no PyYAML on the manager: definition files must then be JSON
    YAMLError = ValueError

from ansible_collections.drover.platform.plugins.module_utils._compose_syntax import key_value_list

HASH_LABEL = "io.drover.spec-hash"
NAME_HASH_LENGTH = 10
OBJECT_KINDS = ("configs", "secrets")

# The 20.10 CLI reads a file without `version` as Compose file format 1 and
# refuses it; `name:` on configs and secrets needs 3.5.
DEFAULT_COMPOSE_VERSION = "3.9"
NAMED_OBJECTS_VERSION = (3, 5)

_STACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class SwarmStackError(Exception):
    """Base of this module's errors; the message says what to do."""


class DefinitionError(SwarmStackError):
    """A stack definition this module cannot deploy."""


# --- rendering -------------------------------------------------------------


@dataclass
class StagedObject:
    """A config or secret given inline: written to a file just before the deploy."""

    kind: str
    key: str
    name: str
    data: bytes


@dataclass
class Rendered:
    """The definition as it is deployed, and what that took."""

    definition: dict[str, Any]
    hashes: dict[str, str]
    names: dict[str, dict[str, str]]
    staged: list[StagedObject] = field(default_factory=list)
    secret_values: list[str] = field(default_factory=list)

    @property
    def services(self) -> dict[str, Any]:
        return self.definition.get("services") or {}


def check_stack_name(name: str) -> None:
    if not _STACK_NAME.fullmatch(name):
        raise DefinitionError(
            f"{name!r} is not a stack name: use letters, digits, '_', '-' and '.', starting with a letter or digit"
        )


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _version_tuple(version: Any) -> tuple[int, int] | None:
    match = re.fullmatch(r"(\d+)(?:\.(\d+))?", str(version).strip())
    if not match:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def _as_mapping(value: Any, where: str) -> dict[str, Any]:
    """Compose's two spellings of labels and environment: a mapping, or a list of KEY=VALUE."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, list):
        return key_value_list(value)
    raise DefinitionError(f"{where} must be a mapping or a list of KEY=VALUE, not {type(value).__name__}")


def _resolve_path(path: str, base_dir: str | None, where: str) -> str:
    path = os.path.expanduser(path)
    if os.path.isabs(path):
        return os.path.normpath(path)
    if base_dir is None:
        raise DefinitionError(
            f"{where} is the relative path {path!r}; with definition (rather than definition_file) give an absolute "
            "path on the manager"
        )
    return os.path.normpath(os.path.join(base_dir, path))


def _is_relative_source(source: str) -> bool:
    return source.startswith(("./", "../", "~")) or source in (".", "..")


def _absolute_paths(key: str, service: dict[str, Any], base_dir: str | None) -> None:
    """Make the paths the CLI would take relative to the Compose file absolute: it is deployed from elsewhere."""
    env_file = service.get("env_file")
    if isinstance(env_file, str):
        service["env_file"] = _resolve_path(env_file, base_dir, f"services.{key}.env_file")
    elif isinstance(env_file, list):
        service["env_file"] = [_resolve_path(str(item), base_dir, f"services.{key}.env_file") for item in env_file]
    volumes = service.get("volumes")
    if not isinstance(volumes, list):
        return
    for index, volume in enumerate(volumes):
        where = f"services.{key}.volumes[{index}]"
        if isinstance(volume, str):
            source, colon, rest = volume.partition(":")
            if colon and _is_relative_source(source):
                volumes[index] = f"{_resolve_path(source, base_dir, where)}:{rest}"
        elif isinstance(volume, Mapping) and volume.get("type") == "bind":
            source = str(volume.get("source", ""))
            if _is_relative_source(source):
                volumes[index] = {**volume, "source": _resolve_path(source, base_dir, where)}


def _object_name(stack: str, kind: str, key: str, entry: Mapping[str, Any], data: bytes) -> str:
    """<stack>_<key>_<10 hex> (or <name>_<10 hex> with a name: of the user's), hashed over what makes the object."""
    extras = {option: entry[option] for option in ("driver", "driver_opts", "template_driver") if option in entry}
    digest = sha256_hex(data + (b"\0" + canonical_json(extras).encode() if extras else b""))
    base = str(entry["name"]) if entry.get("name") else f"{stack}_{key}"
    return f"{base}_{digest[:NAME_HASH_LENGTH]}"


def _render_objects(
    stack: str,
    kind: str,
    entries: Mapping[str, Any],
    base_dir: str | None,
    read_file: Callable[[str], bytes],
    rendered: Rendered,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    names: dict[str, str] = {}
    for key, entry in entries.items():
        where = f"{kind}.{key}"
        entry = dict(entry or {})
        external = entry.get("external")
        if external:
            if isinstance(external, Mapping) and external.get("name"):
                names[key] = str(external["name"])
            else:
                names[key] = str(entry.get("name") or key)
            out[key] = entry
            continue
        if "file" in entry and "content" in entry:
            raise DefinitionError(f"{where} has both file and content; give one")
        if "content" in entry:
            content = entry.pop("content")
            if not isinstance(content, str):
                raise DefinitionError(f"{where}.content must be a string, not {type(content).__name__}")
            data = content.encode()
            if kind == "secrets" and content:
                rendered.secret_values.append(content)
            name = _object_name(stack, kind, key, entry, data)
            rendered.staged.append(StagedObject(kind=kind, key=key, name=name, data=data))
            entry["file"] = None  # filled in by stage()
        elif "file" in entry:
            path = _resolve_path(str(entry["file"]), base_dir, f"{where}.file")
            try:
                data = read_file(path)
            except OSError as error:
                raise DefinitionError(f"cannot read {where}.file {path}: {error.strerror or error}") from None
            name = _object_name(stack, kind, key, entry, data)
            entry["file"] = path
        else:
            # environment:, a driver without content: nothing to read, so the
            # name stays what the CLI would make of it.
            names[key] = str(entry.get("name") or f"{stack}_{key}")
            out[key] = entry
            continue
        entry["name"] = name
        names[key] = name
        out[key] = entry
    rendered.names[kind] = names
    return out


def _references(service: Mapping[str, Any], kind: str) -> list[str]:
    keys = []
    for item in service.get(kind) or []:
        key = item.get("source") if isinstance(item, Mapping) else item
        if key is not None:
            keys.append(str(key))
    return keys


def normalise_service(service: Mapping[str, Any]) -> dict[str, Any]:
    """A service definition as it is hashed: one spelling for labels and environment, without the hash label."""
    normal = copy.deepcopy(dict(service))
    for option in ("environment", "labels"):
        if option in normal:
            normal[option] = _as_mapping(normal[option], option)
    deploy = normal.get("deploy")
    if isinstance(deploy, Mapping):
        deploy = dict(deploy)
        labels = _as_mapping(deploy.get("labels"), "deploy.labels")
        labels.pop(HASH_LABEL, None)
        if labels:
            deploy["labels"] = labels
        else:
            deploy.pop("labels", None)
        if deploy:
            normal["deploy"] = deploy
        else:
            normal.pop("deploy")
    return normal


def spec_hash(service: Mapping[str, Any], names: Mapping[str, Mapping[str, str]]) -> str:
    """sha256 of the normalised service definition and of the names of the configs and secrets it uses."""
    used = {}
    for kind in OBJECT_KINDS:
        kind_names = names.get(kind, {})
        used[kind] = sorted({kind_names.get(key, key) for key in _references(service, kind)})
    return sha256_hex(canonical_json({"service": normalise_service(service), **used}))


def render(
    stack: str,
    definition: Mapping[str, Any],
    base_dir: str | None = None,
    read_file: Callable[[str], bytes] | None = None,
) -> Rendered:
    """The definition as deployed: hashed config and secret names, absolute paths, a spec-hash label per service."""
    check_stack_name(stack)
    if not isinstance(definition, Mapping):
        raise DefinitionError(f"the stack definition must be a mapping, not {type(definition).__name__}")
    services = definition.get("services")
    if not isinstance(services, Mapping) or not services:
        raise DefinitionError("the stack definition has no services: give a Compose file with a services: mapping")
    reader = read_file or _read_bytes
    out = copy.deepcopy(dict(definition))
    rendered = Rendered(definition=out, hashes={}, names={})

    named = False
    for kind in OBJECT_KINDS:
        entries = out.get(kind)
        if entries is None:
            rendered.names[kind] = {}
            continue
        if not isinstance(entries, Mapping):
            raise DefinitionError(f"{kind} must be a mapping of names to definitions")
        out[kind] = _render_objects(stack, kind, entries, base_dir, reader, rendered)
        named = named or any(isinstance(entry, Mapping) and "name" in entry for entry in out[kind].values())

    version = out.get("version")
    if version is None:
        out["version"] = DEFAULT_COMPOSE_VERSION
    else:
        parsed = _version_tuple(version)
        if named and parsed is not None and parsed[0] == 3 and parsed < NAMED_OBJECTS_VERSION:
            out["version"] = ".".join(map(str, NAMED_OBJECTS_VERSION))
        else:
            out["version"] = str(version)

    for key, service in services.items():
        if not isinstance(service, Mapping):
            raise DefinitionError(f"services.{key} must be a mapping")
        for kind in OBJECT_KINDS:
            unknown = [ref for ref in _references(service, kind) if ref not in rendered.names[kind]]
            if unknown:
                raise DefinitionError(
                    f"services.{key} uses {kind} {', '.join(unknown)}, which the top-level {kind}: does not define"
                )
        rendered_service = copy.deepcopy(dict(service))
        _absolute_paths(str(key), rendered_service, base_dir)
        digest = spec_hash(rendered_service, rendered.names)
        deploy = dict(rendered_service.get("deploy") or {})
        labels = _as_mapping(deploy.get("labels"), f"services.{key}.deploy.labels")
        labels[HASH_LABEL] = digest
        deploy["labels"] = labels
        rendered_service["deploy"] = deploy
        out["services"][key] = rendered_service
        rendered.hashes[str(key)] = digest
    return rendered


def _read_bytes(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def stage(rendered: Rendered, directory: str) -> str:
    """Write the inline configs and secrets and the Compose file under directory; returns the Compose file's path."""
    definition = copy.deepcopy(rendered.definition)
    for staged in rendered.staged:
        path = os.path.join(directory, f"{staged.kind}-{staged.name}")
        _write_private(path, staged.data)
        definition[staged.kind][staged.key]["file"] = path
    compose = os.path.join(directory, "stack.json")
    # JSON is YAML, and it needs no YAML library on the manager.
    _write_private(compose, canonical_json(definition).encode())
    return compose


@contextlib.contextmanager
def staged_compose(rendered: Rendered, parent: str | None = None) -> Iterator[str]:
    """stage() into a private scratch folder, removed again however the deploy went (it may hold secrets)."""
    directory = tempfile.mkdtemp(prefix="drover-stack-", dir=parent)
    try:
        yield stage(rendered, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def load_definition_file(path: str) -> dict[str, Any]:
    """A Compose file on the manager: YAML, or JSON when the manager's Python has no YAML library."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    try:
        if HAS_YAML:
            data = yaml_load(text)
        else:
            data = json.loads(text)
    except (ValueError, YAMLError) as error:
        hint = "" if HAS_YAML else " (PyYAML is not installed on the manager, so only JSON can be read)"
        raise DefinitionError(f"{path} is not a Compose file{hint}: {error}") from None
    if not isinstance(data, dict):
        raise DefinitionError(f"{path} does not hold a Compose mapping (services: ...)")
    return data


def _write_private(path: str, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


# --- plan ------------------------------------------------------------------


@dataclass
class Plan:
    """What a deploy changes, service by service (keys of the definition)."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def service_key(stack: str, service_name: str) -> str:
    """The definition's key for a swarm service of the stack: web for mystack_web."""
    prefix = f"{stack}_"
    return service_name[len(prefix):] if service_name.startswith(prefix) else service_name


def _labels(service: Mapping[str, Any]) -> dict[str, str]:
    return dict((service.get("Spec") or {}).get("Labels") or {})


def _container_spec(service: Mapping[str, Any]) -> dict[str, Any]:
    return dict(((service.get("Spec") or {}).get("TaskTemplate") or {}).get("ContainerSpec") or {})


def _as_int(value: Any) -> int | None:
    """An integer, or None for what only the CLI can read (${REPLICAS}, say)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _drift(definition: Mapping[str, Any], service: Mapping[str, Any], resolve_image: str) -> str | None:
    """A hand-made change the spec-hash label cannot show: `docker service scale`, or `update --image`."""
    mode = (service.get("Spec") or {}).get("Mode") or {}
    deploy = definition.get("deploy") or {}
    if "Replicated" in mode and deploy.get("mode", "replicated") == "replicated":
        wanted = _as_int(deploy.get("replicas", 1))
        running = int((mode.get("Replicated") or {}).get("Replicas", 1))
        if wanted is not None and wanted != running:
            return f"scaled to {running} replicas outside the stack, the definition says {wanted}"
    # The CLI sends the image as written unless it resolves it to a digest.
    image = _container_spec(service).get("Image")
    if resolve_image == "never" and definition.get("image") and image and image != definition["image"]:
        return f"runs image {image} set outside the stack, the definition says {definition['image']}"
    return None


def plan_changes(
    stack: str,
    rendered: Rendered,
    services: Iterable[Mapping[str, Any]],
    prune: bool = False,
    resolve_image: str = "never",
) -> Plan:
    """Compare the running services' spec-hash labels (and replicas, image) with the rendered definition."""
    plan = Plan()
    running = {}
    for service in services:
        name = str((service.get("Spec") or {}).get("Name", ""))
        running[service_key(stack, name)] = service
    for key, digest in rendered.hashes.items():
        service = running.get(key)
        if service is None:
            plan.added.append(key)
            plan.reasons[key] = "not deployed yet"
            continue
        label = _labels(service).get(HASH_LABEL)
        drift = _drift(rendered.services[key], service, resolve_image)
        if label != digest:
            plan.updated.append(key)
            plan.reasons[key] = "spec changed" if label else "deployed without a spec-hash label"
        elif drift:
            plan.updated.append(key)
            plan.reasons[key] = drift
        else:
            plan.unchanged.append(key)
    if prune:
        for key in running:
            if key not in rendered.hashes:
                plan.removed.append(key)
                plan.reasons[key] = "no longer in the definition"
    return plan


def service_diff(
    stack: str, rendered: Rendered, services: Iterable[Mapping[str, Any]], plan: Plan
) -> dict[str, dict[str, Any]]:
    """before: each changed service's hash label and image as running; after: its rendered definition."""
    running = {service_key(stack, str((s.get("Spec") or {}).get("Name", ""))): s for s in services}
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in plan.added + plan.updated + plan.removed:
        service = running.get(key)
        if service is not None:
            before[key] = {
                "spec_hash": _labels(service).get(HASH_LABEL),
                "image": _container_spec(service).get("Image"),
            }
        if key in rendered.services:
            after[key] = rendered.services[key]
    return {"before": before, "after": after}
