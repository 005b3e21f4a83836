# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A team's own app from the scaffold to a deploy on the converged lab, as docs/own-app.md tells it.

apps/teamapp (written for a laptop, nothing of drover in it) goes through
playbooks/new_app.yml; its dev inventory, with the lab's hosts and platform
variables beside it, is deployed with playbooks/deploy.yml as written, and
both routed services must answer over HTTPS through the lab's edge. The
deploy's output must show the conversion report, the table of services and
each URL with its answer; releases.yml must list the release. The stack is
removed at the end: the lab goes on holding the demo only.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from .constants import DEPLOY_PLAYBOOK, LEDGER_DIR, LOAD_LOOP, ROOT
from .lab import Lab, extra_vars, playbook_argv, run, tool

NEW_APP_PLAYBOOK = "playbooks/new_app.yml"
RELEASES_PLAYBOOK = "playbooks/releases.yml"
APP = "teamapp"
APP_DIR = ROOT / "apps" / APP
LAB_BASE = "lab.drover.test"
# The lab's answers to what a fleet has and the lab lacks: no IPVS, no registry to pull a base image from.
LAB_STACK = {"stack_endpoint_mode": "dnsrr", "stack_build_args": {"BASE_IMAGE": "drover-lab/debian-base:bookworm"}}
# No registry answers in the lab: the public image is the demo's web image (Debian bookworm with
# python3 3.11), which the converged lab's hosts hold, under its name. By image ID: the ad hoc
# command's argument is an Ansible template, where a docker --format's {{.Tag}} is not Jinja.
PUBLIC_IMAGE = "python:3.11-slim-bookworm"
STAND_IN = (
    "docker image inspect " + PUBLIC_IMAGE + " >/dev/null 2>&1 || docker tag "
    "$(docker image ls -q --filter reference='*/demo/web' | head -n 1) " + PUBLIC_IMAGE
)


def _lab_inventory(lab: Lab, scaffolded: Path) -> None:
    """The scaffold's dev inventory on the lab: the lab's hosts and platform variables beside the app's stack.yml."""
    shutil.copy(lab.inventory / "hosts.yml", scaffolded / "hosts.yml")
    group_vars = lab.inventory / "group_vars"
    for path in group_vars.rglob("*.yml"):
        if path.name == "stack.yml":
            continue
        target = scaffolded / "group_vars" / path.relative_to(group_vars)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    (scaffolded / "group_vars" / "all" / "lab_stack.yml").write_text(yaml.safe_dump(LAB_STACK))
    host_vars = lab.inventory / "host_vars"
    if host_vars.is_dir():
        shutil.copytree(host_vars, scaffolded / "host_vars", dirs_exist_ok=True)
    # What a team does with vault.yml.example (encrypting it is theirs to do; the lab's stays plain).
    example = yaml.safe_load((scaffolded / "group_vars" / "all" / "vault.yml.example").read_text())
    vault = {key: "lab-" + key for key in example}
    (scaffolded / "group_vars" / "all" / "vault.yml").write_text(yaml.safe_dump(vault))


@pytest.fixture
def scaffolded(lab: Lab, tmp_path: Path) -> Iterator[Path]:
    """The scaffold's inventories for teamapp; teamapp-dev removed from the lab afterwards."""
    try:
        yield tmp_path / "inventories"
    finally:
        lab.ssh("sh", "-c", f"docker stack rm {APP}-dev; rm -f {LEDGER_DIR}/{APP}-dev.json", check=False)


def test_scaffold_to_a_deploy_answering_through_the_edge(lab: Lab, scaffolded: Path) -> None:
    began = time.monotonic()
    written = run([
        tool("ansible-playbook"), str(ROOT / NEW_APP_PLAYBOOK),
        *extra_vars(app_dir=str(APP_DIR), name=APP, out_dir=str(scaffolded), endpoint_mode="dnsrr",
                    fleet_examples=False, domains=dict.fromkeys(("dev", "preprod", "prod"), LAB_BASE)),
    ])
    assert written.rc == 0, written
    stack_vars = yaml.safe_load((scaffolded / "dev" / "group_vars" / "all" / "stack.yml").read_text())
    overlay = stack_vars["stack_environments"]["dev"]["overlay"]
    domains = {name: service["domain"] for name, service in overlay["services"].items() if "domain" in service}
    assert domains == {"api": f"api-{APP}-dev.{LAB_BASE}", "docs": f"docs-{APP}-dev.{LAB_BASE}"}
    assert sorted(overlay["allow"]) == ["api:volumes.bind_relative", "docs:volumes.bind_relative", "jobs:depends_on"]

    inventory = scaffolded / "dev"
    _lab_inventory(lab, inventory)
    stand_in = run([tool("ansible"), "-i", str(inventory), "swarm_managers:swarm_workers", "-b",
                    "-m", "ansible.builtin.shell", "-a", STAND_IN], timeout=600)
    assert stand_in.rc == 0, stand_in

    deployed = run(playbook_argv(inventory, DEPLOY_PLAYBOOK, "-e", "env=dev"))
    seconds = time.monotonic() - began
    assert deployed.rc == 0, deployed
    output = deployed.stdout
    assert "conversion report: 0 refused, 3 allowed" in output, deployed
    assert "allowed jobs: depends_on" in output, deployed
    assert "RUNNING/DESIRED" in output, deployed
    for service, domain in domains.items():
        assert f"{service}: https://{domain}/ -> 200 OK" in output, deployed

    # As a user asks, apart from the deploy's own check.
    done = run([sys.executable, str(ROOT / LOAD_LOOP), "--once", "--address", lab.edge, "--domain", domains["api"],
                "--ca", str(lab.ca)], timeout=60)
    assert done.rc == 0, done
    answer = json.loads(done.stdout)
    assert (answer["app"], answer["service"], answer["token_set"]) == (APP, "api", True)

    releases = run(playbook_argv(inventory, RELEASES_PLAYBOOK, "-e", "env=dev"))
    assert releases.rc == 0, releases
    assert f"{APP}-dev: 1 release(s)" in releases.stdout, releases
    assert "deploy lock: free" in releases.stdout, releases
    print(f"scaffold to two URLs answering: {seconds:.0f} s (deploy alone {deployed.seconds:.0f} s)")
