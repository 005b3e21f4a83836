# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cattle, not pets, on a lab fleet of its own: a dead manager replaced, and rolling upgrades under load.

The fleet (tests/e2e/fleets.py, stack settings tests/e2e/fleets/lifecycle.yml): three managers, nuc1, pc1 and
pc2 (the registry on nuc1, Traefik on nuc1 and pc2), and a spare host, pc3, in no swarm group. The demo app is
deployed to prod, two web tasks on two nodes. The load loop goes through both edge addresses, as a client of a
name with two A records does (tests/load/https_load.py: the next address only when a connection is refused).

In this order, each test starting from where the one before left the fleet:

1. replacing a manager that still works is refused without force, and the spare is not touched;
2. pc1 killed for good (its container and volume removed); replace_node.yml with pc3 under load: 3 reachable
   managers, no ghost, 0 failed requests; run again, nothing changes; the inventory is then updated as an
   operator would (pc3 a manager, pc1 gone);
3. upgrade.yml over the three nodes under a load loop of at least 1,000 requests, each engine restarted: 0 failed
   requests, every node upgraded, Ready and Active;
4. a failure planted on the second node (a package that does not exist, in its host_vars) stops the run: that
   node is left drained, the third untouched;
5. backup.yml into a restic repository, a known value written into Redis first; a manager's ledger changed is
   not overwritten by restore.yml without force; then every manager's ledger, the registry's image store and
   Redis's volume on every node lost: restore.yml puts them back (the ledgers byte for byte, every pinned image
   asked of the registry by digest, the value in Redis's dump on its node), the app answers once Redis is
   scaled up again, and a second restore is refused, the registry holding images.

Marked `lifecycle`, and skipped unless DROVER_E2E_LIFECYCLE=1.
DROVER_E2E_LIFECYCLE_NET=NET:SUBNET  default drover-lifecycle:198.18.21.0/24
DROVER_E2E_LIFECYCLE_REUSE=1         the fleet is up and converged, the app deployed: reuse it
DROVER_E2E_KEEP=1                    leave the fleet up at the end
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from .constants import DEPLOY_PLAYBOOK
from .fleets import Fleet
from .lab import Lab, Run, extra_vars, playbook_argv, run

pytestmark = [
    pytest.mark.lifecycle,
    pytest.mark.skipif(os.environ.get("DROVER_E2E_LIFECYCLE", "") in ("", "0"),
                       reason="needs a lab fleet of its own (4 hosts): DROVER_E2E_LIFECYCLE=1"),
]

REPLACE_PLAYBOOK = "playbooks/replace_node.yml"
UPGRADE_PLAYBOOK = "playbooks/upgrade.yml"
BASE_IMAGES_PLAYBOOK = "tests/e2e/fleets/images.yml"
HOSTS = (
    ("nuc1", 11, "nuc", ["swarm_managers", "edge"]),
    ("pc1", 12, "pc", ["swarm_managers"]),
    ("pc2", 13, "pc", ["swarm_managers", "edge"]),
    ("pc3", 14, "pc", []),
)
DEAD, SPARE = "pc1", "pc3"
ENVIRONMENT = "prod"
# The packages the upgrade test upgrades: the engine's, restarted on each node whether or not they changed.
PACKAGES = ["docker.io", "containerd", "runc"]
FIGURES: dict[str, Any] = {}
RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+: ok=\d+\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
                        r"\s+failed=(?P<failed>\d+)", re.MULTILINE)


def fleet_from_env() -> Fleet:
    network, subnet = os.environ.get("DROVER_E2E_LIFECYCLE_NET", "drover-lifecycle:198.18.21.0/24").split(":", 1)
    return Fleet("lifecycle", network, subnet, hosts=HOSTS, config="lifecycle")


@pytest.fixture(scope="module")
def fleet() -> Iterator[Fleet]:
    lifecycle = fleet_from_env()
    reuse = os.environ.get("DROVER_E2E_LIFECYCLE_REUSE", "") not in ("", "0")
    began = time.monotonic()
    try:
        if reuse:
            lifecycle.write()
        else:
            FIGURES["bring_up_s"] = lifecycle.bring_up()
            for step in (playbook_argv(lifecycle.inventory, BASE_IMAGES_PLAYBOOK),
                         playbook_argv(lifecycle.inventory, DEPLOY_PLAYBOOK,
                                       *extra_vars(env=ENVIRONMENT, version="1.0.0"))):
                done = run(step)
                assert done.rc == 0, done
            FIGURES["fleet_and_app_s"] = round(time.monotonic() - began)
        yield lifecycle
    finally:
        print(f"figures: {json.dumps(FIGURES)}")
        if not reuse and os.environ.get("DROVER_E2E_KEEP", "") in ("", "0"):
            lifecycle.tear_down()


def lab_of(fleet: Fleet) -> Lab:
    """The fleet as the tests reach it: the load loop through every edge address."""
    lab = Lab.from_inventory(fleet.inventory)
    hosts = yaml.safe_load((fleet.inventory / "hosts.yml").read_text())["all"]["children"]
    addresses = [hosts["lab"]["hosts"][name]["ansible_host"] for name in hosts["edge"]["hosts"]]
    return dataclasses.replace(lab, edge=",".join(addresses))


def recap(output: str) -> dict[str, dict[str, int]]:
    last = output.rpartition("PLAY RECAP")[2]
    return {m["host"]: {key: int(m[key]) for key in ("changed", "unreachable", "failed")}
            for m in RECAP_LINE.finditer(last)}


def nodes(lab: Lab) -> list[dict[str, str]]:
    """docker node ls on a healthy manager: hostname, status, availability, manager status of each node."""
    listed = lab.ssh("docker", "node", "ls", "--format", "{{json .}}").stdout
    return [json.loads(line) for line in listed.splitlines() if line.strip()]


def host_ssh(lab: Lab, fleet: Fleet, host: str, *command: str, check: bool = True) -> Run:
    """A command on another host of the fleet, as the first manager's ssh does."""
    hosts = yaml.safe_load((fleet.inventory / "hosts.yml").read_text())["all"]["children"]["lab"]["hosts"]
    return dataclasses.replace(lab, address=hosts[host]["ansible_host"]).ssh(*command, check=check)


def container(fleet: Fleet, host: str) -> str:
    return f"{fleet.network}-{host}"


def wait_for(what: str, check: Any, timeout: float = 180, delay: float = 3) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        time.sleep(delay)


def test_replacing_a_manager_that_still_works_is_refused(fleet: Fleet) -> None:
    lab = lab_of(fleet)
    refused = lab.playbook(REPLACE_PLAYBOOK, *extra_vars(dead="pc2", new=SPARE))
    assert refused.rc != 0
    assert "pc2 is not dead: the swarm sees node pc2" in refused.output, refused
    assert "-e force=true" in refused.output and "nothing was changed" in refused.output, refused
    assert "PLAY [Provision the new host]" not in refused.output, refused
    assert all(counts["changed"] == 0 for counts in recap(refused.output).values()), refused
    # The spare has no engine yet: nothing was installed on it.
    assert host_ssh(lab, fleet, SPARE, "test", "-e", "/usr/bin/dockerd", check=False).rc != 0
    assert sorted(node["Hostname"] for node in nodes(lab)) == ["nuc1", "pc1", "pc2"]


def test_a_dead_manager_is_replaced_under_load(fleet: Fleet) -> None:
    lab = lab_of(fleet)
    volumes = run(["docker", "inspect", container(fleet, DEAD), "--format",
                   "{{range .Mounts}}{{if eq .Type \"volume\"}}{{.Name}} {{end}}{{end}}"]).stdout.split()
    assert run(["docker", "rm", "-f", container(fleet, DEAD)]).rc == 0
    for volume in volumes:
        assert run(["docker", "volume", "rm", volume]).rc == 0
    wait_for(f"the swarm to see {DEAD} down", lambda: any(
        node["Hostname"] == DEAD and node["Status"] == "Down" and node["ManagerStatus"] == "Unreachable"
        for node in nodes(lab)))
    # The web task that ran on the dead node starts again on another one.
    wait_for("the app to answer", lambda: lab.ssh("docker", "service", "ls", "--format", "{{.Name}} {{.Replicas}}")
             .stdout.count("demo-prod_web 2/2") == 1 and lab.ask(ENVIRONMENT))
    with lab.under_load(ENVIRONMENT, minimum=200) as load:
        replaced = lab.playbook(REPLACE_PLAYBOOK, *extra_vars(dead=DEAD, new=SPARE))
    assert replaced.rc == 0, replaced
    FIGURES["replace_node_s"] = replaced.seconds
    FIGURES["replace_load"] = {key: load[key] for key in ("requests", "failures", "refused_moves")}
    print(f"replace_node.yml ({DEAD} -> {SPARE}): {replaced.seconds:.0f} s; load {load}")
    assert load["failures"] == 0, load
    listed = nodes(lab)
    assert sorted(node["Hostname"] for node in listed) == ["nuc1", "pc2", SPARE], listed
    managers = [node for node in listed if node["ManagerStatus"] in ("Leader", "Reachable")]
    assert len(managers) == 3 and all(node["Status"] == "Ready" for node in listed), listed

    again = lab.playbook(REPLACE_PLAYBOOK, *extra_vars(dead=DEAD, new=SPARE))
    assert again.rc == 0, again
    FIGURES["replace_node_again_s"] = again.seconds
    assert {host: counts["changed"] for host, counts in recap(again.output).items() if counts["changed"]} == {}, again
    assert f"{DEAD} is no node of the swarm any more" in again.output, again

    # The operator's part: the inventory says what the swarm is now.
    hosts_file = fleet.inventory / "hosts.yml"
    inventory = yaml.safe_load(hosts_file.read_text())
    for group in inventory["all"]["children"].values():
        (group.get("hosts") or {}).pop(DEAD, None)
    inventory["all"]["children"]["swarm_managers"]["hosts"][SPARE] = None
    hosts_file.write_text(yaml.safe_dump(inventory, sort_keys=False))


def upgrade(lab: Lab, *more: str) -> Run:
    return lab.playbook(UPGRADE_PLAYBOOK, "-e", json.dumps({"upgrade_packages": PACKAGES}), *more)


def stamp(lab: Lab, fleet: Fleet, host: str) -> str:
    return host_ssh(lab, fleet, host, "cat", "/var/lib/drover/upgrade/last.json", check=False).stdout


def test_a_rolling_upgrade_under_load_fails_no_request(fleet: Fleet) -> None:
    lab = lab_of(fleet)
    began = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with lab.under_load(ENVIRONMENT, minimum=1000) as load:
        upgraded = upgrade(lab, "-e", "upgrade_restart_engine=always")
    assert upgraded.rc == 0, upgraded
    FIGURES["upgrade_s"] = upgraded.seconds
    FIGURES["upgrade_load"] = {key: load[key] for key in ("requests", "failures", "refused_moves")}
    print(f"upgrade.yml over 3 nodes: {upgraded.seconds:.0f} s; load {load}")
    assert load["requests"] >= 1000 and load["failures"] == 0, load
    order = re.findall(r"TASK \[Drain the node\] \*+\nchanged: \[(\w+)", upgraded.output)
    assert order == ["nuc1", "pc2", SPARE], upgraded
    started = {json.loads(stamp(lab, fleet, host))["run_started"] for host in order}
    assert len(started) == 1 and started.pop() >= began
    assert all(node["Status"] == "Ready" and node["Availability"] == "Active" for node in nodes(lab)), nodes(lab)


def test_a_failure_on_the_second_node_stops_the_run(fleet: Fleet) -> None:
    lab = lab_of(fleet)
    before = stamp(lab, fleet, SPARE)
    # In host_vars, which an extra var would outrank: the others upgrade the engine's packages, pc2 one that
    # does not exist.
    planted = {host: fleet.inventory / "host_vars" / f"{host}.yml" for host in ("nuc1", "pc2", SPARE)}
    for host, path in planted.items():
        packages = ["drover-no-such-package"] if host == "pc2" else PACKAGES
        path.write_text(yaml.safe_dump({"upgrade_packages": packages}, explicit_start=True))
    try:
        failed = lab.playbook(UPGRADE_PLAYBOOK)
    finally:
        for path in planted.values():
            path.unlink()
    assert failed.rc != 0, failed
    FIGURES["upgrade_failed_s"] = failed.seconds
    assert 'the upgrade of pc2 failed at "Upgrade the packages"' in failed.output, failed
    assert "pc2 is left drained" in failed.output and "the nodes after it were not touched" in failed.output, failed
    availability = {node["Hostname"]: node["Availability"] for node in nodes(lab)}
    assert availability == {"nuc1": "Active", "pc2": "Drain", SPARE: "Active"}, availability
    assert stamp(lab, fleet, SPARE) == before
    assert f"[{SPARE}]" not in failed.output.split("PLAY [Upgrade one node at a time]")[1].split("PLAY RECAP")[0]
    # Made active again, as the message says, for whatever runs next on the fleet.
    lab.ssh("docker", "node", "update", "--availability", "active", "pc2")


BACKUP_PLAYBOOK = "playbooks/backup.yml"
RESTORE_PLAYBOOK = "playbooks/restore.yml"
LEDGER_DIR = "/var/lib/drover/releases"


def manager_names(lab: Lab) -> list[str]:
    return sorted(node["Hostname"] for node in nodes(lab) if node["ManagerStatus"] in ("Leader", "Reachable"))


def test_the_ledgers_and_the_registry_come_back_from_the_restic_repository(fleet: Fleet, tmp_path: Any) -> None:
    """Backed up, then the ledger on every manager and the registry's images lost: restore.yml puts them back."""
    lab = lab_of(fleet)
    repository = {"backup_repository": str(tmp_path / "restic"), "backup_repository_password": "lifecycle-drill"}
    stack = f"demo-{ENVIRONMENT}"
    ledger = f"{LEDGER_DIR}/{stack}.json"
    saved = lab.ssh("cat", ledger).stdout
    pinned = sorted(json.loads(saved)["releases"][-1]["images"].values())
    # Known data in Redis's volume, on the node Redis runs on; its backup hook (redis-cli save) writes it out.
    redis = f"{stack}_redis"
    volume = f"{stack}_redis-data"
    value = f"drill-{time.time_ns()}"
    redis_node = lab.ssh("docker", "service", "ps", redis, "--filter", "desired-state=running",
                         "--format", "{{.Node}}").stdout.split()[0]
    redis_id = host_ssh(lab, fleet, redis_node, "docker", "ps", "-q", "--filter",
                        f"label=com.docker.swarm.service.name={redis}").stdout.split()[0]
    assert host_ssh(lab, fleet, redis_node, "docker", "exec", redis_id, "redis-cli", "set", "drill", value).stdout \
        .strip() == "OK"
    backed_up = lab.playbook(BACKUP_PLAYBOOK, "-e", json.dumps(repository))
    assert backed_up.rc == 0, backed_up.tail(40)
    FIGURES["backup_s"] = backed_up.seconds

    # A manager's ledger that differs is not overwritten without force.
    managers = manager_names(lab)
    host_ssh(lab, fleet, managers[-1], "sh", "-c", f"echo '{{}}' > {ledger}")
    refused = lab.playbook(RESTORE_PLAYBOOK, "-e", json.dumps(repository))
    assert refused.rc != 0, refused.tail(40)
    assert f"the ledger of {stack} on {managers[-1]} differs from the one in the snapshot;" in refused.output, \
        refused.tail(40)
    assert "nothing was changed" in refused.output, refused.tail(40)

    # The loss: every manager's ledger, the registry's image store, and Redis's volume on every node.
    for manager in managers:
        host_ssh(lab, fleet, manager, "rm", "-f", ledger)
    lab.ssh("docker", "service", "scale", "--detach=false", f"{redis}=0")
    holders = [name for name in manager_names(lab)
               if host_ssh(lab, fleet, name, "docker", "volume", "rm", volume, check=False).rc == 0]
    assert redis_node in holders, holders
    registry = lab  # the registry runs on the first manager (nuc1)
    mountpoint = registry.ssh("docker", "volume", "inspect", "-f", "{{.Mountpoint}}", "drover-registry").stdout.strip()
    registry.ssh("docker", "stop", "drover-registry")
    registry.ssh("rm", "-rf", f"{mountpoint}/docker")
    registry.ssh("docker", "start", "drover-registry")
    # The registry is asked, not the engines' own copies: gone now.
    assert wait_for("the registry to answer that the image is unknown", lambda: lab.ssh(
        "docker", "manifest", "inspect", pinned[0], check=False).rc != 0, timeout=60)

    restored = lab.playbook(RESTORE_PLAYBOOK, "-e", json.dumps(repository))
    assert restored.rc == 0, restored.tail(60)
    FIGURES["restore_s"] = restored.seconds
    for manager in managers:
        assert host_ssh(lab, fleet, manager, "cat", ledger).stdout == saved, manager
    # Redis's volume is back on its node with the value written before the backup, and Redis starts on it.
    mount = host_ssh(lab, fleet, redis_node, "docker", "volume", "inspect", "-f", "{{.Mountpoint}}", volume).stdout
    assert host_ssh(lab, fleet, redis_node, "grep", "-c", "-F", value, f"{mount.strip()}/dump.rdb").rc == 0
    lab.ssh("docker", "service", "scale", "--detach=false", f"{redis}=1")
    # Every image the last release pinned is there again, by digest, and the app still answers.
    for image in pinned:
        asked = lab.ssh("docker", "manifest", "inspect", image, check=False)
        assert asked.rc == 0, asked
    assert lab.ask(ENVIRONMENT)
    again = lab.playbook(RESTORE_PLAYBOOK, "-e", json.dumps(repository))
    assert again.rc != 0 and "the registry volume drover-registry on nuc1 holds images already" in again.output, \
        again.tail(40)
