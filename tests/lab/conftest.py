# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the project's real playbooks against throwaway inventories of this machine."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = (
    shutil.which("ansible-playbook", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    or "ansible-playbook"
)
RECAP_LINE = re.compile(
    r"^(?P<host>\S+)\s+: ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)

Runner = Callable[..., tuple[int, str]]


def recap(output: str) -> dict[str, dict[str, int]]:
    """The last PLAY RECAP's counts per host."""
    last = output.rpartition("PLAY RECAP")[2]
    return {
        m["host"]: {key: int(m[key]) for key in ("ok", "changed", "unreachable", "failed")}
        for m in RECAP_LINE.finditer(last)
    }


@pytest.fixture(name="recap")
def recap_fixture() -> Callable[[str], dict[str, dict[str, int]]]:
    return recap


@pytest.fixture
def run_playbook(tmp_path: Path) -> Runner:
    """ansible-playbook PLAYBOOK -i INVENTORY --check, every host being this machine.

    Extra vars outrank every other source, so neither the inventory nor a play
    can send these runs anywhere but this machine; check mode keeps it
    untouched should a regression let a run go further than it should.
    """
    local = tmp_path / "local.json"
    local.write_text(json.dumps({"ansible_connection": "local", "ansible_python_interpreter": sys.executable}))
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        "ANSIBLE_NOCOLOR": "1",
    }

    def run(playbook: str, inventory: Path, *args: str) -> tuple[int, str]:
        done = subprocess.run(
            [ANSIBLE_PLAYBOOK, "-i", str(inventory), playbook, "--check", "-e", f"@{local}", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.returncode, done.stdout + done.stderr

    return run


@pytest.fixture
def run_preflight_only(run_playbook: Runner) -> Runner:
    """Run a playbook with every tag but the given preflight tags skipped.

    --tags cannot isolate a preflight: the check plays include their roles
    dynamically and untagged, so selecting tags would skip those very plays.
    Skipping every other tag keeps the untagged connect and check plays and
    lets the roles' own plays run only their preflight phases.
    """

    def run(playbook: str, inventory: Path, preflight_tags: set[str]) -> tuple[int, str]:
        returncode, listing = run_playbook(playbook, inventory, "--list-tags")
        assert returncode == 0, listing
        tags = {tag.strip() for found in re.findall(r"TASK TAGS: \[(.*)\]", listing) for tag in found.split(",")}
        assert tags >= preflight_tags, listing
        skipped = sorted(tags - preflight_tags - {"always", ""})
        return run_playbook(playbook, inventory, "--skip-tags", ",".join(skipped))

    return run
