# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What replacing a swarm node would do, and whether an upgrade may start now.

Pure Python, driven by the filters of plugins/filter/node_lifecycle.py:

- replacement_plan reads the nodes a healthy manager lists (community.docker.docker_node_info's
  nodes) and says which of them are the dead host, in which role, and why the replacement must
  be refused (the last manager, a quorum already lost or lost by the removal, a "dead" node
  that is still healthy without force);
- window_problem says why an upgrade may not start at a given UTC time ("02:00-05:00");
- services_behind names the services with fewer tasks running than desired.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MANAGER = "manager"
WORKER = "worker"
_WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})")


def _get(node: Mapping[str, Any], *path: str) -> Any:
    value: Any = node
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


@dataclass(frozen=True)
class Node:
    """A node as docker node inspect shows it, reduced to what a replacement reads."""

    id: str
    hostname: str
    role: str
    state: str
    address: str
    reachability: str

    @classmethod
    def from_info(cls, node: Mapping[str, Any]) -> Node:
        manager_addr = str(_get(node, "ManagerStatus", "Addr") or "")
        return cls(
            id=str(node.get("ID", "")),
            hostname=str(_get(node, "Description", "Hostname") or ""),
            role=str(_get(node, "Spec", "Role") or WORKER),
            state=str(_get(node, "Status", "State") or "unknown"),
            address=str(_get(node, "Status", "Addr") or manager_addr.rsplit(":", 1)[0]),
            reachability=str(_get(node, "ManagerStatus", "Reachability") or ""),
        )

    @property
    def manager(self) -> bool:
        return self.role == MANAGER

    @property
    def healthy(self) -> bool:
        """Ready, and for a manager reachable by the other managers."""
        return self.state == "ready" and (not self.manager or self.reachability == "reachable")

    def called(self, name: str) -> bool:
        return bool(name) and name in (self.hostname, self.hostname.split(".", 1)[0])

    def at(self, address: str) -> bool:
        return bool(address) and address == self.address

    def summary(self) -> dict[str, str]:
        return {"id": self.id, "hostname": self.hostname, "role": self.role, "state": self.state,
                "address": self.address, "reachability": self.reachability}


@dataclass
class Plan:
    """What a replacement of one host by another does, or why it must not start."""

    role: str
    dead: list[Node] = field(default_factory=list)
    new: list[Node] = field(default_factory=list)
    managers: int = 0
    reachable: int = 0
    problem: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "dead_nodes": [node.summary() for node in self.dead],
            "dead_ids": [node.id for node in self.dead],
            "new_nodes": [node.summary() for node in self.new],
            "new_joined": any(node.healthy for node in self.new),
            "managers": self.managers,
            "reachable_managers": self.reachable,
            "problem": self.problem,
        }


def replacement_plan(
    nodes: Sequence[Mapping[str, Any]],
    dead: str,
    new: str,
    dead_address: str = "",
    new_address: str = "",
    inventory_role: str = WORKER,
    force: bool = False,
) -> Plan:
    """The plan of replacing host DEAD by host NEW in the swarm whose NODES a healthy manager listed.

    The dead host's role is its role in the swarm, else (already removed) INVENTORY_ROLE. The new
    host joins before the dead one is demoted and removed, so the swarm never has fewer managers
    than it had; the checks are on the quorum as it is and as it would be without the dead host,
    in case the new one cannot join.
    """
    listed = [Node.from_info(node) for node in nodes]
    # By name first: a new host may have been given the dead one's address.
    new_nodes = [node for node in listed if node.called(new) or node.at(new_address) and not node.called(dead)]
    dead_nodes = [node for node in listed
                  if node not in new_nodes and (node.called(dead) or node.at(dead_address) and not node.called(new))]
    managers = [node for node in listed if node.manager]
    reachable = [node for node in managers if node.reachability == "reachable"]
    role = MANAGER if any(node.manager for node in dead_nodes) else (WORKER if dead_nodes else inventory_role)
    plan = Plan(role=role, dead=dead_nodes, new=new_nodes, managers=len(managers), reachable=len(reachable))
    plan.problem = _problem(plan, dead, new, force)
    return plan


def _problem(plan: Plan, dead: str, new: str, force: bool) -> str:
    healthy = [node for node in plan.dead if node.healthy]
    if healthy and not force:
        return (f"{dead} is not dead: the swarm sees node {healthy[0].hostname} ({healthy[0].id[:12]}) "
                f"{healthy[0].state}{', reachable' if healthy[0].manager else ''}. Replace a node that still works "
                "only on purpose: -e force=true (its tasks move to the other nodes when it is drained)")
    if any(node.role != plan.role for node in plan.new if node.healthy):
        other = next(node for node in plan.new if node.healthy)
        return (f"{new} is already a {other.role} of this swarm, and {dead} was a {plan.role}: "
                f"the new host must be a fresh one, or one that joined in {dead}'s role")
    dead_managers = [node for node in plan.dead if node.manager]
    if not dead_managers:
        return ""
    if plan.managers - len(dead_managers) == 0:
        return (f"{dead} is the swarm's last manager: removing it leaves no swarm to join. Add managers first "
                "(an odd number, 3 or 5), then replace it")
    if 2 * plan.reachable <= plan.managers:
        return (f"only {plan.reachable} of the swarm's {plan.managers} managers are reachable: the swarm has lost its "
                "quorum and cannot take a new manager or remove one. Bring managers back, or start again from a "
                "surviving one (docker swarm init --force-new-cluster), then replace the rest")
    left = plan.managers - len(dead_managers)
    left_reachable = plan.reachable - sum(node.reachability == "reachable" for node in dead_managers)
    if 2 * left_reachable <= left:
        return (f"removing {dead} would lose the quorum: {left_reachable} of the {left} managers left would be "
                "reachable. Bring the unreachable managers back first")
    return ""


def _minutes(hours: str, minutes: str, where: str) -> int:
    if int(hours) > 23 or int(minutes) > 59:
        raise ValueError(f"{where}: {hours}:{minutes} is not a time of day")
    return int(hours) * 60 + int(minutes)


def window_problem(window: str | None, now: str) -> str:
    """Why an upgrade may not start at NOW (HH:MM, UTC) in WINDOW ("02:00-05:00", UTC); "" when it may.

    An empty or unset window allows any time; a window whose end is before its start runs over
    midnight ("22:00-02:00"). A malformed window raises ValueError.
    """
    if window is None or not str(window).strip():
        return ""
    found = _WINDOW.match(str(window))
    if not found:
        raise ValueError(f"upgrade_window {str(window)!r} is not a UTC time range such as \"02:00-05:00\"")
    start = _minutes(found.group(1), found.group(2), "upgrade_window")
    end = _minutes(found.group(3), found.group(4), "upgrade_window")
    clock = _CLOCK.match(now)
    if not clock:
        raise ValueError(f"{now!r} is not a time of day (HH:MM)")
    current = _minutes(clock.group(1), clock.group(2), "now")
    if start == end:
        raise ValueError(f"upgrade_window {str(window)!r} is empty: its start and end are the same")
    inside = start <= current < end if start < end else (current >= start or current < end)
    if inside:
        return ""
    return (f"it is {now[:5]} UTC, outside the upgrade window {str(window).strip()} (UTC): nothing was changed. "
            "Run it in the window, or now on purpose with -e upgrade_now=true")


_REPLICAS = re.compile(r"^\s*(\d+)\s*/\s*(\d+)")


def services_behind(lines: Sequence[str]) -> list[str]:
    """The services of `docker service ls --format '{{json .}}'` whose running tasks are fewer than desired.

    Each as "name running/desired"; a line that is not such JSON, or a service whose replicas cannot be
    read, is named as behind too (a wait on it never ends too early).
    """
    behind = []
    for line in lines:
        if not line.strip():
            continue
        try:
            service = json.loads(line)
        except ValueError:
            behind.append(f"unreadable: {line[:80]}")
            continue
        name = str(service.get("Name", "?")) if isinstance(service, Mapping) else "?"
        found = _REPLICAS.match(str(service.get("Replicas", ""))) if isinstance(service, Mapping) else None
        if not found:
            behind.append(f"{name} ?")
        elif int(found.group(1)) < int(found.group(2)):
            behind.append(f"{name} {found.group(1)}/{found.group(2)}")
    return behind
