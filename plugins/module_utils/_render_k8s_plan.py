# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes target's settings, names, labels and quantities, and the plan made before any manifest.

The plan (`_Plan`) fixes, for the whole app, each service's Kubernetes name
and workload kind, each named volume's claim and each config's and
secret's object name, so that every manifest written after it agrees.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    DEFAULT_STRICT_ENVIRONMENTS,
    NODE_ARCHES,
    App,
    ConversionReport,
    Mount,
    Service,
    parse_image,
)
from ansible_collections.drover.platform.plugins.module_utils._arch import ARCH_NAMES
from ansible_collections.drover.platform.plugins.module_utils._compose_values import parse_bytes
from ansible_collections.drover.platform.plugins.module_utils._render_frame import (
    RenderError,
)

DEFAULT_INGRESS_CLASS = "traefik"
DEFAULT_VOLUME_SIZE = "1Gi"
DEFAULT_DRAIN_SECONDS = 5
DRAIN_HOOKS = ("exec", "sleep")
MANAGED_BY = "drover"
ENVIRONMENT_LABEL = "drover.platform/environment"
CLASS_LABEL = "drover.class"
ARCH_LABEL = "kubernetes.io/arch"
OS_LABEL = "kubernetes.io/os"
HOSTNAME_LABEL = "kubernetes.io/hostname"
TRAEFIK_ENTRYPOINTS = "traefik.ingress.kubernetes.io/router.entrypoints"
TRAEFIK_CERTRESOLVER = "traefik.ingress.kubernetes.io/router.tls.certresolver"
# Docker's healthcheck and stop defaults, which the Compose file means when it says nothing.
HEALTHCHECK_INTERVAL = 30.0
HEALTHCHECK_TIMEOUT = 30.0
HEALTHCHECK_RETRIES = 3
HEALTHCHECK_START_INTERVAL = 5.0
STOP_GRACE_PERIOD = 10.0
JOB_BACKOFF_LIMIT = 3
# Docker mounts configs and secrets 0444.
FILE_MODE = 0o444
# A StatefulSet's pods carry a controller-revision-hash label of <name>-<10 characters>.
WORKLOAD_NAME_LIMIT = 52

KIND_ORDER = ("Namespace", "ConfigMap", "Secret", "PersistentVolumeClaim", "Service", "workload", "Ingress")
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
_API_VERSIONS = {
    "Namespace": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
    "PersistentVolumeClaim": "v1",
    "Service": "v1",
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Job": "batch/v1",
    "Ingress": "networking.k8s.io/v1",
}

# The node architecture an overlay names (Debian's word) and the one a Swarm
# node reports (uname -m), as kubernetes.io/arch: Docker's architecture,
# from the collection's one table.
_ARCHES = {name: ARCH_NAMES[name].docker for name in NODE_ARCHES}
_UNAME_ARCHES = {name: arch.docker for name, arch in ARCH_NAMES.items()}

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?")
_CONFIG_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_QUANTITY = re.compile(r"\d+(\.\d+)?([KMGTPE]i|[kMGTPE]|m)?")
_CONSTRAINT = re.compile(r"\s*([A-Za-z0-9_.\-/]+)\s*(==|!=)\s*(\S.*?)\s*")
_NO_NEW_PRIVILEGES = ("no-new-privileges", "no-new-privileges:true", "no-new-privileges=true")
_PULL_POLICIES = {"always": "Always", "never": "Never", "missing": "IfNotPresent", "if_not_present": "IfNotPresent"}
_PROPAGATIONS = {"private": "None", "rprivate": "None", "slave": "HostToContainer", "rslave": "HostToContainer"}

# Service keys Kubernetes has nothing for. They are left out and reported.
_NOT_ON_KUBERNETES = {
    "container_name": "Kubernetes names every pod itself",
    "links": "Kubernetes creates no link aliases; pods reach each other by Service name",
    "external_links": "Kubernetes creates no link aliases; reach the other app's Service as <service>.<namespace>",
    "devices": "Kubernetes pods cannot map host devices without a device plugin",
    "cgroup_parent": "Kubernetes pods have no cgroup parent",
    "cgroupns_mode": "Kubernetes pods have no cgroup namespace mode",
    "userns_mode": "Kubernetes pods have no user namespace mode in the manifests this target writes",
    "mac_address": "pods get their addresses from the cluster network",
    "domainname": "Kubernetes pods take no domain name",
    "volumes_from": "Kubernetes pods cannot mount another container's volumes; share a named volume instead",
    "volume_driver": "set the storage class (storage_class) instead",
    "cpu_shares": "use deploy.resources (requests and limits)",
    "cpu_quota": "use deploy.resources (requests and limits)",
    "cpu_period": "use deploy.resources (requests and limits)",
    "cpuset": "Kubernetes pins CPUs through the kubelet's CPU manager, not the manifest",
    "memswap_limit": "Kubernetes pods take no swap limit",
    "mem_swappiness": "Kubernetes pods take no swappiness",
    "oom_kill_disable": "Kubernetes pods cannot turn the OOM killer off",
    "oom_score_adj": "the kubelet sets OOM scores from the pod's QoS class",
    "stop_signal": "the manifests this target writes cannot set the stop signal; the container gets SIGTERM",
    "logging": "the cluster's log collection decides where logs go",
    "ulimits": "Kubernetes pods take no ulimits; the container runtime's defaults apply",
    "credential_spec": "only Windows containers have credential specs",
    "isolation": "Kubernetes pods take no isolation technology",
    "gpus": "Kubernetes needs a device plugin and a resource limit (nvidia.com/gpu) for GPUs",
    "runtime": "set a RuntimeClass in the cluster instead",
    "storage_opt": "Kubernetes pods take no storage driver options",
    "blkio_config": "Kubernetes pods take no block IO weights",
    "pull_policy": "Kubernetes pulls always, never or if not present",
}
_GENERIC_REASON = "the Kubernetes manifests this target writes have no equivalent"


@dataclass
class KubernetesOptions:
    """The target's settings (see the app_render action's options).

    instance: the app.kubernetes.io/instance label, default <app>-<environment>
    (the Swarm stack's name); namespace defaults to it. version: the release
    version for app.kubernetes.io/version; without it a service's objects
    carry its image tag, when the image has one. labels go on every object's
    metadata but not on pod templates (a new release number rolls no pod).
    tls_secret: the Secret with the certificate; without it the Ingress asks
    for TLS with the edge's default certificate. edge_entrypoint and
    edge_certresolver become Traefik's Ingress annotations when set.
    """

    namespace: str | None = None
    instance: str | None = None
    ingress_class: str | None = DEFAULT_INGRESS_CLASS
    tls: bool = True
    tls_secret: str | None = None
    edge_entrypoint: str | None = None
    edge_certresolver: str | None = None
    ingress_annotations: dict[str, str] = field(default_factory=dict)
    storage_class: str | None = None
    volume_size: str = DEFAULT_VOLUME_SIZE
    volume_sizes: dict[str, str] = field(default_factory=dict)
    image_pull_secret: str | None = None
    version: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    drain_seconds: int = DEFAULT_DRAIN_SECONDS
    drain_hook: str = "exec"
    strict_environments: tuple[str, ...] = DEFAULT_STRICT_ENVIRONMENTS
    allow: tuple[str, ...] = ()


# --- names, labels, quantities ----------------------------------------------------


def _short_hash(text: str | bytes, length: int = 8) -> str:
    return hashlib.sha256(text if isinstance(text, bytes) else text.encode("utf-8")).hexdigest()[:length]


def dns_name(text: str, limit: int = 63) -> str:
    """A DNS-1035 label (a Service's name) for text.

    Lowercase; runs of anything but letters and digits become '-'; a name
    not starting with a letter gets an 'x-' in front; a name longer than
    limit is cut and ends with a hash of text, so cut names stay apart.
    """
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"
    if not name[0].isalpha():
        name = f"x-{name}"
    if len(name) > limit:
        name = f"{name[: limit - 9].rstrip('-')}-{_short_hash(text)}"
    return name


def label_value(text: str) -> str:
    """text as a label value: at most 63 of [A-Za-z0-9_.-], starting and ending with a letter or digit."""
    value = re.sub(r"[^A-Za-z0-9_.-]+", "-", text)[:63]
    return re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", value)


def is_qualified_name(key: str) -> bool:
    """A label or annotation key: [prefix/]name, prefix a DNS subdomain, name at most 63 characters."""
    prefix, slash, name = key.rpartition("/")
    if slash and not _DNS_SUBDOMAIN.fullmatch(prefix):
        return False
    return bool(_LABEL_NAME.fullmatch(name))


def is_port_name(name: str) -> bool:
    """A port name the API server takes (IANA_SVC_NAME): 1-15 lowercase letters, digits and '-', with a letter."""
    return (
        len(name) <= 15
        and bool(_DNS_LABEL.fullmatch(name))
        and "--" not in name
        and any(char.isalpha() for char in name)
    )


def cpu_quantity(cpus: str) -> str:
    """Compose cpus (0.5) as a Kubernetes CPU quantity (500m); whole CPUs without a unit."""
    millis = max(1, round(float(cpus) * 1000))
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def memory_quantity(memory: str, where: str) -> str:
    """A Compose size (128M, binary units as Docker counts) as a Kubernetes quantity (128Mi)."""
    return bytes_quantity(parse_bytes(memory, where))


def bytes_quantity(size: int) -> str:
    """Bytes as a Kubernetes quantity, in the largest binary unit that divides them."""
    for unit, factor in (("Ti", 1024**4), ("Gi", 1024**3), ("Mi", 1024**2), ("Ki", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


def seconds(value: float) -> int:
    """Whole seconds for a probe or grace period field, at least 1."""
    return max(1, math.ceil(value))


def content_name(key: str, content: str | bytes) -> str:
    """The ConfigMap or Secret name for a Compose config or secret: its key and a hash of its content."""
    return f"{dns_name(key, WORKLOAD_NAME_LIMIT)}-{_short_hash(content, 10)}"


def config_key(key: str) -> str:
    """A ConfigMap or Secret data key for a Compose key."""
    return re.sub(r"[^-._a-zA-Z0-9]", "-", key) if not _CONFIG_KEY.fullmatch(key) else key


def default_instance(app: App) -> str:
    return f"{app.name}-{app.environment}"


def _annotations(values: Mapping[str, str], report: ConversionReport, service: str | None, key: str) -> dict[str, str]:
    annotations = {}
    for name, value in values.items():
        if is_qualified_name(name):
            annotations[name] = str(value)
        else:
            report.add(service, key, f"{name} is not a Kubernetes annotation key ([prefix/]name); left out")
    return annotations


# --- the plan: names and volumes, before any manifest ---------------------------------------


@dataclass
class _VolumePlan:
    key: str
    claim: str
    # The one service whose StatefulSet claims it per replica, or None for a claim of its own.
    template_of: str | None = None
    access_mode: str = "ReadWriteOnce"
    external: bool = False


@dataclass
class _Plan:
    app: App
    options: KubernetesOptions
    namespace: str
    instance: str
    report: ConversionReport
    names: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    volumes: dict[str, _VolumePlan] = field(default_factory=dict)
    objects: dict[tuple[str, str], str] = field(default_factory=dict)

    def labels(self, service: str | None, version: str | None, pod: bool = False) -> dict[str, str]:
        labels = {
            "app.kubernetes.io/name": self.names[service] if service else label_value(self.app.name),
            "app.kubernetes.io/instance": self.instance,
            "app.kubernetes.io/part-of": label_value(self.app.name),
        }
        if version:
            labels["app.kubernetes.io/version"] = version
        labels["app.kubernetes.io/managed-by"] = MANAGED_BY
        labels[ENVIRONMENT_LABEL] = label_value(self.app.environment)
        if not pod:
            labels.update(self.options.labels)
        return labels

    def selector(self, service: str) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.names[service], "app.kubernetes.io/instance": self.instance}

    def version(self, service: str | None) -> str | None:
        if self.options.version:
            return label_value(self.options.version) or None
        if service is None:
            return None
        tag = parse_image(self.app.services[service].image or "").tag
        return (label_value(tag) or None) if tag else None

    def metadata(self, name: str, service: str | None, namespaced: bool = True) -> dict[str, Any]:
        metadata: dict[str, Any] = {"name": name}
        if namespaced:
            metadata["namespace"] = self.namespace
        metadata["labels"] = self.labels(service, self.version(service))
        return metadata


def _writes(mount: Mount) -> bool:
    return mount.type == "volume" and bool(mount.source) and not mount.read_only


def _plan_volumes(plan: _Plan) -> None:
    app = plan.app
    users: dict[str, list[Service]] = {}
    for service in app.services.values():
        for source in dict.fromkeys(m.source for m in service.mounts if m.type == "volume" and m.source):
            users.setdefault(str(source), []).append(service)
    for key, volume in app.volumes.items():
        services = users.get(key, [])
        if volume.external:
            name = volume.external_name or key
            if not _DNS_SUBDOMAIN.fullmatch(name):
                raise RenderError(
                    f"volume {key} is external with the name {name}, which is no PersistentVolumeClaim name "
                    "(lowercase letters, digits, '-' and '.')"
                )
            plan.volumes[key] = _VolumePlan(key, name, external=True)
            continue
        claim = dns_name(str(volume.options.get("name") or key), WORKLOAD_NAME_LIMIT)
        only = services[0] if len(services) == 1 else None
        if only is not None and only.mode == "replicated" and any(_writes(m) and m.source == key for m in only.mounts):
            plan.volumes[key] = _VolumePlan(key, claim, template_of=only.name)
            continue
        shared = len(services) > 1 or any(
            s.mode == "global" or (s.mode != "job" and (s.replicas or 1) > 1) for s in services
        )
        plan.volumes[key] = _VolumePlan(key, claim, access_mode="ReadWriteMany" if shared else "ReadWriteOnce")
        if shared:
            for service in services:
                plan.report.add(
                    service.name,
                    "volumes.shared",
                    f"volume {key} is mounted by the pods of {', '.join(s.name for s in services)}, which may run on "
                    "several nodes: its claim asks for ReadWriteMany, which the storage class must offer",
                )


def _plan(app: App, options: KubernetesOptions, report: ConversionReport) -> _Plan:
    instance = label_value(options.instance or default_instance(app))
    namespace = options.namespace or dns_name(options.instance or default_instance(app))
    plan = _Plan(app, options, namespace, instance, report)
    seen: dict[str, str] = {}
    for name in app.services:
        k8s_name = dns_name(name, WORKLOAD_NAME_LIMIT)
        if k8s_name in seen:
            raise RenderError(
                f"services {seen[k8s_name]} and {name} would both be named {k8s_name} on Kubernetes (names there "
                "are lowercase letters, digits and '-'); rename one"
            )
        seen[k8s_name] = name
        plan.names[name] = k8s_name
        if k8s_name != name:
            report.add(
                name,
                "service_name",
                f"Kubernetes names the service {k8s_name} (a DNS label); other services reach it as {k8s_name}, "
                f"not {name}",
            )
    _plan_volumes(plan)
    for name, service in app.services.items():
        if service.mode == "job":
            plan.kinds[name] = "Job"
        elif service.mode == "global":
            plan.kinds[name] = "DaemonSet"
        elif any(volume.template_of == name for volume in plan.volumes.values()):
            plan.kinds[name] = "StatefulSet"
        else:
            plan.kinds[name] = "Deployment"
    for kind, objects in (("configs", app.configs), ("secrets", app.secrets)):
        for key, obj in objects.items():
            if obj.external or obj.content is None:
                name = obj.name or key
                if not _DNS_SUBDOMAIN.fullmatch(name):
                    raise RenderError(
                        f"{kind[:-1]} {key} is external with the name {name}, which is no "
                        f"{'ConfigMap' if kind == 'configs' else 'Secret'} name (lowercase letters, digits, '-' "
                        "and '.')"
                    )
                plan.objects[(kind, key)] = name
            else:
                plan.objects[(kind, key)] = content_name(obj.name or key, obj.content)
    return plan
