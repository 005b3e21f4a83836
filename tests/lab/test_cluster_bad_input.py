# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad engine or swarm input stops playbooks/cluster.yml before any host changes.

The real playbook runs in check mode against two or three names for this
machine over a local connection (see conftest.py). The cases are the issue's:
an even number of managers, workers with no manager, a daemon option of the
wrong type.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

PLAYBOOK = "playbooks/cluster.yml"
INSTALL_PLAY = "PLAY [Install Docker Engine and form the swarm]"
PREFLIGHT_TAGS = {"docker_preflight", "swarm_preflight"}


def _inventory(tmp_path: Path, managers: list[str], workers: list[str], bad_vars: dict[str, Any]) -> Path:
    hosts = {name: {"drover_host_class": "nuc"} for name in managers + workers}
    groups = {
        "swarm_managers": {"hosts": {name: {} for name in managers}},
        "swarm_workers": {"hosts": {name: {} for name in workers}},
    }
    inventory = tmp_path / "hosts.json"
    inventory.write_text(json.dumps({"all": {"hosts": hosts, "vars": bad_vars, "children": groups}}))
    return inventory


CASES: dict[str, tuple[list[str], list[str], dict[str, Any], list[str]]] = {
    "two managers": (["m1", "m2"], ["w1"], {}, ["odd number of managers", "Managers: 2"]),
    "workers without a manager": ([], ["w1", "w2"], {}, ["odd number of managers", "Managers: 0", "w1, w2"]),
    "daemon option of the wrong type": (
        ["m1"],
        ["w1"],
        {"docker_daemon_options": {"mtu": "1450"}},
        ["'mtu'", "number"],
    ),
    "log option that is not a string": (
        ["m1"],
        ["w1"],
        {"docker_daemon_options": {"log-opts": {"max-file": 3}}},
        ["log-opts.max-file", "string"],
    ),
    "unknown availability": (["m1"], ["w1"], {"swarm_availability": "asleep"}, ["asleep", "swarm_availability"]),
}


@pytest.mark.parametrize(("managers", "workers", "bad_vars", "expected"), CASES.values(), ids=CASES.keys())
def test_bad_cluster_input_stops_every_host(
    tmp_path: Path,
    run_playbook: Callable[..., tuple[int, str]],
    recap: Callable[[str], dict[str, dict[str, int]]],
    managers: list[str],
    workers: list[str],
    bad_vars: dict[str, Any],
    expected: list[str],
) -> None:
    returncode, output = run_playbook(PLAYBOOK, _inventory(tmp_path, managers, workers, bad_vars))

    assert returncode != 0, output
    for fragment in expected:
        assert fragment in output, f"{fragment!r} missing from:\n{output}"
    assert INSTALL_PLAY not in output, output
    counts = recap(output)
    assert set(counts) == set(managers + workers), output
    assert all(stats["changed"] == 0 for stats in counts.values()), output


def test_sound_cluster_input_passes_the_check_play(
    tmp_path: Path,
    run_preflight_only: Callable[..., tuple[int, str]],
    recap: Callable[[str], dict[str, dict[str, int]]],
) -> None:
    # The preflight must let sound input through, and the run must succeed
    # outright rather than fail later for want of root or an engine here.
    inventory = _inventory(tmp_path, ["m1", "m2", "m3"], ["w1"], {"docker_daemon_options": {"mtu": 1450}})
    returncode, output = run_preflight_only(PLAYBOOK, inventory, PREFLIGHT_TAGS)

    assert returncode == 0, output
    assert INSTALL_PLAY in output, output
    counts = recap(output)
    assert set(counts) == {"m1", "m2", "m3", "w1"}, output
    assert all(stats["failed"] == 0 and stats["changed"] == 0 for stats in counts.values()), output
