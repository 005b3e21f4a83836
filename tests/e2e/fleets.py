# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two lab fleets of their own, preprod and prod, as a team has them: separate swarms, registries, edges and CAs.

The app on them is teamapp (apps/teamapp, a Compose file written for a laptop), from the scaffold:
playbooks/new_app.yml writes its inventories under .lab/teamapp-fleets/<env>, and each fleet's inventory is
the scaffold's folder of its environment, with beside the scaffold's stack.yml (and a vault.yml made from its
example) what the lab adds: the lab inventory's group_vars, the hosts of the fleet's own network, and the
fleet's platform answers (tests/e2e/fleets/<fleet>-platform.yml), which also move its CA to
.lab/<network>/pki, so that neither fleet's engines trust the other's registry. The fleets are converged up
to the platform (host, CA, runtime and swarm, registry and edge); the app is deployed by the tests.

DROVER_E2E_FLEETS=1                 bring both fleets up (networks below), keep them with DROVER_E2E_KEEP=1
DROVER_E2E_FLEET_PREPROD=NET:SUBNET default drover-fleet-pre:198.18.5.0/24
DROVER_E2E_FLEET_PROD=NET:SUBNET    default drover-fleet-prod:198.18.6.0/24
DROVER_E2E_FLEET_REUSE=1            the fleets are up and converged already: reuse their inventories
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from .constants import LAB_GROUP_VARS, LAB_PLAYBOOK, ROOT
from .lab import LabError, extra_vars, playbook_argv, run, tool

FLEET_CONFIG = ROOT / "tests" / "e2e" / "fleets"
# The platform, without the app (site.yml minus apps.yml).
PLATFORM_PLAYBOOKS = ("playbooks/host.yml", "playbooks/pki.yml", "playbooks/cluster.yml", "playbooks/platform.yml")
# The hosts of each fleet, at these offsets in its subnet: preprod 2, prod 3 (DROVER_E2E_FLEET_PROD_HOSTS=2
# leaves pc1 out, for a quicker run by hand).
FLEET_HOSTS = {
    "preprod": [("nuc1", 11, "nuc", ["swarm_managers"]), ("pc1", 12, "pc", ["swarm_workers"])],
    "prod": [("nuc1", 11, "nuc", ["swarm_managers"]), ("rpi1", 13, "rpi", ["swarm_workers"])]
    + ([] if os.environ.get("DROVER_E2E_FLEET_PROD_HOSTS") == "2" else [("pc1", 12, "pc", ["swarm_workers"])]),
}
# The app: teamapp, scaffolded once for both fleets. The scaffold writes <SCAFFOLD>/<env>; prod's folder is
# prod's inventory, preprod's is preprod's (preprod builds: -e build_environments).
APP = "teamapp"
APP_DIR = ROOT / "apps" / APP
SCAFFOLD = ROOT / ".lab" / f"{APP}-fleets"
SCAFFOLDED_AT = SCAFFOLD / "scaffolded-at"
NEW_APP_PLAYBOOK = "playbooks/new_app.yml"
FLEET_BASE_DOMAIN = "lab.drover.test"
DEFAULTS = {"preprod": "drover-fleet-pre:198.18.5.0/24", "prod": "drover-fleet-prod:198.18.6.0/24"}


# A host of a fleet: name, offset in the fleet's subnet, host class, inventory groups.
Host = tuple[str, int, str, list[str]]


@dataclass(frozen=True)
class Fleet:
    """A lab on a network of its own, for the scaffold's inventory of its environment (its name); with a config,
    for a stack configured in tests/e2e/fleets/<config>.yml."""

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
        """The scaffold's folder of this fleet's environment; with a config of its own, .lab/<network>/inventory."""
        return self.folder / "inventory" if self.config else SCAFFOLD / self.name

    @property
    def settings(self) -> Path:
        return self.folder / "lab-vars.json"

    def write(self) -> None:
        """What the lab adds to the scaffold's inventory folder, and the lab role's variables for the fleet."""
        net = ipaddress.ip_network(self.subnet)
        group_vars = self.inventory / "group_vars"
        links = {shared: ROOT / LAB_GROUP_VARS / "all" / shared for shared in ("main.yml", "platform.yml")}
        if self.config:
            # A fleet with its stack settings in one file of its own (tests/e2e/fleets/<config>.yml).
            (group_vars / "all").mkdir(parents=True, exist_ok=True)
            links["stack.yml"] = FLEET_CONFIG / f"{self.config}.yml"
        elif (group_vars / "all" / "stack.yml").is_file():
            # Named to be read after main.yml and platform.yml, whose settings it overrides (its CA folder):
            # Ansible reads a group_vars folder's files in the order of their names, the last one winning.
            links["zz-fleet.yml"] = FLEET_CONFIG / f"{self.name}-platform.yml"
        else:
            raise LabError(f"no scaffold in {self.inventory}: run scaffold() first")
        self.folder.mkdir(parents=True, exist_ok=True)
        for shared, source in links.items():
            link = group_vars / "all" / shared
            if not link.exists():
                link.symlink_to(source)
        # What a team does with vault.yml.example (encrypting it is theirs to do; the lab's stays plain).
        vault = group_vars / "all" / "vault.yml"
        if not self.config and not vault.exists():
            example = yaml.safe_load((group_vars / "all" / "vault.yml.example").read_text()) or {}
            vault.write_text(yaml.safe_dump({key: f"lab-{self.name}-{key}" if isinstance(value, str) else value
                                             for key, value in example.items()}))
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
            took[next(Path(arg).name for arg in step[1:] if arg.endswith(".yml"))] = done.seconds
            if done.rc != 0:
                raise LabError(f"the {self.name} fleet on {self.network} could not be brought up: {done}")
        return took

    def tear_down(self) -> None:
        done = run(self.lab("down"))
        if done.rc != 0:
            raise LabError(f"the {self.name} fleet on {self.network} could not be torn down: {done}")


def scaffold() -> dict[str, float]:
    """teamapp's inventories from the scaffold, preprod building, in SCAFFOLD (written again from nothing)."""
    shutil.rmtree(SCAFFOLD, ignore_errors=True)
    written = run([
        tool("ansible-playbook"), str(ROOT / NEW_APP_PLAYBOOK),
        *extra_vars(app_dir=str(APP_DIR), name=APP, out_dir=str(SCAFFOLD), endpoint_mode="dnsrr",
                    fleet_examples=False, build_environments=["dev", "preprod"],
                    domains=dict.fromkeys(("dev", "preprod", "prod"), FLEET_BASE_DOMAIN)),
    ], timeout=300)
    if written.rc != 0:
        raise LabError(f"the scaffold failed: {written}")
    # When the scaffold began: the clock of "from the scaffold to the URLs answering" (test_fleets.py).
    SCAFFOLDED_AT.write_text(f"{time.time() - written.seconds:.1f}\n")
    return {"new_app.yml": written.seconds}


# The lab's arm64 Debian (debootstrap --arch arm64) as an image that says it is arm64: `docker import`
# on Engine 20.10 records the engine's own architecture, and the legacy builder's --platform linux/arm64
# then refuses it as a base. Rebuilt FROM scratch with --platform, it carries its platform.
ARM64_ROOTFS_IMAGE = "drover-lab/debian-base:bookworm-arm64"
ARM64_BASE_IMAGE = "drover-lab/debian-base:bookworm-linux-arm64"


def arm64_base() -> None:
    """ARM64_BASE_IMAGE on this machine's engine, made from ARM64_ROOTFS_IMAGE when missing. When make test's
    arm64 stage (tools/arm64-check, which makes ARM64_ROOTFS_IMAGE) may still be running beside, wait up to
    DROVER_E2E_ARM64_WAIT seconds for it."""
    if run(["docker", "image", "inspect", ARM64_BASE_IMAGE], timeout=60).rc == 0:
        return
    deadline = time.monotonic() + float(os.environ.get("DROVER_E2E_ARM64_WAIT", "0"))
    while run(["docker", "image", "inspect", ARM64_ROOTFS_IMAGE], timeout=60).rc != 0 and time.monotonic() < deadline:
        time.sleep(10)
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
    # python -m tests.e2e.fleets preprod prod          the scaffold, then each fleet up and converged
    # python -m tests.e2e.fleets --down preprod prod   each fleet torn down
    import sys

    names = [name for name in sys.argv[1:] if name != "--down"]
    try:
        if "--down" in sys.argv:
            for name in names:
                Fleet.from_env(name).tear_down()
                print(f"{name} fleet down", flush=True)
        else:
            print("scaffold", scaffold(), flush=True)
            for name in names:
                print(name, Fleet.from_env(name).bring_up(), flush=True)
    except LabError as error:
        sys.exit(f"fleets: {error}")
