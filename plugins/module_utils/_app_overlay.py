# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An environment's overlay: its format, checked, and how it changes the services of the model.

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
        health_path: /healthz    # the edge's active health check (default /)
        retry: 3                 # the edge's retries of a request that found no server (0: none)
        drain: 15s               # a task leaving keeps serving this long (default: 15s for a
                                 # routed service without a healthcheck; 0: Swarm's own stop)
        resources: {limits: {cpus: "0.5", memory: 128M}, reservations: {memory: 64M}}
        environment: {LOG_LEVEL: debug, DEBUG_TOOLBAR: null}   # null removes a variable
        placement:
          class: [nuc, pc]       # node label drover.class, set by the swarm role
          arch: amd64            # node label drover.arch
          labels: {disk: ssd}    # other node labels
          constraints: ["node.role==worker"]
          max_replicas_per_node: 1
        backup:                  # playbooks/backup.yml, for the service's named volumes
          before: [redis-cli, save]  # run in each running container first (docker exec)
          pause: false           # pause its containers while the volumes are read
    secrets: {db_password: "..."}  # contents of Compose top-level secrets (from vault)
    configs: {nginx_conf: "..."}   # contents of Compose top-level configs
    allow: [depends_on.condition]  # report keys accepted (or service:key for one service)

Values from the overlay are taken literally, never interpolated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    MODES,
    NODE_ARCHES,
    NODE_CLASSES,
    AppDefinitionError,
    OverlayError,
    Placement,
    Port,
    RouteOptions,
    Service,
    parse_image,
)
from ansible_collections.drover.platform.plugins.module_utils._compose_service import (
    _parse_port,
)
from ansible_collections.drover.platform.plugins.module_utils._compose_values import (
    _int,
    _mapping,
    _port_number,
    _resource_values,
    _scalar_text,
    _string_list,
    _unknown_keys,
    parse_duration,
    update_resources,
)

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_DOMAIN = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)


# --- the overlay ---------------------------------------------------------------

_OVERLAY_KEYS = ("environment", "profiles", "env_files", "variables", "services", "secrets", "configs", "allow")
_SERVICE_OVERLAY_KEYS = (
    "image",
    "replicas",
    "mode",
    "domain",
    "port",
    "ports",
    "resources",
    "environment",
    "placement",
    "health_path",
    "retry",
    "drain",
    "backup",
)
_BACKUP_OVERLAY_KEYS = ("before", "pause")
# Container labels backup.yml reads on each node: the hook's argv (JSON) and
# whether to pause the service's containers while its volumes are read.
BACKUP_BEFORE_LABEL = "drover.backup.before"
BACKUP_PAUSE_LABEL = "drover.backup.pause"
# Keys that only mean something for a service the edge routes to.
_ROUTE_OVERLAY_KEYS = ("port", "health_path", "retry", "drain")
_HEALTH_PATH = re.compile(r"/[\x21-\x7e]*")
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
    health_path: str | None = None
    retry: int | None = None
    drain: float | None = None
    # backup.yml's consistency hook: run in each running container of the
    # service (docker exec) before its named volumes are read; and/or pause
    # those containers while the volumes are read.
    backup_before: list[str] | None = None
    backup_pause: bool = False


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
    for key in _ROUTE_OVERLAY_KEYS:
        if data.get(key) is not None and overlay.domain is None:
            raise OverlayError(f"{where}.{key} is about how the edge routes to the service; it needs a domain")
    if data.get("port") is not None:
        overlay.port = _port_number(data["port"], f"{where}.port")
    if data.get("health_path") is not None:
        path = data["health_path"]
        if not isinstance(path, str) or not _HEALTH_PATH.fullmatch(path):
            raise OverlayError(f"{where}.health_path must be a URL path such as /healthz, not {path!r}")
        overlay.health_path = path
    if data.get("retry") is not None:
        overlay.retry = _int(data["retry"], f"{where}.retry")
    if data.get("drain") is not None:
        try:
            overlay.drain = parse_duration(data["drain"], f"{where}.drain")
        except AppDefinitionError as error:
            raise OverlayError(str(error)) from None
        if overlay.drain < 0:
            raise OverlayError(f"{where}.drain must not be negative")
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
    if data.get("backup") is not None:
        _backup_overlay(overlay, data["backup"], f"{where}.backup")
    return overlay


def _backup_overlay(overlay: ServiceOverlay, value: Any, where: str) -> None:
    data = _mapping(value, where)
    _unknown_keys(data, _BACKUP_OVERLAY_KEYS, where)
    before = data.get("before")
    if before is not None:
        if isinstance(before, str) and before.strip():
            overlay.backup_before = ["/bin/sh", "-c", before]
        elif isinstance(before, list) and before and all(isinstance(item, str) and item for item in before):
            overlay.backup_before = list(before)
        else:
            raise OverlayError(
                f"{where}.before must be a command, as a string (run by /bin/sh -c) or a list of words such as"
                f" [redis-cli, save], not {before!r}"
            )
    pause = data.get("pause", False)
    if not isinstance(pause, bool):
        raise OverlayError(f"{where}.pause must be true or false, not {pause!r}")
    overlay.backup_pause = pause


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
        update_resources(getattr(service.resources, kind), values)
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
    if overlay.backup_before is not None:
        service.labels[BACKUP_BEFORE_LABEL] = json.dumps(overlay.backup_before)
    if overlay.backup_pause:
        service.labels[BACKUP_PAUSE_LABEL] = "true"
    if overlay.domain is not None:
        service.domain = overlay.domain
        service.port = overlay.port if overlay.port is not None else _routed_port(service)
        service.route = RouteOptions(health_path=overlay.health_path, retry=overlay.retry, drain=overlay.drain)


def _routed_port(service: Service) -> int:
    candidates = sorted({port.target for port in [*service.ports, *service.expose] if port.protocol == "tcp"})
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
