# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app model no target owns: the services of a Compose file after an environment's overlay.

Plain dataclasses (`App`, `Service` and their parts) that `_compose_loader`
builds from a Compose file and `_app_overlay` adjusts, and that the Swarm
(`_render_swarm`) and Kubernetes (`_render_k8s`) renderers turn into their own
specs; the errors the loader raises; the conversion report both targets fill;
and the image policy of strict environments. Compose keys the model does not
interpret stay in `Service.options` as written, for each target to carry or
to report.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

# Node labels the swarm role sets (drover.class from host_profile's classes,
# plus "unknown"; drover.arch in Debian's names).
NODE_CLASSES = ("nuc", "pc", "rpi", "vm", "container", "unknown")
NODE_ARCHES = ("amd64", "arm64", "armhf", "i386", "ppc64el", "s390x", "riscv64")
MODES = ("replicated", "global", "job")
DEFAULT_STRICT_ENVIRONMENTS = ("preprod", "prod")
DEFAULT_NETWORK = "default"


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
    # The long syntax's name and app_protocol (an application protocol such as http or grpc).
    name: str | None = None
    app_protocol: str | None = None


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
class RouteOptions:
    """How the edge routes to a service (overlay health_path, retry, drain); None: the target's default."""

    health_path: str | None = None
    retry: int | None = None
    drain: float | None = None


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
    # Container ports reached by other services only (never published).
    expose: list[Port] = field(default_factory=list)
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
    route: RouteOptions = field(default_factory=RouteOptions)
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
class _TopLevel:
    """A top-level network or volume, both read alike; an external one is made outside the app, as external_name."""

    name: str
    external: bool = False
    external_name: str | None = None
    driver: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Network(_TopLevel):
    """A top-level network."""


@dataclass
class Volume(_TopLevel):
    """A top-level volume."""


@dataclass
class FileObject:
    """A top-level config or secret, its content read on the controller (None when external)."""

    key: str
    source: str  # file, content, environment, overlay or external
    # Text, or bytes for a file that is not UTF-8 text.
    content: str | bytes | None = None
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
        """Secret contents, and a binary secret's base64 (the form a Kubernetes Secret carries), to keep out of logs."""
        values = []
        for secret in self.secrets.values():
            content = secret.content
            if isinstance(content, bytes):
                values.append(base64.b64encode(content).decode("ascii"))
            elif content:
                values.append(content)
        return values


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
        started = [dependency.service for dependency in service.depends_on if dependency.condition == "service_started"]
        if started:
            self.add(
                name,
                "depends_on",
                f"{target} starts {units} in no order: {name} may start before {', '.join(started)}, and must retry "
                "until it answers",
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
