# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The converged lab the end-to-end tests run on, held for the whole session.

DROVER_E2E_INVENTORY=PATH  reuse the lab that inventory describes, converged already
                           (`make test` passes the lab Molecule's `lab` scenario converged);
                           it is neither converged again nor torn down.
otherwise                  bring a lab up with the lab role on network DROVER_E2E_NETWORK
                           (default drover-e2e) and subnet DROVER_E2E_SUBNET (default
                           198.18.3.0/24), converge it with site.yml, and tear it down at the
                           end unless DROVER_E2E_KEEP=1. Its hosts are the lab role's default
                           ones, at the same places in the subnet; its inventory is written
                           to .lab/<network>/inventory, next to the lab inventory's group_vars
                           and a host_vars/localhost.yml naming the network.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from .constants import (
    DEFAULT_NETWORK,
    DEFAULT_SUBNET,
    ENV_INVENTORY,
    ENV_KEEP,
    ENV_NETWORK,
    ENV_SUBNET,
    LAB_DEFAULTS,
    LAB_GROUP_VARS,
    LAB_PLAYBOOK,
    ROOT,
    SITE_PLAYBOOK,
)
from .lab import Lab, LabError, playbook_argv, run, tool


def lab_vars(network: str, subnet: str) -> dict[str, Any]:
    """The lab role's default hosts and gateway, moved into SUBNET at the same offsets, on NETWORK."""
    defaults = yaml.safe_load((ROOT / LAB_DEFAULTS).read_text())
    default_net = ipaddress.ip_network(defaults["lab_network_subnet"])
    try:
        net = ipaddress.ip_network(subnet)
    except ValueError as error:
        raise pytest.UsageError(f"{ENV_SUBNET}={subnet!r}: {error}") from None
    if net.prefixlen > default_net.prefixlen:
        raise pytest.UsageError(f"{ENV_SUBNET}={subnet}: the lab's hosts need a /{default_net.prefixlen} or larger")

    def moved(address: str) -> str:
        return str(net.network_address + (int(ipaddress.ip_address(address)) - int(default_net.network_address)))

    return {
        "lab_network_name": network,
        "lab_network_subnet": str(net),
        "lab_network_gateway": moved(defaults["lab_network_gateway"]),
        "lab_hosts": [{**host, "address": moved(host["address"])} for host in defaults["lab_hosts"]],
    }


def lab_playbook(settings: Path, state: str) -> list[str]:
    return [tool("ansible-playbook"), str(ROOT / LAB_PLAYBOOK), "-e", f"@{settings}", "-e", f"lab_state={state}"]


def bring_up(network: str, subnet: str) -> tuple[Path, Path]:
    """The lab up and converged: its inventory folder, and the vars file that names it (for the teardown)."""
    folder = ROOT / ".lab" / network
    inventory = folder / "inventory"
    inventory.mkdir(parents=True, exist_ok=True)
    group_vars = inventory / "group_vars"
    if not group_vars.exists():
        group_vars.symlink_to(ROOT / LAB_GROUP_VARS)
    # site.yml loads the lab's registry, edge and build images into the lab's containers, which the
    # lab role names after the network: the inventory the role writes does not say which one.
    (inventory / "host_vars").mkdir(exist_ok=True)
    (inventory / "host_vars" / "localhost.yml").write_text(f"---\nlab_network_name: {network}\n")
    settings = folder / "lab-vars.json"
    settings.write_text(json.dumps({**lab_vars(network, subnet), "lab_inventory_file": str(inventory / "hosts.yml")}))
    for step in (lab_playbook(settings, "up"), playbook_argv(inventory, SITE_PLAYBOOK)):
        done = run(step)
        if done.rc != 0:
            raise LabError(f"the lab on {network} could not be brought up and converged: {done}")
    return inventory, settings


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    given = os.environ.get(ENV_INVENTORY)
    if given:
        inventory = Path(given).resolve()
        if not inventory.exists():
            raise pytest.UsageError(f"{ENV_INVENTORY}={given}: no such inventory")
        yield _checked(Lab.from_inventory(inventory), f"{ENV_INVENTORY}={given}")
        return
    network = os.environ.get(ENV_NETWORK, DEFAULT_NETWORK)
    subnet = os.environ.get(ENV_SUBNET, DEFAULT_SUBNET)
    settings: Path | None = None
    try:
        inventory, settings = bring_up(network, subnet)
        yield _checked(Lab.from_inventory(inventory), f"the lab on {network}")
    finally:
        if settings is not None and os.environ.get(ENV_KEEP, "") in ("", "0"):
            down = run(lab_playbook(settings, "down"))
            if down.rc != 0:
                raise LabError(f"the lab on {network} could not be torn down: {down}")


def _checked(lab: Lab, named: str) -> Lab:
    """The lab, once every environment answers through the edge: a lab not converged stops here."""
    missing = [name for name in ("dev", "preprod", "prod") if name not in lab.domains]
    if missing:
        raise LabError(f"{named}: no domain for {', '.join(missing)} in stack_environments")
    for environment in lab.domains:
        try:
            lab.ask(environment)
        except LabError as error:
            raise LabError(f"{named} is not a converged lab: {error}") from None
    return lab
