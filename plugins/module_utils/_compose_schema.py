# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shapes of a Compose file's keys, checked before any model is built.

A table of the Compose Specification's keys (services, deploy, healthcheck,
ports, volumes, the top-level networks, volumes, configs and secrets) and
the type each takes, checked after interpolation as `docker compose config`
checks them: an unknown key or a value of the wrong type is refused with the
file, the service and the key named. `x-` keys are extensions, never checked.

Why a table of our own: the two PyPI packages that read Compose files
(compose-pydantic: pydantic models generated once from an old schema, no
`models`, `provider` or hooks, marked "planning"; compose-spec: a 7 MB
native wheel per platform and Python version) would add a controller and
execution-environment dependency for a check this table does in a few
microseconds per file.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._app_model import AppDefinitionError

Check = Callable[[Any, str], None]


def _fail(where: str, what: str, value: Any) -> None:
    shown = type(value).__name__ if isinstance(value, (Mapping, list)) else repr(value)
    raise AppDefinitionError(f"{where} must be {what}, not {shown}")


def _accepting(check: Check, *kinds: type) -> Check:
    """Mark the Python types a shape reads, so that `either` can tell which alternative a value meant."""
    check.accepts = kinds  # type: ignore[attr-defined]
    return check


def _scalar(*kinds: type, what: str) -> Check:
    def check(value: Any, where: str) -> None:
        if value is None or isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            _fail(where, what, value)

    return _accepting(check, *kinds)


STRING = _scalar(str, what="a string")
TEXT = _scalar(str, int, float, what="a string")
NUMBER = _scalar(int, float, str, what="a number")
INTEGER = _scalar(int, str, what="a whole number")


def _boolean(value: Any, where: str) -> None:
    if not isinstance(value, bool) and not (isinstance(value, str) and value.lower() in ("true", "false")):
        _fail(where, "true or false", value)


BOOLEAN = _accepting(_boolean, bool, str)


def ANY(value: Any, where: str) -> None:
    """Anything: a key the model keeps as written, for the targets to carry or report."""


def nullable(shape: Check) -> Check:
    def check(value: Any, where: str) -> None:
        if value is not None:
            shape(value, where)

    return _accepting(check, type(None), *getattr(shape, "accepts", (object,)))


def list_of(item: Check, what: str = "a list") -> Check:
    def check(value: Any, where: str) -> None:
        if not isinstance(value, list):
            _fail(where, what, value)
        for index, entry in enumerate(value):
            item(entry, f"{where}[{index}]")

    return _accepting(check, list)


def map_of(item: Check) -> Check:
    def check(value: Any, where: str) -> None:
        if not isinstance(value, Mapping):
            _fail(where, "a mapping", value)
        for key, entry in value.items():
            item(entry, f"{where}.{key}")

    return _accepting(check, Mapping)


def either(*shapes: Check, what: str) -> Check:
    """One of the shapes; when only one of them reads values of this type, its own complaint is the error."""

    def check(value: Any, where: str) -> None:
        meant = [shape for shape in shapes if _reads(shape, value)]
        if len(meant) == 1:
            meant[0](value, where)
            return
        for shape in shapes:
            try:
                shape(value, where)
            except AppDefinitionError:
                continue
            return
        _fail(where, what, value)

    return _accepting(check, *{kind for shape in shapes for kind in getattr(shape, "accepts", (object,))})


def _reads(shape: Check, value: Any) -> bool:
    kinds = getattr(shape, "accepts", (object,))
    if isinstance(value, bool):
        return bool in kinds or object in kinds
    return isinstance(value, kinds)


def mapping(properties: Mapping[str, Check], extensions: bool = True) -> Check:
    """A mapping with these keys only (and x- keys where extensions are allowed)."""

    def check(value: Any, where: str) -> None:
        if not isinstance(value, Mapping):
            _fail(where, "a mapping", value)
        for key, entry in value.items():
            name = str(key)
            if name not in properties:
                if extensions and name.startswith("x-"):
                    continue
                known = ", ".join(sorted(properties))
                raise AppDefinitionError(f"{where} has the unknown key {name} (Compose knows: {known})")
            properties[name](entry, f"{where}.{name}")

    return _accepting(check, Mapping)


STRINGS = list_of(TEXT, "a list of strings")
STRING_OR_LIST = either(TEXT, STRINGS, what="a string or a list of strings")
# environment, labels, sysctls...: KEY: value pairs, or a list of KEY=VALUE.
KEY_VALUES = either(
    map_of(nullable(_scalar(str, int, float, bool, what="a string"))), STRINGS, what="a mapping or a list of KEY=VALUE"
)
COMMAND = nullable(STRING_OR_LIST)
DURATION = TEXT
SIZE = NUMBER

_FILE_REF = either(
    STRING,
    mapping(
        {"source": STRING, "target": STRING, "uid": TEXT, "gid": TEXT, "mode": either(INTEGER, what="a file mode")}
    ),
    what="a name or a mapping with source",
)
_UPDATE = mapping(
    {
        "parallelism": INTEGER,
        "delay": DURATION,
        "failure_action": STRING,
        "monitor": DURATION,
        "max_failure_ratio": NUMBER,
        "order": STRING,
    }
)
_RESOURCE = {"cpus": NUMBER, "memory": SIZE, "pids": INTEGER}
_DEPLOY = mapping(
    {
        "mode": STRING,
        "replicas": INTEGER,
        "labels": KEY_VALUES,
        "endpoint_mode": STRING,
        "update_config": _UPDATE,
        "rollback_config": _UPDATE,
        "resources": mapping(
            {
                "limits": mapping(_RESOURCE),
                "reservations": mapping({**_RESOURCE, "generic_resources": list_of(ANY), "devices": list_of(ANY)}),
            }
        ),
        "restart_policy": mapping(
            {"condition": STRING, "delay": DURATION, "max_attempts": INTEGER, "window": DURATION}
        ),
        "placement": mapping(
            {
                "constraints": STRINGS,
                "preferences": list_of(mapping({"spread": STRING})),
                "max_replicas_per_node": INTEGER,
            }
        ),
    }
)
_HEALTHCHECK = mapping(
    {
        "disable": BOOLEAN,
        "test": STRING_OR_LIST,
        "interval": DURATION,
        "timeout": DURATION,
        "retries": INTEGER,
        "start_period": DURATION,
        "start_interval": DURATION,
    }
)
_PORT = either(
    INTEGER,
    mapping(
        {
            "name": STRING,
            "mode": STRING,
            "host_ip": STRING,
            "target": INTEGER,
            "published": INTEGER,
            "protocol": STRING,
            "app_protocol": STRING,
        }
    ),
    what='a port ("8080:80") or a mapping with target',
)
_VOLUME = either(
    STRING,
    mapping(
        {
            "type": STRING,
            "source": STRING,
            "target": STRING,
            "read_only": BOOLEAN,
            "consistency": STRING,
            "bind": mapping(
                {"propagation": STRING, "create_host_path": BOOLEAN, "selinux": STRING, "recursive": STRING}
            ),
            "volume": mapping({"nocopy": BOOLEAN, "subpath": STRING}),
            "tmpfs": mapping({"size": SIZE, "mode": NUMBER}),
            "image": mapping({"subpath": STRING}),
        }
    ),
    what="source:target[:options] or a mapping with type and target",
)
_ENV_FILE = either(
    STRING,
    list_of(either(STRING, mapping({"path": STRING, "required": BOOLEAN, "format": STRING}), what="a path")),
    what="a path or a list of paths",
)
_DEPENDS_ON = either(
    STRINGS,
    map_of(nullable(mapping({"condition": STRING, "required": BOOLEAN, "restart": BOOLEAN}))),
    what="a list of services or a mapping of service: {condition}",
)
_NETWORKS = either(
    STRINGS,
    map_of(
        nullable(
            mapping(
                {
                    "aliases": STRINGS,
                    "ipv4_address": STRING,
                    "ipv6_address": STRING,
                    "link_local_ips": STRINGS,
                    "mac_address": STRING,
                    "driver_opts": map_of(TEXT),
                    "priority": NUMBER,
                    "gw_priority": NUMBER,
                    "interface_name": STRING,
                }
            )
        )
    ),
    what="a list of networks or a mapping of network: {aliases}",
)
_EXTRA_HOSTS = either(STRINGS, map_of(STRING_OR_LIST), what="a list of host:address or a mapping")
# Lifecycle hooks (post_start, pre_stop, pre_start): no target runs them, so they are reported as a whole.
_HOOK = list_of(map_of(ANY))

SERVICE: dict[str, Check] = {
    "annotations": KEY_VALUES,
    "attach": BOOLEAN,
    "blkio_config": ANY,
    "build": either(STRING, map_of(ANY), what="a path or a mapping"),
    "cap_add": STRINGS,
    "cap_drop": STRINGS,
    "cgroup": STRING,
    "cgroup_parent": STRING,
    "command": COMMAND,
    "configs": list_of(_FILE_REF),
    "container_name": TEXT,
    "cpu_count": INTEGER,
    "cpu_percent": INTEGER,
    "cpu_period": INTEGER,
    "cpu_quota": INTEGER,
    "cpu_rt_period": INTEGER,
    "cpu_rt_runtime": INTEGER,
    "cpu_shares": INTEGER,
    "cpus": NUMBER,
    "cpuset": TEXT,
    "credential_spec": ANY,
    "depends_on": _DEPENDS_ON,
    "deploy": nullable(_DEPLOY),
    "develop": ANY,
    "device_cgroup_rules": STRINGS,
    "devices": list_of(ANY),
    "dns": STRING_OR_LIST,
    "dns_opt": STRINGS,
    "dns_search": STRING_OR_LIST,
    "domainname": STRING,
    "entrypoint": COMMAND,
    "env_file": _ENV_FILE,
    "environment": KEY_VALUES,
    "expose": list_of(INTEGER, "a list of ports"),
    "extends": ANY,
    "external_links": STRINGS,
    "extra_hosts": _EXTRA_HOSTS,
    "gpus": ANY,
    "group_add": list_of(TEXT),
    "healthcheck": _HEALTHCHECK,
    "hostname": TEXT,
    "image": TEXT,
    "init": BOOLEAN,
    "ipc": STRING,
    "isolation": STRING,
    "label_file": STRING_OR_LIST,
    "labels": KEY_VALUES,
    "links": STRINGS,
    "logging": mapping({"driver": STRING, "options": nullable(map_of(nullable(TEXT)))}),
    "mac_address": STRING,
    "mem_limit": SIZE,
    "mem_reservation": SIZE,
    "mem_swappiness": INTEGER,
    "memswap_limit": SIZE,
    "models": ANY,
    "network_mode": STRING,
    "networks": _NETWORKS,
    "oom_kill_disable": BOOLEAN,
    "oom_score_adj": INTEGER,
    "pid": nullable(STRING),
    "pids_limit": INTEGER,
    "platform": STRING,
    "ports": list_of(_PORT, "a list of ports"),
    "post_start": _HOOK,
    "pre_start": _HOOK,
    "pre_stop": _HOOK,
    "privileged": BOOLEAN,
    "profiles": STRINGS,
    "provider": ANY,
    "pull_policy": STRING,
    "pull_refresh_after": STRING,
    "read_only": BOOLEAN,
    "restart": STRING,
    "runtime": STRING,
    "scale": INTEGER,
    "secrets": list_of(_FILE_REF),
    "security_opt": STRINGS,
    "shm_size": SIZE,
    "stdin_open": BOOLEAN,
    "stop_grace_period": DURATION,
    "stop_signal": STRING,
    "storage_opt": ANY,
    "sysctls": KEY_VALUES,
    "tmpfs": STRING_OR_LIST,
    "tty": BOOLEAN,
    "ulimits": map_of(either(INTEGER, mapping({"soft": INTEGER, "hard": INTEGER}), what="a limit or {soft, hard}")),
    "use_api_socket": BOOLEAN,
    "user": TEXT,
    "userns_mode": STRING,
    "uts": STRING,
    "volumes": list_of(_VOLUME, "a list of mounts"),
    "volumes_from": STRINGS,
    "working_dir": STRING,
}

_EXTERNAL = either(BOOLEAN, mapping({"name": STRING}), what="true, false or a mapping with name")
_IPAM = mapping(
    {
        "driver": STRING,
        "config": list_of(
            mapping({"subnet": STRING, "ip_range": STRING, "gateway": STRING, "aux_addresses": map_of(STRING)})
        ),
        "options": map_of(TEXT),
    }
)
NETWORK = mapping(
    {
        "name": STRING,
        "driver": STRING,
        "driver_opts": map_of(TEXT),
        "ipam": _IPAM,
        "external": _EXTERNAL,
        "internal": BOOLEAN,
        "enable_ipv4": BOOLEAN,
        "enable_ipv6": BOOLEAN,
        "attachable": BOOLEAN,
        "labels": KEY_VALUES,
    }
)
VOLUME = mapping(
    {"name": STRING, "driver": STRING, "driver_opts": map_of(TEXT), "external": _EXTERNAL, "labels": KEY_VALUES}
)
FILE_OBJECT = mapping(
    {
        "name": STRING,
        "file": STRING,
        "environment": STRING,
        "content": TEXT,
        "external": _EXTERNAL,
        "labels": KEY_VALUES,
        "driver": STRING,
        "driver_opts": map_of(TEXT),
        "template_driver": STRING,
    }
)
TOP_LEVEL: dict[str, Check] = {
    "version": TEXT,
    "name": TEXT,
    "include": ANY,
    "services": map_of(nullable(mapping(SERVICE))),
    "networks": map_of(nullable(NETWORK)),
    "volumes": map_of(nullable(VOLUME)),
    "configs": map_of(nullable(FILE_OBJECT)),
    "secrets": map_of(nullable(FILE_OBJECT)),
    "models": ANY,
}


def check_compose(compose: Mapping[str, Any]) -> None:
    """Refuse a Compose file (already interpolated) whose keys or types Compose refuses."""
    for key, value in compose.items():
        if key not in TOP_LEVEL and not str(key).startswith("x-"):
            raise AppDefinitionError(f"the Compose file has the unknown top-level key {key}")
        if key in TOP_LEVEL:
            TOP_LEVEL[key](value, str(key))
