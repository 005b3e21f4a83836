# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The edge role's dynamic configuration for Traefik's file provider, rendered for each switch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "roles" / "edge" / "templates" / "dynamic.yml.j2"


def render(**values: Any) -> dict[str, Any]:
    settings = {"ansible_managed": "managed", "_edge_default_cert": True, "edge_no_server_fallback": True,
                "edge_dashboard_enabled": False, "edge_dashboard_host": "traefik.example.test",
                "edge_acme_enabled": False, "edge_acme_resolver": "letsencrypt", **values}
    text = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(TEMPLATE.read_text()).render(settings)
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize("dashboard", [False, True])
def test_the_fallback_answers_every_request_no_router_takes_with_no_server(dashboard: bool) -> None:
    http = render(edge_dashboard_enabled=dashboard)["http"]
    router = http["routers"]["no-server"]
    assert router == {"rule": "PathPrefix(`/`)", "priority": 1, "entryPoints": ["websecure"],
                      "service": "no-server", "tls": {}}
    assert http["services"]["no-server"] == {"loadBalancer": {"servers": []}}
    assert ("dashboard" in http["routers"]) is dashboard
    assert ("middlewares" in http) is dashboard


def test_without_the_fallback_nor_the_dashboard_there_are_no_routers() -> None:
    assert "http" not in render(edge_no_server_fallback=False)


def test_the_dashboard_alone_keeps_its_router_and_no_fallback() -> None:
    http = render(edge_no_server_fallback=False, edge_dashboard_enabled=True)["http"]
    assert list(http["routers"]) == ["dashboard"]
    assert "services" not in http
