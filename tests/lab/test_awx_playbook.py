# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/awx.yml with no AWX to talk to: a clear connection message, nothing else.

No AWX runs on the project's machines. The real playbook runs in check mode
against an address where nothing listens (port 9 of this machine) and must
stop at its first task, saying which controller it could not reach and why,
before any awx.awx module runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_awx_yml_without_awx_says_it_cannot_reach_it() -> None:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "playbooks/awx.yml",
            "--check",
            "-e",
            "controller_host=https://127.0.0.1:9",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "cannot reach AWX at https://127.0.0.1:9" in output, output
    assert "Connection refused" in output, output
    assert "awx.awx." not in output.split("cannot reach AWX", 1)[0], output
