# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One Compose service's keys, read into a `Service` of the model."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    AppDefinitionError,
    Dependency,
    FileRef,
    Healthcheck,
    Mount,
    NetworkAttachment,
    Placement,
    Port,
    RestartPolicy,
    Service,
    UpdatePolicy,
)
from ansible_collections.drover.platform.plugins.module_utils._compose_interpolation import (
    parse_env_file,
)
from ansible_collections.drover.platform.plugins.module_utils._compose_syntax import key_value_list
from ansible_collections.drover.platform.plugins.module_utils._compose_values import (
    _int,
    _mapping,
    _port_number,
    _project_path,
    _read_text,
    _resource_value,
    _resource_values,
    _scalar_text,
    _string_list,
    parse_bytes,
    parse_duration,
    update_resources,
)

_SERVICE_NAME = re.compile(r"[a-zA-Z0-9._-]+")
_PROPAGATIONS = ("shared", "slave", "private", "rshared", "rslave", "rprivate")

# `restart:` as a restart policy condition.
_RESTART_CONDITIONS = {"no": "none", "always": "any", "unless-stopped": "any", "on-failure": "on-failure"}

# Service keys the model reads. Anything else stays in Service.options.
_SERVICE_KEYS = frozenset(
    (
        "image build command entrypoint environment env_file ports expose volumes tmpfs healthcheck deploy labels "
        "configs secrets networks user working_dir stop_grace_period restart depends_on profiles scale mem_limit "
        "mem_reservation cpus pids_limit develop extends"
    ).split()
)
_DEPLOY_KEYS = frozenset(
    "mode replicas labels resources placement restart_policy update_config rollback_config endpoint_mode".split()
)


def _as_env_mapping(value: Any, where: str) -> dict[str, Any]:
    """environment / labels: a mapping, or a list of KEY=VALUE (KEY alone: no value)."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(key): item for key, item in value.items()}
    if isinstance(value, list):
        return key_value_list(value)
    raise AppDefinitionError(f"{where} must be a mapping or a list of KEY=VALUE, not {type(value).__name__}")


def _label_text(value: Any) -> str:
    """A label's value; a label without one (null, or KEY alone in the list form) is empty, as Compose has it."""
    return "" if value is None else _scalar_text(value)


def _command(value: Any, where: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as failure:
            raise AppDefinitionError(f"{where} cannot be split into words: {failure}") from None
    if isinstance(value, list):
        return [_scalar_text(item) for item in value]
    raise AppDefinitionError(f"{where} must be a string or a list of strings")


def _port_range(text: str, where: str) -> list[int]:
    first, dash, last = text.partition("-")
    start = _port_number(first, where, AppDefinitionError)
    end = _port_number(last, where, AppDefinitionError) if dash else start
    if end < start:
        raise AppDefinitionError(f"{where}: the range {text} runs backwards")
    return list(range(start, end + 1))


def _port_pairs(published: str | None, target: str, where: str) -> list[tuple[int | None, int]]:
    targets = _port_range(target, where)
    if published is None or published == "":
        return [(None, port) for port in targets]
    publisheds = _port_range(published, where)
    if len(publisheds) != len(targets):
        raise AppDefinitionError(
            f"{where}: published range {published} and container range {target} differ in length "
            "(a range to choose one port from is not supported)"
        )
    return [(publisheds[index], port) for index, port in enumerate(targets)]


def _parse_port(item: Any, where: str) -> list[Port]:
    if isinstance(item, Mapping):
        data = _mapping(item, where, AppDefinitionError)
        if data.get("target") is None:
            raise AppDefinitionError(f"{where} has no target (the container port)")
        published = data.get("published")
        pairs = _port_pairs(None if published is None else str(published), str(data["target"]), where)
        mode = data.get("mode")
        if mode not in (None, "host", "ingress"):
            raise AppDefinitionError(f"{where}.mode must be host or ingress, not {mode!r}")
        return [
            Port(
                target=target,
                published=published_port,
                protocol=str(data.get("protocol") or "tcp"),
                mode=mode,
                host_ip=data.get("host_ip") or None,
                name=None if data.get("name") is None else str(data["name"]),
                app_protocol=None if data.get("app_protocol") is None else str(data["app_protocol"]),
            )
            for published_port, target in pairs
        ]
    if isinstance(item, bool) or not isinstance(item, (str, int)):
        raise AppDefinitionError(f'{where} must be a port ("8080:80") or a mapping with target')
    text = str(item).strip()
    protocol = "tcp"
    if "/" in text:
        text, protocol = text.rsplit("/", 1)
    host_ip = None
    if text.startswith("["):
        end = text.find("]:")
        if end < 0:
            raise AppDefinitionError(f"{where}: cannot read {item!r} as [address]:published:target")
        host_ip, text = text[1:end], text[end + 2 :]
        parts = text.split(":")
        if len(parts) != 2:
            raise AppDefinitionError(f"{where}: cannot read {item!r} as [address]:published:target")
    else:
        parts = text.split(":")
        if len(parts) == 3:
            host_ip, parts = parts[0], parts[1:]
        elif len(parts) > 3:
            raise AppDefinitionError(f"{where}: cannot read {item!r}; write an IPv6 address in brackets")
    published, target = (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])
    return [
        Port(target=target_port, published=published_port, protocol=protocol, host_ip=host_ip or None)
        for published_port, target_port in _port_pairs(published, target, where)
    ]


def _parse_expose(value: Any, where: str) -> list[Port]:
    """8080, "8080-8082" or "53/udp": container ports, with their protocol (tcp when not given)."""
    ports: list[Port] = []
    for index, item in enumerate(value or []):
        text, _slash, protocol = str(item).partition("/")
        ports.extend(Port(target=port, protocol=protocol or "tcp") for port in _port_range(text, f"{where}[{index}]"))
    return ports


def _unique(items: list[Any]) -> list[Any]:
    """Items in order, each once: "3000" and "3000-3005" name port 3000 twice, which is one port."""
    unique: list[Any] = []
    for item in items:
        if item not in unique:
            unique.append(item)
    return unique


def _mount_options(mount: Mount, options: str, where: str) -> None:
    for option in filter(None, options.split(",")):
        if option == "ro":
            mount.read_only = True
        elif option == "rw":
            mount.read_only = False
        elif option == "nocopy":
            mount.nocopy = True
        elif option in _PROPAGATIONS:
            mount.propagation = option
        elif option in ("z", "Z"):
            mount.unsupported["selinux"] = option
        elif option in ("consistent", "cached", "delegated"):
            continue  # Docker Desktop file sharing only
        else:
            raise AppDefinitionError(f"{where}: unknown volume option {option!r}")


def _volume_type(source: str) -> str:
    return "bind" if source.startswith(("/", ".", "~")) else "volume"


def _parse_volume(item: Any, where: str) -> Mount:
    if isinstance(item, str):
        parts = item.split(":")
        if len(parts) == 1:
            return Mount(type="volume", target=parts[0])
        if len(parts) > 3:
            raise AppDefinitionError(f"{where}: cannot read {item!r} as source:target[:options]")
        mount = Mount(type=_volume_type(parts[0]), source=parts[0], target=parts[1])
        if len(parts) == 3:
            _mount_options(mount, parts[2], where)
        return mount
    data = _mapping(item, where, AppDefinitionError)
    kind = data.get("type")
    if kind is None or data.get("target") is None:
        raise AppDefinitionError(f"{where} needs type and target")
    mount = Mount(type=str(kind), target=str(data["target"]), source=data.get("source") or None)
    mount.read_only = bool(data.get("read_only", False))
    for section, known in (
        ("bind", ("propagation", "create_host_path")),
        ("volume", ("nocopy",)),
        ("tmpfs", ("size",)),
    ):
        options = _mapping(data.get(section), f"{where}.{section}", AppDefinitionError)
        for key, value in options.items():
            if key not in known:
                mount.unsupported[f"{section}.{key}"] = value
        if section == "bind" and options.get("propagation"):
            mount.propagation = str(options["propagation"])
        if section == "volume":
            mount.nocopy = bool(options.get("nocopy", False))
        if section == "tmpfs" and options.get("size") is not None:
            mount.size = parse_bytes(options["size"], f"{where}.tmpfs.size")
    for key in data:
        if key not in ("type", "source", "target", "read_only", "consistency", "bind", "volume", "tmpfs"):
            mount.unsupported[key] = data[key]
    return mount


def _parse_tmpfs(value: Any, where: str) -> list[Mount]:
    mounts = []
    for index, item in enumerate(_string_list(value, where, AppDefinitionError)):
        target, _colon, options = item.partition(":")
        mount = Mount(type="tmpfs", target=target)
        for option in filter(None, options.split(",")):
            key, _equals, option_value = option.partition("=")
            if key == "size":
                mount.size = parse_bytes(option_value, f"{where}[{index}].size")
            elif key in ("rw", "ro") and not option_value:
                mount.read_only = key == "ro"
            else:
                mount.unsupported[key] = option_value
        mounts.append(mount)
    return mounts


def _count(value: Any, where: str) -> int:
    return _int(value, where, 0, AppDefinitionError)


_Reader = Callable[[Any, str], Any]

# The durations and counts of a section, each read when given, in this order (the first bad one is named).
_HEALTHCHECK_NUMBERS: dict[str, _Reader] = {
    **dict.fromkeys(("interval", "timeout", "start_period", "start_interval"), parse_duration),
    "retries": _count,
}
_UPDATE_NUMBERS: dict[str, _Reader] = {"parallelism": _count, **dict.fromkeys(("delay", "monitor"), parse_duration)}
_RESTART_NUMBERS: dict[str, _Reader] = {**dict.fromkeys(("delay", "window"), parse_duration), "max_attempts": _count}


def _set_given(target: Any, data: Mapping[str, Any], where: str, readers: Mapping[str, _Reader]) -> None:
    """Set each of the fields readers names that data gives (not null), read by its reader."""
    for key, read in readers.items():
        if data.get(key) is not None:
            setattr(target, key, read(data[key], f"{where}.{key}"))


def _parse_healthcheck(value: Any, where: str) -> Healthcheck:
    data = _mapping(value, where, AppDefinitionError)
    check = Healthcheck(disabled=bool(data.get("disable", False)))
    test = data.get("test")
    if isinstance(test, str):
        check.test = ["CMD-SHELL", test]
    elif isinstance(test, list):
        check.test = [_scalar_text(item) for item in test]
        if check.test and check.test[0] == "NONE":
            check.disabled = True
        elif check.test and check.test[0] not in ("CMD", "CMD-SHELL"):
            raise AppDefinitionError(f"{where}.test must start with CMD, CMD-SHELL or NONE, or be a string")
        elif len(check.test) < 2 or (check.test[0] == "CMD-SHELL" and not "".join(check.test[1:]).strip()):
            raise AppDefinitionError(f"{where}.test [{', '.join(check.test)}] names no command to run")
    elif test is not None:
        raise AppDefinitionError(f"{where}.test must be a string or a list")
    _set_given(check, data, where, _HEALTHCHECK_NUMBERS)
    return check


def _parse_update(value: Any, where: str) -> UpdatePolicy:
    data = _mapping(value, where, AppDefinitionError)
    policy = UpdatePolicy()
    _set_given(policy, data, where, _UPDATE_NUMBERS)
    if data.get("failure_action") is not None:
        policy.failure_action = str(data["failure_action"])
    if data.get("max_failure_ratio") is not None:
        try:
            policy.max_failure_ratio = float(data["max_failure_ratio"])
        except ValueError:
            raise AppDefinitionError(
                f"{where}.max_failure_ratio must be a number from 0 to 1, not {data['max_failure_ratio']!r}"
            ) from None
    if data.get("order") is not None:
        if data["order"] not in ("start-first", "stop-first"):
            raise AppDefinitionError(f"{where}.order must be start-first or stop-first, not {data['order']!r}")
        policy.order = data["order"]
    return policy


def _parse_restart_policy(value: Any, where: str) -> RestartPolicy:
    data = _mapping(value, where, AppDefinitionError)
    condition = data.get("condition") or "any"
    if condition not in ("none", "on-failure", "any"):
        raise AppDefinitionError(f"{where}.condition must be none, on-failure or any, not {condition!r}")
    policy = RestartPolicy(condition=condition)
    _set_given(policy, data, where, _RESTART_NUMBERS)
    return policy


def _restart_from_compose(value: Any, where: str) -> RestartPolicy:
    text = _scalar_text(value) if value is not False else "no"
    name, _colon, attempts = text.partition(":")
    condition = _RESTART_CONDITIONS.get(name)
    if condition is None or (attempts and name != "on-failure"):
        raise AppDefinitionError(f"{where} must be no, always, unless-stopped or on-failure[:N], not {value!r}")
    policy = RestartPolicy(condition=condition)
    if attempts:
        policy.max_attempts = _int(attempts, where, 0, AppDefinitionError)
    return policy


def _file_mode(value: Any, where: str) -> int | None:
    """A config's or secret's file mode: 0440 or "0440" (octal), at most 0777."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = int(value.replace("0o", ""), 8)
        except ValueError:
            raise AppDefinitionError(f"{where} must be an octal file mode such as 0440, not {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise AppDefinitionError(f"{where} must be an octal file mode such as 0440, not {value!r}")
    if value > 0o777:
        digits = str(value)
        if set(digits) <= set("01234567") and len(digits) <= 4:
            raise AppDefinitionError(
                f"{where}: mode {digits} is the decimal number {digits} ({value:#o}), not a file mode: YAML reads "
                f"a number without a leading 0 as decimal; write 0{digits.lstrip('0')}"
            )
        raise AppDefinitionError(f"{where} must be a file mode of at most 0777, not {value:#o}")
    return value


def _parse_file_refs(value: Any, where: str) -> list[FileRef]:
    refs = []
    for index, item in enumerate(value or []):
        if isinstance(item, str):
            refs.append(FileRef(source=item))
            continue
        data = _mapping(item, f"{where}[{index}]", AppDefinitionError)
        if not data.get("source"):
            raise AppDefinitionError(f"{where}[{index}] has no source")
        mode = _file_mode(data.get("mode"), f"{where}[{index}].mode")
        refs.append(
            FileRef(
                source=str(data["source"]),
                target=None if data.get("target") is None else str(data["target"]),
                uid=None if data.get("uid") is None else str(data["uid"]),
                gid=None if data.get("gid") is None else str(data["gid"]),
                mode=mode,
            )
        )
    return refs


def _parse_networks(value: Any, where: str) -> dict[str, NetworkAttachment]:
    if value is None:
        return {}
    if isinstance(value, list):
        return {str(name): NetworkAttachment() for name in value}
    attachments = {}
    for name, item in _mapping(value, where, AppDefinitionError).items():
        data = _mapping(item, f"{where}.{name}", AppDefinitionError)
        aliases = (
            _string_list(data.pop("aliases"), f"{where}.{name}.aliases", AppDefinitionError)
            if "aliases" in data
            else []
        )
        attachments[name] = NetworkAttachment(aliases=aliases, options=data)
    return attachments


def _parse_depends_on(value: Any, where: str) -> list[Dependency]:
    if value is None:
        return []
    if isinstance(value, list):
        return [Dependency(service=str(name)) for name in value]
    dependencies = []
    for name, item in _mapping(value, where, AppDefinitionError).items():
        data = _mapping(item, f"{where}.{name}", AppDefinitionError)
        dependencies.append(
            Dependency(
                service=name,
                condition=str(data.get("condition") or "service_started"),
                required=bool(data.get("required", True)),
            )
        )
    return dependencies


def _parse_placement(value: Any, where: str) -> Placement:
    data = _mapping(value, where, AppDefinitionError)
    placement = Placement()
    if data.get("constraints") is not None:
        placement.constraints = _string_list(data["constraints"], f"{where}.constraints", AppDefinitionError)
    for index, preference in enumerate(data.get("preferences") or []):
        spread = _mapping(preference, f"{where}.preferences[{index}]", AppDefinitionError).get("spread")
        if not spread:
            raise AppDefinitionError(f"{where}.preferences[{index}] must be spread: <node attribute>")
        placement.spread.append(str(spread))
    if data.get("max_replicas_per_node") is not None:
        placement.max_replicas_per_node = _int(
            data["max_replicas_per_node"], f"{where}.max_replicas_per_node", 1, AppDefinitionError
        )
    return placement


def _apply_deploy(service: Service, value: Any, where: str) -> None:
    data = _mapping(value, where, AppDefinitionError)
    for key, item in data.items():
        if key not in _DEPLOY_KEYS and not key.startswith("x-"):
            service.options[f"deploy.{key}"] = item
    mode = data.get("mode")
    if mode is not None:
        modes = {"replicated": "replicated", "global": "global", "replicated-job": "job"}
        if mode not in modes:
            raise AppDefinitionError(f"{where}.mode must be replicated, global or replicated-job, not {mode!r}")
        service.mode = modes[mode]
    if data.get("replicas") is not None:
        service.replicas = _int(data["replicas"], f"{where}.replicas", 0, AppDefinitionError)
    service.service_labels = {
        key: _label_text(item) for key, item in _as_env_mapping(data.get("labels"), f"{where}.labels").items()
    }
    resources = _mapping(data.get("resources"), f"{where}.resources", AppDefinitionError)
    for kind in ("limits", "reservations"):
        values = _resource_values(
            _mapping(resources.get(kind), f"{where}.resources.{kind}", AppDefinitionError),
            f"{where}.resources.{kind}",
            AppDefinitionError,
        )
        update_resources(getattr(service.resources, kind), values)
    if data.get("placement") is not None:
        service.placement = _parse_placement(data["placement"], f"{where}.placement")
    if data.get("restart_policy") is not None:
        service.restart = _parse_restart_policy(data["restart_policy"], f"{where}.restart_policy")
    if data.get("update_config") is not None:
        service.update = _parse_update(data["update_config"], f"{where}.update_config")
    if data.get("rollback_config") is not None:
        service.rollback = _parse_update(data["rollback_config"], f"{where}.rollback_config")
    if data.get("endpoint_mode") is not None:
        if data["endpoint_mode"] not in ("vip", "dnsrr"):
            raise AppDefinitionError(f"{where}.endpoint_mode must be vip or dnsrr, not {data['endpoint_mode']!r}")
        service.endpoint_mode = data["endpoint_mode"]


def _env_file_entries(value: Any, where: str) -> list[tuple[str, bool]]:
    entries = []
    for index, item in enumerate(value if isinstance(value, list) else [value]):
        if isinstance(item, str):
            entries.append((item, True))
        else:
            data = _mapping(item, f"{where}[{index}]", AppDefinitionError)
            if not data.get("path"):
                raise AppDefinitionError(f"{where}[{index}] has no path")
            entries.append((str(data["path"]), bool(data.get("required", True))))
    return entries


def _check_mount_paths(mounts: list[Mount], where: str) -> None:
    """Compose refuses two mounts on one path, and so does the API server."""
    seen: dict[str, Mount] = {}
    for mount in mounts:
        path = mount.target.rstrip("/") or "/"
        if path in seen:
            first = seen[path]
            raise AppDefinitionError(
                f"{where} mounts two things on {path} ({first.type} {first.source or ''} and "
                f"{mount.type} {mount.source or ''}); give each its own path".replace(" )", ")").replace("  ", " ")
            )
        seen[path] = mount


class _Loader:
    """What building the services needs: the project directory, the variables, the warnings so far."""

    def __init__(self, project_dir: str, variables: Mapping[str, str], warnings: list[str]) -> None:
        self.project_dir = project_dir
        self.variables = variables
        self.warnings = warnings

    def environment(self, name: str, raw: Mapping[str, Any], where: str) -> dict[str, str]:
        merged: dict[str, str] = {}
        if raw.get("env_file") is not None:
            for path, required in _env_file_entries(raw["env_file"], f"{where}.env_file"):
                full = _project_path(self.project_dir, path)
                if not os.path.isfile(full) and not required:
                    continue
                text = _read_text(full, f"env_file of service {name}")
                merged.update(parse_env_file(text, full, self.variables.get))
        for key, value in _as_env_mapping(raw.get("environment"), f"{where}.environment").items():
            if value is None:
                found = self.variables.get(key)
                if found is None:
                    self.warnings.append(
                        f"service {name}: environment {key} has no value and no variable gives one; left out"
                    )
                    merged.pop(key, None)
                    continue
                merged[key] = found
            else:
                merged[key] = _scalar_text(value)
        return merged

    def service(self, name: str, raw: Any) -> Service:
        where = f"services.{name}"
        if not _SERVICE_NAME.fullmatch(name):
            raise AppDefinitionError(f"{where}: a service name may only have letters, digits, '.', '_' and '-'")
        data = _mapping(raw, where, AppDefinitionError)
        if "extends" in data:
            raise AppDefinitionError(f"{where} uses extends, which this loader does not resolve; write the service out")
        service = Service(name=name)
        for key, value in data.items():
            if key not in _SERVICE_KEYS and not key.startswith("x-"):
                service.options[key] = value
        if data.get("image") is not None:
            service.image = _scalar_text(data["image"])
        service.build = data.get("build")
        service.command = _command(data.get("command"), f"{where}.command")
        service.entrypoint = _command(data.get("entrypoint"), f"{where}.entrypoint")
        service.environment = self.environment(name, data, where)
        for index, item in enumerate(data.get("ports") or []):
            service.ports.extend(_parse_port(item, f"{where}.ports[{index}]"))
        service.ports = _unique(service.ports)
        service.expose = _unique(_parse_expose(data.get("expose"), f"{where}.expose"))
        service.mounts = [
            _parse_volume(item, f"{where}.volumes[{index}]") for index, item in enumerate(data.get("volumes") or [])
        ]
        if data.get("tmpfs") is not None:
            service.mounts.extend(_parse_tmpfs(data["tmpfs"], f"{where}.tmpfs"))
        _check_mount_paths(service.mounts, where)
        if data.get("healthcheck") is not None:
            service.healthcheck = _parse_healthcheck(data["healthcheck"], f"{where}.healthcheck")
        service.labels = {
            key: _label_text(value) for key, value in _as_env_mapping(data.get("labels"), f"{where}.labels").items()
        }
        service.configs = _parse_file_refs(data.get("configs"), f"{where}.configs")
        service.secrets = _parse_file_refs(data.get("secrets"), f"{where}.secrets")
        service.networks = _parse_networks(data.get("networks"), f"{where}.networks")
        for key in ("user", "working_dir"):
            if data.get(key) is not None:
                setattr(service, key, _scalar_text(data[key]))
        if data.get("stop_grace_period") is not None:
            service.stop_grace_period = parse_duration(data["stop_grace_period"], f"{where}.stop_grace_period")
        service.depends_on = _parse_depends_on(data.get("depends_on"), f"{where}.depends_on")
        if data.get("scale") is not None:
            service.replicas = _int(data["scale"], f"{where}.scale", 0, AppDefinitionError)
        # The older per-service resource keys, as deploy.resources (which wins).
        for key, kind, resource in (
            ("mem_limit", "limits", "memory"),
            ("cpus", "limits", "cpus"),
            ("pids_limit", "limits", "pids"),
            ("mem_reservation", "reservations", "memory"),
        ):
            if data.get(key) is not None:
                value = _resource_value(resource, data[key], f"{where}.{key}", AppDefinitionError)
                update_resources(getattr(service.resources, kind), {resource: value})
        if data.get("deploy") is not None:
            _apply_deploy(service, data["deploy"], f"{where}.deploy")
        if service.restart is None and data.get("restart") is not None:
            service.restart = _restart_from_compose(data["restart"], f"{where}.restart")
        if service.mode == "global" and service.replicas is not None:
            raise AppDefinitionError(f"{where}: a global service runs one task per node; it takes no replicas or scale")
        return service
