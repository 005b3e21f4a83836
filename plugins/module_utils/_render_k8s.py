# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app model as Kubernetes manifests, with a conversion report.

`render_kubernetes(app, options)` returns the manifests in the order they
can be applied (Namespace, ConfigMaps, Secrets, PersistentVolumeClaims,
Services, workloads, Ingresses) and a report: one `ReportItem` per Compose
key Kubernetes cannot honour, by the same rules as the Swarm target. A
deploy must stop while an item is not allowed (`must_stop`).

Which workload a service becomes:

* `mode: job` (Compose `deploy.mode: replicated-job`): a Job, named with a
  hash of its spec (a Job's pod template cannot change, so a new spec is a
  new Job and applying the same one again is a no-op). Pods restart never;
  a failed pod is replaced up to `restart_policy.max_attempts` times (3
  when not given, 0 with condition none). `replicas` is completions and
  parallelism. Compose `restart: "no"` on a plain service does not make it
  a Job: Deployments restart always, which is reported.
* `mode: global`: a DaemonSet.
* a replicated service writing a named volume no other service mounts: a
  StatefulSet whose volumeClaimTemplates give each replica its own claim
  (on Swarm each node has its own local volume), updated one pod at a time,
  the old pod stopped first.
* anything else: a Deployment, rolled out with maxUnavailable 0 and
  maxSurge 1 (start first), unless the Compose file's update_config says
  otherwise.

Other named volumes are PersistentVolumeClaims of their own, ReadWriteMany
(reported) when pods of several services, a global service or several
replicas mount them. Every service gets a Service of its name: ClusterIP
over the ports it publishes, exposes or is routed to (headless with
endpoint_mode dnsrr), or headless without ports, which still resolves the
name to the pods so that, as on a Compose network, every port is reached.
A published port is not published on the nodes (Kubernetes has no routing
mesh; a hostPort would stall rolling updates): the port is on the Service,
and the published part is reported.
Routed services (a domain in the overlay) get an Ingress for host/ with
TLS. Configs and secrets become ConfigMaps and Secrets named with a hash of
their content, so a new content is a new name and rolls the pods that
mount it; files are mounted read-only with Docker's mode 0444.

A Compose healthcheck becomes liveness and readiness exec probes (CMD as
is, CMD-SHELL through /bin/sh -c) with Docker's defaults where the Compose
file gives none, and a startup probe covering start_period, checked every
start_interval. A service with ports gets a preStop sleep so that
endpoints and the edge forget the pod before it gets SIGTERM;
terminationGracePeriodSeconds is that sleep plus stop_grace_period
(Compose's 10s when not given). `$` is doubled in env values, command and
args, where Kubernetes expands `$(VAR)`. Pods get no service links
(`enableServiceLinks: false`) and no API token, as Compose containers.

Every object carries app.kubernetes.io/name (the service, or the app for
app-wide objects), instance, part-of, version (when known), managed-by
(drover) and drover.platform/environment labels; selectors use name and
instance only, so they never change, and a StatefulSet's claim templates
(which cannot change either) carry no version.

What the API server will not change in place, and a deploy must replace:
a Service going from headless (no ports) to ClusterIP or back, a
StatefulSet's claim templates (volume_size, storage_class), a claim's
storage class.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    DEFAULT_NETWORK,
    DEFAULT_STRICT_ENVIRONMENTS,
    App,
    AppError,
    ConversionReport,
    FileObject,
    FileRef,
    Healthcheck,
    Mount,
    ReportItem,
    Service,
    UpdatePolicy,
    blocking,
    check_images,
    parse_bytes,
    parse_image,
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

# Debian's architecture names (the overlay's placement.arch) as Kubernetes' kubernetes.io/arch values.
_ARCHES = {
    "amd64": "amd64",
    "arm64": "arm64",
    "armhf": "arm",
    "i386": "386",
    "ppc64el": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}
# uname -m (Swarm's node.platform.arch) as kubernetes.io/arch.
_UNAME_ARCHES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "armv6l": "arm", "i686": "386"}

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


class RenderError(AppError):
    """A model the Kubernetes target cannot render with these options."""


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


@dataclass
class Workload:
    """Where a service runs: kind and name of its workload, and its Service's name if it has one."""

    service: str
    kind: str
    name: str
    service_name: str

    def as_dict(self) -> dict[str, Any]:
        return {"service": self.service, "kind": self.kind, "name": self.name, "service_name": self.service_name}


@dataclass
class KubernetesManifests:
    """The manifests in apply order, the report, and what must stay out of logs."""

    manifests: list[dict[str, Any]]
    namespace: str
    report: list[ReportItem] = field(default_factory=list)
    images: dict[str, str] = field(default_factory=dict)
    workloads: list[Workload] = field(default_factory=list)
    secret_values: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> list[ReportItem]:
        return blocking(self.report)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [manifest for manifest in self.manifests if manifest["kind"] == kind]

    def find(self, kind: str, name: str) -> dict[str, Any]:
        for manifest in self.of_kind(kind):
            if manifest["metadata"]["name"] == name:
                return manifest
        raise KeyError(f"{kind}/{name}")


# --- names, labels, quantities ----------------------------------------------------


def _short_hash(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


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


def content_name(key: str, content: str) -> str:
    """The ConfigMap or Secret name for a Compose config or secret: its key and a hash of its content."""
    return f"{dns_name(key, WORKLOAD_NAME_LIMIT)}-{_short_hash(content, 10)}"


def config_key(key: str) -> str:
    """A ConfigMap or Secret data key for a Compose key."""
    return re.sub(r"[^-._a-zA-Z0-9]", "-", key) if not _CONFIG_KEY.fullmatch(key) else key


def default_instance(app: App) -> str:
    return f"{app.name}-{app.environment}"


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


# --- placement ------------------------------------------------------------------------


@dataclass
class _NodeRules:
    """Node requirements as (label, operator, values), all of which must hold."""

    requirements: list[tuple[str, str, list[str]]] = field(default_factory=list)

    def need(self, key: str, operator: str, values: list[str]) -> None:
        rule = (key, operator, values)
        if rule not in self.requirements:
            self.requirements.append(rule)

    def render(self) -> tuple[dict[str, str], list[dict[str, Any]]]:
        """(nodeSelector, nodeAffinity match expressions): one wanted value of a key once is a selector."""
        keys = [key for key, _op, _values in self.requirements]
        selector: dict[str, str] = {}
        expressions: list[dict[str, Any]] = []
        for key, operator, values in self.requirements:
            if operator == "In" and len(values) == 1 and keys.count(key) == 1:
                selector[key] = values[0]
            else:
                expressions.append({"key": key, "operator": operator, "values": list(values)})
        return selector, expressions


def _constraint(rules: _NodeRules, constraint: str, report: ConversionReport, service: str) -> None:
    match = _CONSTRAINT.fullmatch(constraint)
    attribute, operator, value = match.groups() if match else ("", "", "")
    key: str | None = None
    if attribute.startswith("node.labels."):
        key = attribute[len("node.labels.") :]
    elif attribute == "node.hostname":
        key = HOSTNAME_LABEL
    elif attribute == "node.platform.os":
        key = OS_LABEL
    elif attribute == "node.platform.arch":
        key, value = ARCH_LABEL, _UNAME_ARCHES.get(value, value)
    if key is None or not is_qualified_name(key) or not _LABEL_VALUE.fullmatch(value):
        report.add(
            service,
            "deploy.placement.constraints",
            f"{constraint.strip()} has no Kubernetes node label to match (node labels, node.hostname, "
            "node.platform.os and node.platform.arch do); left out",
        )
        return
    rules.need(key, "In" if operator == "==" else "NotIn", [value])


def _placement(service: Service, selector: dict[str, str], report: ConversionReport) -> dict[str, Any]:
    """nodeSelector, affinity and topologySpreadConstraints of the pod spec."""
    placement = service.placement
    rules = _NodeRules()
    if placement.classes:
        rules.need(CLASS_LABEL, "In", list(placement.classes))
    if placement.arches:
        rules.need(ARCH_LABEL, "In", [_ARCHES[arch] for arch in placement.arches])
    for key, value in placement.node_labels.items():
        if is_qualified_name(key) and _LABEL_VALUE.fullmatch(value):
            rules.need(key, "In", [value])
        else:
            report.add(
                service.name,
                "deploy.placement.constraints",
                f"node label {key}={value} is not a Kubernetes label; left out",
            )
    for constraint in placement.constraints:
        _constraint(rules, constraint, report, service.name)
    platform = service.options.get("platform")
    if isinstance(platform, str) and platform:
        os_name, _slash, rest = platform.partition("/")
        rules.need(OS_LABEL, "In", [os_name])
        if rest:
            arch = rest.split("/", 1)[0]
            rules.need(ARCH_LABEL, "In", [_UNAME_ARCHES.get(arch, arch)])

    spec: dict[str, Any] = {}
    node_selector, expressions = rules.render()
    if node_selector:
        spec["nodeSelector"] = node_selector
    affinity: dict[str, Any] = {}
    if expressions:
        affinity["nodeAffinity"] = {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": expressions}]}
        }
    if placement.max_replicas_per_node is not None and service.mode != "global":
        if placement.max_replicas_per_node == 1:
            affinity["podAntiAffinity"] = {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": dict(selector)}, "topologyKey": HOSTNAME_LABEL}
                ]
            }
        else:
            report.add(
                service.name,
                "deploy.placement.max_replicas_per_node",
                f"Kubernetes can keep pods apart (at most one per node), not cap them at "
                f"{placement.max_replicas_per_node} per node; left out",
            )
    if affinity:
        spec["affinity"] = affinity
    spread_constraints = []
    for spread in placement.spread:
        if spread.startswith("node.labels."):
            topology_key = spread[len("node.labels.") :]
        elif spread == "node.hostname":
            topology_key = HOSTNAME_LABEL
        else:
            report.add(
                service.name,
                "deploy.placement.preferences",
                f"spread over {spread} has no Kubernetes node label to spread over; left out",
            )
            continue
        spread_constraints.append(
            {
                "maxSkew": 1,
                "topologyKey": topology_key,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": dict(selector)},
            }
        )
    if spread_constraints:
        spec["topologySpreadConstraints"] = spread_constraints
    return spec


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


# --- objects of the app ------------------------------------------------------------------


def _annotations(values: Mapping[str, str], report: ConversionReport, service: str | None, key: str) -> dict[str, str]:
    annotations = {}
    for name, value in values.items():
        if is_qualified_name(name):
            annotations[name] = str(value)
        else:
            report.add(service, key, f"{name} is not a Kubernetes annotation key ([prefix/]name); left out")
    return annotations


def _file_object(plan: _Plan, kind: str, obj: FileObject) -> dict[str, Any] | None:
    if obj.external or obj.content is None:
        return None
    k8s_kind = "ConfigMap" if kind == "configs" else "Secret"
    manifest: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": k8s_kind,
        "metadata": plan.metadata(plan.objects[(kind, obj.key)], None),
    }
    for option, value in obj.options.items():
        if option == "labels" and isinstance(value, Mapping):
            annotations = _annotations({str(k): str(v) for k, v in value.items()}, plan.report, None, f"{kind}.labels")
            if annotations:
                manifest["metadata"]["annotations"] = annotations
        elif not option.startswith("x-"):
            plan.report.add(None, f"{kind}.{option}", f"{kind[:-1]} {obj.key}: Kubernetes has no {option}; left out")
    data_key = config_key(obj.key)
    if k8s_kind == "Secret":
        manifest["type"] = "Opaque"
        manifest["data"] = {data_key: base64.b64encode(obj.content.encode("utf-8")).decode("ascii")}
    else:
        manifest["data"] = {data_key: obj.content}
    # A new content is a new name: the old object stays until the deploy prunes it.
    manifest["immutable"] = True
    return manifest


def _claim_spec(plan: _Plan, volume: _VolumePlan) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "accessModes": [volume.access_mode],
        "resources": {"requests": {"storage": plan.options.volume_sizes.get(volume.key, plan.options.volume_size)}},
    }
    if plan.options.storage_class:
        spec["storageClassName"] = plan.options.storage_class
    return spec


def _volume_options(plan: _Plan, key: str) -> dict[str, str]:
    """Annotations from the top-level volume's labels; every option but name and labels is reported."""
    volume = plan.app.volumes[key]
    annotations: dict[str, str] = {}
    if volume.driver not in (None, "local"):
        plan.report.add(
            None, "volumes.driver", f"volume {key} uses the {volume.driver} driver; its claim gets the storage class"
        )
    for option, value in volume.options.items():
        if option == "name":
            continue
        if option == "labels" and isinstance(value, Mapping):
            annotations.update(
                _annotations({str(k): str(v) for k, v in value.items()}, plan.report, None, "volumes.labels")
            )
        else:
            plan.report.add(None, f"volumes.{option}", f"volume {key}: a claim has no {option}; left out")
    return annotations


def _claim(plan: _Plan, volume: _VolumePlan, service: str | None) -> dict[str, Any]:
    """A claim of its own (service None), or the claim template of the service's StatefulSet.

    A StatefulSet's claim templates cannot change once it exists, so a
    template carries only the labels that never change: no version, no
    extra labels.
    """
    if service is None:
        metadata = plan.metadata(volume.claim, None)
    else:
        metadata = {"name": volume.claim, "labels": plan.labels(service, None, pod=True)}
    annotations = _volume_options(plan, volume.key)
    if annotations:
        metadata["annotations"] = annotations
    manifest = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": metadata}
    manifest["spec"] = _claim_spec(plan, volume)
    return manifest


# --- a service's pod --------------------------------------------------------------------


def _escape(value: str) -> str:
    """$ as $$: Kubernetes expands $(VAR) in env values, command and args, and reads $$ as $."""
    return value.replace("$", "$$")


def _container_ports(service: Service) -> list[tuple[int, str]]:
    ports: list[tuple[int, str]] = []
    for port in service.ports:
        entry = (port.target, port.protocol.upper())
        if entry not in ports:
            ports.append(entry)
    for target in [*service.expose, *([service.port] if service.port is not None else [])]:
        if (target, "TCP") not in ports:
            ports.append((target, "TCP"))
    return ports


def _port_name(port: int, protocol: str) -> str:
    return f"{protocol.lower()}-{port}"


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


def _extra_hosts(value: Any) -> list[dict[str, Any]]:
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
    for host, address in pairs:
        aliases.setdefault(address.strip("[]"), []).append(host)
    return [{"ip": ip, "hostnames": hosts} for ip, hosts in aliases.items()]


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


def _service_options(service: Service, parts: _PodParts, report: ConversionReport) -> None:
    """The Compose keys the model keeps as written, on the pod where Kubernetes has them; the rest reported."""
    name = service.name
    for key, value in service.options.items():
        reason = None
        if key in ("cap_add", "cap_drop"):
            parts.security.setdefault("capabilities", {})["add" if key == "cap_add" else "drop"] = _capabilities(value)
        elif key == "privileged":
            if value:
                parts.security["privileged"] = True
        elif key == "read_only":
            if value:
                parts.security["readOnlyRootFilesystem"] = True
        elif key == "security_opt":
            others = [item for item in value or [] if str(item) not in _NO_NEW_PRIVILEGES]
            if len(others) < len(value or []):
                parts.security["allowPrivilegeEscalation"] = False
            if others:
                reason = f"Kubernetes takes none of {', '.join(map(str, others))} as a security option"
        elif key == "init":
            # A shared process namespace makes the pause container PID 1, which reaps zombies as an init does.
            if value:
                parts.pod["shareProcessNamespace"] = True
        elif key == "hostname":
            if _DNS_LABEL.fullmatch(str(value)):
                parts.pod["hostname"] = str(value)
            else:
                reason = f"{value} is not a DNS label, which a pod's hostname must be"
        elif key == "extra_hosts":
            parts.pod["hostAliases"] = _extra_hosts(value)
        elif key == "sysctls":
            parts.pod_security["sysctls"] = [{"name": k, "value": v} for k, v in _key_values(value)]
        elif key == "group_add":
            groups = [str(group) for group in value or []]
            if all(group.isdigit() for group in groups):
                parts.pod_security["supplementalGroups"] = [int(group) for group in groups]
            else:
                reason = "Kubernetes adds groups by numeric ID only"
        elif key in ("tty", "stdin_open"):
            if value:
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
                config["nameservers"] = items
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
    ports = _container_ports(service)
    if ports:
        container["ports"] = [
            {"name": _port_name(port, protocol), "containerPort": port, "protocol": protocol}
            for port, protocol in ports
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


def _rolling_update(service: Service, report: ConversionReport) -> tuple[dict[str, Any], int | None]:
    """(rolling update parameters, minReadySeconds) for a Deployment or DaemonSet."""
    policy = service.update or UpdatePolicy()
    step: int | str = policy.parallelism if policy.parallelism else 1
    if policy.parallelism == 0:
        step = "100%"
    if policy.order == "stop-first":
        rolling: dict[str, Any] = {"maxUnavailable": step, "maxSurge": 0}
    else:
        rolling = {"maxUnavailable": 0, "maxSurge": step}
    _report_update(service, policy, report)
    return rolling, None if policy.monitor is None else math.ceil(policy.monitor)


def _report_update(service: Service, policy: UpdatePolicy, report: ConversionReport) -> None:
    if policy.delay is not None:
        report.add(
            service.name,
            "deploy.update_config.delay",
            "Kubernetes moves to the next pod as soon as one is ready (after minReadySeconds); there is no delay",
        )
    if policy.failure_action == "continue":
        report.add(
            service.name,
            "deploy.update_config.failure_action",
            "a Kubernetes rollout that fails stops (progress deadline); it does not continue",
        )
    if policy.max_failure_ratio is not None:
        report.add(
            service.name,
            "deploy.update_config.max_failure_ratio",
            "a Kubernetes rollout tolerates no failed pod; the ratio is left out",
        )
    if service.rollback is not None:
        report.add(
            service.name,
            "deploy.rollback_config",
            "Kubernetes rolls back (rollout undo) with the update strategy; rollback_config is left out",
        )


def _statefulset_update(service: Service, report: ConversionReport) -> int | None:
    policy = service.update or UpdatePolicy()
    if policy.order == "start-first":
        report.add(
            service.name,
            "deploy.update_config.order",
            "a StatefulSet (the service writes a named volume of its own) stops each old pod before starting the "
            "new one; start-first is left out",
        )
    if policy.parallelism is not None and policy.parallelism != 1:
        report.add(
            service.name,
            "deploy.update_config.parallelism",
            "a StatefulSet updates one pod at a time",
        )
    _report_update(service, policy, report)
    return None if policy.monitor is None else math.ceil(policy.monitor)


def _workload(plan: _Plan, service: Service, service_name: str) -> dict[str, Any]:
    kind = plan.kinds[service.name]
    name = plan.names[service.name]
    _restart(service, kind, plan.report)
    spec = _pod_spec(plan, service, kind, bool(_container_ports(service)))
    template = _pod_template(plan, service, spec)
    manifest: dict[str, Any] = {
        "apiVersion": _API_VERSIONS[kind],
        "kind": kind,
        "metadata": plan.metadata(name, service.name),
    }
    annotations = _annotations(service.service_labels, plan.report, service.name, "deploy.labels")
    if annotations:
        manifest["metadata"]["annotations"] = annotations
    selector = {"matchLabels": plan.selector(service.name)}
    replicas = 1 if service.replicas is None else service.replicas
    if kind == "Job":
        restart = service.restart
        attempts = JOB_BACKOFF_LIMIT
        if restart is not None and restart.condition == "none":
            attempts = 0
        elif restart is not None and restart.max_attempts is not None:
            attempts = restart.max_attempts
        job_spec = {
            "completions": replicas,
            "parallelism": replicas,
            "backoffLimit": attempts,
            "template": template,
        }
        # The pod template of a Job cannot change: a new spec is a new Job.
        manifest["metadata"]["name"] = f"{name}-{_short_hash(json.dumps(job_spec, sort_keys=True))}"
        manifest["spec"] = job_spec
        return manifest
    if kind == "DaemonSet":
        rolling, min_ready = _rolling_update(service, plan.report)
        workload_spec: dict[str, Any] = {"selector": selector}
        workload_spec["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": rolling}
    elif kind == "StatefulSet":
        min_ready = _statefulset_update(service, plan.report)
        workload_spec = {"serviceName": service_name, "replicas": replicas, "selector": selector}
        workload_spec["updateStrategy"] = {"type": "RollingUpdate"}
    else:
        rolling, min_ready = _rolling_update(service, plan.report)
        workload_spec = {"replicas": replicas, "selector": selector}
        workload_spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": rolling}
    if min_ready is not None:
        workload_spec["minReadySeconds"] = min_ready
    workload_spec["template"] = template
    templates = [volume for volume in plan.volumes.values() if volume.template_of == service.name]
    if templates:
        workload_spec["volumeClaimTemplates"] = [
            {
                key: value
                for key, value in _claim(plan, volume, service.name).items()
                if key not in ("apiVersion", "kind")
            }
            for volume in templates
        ]
    manifest["spec"] = workload_spec
    return manifest


def _service(plan: _Plan, service: Service) -> dict[str, Any]:
    """The service's Service: ClusterIP over its ports, or headless (dnsrr, or no ports).

    A headless Service without ports still gives the service's name to its
    pods' addresses, so that, as on a Compose network, other services reach
    every port of it by name.
    """
    ports = _container_ports(service)
    spec: dict[str, Any] = {"selector": plan.selector(service.name)}
    if service.endpoint_mode == "dnsrr" or not ports:
        spec["clusterIP"] = "None"
    else:
        spec["type"] = "ClusterIP"
    if ports:
        spec["ports"] = [
            {"name": _port_name(port, protocol), "port": port, "targetPort": port, "protocol": protocol}
            for port, protocol in ports
        ]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": plan.metadata(plan.names[service.name], service.name),
        "spec": spec,
    }


def _ingress(plan: _Plan, service: Service) -> dict[str, Any]:
    options = plan.options
    name = plan.names[service.name]
    metadata = plan.metadata(name, service.name)
    annotations = dict(options.ingress_annotations)
    if options.edge_entrypoint:
        annotations[TRAEFIK_ENTRYPOINTS] = options.edge_entrypoint
    if options.edge_certresolver and options.tls:
        annotations[TRAEFIK_CERTRESOLVER] = options.edge_certresolver
    if annotations:
        metadata["annotations"] = annotations
    spec: dict[str, Any] = {}
    if options.ingress_class:
        spec["ingressClassName"] = options.ingress_class
    if options.tls:
        tls: dict[str, Any] = {"hosts": [service.domain]}
        if options.tls_secret:
            tls["secretName"] = options.tls_secret
        spec["tls"] = [tls]
    backend = {"service": {"name": name, "port": {"number": service.port}}}
    spec["rules"] = [
        {"host": service.domain, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}
    ]
    return {"apiVersion": _API_VERSIONS["Ingress"], "kind": "Ingress", "metadata": metadata, "spec": spec}


# --- the service's other keys, reported ----------------------------------------------------


def _report_service(plan: _Plan, service: Service, network_sets: set[frozenset[str]]) -> None:
    report = plan.report
    name = service.name
    report.add_unbuilt_and_unordered(service, "Kubernetes", "pods")
    _report_published(service, report)
    networks = set(service.networks) or {DEFAULT_NETWORK}
    if len(network_sets) > 1:
        report.add(
            name,
            "networks",
            f"Kubernetes has one pod network: every pod in the cluster reaches this service, not only those on "
            f"{', '.join(sorted(networks))}",
        )
    for network, attachment in service.networks.items():
        declared = plan.app.networks.get(network)
        if declared is not None and declared.external:
            report.add(
                name,
                "networks.external",
                f"network {network} belongs to another stack; on Kubernetes reach its services as "
                "<service>.<namespace>",
            )
        if attachment.aliases:
            report.add(
                name,
                "networks.aliases",
                f"Kubernetes knows the service by its Service name only, not as {', '.join(attachment.aliases)}",
            )
        for key in attachment.options:
            report.add(name, f"networks.{key}", f"Kubernetes cannot set {key} on a pod's network")


# --- options and the whole ---------------------------------------------------------------------


def _check_options(app: App, options: KubernetesOptions) -> None:
    checks = [
        ("namespace", options.namespace, _DNS_LABEL, "a DNS label: lowercase letters, digits and '-'"),
        ("ingress_class", options.ingress_class, _DNS_SUBDOMAIN, "a DNS subdomain"),
        ("tls_secret", options.tls_secret, _DNS_SUBDOMAIN, "a Secret name (a DNS subdomain)"),
        ("storage_class", options.storage_class, _DNS_SUBDOMAIN, "a StorageClass name (a DNS subdomain)"),
        ("image_pull_secret", options.image_pull_secret, _DNS_SUBDOMAIN, "a Secret name (a DNS subdomain)"),
        ("volume_size", options.volume_size, _QUANTITY, "a quantity such as 1Gi or 500Mi"),
    ]
    checks.extend(
        (f"volume_sizes.{key}", size, _QUANTITY, "a quantity such as 1Gi or 500Mi")
        for key, size in options.volume_sizes.items()
    )
    for name, value, pattern, what in checks:
        if value is not None and not pattern.fullmatch(str(value)):
            raise RenderError(f"{name} must be {what}, not {value!r}")
    unknown = sorted(set(options.volume_sizes) - set(app.volumes))
    if unknown:
        raise RenderError(
            f"volume_sizes names {', '.join(unknown)}, which no service mounts (volumes: {', '.join(app.volumes)})"
        )
    for key, value in options.labels.items():
        if not is_qualified_name(key) or not _LABEL_VALUE.fullmatch(str(value)):
            raise RenderError(f"labels: {key}={value} is not a Kubernetes label")
    if options.drain_seconds < 0:
        raise RenderError(f"drain_seconds must be 0 or more, not {options.drain_seconds}")
    if options.drain_hook not in DRAIN_HOOKS:
        raise RenderError(f"drain_hook must be exec or sleep, not {options.drain_hook!r}")
    for key in options.ingress_annotations:
        if not is_qualified_name(key):
            raise RenderError(f"ingress_annotations: {key} is not an annotation key ([prefix/]name)")
    for service in app.services.values():
        if service.routed and service.port is None:
            raise RenderError(f"service {service.name} has the domain {service.domain} but no port to route to")


def render_kubernetes(app: App, options: KubernetesOptions) -> KubernetesManifests:
    """The manifests in apply order, and the conversion report.

    Raises RenderError for options that do not fit the app and
    ImagePolicyError for :latest or untagged images in a strict environment.
    """
    _check_options(app, options)
    check_images(app, options.strict_environments)
    report = ConversionReport([*app.allow, *options.allow])
    plan = _plan(app, options, report)
    for key in app.options:
        report.add(None, key, f"{_GENERIC_REASON}; left out")

    network_sets = {frozenset(service.networks) or frozenset({DEFAULT_NETWORK}) for service in app.services.values()}
    groups: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KIND_ORDER}
    groups["Namespace"].append(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": plan.metadata(plan.namespace, None, namespaced=False)}
    )
    for kind, objects in (("configs", app.configs), ("secrets", app.secrets)):
        for obj in objects.values():
            manifest = _file_object(plan, kind, obj)
            if manifest is not None:
                groups["ConfigMap" if kind == "configs" else "Secret"].append(manifest)
    for volume in plan.volumes.values():
        if not volume.external and volume.template_of is None:
            groups["PersistentVolumeClaim"].append(_claim(plan, volume, None))
    workloads = []
    for service in app.services.values():
        _report_service(plan, service, network_sets)
        k8s_service = _service(plan, service)
        groups["Service"].append(k8s_service)
        service_name = k8s_service["metadata"]["name"]
        workload = _workload(plan, service, service_name)
        groups["workload"].append(workload)
        workloads.append(Workload(service.name, workload["kind"], workload["metadata"]["name"], service_name))
        if service.routed:
            groups["Ingress"].append(_ingress(plan, service))
    return KubernetesManifests(
        manifests=[manifest for kind in KIND_ORDER for manifest in groups[kind]],
        namespace=plan.namespace,
        report=report.items,
        images={name: str(service.image) for name, service in app.services.items()},
        workloads=workloads,
        secret_values=[value for value in app.secret_values if value],
    )
