# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes manifests against the API's own schemas (kubernetes-validate, strict).

The demo app is rendered for the lab's dev, preprod and prod as the stack
role renders it (the lab inventory's overlays, APP_VERSION, every image
pinned by digest), and an app that uses every branch of the renderer is
rendered too; every manifest must validate, with no unknown field, for an
older and the newest Kubernetes the validator knows. Broken manifests must
not, which shows the validator is really at work.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from ansible_collections.drover.platform.plugins.module_utils._compose_loader import load_app
from ansible_collections.drover.platform.plugins.module_utils._render_k8s import KubernetesManifests, render_kubernetes
from ansible_collections.drover.platform.plugins.module_utils._render_k8s_plan import KubernetesOptions

ROOT = Path(__file__).resolve().parents[4]
DEMO = ROOT / "apps" / "demo" / "compose.yml"
LAB_STACK = ROOT / "inventories" / "lab" / "group_vars" / "all" / "stack.yml"
REGISTRY = "registry.lab.drover.test:5000"
VERSIONS = ("1.30.0", "1.37.0")
ENVIRONMENTS = ("dev", "preprod", "prod")

_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")


def lab_overlay(environment: str) -> dict[str, Any]:
    """The overlay the stack role hands app_render in the lab: inventory, version, pinned images."""
    environments = yaml.safe_load(LAB_STACK.read_text())["stack_environments"]
    overlay = copy.deepcopy(environments[environment]["overlay"])
    overlay["environment"] = environment
    overlay["variables"] = {"APP_VERSION": "1.7.0"}
    services = overlay.setdefault("services", {})
    for index, service in enumerate(("web", "worker", "redis", "toolbox")):
        digest = f"sha256:{index + 1:x}" + "0" * 63
        services.setdefault(service, {})["image"] = f"{REGISTRY}/demo/{service}@{digest}"
    if "debug" not in overlay.get("profiles", []):
        del services["toolbox"]
    return overlay


def demo(environment: str, **options: Any) -> KubernetesManifests:
    app = load_app(str(DEMO), lab_overlay(environment))
    return render_kubernetes(
        app,
        KubernetesOptions(
            **{"version": "1.7.0", "edge_entrypoint": "websecure", "storage_class": "microk8s-hostpath", **options}
        ),
    )


def invalid(manifests: list[dict[str, Any]], version: str) -> list[str]:
    """What the strict schemas of this Kubernetes version say against each manifest (none: all valid)."""
    problems = []
    for manifest in manifests:
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(item) for item in error.path)
            problems.append(f"{manifest['kind']}/{manifest['metadata']['name']}: {where}: {error.message}")
    return problems


def bad_names(manifests: list[dict[str, Any]]) -> list[str]:
    """Names and labels the API server would refuse, which the JSON schemas do not check."""
    problems = []
    for manifest in manifests:
        metadata = manifest["metadata"]
        name = metadata["name"]
        kind = manifest["kind"]
        pattern = _DNS_LABEL if kind in ("Namespace", "Service") else _DNS_SUBDOMAIN
        if not pattern.fullmatch(name) or len(name) > (63 if kind in ("Namespace", "Service") else 253):
            problems.append(f"{kind} name {name}")
        found_labels = dict(metadata.get("labels", {}))
        template = manifest.get("spec", {}).get("template")
        if template is not None:
            found_labels.update(template["metadata"]["labels"])
            for container in template["spec"]["containers"]:
                if not _DNS_LABEL.fullmatch(container["name"]):
                    problems.append(f"container name {container['name']}")
                for port in container.get("ports", []):
                    if len(port["name"]) > 15:
                        problems.append(f"port name {port['name']}")
            for volume in template["spec"].get("volumes", []):
                if not _DNS_LABEL.fullmatch(volume["name"]) or len(volume["name"]) > 63:
                    problems.append(f"volume name {volume['name']}")
        for key, value in found_labels.items():
            prefix, _slash, label = key.rpartition("/")
            if (prefix and not _DNS_SUBDOMAIN.fullmatch(prefix)) or not _LABEL_NAME.fullmatch(label) or len(label) > 63:
                problems.append(f"label key {key}")
            if not _LABEL_VALUE.fullmatch(value) or len(value) > 63:
                problems.append(f"label value {key}={value}")
    return problems


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_demo_validates(environment: str, version: str) -> None:
    rendered = demo(environment)
    assert rendered.blocking == []
    assert rendered.namespace == f"demo-{environment}"
    kinds = [manifest["kind"] for manifest in rendered.manifests]
    assert kinds[0] == "Namespace" and kinds[-1] == "Ingress"
    assert {(w.service, w.kind) for w in rendered.workloads} >= {
        ("web", "Deployment"),
        ("worker", "Deployment"),
        ("redis", "StatefulSet"),
    }
    assert invalid(rendered.manifests, version) == []
    assert bad_names(rendered.manifests) == []


def test_the_demo_in_dev_has_the_toolbox_and_prod_does_not() -> None:
    assert [w.service for w in demo("dev").workloads] == ["web", "worker", "redis", "toolbox"]
    assert [w.service for w in demo("prod").workloads] == ["web", "worker", "redis"]
    ingress = demo("prod").find("Ingress", "web")
    assert ingress["spec"]["rules"][0]["host"] == "demo.lab.drover.test"


EVERYTHING = """\
name: shop
services:
  web:
    image: shop/web:1.0
    ports: ["8080:80", "53:53/udp"]
    configs: [{source: site, target: /etc/site.conf, mode: 0440}]
    secrets: [token, {source: platform, target: platform.txt}]
    volumes: ["uploads:/srv/uploads", "/etc/localtime:/etc/localtime:ro", "/var/log/shop:/log:rslave"]
    tmpfs: ["/tmp:size=64m"]
    shm_size: 128m
    cap_add: [NET_BIND_SERVICE]
    cap_drop: [ALL]
    read_only: true
    security_opt: [no-new-privileges]
    extra_hosts: ["db.local=10.0.0.5"]
    sysctls: {net.core.somaxconn: 1024}
    group_add: ["44"]
    hostname: shop-web
    dns_search: [shop.lan]
    user: "1000:1000"
    deploy:
      replicas: 3
      labels: {io.shop.tier: front}
      resources: {limits: {cpus: "1.5", memory: 1G}, reservations: {cpus: "0.25", memory: 256M}}
      placement:
        constraints: [node.labels.zone!=b, node.hostname==nuc-1]
        preferences: [{spread: node.labels.zone}]
        max_replicas_per_node: 1
      update_config: {parallelism: 2, order: stop-first, monitor: 20s}
    healthcheck:
      test: ["CMD-SHELL", "wget -qO- http://127.0.0.1/ || exit 1"]
      interval: 10s
      start_period: 30s
      start_interval: 2s
    labels: {io.shop.team: front}
    stop_grace_period: 45s
  agent:
    image: shop/agent:1.0
    deploy: {mode: global}
    privileged: true
    network_mode: host
    pid: host
    volumes: [uploads:/uploads]
  migrate:
    image: shop/api:1.0
    command: ["sh", "-c", "migrate --to $$(latest)"]
    deploy: {mode: replicated-job, restart_policy: {max_attempts: 2}}
    init: true
  db:
    image: postgres:16.4
    volumes: [dbdata:/var/lib/postgresql/data, "cache:/cache"]
    environment: {PGDATA: /var/lib/postgresql/data/pg}
    deploy:
      endpoint_mode: dnsrr
      placement: {constraints: [node.platform.arch==aarch64]}
    platform: linux/arm64
    expose: ["5432"]
    tty: true
    pull_policy: always
volumes:
  uploads: {}
  dbdata: {}
  cache: {external: true, name: shop-cache}
configs:
  site: {content: "server_tokens off;"}
secrets:
  token: {content: "s3cret"}
  platform: {external: true, name: platform-token}
"""


@pytest.mark.parametrize("version", VERSIONS)
def test_every_branch_validates(tmp_path: Path, version: str) -> None:
    (tmp_path / "compose.yml").write_text(EVERYTHING)
    app = load_app(
        str(tmp_path / "compose.yml"),
        {
            "environment": "prod",
            "services": {"web": {"domain": "shop.example.com", "port": 80}},
            "allow": ["ports.published", "volumes.bind", "volumes.shared"],
        },
    )
    rendered = render_kubernetes(
        app,
        KubernetesOptions(
            tls_secret="shop-tls",
            edge_certresolver="letsencrypt",
            image_pull_secret="registry-login",
            volume_sizes={"dbdata": "20Gi"},
            labels={"drover.platform/release": "12"},
            drain_hook="sleep",
        ),
    )
    assert rendered.blocking == []
    assert sorted({manifest["kind"] for manifest in rendered.manifests}) == [
        "ConfigMap",
        "DaemonSet",
        "Deployment",
        "Ingress",
        "Job",
        "Namespace",
        "PersistentVolumeClaim",
        "Secret",
        "Service",
        "StatefulSet",
    ]
    assert invalid(rendered.manifests, version) == []
    assert bad_names(rendered.manifests) == []


def _deployment() -> dict[str, Any]:
    return copy.deepcopy(demo("prod").find("Deployment", "web"))


def _set(manifest: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    node: Any = manifest
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return manifest


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        pytest.param("spec.replicas", "two", "is not of type", id="wrong-type"),
        pytest.param("spec.selector", _DELETE, "'selector' is a required property", id="required-missing"),
        pytest.param(
            "spec.template.spec.containers.0.imagePullPolicyy",
            "Always",
            "Additional properties are not allowed",
            id="unknown-field-strict",
        ),
        pytest.param(
            "spec.template.spec.containers.0.livenessProbe.periodSeconds", "10s", "is not of type", id="duration-text"
        ),
        pytest.param("spec.strategy.type", 1, "is not of type", id="strategy"),
    ],
)
@pytest.mark.parametrize("version", VERSIONS)
def test_a_broken_manifest_fails(path: str, value: Any, message: str, version: str) -> None:
    good = _deployment()
    assert invalid([good], version) == []
    broken = _set(_deployment(), path, value)
    with pytest.raises(kubernetes_validate.ValidationError, match=message):
        kubernetes_validate.validate(broken, version, strict=True)


def test_the_kubelet_sleep_hook_needs_kubernetes_1_30() -> None:
    rendered = demo("prod", drain_hook="sleep")
    web = rendered.find("Deployment", "web")
    assert web["spec"]["template"]["spec"]["containers"][0]["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}
    assert invalid([web], "1.30.0") == []
    assert invalid([web], "1.28.0") == [
        "Deployment/web: spec.template.spec.containers.0.lifecycle.preStop: "
        "Additional properties are not allowed ('sleep' was unexpected)"
    ]


def test_bad_names_are_found() -> None:
    manifest = copy.deepcopy(demo("dev").find("Service", "web"))
    manifest["metadata"]["name"] = "Web_1"
    manifest["metadata"]["labels"]["app.kubernetes.io/version"] = "1.0 beta"
    assert bad_names([manifest]) == ["Service name Web_1", "label value app.kubernetes.io/version=1.0 beta"]


def test_the_manifests_read_back_as_yaml() -> None:
    rendered = demo("preprod")
    text = yaml.safe_dump_all(rendered.manifests, sort_keys=False)
    assert list(yaml.safe_load_all(text)) == rendered.manifests
    # No object is shared between manifests: no YAML anchors.
    assert "&id" not in text
