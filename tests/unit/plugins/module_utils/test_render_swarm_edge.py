# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Zero downtime for any routed service: the edge's health check and retry, the health probe,
the drain, update timing, and published ports in strict environments.

Expected values are written by hand from Traefik v3's Swarm provider labels
(loadbalancer.healthcheck.*, middlewares.<name>.retry.*), the stack file
format (healthcheck, stop_signal, stop_grace_period, update_config) and
busybox wget's options, not from this code's output.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.module_utils._app_model import OverlayError, must_stop
from ansible_collections.drover.platform.plugins.module_utils._render_swarm import RenderError, SwarmStack

from .test_render_swarm import render_app

ROUTED = {"domain": "shop.example.com"}
PLAIN = "image: app:1\nexpose: [8000]\n"
WITH_CHECK = PLAIN + "healthcheck:\n  test: [CMD, /app/check]\n  interval: 5s\n  retries: 2\n"
PROBE = "/bin/busybox"


def app(stack: SwarmStack) -> dict[str, Any]:
    return stack.definition["services"]["app"]


def labels(stack: SwarmStack) -> dict[str, str]:
    return app(stack)["deploy"]["labels"]


@pytest.mark.parametrize(
    ("overlay", "options", "expected"),
    [
        pytest.param(
            {},
            {},
            {
                "traefik.http.services.shop-dev-app.loadbalancer.healthcheck.path": "/",
                "traefik.http.services.shop-dev-app.loadbalancer.healthcheck.interval": "2s",
                "traefik.http.services.shop-dev-app.loadbalancer.healthcheck.timeout": "1s",
                "traefik.http.middlewares.shop-dev-app-retry.retry.attempts": "3",
                "traefik.http.routers.shop-dev-app.middlewares": "shop-dev-app-retry@swarm",
            },
            id="defaults",
        ),
        pytest.param(
            {"health_path": "/healthz?deep=1", "retry": 5},
            {"edge_check_interval": 0.5},
            {
                "traefik.http.services.shop-dev-app.loadbalancer.healthcheck.path": "/healthz?deep=1",
                "traefik.http.services.shop-dev-app.loadbalancer.healthcheck.interval": "500ms",
                "traefik.http.services.shop-dev-app.loadbalancer.healthcheck.timeout": "500ms",
                "traefik.http.middlewares.shop-dev-app-retry.retry.attempts": "5",
            },
            id="overlay-and-interval",
        ),
    ],
)
def test_edge_health_check_and_retry(tmp_path: Path, overlay: dict, options: dict, expected: dict) -> None:
    rendered = labels(render_app(tmp_path, PLAIN, {**ROUTED, **overlay}, **options))
    assert {key: rendered.get(key) for key in expected} == expected


def test_no_retry(tmp_path: Path) -> None:
    rendered = labels(render_app(tmp_path, PLAIN, {**ROUTED, "retry": 0}))
    assert not any("retry" in key or key.endswith(".middlewares") for key in rendered)


def test_a_service_not_routed_is_left_alone(tmp_path: Path) -> None:
    service = app(render_app(tmp_path, PLAIN, {}, health_probe=PROBE))
    assert "healthcheck" not in service and "stop_signal" not in service and "volumes" not in service
    assert "delay" not in service["deploy"]["update_config"]


def test_routed_without_healthcheck_drains_and_updates_on_the_edges_time(tmp_path: Path) -> None:
    service = app(render_app(tmp_path, PLAIN, ROUTED))
    assert (service["stop_signal"], service["stop_grace_period"]) == ("SIGURG", "15s")
    assert "healthcheck" not in service
    assert service["deploy"]["update_config"] == {
        "parallelism": 1,
        "order": "start-first",
        "failure_action": "rollback",
        "monitor": "10s",
        "delay": "4s",
    }


def test_the_health_probe(tmp_path: Path) -> None:
    service = app(render_app(tmp_path, PLAIN, {**ROUTED, "health_path": "/up"}, health_probe=PROBE))
    assert service["healthcheck"] == {
        "test": ["CMD", "/run/drover/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8000/up"],
        "interval": "2s",
        "timeout": "3s",
        "start_period": "10s",
        "retries": 3,
    }
    assert service["volumes"] == [{"type": "bind", "source": PROBE, "target": "/run/drover/busybox", "read_only": True}]
    # Swarm watches the new task as long as the probe needs to fail it: 10s + 3 x 2s.
    assert service["deploy"]["update_config"]["monitor"] == "16s"


def test_a_compose_healthcheck_is_kept_and_no_drain_added(tmp_path: Path) -> None:
    service = app(render_app(tmp_path, WITH_CHECK, ROUTED, health_probe=PROBE))
    assert service["healthcheck"]["test"] == ["CMD", "/app/check"]
    assert "volumes" not in service and "stop_signal" not in service
    assert service["deploy"]["update_config"]["monitor"] == "10s"
    assert "delay" not in service["deploy"]["update_config"]


@pytest.mark.parametrize(
    ("lines", "overlay", "signal", "grace"),
    [
        pytest.param(PLAIN, {"drain": "25s"}, "SIGURG", "25s", id="longer-drain"),
        pytest.param(PLAIN + "stop_grace_period: 40s\n", {}, "SIGURG", "40s", id="grace-outlasts-drain"),
        pytest.param(PLAIN, {"drain": 0}, None, None, id="no-drain"),
        pytest.param(WITH_CHECK, {"drain": 8}, "SIGURG", "8s", id="asked-for-with-a-healthcheck"),
        pytest.param(PLAIN + "stop_signal: SIGQUIT\n", {}, "SIGQUIT", None, id="compose-signal-wins"),
    ],
)
def test_drain(tmp_path: Path, lines: str, overlay: dict, signal: str | None, grace: str | None) -> None:
    stack = render_app(tmp_path, lines, {**ROUTED, **overlay})
    assert (app(stack).get("stop_signal"), app(stack).get("stop_grace_period")) == (signal, grace)
    assert not must_stop(stack.report)


def test_a_drain_asked_for_against_the_compose_stop_signal_is_reported(tmp_path: Path) -> None:
    stack = render_app(tmp_path, PLAIN + "stop_signal: SIGQUIT\n", {**ROUTED, "drain": "5s"})
    assert [(item.service, item.key) for item in stack.report] == [("app", "drain")]
    assert "SIGQUIT" in stack.report[0].message


@pytest.mark.parametrize(
    ("overlay", "message"),
    [
        ({"health_path": "/x"}, "health_path is about how the edge routes"),
        ({**ROUTED, "health_path": "healthz"}, "must be a URL path"),
        ({**ROUTED, "health_path": "/a b"}, "must be a URL path"),
        ({**ROUTED, "retry": -1}, "at least 0"),
        ({**ROUTED, "drain": "soon"}, "must be a duration"),
        ({"drain": "5s"}, "drain is about how the edge routes"),
    ],
)
def test_bad_route_overlay(tmp_path: Path, overlay: dict, message: str) -> None:
    with pytest.raises(OverlayError, match=message):
        render_app(tmp_path, PLAIN, overlay)


def test_a_bad_check_interval(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="edge_check_interval"):
        render_app(tmp_path, PLAIN, ROUTED, edge_check_interval=0)


PUBLISHED = "image: app:1\nports: ['5432:5432', '8080']\n"


@pytest.mark.parametrize(
    ("environment", "allow", "items"),
    [
        pytest.param("dev", [], [], id="dev-is-not-strict"),
        pytest.param(
            "prod",
            [],
            [("app", "ports.published", False, "port 5432"), ("app", "ports.published", False, "a port Docker picks")],
            id="prod",
        ),
        pytest.param(
            "prod",
            ["app:ports.published"],
            [("app", "ports.published", True, "port 5432"), ("app", "ports.published", True, "a port Docker picks")],
            id="prod-allowed-by-name",
        ),
    ],
)
def test_published_ports_in_strict_environments(
    tmp_path: Path, environment: str, allow: list[str], items: list[tuple]
) -> None:
    stack = render_app(tmp_path, PUBLISHED, None, overlay={"environment": environment, "allow": allow})
    found = [
        (item.service, item.key, item.allowed, item.message.split(" (")[0])
        for item in stack.report
        if item.key == "ports.published"
    ]
    assert found == items
    assert must_stop(stack.report) == (bool(items) and not allow)
