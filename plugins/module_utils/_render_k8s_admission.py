# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the API server refuses in manifests that pass the JSON schemas.

The OpenAPI schemas check types and field names; the API server's
validation checks more, and a deploy that meets it fails half-way. This is
that second check, for the objects the Kubernetes renderer writes: names
and labels, port names, volume and mount names, quantities, and the pod
settings that exclude each other. `render_kubernetes` runs it on its own
output, so that a manifest the cluster would refuse is a render error, not
a failed apply.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._render_k8s_plan import (
    _DNS_LABEL,
    _DNS_SUBDOMAIN,
    _LABEL_VALUE,
    _QUANTITY,
    is_port_name,
    is_qualified_name,
)

MAX_NAMESERVERS = 3
MAX_SEARCHES = 32
MAX_FILE_MODE = 0o777
# Service and Namespace names are DNS-1035 labels: they start with a letter.
_LABEL_NAMED = ("Service", "Namespace")
_BINARY_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL_UNITS = {"m": 1e-3, "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}


def quantity_value(text: str) -> float:
    """A resource quantity's value (1.5Gi, 500m, 2) as a number, for comparing a request with its limit."""
    for suffix, factor in (*_BINARY_UNITS.items(), *_DECIMAL_UNITS.items()):
        if suffix and text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


class _Problems:
    def __init__(self, where: str) -> None:
        self.where = where
        self.found: list[str] = []

    def add(self, path: str, message: str) -> None:
        self.found.append(f"{self.where}: {path}: {message}")


def _metadata(manifest: Mapping[str, Any], problems: _Problems) -> None:
    metadata = manifest.get("metadata") or {}
    name = str(metadata.get("name", ""))
    kind = manifest.get("kind")
    if kind in _LABEL_NAMED:
        if not _DNS_LABEL.fullmatch(name) or not name[:1].isalpha():
            problems.add("metadata.name", f"{name!r} is no DNS-1035 label (a letter first, then a-z, 0-9, '-')")
    elif not _DNS_SUBDOMAIN.fullmatch(name):
        problems.add("metadata.name", f"{name!r} is no DNS subdomain")
    _labels(metadata.get("labels") or {}, "metadata.labels", problems)
    for key in metadata.get("annotations") or {}:
        if not is_qualified_name(str(key)):
            problems.add("metadata.annotations", f"{key!r} is no annotation key ([prefix/]name)")


def _labels(labels: Mapping[str, Any], path: str, problems: _Problems) -> None:
    for key, value in labels.items():
        if not is_qualified_name(str(key)):
            problems.add(path, f"{key!r} is no label key ([prefix/]name)")
        if not isinstance(value, str) or not _LABEL_VALUE.fullmatch(value):
            problems.add(path, f"{key}={value!r} is no label value (63 characters at most: a-z, 0-9, '-', '_', '.')")


def _unique(names: Iterable[str], path: str, what: str, problems: _Problems) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.add(path, f"two {what} are named {name}")
        seen.add(name)


def _ports(ports: list[Mapping[str, Any]], path: str, number_key: str, problems: _Problems) -> None:
    for index, port in enumerate(ports):
        name = port.get("name")
        if name is not None and not is_port_name(str(name)):
            problems.add(f"{path}[{index}].name", f"{name!r} is no port name (1-15 of a-z, 0-9, '-', with a letter)")
        number = port.get(number_key)
        if not isinstance(number, int) or not 1 <= number <= 65535:
            problems.add(f"{path}[{index}].{number_key}", f"{number!r} is no port number")
    _unique((str(port["name"]) for port in ports if port.get("name")), path, "ports", problems)


def _resources(resources: Mapping[str, Any], path: str, problems: _Problems) -> None:
    for kind in ("limits", "requests"):
        for key, value in (resources.get(kind) or {}).items():
            if not _QUANTITY.fullmatch(str(value)):
                problems.add(f"{path}.{kind}.{key}", f"{value!r} is no quantity")
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}
    for key, request in requests.items():
        limit = limits.get(key)
        if limit is None or not _QUANTITY.fullmatch(str(limit)) or not _QUANTITY.fullmatch(str(request)):
            continue
        if quantity_value(str(request)) > quantity_value(str(limit)):
            problems.add(f"{path}.requests.{key}", f"the request {request} is over the limit {limit}")


def _container(container: Mapping[str, Any], path: str, volumes: set[str], problems: _Problems) -> None:
    name = str(container.get("name", ""))
    if not _DNS_LABEL.fullmatch(name):
        problems.add(f"{path}.name", f"{name!r} is no DNS label")
    _ports(container.get("ports") or [], f"{path}.ports", "containerPort", problems)
    mounts = container.get("volumeMounts") or []
    for index, mount in enumerate(mounts):
        if mount.get("name") not in volumes:
            problems.add(f"{path}.volumeMounts[{index}]", f"mounts {mount.get('name')}, which is no volume of the pod")
    _unique(
        (str(mount.get("mountPath", "")).rstrip("/") for mount in mounts),
        f"{path}.volumeMounts",
        "mounts' paths",
        problems,
    )
    _resources(container.get("resources") or {}, f"{path}.resources", problems)
    security = container.get("securityContext") or {}
    if security.get("privileged") and security.get("allowPrivilegeEscalation") is False:
        problems.add(f"{path}.securityContext", "a privileged container cannot disallow privilege escalation")


def _pod(spec: Mapping[str, Any], path: str, claim_templates: Iterable[str], problems: _Problems) -> None:
    volumes = spec.get("volumes") or []
    names = [str(volume.get("name", "")) for volume in volumes]
    _unique(names, f"{path}.volumes", "volumes", problems)
    for index, name in enumerate(names):
        if not _DNS_LABEL.fullmatch(name):
            problems.add(f"{path}.volumes[{index}].name", f"{name!r} is no DNS label")
    for index, volume in enumerate(volumes):
        for source in ("configMap", "secret"):
            mode = (volume.get(source) or {}).get("defaultMode")
            if mode is not None and not 0 <= mode <= MAX_FILE_MODE:
                problems.add(f"{path}.volumes[{index}].{source}.defaultMode", f"{mode} is over 0777 ({mode:#o})")
    known = set(names) | set(claim_templates)
    containers = spec.get("containers") or []
    for index, container in enumerate(containers):
        _container(container, f"{path}.containers[{index}]", known, problems)
    _unique(
        (str(port["name"]) for c in containers for port in c.get("ports") or [] if port.get("name")),
        f"{path}.containers",
        "ports of the pod",
        problems,
    )
    if spec.get("shareProcessNamespace") and spec.get("hostPID"):
        problems.add(path, "shareProcessNamespace and hostPID exclude each other")
    for index, alias in enumerate(spec.get("hostAliases") or []):
        try:
            ipaddress.ip_address(str(alias.get("ip")))
        except ValueError:
            problems.add(f"{path}.hostAliases[{index}].ip", f"{alias.get('ip')!r} is no IP address")
    dns = spec.get("dnsConfig") or {}
    if len(dns.get("nameservers") or []) > MAX_NAMESERVERS:
        problems.add(f"{path}.dnsConfig.nameservers", f"at most {MAX_NAMESERVERS} servers")
    for index, server in enumerate(dns.get("nameservers") or []):
        try:
            ipaddress.ip_address(str(server))
        except ValueError:
            problems.add(f"{path}.dnsConfig.nameservers[{index}]", f"{server!r} is no IP address")
    if len(dns.get("searches") or []) > MAX_SEARCHES:
        problems.add(f"{path}.dnsConfig.searches", f"at most {MAX_SEARCHES} search domains")


def admission_problems(manifests: Iterable[Mapping[str, Any]]) -> list[str]:
    """What the API server would refuse in these manifests, one line each (none: all admitted)."""
    found: list[str] = []
    for manifest in manifests:
        metadata = manifest.get("metadata") or {}
        problems = _Problems(f"{manifest.get('kind')}/{metadata.get('name')}")
        _metadata(manifest, problems)
        spec = manifest.get("spec") or {}
        if manifest.get("kind") == "Service":
            ports = spec.get("ports") or []
            _ports(ports, "spec.ports", "port", problems)
            if len(ports) > 1 and not all(port.get("name") for port in ports):
                problems.add("spec.ports", "a Service with several ports names each")
        template = spec.get("template") or {}
        if template:
            _labels((template.get("metadata") or {}).get("labels") or {}, "spec.template.metadata.labels", problems)
            claims = [
                str((claim.get("metadata") or {}).get("name")) for claim in spec.get("volumeClaimTemplates") or []
            ]
            _pod(template.get("spec") or {}, "spec.template.spec", claims, problems)
        found.extend(problems.found)
    return found
