# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A bad lab host list stops the lab playbook before anything is created.

Runs the real playbook against the real Docker engine, on a network name of
its own, and checks the engine afterwards: no container, volume or network
of that lab may exist.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NETWORK = "drover-lab-badinput"

GOOD = [
    {"name": "alpha", "address": "198.18.0.31", "class": "nuc"},
    {"name": "beta", "address": "198.18.0.32", "class": "rpi"},
]


def _with(position: int, **changes: str) -> list[dict[str, str]]:
    hosts = [dict(h) for h in GOOD]
    hosts[position].update(changes)
    return hosts


CASES = {
    "unknown class": (_with(1, **{"class": "toaster"}), ["toaster", "class"]),
    "duplicate name": (_with(1, name="alpha"), ["alpha", "2 times"]),
    "duplicate address": (_with(1, address="198.18.0.31"), ["198.18.0.31", "2 times"]),
    "address outside the network": (_with(0, address="10.1.2.3"), ["alpha", "10.1.2.3", "outside"]),
    "gateway address": (_with(0, address="198.18.0.1"), ["alpha", "198.18.0.1", "reserved"]),
}


def _docker(*args: str) -> list[str]:
    out = subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line]


@pytest.mark.parametrize(("hosts", "expected"), CASES.values(), ids=CASES.keys())
def test_bad_host_list_fails_before_anything_is_created(
    tmp_path: Path, hosts: list[dict[str, str]], expected: list[str]
) -> None:
    extra = tmp_path / "vars.json"
    extra.write_text(
        json.dumps({"lab_hosts": hosts, "lab_network_name": NETWORK, "lab_inventory_file": str(tmp_path / "hosts.yml")})
    )
    containers_before = _docker("ps", "-aq")

    run = subprocess.run(
        ["ansible-playbook", "playbooks/lab.yml", "-e", f"@{extra}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    output = run.stdout + run.stderr
    assert run.returncode != 0, output
    for fragment in expected:
        assert fragment in output, f"{fragment!r} missing from:\n{output}"
    assert _docker("ps", "-aq") == containers_before
    assert _docker("network", "ls", "-q", "--filter", f"name=^{NETWORK}$") == []
    assert _docker("volume", "ls", "-q", "--filter", f"name={NETWORK}-") == []
    assert not (tmp_path / "hosts.yml").exists()
