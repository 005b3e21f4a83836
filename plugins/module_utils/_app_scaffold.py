# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A team's Compose file -> the stack configuration of its environments (playbooks/new_app.yml).

`plan_app` reads the file with the renderer's own loader, decides what the
overlay of each environment needs (which services the edge routes, on which
port and domain, with `ports: []`; which secrets come from vault; which
images a strict environment will refuse), renders each environment once
with the Swarm renderer and collects the conversion report's items, so that
the team sees in its inventory, before any deploy, each key it is asked to
allow. `stack_vars_text` and `vault_example_text` write that down as the
inventory files, with a comment for each decision.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    AppError,
    Port,
    Service,
    image_problem,
)
from ansible_collections.drover.platform.plugins.module_utils._compose_loader import load_app, parse_compose
from ansible_collections.drover.platform.plugins.module_utils._render_swarm import SwarmOptions, render_swarm

ENVIRONMENTS = ("dev", "preprod", "prod")
STRICT_ENVIRONMENTS = ("preprod", "prod")
# Published ports that are almost never HTTP: a laptop publishes them to reach a database or a broker by
# hand; on a fleet they are published nowhere, and the edge does not route them.
NOT_HTTP_PORTS = {
    1883: "MQTT", 3306: "MySQL", 5432: "PostgreSQL", 5672: "AMQP", 6379: "Redis", 9092: "Kafka",
    11211: "memcached", 27017: "MongoDB", 9200: "Elasticsearch", 25: "SMTP", 53: "DNS", 22: "SSH",
}
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_PLACEHOLDER_REGISTRY = "registry.invalid:5000"
_PLACEHOLDER_SECRET = "scaffold-placeholder"


class ScaffoldError(AppError):
    """Input the scaffold cannot work from; the message names what to change."""


@dataclass
class Route:
    service: str
    port: int
    # The ports the service keeps publishing (all but the routed one), as Compose short syntax.
    kept: list[str] = field(default_factory=list)


@dataclass
class EnvironmentPlan:
    name: str
    build: bool
    domains: dict[str, str]
    overlay: dict[str, Any]
    # The conversion report's items nobody allowed yet: (allow entry, message).
    allow: list[tuple[str, str]] = field(default_factory=list)
    # Images a strict environment refuses: (service, why).
    image_problems: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class AppPlan:
    name: str
    services: list[str]
    built: list[str]
    routes: dict[str, Route]
    secrets: dict[str, str]  # Compose secret -> the vault variable holding its content
    environments: dict[str, EnvironmentPlan]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "services": self.services,
            "built": self.built,
            "routes": {name: {"port": route.port, "kept": route.kept} for name, route in self.routes.items()},
            "secrets": self.secrets,
            "environments": {
                name: {
                    "build": env.build,
                    "domains": env.domains,
                    "overlay": env.overlay,
                    "allow": [{"entry": entry, "message": message} for entry, message in env.allow],
                    "image_problems": [{"service": s, "problem": p} for s, p in env.image_problems],
                }
                for name, env in self.environments.items()
            },
            "notes": self.notes,
        }


def _port_text(port: Port) -> str:
    text = f"{port.published}:{port.target}" if port.published is not None else str(port.target)
    return text if port.protocol == "tcp" else f"{text}/{port.protocol}"


def plan_route(service: Service) -> tuple[Route | None, str | None]:
    """The edge route a service needs (its first published TCP port that is not a known non-HTTP one), and a note."""
    published = [port for port in service.ports if port.published is not None or port.mode is not None]
    http = [port for port in published if port.protocol == "tcp" and port.target not in NOT_HTTP_PORTS]
    if not http:
        known = [
            f"{port.target} ({NOT_HTTP_PORTS[port.target]})" for port in published if port.target in NOT_HTTP_PORTS
        ]
        if known:
            return None, (
                f"{service.name} publishes {', '.join(known)} on the laptop; not routed, and published nowhere on "
                "the fleet (other services reach it by name)"
            )
        return None, None
    routed = http[0]
    kept = [_port_text(port) for port in published if port is not routed and port.target not in NOT_HTTP_PORTS]
    note = None
    if kept:
        note = (
            f"{service.name}: the edge routes port {routed.target}; it still publishes {', '.join(kept)} on every "
            "node (drop them from ports if only the edge should answer)"
        )
    return Route(service.name, routed.target, kept), note


def domain_names(app: str, routes: Iterable[str], environment: str, bases: Mapping[str, str]) -> dict[str, str]:
    """Each routed service's domain in one environment: <app> (or <service>-<app>) under the environment's base.

    Environments that share a base (one swarm holding all three, as the lab) get -<environment> too, so
    that their domains differ.
    """
    routed = list(routes)
    base = bases[environment].strip(".").lower()
    shared = list(bases.values()).count(bases[environment]) > 1
    names = {}
    for service in routed:
        label = app if len(routed) == 1 else f"{service}-{app}"
        if shared:
            label = f"{label}-{environment}"
        names[service] = f"{label.replace('_', '-')}.{base}"
    return names


def _overlay(
    environment: str, routes: Mapping[str, Route], domains: Mapping[str, str], secrets: Mapping[str, str]
) -> dict[str, Any]:
    services: dict[str, Any] = {}
    for name, route in routes.items():
        services[name] = {"domain": domains[name], "port": route.port, "ports": list(route.kept)}
    overlay: dict[str, Any] = {}
    if services:
        overlay["services"] = services
    if secrets:
        overlay["secrets"] = {key: "{{ " + variable + " }}" for key, variable in secrets.items()}
    return overlay


def _unpublished(app_services: Mapping[str, Service], routes: Mapping[str, Route]) -> dict[str, Any]:
    """Services that publish only ports nobody routes (a database's): ports: [] on the fleet."""
    return {
        name: {"ports": []}
        for name, service in app_services.items()
        if name not in routes and any(port.published is not None for port in service.ports)
    }


def _report(
    compose_file: str, overlay: Mapping[str, Any], built: Iterable[str], app: str, endpoint_mode: str
) -> list[tuple[str, str]]:
    """The report items of one environment's render, as allow entries for the one service each names."""
    probe = _probe_overlay(overlay, built, app)
    rendered = render_swarm(
        load_app(compose_file, probe),
        SwarmOptions(stack_name=f"{app}-{overlay['environment']}", endpoint_mode=endpoint_mode, strict_environments=()),
    )
    items = []
    for item in rendered.report:
        entry = f"{item.service}:{item.key}" if item.service else item.key
        if (entry, item.message) not in items:
            items.append((entry, item.message))
    return items


def _probe_overlay(overlay: Mapping[str, Any], built: Iterable[str], app: str) -> dict[str, Any]:
    """The overlay as the stack role renders it: built services' images pinned, secrets given."""
    services = {name: dict(value) for name, value in overlay.get("services", {}).items()}
    for name in built:
        services.setdefault(name, {})["image"] = f"{_PLACEHOLDER_REGISTRY}/{app}/{name}:scaffold"
    probe = {**overlay, "services": services}
    if "secrets" in overlay:
        probe["secrets"] = {key: _PLACEHOLDER_SECRET for key in overlay["secrets"]}
    return probe


def plan_app(
    compose_file: str,
    name: str,
    bases: Mapping[str, str],
    environments: Iterable[str] = ENVIRONMENTS,
    build: Iterable[str] = ("dev",),
    endpoint_mode: str = "vip",
    strict_environments: Iterable[str] = STRICT_ENVIRONMENTS,
) -> AppPlan:
    """What each environment's stack configuration needs for the app in compose_file (see the module docstring)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ScaffoldError(
            f"the app's name {name!r} must be lower-case letters, digits, '-' and '_' (it names images)"
        )
    environments = list(environments)
    missing = [env for env in environments if not bases.get(env)]
    if missing:
        raise ScaffoldError(f"no base domain for {', '.join(missing)}: give one per environment")
    if not os.path.isfile(compose_file):
        raise ScaffoldError(f"{compose_file} is not a file: give app_dir (the app's folder) or compose_file")
    strict = list(strict_environments)
    builds = list(build)

    with open(compose_file, encoding="utf-8") as handle:
        raw = parse_compose(handle.read(), compose_file)
    raw_services = raw.get("services") or {}
    # Services behind a profile stay out: the laptop's default run has none active.
    built = [
        svc for svc, service in raw_services.items()
        if isinstance(service, Mapping) and "build" in service and not service.get("profiles")
    ]
    secrets_declared = [key for key, value in (raw.get("secrets") or {}).items()
                        if not (isinstance(value, Mapping) and value.get("external"))]
    laptop = load_app(compose_file, _probe_overlay(
        {"environment": "scaffold", "secrets": dict.fromkeys(secrets_declared, "")}, built, name))
    services = list(laptop.services)
    built = [svc for svc in built if svc in laptop.services]
    routes: dict[str, Route] = {}
    notes: list[str] = []
    for svc, service in laptop.services.items():
        route, note = plan_route(service)
        if route is not None:
            routes[svc] = route
        if note:
            notes.append(note)
    if not routes:
        notes.append("no service publishes an HTTP port: nothing is routed through the edge (add a domain by hand)")
    if laptop.disabled_services:
        notes.append(
            f"{', '.join(laptop.disabled_services)} run only with a Compose profile: add it to overlay.profiles "
            "to deploy them"
        )
    secrets = {key: f"vault_{name}_{key}".replace("-", "_") for key in secrets_declared}
    unpublished = _unpublished(laptop.services, routes)

    plans = {}
    for env in environments:
        domains = domain_names(name, routes, env, {e: bases[e] for e in environments})
        overlay = _overlay(env, routes, domains, secrets)
        if unpublished:
            overlay.setdefault("services", {}).update(unpublished)
        items = _report(compose_file, {"environment": env, **overlay}, built, name, endpoint_mode)
        problems = []
        if env in strict:
            for svc, service in laptop.services.items():
                problem = None if svc in built else image_problem(service.image or "")
                if problem:
                    problems.append((svc, f"{service.image} {problem}"))
        plans[env] = EnvironmentPlan(env, env in builds, domains, overlay, items, problems)
    return AppPlan(name, services, built, routes, secrets, plans, notes)


# --- the files -------------------------------------------------------------------


def _quote(value: Any) -> str:
    text = str(value)
    if re.fullmatch(r"[A-Za-z0-9_./@:-]+", text) and not re.fullmatch(r"[0-9.:]+|true|false|null|yes|no|on|off", text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def stack_vars_text(
    plan: AppPlan,
    environment: str,
    compose_path: str,
    strict_environments: Iterable[str] = STRICT_ENVIRONMENTS,
    extra_allow: Iterable[str] = (),
) -> str:
    """group_vars/all/stack.yml of one environment's inventory: the app, and the environment's settings."""
    env = plan.environments[environment]
    lines = [
        "---",
        f"# {plan.name} in {environment}: written by drover.platform.new_app from the app's Compose file.",
        "# Edit freely: new_app never overwrites a file that exists (unless -e force=true).",
        f"stack_app_name: {plan.name}",
        "# The Compose file, relative to this inventory so that any clone finds it.",
        f'stack_compose_file: "{compose_path}"',
        "# Environments that refuse :latest and untagged images.",
        f"stack_strict_environments: [{', '.join(strict_environments)}]",
        "",
        "stack_environments:",
        f"  {environment}:",
    ]
    if env.build:
        lines += [
            "    # This environment builds and pushes the images (the others get them by promotion).",
            "    build: true",
        ]
    lines.append("    overlay:")
    services = env.overlay.get("services", {})
    if services:
        lines.append("      services:")
        for svc, settings in services.items():
            lines.append(f"        {svc}:")
            if "domain" in settings:
                lines.append(f"          # Routed by the edge to container port {settings['port']}.")
                lines.append(f"          domain: {settings['domain']}")
                lines.append(f"          port: {settings['port']}")
                kept = settings.get("ports") or []
                if kept:
                    lines.append("          # Published on every node besides the route; [] publishes none.")
                    lines.append(f"          ports: [{', '.join(_quote(port) for port in kept)}]")
                else:
                    lines.append("          # The edge answers for it: no port of its own on the nodes.")
                    lines.append("          ports: []")
            else:
                lines.append("          # Published on the laptop only: other services reach it by name.")
                lines.append("          ports: []")
        for svc, problem in env.image_problems:
            lines.append(f"        # TODO {svc}: {problem}; {environment} is strict: give it a version tag or digest,")
            lines.append(f"        # {svc}: {{image: NAME:VERSION}}")
    if env.overlay.get("secrets"):
        lines.append("      # Secret contents from vault (vault.yml.example beside this file).")
        lines.append("      secrets:")
        for key, value in env.overlay["secrets"].items():
            lines.append(f'        {key}: "{value}"')
    entries = [entry for entry, _message in env.allow]
    allowed = [*entries, *(entry for entry in extra_allow if entry not in entries)]
    if allowed:
        lines.append("      # What the conversion report asks to allow: read each reason, keep what you accept.")
        lines.append("      allow:")
        for entry, message in env.allow:
            lines.append(f"        # {message}")
            lines.append(f"        - {_quote(entry)}")
        for entry in allowed[len(entries):]:
            lines.append(f"        - {_quote(entry)}")
    else:
        lines.append("      allow: []")
    return "\n".join(lines) + "\n"


def vault_example_text(plan: AppPlan, environment: str, inventory: str, platform_example: str = "") -> str:
    """vault.yml.example of one environment: the platform's secrets (as given), then the app's."""
    text = platform_example.rstrip("\n") + "\n" if platform_example.strip() else (
        "---\n"
        "# Copy to vault.yml beside this file and encrypt each value, not the file\n"
        "# (an inventory then loads without the vault password, as AWX's sync does):\n"
        f"#   cp {inventory}/group_vars/all/vault.yml.example {inventory}/group_vars/all/vault.yml\n"
        "#   ansible-vault encrypt_string --name <variable> 'the real value'\n"
        "#   (paste its output over the variable's line in vault.yml)\n"
    )
    if plan.secrets and f"# {plan.name}'s secrets" not in text:
        text += f"# {plan.name}'s secrets in {environment} (Compose top-level secrets; the laptop reads files).\n"
        for key, variable in plan.secrets.items():
            if not re.search(rf"^{re.escape(variable)}:", text, re.MULTILINE):
                text += f"{variable}: replace-me  # secret {key}\n"
    return text


def compose_path_from(inventory_dir: str, compose_file: str) -> str:
    """The Compose file as the inventory names it: relative to inventory_dir, templated by Ansible."""
    relative = os.path.relpath(os.path.abspath(compose_file), os.path.abspath(inventory_dir))
    return "{{ inventory_dir }}/" + relative.replace(os.sep, "/")
