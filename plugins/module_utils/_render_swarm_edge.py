# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Swarm service gets from the edge, for zero downtime: labels, checks, drain, update timing.

`_render_swarm` renders the stack; this module holds the part of it that
depends on the edge (Traefik v3 through its Swarm provider) and on how
Swarm replaces a task:

* routed services (a domain in the overlay): Traefik v3 Swarm provider labels
  on `deploy.labels`, and the edge's external overlay network. Every routed
  service gets the edge's active health check on a path (overlay
  `health_path`, default `/`, every `edge_check_interval`) and a retry
  middleware (overlay `retry` attempts, default 3) for requests that found a
  server gone or not yet listening.
* routed services without a healthcheck (Swarm cannot tell when they are
  ready, and they usually do not drain): start-first updates with a monitor
  and delay derived from the edge's check interval, and a drain (overlay
  `drain`, default DEFAULT_DRAIN): the stop signal becomes one the process
  ignores (DRAIN_SIGNAL), so a task leaving keeps answering for the drain
  while the edge drops it, then is killed at its stop_grace_period.
* in a strict environment, a published port is a report item
  (`ports.published`): the firewall drops published ports it does not allow,
  and a port opened by accident (a database's) must be named to pass.
* every service: a monitor period long enough for its healthcheck to decide
  (`update_monitor`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    App,
    ConversionReport,
    Healthcheck,
    Service,
)
from ansible_collections.drover.platform.plugins.module_utils._render_frame import RenderError

if TYPE_CHECKING:  # only a type here: _render_swarm imports this module
    from ansible_collections.drover.platform.plugins.module_utils._render_swarm import SwarmOptions

DEFAULT_EDGE_NETWORK = "drover-edge"
DEFAULT_EDGE_ENTRYPOINT = "websecure"
MIN_MONITOR = 10.0
# The edge's active health check: how often (the edge role's refresh is as
# short), how long one may take, and the path when the overlay names none.
EDGE_CHECK_INTERVAL = 2.0
EDGE_CHECK_TIMEOUT = 1.0
DEFAULT_HEALTH_PATH = "/"
# Checks the edge makes of a new task before Swarm's monitor gives up watching it.
EDGE_CHECKS_MONITORED = 5
DEFAULT_RETRY_ATTEMPTS = 3
RETRY_INITIAL_INTERVAL = 0.1
# A leaving task's drain: long enough for the edge to see a replacement (or a
# rollback's) and drop the leaving one (see drain_seconds).
DEFAULT_DRAIN = 15.0
# Where an injected health probe (a static busybox from the node, bind-mounted)
# appears in the container, and its start period: failures in it do not count.
# busybox picks its applet from its own name unless that name is busybox
# ("probe wget" answered "probe: applet not found" in the lab).
PROBE_TARGET = "/run/drover/busybox"
PROBE_START_PERIOD = 10.0
PROBE_RETRIES = 3
# Ignored by a process that has no handler for it (and by every PID 1): the task
# runs on until Docker kills it at the end of its stop_grace_period.
DRAIN_SIGNAL = "SIGURG"
# Docker's healthcheck defaults, which the monitor period must outlast.
HEALTHCHECK_INTERVAL = 30.0
HEALTHCHECK_RETRIES = 3

_ROUTER_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def format_duration(seconds: float) -> str:
    """A Go duration, as the docker CLI and Traefik read them: 90s, 1500ms."""
    milliseconds = round(seconds * 1000)
    if milliseconds % 1000 == 0:
        return f"{milliseconds // 1000}s"
    return f"{milliseconds}ms"


def check_edge_options(app: App, options: SwarmOptions) -> None:
    """RenderError for edge settings the app cannot be rendered with."""
    if not options.edge_check_interval > 0:
        raise RenderError(
            f"edge_check_interval must be a positive number of seconds, not {options.edge_check_interval!r}"
        )
    routed = [service for service in app.services.values() if service.routed]
    if routed and not options.edge_network:
        names = ", ".join(f"{service.name} ({service.domain})" for service in routed)
        raise RenderError(
            f"{names} has a domain, but the edge is off (edge_network is empty): set edge_network to the edge "
            "router's overlay network, or drop the domain from the overlay"
        )


def router_name(stack: str, service: str) -> str:
    """Traefik router and service name: the stack's name first, so environments on one swarm do not collide."""
    return _ROUTER_UNSAFE.sub("-", f"{stack}-{service}")


def traefik_labels(stack: str, service: Service, options: SwarmOptions) -> dict[str, str]:
    """Traefik v3 Swarm provider labels for a routed service (they go on deploy.labels)."""
    name = router_name(stack, service.name)
    router = f"traefik.http.routers.{name}"
    labels = {
        "traefik.enable": "true",
        "traefik.swarm.network": str(options.edge_network),
        f"{router}.rule": f"Host(`{service.domain}`)",
        f"{router}.entrypoints": options.edge_entrypoint,
        f"{router}.tls": "true",
    }
    if options.edge_certresolver:
        labels[f"{router}.tls.certresolver"] = options.edge_certresolver
    attempts = DEFAULT_RETRY_ATTEMPTS if service.route.retry is None else service.route.retry
    if attempts:
        retry = f"{name}-retry"
        labels[f"traefik.http.middlewares.{retry}.retry.attempts"] = str(attempts)
        labels[f"traefik.http.middlewares.{retry}.retry.initialinterval"] = format_duration(RETRY_INITIAL_INTERVAL)
        labels[f"{router}.middlewares"] = f"{retry}@swarm"
    labels[f"{router}.service"] = name
    balancer = f"traefik.http.services.{name}.loadbalancer"
    labels[f"{balancer}.server.port"] = str(service.port)
    labels[f"{balancer}.healthcheck.path"] = service.route.health_path or DEFAULT_HEALTH_PATH
    labels[f"{balancer}.healthcheck.interval"] = format_duration(options.edge_check_interval)
    labels[f"{balancer}.healthcheck.timeout"] = format_duration(min(EDGE_CHECK_TIMEOUT, options.edge_check_interval))
    return labels


def has_healthcheck(service: Service) -> bool:
    check = service.healthcheck
    return check is not None and not check.disabled and bool(check.test)


def drain_seconds(service: Service) -> float:
    """How long a leaving task of the service keeps serving (0: no drain, Swarm's own stop).

    The overlay's `drain`, else DEFAULT_DRAIN for a routed service without a
    healthcheck (a Compose file that has one is taken to stop cleanly).
    """
    if not service.routed:
        return 0.0
    if service.route.drain is not None:
        return service.route.drain
    return 0.0 if has_healthcheck(service) else DEFAULT_DRAIN


def probe_healthcheck(service: Service, options: SwarmOptions) -> Healthcheck | None:
    """The healthcheck a routed service without one gets when the nodes have a probe: its health path, over HTTP.

    Swarm then starts a new task's traffic (the edge lists running tasks only)
    and stops the old task only once the new one answers, and rolls back one
    that never does.
    """
    if not (options.health_probe and service.routed and service.mode != "job") or service.healthcheck is not None:
        return None
    url = f"http://127.0.0.1:{service.port}{service.route.health_path or DEFAULT_HEALTH_PATH}"
    interval = options.edge_check_interval
    # No wget -T: Debian bookworm's busybox-static (1.35) segfaults with it (exit 139,
    # measured on a lab host); Docker's healthcheck timeout bounds the probe instead.
    return Healthcheck(
        test=["CMD", PROBE_TARGET, "wget", "-q", "-O", "/dev/null", url],
        interval=interval,
        timeout=interval + EDGE_CHECK_TIMEOUT,
        retries=PROBE_RETRIES,
        start_period=PROBE_START_PERIOD,
    )


def apply_drain(service: Service, rendered: dict[str, Any], report: ConversionReport) -> None:
    """The drain on a rendered service: DRAIN_SIGNAL and a stop_grace_period of drain_seconds (or its own)."""
    drain = drain_seconds(service)
    if not drain:
        return
    if "stop_signal" in service.options:
        if service.route.drain is not None:
            report.add(
                service.name,
                "drain",
                f"the Compose file sets stop_signal {service.options['stop_signal']}, so the drain of "
                f"{format_duration(drain)} (which replaces the stop signal) is left out",
            )
        return
    rendered["stop_signal"] = DRAIN_SIGNAL
    rendered["stop_grace_period"] = format_duration(max(drain, service.stop_grace_period or 0.0))


def report_published_ports(service: Service, app: App, options: SwarmOptions, report: ConversionReport) -> None:
    """A report item per port the service publishes on the nodes, outside the edge, in a strict environment."""
    if app.environment not in options.strict_environments:
        return
    for port in service.ports:
        published = "a port Docker picks" if port.published is None else f"port {port.published}"
        report.add(
            service.name,
            "ports.published",
            f"{published} ({port.protocol}, to container port {port.target}) is published on the nodes, outside "
            f"the edge, in strict environment {app.environment}; the hosts' firewall drops it unless it is in "
            "hardening_firewall_published_ports. Publish none (overlay ports: []) or route it through the edge",
        )


def edge_update_timing(options: SwarmOptions) -> tuple[float, float]:
    """(monitor, delay) of a routed service without a healthcheck, from the edge's check interval.

    Swarm watches a new task for EDGE_CHECKS_MONITORED of the edge's checks (at
    least MIN_MONITOR), and waits two checks between tasks, so that the edge has
    found the new one healthy before the next old one leaves.
    """
    interval = options.edge_check_interval
    return max(MIN_MONITOR, EDGE_CHECKS_MONITORED * interval), 2 * interval


def update_monitor(healthcheck: Healthcheck | None) -> float:
    """Seconds Swarm watches a new task: long enough for its healthcheck to fail it, at least MIN_MONITOR."""
    if healthcheck is None or healthcheck.disabled or not healthcheck.test:
        return MIN_MONITOR
    interval = HEALTHCHECK_INTERVAL if healthcheck.interval is None else healthcheck.interval
    retries = HEALTHCHECK_RETRIES if healthcheck.retries is None else healthcheck.retries
    return max(MIN_MONITOR, (healthcheck.start_period or 0.0) + interval * retries)
