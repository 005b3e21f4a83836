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
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = "playbooks/host.yml"
ANSIBLE_PLAYBOOK = (
    shutil.which("ansible-playbook", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    or "ansible-playbook"
)

SOUND_HOST = "steady"
BAD_HOST = "faulty"
PROVISION_PLAY = "PLAY [Provision and harden]"
PREFLIGHT_TAGS = {"host_preflight", "hardening_preflight"}

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostBadInputTestKeyNotARealKey0000000000 test@drover"
SOUND_REPO_URL = "https://git.example.invalid/drover/app.git"
BAD_REPO_URL = "https://git.example.invalid/drover/no-dest.git"
EDIT_PATH = "/etc/drover-bad-input.conf"

RECAP_LINE = re.compile(
    r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)

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


def _ansible(tmp_path: Path, inventory: Path, *args: str) -> tuple[int, str]:
    # Extra vars outrank every other source, so neither the inventory nor a play
    # can send these runs anywhere but this machine.
    local = tmp_path / "local.json"
    local.write_text(json.dumps({"ansible_connection": "local", "ansible_python_interpreter": sys.executable}))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        "ANSIBLE_NOCOLOR": "1",
    }
    run = subprocess.run(
        [ANSIBLE_PLAYBOOK, "-i", str(inventory), PLAYBOOK, "--check", "-e", f"@{local}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return run.returncode, run.stdout + run.stderr


def _recap(output: str) -> dict[str, dict[str, int]]:
    recap = output.rpartition("PLAY RECAP")[2]
    return {
        m["host"]: {key: int(m[key]) for key in ("ok", "changed", "unreachable", "failed")}
        for m in RECAP_LINE.finditer(recap)
    }


@pytest.mark.parametrize(("bad_vars", "expected"), CASES.values(), ids=CASES.keys())
def test_bad_input_stops_every_host_in_preflight(tmp_path: Path, bad_vars: dict[str, Any], expected: list[str]) -> None:
    returncode, output = _ansible(tmp_path, _inventory(tmp_path, bad_vars))

    assert returncode != 0, output
    for fragment in expected:
        assert fragment in output, f"{fragment!r} missing from:\n{output}"
    assert PROVISION_PLAY not in output, (
        f"{SOUND_HOST} went on to provisioning although {BAD_HOST}'s input was refused: "
        "the check play in playbooks/host.yml needs any_errors_fatal: true\n" + output
    )
    recap = _recap(output)
    assert set(recap) == {SOUND_HOST, BAD_HOST}, output
    assert recap[BAD_HOST]["failed"] > 0, output
    assert recap[SOUND_HOST]["failed"] == 0, output
    assert [stats["changed"] for stats in recap.values()] == [0, 0], output


def test_sound_input_passes_preflight(tmp_path: Path) -> None:
    # --tags cannot isolate the preflight: the check play includes its roles
    # dynamically and untagged, so selecting tags would skip that very play.
    # Skipping every other tag of the playbook instead keeps the untagged connect
    # and check plays, and lets the provisioning play run only its preflight
    # phases, so the run must succeed outright rather than fail later for want
    # of root, packages or a real sshd on this machine.
    inventory = _inventory(tmp_path, {})
    returncode, listing = _ansible(tmp_path, inventory, "--list-tags")
    assert returncode == 0, listing
    tags = {tag.strip() for found in re.findall(r"TASK TAGS: \[(.*)\]", listing) for tag in found.split(",")}
    assert tags >= PREFLIGHT_TAGS, listing
    skipped = sorted(tags - PREFLIGHT_TAGS - {"always", ""})

    returncode, output = _ansible(tmp_path, inventory, "--skip-tags", ",".join(skipped))

    assert returncode == 0, output
    assert PROVISION_PLAY in output, output
    recap = _recap(output)
    assert set(recap) == {SOUND_HOST, BAD_HOST}, output
    for host, stats in recap.items():
        assert stats == {**stats, "changed": 0, "unreachable": 0, "failed": 0}, f"{host}: {stats}\n{output}"
