# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app model as a Docker Swarm stack definition, with a conversion report.

`render_swarm(app, options)` returns the Compose-format mapping that
drover.platform.swarm_stack deploys as `definition` (no relative paths;
top-level configs and secrets carry `content`, which swarm_stack names by
hash), and a report: one `ReportItem` per Compose key Swarm cannot honour.
A deploy must stop while an item is not allowed (`must_stop`).

What it adds, per service:

* `deploy.update_config`: start-first, rollback on failure, one task at a
  time, a monitor period long enough for the healthcheck to decide
  (start_period + interval x retries, at least 10s); `rollback_config`
  start-first, all tasks at once. A port published in host mode cannot be
  bound twice on one node, so such services update stop-first (reported).
  A service that writes a named volume updates stop-first too, so that two
  of its tasks never write the same data (unless the Compose file asks).
* `deploy.restart_policy`: restart on any exit, 5s apart; a job restarts on
  failure only, at most 3 times (Debian's docker CLI 20.10 cannot deploy
  `replicated-job`, so a job is a replicated one-shot, as swarm_stack counts it).
* `deploy.endpoint_mode`: the target's (vip, or dnsrr where there is no
  IPVS, as in the lab), unless the Compose file says dnsrr; with dnsrr every
  published port is published in host mode.
* routed services: the edge's labels and network, checks, drain and update
  timing, and the report of ports published outside it (`_render_swarm_edge`).
* `$` doubled in every string the docker CLI interpolates, so that values
  arrive as the model holds them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    DEFAULT_NETWORK,
    DEFAULT_STRICT_ENVIRONMENTS,
    NODE_ARCHES,
    NODE_CLASSES,
    App,
    ConversionReport,
    FileObject,
    FileRef,
    Healthcheck,
    Mount,
    Placement,
    Service,
    UpdatePolicy,
)
from ansible_collections.drover.platform.plugins.module_utils._render_frame import (
    FILE_OBJECT_KEYS,
    HONOURED_SERVICE_KEYS,
    Rendered,
    RenderError,
    check_routes,
    open_report,
    result_fields,
)
from ansible_collections.drover.platform.plugins.module_utils._render_swarm_edge import (
    DEFAULT_EDGE_ENTRYPOINT,
    DEFAULT_EDGE_NETWORK,
    EDGE_CHECK_INTERVAL,
    PROBE_TARGET,
    apply_drain,
    check_edge_options,
    edge_update_timing,
    format_duration,
    has_healthcheck,
    probe_healthcheck,
    report_published_ports,
    traefik_labels,
    update_monitor,
)
from ansible_collections.drover.platform.plugins.module_utils._render_swarm_objects import (
    _NETWORK_KEYS,
    _OBJECT_KEYS,
    _VOLUME_KEYS,
    _top_level,
    _top_level_object,
)

COMPOSE_VERSION = "3.9"
ENDPOINT_MODES = ("vip", "dnsrr")
RESTART_DELAY = 5.0
JOB_MAX_ATTEMPTS = 3
_STACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

# Service keys docker stack deploy ignores or refuses (docker/cli
# cli/compose/types UnsupportedProperties, DeprecatedProperties and
# ForbiddenProperties), and Compose Specification keys the 3.x stack file
# format does not have. They are left out of the stack and reported.
_NOT_ON_SWARM = {
    "container_name": "Swarm names every task itself (<stack>_<service>.<slot>.<id>)",
    "links": "Swarm creates no link aliases; services reach each other by service name on a shared network",
    "external_links": "Swarm creates no link aliases; attach the service to the other stack's network",
    "network_mode": "Swarm services attach to networks; there is no network mode",
    "privileged": "Swarm services cannot run privileged containers",
    "devices": "Swarm services cannot map host devices",
    "security_opt": "Swarm services take no security options",
    "cgroup_parent": "Swarm services have no cgroup parent",
    "cgroupns_mode": "Swarm services have no cgroup namespace mode",
    "ipc": "Swarm services cannot share an IPC namespace",
    "pid": "Swarm services cannot share a PID namespace",
    "userns_mode": "Swarm services have no user namespace mode",
    "shm_size": "Swarm services cannot size /dev/shm; mount a tmpfs there instead",
    "mac_address": "Swarm tasks get their MAC addresses from the overlay network",
    "domainname": "Swarm services take no domain name",
    "volumes_from": "docker stack deploy refuses it; share a named volume instead",
    "volume_driver": "docker stack deploy refuses it; set the driver on the top-level volume",
    "cpu_shares": "docker stack deploy refuses it; use deploy.resources",
    "cpu_quota": "docker stack deploy refuses it; use deploy.resources",
    "cpu_period": "Swarm services take no CPU period; use deploy.resources",
    "cpuset": "docker stack deploy refuses it; use deploy.resources",
    "memswap_limit": "docker stack deploy refuses it; Swarm services take no swap limit",
    "pull_policy": "Swarm pulls on every deploy (swarm_stack's resolve_image decides how the image is resolved)",
    "platform": "Swarm picks the image's platform per node; pin nodes with overlay placement.arch",
}
_GENERIC_REASON = "the stack file format docker stack deploy reads has no such key"

# Service keys the stack file format (3.9) has, carried as written.
_CARRIED = (
    "cap_add",
    "cap_drop",
    "credential_spec",
    "dns",
    "dns_search",
    "extra_hosts",
    "hostname",
    "init",
    "isolation",
    "logging",
    "read_only",
    "stdin_open",
    "stop_signal",
    "sysctls",
    "tty",
    "ulimits",
)
# Options of the top-level objects this target honours (the rest are reported).
HONOURED_OBJECT_KEYS = {
    "networks": frozenset(("driver", "external", *_NETWORK_KEYS)),
    "volumes": frozenset(("driver", "external", *_VOLUME_KEYS)),
    "configs": FILE_OBJECT_KEYS | frozenset(_OBJECT_KEYS),
    "secrets": FILE_OBJECT_KEYS | frozenset(_OBJECT_KEYS),
}
# Every service key this target honours (the rest are reported: see _NOT_ON_SWARM).
HONOURED_KEYS = HONOURED_SERVICE_KEYS | frozenset(_CARRIED)


@dataclass
class SwarmOptions:
    """The target's settings (see the app_render action's options)."""

    stack_name: str
    endpoint_mode: str = "vip"
    edge_network: str | None = DEFAULT_EDGE_NETWORK
    edge_entrypoint: str = DEFAULT_EDGE_ENTRYPOINT
    edge_certresolver: str | None = None
    edge_check_interval: float = EDGE_CHECK_INTERVAL
    # A static busybox on every node (Debian's busybox-static: /bin/busybox); set,
    # routed services without a healthcheck get one that fetches their health path with it.
    health_probe: str | None = None
    strict_environments: tuple[str, ...] = DEFAULT_STRICT_ENVIRONMENTS
    allow: tuple[str, ...] = ()


@dataclass
class SwarmStack(Rendered):
    """The stack definition for swarm_stack, the report, and what must stay out of logs."""

    definition: dict[str, Any]


# --- small pieces ---------------------------------------------------------------


def escape_dollars(value: Any) -> Any:
    """$ as $$ in every string (not keys): docker stack deploy interpolates the file again."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, Mapping):
        return {key: escape_dollars(item) for key, item in value.items()}
    if isinstance(value, list):
        return [escape_dollars(item) for item in value]
    return value


def default_stack_name(app: App) -> str:
    return f"{app.name}-{app.environment}"


def placement_constraints(placement: Placement) -> list[str]:
    """Swarm constraints (all must hold) for the model's placement.

    One class or arch is `==`; several are `!=` for every other known value,
    since Swarm constraints cannot say "one of".
    """
    constraints = list(placement.constraints)
    for label, wanted, known in (
        ("drover.class", placement.classes, NODE_CLASSES),
        ("drover.arch", placement.arches, NODE_ARCHES),
    ):
        if len(wanted) == 1:
            constraints.append(f"node.labels.{label}=={wanted[0]}")
        elif wanted:
            constraints.extend(f"node.labels.{label}!={value}" for value in known if value not in wanted)
    constraints.extend(f"node.labels.{key}=={value}" for key, value in placement.node_labels.items())
    return list(dict.fromkeys(constraints))


def _update_config(policy: UpdatePolicy | None, defaults: dict[str, Any]) -> dict[str, Any]:
    config = dict(defaults)
    if policy is not None:
        for key in ("parallelism", "failure_action", "max_failure_ratio", "order"):
            if getattr(policy, key) is not None:
                config[key] = getattr(policy, key)
        for key in ("delay", "monitor"):
            if getattr(policy, key) is not None:
                config[key] = format_duration(getattr(policy, key))
    return config


def _healthcheck(check: Healthcheck, report: ConversionReport, service: str) -> dict[str, Any]:
    if check.disabled:
        return {"disable": True}
    rendered: dict[str, Any] = {}
    if check.test:
        rendered["test"] = list(check.test)
    for key in ("interval", "timeout", "start_period"):
        if getattr(check, key) is not None:
            rendered[key] = format_duration(getattr(check, key))
    if check.retries is not None:
        rendered["retries"] = check.retries
    if check.start_interval is not None:
        report.add(
            service,
            "healthcheck.start_interval",
            "the stack file format has no start_interval; during the start period the check runs at its interval",
        )
    return rendered


def _file_refs(refs: list[FileRef]) -> list[Any]:
    rendered: list[Any] = []
    for ref in refs:
        entry = {key: value for key, value in vars(ref).items() if value is not None}
        rendered.append(ref.source if list(entry) == ["source"] else entry)
    return rendered


def _mount(mount: Mount, report: ConversionReport, service: str) -> dict[str, Any] | None:
    if mount.type not in ("volume", "bind", "tmpfs"):
        report.add(service, "volumes.type", f"a {mount.type} mount on {mount.target} has no Swarm equivalent; left out")
        return None
    if mount.type == "bind" and mount.is_relative_bind:
        report.add(
            service,
            "volumes.bind_relative",
            f"{mount.source} on {mount.target} is a path on the controller, next to the Compose file; no node has "
            "it, so the mount is left out",
        )
        return None
    if mount.type == "bind":
        report.add(
            service,
            "volumes.bind",
            f"the host path {mount.source} (on {mount.target}) must exist on every node the service can run on; "
            "Swarm does not copy it",
        )
    for key in mount.unsupported:
        report.add(service, f"volumes.{key}", f"the {mount.type} mount on {mount.target} cannot have {key} on Swarm")
    rendered: dict[str, Any] = {"type": mount.type}
    if mount.source:
        rendered["source"] = mount.source
    rendered["target"] = mount.target
    if mount.read_only:
        rendered["read_only"] = True
    if mount.type == "volume" and mount.nocopy:
        rendered["volume"] = {"nocopy": True}
    if mount.type == "bind" and mount.propagation:
        rendered["bind"] = {"propagation": mount.propagation}
    if mount.type == "tmpfs" and mount.size is not None:
        rendered["tmpfs"] = {"size": mount.size}
    return rendered


def _ports(service: Service, endpoint_mode: str, report: ConversionReport) -> tuple[list[dict[str, Any]], list[int]]:
    """(ports as the stack file writes them, published ports bound on the node itself)."""
    rendered = []
    host_ports = []
    for port in service.ports:
        mode = port.mode or ("host" if endpoint_mode == "dnsrr" else "ingress")
        if endpoint_mode == "dnsrr" and mode == "ingress":
            report.add(
                service.name,
                "ports.mode",
                f"port {port.published or port.target} asks for the routing mesh (ingress), which dnsrr services "
                "cannot use; published in host mode",
            )
            mode = "host"
        if port.host_ip:
            report.add(
                service.name,
                "ports.host_ip",
                f"Swarm publishes port {port.published or port.target} on every address of the node, not on "
                f"{port.host_ip} only",
            )
        for key in ("name", "app_protocol"):
            if getattr(port, key) is not None:
                report.add(
                    service.name,
                    f"ports.{key}",
                    f"the stack file format has no port {key}; {key} {getattr(port, key)} of port {port.target} is "
                    "left out",
                )
        entry: dict[str, Any] = {"target": port.target}
        if port.published is not None:
            entry["published"] = port.published
        entry["protocol"] = port.protocol
        entry["mode"] = mode
        # Ports that differ only in what Swarm leaves out are one port; docker stack deploy refuses a port twice.
        if entry in rendered:
            continue
        rendered.append(entry)
        if mode == "host" and port.published is not None:
            host_ports.append(port.published)
    return rendered, host_ports


def _networks(service: Service, routed: bool, edge_key: str, report: ConversionReport) -> Any:
    attachments = dict(service.networks) or {DEFAULT_NETWORK: None}
    rendered: dict[str, Any] = {}
    for name, attachment in attachments.items():
        entry: dict[str, Any] = {}
        if attachment is not None:
            if attachment.aliases:
                entry["aliases"] = list(attachment.aliases)
            for key in attachment.options:
                report.add(service.name, f"networks.{key}", f"Swarm cannot set {key} on network {name}")
        rendered[name] = entry or None
    if routed:
        rendered[edge_key] = None
    if all(entry is None for entry in rendered.values()):
        return list(rendered)
    return rendered


def _resources(service: Service, report: ConversionReport) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for kind, known in (
        ("limits", ("cpus", "memory", "pids")),
        ("reservations", ("cpus", "memory", "generic_resources")),
    ):
        values = {}
        for key, value in getattr(service.resources, kind).items():
            if key in known:
                values[key] = value
            else:
                report.add(
                    service.name, f"deploy.resources.{kind}.{key}", f"Swarm services cannot reserve or limit {key}"
                )
        if values:
            resources[kind] = values
    return resources


def _restart_policy(service: Service) -> dict[str, Any]:
    if service.mode == "job":
        policy: dict[str, Any] = {"condition": "on-failure", "delay": format_duration(RESTART_DELAY)}
        policy["max_attempts"] = JOB_MAX_ATTEMPTS
    else:
        policy = {"condition": "any", "delay": format_duration(RESTART_DELAY)}
    restart = service.restart
    if restart is not None:
        policy["condition"] = restart.condition
        if restart.delay is not None:
            policy["delay"] = format_duration(restart.delay)
        if restart.max_attempts is not None:
            policy["max_attempts"] = restart.max_attempts
        elif restart.condition != "on-failure":
            policy.pop("max_attempts", None)
        if restart.window is not None:
            policy["window"] = format_duration(restart.window)
    return policy


def _deploy(
    service: Service,
    options: SwarmOptions,
    stack: str,
    host_ports: list[int],
    report: ConversionReport,
) -> dict[str, Any]:
    deploy: dict[str, Any] = {}
    if service.mode == "global":
        deploy["mode"] = "global"
    else:
        deploy["mode"] = "replicated"
        deploy["replicas"] = 1 if service.replicas is None else service.replicas
    deploy["endpoint_mode"] = "dnsrr" if "dnsrr" in (options.endpoint_mode, service.endpoint_mode) else "vip"
    labels = dict(service.service_labels)
    if service.routed:
        labels.update(traefik_labels(stack, service, options))
    if labels:
        deploy["labels"] = labels
    resources = _resources(service, report)
    if resources:
        deploy["resources"] = resources
    placement: dict[str, Any] = {}
    constraints = placement_constraints(service.placement)
    if constraints:
        placement["constraints"] = constraints
    if service.placement.spread:
        placement["preferences"] = [{"spread": spread} for spread in service.placement.spread]
    if service.placement.max_replicas_per_node is not None:
        placement["max_replicas_per_node"] = service.placement.max_replicas_per_node
    if placement:
        deploy["placement"] = placement
    deploy["restart_policy"] = _restart_policy(service)
    if service.mode == "job":
        return deploy

    # Two tasks of a service writing one named volume on a node (a database)
    # must never run at once: such a service stops its old task first, unless
    # the Compose file says otherwise.
    order = "stop-first" if any(m.type == "volume" and not m.read_only for m in service.mounts) else "start-first"
    defaults: dict[str, Any] = {
        "parallelism": 1,
        "order": order,
        "failure_action": "rollback",
        "monitor": format_duration(update_monitor(service.healthcheck)),
    }
    if service.routed and not has_healthcheck(service):
        monitor, delay = edge_update_timing(options)
        probe = probe_healthcheck(service, options)
        if probe is not None:
            monitor = max(monitor, update_monitor(probe))
        defaults["monitor"] = format_duration(monitor)
        defaults["delay"] = format_duration(delay)
    update = _update_config(service.update, defaults)
    rollback = _update_config(service.rollback, {"parallelism": 0, "order": order})
    if host_ports and "start-first" in (update.get("order"), rollback.get("order")):
        published = sorted(set(host_ports))
        ports = f"port {published[0]} is" if len(published) == 1 else f"ports {', '.join(map(str, published))} are"
        report.add(
            service.name,
            "deploy.update_config.order",
            f"{ports} published in host mode, and two tasks cannot bind one on the same node: updates and "
            "rollbacks stop the old task before starting the new one (stop-first), so the service is briefly down "
            "on that node",
        )
        update["order"] = rollback["order"] = "stop-first"
    deploy["update_config"] = update
    deploy["rollback_config"] = rollback
    return deploy


def _service_options(service: Service, report: ConversionReport) -> dict[str, Any]:
    carried: dict[str, Any] = {}
    for key, value in service.options.items():
        if key in _CARRIED:
            carried[key] = _extra_hosts(value) if key == "extra_hosts" else value
        else:
            report.add(service.name, key, f"{_NOT_ON_SWARM.get(key, _GENERIC_REASON)}; left out")
    return carried


def _extra_hosts(value: Any) -> list[str]:
    """host:address entries, the form the 3.x stack file reads (Compose also writes a mapping, or host=address)."""
    if isinstance(value, Mapping):
        entries = []
        for host, addresses in value.items():
            for address in addresses if isinstance(addresses, list) else [addresses]:
                entries.append(f"{host}:{address}")
        return entries
    return [str(item).replace("=", ":", 1) if "=" in str(item) else str(item) for item in value or []]


def _service(
    app: App, service: Service, options: SwarmOptions, stack: str, edge_key: str, report: ConversionReport
) -> dict[str, Any]:
    name = service.name
    report.add_unbuilt_and_unordered(service, "Swarm", "services")
    rendered: dict[str, Any] = {"image": service.image}
    if service.command is not None:
        rendered["command"] = list(service.command)
    if service.entrypoint is not None:
        rendered["entrypoint"] = list(service.entrypoint)
    if service.environment:
        rendered["environment"] = dict(service.environment)
    if service.labels:
        rendered["labels"] = dict(service.labels)
    for key in ("user", "working_dir"):
        if getattr(service, key) is not None:
            rendered[key] = getattr(service, key)
    if service.stop_grace_period is not None:
        rendered["stop_grace_period"] = format_duration(service.stop_grace_period)
    if service.healthcheck is not None:
        rendered["healthcheck"] = _healthcheck(service.healthcheck, report, name)
    probe = probe_healthcheck(service, options)
    if probe is not None:
        rendered["healthcheck"] = _healthcheck(probe, report, name)
    if service.mode != "job":
        apply_drain(service, rendered, report)
    report_published_ports(service, app, options, report)
    endpoint_mode = "dnsrr" if "dnsrr" in (options.endpoint_mode, service.endpoint_mode) else "vip"
    ports, host_ports = _ports(service, endpoint_mode, report)
    if ports:
        rendered["ports"] = ports
    mounts = [mount for mount in (_mount(m, report, name) for m in service.mounts) if mount is not None]
    if probe is not None:
        mounts.append({"type": "bind", "source": options.health_probe, "target": PROBE_TARGET, "read_only": True})
    if mounts:
        rendered["volumes"] = mounts
    for kind in ("configs", "secrets"):
        refs = getattr(service, kind)
        if refs:
            rendered[kind] = _file_refs(refs)
    if service.networks or service.routed:
        rendered["networks"] = _networks(service, service.routed, edge_key, report)
    rendered.update(_service_options(service, report))
    rendered["deploy"] = _deploy(service, options, stack, host_ports, report)
    return rendered


def _check_options(app: App, options: SwarmOptions) -> None:
    if not _STACK_NAME.fullmatch(options.stack_name):
        raise RenderError(
            f"{options.stack_name!r} is not a stack name: use letters, digits, '_', '-' and '.', starting with a "
            "letter or digit"
        )
    if options.endpoint_mode not in ENDPOINT_MODES:
        raise RenderError(f"endpoint_mode must be vip or dnsrr, not {options.endpoint_mode!r}")
    check_edge_options(app, options)
    check_routes(app)
    for kind in ("configs", "secrets"):
        for key, obj in getattr(app, kind).items():
            if isinstance(obj.content, bytes):
                raise RenderError(
                    f"{kind[:-1]} {key} is a binary file, and swarm_stack hands contents to Swarm as text: give "
                    "its content base64-encoded and decode it in the service, or create it with docker "
                    f"{kind[:-1]} create and declare it external"
                )


def render_swarm(app: App, options: SwarmOptions) -> SwarmStack:
    """The stack definition for swarm_stack, and the conversion report.

    Raises RenderError for options that do not fit the app and
    ImagePolicyError for :latest or untagged images in a strict environment.
    """
    _check_options(app, options)
    report = open_report(app, options.strict_environments, options.allow, _GENERIC_REASON)
    stack = options.stack_name
    edge_key = str(options.edge_network or DEFAULT_EDGE_NETWORK)
    routed = any(service.routed for service in app.services.values())
    declared = app.networks.get(edge_key)
    if routed and declared is not None and not (declared.external and declared.external_name == edge_key):
        raise RenderError(
            f"the Compose file defines a network {edge_key}, the name of the edge network; rename it, or declare it "
            f"external with name {edge_key}"
        )

    services = {
        name: _service(app, service, options, stack, edge_key, report) for name, service in app.services.items()
    }
    definition: dict[str, Any] = {"version": COMPOSE_VERSION, "services": services}

    networks = {key: _top_level(key, network, report) for key, network in app.networks.items()}
    if routed:
        networks[edge_key] = {"name": edge_key, "external": True}
    volumes = {key: _top_level(key, volume, report) for key, volume in app.volumes.items()}
    for kind, value in (("networks", networks), ("volumes", volumes)):
        if value:
            definition[kind] = value
    definition = escape_dollars(definition)

    # Contents go to swarm_stack as they are: it writes them to files, which the CLI does not interpolate.
    for kind in ("configs", "secrets"):
        objects: dict[str, FileObject] = getattr(app, kind)
        if objects:
            definition[kind] = {}
            for key, obj in objects.items():
                entry = escape_dollars(_top_level_object(kind, obj, report))
                if obj.content is not None:
                    entry["content"] = obj.content
                definition[kind][key] = entry

    return SwarmStack(definition=definition, **result_fields(app, report))
