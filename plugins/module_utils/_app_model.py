# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The team's Compose file plus an environment's overlay, as a model no target owns.

`load_app` reads a Compose file the way `docker compose config` does
(interpolation, `.env` or the environment's env files, profiles, service
`env_file`), applies the overlay, and returns an `App`: plain dataclasses
that a Swarm renderer (`_render_swarm`) and, later, a Kubernetes renderer
turn into their own specs. Compose keys the model does not interpret stay in
`Service.options` as written, for each target to carry or to report.

The overlay (a mapping, usually inventory variables; every key optional but
``environment``)::

    environment: prod            # the environment's name; strict ones refuse :latest
    profiles: [debug]            # active Compose profiles (default: COMPOSE_PROFILES, else none)
    env_files: [env/prod.env]    # interpolation variables, relative to the project
                                 # directory, later files win (default: .env when present)
    variables: {TAG: "1.4.0"}    # interpolation variables; win over env files
    services:
      web:
        image: registry.lab:5000/shop/web@sha256:...   # replaces the Compose image (and build)
        replicas: 2
        mode: replicated         # replicated | global | job
        domain: shop.example.com # routed through the edge
        port: 8000               # container port the edge sends to; default: the only
                                 # port the service publishes or exposes
        resources: {limits: {cpus: "0.5", memory: 128M}, reservations: {memory: 64M}}
        environment: {LOG_LEVEL: debug, DEBUG_TOOLBAR: null}   # null removes a variable
        placement:
          class: [nuc, pc]       # node label drover.class, set by the swarm role
          arch: amd64            # node label drover.arch
          labels: {disk: ssd}    # other node labels
          constraints: ["node.role==worker"]
          max_replicas_per_node: 1
    secrets: {db_password: "..."}  # contents of Compose top-level secrets (from vault)
    configs: {nginx_conf: "..."}   # contents of Compose top-level configs
    allow: [depends_on.condition]  # report keys accepted (or service:key for one service)

Variables for interpolation come, highest first, from the caller's
``variables``, the overlay's ``variables``, then the env files; the
controller's environment is never read unless passed in as ``variables``.
Values from the overlay are taken literally, never interpolated.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._compose_syntax import key_value_list

try:
    import yaml

    HAS_YAML = True
except ImportError:  # only the controller runs this, and ansible-core needs PyYAML there
    HAS_YAML = False

# Node labels the swarm role sets (drover.class from host_profile's classes,
# plus "unknown"; drover.arch in Debian's names).
NODE_CLASSES = ("nuc", "pc", "rpi", "vm", "container", "unknown")
NODE_ARCHES = ("amd64", "arm64", "armhf", "i386", "ppc64el", "s390x", "riscv64")
MODES = ("replicated", "global", "job")
DEFAULT_STRICT_ENVIRONMENTS = ("preprod", "prod")
DEFAULT_NETWORK = "default"

_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_SERVICE_NAME = re.compile(r"[a-zA-Z0-9._-]+")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_DOMAIN = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_BYTES = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?", re.IGNORECASE)
_MEMORY = re.compile(r"\d+(?:\.\d+)?\s*(?:[kmgtpe]i?b?|b)?", re.IGNORECASE)
_CPUS = re.compile(r"\d+(?:\.\d+)?|\.\d+")

_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_BYTE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_PROPAGATIONS = ("shared", "slave", "private", "rshared", "rslave", "rprivate")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")

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
_TOP_LEVEL_KEYS = frozenset("version name services networks volumes configs secrets include".split())


# --- errors ------------------------------------------------------------------


class AppError(Exception):
    """Base of the app definition's errors; the message names what to change."""


class AppDefinitionError(AppError):
    """A Compose file, env file or config/secret source that cannot be read as an app."""


class OverlayError(AppError):
    """An environment overlay that does not fit the Compose file or the overlay format."""


class ImagePolicyError(AppError):
    """An image reference a strict environment refuses (:latest, or no tag at all)."""


# --- the model ---------------------------------------------------------------


@dataclass
class Port:
    """A container port, published or not; mode None leaves the choice to the target."""

    target: int
    published: int | None = None
    protocol: str = "tcp"
    mode: str | None = None
    host_ip: str | None = None


@dataclass
class Mount:
    """A volume, bind or tmpfs mount. unsupported holds options written that the model has no field for."""

    type: str
    target: str
    source: str | None = None
    read_only: bool = False
    nocopy: bool = False
    propagation: str | None = None
    size: int | None = None
    unsupported: dict[str, Any] = field(default_factory=dict)

    @property
    def is_relative_bind(self) -> bool:
        """A bind of a path next to the Compose file (or under ~): it lives on the controller."""
        source = self.source or ""
        return self.type == "bind" and (source.startswith((".", "~")) or not os.path.isabs(source))


@dataclass
class Healthcheck:
    """Durations in seconds; None leaves the engine's default."""

    test: list[str] | None = None
    interval: float | None = None
    timeout: float | None = None
    retries: int | None = None
    start_period: float | None = None
    start_interval: float | None = None
    disabled: bool = False


@dataclass
class Resources:
    """limits: cpus (str), memory (str), pids (int); reservations: cpus, memory, generic_resources."""

    limits: dict[str, Any] = field(default_factory=dict)
    reservations: dict[str, Any] = field(default_factory=dict)


@dataclass
class Placement:
    """Where tasks may run: node classes and arches (drover.* node labels), other labels, raw constraints."""

    classes: list[str] = field(default_factory=list)
    arches: list[str] = field(default_factory=list)
    node_labels: dict[str, str] = field(default_factory=dict)
    constraints: list[str] = field(default_factory=list)
    spread: list[str] = field(default_factory=list)
    max_replicas_per_node: int | None = None


@dataclass
class RestartPolicy:
    condition: str = "any"
    delay: float | None = None
    max_attempts: int | None = None
    window: float | None = None


@dataclass
class UpdatePolicy:
    parallelism: int | None = None
    delay: float | None = None
    failure_action: str | None = None
    monitor: float | None = None
    max_failure_ratio: float | None = None
    order: str | None = None


@dataclass
class FileRef:
    """A service's use of a top-level config or secret."""

    source: str
    target: str | None = None
    uid: str | None = None
    gid: str | None = None
    mode: int | None = None


@dataclass
class Dependency:
    service: str
    condition: str = "service_started"
    required: bool = True


@dataclass
class NetworkAttachment:
    aliases: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Service:
    name: str
    image: str | None = None
    image_from_overlay: bool = False
    build: Any = None
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    environment: dict[str, str] = field(default_factory=dict)
    ports: list[Port] = field(default_factory=list)
    expose: list[int] = field(default_factory=list)
    mounts: list[Mount] = field(default_factory=list)
    healthcheck: Healthcheck | None = None
    mode: str = "replicated"
    replicas: int | None = None
    resources: Resources = field(default_factory=Resources)
    placement: Placement = field(default_factory=Placement)
    labels: dict[str, str] = field(default_factory=dict)
    service_labels: dict[str, str] = field(default_factory=dict)
    domain: str | None = None
    port: int | None = None
    configs: list[FileRef] = field(default_factory=list)
    secrets: list[FileRef] = field(default_factory=list)
    # Empty: the app's default network.
    networks: dict[str, NetworkAttachment] = field(default_factory=dict)
    user: str | None = None
    working_dir: str | None = None
    stop_grace_period: float | None = None
    restart: RestartPolicy | None = None
    update: UpdatePolicy | None = None
    rollback: UpdatePolicy | None = None
    endpoint_mode: str | None = None
    depends_on: list[Dependency] = field(default_factory=list)
    # Compose keys the model does not read, as written (interpolated).
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def routed(self) -> bool:
        return self.domain is not None


@dataclass
class Network:
    name: str
    external: bool = False
    external_name: str | None = None
    driver: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Volume:
    name: str
    external: bool = False
    external_name: str | None = None
    driver: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class FileObject:
    """A top-level config or secret, its content read on the controller (None when external)."""

    key: str
    source: str  # file, content, environment, overlay or external
    content: str | None = None
    external: bool = False
    name: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class App:
    name: str
    environment: str
    project_dir: str
    services: dict[str, Service] = field(default_factory=dict)
    networks: dict[str, Network] = field(default_factory=dict)
    volumes: dict[str, Volume] = field(default_factory=dict)
    configs: dict[str, FileObject] = field(default_factory=dict)
    secrets: dict[str, FileObject] = field(default_factory=dict)
    profiles: list[str] = field(default_factory=list)
    disabled_services: list[str] = field(default_factory=list)
    allow: list[str] = field(default_factory=list)
    # Top-level Compose keys the model does not read, as written.
    options: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def secret_values(self) -> list[str]:
        return [secret.content for secret in self.secrets.values() if secret.content]


# --- the conversion report (shared by the targets) ----------------------------


@dataclass(frozen=True)
class ReportItem:
    """A Compose key a target cannot honour; service None for top-level keys."""

    service: str | None
    key: str
    message: str
    allowed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        text = f"{self.service or 'app'}: {self.key} - {self.message}"
        if not self.allowed:
            text += f"; allow it with allow: [{self.key}]"
        return text


def is_allowed(allow: Iterable[str], service: str | None, key: str) -> bool:
    """An allow entry is a report key, or service:key for one service only."""
    entries = set(allow)
    return key in entries or (service is not None and f"{service}:{key}" in entries)


class ConversionReport:
    """The conversion report a renderer fills: each item once, allowed or not by `allow`."""

    def __init__(self, allow: Iterable[str]) -> None:
        self.allow = list(allow)
        self.items: list[ReportItem] = []

    def add(self, service: str | None, key: str, message: str) -> None:
        item = ReportItem(service, key, message, is_allowed(self.allow, service, key))
        if item not in self.items:
            self.items.append(item)

    def add_unbuilt_and_unordered(self, service: Service, target: str, units: str) -> None:
        """What no orchestrator does that Compose does: build the image, start services in dependency order."""
        name = service.name
        if service.build is not None and not service.image_from_overlay:
            self.add(
                name,
                "build",
                f"{target} does not build images: {service.image} must already be in a registry every node pulls "
                f"from (or pin it with overlay services.{name}.image)",
            )
        for dependency in service.depends_on:
            if dependency.condition != "service_started":
                self.add(
                    name,
                    "depends_on.condition",
                    f"{target} starts {units} in no order and does not wait until {dependency.service} is "
                    f"{dependency.condition.replace('service_', '').replace('_', ' ')}; "
                    f"{name} must retry until it answers",
                )


def blocking(report: Iterable[ReportItem]) -> list[ReportItem]:
    return [item for item in report if not item.allowed]


def must_stop(report: Iterable[ReportItem]) -> bool:
    """Whether a deploy must stop: some item of the report was not allowed."""
    return bool(blocking(report))


# --- the overlay ---------------------------------------------------------------

_OVERLAY_KEYS = ("environment", "profiles", "env_files", "variables", "services", "secrets", "configs", "allow")
_SERVICE_OVERLAY_KEYS = (
    "image", "replicas", "mode", "domain", "port", "ports", "resources", "environment", "placement",
)
_PLACEMENT_OVERLAY_KEYS = ("class", "arch", "labels", "constraints", "max_replicas_per_node")


@dataclass
class ServiceOverlay:
    image: str | None = None
    replicas: int | None = None
    mode: str | None = None
    domain: str | None = None
    port: int | None = None
    # Replaces the Compose file's published ports; [] publishes none (a service
    # reached through the edge needs none, and stacks of several environments
    # on one swarm cannot all publish the same one).
    ports: list[Port] | None = None
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    environment: dict[str, str | None] = field(default_factory=dict)
    placement: Placement | None = None


@dataclass
class Overlay:
    environment: str
    profiles: list[str] | None = None
    env_files: list[str] | None = None
    variables: dict[str, str] = field(default_factory=dict)
    services: dict[str, ServiceOverlay] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    configs: dict[str, str] = field(default_factory=dict)
    allow: list[str] = field(default_factory=list)


def _unknown_keys(data: Mapping[str, Any], known: Iterable[str], where: str) -> None:
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise OverlayError(f"{where} has unknown keys {', '.join(unknown)}; known: {', '.join(known)}")


def _string_list(value: Any, where: str, error: type[AppError] = OverlayError) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
        return [str(item) for item in value]
    raise error(f"{where} must be a string or a list of strings")


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _mapping(value: Any, where: str, error: type[AppError] = OverlayError) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise error(f"{where} must be a mapping, not {type(value).__name__}")
    return {str(key): item for key, item in value.items()}


def _int(value: Any, where: str, minimum: int = 0, error: type[AppError] = OverlayError) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise error(f"{where} must be a whole number, not {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise error(f"{where} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise error(f"{where} must be at least {minimum}, not {number}")
    return number


def _port_number(value: Any, where: str, error: type[AppError] = OverlayError) -> int:
    number = _int(value, where, 1, error)
    if number > 65535:
        raise error(f"{where} must be a port number (1-65535), not {number}")
    return number


def _resources_overlay(value: Any, where: str) -> dict[str, dict[str, Any]]:
    data = _mapping(value, where)
    _unknown_keys(data, ("limits", "reservations"), where)
    return {
        kind: _resource_values(_mapping(data[kind], f"{where}.{kind}"), f"{where}.{kind}", OverlayError)
        for kind in ("limits", "reservations")
        if kind in data
    }


def _placement_overlay(value: Any, where: str) -> Placement:
    data = _mapping(value, where)
    _unknown_keys(data, _PLACEMENT_OVERLAY_KEYS, where)
    placement = Placement()
    for key, known, attribute in (("class", NODE_CLASSES, "classes"), ("arch", NODE_ARCHES, "arches")):
        if key not in data:
            continue
        values = _string_list(data[key], f"{where}.{key}")
        wrong = [item for item in values if item not in known]
        if wrong or not values:
            raise OverlayError(f"{where}.{key} must name some of {', '.join(known)}, not {', '.join(wrong) or 'none'}")
        setattr(placement, attribute, list(dict.fromkeys(values)))
    placement.node_labels = {
        key: _scalar_text(item) for key, item in _mapping(data.get("labels"), f"{where}.labels").items()
    }
    if "constraints" in data:
        placement.constraints = _string_list(data["constraints"], f"{where}.constraints")
    if data.get("max_replicas_per_node") is not None:
        placement.max_replicas_per_node = _int(data["max_replicas_per_node"], f"{where}.max_replicas_per_node", 1)
    return placement


def _service_overlay(name: str, value: Any) -> ServiceOverlay:
    where = f"overlay services.{name}"
    data = _mapping(value, where)
    _unknown_keys(data, _SERVICE_OVERLAY_KEYS, where)
    overlay = ServiceOverlay()
    if data.get("image") is not None:
        image = data["image"]
        if not isinstance(image, str) or not image.strip() or any(char.isspace() for char in image):
            raise OverlayError(f"{where}.image must be an image reference (name:tag or name@sha256:...), not {image!r}")
        digest = parse_image(image).digest
        if digest is not None and not _DIGEST.fullmatch(digest):
            raise OverlayError(f"{where}.image has the digest {digest!r}; a digest is sha256: and 64 hex digits")
        overlay.image = image
    if data.get("replicas") is not None:
        overlay.replicas = _int(data["replicas"], f"{where}.replicas")
    if data.get("mode") is not None:
        if data["mode"] not in MODES:
            raise OverlayError(f"{where}.mode must be one of {', '.join(MODES)}, not {data['mode']!r}")
        overlay.mode = data["mode"]
    if data.get("domain") is not None:
        domain = data["domain"]
        if not isinstance(domain, str) or not _DOMAIN.fullmatch(domain):
            raise OverlayError(f"{where}.domain must be a host name such as shop.example.com, not {domain!r}")
        overlay.domain = domain.lower()
    if data.get("port") is not None:
        overlay.port = _port_number(data["port"], f"{where}.port")
        if overlay.domain is None:
            raise OverlayError(f"{where}.port is the port the edge routes to; it needs a domain")
    if "ports" in data:
        items = data["ports"] if data["ports"] is not None else []
        if not isinstance(items, list):
            raise OverlayError(f"{where}.ports must be a list of Compose ports ([] publishes none)")
        overlay.ports = [
            port for index, item in enumerate(items) for port in _parse_port(item, f"{where}.ports[{index}]")
        ]
    if "resources" in data:
        overlay.resources = _resources_overlay(data["resources"], f"{where}.resources")
    for key, item in _mapping(data.get("environment"), f"{where}.environment").items():
        overlay.environment[key] = None if item is None else _scalar_text(item)
    if "placement" in data:
        overlay.placement = _placement_overlay(data["placement"], f"{where}.placement")
    return overlay


def _contents(value: Any, where: str) -> dict[str, str]:
    contents = {}
    for key, item in _mapping(value, where).items():
        if not isinstance(item, str):
            # Never echo the value: it may be a secret.
            raise OverlayError(f"{where}.{key} must be a string (the content), not a {type(item).__name__}")
        contents[key] = item
    return contents


def parse_overlay(data: Mapping[str, Any] | None) -> Overlay:
    """Check an overlay mapping (see the module docstring) and return it as an Overlay."""
    data = _mapping(data, "overlay")
    _unknown_keys(data, _OVERLAY_KEYS, "overlay")
    environment = data.get("environment")
    if not isinstance(environment, str) or not environment.strip():
        raise OverlayError("overlay.environment must name the environment (dev, preprod, prod, ...)")
    overlay = Overlay(environment=environment.strip())
    if data.get("profiles") is not None:
        overlay.profiles = _string_list(data["profiles"], "overlay.profiles")
    if data.get("env_files") is not None:
        overlay.env_files = _string_list(data["env_files"], "overlay.env_files")
    overlay.variables = {
        key: "" if item is None else _scalar_text(item)
        for key, item in _mapping(data.get("variables"), "overlay.variables").items()
    }
    overlay.services = {
        name: _service_overlay(name, item) for name, item in _mapping(data.get("services"), "overlay.services").items()
    }
    overlay.secrets = _contents(data.get("secrets"), "overlay.secrets")
    overlay.configs = _contents(data.get("configs"), "overlay.configs")
    if data.get("allow") is not None:
        overlay.allow = _string_list(data["allow"], "overlay.allow")
    return overlay


# --- interpolation and env files ---------------------------------------------


class _Interpolation:
    """One pass of Compose interpolation; remembers which variables were unset."""

    def __init__(self, lookup: Callable[[str], str | None]) -> None:
        self.lookup = lookup
        self.unset: dict[str, str] = {}

    def text(self, text: str, where: str) -> str:
        out: list[str] = []
        index = 0
        length = len(text)
        while index < length:
            char = text[index]
            following = text[index + 1] if index + 1 < length else ""
            if char != "$":
                out.append(char)
                index += 1
            elif following == "$":
                out.append("$")
                index += 2
            elif following == "{":
                end = _closing_brace(text, index + 2)
                if end < 0:
                    raise AppDefinitionError(f"{where}: '${{' without its closing '}}'")
                out.append(self._braced(text[index + 2 : end], where))
                index = end + 1
            else:
                match = _NAME.match(text, index + 1)
                if match:
                    out.append(self._value(match.group(), where))
                    index = match.end()
                else:
                    # `$` before anything but a name, `{` or `$` stays, as in Compose.
                    out.append(char)
                    index += 1
        return "".join(out)

    def _value(self, name: str, where: str) -> str:
        value = self.lookup(name)
        if value is None:
            self.unset.setdefault(name, where)
            return ""
        return value

    def _braced(self, expression: str, where: str) -> str:
        match = _NAME.match(expression)
        if not match:
            raise AppDefinitionError(f"{where}: invalid interpolation '${{{expression}}}'")
        name, rest = match.group(), expression[match.end() :]
        if not rest:
            return self._value(name, where)
        operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
        if operator is None:
            raise AppDefinitionError(f"{where}: invalid interpolation '${{{expression}}}'")
        argument = rest[len(operator) :]
        value = self.lookup(name)
        present = value is not None if not operator.startswith(":") else bool(value)
        if operator in (":-", "-"):
            return value if present and value is not None else self.text(argument, where)
        if operator in (":+", "+"):
            return self.text(argument, where) if present else ""
        if present and value is not None:
            return value
        reason = self.text(argument, where)
        missing = "is not set" if operator == "?" else "is not set or empty"
        raise AppDefinitionError(f"{where}: required variable {name} {missing}" + (f": {reason}" if reason else ""))

    def value(self, value: Any, where: str) -> Any:
        if isinstance(value, str):
            return self.text(value, where)
        if isinstance(value, Mapping):
            return {key: self.value(item, f"{where}.{key}" if where else str(key)) for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item, f"{where}[{index}]") for index, item in enumerate(value)]
        return value


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    index = start
    while index < len(text):
        if text.startswith("${", index):
            depth += 1
            index += 2
            continue
        if text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return -1


def _mapping_lookup(variables: Mapping[str, str]) -> Callable[[str], str | None]:
    return variables.get


def interpolate(value: Any, variables: Mapping[str, str], where: str = "") -> tuple[Any, dict[str, str]]:
    """Compose interpolation of every string in value: (result, {unset variable: where first seen}).

    ${VAR} and $VAR; ${VAR:-default} (unset or empty) and ${VAR-default} (unset);
    ${VAR:?error} and ${VAR?error} raise AppDefinitionError; ${VAR:+alt} and
    ${VAR+alt}; $$ for a literal $. Defaults nest. Keys are left as written.
    """
    interpolation = _Interpolation(_mapping_lookup(variables))
    return interpolation.value(value, where), interpolation.unset


def _closing_quote(text: str, quote: str) -> int:
    index = 0
    while index < len(text):
        if quote == '"' and text[index] == "\\":
            index += 2
            continue
        if text[index] == quote:
            return index
        index += 1
    return -1


def _unescape_double_quoted(text: str) -> str:
    """\\n \\r \\t \\\\ \\" as in a shell; \\$ a literal $ (written $$ for the interpolation after)."""
    escapes = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "$": "$$"}
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in escapes:
            out.append(escapes[text[index + 1]])
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def parse_env_file(text: str, where: str, lookup: Callable[[str], str | None] | None = None) -> dict[str, str]:
    """KEY=VALUE lines as Compose reads env files.

    `export ` prefixes, # comments (and ` #` after an unquoted value), single
    quotes (literal) and double quotes (escapes, may span lines). Unquoted and
    double-quoted values are interpolated from lookup first, then from the
    file's earlier keys. A bare KEY takes its value from lookup and is left
    out when lookup has none.
    """
    values: dict[str, str] = {}

    def resolve(name: str) -> str | None:
        found = lookup(name) if lookup else None
        return found if found is not None else values.get(name)

    interpolation = _Interpolation(resolve)
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        number = index + 1
        line = lines[index].strip()
        index += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[len("export") :].lstrip()
        key, equals, rest = line.partition("=")
        key = key.strip()
        if not _ENV_KEY.fullmatch(key):
            raise AppDefinitionError(f"{where} line {number}: {key!r} is not a variable name")
        if not equals:
            found = resolve(key)
            if found is not None:
                values[key] = found
            continue
        rest = rest.strip()
        if rest[:1] in ("'", '"'):
            quote, body = rest[0], rest[1:]
            end = _closing_quote(body, quote)
            while end < 0:
                if index >= len(lines):
                    raise AppDefinitionError(f"{where} line {number}: the value of {key} has no closing {quote}")
                body += "\n" + lines[index]
                index += 1
                end = _closing_quote(body, quote)
            trailing = body[end + 1 :].strip()
            if trailing and not trailing.startswith("#"):
                raise AppDefinitionError(f"{where} line {number}: {key} has text after its closing quote")
            value = body[:end]
            if quote == '"':
                value = interpolation.text(_unescape_double_quoted(value), f"{where} {key}")
        else:
            comment = re.search(r"\s#", rest)
            value = rest[: comment.start()].rstrip() if comment else rest
            value = interpolation.text(value, f"{where} {key}")
        values[key] = value
    return values


def _read_text(path: str, what: str, error: type[AppError] = AppDefinitionError) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except UnicodeDecodeError:
        raise error(f"{what} ({path}) is not UTF-8 text") from None
    except OSError as failure:
        raise error(f"cannot read {what} ({path}): {failure.strerror or failure}") from None


def _project_path(project_dir: str, path: str) -> str:
    return os.path.normpath(os.path.join(project_dir, os.path.expanduser(path)))


def project_variables(
    project_dir: str,
    env_files: list[str] | None,
    explicit: Mapping[str, str],
) -> dict[str, str]:
    """The interpolation variables: env files (or .env when none are named, if present), then explicit ones on top."""
    if env_files is None:
        default = os.path.join(project_dir, ".env")
        paths = [default] if os.path.isfile(default) else []
    else:
        paths = [_project_path(project_dir, path) for path in env_files]
    collected: dict[str, str] = {}
    for path in paths:
        text = _read_text(path, "env file", OverlayError if env_files is not None else AppDefinitionError)

        def lookup(name: str) -> str | None:
            return explicit.get(name, collected.get(name))

        collected.update(parse_env_file(text, path, lookup))
    return {**collected, **explicit}


# --- YAML, read as Compose reads it ------------------------------------------

if HAS_YAML:

    class _ComposeLoader(yaml.SafeLoader):
        """YAML 1.2 scalars, as Compose reads them: yes/no/on stay strings, 22:22 is not base 60, no dates."""

    _dropped_tags = {
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:timestamp",
    }
    _ComposeLoader.yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag not in _dropped_tags]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _ComposeLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    _ComposeLoader.add_implicit_resolver(
        "tag:yaml.org,2002:int",
        re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*)|0[0-7]+|0x[0-9a-fA-F]+)$"),
        list("-+0123456789"),
    )
    _ComposeLoader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        list("-+0123456789."),
    )


def parse_compose(text: str, where: str) -> dict[str, Any]:
    """A Compose file's YAML as data (YAML 1.2 scalars; anchors and merge keys work)."""
    if not HAS_YAML:
        raise AppDefinitionError("reading a Compose file needs PyYAML on the controller")
    try:
        data = yaml.load(text, Loader=_ComposeLoader)
    except yaml.YAMLError as failure:
        raise AppDefinitionError(f"{where} is not valid YAML: {failure}") from None
    if not isinstance(data, dict):
        raise AppDefinitionError(f"{where} does not hold a Compose mapping (services: ...)")
    return data


# --- value parsers -------------------------------------------------------------


def parse_duration(value: Any, where: str) -> float:
    """Seconds from a Compose duration: 1m30s, 90s, 1.5s, 500ms, 2h; a bare number counts as seconds."""
    if isinstance(value, bool):
        raise AppDefinitionError(f"{where} must be a duration such as 30s or 1m30s, not {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    position = 0
    total = 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise AppDefinitionError(f"{where} must be a duration such as 30s or 1m30s, not {value!r}")
    return total


def parse_bytes(value: Any, where: str) -> int:
    """Bytes from 64m, 1g, 512k, 100 (binary units, as Docker counts)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _BYTES.fullmatch(str(value).strip())
    if not match:
        raise AppDefinitionError(f"{where} must be a size such as 64m or 1g, not {value!r}")
    return int(float(match.group(1)) * _BYTE_UNITS[match.group(2).lower()])


def _resource_values(data: Mapping[str, Any], where: str, error: type[AppError]) -> dict[str, Any]:
    """cpus and memory as the strings Compose files carry; pids a number; the rest as written."""
    values: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue
        if key == "cpus":
            text = _scalar_text(value).strip()
            if isinstance(value, bool) or not _CPUS.fullmatch(text):
                raise error(f"{where}.cpus must be a number of CPUs such as 0.5, not {value!r}")
            values[key] = text
        elif key == "memory":
            text = _scalar_text(value).strip()
            if isinstance(value, bool) or not _MEMORY.fullmatch(text):
                raise error(f"{where}.memory must be a size such as 128M or 1G, not {value!r}")
            values[key] = text
        elif key == "pids":
            values[key] = _int(value, f"{where}.pids", 1, error)
        elif error is OverlayError:
            raise error(f"{where}.{key} is not a resource the overlay sets (cpus, memory, pids)")
        else:
            values[key] = value
    return values


@dataclass(frozen=True)
class ImageRef:
    name: str
    tag: str | None
    digest: str | None


def parse_image(reference: str) -> ImageRef:
    """name[:tag][@digest]; a colon in the registry part (host:port) is not a tag."""
    name, _at, digest = reference.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = None
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    return ImageRef(name=name, tag=tag, digest=digest or None)


def image_problem(reference: str) -> str | None:
    """Why a strict environment refuses this reference, or None. A digest pins the image whatever the tag."""
    image = parse_image(reference)
    if image.digest:
        return None
    if image.tag is None:
        return "has no tag, which means :latest"
    if image.tag == "latest":
        return "is :latest"
    return None


def check_images(app: App, strict_environments: Iterable[str] = DEFAULT_STRICT_ENVIRONMENTS) -> None:
    """In a strict environment, every image needs a version tag or a digest."""
    strict = list(strict_environments)
    if app.environment not in strict:
        return
    problems = []
    for service in app.services.values():
        problem = image_problem(service.image or "")
        if problem:
            problems.append(f"{service.name} ({service.image}) {problem}")
    if problems:
        raise ImagePolicyError(
            f"environment {app.environment} is strict (strict environments: {', '.join(strict)}), and the image of "
            f"{'; '.join(problems)}: give a version tag or a digest (name@sha256:...) in overlay services.<name>.image"
        )


# --- Compose service keys -----------------------------------------------------


def _as_env_mapping(value: Any, where: str) -> dict[str, Any]:
    """environment / labels: a mapping, or a list of KEY=VALUE (KEY alone: no value)."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(key): item for key, item in value.items()}
    if isinstance(value, list):
        return key_value_list(value)
    raise AppDefinitionError(f"{where} must be a mapping or a list of KEY=VALUE, not {type(value).__name__}")


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


def _parse_expose(value: Any, where: str) -> list[int]:
    ports: list[int] = []
    for index, item in enumerate(value or []):
        text = str(item).split("/", 1)[0]
        ports.extend(_port_range(text, f"{where}[{index}]"))
    return ports


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
            else:
                mount.unsupported[key] = option_value
        mounts.append(mount)
    return mounts


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
    elif test is not None:
        raise AppDefinitionError(f"{where}.test must be a string or a list")
    for key in ("interval", "timeout", "start_period", "start_interval"):
        if data.get(key) is not None:
            setattr(check, key, parse_duration(data[key], f"{where}.{key}"))
    if data.get("retries") is not None:
        check.retries = _int(data["retries"], f"{where}.retries", 0, AppDefinitionError)
    return check


def _parse_update(value: Any, where: str) -> UpdatePolicy:
    data = _mapping(value, where, AppDefinitionError)
    policy = UpdatePolicy()
    if data.get("parallelism") is not None:
        policy.parallelism = _int(data["parallelism"], f"{where}.parallelism", 0, AppDefinitionError)
    for key in ("delay", "monitor"):
        if data.get(key) is not None:
            setattr(policy, key, parse_duration(data[key], f"{where}.{key}"))
    if data.get("failure_action") is not None:
        policy.failure_action = str(data["failure_action"])
    if data.get("max_failure_ratio") is not None:
        policy.max_failure_ratio = float(data["max_failure_ratio"])
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
    for key in ("delay", "window"):
        if data.get(key) is not None:
            setattr(policy, key, parse_duration(data[key], f"{where}.{key}"))
    if data.get("max_attempts") is not None:
        policy.max_attempts = _int(data["max_attempts"], f"{where}.max_attempts", 0, AppDefinitionError)
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


def _parse_file_refs(value: Any, where: str) -> list[FileRef]:
    refs = []
    for index, item in enumerate(value or []):
        if isinstance(item, str):
            refs.append(FileRef(source=item))
            continue
        data = _mapping(item, f"{where}[{index}]", AppDefinitionError)
        if not data.get("source"):
            raise AppDefinitionError(f"{where}[{index}] has no source")
        mode = data.get("mode")
        if isinstance(mode, str):
            try:
                mode = int(mode.replace("0o", ""), 8)
            except ValueError:
                raise AppDefinitionError(f"{where}[{index}].mode must be an octal file mode such as 0440") from None
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
        key: _scalar_text(item) for key, item in _as_env_mapping(data.get("labels"), f"{where}.labels").items()
    }
    resources = _mapping(data.get("resources"), f"{where}.resources", AppDefinitionError)
    for kind in ("limits", "reservations"):
        values = _resource_values(
            _mapping(resources.get(kind), f"{where}.resources.{kind}", AppDefinitionError),
            f"{where}.resources.{kind}",
            AppDefinitionError,
        )
        getattr(service.resources, kind).update(values)
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
        service.expose = _parse_expose(data.get("expose"), f"{where}.expose")
        service.mounts = [
            _parse_volume(item, f"{where}.volumes[{index}]") for index, item in enumerate(data.get("volumes") or [])
        ]
        if data.get("tmpfs") is not None:
            service.mounts.extend(_parse_tmpfs(data["tmpfs"], f"{where}.tmpfs"))
        if data.get("healthcheck") is not None:
            service.healthcheck = _parse_healthcheck(data["healthcheck"], f"{where}.healthcheck")
        service.labels = {
            key: _scalar_text(value) for key, value in _as_env_mapping(data.get("labels"), f"{where}.labels").items()
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
                values = _resource_values({resource: data[key]}, where, AppDefinitionError)
                getattr(service.resources, kind).update(values)
        if data.get("deploy") is not None:
            _apply_deploy(service, data["deploy"], f"{where}.deploy")
        if service.restart is None and data.get("restart") is not None:
            service.restart = _restart_from_compose(data["restart"], f"{where}.restart")
        if service.mode == "global" and service.replicas is not None:
            raise AppDefinitionError(f"{where}: a global service runs one task per node; it takes no replicas or scale")
        return service


def _parse_top_level(kind: str, key: str, value: Any) -> tuple[bool, str | None, str | None, dict[str, Any]]:
    """(external, external name, driver, other options) of a top-level network or volume."""
    data = {
        option: item
        for option, item in _mapping(value, f"{kind}.{key}", AppDefinitionError).items()
        if not option.startswith("x-")
    }
    external = data.pop("external", False)
    external_name = None
    if isinstance(external, Mapping):
        external_name = external.get("name")
        external = True
    name = data.pop("name", None)
    driver = data.pop("driver", None)
    if external:
        external_name = str(external_name or name or key)
    elif name is not None:
        data["name"] = name
    return bool(external), external_name, driver, data


def _file_object(
    kind: str,
    key: str,
    value: Any,
    loader: _Loader,
    overlay_content: str | None,
) -> FileObject:
    where = f"{kind}.{key}"
    data = _mapping(value, where, AppDefinitionError)
    external = data.pop("external", False)
    name = data.pop("name", None)
    sources = [option for option in ("file", "environment", "content") if option in data]
    if external:
        if overlay_content is not None:
            raise OverlayError(f"overlay {kind}.{key}: {where} is external in the Compose file; it takes no content")
        external_name = external.get("name") if isinstance(external, Mapping) else None
        return FileObject(key=key, source="external", external=True, name=str(external_name or name or key))
    if len(sources) > 1:
        raise AppDefinitionError(f"{where} has {' and '.join(sources)}; give one")
    for option in sources:
        data.pop(option)
    obj = FileObject(key=key, source="overlay", name=None if name is None else str(name), options=data)
    if overlay_content is not None:
        obj.content = overlay_content
    elif "file" in sources:
        path = _project_path(loader.project_dir, str(value["file"]))
        obj.source = "file"
        obj.content = _read_text(path, f"the file of {where}")
    elif "environment" in sources:
        variable = str(value["environment"])
        obj.source = "environment"
        obj.content = loader.variables.get(variable)
        if obj.content is None:
            raise AppDefinitionError(f"{where} comes from variable {variable}, which is not set")
    elif "content" in sources:
        obj.source = "content"
        obj.content = _scalar_text(value["content"])
    else:
        raise AppDefinitionError(
            f"{where} has no file, environment or content; give its content in overlay {kind}.{key}"
        )
    return obj


def _normalise_project_name(name: str) -> str:
    normal = re.sub(r"[^a-z0-9_-]", "", name.lower()).lstrip("_-")
    return normal or "app"


def _active_profiles(overlay: Overlay, variables: Mapping[str, str]) -> list[str]:
    if overlay.profiles is not None:
        return list(overlay.profiles)
    return [profile.strip() for profile in variables.get("COMPOSE_PROFILES", "").split(",") if profile.strip()]


def _apply_overlay(service: Service, overlay: ServiceOverlay) -> None:
    where = f"overlay services.{service.name}"
    if overlay.image is not None:
        service.image = overlay.image
        service.image_from_overlay = True
    if overlay.mode is not None:
        service.mode = overlay.mode
        if overlay.mode == "global":
            service.replicas = None
    if service.mode == "global" and overlay.replicas is not None:
        raise OverlayError(f"{where}: service {service.name} is global (one task per node); it takes no replicas")
    if overlay.replicas is not None:
        service.replicas = overlay.replicas
    if overlay.ports is not None:
        service.ports = list(overlay.ports)
    for kind, values in overlay.resources.items():
        getattr(service.resources, kind).update(values)
    for key, value in overlay.environment.items():
        if value is None:
            service.environment.pop(key, None)
        else:
            service.environment[key] = value
    if overlay.placement is not None:
        placement = overlay.placement
        service.placement.classes = placement.classes or service.placement.classes
        service.placement.arches = placement.arches or service.placement.arches
        service.placement.node_labels.update(placement.node_labels)
        service.placement.constraints.extend(c for c in placement.constraints if c not in service.placement.constraints)
        if placement.max_replicas_per_node is not None:
            service.placement.max_replicas_per_node = placement.max_replicas_per_node
    if overlay.domain is not None:
        service.domain = overlay.domain
        service.port = overlay.port if overlay.port is not None else _routed_port(service)


def _routed_port(service: Service) -> int:
    candidates = sorted({port.target for port in service.ports if port.protocol == "tcp"} | set(service.expose))
    if len(candidates) == 1:
        return candidates[0]
    found = (
        f"it publishes or exposes {', '.join(map(str, candidates))}"
        if candidates
        else "it publishes and exposes no port"
    )
    raise OverlayError(
        f"overlay services.{service.name}: the domain {service.domain} needs the container port to route to, and "
        f"{found}: give overlay services.{service.name}.port"
    )


def _check_references(app: App, compose: Mapping[str, Any]) -> None:
    declared = {
        kind: _mapping(compose.get(kind), kind, AppDefinitionError)
        for kind in ("networks", "volumes", "configs", "secrets")
    }
    every_service = _mapping(compose.get("services"), "services", AppDefinitionError)
    for service in app.services.values():
        where = f"services.{service.name}"
        for network in service.networks:
            if network != DEFAULT_NETWORK and network not in declared["networks"]:
                raise AppDefinitionError(
                    f"{where} uses network {network}, which the top-level networks: does not define"
                )
        for mount in service.mounts:
            if mount.type == "volume" and mount.source and mount.source not in declared["volumes"]:
                raise AppDefinitionError(
                    f"{where} mounts volume {mount.source}, which the top-level volumes: does not define"
                )
        for kind in ("configs", "secrets"):
            for ref in getattr(service, kind):
                if ref.source not in declared[kind]:
                    raise AppDefinitionError(
                        f"{where} uses {kind[:-1]} {ref.source}, which the top-level {kind}: does not define"
                    )
        for dependency in service.depends_on:
            if dependency.service not in every_service:
                raise AppDefinitionError(
                    f"{where} depends on {dependency.service}, which the Compose file does not define"
                )
            if dependency.service in app.disabled_services and dependency.required:
                raise AppDefinitionError(
                    f"{where} depends on {dependency.service}, which the active profiles "
                    f"({', '.join(app.profiles) or 'none'}) switch off"
                )


def build_app(
    compose: Mapping[str, Any],
    overlay: Overlay,
    project_dir: str,
    variables: Mapping[str, str] | None = None,
) -> App:
    """The model from Compose data already read (not yet interpolated) and a parsed overlay."""
    project_dir = os.path.abspath(project_dir)
    explicit = {**overlay.variables, **{key: _scalar_text(value) for key, value in (variables or {}).items()}}
    resolved = project_variables(project_dir, overlay.env_files, explicit)
    top_level = {key: value for key, value in compose.items() if not str(key).startswith("x-")}
    if "include" in top_level:
        raise AppDefinitionError("include: is not resolved by this loader; merge the files into one Compose file")
    interpolated, unset = interpolate(top_level, resolved)
    warnings = [f"variable {name} is not set; it stands for an empty string ({where})" for name, where in unset.items()]

    services = _mapping(interpolated.get("services"), "services", AppDefinitionError)
    if not services:
        raise AppDefinitionError("the Compose file has no services")
    name = interpolated.get("name")
    app = App(
        name=_normalise_project_name(str(name) if name else os.path.basename(project_dir)),
        environment=overlay.environment,
        project_dir=project_dir,
        profiles=_active_profiles(overlay, resolved),
        allow=list(overlay.allow),
        options={key: value for key, value in interpolated.items() if key not in _TOP_LEVEL_KEYS},
        warnings=warnings,
    )
    loader = _Loader(project_dir, resolved, app.warnings)
    profiles_of: dict[str, list[str]] = {}
    for service_name, raw in services.items():
        profiles = (
            _string_list(raw.get("profiles") or [], f"services.{service_name}.profiles", AppDefinitionError)
            if isinstance(raw, Mapping)
            else []
        )
        profiles_of[service_name] = profiles
        if profiles and not set(profiles) & set(app.profiles):
            app.disabled_services.append(service_name)
            continue
        app.services[service_name] = loader.service(service_name, raw)

    for service_name, service_overlay in overlay.services.items():
        if service_name in app.disabled_services:
            raise OverlayError(
                f"overlay services.{service_name}: the service is switched off by its profiles "
                f"({', '.join(profiles_of[service_name])}; active: {', '.join(app.profiles) or 'none'}): "
                "add one of them to overlay.profiles, or drop the service from the overlay"
            )
        if service_name not in app.services:
            raise OverlayError(
                f"overlay services.{service_name}: the Compose file has no such service (it has {', '.join(services)})"
            )
        _apply_overlay(app.services[service_name], service_overlay)
    for service in app.services.values():
        if not service.image:
            hint = " (it has only build:; swarm and kubernetes cannot build)" if service.build is not None else ""
            raise AppDefinitionError(
                f"service {service.name} has no image{hint}: give overlay services.{service.name}.image"
            )

    if not app.services:
        raise AppDefinitionError(
            f"every service is switched off by its profiles (active: {', '.join(app.profiles) or 'none'})"
        )
    _check_references(app, interpolated)
    _collect_objects(app, interpolated, overlay, loader)
    return app


def _collect_objects(app: App, compose: Mapping[str, Any], overlay: Overlay, loader: _Loader) -> None:
    """The top-level networks, volumes, configs and secrets the enabled services use."""
    used_networks = {name for service in app.services.values() for name in service.networks}
    used_volumes = {m.source for s in app.services.values() for m in s.mounts if m.type == "volume" and m.source}
    for key, value in _mapping(compose.get("networks"), "networks", AppDefinitionError).items():
        if key in used_networks or (key == DEFAULT_NETWORK and any(not s.networks for s in app.services.values())):
            external, external_name, driver, options = _parse_top_level("networks", key, value)
            app.networks[key] = Network(key, external, external_name, None if driver is None else str(driver), options)
    for key, value in _mapping(compose.get("volumes"), "volumes", AppDefinitionError).items():
        if key in used_volumes:
            external, external_name, driver, options = _parse_top_level("volumes", key, value)
            app.volumes[key] = Volume(key, external, external_name, None if driver is None else str(driver), options)
    for kind in ("configs", "secrets"):
        declared = _mapping(compose.get(kind), kind, AppDefinitionError)
        given: dict[str, str] = getattr(overlay, kind)
        undeclared = [key for key in given if key not in declared]
        if undeclared:
            raise OverlayError(
                f"overlay {kind} gives {', '.join(undeclared)}, which the top-level {kind}: of the Compose file "
                "does not declare"
            )
        used = {ref.source for service in app.services.values() for ref in getattr(service, kind)}
        objects = getattr(app, kind)
        for key, value in declared.items():
            if key in used:
                objects[key] = _file_object(kind, key, value, loader, given.get(key))


def load_app(
    compose_file: str,
    overlay: Overlay | Mapping[str, Any],
    project_dir: str | None = None,
    variables: Mapping[str, str] | None = None,
) -> App:
    """Read compose_file, apply the overlay, return the App.

    project_dir (default: the Compose file's directory) is where .env, env
    files, env_file entries and config/secret files are found. variables win
    over every other source of interpolation variables.
    """
    if not isinstance(overlay, Overlay):
        overlay = parse_overlay(overlay)
    path = os.path.abspath(compose_file)
    compose = parse_compose(_read_text(path, "the Compose file"), path)
    return build_app(compose, overlay, project_dir or os.path.dirname(path), variables)
