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
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    DEFAULT_NETWORK,
    App,
    ConversionReport,
    FileObject,
    Service,
    UpdatePolicy,
)
from ansible_collections.drover.platform.plugins.module_utils._render_frame import (
    FILE_OBJECT_KEYS,
    Rendered,
    RenderError,
    check_routes,
    open_report,
    result_fields,
)
from ansible_collections.drover.platform.plugins.module_utils._render_k8s_admission import admission_problems
from ansible_collections.drover.platform.plugins.module_utils._render_k8s_plan import (
    _API_VERSIONS,
    _DNS_LABEL,
    _DNS_SUBDOMAIN,
    _GENERIC_REASON,
    _LABEL_VALUE,
    _QUANTITY,
    DRAIN_HOOKS,
    JOB_BACKOFF_LIMIT,
    KIND_ORDER,
    TRAEFIK_CERTRESOLVER,
    TRAEFIK_ENTRYPOINTS,
    KubernetesOptions,
    _annotations,
    _Plan,
    _plan,
    _short_hash,
    _VolumePlan,
    config_key,
    is_qualified_name,
)
from ansible_collections.drover.platform.plugins.module_utils._render_k8s_pod import (
    _container_ports,
    _pod_spec,
    _pod_template,
    _report_published,
    _restart,
)


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
class KubernetesManifests(Rendered):
    """The manifests in apply order, the report, and what must stay out of logs."""

    manifests: list[dict[str, Any]]
    namespace: str
    workloads: list[Workload] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [manifest for manifest in self.manifests if manifest["kind"] == kind]

    def find(self, kind: str, name: str) -> dict[str, Any]:
        for manifest in self.of_kind(kind):
            if manifest["metadata"]["name"] == name:
                return manifest
        raise KeyError(f"{kind}/{name}")


# --- objects of the app ------------------------------------------------------------------


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
    content = obj.content
    if k8s_kind == "Secret":
        manifest["type"] = "Opaque"
        raw = content if isinstance(content, bytes) else content.encode("utf-8")
        manifest["data"] = {data_key: base64.b64encode(raw).decode("ascii")}
    elif isinstance(content, bytes):
        manifest["binaryData"] = {data_key: base64.b64encode(content).decode("ascii")}
    else:
        manifest["data"] = {data_key: content}
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
    if policy.failure_action in ("continue", "rollback"):
        report.add(
            service.name,
            "deploy.update_config.failure_action",
            "a Kubernetes rollout that fails stops at its progress deadline, the new pods left as they are; it does "
            f"not {'continue' if policy.failure_action == 'continue' else 'roll back by itself'}",
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
        for key, policy in (("update_config", service.update), ("rollback_config", service.rollback)):
            if policy is not None:
                plan.report.add(
                    service.name,
                    f"deploy.{key}",
                    f"a Job is never updated in place: a new spec is a new Job, run to completion; {key} is left out",
                )
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
            {
                "name": port.name,
                "port": port.port,
                "targetPort": port.port,
                "protocol": port.protocol,
                **({"appProtocol": port.app_protocol} if port.app_protocol else {}),
            }
            for port in ports
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


# Options of the top-level objects this target honours (the rest are reported). A network's name and
# attachable, and a bridge or overlay driver, say nothing on one pod network; an external network is
# reported on each service that uses it.
HONOURED_OBJECT_KEYS = {
    "networks": frozenset(("name", "attachable", "driver", "external")),
    "volumes": frozenset(("name", "driver", "labels", "external")),
    "configs": FILE_OBJECT_KEYS | {"labels"},
    "secrets": FILE_OBJECT_KEYS | {"labels"},
}

# What a Compose network says that one pod network cannot: each option, and why it matters.
_NETWORK_OPTIONS = {
    "internal": "an internal network has no way out; Kubernetes pods reach outside the cluster unless a "
    "NetworkPolicy (which this target does not write) stops them",
    "ipam": "pods take their addresses from the cluster's pod network, not from this network's IPAM settings",
    "driver_opts": "Kubernetes has one pod network, configured by the cluster, not per app",
    "enable_ipv6": "the cluster decides whether pods have IPv6 addresses",
    "enable_ipv4": "the cluster decides whether pods have IPv4 addresses",
    "labels": "there is no network object to carry the labels",
}


def _report_networks(app: App, report: ConversionReport) -> None:
    """Top-level network options that have no meaning on one pod network: every one reported."""
    for key, network in app.networks.items():
        if network.external:
            continue
        if network.driver not in (None, "bridge", "overlay"):
            report.add(
                None,
                "networks.driver",
                f"network {key}: the {network.driver} driver has no Kubernetes "
                "equivalent; pods are on the cluster's pod network",
            )
        for option in network.options:
            if option in _NETWORK_OPTIONS:
                report.add(None, f"networks.{option}", f"network {key}: {_NETWORK_OPTIONS[option]}")


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
    check_routes(app)


def render_kubernetes(app: App, options: KubernetesOptions) -> KubernetesManifests:
    """The manifests in apply order, and the conversion report.

    Raises RenderError for options that do not fit the app and
    ImagePolicyError for :latest or untagged images in a strict environment.
    """
    _check_options(app, options)
    report = open_report(app, options.strict_environments, options.allow, _GENERIC_REASON)
    plan = _plan(app, options, report)
    _report_networks(app, report)

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
    manifests = [manifest for kind in KIND_ORDER for manifest in groups[kind]]
    refused = admission_problems(manifests)
    if refused:
        raise RenderError(
            "the API server would refuse these manifests (a renderer bug, or a Compose value this check names): "
            + "; ".join(refused)
        )
    return KubernetesManifests(
        manifests=manifests,
        namespace=plan.namespace,
        workloads=workloads,
        **result_fields(app, report),
    )
