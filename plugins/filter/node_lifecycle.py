# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Replacing a swarm node and the upgrade window as filters; the logic is module_utils/_node_lifecycle.py.

Each filter is documented in the YAML file of its name beside this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.drover.platform.plugins.module_utils._node_lifecycle import (
    MANAGER,
    WORKER,
    replacement_plan,
    services_behind,
    window_problem,
)


def swarm_replacement(nodes: Any, dead: str, new: str, dead_address: str = "", new_address: str = "",
                      inventory_role: str = WORKER, force: Any = False) -> dict[str, Any]:
    if not isinstance(nodes, list) or not all(isinstance(node, Mapping) for node in nodes):
        raise AnsibleFilterError(f"swarm_replacement expects the list of nodes docker_node_info returns, got {nodes!r}")
    if inventory_role not in (MANAGER, WORKER):
        raise AnsibleFilterError(f"swarm_replacement: inventory_role must be manager or worker, not {inventory_role!r}")
    if not dead or not new:
        raise AnsibleFilterError("swarm_replacement needs the dead host's and the new host's names")
    return replacement_plan(nodes, str(dead), str(new), str(dead_address or ""), str(new_address or ""),
                            inventory_role, boolean(force, strict=False)).as_dict()


def upgrade_window_problem(window: Any, now: str) -> str:
    try:
        return window_problem(None if window is None else str(window), str(now))
    except ValueError as error:
        return str(error)


def swarm_services_behind(lines: Any) -> list[str]:
    if isinstance(lines, str):
        lines = lines.splitlines()
    if not isinstance(lines, list):
        raise AnsibleFilterError(f"swarm_services_behind expects the lines of docker service ls, got {lines!r}")
    return services_behind([str(line) for line in lines])


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"swarm_replacement": swarm_replacement, "upgrade_window_problem": upgrade_window_problem,
                "swarm_services_behind": swarm_services_behind}
