# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A service's pod on Kubernetes: its container, probes, mounts and the pod-level keys."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    ConversionReport,
    FileObject,
    FileRef,
    Healthcheck,
    Mount,
    Port,
    Service,
)
from ansible_collections.drover.platform.plugins.module_utils._compose_values import parse_bytes
from ansible_collections.drover.platform.plugins.module_utils._render_frame import HONOURED_SERVICE_KEYS
from ansible_collections.drover.platform.plugins.module_utils._render_k8s_placement import (
    _placement,
)
from ansible_collections.drover.platform.plugins.module_utils._render_k8s_plan import (
    _DNS_LABEL,
    _GENERIC_REASON,
    _NO_NEW_PRIVILEGES,
    _NOT_ON_KUBERNETES,
    _PROPAGATIONS,
    _PULL_POLICIES,
    FILE_MODE,
    HEALTHCHECK_INTERVAL,
    HEALTHCHECK_RETRIES,
    HEALTHCHECK_START_INTERVAL,
    HEALTHCHECK_TIMEOUT,
    STOP_GRACE_PERIOD,
    _annotations,
    _Plan,
    bytes_quantity,
    config_key,
    cpu_quantity,
    dns_name,
    is_port_name,
    memory_quantity,
    seconds,
)

# --- the probes ---------------------------------------------------------------------


def probes(check: Healthcheck | None) -> dict[str, dict[str, Any]]:
    """livenessProbe, readinessProbe and, with a start period, startupProbe from a Compose healthcheck.

    The checks run as Docker runs them: CMD as given, CMD-SHELL through
    /bin/sh -c, Docker's defaults (30s interval and timeout, 3 retries) where
    the Compose file is silent. The startup probe allows start_period plus
    interval x retries, checked every start_interval (Docker's 5s default).
    """
    if check is None or check.disabled or not check.test:
        return {}
    kind, *args = check.test
    command = ["/bin/sh", "-c", " ".join(args)] if kind == "CMD-SHELL" else list(args)
    interval = HEALTHCHECK_INTERVAL if check.interval is None else check.interval
    timeout = HEALTHCHECK_TIMEOUT if check.timeout is None else check.timeout
    retries = check.retries or HEALTHCHECK_RETRIES

    def probe(period: int, threshold: int, **extra: int) -> dict[str, Any]:
        return {
            "exec": {"command": list(command)},
            "periodSeconds": period,
            "timeoutSeconds": seconds(timeout),
            "failureThreshold": threshold,
            **extra,
        }

    rendered = {
        "livenessProbe": probe(seconds(interval), retries),
        "readinessProbe": probe(seconds(interval), retries, successThreshold=1),
    }
    if check.start_period:
        period = seconds(HEALTHCHECK_START_INTERVAL if check.start_interval is None else check.start_interval)
        rendered["startupProbe"] = probe(period, max(1, math.ceil((check.start_period + interval * retries) / period)))
    return rendered


# --- a service's pod --------------------------------------------------------------------


def _escape(value: str) -> str:
    """$ as $$: Kubernetes expands $(VAR) in env values, command and args, and reads $$ as $."""
    return value.replace("$", "$$")


@dataclass(frozen=True)
class ContainerPort:
    """A port of the container and of its Service: number, protocol, name and application protocol."""

    port: int
    protocol: str
    name: str
    app_protocol: str | None = None


def _port_name(port: int, protocol: str) -> str:
    return f"{protocol.lower()}-{port}"


def _container_ports(service: Service, report: ConversionReport | None = None) -> list[ContainerPort]:
    """Each container port once; a Compose port name Kubernetes refuses (or gives twice) is replaced, and reported."""
    ports: list[ContainerPort] = []
    routed = [Port(target=service.port)] if service.port is not None else []
    for port in [*service.ports, *service.expose, *routed]:
        protocol = port.protocol.upper()
        if any(known.port == port.target and known.protocol == protocol for known in ports):
            continue
        name = _port_name(port.target, protocol)
        if port.name is not None:
            if is_port_name(port.name) and all(known.name != port.name for known in ports):
                name = port.name
            elif report is not None:
                report.add(
                    service.name,
                    "ports.name",
                    f"{port.name} is no Kubernetes port name (at most 15 lowercase letters, digits and '-', with a "
                    f"letter, once per pod); the port is named {name}",
                )
        ports.append(ContainerPort(port.target, protocol, name, port.app_protocol))
    return ports


def _report_published(service: Service, report: ConversionReport) -> None:
    published = [port for port in service.ports if port.published is not None]
    if not published:
        return
    listed = ", ".join(f"{port.published}->{port.target}/{port.protocol}" for port in published)
    report.add(
        service.name,
        "ports.published",
        f"Kubernetes publishes no port on the nodes ({listed}): the container ports are on the service's ClusterIP "
        "Service, reached inside the cluster; give the service a domain to reach it from outside",
    )


def _user(service: Service, report: ConversionReport) -> dict[str, Any]:
    if service.user is None:
        return {}
    user, _colon, group = service.user.partition(":")
    if not user.isdigit() or (group and not group.isdigit()):
        report.add(
            service.name,
            "user",
            f"Kubernetes runs containers as numeric user and group IDs, not {service.user}; the image's user is used",
        )
        return {}
    context: dict[str, Any] = {"runAsUser": int(user)}
    if group:
        context["runAsGroup"] = int(group)
    return context


def _resources(service: Service, report: ConversionReport) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    for kind, k8s_kind in (("limits", "limits"), ("reservations", "requests")):
        values: dict[str, str] = {}
        for key, value in getattr(service.resources, kind).items():
            where = f"services.{service.name}.deploy.resources.{kind}.{key}"
            if key == "cpus":
                values["cpu"] = cpu_quantity(str(value))
            elif key == "memory":
                values["memory"] = memory_quantity(str(value), where)
            elif key == "pids":
                report.add(
                    service.name,
                    "deploy.resources.limits.pids",
                    "Kubernetes limits the processes of a pod only through the kubelet's podPidsLimit; left out",
                )
            else:
                report.add(
                    service.name,
                    f"deploy.resources.{kind}.{key}",
                    f"the manifests this target writes cannot reserve or limit {key}",
                )
        if values:
            rendered[k8s_kind] = values
    return rendered


@dataclass
class _PodParts:
    """What a pod spec gathers from a service's keys beside its container."""

    volumes: list[dict[str, Any]] = field(default_factory=list)
    mounts: list[dict[str, Any]] = field(default_factory=list)
    pod: dict[str, Any] = field(default_factory=dict)
    pod_security: dict[str, Any] = field(default_factory=dict)
    container: dict[str, Any] = field(default_factory=dict)
    security: dict[str, Any] = field(default_factory=dict)

    def add_volume(self, volume: dict[str, Any]) -> None:
        if volume not in self.volumes:
            self.volumes.append(volume)


def _mount(plan: _Plan, service: Service, mount: Mount, index: int, parts: _PodParts) -> None:
    report = plan.report
    name = service.name
    if mount.type not in ("volume", "bind", "tmpfs"):
        report.add(name, "volumes.type", f"a {mount.type} mount on {mount.target} has no Kubernetes equivalent")
        return
    if mount.type == "bind" and mount.is_relative_bind:
        report.add(
            name,
            "volumes.bind_relative",
            f"{mount.source} on {mount.target} is a path on the controller, next to the Compose file; no node has "
            "it, so the mount is left out",
        )
        return
    for key in mount.unsupported:
        report.add(name, f"volumes.{key}", f"the {mount.type} mount on {mount.target} cannot have {key} on Kubernetes")
    volume_mount: dict[str, Any] = {"mountPath": mount.target}
    if mount.type == "volume" and mount.source:
        volume = plan.volumes[mount.source]
        # A claim template's name is a DNS label already; an external claim's name may have dots.
        volume_mount["name"] = dns_name(volume.claim)
        if volume.template_of != name:
            claim: dict[str, Any] = {"claimName": volume.claim}
            parts.add_volume({"name": dns_name(volume.claim), "persistentVolumeClaim": claim})
    elif mount.type == "volume":
        # An anonymous volume lives as long as the container: an emptyDir lives as long as the pod.
        volume_mount["name"] = f"anonymous-{index}"
        parts.add_volume({"name": f"anonymous-{index}", "emptyDir": {}})
    elif mount.type == "tmpfs":
        volume_mount["name"] = f"tmpfs-{index}"
        empty_dir: dict[str, Any] = {"medium": "Memory"}
        if mount.size is not None:
            empty_dir["sizeLimit"] = bytes_quantity(mount.size)
        parts.add_volume({"name": f"tmpfs-{index}", "emptyDir": empty_dir})
    else:
        report.add(
            name,
            "volumes.bind",
            f"the host path {mount.source} (on {mount.target}) must exist on every node the pods can run on; "
            "Kubernetes does not copy it",
        )
        volume_mount["name"] = f"host-{index}"
        parts.add_volume({"name": f"host-{index}", "hostPath": {"path": str(mount.source)}})
        if mount.propagation in _PROPAGATIONS:
            volume_mount["mountPropagation"] = _PROPAGATIONS[mount.propagation]
        elif mount.propagation:
            report.add(
                name,
                "volumes.propagation",
                f"{mount.propagation} propagation on {mount.target} needs a privileged container on Kubernetes; "
                "the mount propagates from the host only",
            )
            volume_mount["mountPropagation"] = "HostToContainer"
    if mount.read_only:
        volume_mount["readOnly"] = True
    order = ("name", "mountPath", "readOnly", "mountPropagation")
    parts.mounts.append({key: volume_mount[key] for key in order if key in volume_mount})


def _file_mounts(plan: _Plan, service: Service, kind: str, refs: list[FileRef], parts: _PodParts) -> None:
    for ref in refs:
        obj: FileObject = getattr(plan.app, kind)[ref.source]
        for attribute in ("uid", "gid"):
            if getattr(ref, attribute) is not None:
                plan.report.add(
                    service.name,
                    f"{kind}.{attribute}",
                    f"Kubernetes mounts {kind[:-1]} {ref.source} owned by root (or the pod's fsGroup), not by "
                    f"{attribute} {getattr(ref, attribute)}",
                )
        mode = FILE_MODE if ref.mode is None else ref.mode
        volume_name = dns_name(f"{kind[:-1]}-{ref.source}" + ("" if ref.mode is None else f"-{ref.mode:o}"))
        data_key = config_key(obj.key) if obj.content is not None and not obj.external else None
        if kind == "configs":
            source: dict[str, Any] = {"name": plan.objects[(kind, ref.source)], "defaultMode": mode}
            parts.add_volume({"name": volume_name, "configMap": source})
            default_target = f"/{ref.source}"
        else:
            source = {"secretName": plan.objects[(kind, ref.source)], "defaultMode": mode}
            parts.add_volume({"name": volume_name, "secret": source})
            default_target = f"/run/secrets/{ref.source}"
        target = ref.target or default_target
        if not target.startswith("/"):
            target = f"/run/secrets/{target}" if kind == "secrets" else f"/{target}"
        mount: dict[str, Any] = {"name": volume_name, "mountPath": target, "readOnly": True}
        # An external object's keys are unknown: the whole object is the folder at the target.
        if data_key is not None:
            mount["subPath"] = data_key
        parts.mounts.append(mount)


DNS_SERVERS = 3


def _extra_hosts(value: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """(host aliases, the host names mapped to host-gateway, which has no address in a pod)."""
    pairs: list[tuple[str, str]] = []
    if isinstance(value, Mapping):
        for host, addresses in value.items():
            for address in addresses if isinstance(addresses, list) else [addresses]:
                pairs.append((str(host), str(address)))
    else:
        for item in value or []:
            text = str(item)
            host, _sep, address = text.partition("=") if "=" in text else text.partition(":")
            pairs.append((host.strip(), address.strip()))
    aliases: dict[str, list[str]] = {}
    gateway = []
    for host, address in pairs:
        if address == "host-gateway":
            gateway.append(host)
        else:
            aliases.setdefault(address.strip("[]"), []).append(host)
    return [{"ip": ip, "hostnames": hosts} for ip, hosts in aliases.items()], gateway


def _key_values(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        return [(str(key), str(item)) for key, item in value.items()]
    pairs = []
    for item in value or []:
        key, _equals, rest = str(item).partition("=")
        pairs.append((key, rest))
    return pairs


def _capabilities(values: Any) -> list[str]:
    return [str(value).upper().removeprefix("CAP_") for value in values or []]


# Service keys the pod carries where Kubernetes has them (the rest, and values it has not, are reported).
POD_KEYS = (
    "cap_add cap_drop privileged read_only security_opt init hostname extra_hosts sysctls group_add tty stdin_open "
    "pull_policy platform shm_size pid ipc network_mode dns dns_search dns_opt"
).split()
# Every service key this target honours.
HONOURED_KEYS = HONOURED_SERVICE_KEYS | frozenset(POD_KEYS)


def _true(value: Any) -> bool:
    """A Compose boolean: true, or the string "true" (interpolated values are strings)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _service_options(service: Service, parts: _PodParts, report: ConversionReport) -> None:
    """The Compose keys the model keeps as written, on the pod where Kubernetes has them; the rest reported."""
    name = service.name
    for key, value in service.options.items():
        reason = None
        if key in ("cap_add", "cap_drop"):
            parts.security.setdefault("capabilities", {})["add" if key == "cap_add" else "drop"] = _capabilities(value)
        elif key == "privileged":
            if _true(value):
                parts.security["privileged"] = True
        elif key == "read_only":
            if _true(value):
                parts.security["readOnlyRootFilesystem"] = True
        elif key == "security_opt":
            others = [item for item in value or [] if str(item) not in _NO_NEW_PRIVILEGES]
            if len(others) < len(value or []) and _true(service.options.get("privileged")):
                reason = "the API server refuses no-new-privileges on a privileged container"
            elif len(others) < len(value or []):
                parts.security["allowPrivilegeEscalation"] = False
            if others:
                reason = f"Kubernetes takes none of {', '.join(map(str, others))} as a security option"
        elif key == "init":
            # A shared process namespace makes the pause container PID 1, which reaps zombies as an init does.
            if _true(value) and service.options.get("pid") == "host":
                reason = "the API server refuses a shared process namespace beside the host's (pid: host)"
            elif _true(value):
                parts.pod["shareProcessNamespace"] = True
        elif key == "hostname":
            if _DNS_LABEL.fullmatch(str(value)):
                parts.pod["hostname"] = str(value)
            else:
                reason = f"{value} is not a DNS label, which a pod's hostname must be"
        elif key == "extra_hosts":
            aliases, gateway = _extra_hosts(value)
            if aliases:
                parts.pod["hostAliases"] = aliases
            if gateway:
                reason = (
                    f"{', '.join(gateway)} stand for the Docker host's gateway (host-gateway), which a pod has no "
                    "address for"
                )
        elif key == "sysctls":
            parts.pod_security["sysctls"] = [{"name": k, "value": v} for k, v in _key_values(value)]
        elif key == "group_add":
            groups = [str(group) for group in value or []]
            if all(group.isdigit() for group in groups):
                parts.pod_security["supplementalGroups"] = [int(group) for group in groups]
            else:
                reason = "Kubernetes adds groups by numeric ID only"
        elif key in ("tty", "stdin_open"):
            if _true(value):
                parts.container["tty" if key == "tty" else "stdin"] = True
        elif key == "pull_policy":
            if str(value) in _PULL_POLICIES:
                parts.container["imagePullPolicy"] = _PULL_POLICIES[str(value)]
            else:
                reason = f"{_NOT_ON_KUBERNETES[key]}, not {value}"
        elif key == "platform":
            continue  # node requirements (_placement)
        elif key == "shm_size":
            size = parse_bytes(value, f"services.{name}.shm_size")
            parts.add_volume({"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": bytes_quantity(size)}})
            parts.mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
        elif key in ("pid", "ipc"):
            if value == "host":
                parts.pod["hostPID" if key == "pid" else "hostIPC"] = True
            elif not (key == "ipc" and value in ("private", "shareable")):
                reason = f"Kubernetes pods cannot share the {key} namespace of {value}"
        elif key == "network_mode":
            if value == "host":
                parts.pod["hostNetwork"] = True
                parts.pod["dnsPolicy"] = "ClusterFirstWithHostNet"
            else:
                reason = f"Kubernetes pods have their own network, or the host's; not {value}"
        elif key in ("dns", "dns_search", "dns_opt"):
            config = parts.pod.setdefault("dnsConfig", {})
            items = [str(item) for item in (value if isinstance(value, list) else [value])]
            if key == "dns":
                config["nameservers"] = items[:DNS_SERVERS]
                if len(items) > DNS_SERVERS:
                    reason = f"a pod takes at most {DNS_SERVERS} DNS servers: {', '.join(items[DNS_SERVERS:])}"
            elif key == "dns_search":
                config["searches"] = items
            else:
                config["options"] = [
                    {"name": item.split(":", 1)[0], **({"value": item.split(":", 1)[1]} if ":" in item else {})}
                    for item in items
                ]
        else:
            reason = _NOT_ON_KUBERNETES.get(key, _GENERIC_REASON)
        if reason is not None:
            report.add(name, key, f"{reason}; left out")


def _probes_and_report(service: Service, report: ConversionReport) -> dict[str, Any]:
    check = service.healthcheck
    if check is not None and not check.disabled and not check.test:
        report.add(
            service.name,
            "healthcheck.test",
            "the healthcheck sets timings for the image's own HEALTHCHECK, which Kubernetes does not run; no probe",
        )
    return probes(check)


def _restart(service: Service, kind: str, report: ConversionReport) -> None:
    restart = service.restart
    if restart is None:
        return
    if kind != "Job" and restart.condition != "any":
        report.add(
            service.name,
            "deploy.restart_policy.condition",
            f"the pods of a {kind} restart on any exit, not {restart.condition} (restart: no or on-failure); "
            "make a one-shot service a job (deploy.mode: replicated-job)",
        )
    for key in ("delay", "window"):
        if getattr(restart, key) is not None:
            report.add(
                service.name,
                f"deploy.restart_policy.{key}",
                f"Kubernetes restarts with its own back-off (10s doubling to 5m); the {key} is left out",
            )
    if kind != "Job" and restart.max_attempts is not None:
        report.add(
            service.name,
            "deploy.restart_policy.max_attempts",
            f"the pods of a {kind} restart without limit; max_attempts only counts for jobs",
        )


def _container(plan: _Plan, service: Service, kind: str, has_service: bool, parts: _PodParts) -> dict[str, Any]:
    report = plan.report
    container: dict[str, Any] = {"name": plan.names[service.name], "image": service.image}
    if "imagePullPolicy" in parts.container:
        container["imagePullPolicy"] = parts.container.pop("imagePullPolicy")
    if service.entrypoint is not None:
        container["command"] = [_escape(word) for word in service.entrypoint]
    if service.command is not None:
        container["args"] = [_escape(word) for word in service.command]
    if service.working_dir is not None:
        container["workingDir"] = service.working_dir
    if service.environment:
        container["env"] = [{"name": key, "value": _escape(value)} for key, value in service.environment.items()]
    ports = _container_ports(service, report)
    if ports:
        container["ports"] = [
            {"name": port.name, "containerPort": port.port, "protocol": port.protocol} for port in ports
        ]
    if parts.mounts:
        container["volumeMounts"] = parts.mounts
    resources = _resources(service, report)
    if resources:
        container["resources"] = resources
    checks = _probes_and_report(service, report)
    if kind == "Job":
        checks.pop("readinessProbe", None)
    container.update(checks)
    drain = plan.options.drain_seconds
    if has_service and kind != "Job" and drain > 0:
        hook: dict[str, Any] = (
            {"sleep": {"seconds": drain}}
            if plan.options.drain_hook == "sleep"
            else {"exec": {"command": ["sleep", str(drain)]}}
        )
        container["lifecycle"] = {"preStop": hook}
    security = {**_user(service, report), **parts.security}
    if security:
        container["securityContext"] = security
    container.update(parts.container)
    return container


def _pod_spec(plan: _Plan, service: Service, kind: str, has_service: bool) -> dict[str, Any]:
    """The pod template's spec; has_service: the pods are behind a Service, so they drain before they stop."""
    parts = _PodParts()
    for index, mount in enumerate(service.mounts):
        _mount(plan, service, mount, index, parts)
    for kind_of_file in ("configs", "secrets"):
        _file_mounts(plan, service, kind_of_file, getattr(service, kind_of_file), parts)
    _service_options(service, parts, plan.report)
    container = _container(plan, service, kind, has_service, parts)
    spec: dict[str, Any] = {"containers": [container]}
    if parts.volumes:
        spec["volumes"] = parts.volumes
    spec.update(_placement(service, plan.selector(service.name), plan.report))
    spec.update(parts.pod)
    if parts.pod_security:
        spec["securityContext"] = parts.pod_security
    if plan.options.image_pull_secret:
        spec["imagePullSecrets"] = [{"name": plan.options.image_pull_secret}]
    drain = plan.options.drain_seconds if has_service and kind != "Job" else 0
    grace = STOP_GRACE_PERIOD if service.stop_grace_period is None else service.stop_grace_period
    spec["terminationGracePeriodSeconds"] = math.ceil(grace) + drain
    # As in Compose: no environment variables for every other Service, and no API token.
    spec["enableServiceLinks"] = False
    spec["automountServiceAccountToken"] = False
    if kind == "Job":
        spec["restartPolicy"] = "Never"
    return spec


def _pod_template(plan: _Plan, service: Service, spec: dict[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"labels": plan.labels(service.name, plan.version(service.name), pod=True)}
    annotations = _annotations(service.labels, plan.report, service.name, "labels")
    if annotations:
        metadata["annotations"] = annotations
    return {"metadata": metadata, "spec": spec}
