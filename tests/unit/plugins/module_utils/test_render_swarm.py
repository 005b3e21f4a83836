# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app model -> a Swarm stack definition and its conversion report.

Expected values are written by hand from the Compose file format docker
stack deploy reads (3.9), Swarm's update and restart semantics, and the
Traefik v3 Swarm provider's labels (traefik.swarm.network; labels on
deploy.labels), not from this code's output.
"""

from __future__ import annotations

import json
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    Healthcheck,
    ImagePolicyError,
    Placement,
    must_stop,
)
from ansible_collections.drover.platform.plugins.module_utils._compose_loader import load_app
from ansible_collections.drover.platform.plugins.module_utils._render_swarm import (
    RenderError,
    SwarmOptions,
    SwarmStack,
    escape_dollars,
    placement_constraints,
    render_swarm,
)
from ansible_collections.drover.platform.plugins.module_utils._render_swarm_edge import (
    format_duration,
    router_name,
    update_monitor,
)

from .conftest import app_and_db, has_stack_config, load_written, stack_config_problem, with_app_overlay

REALISTIC = Path(__file__).resolve().parents[2] / "fixtures" / "render" / "realistic"
WEB_DIGEST = "sha256:" + "1f" * 32
API_DIGEST = "sha256:" + "2e" * 32
SECRET = "pr0d-Pa$$word-from-vault"

DEFAULT_DEPLOY = {
    "mode": "replicated",
    "replicas": 1,
    "endpoint_mode": "vip",
    "restart_policy": {"condition": "any", "delay": "5s"},
    "update_config": {"parallelism": 1, "order": "start-first", "failure_action": "rollback", "monitor": "10s"},
    "rollback_config": {"parallelism": 0, "order": "start-first"},
}


def checked(stack: SwarmStack, folder: Path) -> SwarmStack:
    """The stack, once the reference CLI (docker stack config) accepts its definition, where it is installed."""
    if has_stack_config():
        assert stack_config_problem(stack.definition, folder) is None
    return stack


def render(
    tmp_path: Path,
    compose: str,
    overlay: dict[str, Any] | None = None,
    files: dict[str, str] | None = None,
    **options: Any,
) -> SwarmStack:
    app = load_written(tmp_path, compose, overlay, dict(files or {}))
    return checked(render_swarm(app, SwarmOptions(**{"stack_name": "shop-dev", **options})), tmp_path)


def render_app(
    tmp_path: Path, service: str, overlay_service: dict[str, Any] | None = None, **options: Any
) -> SwarmStack:
    """A stack of `app` (its Compose lines given) and a plain `db`."""
    compose = app_and_db(service, "volumes:\n  data:\n")
    return render(tmp_path, compose, with_app_overlay(options.pop("overlay", {}), overlay_service), **options)


def keys(stack: SwarmStack) -> list[tuple[str | None, str, bool]]:
    return [(item.service, item.key, item.allowed) for item in stack.report]


# --- small pieces --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(90.0, "90s"), (10, "10s"), (1.5, "1500ms"), (0.25, "250ms"), (3600.0, "3600s"), (0.0, "0s")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("healthcheck", "monitor"),
    [
        pytest.param(None, 10.0, id="no-healthcheck"),
        pytest.param(Healthcheck(["CMD", "true"]), 90.0, id="engine-defaults-30s-x3"),
        pytest.param(
            Healthcheck(["CMD", "true"], interval=5.0, retries=5, start_period=20.0), 45.0, id="start-period-plus"
        ),
        pytest.param(Healthcheck(["CMD", "true"], interval=2.0, retries=2), 10.0, id="at-least-10s"),
        pytest.param(Healthcheck(["CMD", "true"], interval=15.0), 45.0, id="default-retries"),
        pytest.param(Healthcheck(["NONE"], disabled=True), 10.0, id="disabled"),
        pytest.param(Healthcheck(interval=60.0), 10.0, id="no-test-image-decides"),
    ],
)
def test_update_monitor(healthcheck: Healthcheck | None, monitor: float) -> None:
    assert update_monitor(healthcheck) == monitor


@pytest.mark.parametrize(
    ("placement", "constraints"),
    [
        pytest.param(Placement(), [], id="none"),
        pytest.param(Placement(classes=["nuc"]), ["node.labels.drover.class==nuc"], id="one-class"),
        pytest.param(
            Placement(classes=["nuc", "pc"]),
            [
                "node.labels.drover.class!=rpi",
                "node.labels.drover.class!=vm",
                "node.labels.drover.class!=container",
                "node.labels.drover.class!=unknown",
            ],
            id="two-classes",
        ),
        pytest.param(
            Placement(arches=["amd64", "arm64"]),
            [
                "node.labels.drover.arch!=armhf",
                "node.labels.drover.arch!=i386",
                "node.labels.drover.arch!=ppc64el",
                "node.labels.drover.arch!=s390x",
                "node.labels.drover.arch!=riscv64",
            ],
            id="two-arches",
        ),
        pytest.param(
            Placement(
                classes=["rpi"], arches=["arm64"], node_labels={"disk": "ssd"}, constraints=["node.role==worker"]
            ),
            [
                "node.role==worker",
                "node.labels.drover.class==rpi",
                "node.labels.drover.arch==arm64",
                "node.labels.disk==ssd",
            ],
            id="everything",
        ),
        pytest.param(
            Placement(classes=["nuc"], constraints=["node.labels.drover.class==nuc"]),
            ["node.labels.drover.class==nuc"],
            id="no-duplicates",
        ),
    ],
)
def test_placement_constraints(placement: Placement, constraints: list[str]) -> None:
    assert placement_constraints(placement) == constraints


def test_escape_dollars_leaves_keys() -> None:
    assert escape_dollars({"$K": ["a$b", {"c": "$$"}], "n": 1}) == {"$K": ["a$$b", {"c": "$$$$"}], "n": 1}


@pytest.mark.parametrize(
    ("stack", "service", "name"),
    [("shop-dev", "web", "shop-dev-web"), ("shop.v2_prod", "web.front", "shop-v2_prod-web-front")],
)
def test_router_name(stack: str, service: str, name: str) -> None:
    assert router_name(stack, service) == name


# --- defaults per service ---------------------------------------------------------------


def test_a_plain_service(tmp_path: Path) -> None:
    stack = render_app(tmp_path, "image: app:1\n")
    assert stack.definition == {
        "version": "3.9",
        "services": {
            "app": {"image": "app:1", "deploy": DEFAULT_DEPLOY},
            "db": {"image": "db:1", "deploy": DEFAULT_DEPLOY},
        },
    }
    assert stack.report == []
    assert stack.images == {"app": "app:1", "db": "db:1"}


def test_a_service_in_full(tmp_path: Path) -> None:
    stack = render(
        tmp_path,
        """\
        services:
          app:
            image: app:1
            command: ./serve --port 8000
            entrypoint: [/sbin/tini, --]
            environment: {MODE: serve}
            labels: [team=shop]
            user: "1000"
            working_dir: /srv
            stop_grace_period: 1m30s
            healthcheck:
              test: "curl -f http://localhost:8000/"
              interval: 10s
              timeout: 2s
              retries: 2
              start_period: 15s
            ports: ["8000:8000"]
            volumes: [data:/data, "/etc/localtime:/etc/localtime:ro"]
            configs: [settings, {source: settings, target: /etc/app.toml, mode: 0440}]
            secrets: [token]
            networks: {back: {aliases: [application]}}
            deploy:
              replicas: 3
              labels: {io.shop.tier: backend}
              resources: {limits: {cpus: "0.5", memory: 128M, pids: 200}, reservations: {memory: 64M}}
              placement:
                constraints: [node.role==worker]
                preferences: [{spread: node.labels.zone}]
                max_replicas_per_node: 2
              update_config: {parallelism: 2, delay: 10s}
        networks:
          back: {driver: overlay, attachable: true}
        volumes:
          data: {driver: local}
        configs:
          settings: {content: "debug = false"}
        secrets:
          token: {environment: TOKEN}
        """,
        {"variables": {"TOKEN": "t0ken"}},
        allow=["volumes.bind"],
    )
    assert stack.definition["services"]["app"] == {
        "image": "app:1",
        "command": ["./serve", "--port", "8000"],
        "entrypoint": ["/sbin/tini", "--"],
        "environment": {"MODE": "serve"},
        "labels": {"team": "shop"},
        "user": "1000",
        "working_dir": "/srv",
        "stop_grace_period": "90s",
        "healthcheck": {
            "test": ["CMD-SHELL", "curl -f http://localhost:8000/"],
            "interval": "10s",
            "timeout": "2s",
            "start_period": "15s",
            "retries": 2,
        },
        "ports": [{"target": 8000, "published": 8000, "protocol": "tcp", "mode": "ingress"}],
        "volumes": [
            {"type": "volume", "source": "data", "target": "/data"},
            {"type": "bind", "source": "/etc/localtime", "target": "/etc/localtime", "read_only": True},
        ],
        "configs": ["settings", {"source": "settings", "target": "/etc/app.toml", "mode": 0o440}],
        "secrets": ["token"],
        "networks": {"back": {"aliases": ["application"]}},
        "deploy": {
            "mode": "replicated",
            "replicas": 3,
            "endpoint_mode": "vip",
            "labels": {"io.shop.tier": "backend"},
            "resources": {"limits": {"cpus": "0.5", "memory": "128M", "pids": 200}, "reservations": {"memory": "64M"}},
            "placement": {
                "constraints": ["node.role==worker"],
                "preferences": [{"spread": "node.labels.zone"}],
                "max_replicas_per_node": 2,
            },
            "restart_policy": {"condition": "any", "delay": "5s"},
            # 15s + 10s x 2 = 35s; it writes the named volume data: stop-first.
            "update_config": {
                "parallelism": 2,
                "delay": "10s",
                "order": "stop-first",
                "failure_action": "rollback",
                "monitor": "35s",
            },
            "rollback_config": {"parallelism": 0, "order": "stop-first"},
        },
    }
    assert stack.definition["networks"] == {"back": {"driver": "overlay", "attachable": True}}
    assert stack.definition["volumes"] == {"data": {"driver": "local"}}
    assert stack.definition["configs"] == {"settings": {"content": "debug = false"}}
    assert stack.definition["secrets"] == {"token": {"content": "t0ken"}}
    assert stack.secret_values == ["t0ken"]
    assert keys(stack) == [("app", "volumes.bind", True)]


@pytest.mark.parametrize(
    ("lines", "deploy"),
    [
        pytest.param(
            "deploy: {mode: replicated-job}",
            {
                "mode": "replicated",
                "replicas": 1,
                "endpoint_mode": "vip",
                "restart_policy": {"condition": "on-failure", "delay": "5s", "max_attempts": 3},
            },
            id="job",
        ),
        pytest.param(
            "deploy: {mode: replicated-job, replicas: 3, restart_policy: {condition: none}}",
            {
                "mode": "replicated",
                "replicas": 3,
                "endpoint_mode": "vip",
                "restart_policy": {"condition": "none", "delay": "5s"},
            },
            id="job-restart-none",
        ),
        pytest.param(
            "deploy: {mode: global}",
            {
                "mode": "global",
                "endpoint_mode": "vip",
                "restart_policy": {"condition": "any", "delay": "5s"},
                "update_config": {
                    "parallelism": 1,
                    "order": "start-first",
                    "failure_action": "rollback",
                    "monitor": "10s",
                },
                "rollback_config": {"parallelism": 0, "order": "start-first"},
            },
            id="global",
        ),
        pytest.param(
            'restart: "no"',
            {**DEFAULT_DEPLOY, "restart_policy": {"condition": "none", "delay": "5s"}},
            id="restart-no",
        ),
        pytest.param(
            "restart: on-failure:3",
            {**DEFAULT_DEPLOY, "restart_policy": {"condition": "on-failure", "delay": "5s", "max_attempts": 3}},
            id="restart-on-failure",
        ),
        pytest.param(
            "deploy: {restart_policy: {delay: 10s, window: 1m}}",
            {**DEFAULT_DEPLOY, "restart_policy": {"condition": "any", "delay": "10s", "window": "60s"}},
            id="restart-policy",
        ),
        pytest.param(
            "deploy: {update_config: {order: stop-first, monitor: 5s, max_failure_ratio: 0.5}, "
            "rollback_config: {parallelism: 1, failure_action: pause}}",
            {
                **DEFAULT_DEPLOY,
                "update_config": {
                    "parallelism": 1,
                    "order": "stop-first",
                    "failure_action": "rollback",
                    "monitor": "5s",
                    "max_failure_ratio": 0.5,
                },
                "rollback_config": {"parallelism": 1, "order": "start-first", "failure_action": "pause"},
            },
            id="compose-update-config-wins",
        ),
        pytest.param(
            "deploy: {endpoint_mode: dnsrr}", {**DEFAULT_DEPLOY, "endpoint_mode": "dnsrr"}, id="compose-dnsrr"
        ),
    ],
)
def test_deploy(tmp_path: Path, lines: str, deploy: dict[str, Any]) -> None:
    stack = render_app(tmp_path, f"image: app:1\n{lines}\n")
    assert stack.definition["services"]["app"]["deploy"] == deploy
    assert stack.definition["services"]["db"]["deploy"] == DEFAULT_DEPLOY


def test_endpoint_mode_of_the_target(tmp_path: Path) -> None:
    stack = render_app(tmp_path, "image: app:1\n", endpoint_mode="dnsrr")
    assert [service["deploy"]["endpoint_mode"] for service in stack.definition["services"].values()] == [
        "dnsrr",
        "dnsrr",
    ]


# --- published ports and update order ---------------------------------------------------------

ORDER_KEY = "deploy.update_config.order"


# endpoint mode, ports, rendered ports, update/rollback order, report keys
@pytest.mark.parametrize(
    ("endpoint_mode", "ports", "rendered", "order", "report"),
    [
        pytest.param(
            "vip",
            '["8080:80"]',
            [{"target": 80, "published": 8080, "protocol": "tcp", "mode": "ingress"}],
            "start-first",
            [],
            id="vip-routing-mesh",
        ),
        pytest.param(
            "dnsrr",
            '["8080:80", "9090:90/udp"]',
            [
                {"target": 80, "published": 8080, "protocol": "tcp", "mode": "host"},
                {"target": 90, "published": 9090, "protocol": "udp", "mode": "host"},
            ],
            "stop-first",
            [ORDER_KEY],
            id="dnsrr-host-mode",
        ),
        pytest.param(
            "vip",
            "[{target: 80, published: 8080, mode: host}]",
            [{"target": 80, "published": 8080, "protocol": "tcp", "mode": "host"}],
            "stop-first",
            [ORDER_KEY],
            id="vip-host-mode",
        ),
        pytest.param(
            "dnsrr",
            "[{target: 80, published: 8080, mode: ingress}]",
            [{"target": 80, "published": 8080, "protocol": "tcp", "mode": "host"}],
            "stop-first",
            ["ports.mode", ORDER_KEY],
            id="dnsrr-refuses-ingress",
        ),
        pytest.param(
            "dnsrr",
            '["80"]',
            [{"target": 80, "protocol": "tcp", "mode": "host"}],
            "start-first",
            [],
            id="host-mode-without-published-port",
        ),
        pytest.param(
            "vip",
            '["127.0.0.1:8080:80"]',
            [{"target": 80, "published": 8080, "protocol": "tcp", "mode": "ingress"}],
            "start-first",
            ["ports.host_ip"],
            id="host-ip",
        ),
    ],
)
def test_ports_and_update_order(
    tmp_path: Path, endpoint_mode: str, ports: str, rendered: list[Any], order: str, report: list[str]
) -> None:
    stack = render_app(tmp_path, f"image: app:1\nports: {ports}\n", endpoint_mode=endpoint_mode)
    service = stack.definition["services"]["app"]
    assert service["ports"] == rendered
    assert (service["deploy"]["update_config"]["order"], service["deploy"]["rollback_config"]["order"]) == (
        order,
        order,
    )
    assert [key for _service, key, _allowed in keys(stack)] == report


def test_stop_first_message(tmp_path: Path) -> None:
    stack = render_app(tmp_path, "image: app:1\nports: ['8080:80', '8443:443']\n", endpoint_mode="dnsrr")
    assert stack.report[0].message == (
        "ports 8080, 8443 are published in host mode, and two tasks cannot bind one on the same node: updates and "
        "rollbacks stop the old task before starting the new one (stop-first), so the service is briefly down on "
        "that node"
    )


# --- the edge --------------------------------------------------------------------------------


def edge_labels(
    router: str, domain: str, port: str, network: str = "drover-edge", entrypoint: str = "websecure"
) -> dict:
    return {
        "traefik.enable": "true",
        "traefik.swarm.network": network,
        f"traefik.http.routers.{router}.rule": f"Host(`{domain}`)",
        f"traefik.http.routers.{router}.entrypoints": entrypoint,
        f"traefik.http.routers.{router}.tls": "true",
        f"traefik.http.middlewares.{router}-retry.retry.attempts": "3",
        f"traefik.http.middlewares.{router}-retry.retry.initialinterval": "100ms",
        f"traefik.http.routers.{router}.middlewares": f"{router}-retry@swarm",
        f"traefik.http.routers.{router}.service": router,
        f"traefik.http.services.{router}.loadbalancer.server.port": port,
        f"traefik.http.services.{router}.loadbalancer.healthcheck.path": "/",
        f"traefik.http.services.{router}.loadbalancer.healthcheck.interval": "2s",
        f"traefik.http.services.{router}.loadbalancer.healthcheck.timeout": "1s",
    }


@pytest.mark.parametrize(
    ("options", "labels"),
    [
        pytest.param({}, edge_labels("shop-dev-app", "shop.example.com", "8000"), id="defaults"),
        pytest.param(
            {"stack_name": "shop-prod", "edge_certresolver": "letsencrypt"},
            {
                **edge_labels("shop-prod-app", "shop.example.com", "8000"),
                "traefik.http.routers.shop-prod-app.tls.certresolver": "letsencrypt",
            },
            id="prod-with-acme",
        ),
        pytest.param(
            {"stack_name": "shop.v2", "edge_network": "edge", "edge_entrypoint": "https"},
            edge_labels("shop-v2-app", "shop.example.com", "8000", network="edge", entrypoint="https"),
            id="other-edge",
        ),
    ],
)
def test_traefik_labels(tmp_path: Path, options: dict[str, Any], labels: dict[str, str]) -> None:
    stack = render_app(tmp_path, "image: app:1\nexpose: [8000]\n", {"domain": "shop.example.com"}, **options)
    assert stack.definition["services"]["app"]["deploy"]["labels"] == labels
    network = options.get("edge_network", "drover-edge")
    assert stack.definition["networks"] == {network: {"name": network, "external": True}}
    assert stack.definition["services"]["app"]["networks"] == ["default", network]
    assert "networks" not in stack.definition["services"]["db"]


def test_two_environments_on_one_swarm_do_not_collide(tmp_path: Path) -> None:
    routers = set()
    for environment in ("dev", "prod"):
        stack = render_app(
            tmp_path,
            "image: app:1.0\nexpose: [8000]\ndeploy: {labels: {io.shop.tier: front}}\n",
            {"domain": f"{environment}.shop.example.com"},
            overlay={"environment": environment},
            stack_name=f"shop-{environment}",
        )
        labels = stack.definition["services"]["app"]["deploy"]["labels"]
        assert labels["io.shop.tier"] == "front"
        routers.update(label.split(".")[3] for label in labels if label.startswith("traefik.http.routers."))
    assert routers == {"shop-dev-app", "shop-prod-app"}


@pytest.mark.parametrize(
    ("networks", "rendered"),
    [
        pytest.param("", ["default", "drover-edge"], id="default-network"),
        pytest.param("networks: [front]\n", ["front", "drover-edge"], id="own-network"),
        pytest.param(
            "networks: {front: {aliases: [www]}}\n",
            {"front": {"aliases": ["www"]}, "drover-edge": None},
            id="aliases",
        ),
    ],
)
def test_routed_networks(tmp_path: Path, networks: str, rendered: Any) -> None:
    stack = render(
        tmp_path,
        "services:\n  web:\n    image: w:1\n    expose: [80]\n"
        + textwrap.indent(networks, "    ")
        + "networks:\n  front: {}\n",
        {"services": {"web": {"domain": "shop.example.com"}}},
    )
    assert stack.definition["services"]["web"]["networks"] == rendered


def test_a_domain_without_the_edge(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match=r"app \(shop.example.com\) has a domain, but the edge is off"):
        render_app(tmp_path, "image: app:1\nexpose: [80]\n", {"domain": "shop.example.com"}, edge_network=None)
    stack = render_app(tmp_path, "image: app:1\nexpose: [80]\n", edge_network=None)
    assert "networks" not in stack.definition


def test_a_compose_network_named_like_the_edge(tmp_path: Path) -> None:
    compose = textwrap.dedent(
        """\
        services:
          web: {image: w:1, expose: [80], networks: [drover-edge]}
        networks:
          drover-edge: {}
        """
    )
    with pytest.raises(RenderError, match="defines a network drover-edge, the name of the edge network"):
        render(tmp_path, compose, {"services": {"web": {"domain": "shop.example.com"}}})
    external = compose.replace("drover-edge: {}", "drover-edge: {external: true}")
    stack = render(tmp_path, external, {"services": {"web": {"domain": "shop.example.com"}}})
    assert stack.definition["networks"] == {"drover-edge": {"name": "drover-edge", "external": True}}
    assert stack.definition["services"]["web"]["networks"] == ["drover-edge"]


# --- the report ----------------------------------------------------------------------------------


# the app service's Compose lines, overlay for it, expected report keys (all for service app)
@pytest.mark.parametrize(
    ("lines", "overlay", "report"),
    [
        pytest.param("build: .\nimage: r/app:1", None, ["build"], id="build-with-compose-image"),
        pytest.param("build: .\nimage: r/app:1", {"image": "r/app:2"}, [], id="build-with-overlay-image"),
        pytest.param(
            "image: a:1\ndepends_on: {db: {condition: service_healthy}}",
            None,
            ["depends_on.condition"],
            id="depends-on-healthy",
        ),
        pytest.param(
            "image: a:1\ndepends_on: {db: {condition: service_completed_successfully}}",
            None,
            ["depends_on.condition"],
            id="depends-on-completed",
        ),
        pytest.param("image: a:1\ndepends_on: [db]", None, ["depends_on"], id="depends-on-plain"),
        pytest.param(
            "image: a:1\ndepends_on: {db: {condition: service_started}}", None, ["depends_on"], id="depends-on-started"
        ),
        pytest.param("image: a:1\nvolumes: [/srv/data:/data]", None, ["volumes.bind"], id="bind-absolute"),
        pytest.param("image: a:1\nvolumes: [./src:/app]", None, ["volumes.bind_relative"], id="bind-relative"),
        pytest.param(
            "image: a:1\nvolumes: ['/srv:/srv:z']", None, ["volumes.bind", "volumes.selinux"], id="bind-selinux"
        ),
        pytest.param(
            "image: a:1\nvolumes: [{type: volume, source: data, target: /d, volume: {subpath: x}}]",
            None,
            ["volumes.volume.subpath"],
            id="volume-subpath",
        ),
        pytest.param("image: a:1\nvolumes: [{type: npipe, source: x, target: /x}]", None, ["volumes.type"], id="npipe"),
        pytest.param("image: a:1\ntmpfs: ['/tmp:mode=1777']", None, ["volumes.mode"], id="tmpfs-mode"),
        pytest.param("image: a:1\ncontainer_name: app-1", None, ["container_name"], id="container_name"),
        pytest.param("image: a:1\nlinks: [db]", None, ["links"], id="links"),
        pytest.param("image: a:1\nexternal_links: [other_db]", None, ["external_links"], id="external_links"),
        pytest.param("image: a:1\nnetwork_mode: host", None, ["network_mode"], id="network_mode"),
        pytest.param("image: a:1\nprivileged: true", None, ["privileged"], id="privileged"),
        pytest.param("image: a:1\ndevices: [/dev/ttyUSB0]", None, ["devices"], id="devices"),
        pytest.param("image: a:1\nsecurity_opt: [no-new-privileges]", None, ["security_opt"], id="security_opt"),
        pytest.param("image: a:1\npid: host", None, ["pid"], id="pid"),
        pytest.param("image: a:1\nipc: host", None, ["ipc"], id="ipc"),
        pytest.param("image: a:1\nshm_size: 1g", None, ["shm_size"], id="shm_size"),
        pytest.param("image: a:1\nuserns_mode: host", None, ["userns_mode"], id="userns_mode"),
        pytest.param("image: a:1\ncgroup_parent: x", None, ["cgroup_parent"], id="cgroup_parent"),
        pytest.param("image: a:1\nvolumes_from: [db]", None, ["volumes_from"], id="volumes_from"),
        pytest.param("image: a:1\ncpu_shares: 512", None, ["cpu_shares"], id="cpu_shares"),
        pytest.param("image: a:1\npull_policy: always", None, ["pull_policy"], id="pull_policy"),
        pytest.param("image: a:1\nplatform: linux/arm64", None, ["platform"], id="platform"),
        pytest.param("image: a:1\ngpus: all", None, ["gpus"], id="gpus"),
        pytest.param(
            "image: a:1\nhealthcheck: {test: [CMD, 'true'], start_interval: 1s}",
            None,
            ["healthcheck.start_interval"],
            id="start_interval",
        ),
        pytest.param(
            "image: a:1\nnetworks: {default: {ipv4_address: 10.0.0.5}}",
            None,
            ["networks.ipv4_address"],
            id="static-address",
        ),
        pytest.param(
            "image: a:1\ndeploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}",
            None,
            ["deploy.resources.reservations.devices"],
            id="gpu-reservation",
        ),
        pytest.param(
            "image: a:1\nrestart: always\nexpose: [80]\ndevelop: {watch: []}\nx-note: n",
            None,
            [],
            id="honoured-or-meaningless",
        ),
    ],
)
def test_report(tmp_path: Path, lines: str, overlay: dict[str, Any] | None, report: list[str]) -> None:
    stack = render_app(tmp_path, lines + "\n", overlay)
    assert keys(stack) == [("app", key, False) for key in report]
    assert must_stop(stack.report) is bool(report)
    rendered = stack.definition["services"]["app"]
    for key in report:
        assert key.split(".")[0] not in rendered or key.split(".")[0] in (
            "volumes",
            "healthcheck",
            "networks",
            "deploy",
        )


def test_left_out_mounts(tmp_path: Path) -> None:
    stack = render_app(tmp_path, "image: a:1\nvolumes: [./src:/app, /srv/data:/data, data:/d]\n")
    assert stack.definition["services"]["app"]["volumes"] == [
        {"type": "bind", "source": "/srv/data", "target": "/data"},
        {"type": "volume", "source": "data", "target": "/d"},
    ]
    assert stack.report[0].message == (
        "./src on /app is a path on the controller, next to the Compose file; no node has it, so the mount is left out"
    )


@pytest.mark.parametrize(
    ("lines", "carried"),
    [
        pytest.param(
            "cap_add: [NET_ADMIN]\ncap_drop: [ALL]", {"cap_add": ["NET_ADMIN"], "cap_drop": ["ALL"]}, id="caps"
        ),
        pytest.param("extra_hosts: {db.local: 10.0.0.5}", {"extra_hosts": ["db.local:10.0.0.5"]}, id="hosts-mapping"),
        pytest.param(
            "extra_hosts: ['a=10.0.0.1', 'b:10.0.0.2']", {"extra_hosts": ["a:10.0.0.1", "b:10.0.0.2"]}, id="hosts-list"
        ),
        pytest.param(
            "sysctls: {net.core.somaxconn: 1024}\nulimits: {nofile: {soft: 1024, hard: 2048}}",
            {"sysctls": {"net.core.somaxconn": 1024}, "ulimits": {"nofile": {"soft": 1024, "hard": 2048}}},
            id="kernel",
        ),
        pytest.param(
            "logging: {driver: json-file, options: {max-size: 10m}}\ninit: true\nread_only: true\nhostname: app\n"
            "stop_signal: SIGINT",
            {
                "logging": {"driver": "json-file", "options": {"max-size": "10m"}},
                "init": True,
                "read_only": True,
                "hostname": "app",
                "stop_signal": "SIGINT",
            },
            id="runtime",
        ),
    ],
)
def test_carried_keys(tmp_path: Path, lines: str, carried: dict[str, Any]) -> None:
    stack = render_app(tmp_path, f"image: a:1\n{lines}\n")
    assert stack.report == []
    rendered = stack.definition["services"]["app"]
    assert {key: rendered[key] for key in carried} == carried


def test_top_level_report(tmp_path: Path) -> None:
    stack = render(
        tmp_path,
        """\
        services:
          app: {image: a:1, networks: [front, back], volumes: [data:/d]}
        networks:
          front: {driver: bridge}
          back: {enable_ipv6: true, ipam: {config: [{subnet: 10.9.0.0/24, gateway: 10.9.0.1}]}}
        volumes:
          data: {driver: local, x-backup: daily}
        models:
          llm: {model: ai/smollm2}
        """,
    )
    assert keys(stack) == [
        (None, "models", False),
        (None, "networks.driver", False),
        (None, "networks.enable_ipv6", False),
        (None, "networks.ipam", False),
    ]
    assert stack.definition["networks"] == {
        "front": {"driver": "overlay"},
        "back": {"driver": "overlay", "ipam": {"config": [{"subnet": "10.9.0.0/24"}]}},
    }
    assert stack.definition["volumes"] == {"data": {"driver": "local"}}


def test_top_level_options_kept(tmp_path: Path) -> None:
    # Each kind keeps the options the stack file format has, in the order written, and reports the others;
    # the ipam a network keeps is converted where it stands. A config's x- keys go without a word.
    (tmp_path / "app.conf").write_text("a=1\n")
    (tmp_path / "token.txt").write_text("t0ken\n")
    stack = render(
        tmp_path,
        """\
        services:
          app: {image: a:1, networks: [back], volumes: [data:/d], configs: [conf], secrets: [token]}
        networks:
          back:
            internal: true
            enable_ipv6: true
            ipam: {config: [{subnet: 10.9.0.0/24, ip_range: 10.9.0.0/25}]}
            enable_ipv4: true
            driver_opts: {mtu: "1400"}
        volumes:
          data: {labels: {tier: db}, driver_opts: {type: tmpfs}}
        configs:
          conf: {file: ./app.conf, labels: {a: b}, template_driver: golang, x-note: quietly left out}
        secrets:
          token: {file: ./token.txt, name: app-token, labels: {kind: token}}
        """,
    )
    assert keys(stack) == [
        (None, "networks.enable_ipv6", False),
        (None, "networks.ipam", False),
        (None, "networks.enable_ipv4", False),
    ]
    network = stack.definition["networks"]["back"]
    assert list(network.items()) == [
        ("driver", "overlay"),
        ("internal", True),
        ("ipam", {"config": [{"subnet": "10.9.0.0/24"}]}),
        ("driver_opts", {"mtu": "1400"}),
    ]
    assert stack.definition["volumes"] == {"data": {"labels": {"tier": "db"}, "driver_opts": {"type": "tmpfs"}}}
    conf = stack.definition["configs"]["conf"]
    assert (conf["labels"], conf["template_driver"]) == ({"a": "b"}, "golang")
    assert "x-note" not in conf
    assert stack.definition["secrets"]["token"]["labels"] == {"kind": "token"}


@pytest.mark.parametrize(
    ("overlay_allow", "option_allow", "expected"),
    [
        pytest.param([], [], [("app", "volumes.bind", False), ("db", "volumes.bind", False)], id="nothing-allowed"),
        pytest.param(["volumes.bind"], [], [("app", "volumes.bind", True), ("db", "volumes.bind", True)], id="overlay"),
        pytest.param([], ["volumes.bind"], [("app", "volumes.bind", True), ("db", "volumes.bind", True)], id="option"),
        pytest.param(
            [], ["db:volumes.bind"], [("app", "volumes.bind", False), ("db", "volumes.bind", True)], id="one-service"
        ),
        pytest.param(
            ["build"], ["app:build"], [("app", "volumes.bind", False), ("db", "volumes.bind", False)], id="other-keys"
        ),
    ],
)
def test_allow(
    tmp_path: Path, overlay_allow: list[str], option_allow: list[str], expected: list[tuple[str, str, bool]]
) -> None:
    compose = "services:\n  app: {image: a:1, volumes: ['/srv/a:/a']}\n  db: {image: d:1, volumes: ['/srv/d:/d']}\n"
    stack = render(tmp_path, compose, {"allow": overlay_allow}, allow=tuple(option_allow))
    assert keys(stack) == expected
    assert must_stop(stack.report) is not all(allowed for _s, _k, allowed in expected)
    assert [(item.service, item.key) for item in stack.blocking] == [
        (s, k) for s, k, allowed in expected if not allowed
    ]


# --- strict tags ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "strict", "image", "refused"),
    [
        pytest.param("prod", ("preprod", "prod"), "app:latest", True, id="latest-in-prod"),
        pytest.param("prod", ("preprod", "prod"), "registry.lab:5000/app", True, id="untagged-in-prod"),
        pytest.param("dev", ("preprod", "prod"), "app:latest", False, id="latest-in-dev"),
        pytest.param("dev", ("preprod", "prod"), "app", False, id="untagged-in-dev"),
        pytest.param("prod", ("preprod", "prod"), f"app:latest@{API_DIGEST}", False, id="pinned-by-digest"),
        pytest.param("dev", ("dev",), "app:latest", True, id="dev-made-strict"),
    ],
)
def test_strict_tags(tmp_path: Path, environment: str, strict: tuple[str, ...], image: str, refused: bool) -> None:
    def go() -> SwarmStack:
        return render_app(
            tmp_path,
            "image: db:1\n",
            {"image": image},
            overlay={"environment": environment},
            strict_environments=strict,
        )

    if refused:
        with pytest.raises(ImagePolicyError, match=f"environment {environment} is strict"):
            go()
    else:
        assert go().images["app"] == image


# --- configs, secrets and $ ------------------------------------------------------------------------------


def test_configs_and_secrets_become_content(tmp_path: Path) -> None:
    stack = render(
        tmp_path,
        """\
        services:
          app:
            image: a:1
            secrets: [db_password, api_key, shared]
            configs: [{source: nginx, target: /etc/nginx/conf.d/default.conf}]
        secrets:
          db_password: {file: ./secrets/db.txt}
          api_key: {file: ./secrets/api.txt, name: shop_api_key, labels: {rotates: "$$yearly"}}
          shared: {external: true, name: platform_token}
        configs:
          nginx: {file: conf/nginx.conf}
        """,
        {"environment": "prod", "secrets": {"db_password": SECRET}},
        {
            "secrets/db.txt": "dev-password",
            "secrets/api.txt": "k$y-from-file\n",
            "conf/nginx.conf": "return 200 '$host';\n",
        },
    )
    assert stack.definition["secrets"] == {
        "db_password": {"content": SECRET},
        "api_key": {"name": "shop_api_key", "labels": {"rotates": "$$yearly"}, "content": "k$y-from-file\n"},
        "shared": {"name": "platform_token", "external": True},
    }
    assert stack.definition["configs"] == {"nginx": {"content": "return 200 '$host';\n"}}
    assert stack.secret_values == [SECRET, "k$y-from-file\n"]
    assert SECRET not in json.dumps([item.as_dict() for item in stack.report])


def test_secret_values_stay_out_of_errors_and_report(tmp_path: Path) -> None:
    compose = """\
    services:
      app: {image: a:latest, secrets: [db_password], volumes: ['/srv:/srv']}
    secrets:
      db_password: {file: ./pw.txt}
    """
    overlay = {"environment": "prod", "secrets": {"db_password": SECRET}}
    with pytest.raises(ImagePolicyError) as raised:
        render(tmp_path, compose, overlay, {"pw.txt": "x"})
    assert SECRET not in str(raised.value)
    stack = render(tmp_path, compose.replace("a:latest", "a:1.0"), overlay, {"pw.txt": "x"})
    assert keys(stack) == [("app", "volumes.bind", False)]
    assert SECRET not in " ".join(item.describe() for item in stack.report)


def test_dollars_survive_the_second_interpolation(tmp_path: Path) -> None:
    stack = render_app(
        tmp_path,
        """\
        image: a:1
        command: [sh, -c, "echo $$HOME"]
        environment: {FROM_COMPOSE: "$$literal", PRICE: "5$"}
        labels: {note: "costs $$1"}
        """,
        {"environment": {"FROM_OVERLAY": "p$ss"}},
    )
    service = stack.definition["services"]["app"]
    assert service["command"] == ["sh", "-c", "echo $$HOME"]
    assert service["environment"] == {"FROM_COMPOSE": "$$literal", "PRICE": "5$$", "FROM_OVERLAY": "p$$ss"}
    assert service["labels"] == {"note": "costs $$1"}


def test_bad_options(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="is not a stack name"):
        render_app(tmp_path, "image: a:1\n", stack_name="-shop")
    with pytest.raises(RenderError, match="endpoint_mode must be vip or dnsrr"):
        render_app(tmp_path, "image: a:1\n", endpoint_mode="ipvs")


# --- a realistic app -------------------------------------------------------------------------------------

PROD_OVERLAY: dict[str, Any] = {
    "environment": "prod",
    "env_files": [".env", "env/prod.env"],
    "services": {
        "web": {"image": f"registry.lab:5000/shop/web@{WEB_DIGEST}", "replicas": 2, "domain": "shop.example.com"},
        "api": {
            "image": f"registry.lab:5000/shop/api@{API_DIGEST}",
            "replicas": 2,
            "domain": "api.shop.example.com",
            "resources": {"limits": {"cpus": "1.0"}, "reservations": {"memory": "128M"}},
        },
        "worker": {"image": f"registry.lab:5000/shop/api@{API_DIGEST}", "environment": {"WORKERS": 4}},
        "db": {"placement": {"class": "nuc"}},
        "cache": {"placement": {"class": ["nuc", "pc"]}},
    },
    "secrets": {"db_password": SECRET},
    # The app's plain depends_on (start order only) is reported; prod accepts it.
    "allow": ["depends_on"],
}
API_ENVIRONMENT = {
    # env/api.env, GREETING interpolated with the project's TAG
    "WORKERS": "2",
    "CACHE_TTL": "300",
    "GREETING": "Shop 1.4.2",
    "FEATURE_FLAGS": "beta,$$not-a-variable",
    # the Compose environment wins over env_file (LOG_LEVEL from env/prod.env)
    "LOG_LEVEL": "warning",
    "DATABASE_URL": "postgres://shop@db:5432/shop",
    "DATABASE_PASSWORD_FILE": "/run/secrets/db_password",
    "REDIS_URL": "redis://cache:6379/0",
}


def realistic(overlay: dict[str, Any], **options: Any) -> SwarmStack:
    app = load_app(str(REALISTIC / "compose.yml"), overlay)
    with tempfile.TemporaryDirectory(prefix="stack-") as folder:
        return checked(render_swarm(app, SwarmOptions(**options)), Path(folder))


def deploy(replicas: int, monitor: str, order: str = "start-first", **extra: Any) -> dict[str, Any]:
    return {
        "mode": "replicated",
        "replicas": replicas,
        "endpoint_mode": "vip",
        **extra,
        "restart_policy": {"condition": "any", "delay": "5s"},
        "update_config": {"parallelism": 1, "order": order, "failure_action": "rollback", "monitor": monitor},
        "rollback_config": {"parallelism": 0, "order": order},
    }


def test_realistic_app_in_prod() -> None:
    stack = realistic(PROD_OVERLAY, stack_name="shop-prod", edge_certresolver="letsencrypt")
    assert [(item.service, item.key) for item in stack.report] == [
        ("web", "depends_on"),
        ("api", "depends_on"),
        ("worker", "depends_on"),
    ]
    assert stack.blocking == []
    services = stack.definition["services"]
    assert list(services) == ["web", "api", "worker", "db", "cache"]
    assert stack.images == {
        "web": f"registry.lab:5000/shop/web@{WEB_DIGEST}",
        "api": f"registry.lab:5000/shop/api@{API_DIGEST}",
        "worker": f"registry.lab:5000/shop/api@{API_DIGEST}",
        "db": "postgres:16.4-bookworm",
        "cache": "redis:7.4-alpine",
    }
    resolver = "letsencrypt"
    assert services["web"] == {
        "image": f"registry.lab:5000/shop/web@{WEB_DIGEST}",
        "environment": {"API_URL": "http://api:8000"},
        "healthcheck": {
            "test": ["CMD", "wget", "-qO-", "http://127.0.0.1:8080/healthz"],
            "interval": "10s",
            "timeout": "3s",
            "start_period": "5s",
            "retries": 3,
        },
        "networks": ["default", "drover-edge"],
        # 5s + 10s x 3
        "deploy": deploy(
            2,
            "35s",
            labels={
                **edge_labels("shop-prod-web", "shop.example.com", "8080"),
                "traefik.http.routers.shop-prod-web.tls.certresolver": resolver,
            },
        ),
    }
    assert services["api"]["environment"] == API_ENVIRONMENT
    assert services["api"]["configs"] == [{"source": "api_settings", "target": "/etc/shop/settings.toml"}]
    assert services["api"]["secrets"] == ["db_password"]
    assert services["api"]["networks"] == ["default", "drover-edge"]
    # 30s + 15s x 4
    assert services["api"]["deploy"] == deploy(
        2,
        "90s",
        labels={
            **edge_labels("shop-prod-api", "api.shop.example.com", "8000"),
            "traefik.http.routers.shop-prod-api.tls.certresolver": resolver,
        },
        resources={"limits": {"memory": "256M", "cpus": "1.0"}, "reservations": {"memory": "128M"}},
    )
    assert services["worker"] == {
        "image": f"registry.lab:5000/shop/api@{API_DIGEST}",
        "command": ["python", "-m", "shop.worker", "--queues", "default high"],
        "environment": {**API_ENVIRONMENT, "WORKERS": "4"},
        "stop_grace_period": "60s",
        "secrets": ["db_password"],
        "deploy": deploy(1, "10s"),
    }
    assert services["db"] == {
        "image": "postgres:16.4-bookworm",
        "environment": {
            "POSTGRES_USER": "shop",
            "POSTGRES_DB": "shop",
            "POSTGRES_PASSWORD_FILE": "/run/secrets/db_password",
        },
        "stop_grace_period": "30s",
        "healthcheck": {
            "test": ["CMD-SHELL", "pg_isready -U $${POSTGRES_USER} -d shop"],
            "interval": "5s",
            "timeout": "3s",
            "start_period": "20s",
            "retries": 5,
        },
        "volumes": [{"type": "volume", "source": "dbdata", "target": "/var/lib/postgresql/data"}],
        "secrets": ["db_password"],
        # 20s + 5s x 5
        # Writes the named volume dbdata: stop-first.
        "deploy": deploy(1, "45s", "stop-first", placement={"constraints": ["node.labels.drover.class==nuc"]}),
    }
    assert services["cache"] == {
        "image": "redis:7.4-alpine",
        "command": ["redis-server", "--save", "60", "1"],
        "healthcheck": {"test": ["CMD", "redis-cli", "ping"], "interval": "10s"},
        "volumes": [{"type": "volume", "source": "cachedata", "target": "/data"}],
        # 0s + 10s x 3 (Docker's default retries)
        "deploy": deploy(
            1,
            "30s",
            "stop-first",
            placement={
                "constraints": [
                    "node.labels.drover.class!=rpi",
                    "node.labels.drover.class!=vm",
                    "node.labels.drover.class!=container",
                    "node.labels.drover.class!=unknown",
                ]
            },
        ),
    }
    assert stack.definition["networks"] == {"drover-edge": {"name": "drover-edge", "external": True}}
    assert stack.definition["volumes"] == {"dbdata": {}, "cachedata": {}}
    assert stack.definition["configs"] == {
        "api_settings": {"content": (REALISTIC / "config" / "settings.toml").read_text()}
    }
    assert stack.definition["secrets"] == {"db_password": {"content": SECRET}}
    assert stack.secret_values == [SECRET]


DEV_OVERLAY: dict[str, Any] = {
    "environment": "dev",
    "profiles": ["debug"],
    "services": {"web": {"domain": "shop.dev.example"}},
    "allow": ["build", "depends_on", "depends_on.condition", ORDER_KEY],
}


def test_realistic_app_in_the_lab_with_debugging() -> None:
    stack = realistic(DEV_OVERLAY, stack_name="shop-dev", endpoint_mode="dnsrr")
    assert keys(stack) == [
        ("web", "build", True),
        ("web", "depends_on", True),
        ("api", "depends_on", True),
        ("worker", "depends_on", True),
        ("adminer", "depends_on.condition", True),
        ("adminer", ORDER_KEY, True),
    ]
    assert must_stop(stack.report) is False
    services = stack.definition["services"]
    assert list(services) == ["web", "api", "worker", "db", "cache", "adminer"]
    assert stack.images["web"] == "registry.lab:5000/shop/web:1.4.0"
    assert stack.images["api"] == "registry.lab:5000/shop/api:1.4.0"
    assert services["api"]["environment"]["LOG_LEVEL"] == "info"
    assert services["api"]["environment"]["GREETING"] == "Shop 1.4.0"
    assert {service["deploy"]["endpoint_mode"] for service in services.values()} == {"dnsrr"}
    assert services["adminer"]["ports"] == [{"target": 8080, "published": 8081, "protocol": "tcp", "mode": "host"}]
    assert services["adminer"]["deploy"]["update_config"]["order"] == "stop-first"
    assert services["web"]["deploy"]["update_config"]["order"] == "start-first"
    assert stack.definition["secrets"] == {"db_password": {"content": "dev-only-password\n"}}


def test_realistic_app_without_allow_stops() -> None:
    stack = realistic({**DEV_OVERLAY, "allow": []}, stack_name="shop-dev", endpoint_mode="dnsrr")
    assert [(item.service, item.key) for item in stack.blocking] == [
        ("web", "build"),
        ("web", "depends_on"),
        ("api", "depends_on"),
        ("worker", "depends_on"),
        ("adminer", "depends_on.condition"),
        ("adminer", ORDER_KEY),
    ]
    assert must_stop(stack.report) is True


@pytest.mark.parametrize(
    ("volumes", "update", "order"),
    [
        pytest.param(["data:/data"], None, "stop-first", id="writes-a-named-volume"),
        pytest.param(["data:/data:ro"], None, "start-first", id="reads-a-named-volume"),
        pytest.param(["data:/data"], {"order": "start-first"}, "start-first", id="compose-says-start-first"),
    ],
)
def test_update_order_of_a_service_with_a_named_volume(
    tmp_path: Path, volumes: list[str], update: dict[str, Any] | None, order: str
) -> None:
    service: dict[str, Any] = {"image": "db:1", "volumes": volumes}
    if update is not None:
        service["deploy"] = {"update_config": update, "rollback_config": update}
    compose = json.dumps({"services": {"db": service}, "volumes": {"data": {}}})
    (tmp_path / "compose.yml").write_text(compose)
    app = load_app(str(tmp_path / "compose.yml"), {"environment": "dev"})
    deployed = render_swarm(app, SwarmOptions(stack_name="s")).definition["services"]["db"]["deploy"]
    assert (deployed["update_config"]["order"], deployed["rollback_config"]["order"]) == (order, order)
