# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: app_scaffold
short_description: The stack configuration a team's Compose file needs, per environment
version_added: 0.1.0
description:
  - Reads a Compose file with the renderer's loader and plans each environment's stack configuration
    (playbooks/new_app.yml writes it as inventory files).
  - >-
    A service that publishes an HTTP port is routed through the edge on that container port, under a domain of
    the environment's base, and publishes no port of its own (C(ports: [])); a service that publishes only a
    database's or broker's port publishes none on the fleet. Compose secrets come from vault variables
    C(vault_<app>_<secret>). Each environment is rendered once for Swarm and every item of the conversion report
    is listed as an allow entry with its reason; strict environments list the public images they will refuse.
options:
  _input:
    description: The Compose file, on the controller.
    type: path
    required: true
  name:
    description: The app's name (stack_app_name).
    type: str
    required: true
  out_dir:
    description: The folder that gets one inventory per environment (C(<out_dir>/<env>)).
    type: path
    required: true
  bases:
    description: The base domain of each environment.
    type: dict
    required: true
  build:
    description: The environments that build the images.
    type: list
    elements: str
    default: [dev]
  endpoint_mode:
    description: The endpoint mode the fleet uses (vip; dnsrr in the lab).
    type: str
    default: vip
  examples_dir:
    description:
      - The collection's example inventories; the app's vault variables are added to the
        C(<examples_dir>/<env>/group_vars/all/vault.yml.example) of an environment that has one.
    type: path
"""

EXAMPLES = r"""
- name: Plan the inventories
  ansible.builtin.set_fact:
    scaffold: >-
      {{ app_dir ~ '/compose.yml' | drover.platform.app_scaffold(name='shop', out_dir=app_dir ~ '/inventories',
           bases={'dev': 'dev.example.com', 'preprod': 'preprod.example.com', 'prod': 'example.com'}) }}
"""

RETURN = r"""
_value:
  description: The plan (routes, secrets, and per environment the overlay, the allow entries and the images a
    strict environment refuses) and the files to write, by path.
  type: dict
  contains:
    plan:
      description: What was decided, per environment.
      type: dict
    files:
      description: "{path: content} of the stack.yml and vault.yml.example of each environment."
      type: dict
"""

import os
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.drover.platform.plugins.module_utils._app_model import AppError
from ansible_collections.drover.platform.plugins.module_utils._app_scaffold import (
    STRICT_ENVIRONMENTS,
    compose_path_from,
    plan_app,
    stack_vars_text,
    vault_example_text,
)


def _example(examples_dir: str | None, environment: str) -> str:
    path = os.path.join(examples_dir or "", environment, "group_vars", "all", "vault.yml.example")
    if not examples_dir or not os.path.isfile(path):
        return ""
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def app_scaffold_summary(plan: dict[str, Any], out_dir: str) -> list[str]:
    """What new_app.yml says at the end: per environment the URLs, what to allow, what to fix; then the next steps."""
    lines = []
    for env, settings in plan["environments"].items():
        urls = ", ".join(f"{service} https://{domain}/" for service, domain in settings["domains"].items()) or "none"
        lines.append(f"{env}: {out_dir}/{env} (builds: {'yes' if settings['build'] else 'no'}); routed: {urls}")
        for item in settings["allow"]:
            lines.append(f"  allow {item['entry']}: {item['message']}")
        for item in settings["image_problems"]:
            lines.append(f"  TO DO {item['service']}: {item['problem']}; give it a version tag or a digest")
    for secret, variable in plan["secrets"].items():
        lines.append(f"secret {secret}: put its content in {variable} (vault.yml.example in each inventory)")
    lines.extend(f"note: {note}" for note in plan["notes"])
    lines.append(
        "next: put your hosts in each hosts.yml, copy vault.yml.example to vault.yml and encrypt each value in it "
        "(ansible-vault encrypt_string, not the whole file), then "
        f"ansible-playbook drover.platform.site -i {out_dir}/dev (docs/own-app.md)"
    )
    return lines


def app_scaffold(
    compose_file: str,
    name: str,
    out_dir: str,
    bases: dict[str, str],
    build: list[str] | None = None,
    endpoint_mode: str = "vip",
    examples_dir: str | None = None,
) -> dict[str, Any]:
    try:
        plan = plan_app(str(compose_file), str(name), dict(bases), list(bases), build or ["dev"], endpoint_mode)
    except AppError as error:
        raise AnsibleFilterError(f"app_scaffold: {error}") from error
    files = {}
    for env in plan.environments:
        inventory = os.path.join(str(out_dir), env)
        files[os.path.join(inventory, "group_vars", "all", "stack.yml")] = stack_vars_text(
            plan, env, compose_path_from(inventory, str(compose_file)), STRICT_ENVIRONMENTS
        )
        files[os.path.join(inventory, "group_vars", "all", "vault.yml.example")] = vault_example_text(
            plan, env, inventory, _example(examples_dir, env)
        )
    return {"plan": plan.as_dict(), "files": files}


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"app_scaffold": app_scaffold, "app_scaffold_summary": app_scaffold_summary}
