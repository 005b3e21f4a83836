# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two lab fleets of their own, preprod and prod, as a team has them: separate swarms, registries, edges and CAs.

Each fleet is a lab on its own network with its own inventory folder, .lab/<network>/inventory: the lab
inventory's group_vars, plus the fleet's stack configuration (tests/e2e/fleets/<fleet>.yml), which also moves
its CA to .lab/<network>/pki, so that neither fleet's engines trust the other's registry. The fleets are
converged up to the platform (host, CA, runtime and swarm, registry and edge); the app is deployed by the tests.

DROVER_E2E_FLEETS=1                 bring both fleets up (networks below), keep them with DROVER_E2E_KEEP=1
DROVER_E2E_FLEET_PREPROD=NET:SUBNET default drover-fleet-pre:198.18.5.0/24
DROVER_E2E_FLEET_PROD=NET:SUBNET    default drover-fleet-prod:198.18.6.0/24
DROVER_E2E_FLEET_REUSE=1            the fleets are up and converged already: reuse their inventories
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .constants import LAB_GROUP_VARS, LAB_PLAYBOOK, ROOT
from .lab import LabError, playbook_argv, run, tool

FLEET_CONFIG = ROOT / "tests" / "e2e" / "fleets"
# The platform, without the app (site.yml minus apps.yml).
PLATFORM_PLAYBOOKS = ("playbooks/host.yml", "playbooks/pki.yml", "playbooks/cluster.yml", "playbooks/platform.yml")
# The hosts of each fleet, at these offsets in its subnet: preprod 2, prod 2 (the issue has prod 3; on a
# shared 2-core machine a third host made the bring-up too slow: DROVER_E2E_FLEET_PROD_HOSTS=3 adds pc1).
FLEET_HOSTS = {
    "preprod": [("nuc1", 11, "nuc", ["swarm_managers"]), ("pc1", 12, "pc", ["swarm_workers"])],
    "prod": [("nuc1", 11, "nuc", ["swarm_managers"]), ("rpi1", 13, "rpi", ["swarm_workers"])]
    + ([("pc1", 12, "pc", ["swarm_workers"])] if os.environ.get("DROVER_E2E_FLEET_PROD_HOSTS") == "3" else []),
}
DEFAULTS = {"preprod": "drover-fleet-pre:198.18.5.0/24", "prod": "drover-fleet-prod:198.18.6.0/24"}


# A host of a fleet: name, offset in the fleet's subnet, host class, inventory groups.
Host = tuple[str, int, str, list[str]]


@dataclass(frozen=True)
class Fleet:
    """A lab on a network of its own; its stack settings are tests/e2e/fleets/<config>.yml (default: its name)."""

    name: str
    network: str
    subnet: str
    hosts: tuple[Host, ...] = ()
    config: str = ""

    @classmethod
    def from_env(cls, name: str) -> Fleet:
        network, subnet = os.environ.get(f"DROVER_E2E_FLEET_{name.upper()}", DEFAULTS[name]).split(":", 1)
        return cls(name, network, subnet)

    @property
    def host_list(self) -> list[Host]:
        return list(self.hosts) or FLEET_HOSTS[self.name]

    @property
    def folder(self) -> Path:
        return ROOT / ".lab" / self.network

    @property
    def inventory(self) -> Path:
        return self.folder / "inventory"

    @property
    def settings(self) -> Path:
        return self.folder / "lab-vars.json"

    def write(self) -> None:
        """The fleet's inventory folder and the lab role's variables for it."""
        net = ipaddress.ip_network(self.subnet)
        group_vars = self.inventory / "group_vars"
        (group_vars / "all").mkdir(parents=True, exist_ok=True)
        for shared in ("main.yml", "platform.yml"):
            link = group_vars / "all" / shared
            if not link.exists():
                link.symlink_to(ROOT / LAB_GROUP_VARS / "all" / shared)
        stack = group_vars / "all" / "stack.yml"
        if not stack.exists():
            stack.symlink_to(FLEET_CONFIG / f"{self.config or self.name}.yml")
        if not (group_vars / "lab.yml").exists():
            (group_vars / "lab.yml").symlink_to(ROOT / LAB_GROUP_VARS / "lab.yml")
        (self.inventory / "host_vars").mkdir(exist_ok=True)
        (self.inventory / "host_vars" / "localhost.yml").write_text(f"---\nlab_network_name: {self.network}\n")
        hosts = [{"name": name, "address": str(net.network_address + offset), "class": klass, "groups": groups}
                 for name, offset, klass, groups in self.host_list]
        self.settings.write_text(json.dumps({
            "lab_network_name": self.network,
            "lab_network_subnet": str(net),
            "lab_network_gateway": str(net.network_address + 1),
            "lab_hosts": hosts,
            "lab_inventory_file": str(self.inventory / "hosts.yml"),
        }))

    def lab(self, state: str) -> list[str]:
        return [tool("ansible-playbook"), str(ROOT / LAB_PLAYBOOK), "-e", f"@{self.settings}", "-e",
                f"lab_state={state}"]

    def bring_up(self) -> dict[str, float]:
        """Up and converged to the platform; seconds per step."""
        self.write()
        took: dict[str, float] = {}
        for step in (self.lab("up"), *(playbook_argv(self.inventory, book) for book in PLATFORM_PLAYBOOKS)):
            done = run(step)
            took[Path(step[1]).name if step[0].endswith("ansible-playbook") else step[0]] = done.seconds
            if done.rc != 0:
                raise LabError(f"the {self.name} fleet on {self.network} could not be brought up: {done}")
        return took

    def tear_down(self) -> None:
        done = run(self.lab("down"))
        if done.rc != 0:
            raise LabError(f"the {self.name} fleet on {self.network} could not be torn down: {done}")


# The lab's arm64 Debian (debootstrap --arch arm64) as an image that says it is arm64: `docker import`
# on Engine 20.10 records the engine's own architecture, and the legacy builder's --platform linux/arm64
# then refuses it as a base. Rebuilt FROM scratch with --platform, it carries its platform.
ARM64_ROOTFS_IMAGE = "drover-lab/debian-base:bookworm-arm64"
ARM64_BASE_IMAGE = "drover-lab/debian-base:bookworm-linux-arm64"


def arm64_base() -> None:
    """ARM64_BASE_IMAGE on this machine's engine, made from ARM64_ROOTFS_IMAGE when missing."""
    if run(["docker", "image", "inspect", ARM64_BASE_IMAGE], timeout=60).rc == 0:
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="drover-arm64-") as folder:
        created = run(["docker", "create", ARM64_ROOTFS_IMAGE, "true"], timeout=120)
        if created.rc != 0:
            raise LabError(f"no arm64 Debian image to start from ({ARM64_ROOTFS_IMAGE}): {created}")
        container = created.stdout.strip()
        try:
            exported = run(["docker", "export", container, "-o", f"{folder}/rootfs.tar"], timeout=600)
        finally:
            run(["docker", "rm", container], timeout=120)
        Path(folder, "Dockerfile").write_text('FROM scratch\nADD rootfs.tar /\nCMD ["bash"]\n')
        built = run(["docker", "build", "-q", "--platform", "linux/arm64", "-t", ARM64_BASE_IMAGE, folder],
                    timeout=900, DOCKER_BUILDKIT="0")
        if exported.rc != 0 or built.rc != 0:
            raise LabError(f"the arm64 base image could not be made: {exported if exported.rc else built}")


if __name__ == "__main__":
    import sys

    for name in sys.argv[1:]:
        print(name, Fleet.from_env(name).bring_up(), flush=True)
