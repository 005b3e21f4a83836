# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad host input stops playbooks/host.yml in preflight, on every host, before any host changes.

Runs the real playbook with ansible-playbook against a throwaway inventory of
two hosts that are both this machine over a local connection. Every run is in
check mode: if a regression ever let bad input through, this machine would
still be left alone. The bad value sits on one host only, so the other host
shows whether the check play stops everyone or just the host at fault.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

PLAYBOOK = "playbooks/host.yml"

SOUND_HOST = "steady"
BAD_HOST = "faulty"
PROVISION_PLAY = "PLAY [Provision and harden]"
PREFLIGHT_TAGS = {"host_preflight", "hardening_preflight"}

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostBadInputTestKeyNotARealKey0000000000 test@drover"
SOUND_REPO_URL = "https://git.example.invalid/drover/app.git"
BAD_REPO_URL = "https://git.example.invalid/drover/no-dest.git"
EDIT_PATH = "/etc/drover-bad-input.conf"

CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "unknown class": ({"drover_host_class": "toaster"}, ["toaster", "class"]),
    "user with no key": ({"host_deploy_user": "courier", "host_deploy_user_keys": []}, ["courier", "key"]),
    "user with a blank key only": (
        {"host_deploy_user": "courier", "host_deploy_user_keys": ["  "]},
        ["courier", "key"],
    ),
    "line edit without a line": ({"host_line_edits": [{"path": EDIT_PATH, "regexp": "^Port "}]}, [EDIT_PATH, "line"]),
    "line edit with a broken regexp": (
        {"host_line_edits": [{"path": EDIT_PATH, "line": "Port 22", "regexp": "^(Port"}]},
        [EDIT_PATH, "^(Port"],
    ),
    "repo without dest": ({"host_repos": [{"repo": BAD_REPO_URL, "version": "main"}]}, [BAD_REPO_URL, "dest"]),
    "unknown firewall service": ({"hardening_firewall_services": ["ssh", "telnet"]}, ["telnet"]),
}


def _inventory(tmp_path: Path, bad_vars: dict[str, Any]) -> Path:
    """Two names for this machine, with a sound baseline; bad_vars go to BAD_HOST alone."""
    sound = {
        "host_deploy_user": "deploy",
        "host_deploy_user_keys": [KEY],
        "host_folders": [{"path": str(tmp_path / "data")}],
        "host_line_edits": [{"path": str(tmp_path / "app.conf"), "line": "answer = 42", "create": True}],
        "host_repos": [{"repo": SOUND_REPO_URL, "dest": str(tmp_path / "app")}],
    }
    hosts = {SOUND_HOST: {"drover_host_class": "nuc"}, BAD_HOST: {"drover_host_class": "pc", **bad_vars}}
    inventory = tmp_path / "hosts.json"
    inventory.write_text(json.dumps({"all": {"hosts": hosts, "vars": sound}}))
    return inventory


@pytest.mark.parametrize(("bad_vars", "expected"), CASES.values(), ids=CASES.keys())
def test_bad_input_stops_every_host_in_preflight(
    tmp_path: Path,
    run_playbook: Callable[..., tuple[int, str]],
    recap: Callable[[str], dict[str, dict[str, int]]],
    bad_vars: dict[str, Any],
    expected: list[str],
) -> None:
    returncode, output = run_playbook(PLAYBOOK, _inventory(tmp_path, bad_vars))

    assert returncode != 0, output
    for fragment in expected:
        assert fragment in output, f"{fragment!r} missing from:\n{output}"
    assert PROVISION_PLAY not in output, (
        f"{SOUND_HOST} went on to provisioning although {BAD_HOST}'s input was refused: "
        "the check play in playbooks/host.yml needs any_errors_fatal: true\n" + output
    )
    counts = recap(output)
    assert set(counts) == {SOUND_HOST, BAD_HOST}, output
    assert counts[BAD_HOST]["failed"] > 0, output
    assert counts[SOUND_HOST]["failed"] == 0, output
    assert [stats["changed"] for stats in counts.values()] == [0, 0], output


def test_sound_input_passes_preflight(
    tmp_path: Path,
    run_preflight_only: Callable[..., tuple[int, str]],
    recap: Callable[[str], dict[str, dict[str, int]]],
) -> None:
    # The preflight must let sound input through, and the run must succeed
    # outright rather than fail later for want of root or an engine here.
    inventory = _inventory(tmp_path, {})
    returncode, output = run_preflight_only(PLAYBOOK, inventory, PREFLIGHT_TAGS)

    assert returncode == 0, output
    assert PROVISION_PLAY in output, output
    counts = recap(output)
    assert set(counts) == {SOUND_HOST, BAD_HOST}, output
    for host, stats in counts.items():
        assert stats == {**stats, "changed": 0, "unreachable": 0, "failed": 0}, f"{host}: {stats}\n{output}"
