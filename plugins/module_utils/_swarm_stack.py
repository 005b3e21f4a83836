# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deploy a Docker Swarm stack, wait until it converged, and say how it went.

The logic is plain Python on plain data, so that tests drive it on recorded
`docker service inspect` and task `docker inspect` output:

* render: the Compose definition as deployed, with configs and secrets named
  by a hash of their content and a spec-hash label on every service;
* plan: which services a deploy would add, update or remove;
* evaluate: one service's convergence from its inspect JSON and its tasks';
* verdict: the stack's, from those.

`SwarmStack` reads and changes the swarm through the docker CLI (one runner,
see _docker_cli), and `run_present` / `run_absent` tie it together for the
module.
"""

from __future__ import annotations

import calendar
import contextlib
import copy
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ansible.module_utils.common.yaml import HAS_YAML, yaml_load

try:
    from yaml import YAMLError
except ImportError:  # no PyYAML on the manager: definition files must then be JSON
    YAMLError = ValueError

from ansible_collections.drover.platform.plugins.module_utils._compose_syntax import key_value_list
from ansible_collections.drover.platform.plugins.module_utils._docker_cli import DockerCli, DockerCliError

HASH_LABEL = "io.drover.spec-hash"
NAMESPACE_LABEL = "com.docker.stack.namespace"
NAME_HASH_LENGTH = 10
OBJECT_KINDS = ("configs", "secrets")
RESOLVE_IMAGE = ("always", "changed", "never")
STATES = ("present", "absent")

# The 20.10 CLI reads a file without `version` as Compose file format 1 and
# refuses it; `name:` on configs and secrets needs 3.5.
DEFAULT_COMPOSE_VERSION = "3.9"
NAMED_OBJECTS_VERSION = (3, 5)

_STACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_DIGEST = re.compile(r"@(sha256:[0-9a-f]{64})$")
_TASK_ID = re.compile(r"\btask ([0-9a-z]{25})\b")
_TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)")
_REPLICAS = re.compile(r"(\d+)/(\d+)")
_JOB_COMPLETIONS = re.compile(r"\((\d+)/(\d+) completed\)")

# Service states in a report. A paused or rolled-back update stays that way
# until someone acts, so the wait ends there.
CONVERGED = "converged"
PENDING = "pending"
UPDATING = "updating"
ROLLING_BACK = "rolling_back"
ROLLED_BACK = "rolled_back"
PAUSED = "paused"
MISSING = "missing"
FAILED_STATES = (ROLLED_BACK, PAUSED)

# Restart conditions under which a task that exits 0 is left complete, which
# makes a replicated service a one-shot.
ONE_SHOT_CONDITIONS = ("none", "on-failure")


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


# --- convergence -----------------------------------------------------------


def parse_timestamp(text: Any) -> tuple[int, int]:
    """(seconds, nanoseconds) of an RFC 3339 time as the Engine writes it; Go trims trailing zeros, so no strcmp."""
    match = _TIMESTAMP.fullmatch(str(text or ""))
    if not match:
        return (0, 0)
    moment = calendar.timegm(time.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S"))
    zone = match.group(3)
    offset = 0
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        offset = sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    seconds = moment - offset
    nanos = int((match.group(2) or "0")[:9].ljust(9, "0"))
    return (seconds, nanos)


def _task_age_key(task: Mapping[str, Any]) -> tuple[tuple[int, int], tuple[int, int]]:
    return (parse_timestamp(task.get("CreatedAt")), parse_timestamp((task.get("Status") or {}).get("Timestamp")))


def spec_matches(task_spec: Any, template: Any) -> bool:
    """Whether a task was made from this task template.

    The Engine leaves some defaults out of a task's copy of the spec (the stop
    grace period, the restart policy), so only what both carry is compared.
    """
    if isinstance(task_spec, Mapping) and isinstance(template, Mapping):
        return all(spec_matches(task_spec[key], template[key]) for key in task_spec.keys() & template.keys())
    if isinstance(task_spec, list) and isinstance(template, list):
        return len(task_spec) == len(template) and all(map(spec_matches, task_spec, template))
    return task_spec == template


@dataclass
class ServiceReport:
    """How one service stands, as the module returns it."""

    service: str
    name: str
    id: str | None = None
    mode: str | None = None
    image: str | None = None
    digest: str | None = None
    desired: int = 0
    running: int = 0
    running_previous: int = 0
    completed: int = 0
    update_state: str | None = None
    update_message: str | None = None
    task_error: str | None = None
    spec_hash: str | None = None
    state: str = PENDING

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mode(spec: Mapping[str, Any]) -> str:
    mode = spec.get("Mode") or {}
    for key, name in (
        ("Replicated", "replicated"),
        ("Global", "global"),
        ("ReplicatedJob", "replicated-job"),
        ("GlobalJob", "global-job"),
    ):
        if key in mode:
            return name
    return "replicated"


def _listed_desired(listed: Mapping[str, Any] | None, job: bool) -> int | None:
    """The desired count `docker service ls` shows: n/DESIRED, or (n/DESIRED completed) for a job."""
    text = str((listed or {}).get("Replicas") or "")
    match = (_JOB_COMPLETIONS if job else _REPLICAS).search(text)
    return int(match.group(2)) if match else None


def _split_image(image: str | None) -> tuple[str | None, str | None]:
    if not image:
        return None, None
    match = _DIGEST.search(image)
    if not match:
        return image, None
    return image[: match.start()], match.group(1)


def _task_error(service: Mapping[str, Any], tasks: list[Mapping[str, Any]], converged: bool) -> str | None:
    """The newest task's error; short of convergence, the error of the task the update names, or the newest one."""
    if not tasks:
        return None
    newest_first = sorted(tasks, key=_task_age_key, reverse=True)
    error = (newest_first[0].get("Status") or {}).get("Err")
    if error or converged:
        return error or None
    message = str((service.get("UpdateStatus") or {}).get("Message") or "")
    named = _TASK_ID.search(message)
    if named:
        for task in tasks:
            if task.get("ID") == named.group(1) and (task.get("Status") or {}).get("Err"):
                return str(task["Status"]["Err"])
    for task in newest_first:
        error = (task.get("Status") or {}).get("Err")
        if error:
            return str(error)
    return None


def _counts(
    spec: Mapping[str, Any],
    mode: str,
    service: Mapping[str, Any],
    tasks: list[Mapping[str, Any]],
    listed: Mapping[str, Any] | None,
) -> tuple[int, int, int, list[Mapping[str, Any]]]:
    """desired, running, completed, and the running tasks of the current spec (or job iteration)."""
    template = spec.get("TaskTemplate") or {}
    if mode.endswith("-job"):
        iteration = ((service.get("JobStatus") or {}).get("JobIteration") or {}).get("Index", 0)
        current = [t for t in tasks if (t.get("JobIteration") or {}).get("Index", 0) == iteration]
        running = [t for t in current if (t.get("Status") or {}).get("State") == "running"]
        complete = [t for t in current if (t.get("Status") or {}).get("State") == "complete"]
        if mode == "replicated-job":
            desired = int(((spec.get("Mode") or {}).get("ReplicatedJob") or {}).get("TotalCompletions") or 1)
            done = len(complete)
        else:
            listed_desired = _listed_desired(listed, job=True)
            nodes = {t.get("NodeID") for t in current}
            desired = listed_desired if listed_desired is not None else len(nodes)
            done = len({t.get("NodeID") for t in complete})
        return desired, len(running), done, running

    current = [t for t in tasks if spec_matches(t.get("Spec") or {}, template)]
    running = [
        t for t in current if t.get("DesiredState") == "running" and (t.get("Status") or {}).get("State") == "running"
    ]
    if mode == "global":
        listed_desired = _listed_desired(listed, job=False)
        if listed_desired is None:
            listed_desired = len({t.get("NodeID") for t in tasks if t.get("DesiredState") == "running"})
        return listed_desired, len({t.get("NodeID") for t in running}), 0, running

    desired = int(((spec.get("Mode") or {}).get("Replicated") or {}).get("Replicas", 1))
    completed = 0
    condition = ((template.get("RestartPolicy") or {}).get("Condition")) or "any"
    if condition in ONE_SHOT_CONDITIONS:
        # A one-shot slot is done when its newest task of this spec exited 0.
        newest_by_slot: dict[Any, Mapping[str, Any]] = {}
        for task in sorted(current, key=_task_age_key):
            newest_by_slot[task.get("Slot")] = task
        completed = sum(
            1 for task in newest_by_slot.values() if (task.get("Status") or {}).get("State") == "complete"
        )
    return desired, len(running), completed, running


def evaluate_service(
    key: str,
    service: Mapping[str, Any],
    tasks: Iterable[Mapping[str, Any]],
    expected_hash: str | None = None,
    listed: Mapping[str, Any] | None = None,
) -> ServiceReport:
    """One service's report from its `docker service inspect` and its tasks' `docker inspect`.

    expected_hash is the spec-hash label just deployed: a service that
    carries another one has not taken the new spec, or rolled back from it.
    """
    spec = service.get("Spec") or {}
    service_id = service.get("ID")
    own_tasks = [t for t in tasks if t.get("ServiceID") == service_id]
    mode = _mode(spec)
    desired, running, completed, running_tasks = _counts(spec, mode, service, own_tasks, listed)
    running_ids = {t.get("ID") for t in running_tasks}
    running_previous = sum(
        1
        for t in own_tasks
        if t.get("ID") not in running_ids
        and t.get("DesiredState") == "running"
        and (t.get("Status") or {}).get("State") == "running"
    )
    update = service.get("UpdateStatus") or {}
    update_state = update.get("State") or None
    label = (spec.get("Labels") or {}).get(HASH_LABEL)

    spec_image = ((spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Image")
    newest_running = sorted(running_tasks, key=_task_age_key)[-1:] if running_tasks else []
    task_image = (((newest_running[0].get("Spec") or {}).get("ContainerSpec") or {}).get("Image")
                  if newest_running else None)
    image, digest = _split_image(spec_image)
    _task_name, task_digest = _split_image(task_image)

    if mode.endswith("-job"):
        counts_reached = completed >= desired
    else:
        counts_reached = running + completed >= desired
    if expected_hash is not None and label != expected_hash:
        # After a rollback the service carries its previous spec, label included.
        state = {
            "rollback_completed": ROLLED_BACK,
            "rollback_started": ROLLING_BACK,
            "rollback_paused": PAUSED,
            "paused": PAUSED,
        }.get(update_state or "", PENDING)
    elif update_state in ("paused", "rollback_paused"):
        state = PAUSED
    elif update_state == "updating":
        state = UPDATING
    elif update_state == "rollback_started":
        state = ROLLING_BACK
    elif update_state == "rollback_completed" and expected_hash is None:
        state = ROLLED_BACK
    else:
        # completed, none yet, or a rollback back to the very spec wanted now.
        state = CONVERGED if counts_reached else PENDING

    return ServiceReport(
        service=key,
        name=str(spec.get("Name", key)),
        id=service_id,
        mode=mode,
        image=image,
        digest=task_digest or digest,
        desired=desired,
        running=running,
        running_previous=running_previous,
        completed=completed,
        update_state=update_state,
        update_message=update.get("Message") or None,
        task_error=_task_error(service, own_tasks, state == CONVERGED),
        spec_hash=label,
        state=state,
    )


@dataclass
class Snapshot:
    """The stack's services and tasks as the CLI printed them at one moment."""

    listed: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)


def evaluate_stack(
    stack: str, snapshot: Snapshot, expected: Mapping[str, str | None]
) -> dict[str, ServiceReport]:
    """A report per service of the definition (key -> spec hash expected, or None to describe what runs)."""
    by_key = {}
    for service in snapshot.services:
        by_key[service_key(stack, str((service.get("Spec") or {}).get("Name", "")))] = service
    listed_by_id = {str(item.get("ID", "")): item for item in snapshot.listed}
    reports = {}
    for key, expected_hash in expected.items():
        service = by_key.get(key)
        if service is None:
            reports[key] = ServiceReport(service=key, name=f"{stack}_{key}", state=MISSING)
            continue
        service_id = str(service.get("ID", ""))
        listed = next((item for short, item in listed_by_id.items() if short and service_id.startswith(short)), None)
        reports[key] = evaluate_service(key, service, snapshot.tasks, expected_hash, listed)
    return reports


def verdict(reports: Mapping[str, ServiceReport]) -> str:
    """converged, failed (a service rolled back or paused), or waiting."""
    states = [report.state for report in reports.values()]
    if any(state in FAILED_STATES for state in states):
        return "failed"
    if all(state == CONVERGED for state in states):
        return "converged"
    return "waiting"


def describe(report: ServiceReport) -> str:
    """One service's trouble, in a sentence."""
    if report.state == ROLLED_BACK:
        text = f"{report.service} rolled back"
    elif report.state == PAUSED:
        text = f"{report.service} update paused"
    elif report.state == MISSING:
        text = f"{report.service} was not created"
    else:
        text = f"{report.service} {report.state.replace('_', ' ')}, {report.running}/{report.desired} running"
        if report.completed:
            text += f", {report.completed} completed"
    if report.update_message and report.state in FAILED_STATES:
        text += f" ({report.update_message})"
    if report.task_error:
        text += f"; task error: {report.task_error}"
    return text


def failure_message(stack: str, reports: Mapping[str, ServiceReport], timed_out: bool, timeout: float) -> str:
    troubled = [report for report in reports.values() if report.state != CONVERGED]
    failed = [report for report in troubled if report.state in FAILED_STATES]
    shown = failed or troubled
    details = "; ".join(describe(report) for report in shown)
    if failed:
        return f"stack {stack} did not converge: {details}"
    if timed_out:
        return f"stack {stack} did not converge within {timeout:g} seconds: {details}"
    return f"stack {stack} did not converge: {details}"


# --- the swarm, through the CLI ---------------------------------------------


@dataclass
class Leftovers:
    """What of a stack is still there after `docker stack rm`.

    orphaned_tasks are tasks of replicated-job or global-job services that
    finished: Engine 20.10 never deletes them once their service is removed
    (moby/moby#44312, fixed in later Engines), so they are reported, not
    waited for; their stopped containers likewise.
    """

    services: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    configs: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    orphaned_tasks: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(items for kind, items in asdict(self).items() if kind != "orphaned_tasks")

    def describe(self) -> str:
        return ", ".join(f"{len(items)} {kind}" for kind, items in asdict(self).items() if items) or "nothing"


TERMINAL_TASK_STATES = ("complete", "shutdown", "failed", "rejected", "remove", "orphaned")


def is_orphaned_job_task(task: Mapping[str, Any], service_ids: Iterable[str]) -> bool:
    """A finished job task whose service is gone: Engine 20.10 keeps it for good."""
    return (
        task.get("ServiceID") not in set(service_ids)
        and task.get("DesiredState") == "complete"
        and (task.get("Status") or {}).get("State") in TERMINAL_TASK_STATES
    )


def _matching_ids(short_ids: list[str], task: Mapping[str, Any]) -> list[str]:
    """The task's service ID if `docker service ls` (which prints short IDs) still lists it."""
    service_id = str(task.get("ServiceID", ""))
    return [service_id] if any(service_id.startswith(short) for short in short_ids) else []


class SwarmStack:
    """One stack on the swarm this manager belongs to."""

    def __init__(self, cli: DockerCli, name: str) -> None:
        self.cli = cli
        self.name = name

    @property
    def label_filter(self) -> str:
        return f"label={NAMESPACE_LABEL}={self.name}"

    def snapshot(self) -> Snapshot:
        listed = self.cli.json_lines(["service", "ls", "--filter", self.label_filter, "--format", "{{json .}}"])
        if not listed:
            return Snapshot()
        ids = [str(item["ID"]) for item in listed]
        services = self.cli.json(["service", "inspect", *ids])
        task_ids = list(dict.fromkeys(self.cli.lines(["service", "ps", "-q", "--no-trunc", *ids])))
        return Snapshot(listed=listed, services=services, tasks=self.inspect_tasks(task_ids))

    def inspect_tasks(self, task_ids: list[str]) -> list[Any]:
        """The tasks still there: swarm removes tasks between a listing and their inspection."""
        if not task_ids:
            return []
        result = self.cli.run(["inspect", "--type", "task", *task_ids], check=False)
        errors = [line for line in result.stderr.splitlines() if line.strip()]
        if result.rc != 0 and not all("No such task" in line for line in errors):
            raise DockerCliError(result.argv, result.rc, result.stdout, result.stderr)
        try:
            return json.loads(result.stdout) if result.stdout.strip() else []
        except ValueError as error:
            raise DockerCliError(result.argv, result.rc, result.stdout, result.stderr, f"not JSON: {error}") from None

    def deploy_argv(self, compose: str, prune: bool, with_registry_auth: bool, resolve_image: str) -> list[str]:
        argv = ["stack", "deploy", "--compose-file", compose]
        if prune:
            argv.append("--prune")
        if with_registry_auth:
            argv.append("--with-registry-auth")
        argv += ["--resolve-image", resolve_image]
        if self._deploy_has_detach():
            # Newer CLIs can wait themselves, without a timeout or a report.
            argv.append("--detach=true")
        return [*argv, self.name]

    def _deploy_has_detach(self) -> bool:
        return "--detach" in self.cli.run(["stack", "deploy", "--help"]).stdout

    def deploy(self, compose: str, prune: bool, with_registry_auth: bool, resolve_image: str) -> list[str]:
        argv = self.deploy_argv(compose, prune, with_registry_auth, resolve_image)
        return self.cli.lines(argv)

    def leftovers(self) -> Leftovers:
        def names(args: list[str]) -> list[str]:
            return self.cli.lines([*args, "--filter", self.label_filter, "--format", "{{.Name}}"])

        services = self.cli.lines(["service", "ls", "--filter", self.label_filter, "--format", "{{.ID}} {{.Name}}"])
        service_ids = [line.split()[0] for line in services]
        listed = self.cli.run(["stack", "ps", "-q", "--no-trunc", self.name], check=False)
        if listed.rc != 0 and "nothing found in stack" not in (listed.stderr + listed.stdout).lower():
            raise DockerCliError(listed.argv, listed.rc, listed.stdout, listed.stderr)
        task_ids = list(dict.fromkeys(line.strip() for line in listed.stdout.splitlines() if line.strip()))
        tasks = self.inspect_tasks(task_ids) if listed.rc == 0 else []
        orphaned = [str(t["ID"]) for t in tasks if is_orphaned_job_task(t, _matching_ids(service_ids, t))]
        containers = []
        for line in self.cli.lines(
            ["ps", "-a", "--filter", self.label_filter, "--format", '{{.ID}} {{.Label "com.docker.swarm.task.id"}}']
        ):
            container, _space, task = line.partition(" ")
            if task.strip() not in orphaned:
                containers.append(container)
        return Leftovers(
            services=[line.split(maxsplit=1)[-1] for line in services],
            tasks=[str(t["ID"]) for t in tasks if str(t["ID"]) not in orphaned],
            containers=containers,
            networks=names(["network", "ls"]),
            configs=names(["config", "ls"]),
            secrets=names(["secret", "ls"]),
            orphaned_tasks=orphaned,
        )

    def remove(self) -> str:
        """`docker stack rm`; its complaints about networks still in use are expected while tasks stop."""
        result = self.cli.run(["stack", "rm", self.name], check=False)
        return (result.stderr or result.stdout).strip() if result.rc != 0 else ""


# --- the module's two states -------------------------------------------------


@dataclass
class Options:
    """The module's options that steer the deploy and the wait."""

    name: str
    timeout: float = 300
    poll_interval: float = 2
    prune: bool = False
    with_registry_auth: bool = False
    resolve_image: str = "never"
    check_mode: bool = False
    diff: bool = False


@dataclass
class Outcome:
    """The module's result, and the message to fail with when it did not go well."""

    result: dict[str, Any]
    failure: str | None = None
    warnings: list[str] = field(default_factory=list)


Clock = Callable[[], float]
Sleep = Callable[[float], None]


def run_present(
    stack: SwarmStack,
    rendered: Rendered,
    options: Options,
    stage_files: Callable[[Rendered], Any],
    clock: Clock | None = None,
    sleep: Sleep | None = None,
) -> Outcome:
    """Deploy when a service changed, then wait for every service of the definition to converge.

    stage_files is a context manager factory: it writes the Compose file (see
    stage()) and yields its path, removing what it wrote afterwards.
    """
    clock = clock or time.monotonic
    started = clock()
    before = stack.snapshot()
    plan = plan_changes(stack.name, rendered, before.services, options.prune, options.resolve_image)
    result: dict[str, Any] = {
        "changed": plan.changed,
        "stack": stack.name,
        "services_added": plan.added,
        "services_updated": plan.updated,
        "services_removed": plan.removed,
        "change_reasons": plan.reasons,
        "configs": rendered.names.get("configs", {}),
        "secrets": rendered.names.get("secrets", {}),
        "deployed": False,
    }
    if options.diff:
        result["diff"] = service_diff(stack.name, rendered, before.services, plan)

    if options.check_mode:
        # What runs now, read once: nothing was deployed to wait for.
        reports = evaluate_stack(stack.name, before, dict.fromkeys(rendered.hashes))
        result["services"] = {key: report.as_dict() for key, report in reports.items()}
        result["elapsed"] = round(clock() - started, 3)
        return Outcome(result)

    if plan.changed:
        with stage_files(rendered) as compose:
            result["deploy_output"] = stack.deploy(
                compose, options.prune, options.with_registry_auth, options.resolve_image
            )
        result["deployed"] = True

    reports, timed_out, last_error = wait_for_convergence(stack, rendered.hashes, options, clock, sleep)
    result["services"] = {key: report.as_dict() for key, report in reports.items()}
    result["elapsed"] = round(clock() - started, 3)
    outcome = verdict(reports)
    if outcome == "converged":
        return Outcome(result)
    message = failure_message(stack.name, reports, timed_out, options.timeout)
    if last_error is not None:
        message += f"; the last read of the swarm failed: {last_error}"
    return Outcome(result, failure=message)


def wait_for_convergence(
    stack: SwarmStack,
    expected: Mapping[str, str],
    options: Options,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
) -> tuple[dict[str, ServiceReport], bool, DockerCliError | None]:
    """Poll until every service converged, one failed for good, or the timeout: (reports, timed out, last CLI error)."""
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    deadline = clock() + options.timeout
    reports: dict[str, ServiceReport] = {}
    last_error: DockerCliError | None = None
    while True:
        try:
            reports = evaluate_stack(stack.name, stack.snapshot(), expected)
            last_error = None
        except DockerCliError as error:
            # A task or service can go between listing and inspecting it.
            last_error = error
        if reports and last_error is None and verdict(reports) != "waiting":
            return reports, False, None
        if clock() >= deadline:
            if not reports and last_error is not None:
                raise last_error
            return reports, True, last_error
        sleep(min(options.poll_interval, max(deadline - clock(), 0)))


def run_absent(
    stack: SwarmStack,
    options: Options,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
) -> Outcome:
    """`docker stack rm`, then wait until its services, tasks, containers and networks are gone."""
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    started = clock()
    found = stack.leftovers()
    result: dict[str, Any] = {
        "changed": not found.empty,
        "stack": stack.name,
        "services_removed": [service_key(stack.name, name) for name in found.services],
        "deployed": False,
    }
    if options.diff:
        result["diff"] = {"before": asdict(found), "after": asdict(Leftovers())}
    if found.empty or options.check_mode:
        result["elapsed"] = round(clock() - started, 3)
        return Outcome(result)

    deadline = clock() + options.timeout
    complaint = stack.remove()
    while True:
        left = stack.leftovers()
        if left.empty:
            result["elapsed"] = round(clock() - started, 3)
            outcome = Outcome(result)
            if left.orphaned_tasks:
                result["orphaned_tasks"] = left.orphaned_tasks
                outcome.warnings.append(
                    f"{len(left.orphaned_tasks)} finished job task(s) of stack {stack.name} stay listed by "
                    "`docker stack ps`: this Engine does not delete the tasks of removed job services "
                    "(moby/moby#44312); they go when the managers restart or the leader changes"
                )
            return outcome
        if clock() >= deadline:
            result["elapsed"] = round(clock() - started, 3)
            result["leftovers"] = asdict(left)
            message = f"stack {stack.name} was not gone within {options.timeout:g} seconds: {left.describe()} left"
            if complaint:
                message += f"; docker stack rm said: {complaint}"
            return Outcome(result, failure=message)
        if not left.services and not left.tasks and (left.networks or left.configs or left.secrets):
            # The tasks are gone, so what refused to go before can go now.
            complaint = stack.remove()
        sleep(min(options.poll_interval, max(deadline - clock(), 0)))
