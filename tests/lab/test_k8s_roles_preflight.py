# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflights of playbooks/runtime_k8s.yml, run for real on this machine.

The real playbook runs with ansible-playbook, in check mode, over a local
connection to this machine (see conftest.py), a Debian host without snapd
and with a Docker engine (CI starts one).

What is real and what is fed:
- microk8s on a host without snapd: all real. host_profile reads this
  machine, the preflight looks for /usr/bin/snap and /run/snapd.socket on
  it, and the run must stop before the install play with the message that
  says what to do, having changed nothing.
- microk8s on a Raspberry Pi with the memory cgroup off: this machine has
  the memory controller on, so the Pi's host profile is fed as an extra var.
  It is not written by hand: the host_profile module's own code computes it
  from the files recorded on a Raspberry Pi 4 (tests/unit/fixtures/
  host_profile/rpi4-bookworm: /proc/cgroups with memory off, /proc/cmdline
  without the two parameters). Everything else is real: the playbook, the
  preflight and its filter, the snapd check and the attempt to read the
  Pi's cmdline.txt on this machine, which has none.
- minikube in prod: all real (drover_env comes from the inventory, as in
  inventories/prod); the warning must show and the run must go on.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.modules import host_profile

PLAYBOOK = "playbooks/runtime_k8s.yml"
MICROK8S_CHECK_PLAY = "PLAY [Check every microk8s node before changing any]"
MICROK8S_INSTALL_PLAY = "PLAY [Install microk8s and form the cluster]"
MINIKUBE_CHECK_PLAY = "PLAY [Check the minikube hosts before changing any]"
MINIKUBE_INSTALL_PLAY = "PLAY [Install and start minikube]"
PREFLIGHT_TAGS = {"microk8s_preflight", "minikube_preflight"}
PI_FIXTURE = Path(__file__).parents[1] / "unit" / "fixtures" / "host_profile" / "rpi4-bookworm"
WARNING = "WARNING: {host} is in the {env} environment, and minikube is a one-machine"

Runner = Callable[..., tuple[int, str]]
Recap = Callable[[str], dict[str, dict[str, int]]]


def _inventory(tmp_path: Path, groups: dict[str, dict[str, dict[str, Any]]], env: str = "dev") -> Path:
    inventory = tmp_path / "hosts.json"
    children = {group: {"hosts": hosts} for group, hosts in groups.items()}
    group_vars = {"drover_env": env, "drover_runtime": "kubernetes"}
    inventory.write_text(json.dumps({"all": {"vars": group_vars, "children": children}}))
    return inventory


def _pi_profile_from_recorded_files() -> dict[str, Any]:
    """The facts host_profile sets on the recorded Raspberry Pi 4 (run() is the module's own code)."""
    machine = (PI_FIXTURE / "machine").read_text().strip()
    params = {"root": str(PI_FIXTURE), "declared_class": None, "stateful_min_memory_mb": 2048}
    profile = host_profile.run(params, machine, 64)["ansible_facts"]["drover_host_profile"]
    # The premise of the case: a Pi whose memory controller is off.
    assert profile["class"] == "rpi"
    assert profile["cgroup"]["memory_enabled"] is False
    assert profile["cgroup"]["memory_missing_parameters"] == ["cgroup_enable=memory", "cgroup_memory=1"]
    return profile


def _nothing_changed_from(play: str, output: str) -> None:
    """No task reported a change from that play on (connect.yml's groupings come before it)."""
    assert play in output, output
    after = output.partition(play)[2]
    assert not re.search(r"^changed: \[", after, re.MULTILINE), output


def _stopped_before_install(output: str, recap: Recap, hosts: set[str]) -> None:
    assert MICROK8S_INSTALL_PLAY not in output, output
    _nothing_changed_from(MICROK8S_CHECK_PLAY, output)
    assert set(recap(output)) == hosts, output


def _docker_answers() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    done = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, check=False)
    return done.returncode == 0


@pytest.mark.skipif(Path("/usr/bin/snap").exists(), reason="this case needs a host without snapd")
def test_microk8s_on_a_host_without_snapd_stops_with_what_to_do(
    tmp_path: Path, run_playbook: Runner, recap: Recap
) -> None:
    inventory = _inventory(tmp_path, {"microk8s_nodes": {"node1": {"drover_host_class": "nuc"}}})

    returncode, output = run_playbook(PLAYBOOK, inventory)

    assert returncode != 0, output
    for fragment in (
        "microk8s cannot run on node1, nothing was changed on any node",
        "snapd is not installed (there is no /usr/bin/snap)",
        "apt-get install snapd",
        "drover_runtime: docker",
    ):
        assert fragment in output, f"{fragment!r} missing from:\n{output}"
    # This machine's memory controller is on: only snapd stands in the way.
    assert "memory cgroup controller off" not in output, output
    _stopped_before_install(output, recap, {"node1"})


def test_microk8s_on_a_pi_with_memory_cgroup_off_names_the_parameters(
    tmp_path: Path, run_playbook: Runner, recap: Recap
) -> None:
    inventory = _inventory(tmp_path, {"microk8s_nodes": {"pi1": {"drover_host_class": "rpi"}}})
    profile = tmp_path / "profile.json"
    profile.write_text(json.dumps({"drover_host_profile": _pi_profile_from_recorded_files()}))

    returncode, output = run_playbook(PLAYBOOK, inventory, "-e", f"@{profile}")

    assert returncode != 0, output
    for fragment in (
        "microk8s cannot run on pi1, nothing was changed on any node",
        "it is a Raspberry Pi whose kernel has the memory cgroup controller off",
        "(/proc/cmdline) lacks cgroup_enable=memory cgroup_memory=1",
        "Add cgroup_enable=memory cgroup_memory=1 to /boot/firmware/cmdline.txt",
        # The preflight really tried this machine's cmdline.txt, and said so.
        "(/boot/firmware/cmdline.txt could not be read)",
        "host_rpi_cgroup_enabled: true",
    ):
        assert fragment in output, f"{fragment!r} missing from:\n{output}"
    # The fed profile stood in for the module: it did not read this machine.
    assert "TASK [drover.platform.microk8s : Read what this machine is" in output, output
    assert "skipping: [pi1]" in output.partition("Read what this machine is")[2].partition("TASK [")[0], output
    _stopped_before_install(output, recap, {"pi1"})


def test_one_node_with_bad_input_stops_every_node(tmp_path: Path, run_playbook: Runner, recap: Recap) -> None:
    # Two names for this machine; only the first node's input is bad (it
    # forms the cluster, so it cannot be a worker). The cluster's input is
    # checked first, so node2 would go on to the host checks if the check
    # play did not stop every node at the first failure.
    nodes = {"node1": {"drover_host_class": "nuc", "microk8s_worker": True}, "node2": {"drover_host_class": "pc"}}
    inventory = _inventory(tmp_path, {"microk8s_nodes": nodes})

    returncode, output = run_playbook(PLAYBOOK, inventory)

    assert returncode != 0, output
    assert "The microk8s cluster's input is not valid, nothing was changed" in output, output
    assert "This host: node1 (a worker)" in output, output
    assert "This host: node2" not in output, output
    assert "microk8s cannot run on" not in output, output
    _stopped_before_install(output, recap, {"node1", "node2"})


@pytest.mark.parametrize(("env", "warned"), [("prod", True), ("preprod", True), ("dev", False)])
def test_minikube_preflight_warns_outside_development_and_goes_on(
    tmp_path: Path, run_preflight_only: Runner, recap: Recap, env: str, warned: bool
) -> None:
    # nobody: a user that exists on every Debian host and is not root.
    hosts = {"devbox": {"minikube_user": "nobody"}}
    inventory = _inventory(tmp_path, {"minikube_hosts": hosts}, env=env)

    returncode, output = run_preflight_only(PLAYBOOK, inventory, PREFLIGHT_TAGS)

    assert (WARNING.format(host="devbox", env=env) in output) is warned, output
    assert set(recap(output)) == {"devbox"}, output
    _nothing_changed_from(MINIKUBE_CHECK_PLAY, output)
    if _docker_answers():
        # A warning, not a stop: the run reaches the role's own play.
        assert returncode == 0, output
        assert MINIKUBE_INSTALL_PLAY in output, output
    else:
        assert returncode != 0, output
        assert "the docker driver needs a running Docker engine" in output, output


def test_minikube_as_root_stops_before_any_change(tmp_path: Path, run_playbook: Runner, recap: Recap) -> None:
    inventory = _inventory(tmp_path, {"minikube_hosts": {"devbox": {"minikube_user": "root"}}}, env="prod")

    returncode, output = run_playbook(PLAYBOOK, inventory)

    assert returncode != 0, output
    assert WARNING.format(host="devbox", env="prod") in output, output
    assert "minikube cannot run on devbox, nothing was changed" in output, output
    assert "minikube_user must name a user other than root" in output, output
    assert MINIKUBE_INSTALL_PLAY not in output, output
    _nothing_changed_from(MINIKUBE_CHECK_PLAY, output)
