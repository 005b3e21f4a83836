# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The teams' roles name objects awx.yml creates; developers stay in dev, release managers approve prod."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
AWX = ROOT / "playbooks" / "awx_config"


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((AWX / name).read_text())


DEFAULTS = load("defaults.yml")
TEMPLATES = load("templates.yml")


def template_names() -> set[str]:
    names = set()
    for template in TEMPLATES["awx_job_templates"]:
        if template.get("per_environment"):
            names |= {f"{template['name']} {env}" for env in DEFAULTS["awx_environments"]}
        else:
            names.add(template["name"])
    return names


def roles_of(team: str) -> list[dict[str, Any]]:
    [found] = [t for t in DEFAULTS["awx_teams"] if t["name"] == team]
    return found["roles"]


@pytest.mark.parametrize("team", [team["name"] for team in DEFAULTS["awx_teams"]])
def test_every_role_names_an_object_awx_yml_creates(team: str) -> None:
    known = {"job_templates": template_names(), "workflows": {TEMPLATES["awx_release_workflow"]["name"]},
             "inventories": set(DEFAULTS["awx_environments"])}
    for role in roles_of(team):
        assert role["role"] in {"execute", "read", "approval", "admin", "use", "update"}, role
        targets = [key for key in known if key in role]
        assert targets, role
        for key in targets:
            assert set(role[key]) <= known[key], (team, key, set(role[key]) - known[key])


def test_developers_run_dev_only() -> None:
    executes = {name for role in roles_of("developers") if role["role"] == "execute"
                for name in role.get("job_templates", [])}
    assert executes and all(name.endswith(" dev") for name in executes)
    assert not any(role.get("workflows") for role in roles_of("developers"))


def test_release_managers_approve_the_release_workflow() -> None:
    assert {"role": "approval", "workflows": ["release"]} in roles_of("release managers")
    approves = [role for team in DEFAULTS["awx_teams"] for role in team["roles"] if role["role"] == "approval"]
    assert len(approves) == 1
