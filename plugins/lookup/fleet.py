# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: fleet
short_description: Read another fleet's inventory, as ansible-playbook would for its first host of a group
version_added: 0.1.0
description:
  - Loads an inventory other than the play's (a folder or file, as C(-i) takes it), with the play's vault
    secrets, and returns the variables of the first host of O(group) templated as that inventory says them -
    how to reach it (C(ansible_*) connection variables) and the variables named in O(names).
  - For a promotion across fleets, the run against the target reads the source fleet's manager, registry and
    environments from the source's own inventory (playbooks/promote.yml with C(-e from_inventory=...)).
author:
  - drover.platform developers (@drover-platform)
options:
  _terms:
    description: The inventory source, one path.
    required: true
    type: list
    elements: path
  group:
    description: The group whose first host is returned.
    type: str
    default: swarm_managers
  names:
    description: Variables of that host to return (templated), besides the connection ones; missing ones are left out.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Read the preprod fleet's first manager
  ansible.builtin.set_fact:
    source_fleet: "{{ lookup('drover.platform.fleet', 'inventories/preprod', names=['drover_registry']) }}"
"""

RETURN = r"""
_raw:
  description: One mapping - host (its name), inventory (the path), connection (the ansible_* variables) and vars.
  type: list
  elements: dict
"""

import os
from typing import Any

from ansible.errors import AnsibleLookupError
from ansible.inventory.manager import InventoryManager
from ansible.plugins.lookup import LookupBase
from ansible.template import Templar
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

CONNECTION_VARIABLES = (
    "ansible_host",
    "ansible_port",
    "ansible_user",
    "ansible_connection",
    "ansible_ssh_private_key_file",
    "ansible_ssh_common_args",
    "ansible_python_interpreter",
    "ansible_become",
    "ansible_become_user",
    "ansible_become_method",
    "ansible_password",
    "ansible_become_password",
)


class LookupModule(LookupBase):
    def run(self, terms: list[Any], variables: dict[str, Any] | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 1:
            raise AnsibleLookupError("fleet: give exactly one inventory")
        source = os.path.abspath(str(terms[0]))
        if not os.path.exists(source):
            raise AnsibleLookupError(f"fleet: no inventory at {source}")
        group = self.get_option("group")
        inventory = InventoryManager(loader=self._loader, sources=[source])
        hosts = inventory.get_groups_dict().get(group) or []
        if not hosts:
            raise AnsibleLookupError(f"fleet: the inventory {source} has no host in the group {group}")
        host = inventory.get_host(hosts[0])
        manager = VariableManager(loader=self._loader, inventory=inventory)
        # What hostvars[...] in that inventory's variables reads: its own hosts.
        manager._hostvars = HostVars(inventory=inventory, variable_manager=manager, loader=self._loader)
        known = manager.get_vars(host=host, include_hostvars=True)
        templar = Templar(loader=self._loader, variables=known)

        def templated(names: Any) -> dict[str, Any]:
            return {name: templar.template(known[name]) for name in names if name in known}

        try:
            return [{
                "host": host.name,
                "inventory": source,
                "connection": templated(CONNECTION_VARIABLES),
                "vars": templated(self.get_option("names")),
            }]
        except Exception as error:  # noqa: BLE001 - any templating problem names the inventory
            raise AnsibleLookupError(f"fleet: {source}, host {host.name}: {error}") from error
