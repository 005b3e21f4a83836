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
