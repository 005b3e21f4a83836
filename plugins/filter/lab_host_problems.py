# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: lab_host_problems
short_description: List what is wrong with a lab host list
version_added: 0.1.0
description:
  - Checks a list of lab hosts against the lab network before any container
    is created, and returns one line per problem (an empty list when the
    list is sound).
  - Names must be unique host names; addresses must be unique IPv4
    addresses inside the network, other than its network, broadcast and
    gateway addresses; the class must be one the lab knows.
positional: subnet, gateway, classes
options:
  _input:
    description: The host list, as in the lab role's C(lab_hosts).
    type: list
    elements: dict
    required: true
  subnet:
    description: The lab network, for example C(198.18.0.0/24).
    type: str
    required: true
  gateway:
    description: The network's gateway address, which no host may take.
    type: str
    required: true
  classes:
    description: Allowed host classes.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Stop on a bad host list
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ lab_hosts | drover.platform.lab_host_problems('198.18.0.0/24', '198.18.0.1', ['nuc', 'pc', 'rpi']) }}"
"""

RETURN = r"""
_value:
  description: One message per problem found; empty when the list is sound.
  type: list
  elements: str
"""

import ipaddress
import re
from collections import Counter
from typing import Any

from ansible.errors import AnsibleFilterError

_HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def lab_host_problems(hosts: Any, subnet: str, gateway: str, classes: list[str]) -> list[str]:
    if not isinstance(hosts, list):
        raise AnsibleFilterError(f"lab_host_problems expects a list of hosts, got {type(hosts).__name__}")
    try:
        network = ipaddress.IPv4Network(subnet)
        gateway_address = ipaddress.IPv4Address(gateway)
    except ValueError as exc:
        return [f"the lab network is not valid: {exc}"]

    problems: list[str] = []
    if not hosts:
        problems.append("the lab host list is empty")
    if gateway_address not in network:
        problems.append(f"gateway {gateway} is outside the lab network {network}")
    reserved = {network.network_address, network.broadcast_address, gateway_address}

    names = Counter(str(h.get("name")) for h in hosts if isinstance(h, dict))
    addresses = Counter(str(h.get("address")) for h in hosts if isinstance(h, dict))

    for position, host in enumerate(hosts, start=1):
        if not isinstance(host, dict):
            problems.append(f"host #{position} is not a mapping: {host!r}")
            continue
        name = str(host.get("name", ""))
        label = f"host {name!r}" if name else f"host #{position}"
        if not _HOSTNAME.match(name):
            problems.append(f"{label}: the name must be a host name (lower-case letters, digits, dashes)")
        elif names[name] > 1:
            problems.append(f"{label}: the name is used {names[name]} times")

        klass = host.get("class")
        if klass not in classes:
            problems.append(f"{label}: unknown class {klass!r} (known: {', '.join(classes)})")

        raw_address = str(host.get("address", ""))
        try:
            address = ipaddress.IPv4Address(raw_address)
        except ValueError:
            problems.append(f"{label}: {raw_address!r} is not an IPv4 address")
            continue
        if address not in network:
            problems.append(f"{label}: address {address} is outside the lab network {network}")
        elif address in reserved:
            problems.append(f"{label}: address {address} is reserved on {network} (network, broadcast or gateway)")
        if addresses[raw_address] > 1:
            problems.append(f"{label}: address {address} is used {addresses[raw_address]} times")
    return problems


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"lab_host_problems": lab_host_problems}
