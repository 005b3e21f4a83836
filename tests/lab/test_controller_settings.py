# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The controller's settings, set once per inventory, and the plays on localhost without them.

The plays that run on localhost, and the tasks delegated there, carry no
connection, interpreter or become settings of their own: each inventory's
host_vars/localhost.yml says them once, and only the fleet's group becomes
root. Whether a task became another user is seen for real: every run here
asks for become by su to nobody, so a task that becomes answers `nobody` to
`id -un` and one that does not answers with this machine's own user.
Inventories without host_vars/localhost.yml (the throwaway ones here,
Molecule's, an AWX job's, whose localhost is implicit) must work too.
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
INVENTORIES = ["dev", "preprod", "prod", "lab"]
# Become by su to nobody (root may su without a password; nobody's own
# shell refuses logins, hence -s). The raw module needs no Python as nobody.
BECOME_NOBODY = {
    "ansible_become_method": "ansible.builtin.su",
    "ansible_become_user": "nobody",
    "ansible_become_flags": "-s /bin/sh",
}
WHO = """---
- name: Ask on the controller who runs its tasks
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run a module with the controller's Python
      ansible.builtin.ping:
    - name: Ask who runs the task
      ansible.builtin.raw: id -un
      changed_when: false
      register: who
    - name: Say it
      ansible.builtin.debug:
        msg: "controller={{ who.stdout | trim }}"

- name: Ask on the first host of the fleet, and on the controller for it
  hosts: "{{ groups['all'][0] }}"
  gather_facts: false
  vars:
    # The fleet host is this machine too; nothing leaves it.
    ansible_connection: local
  tasks:
    - name: Ask who runs the task
      ansible.builtin.raw: id -un
      changed_when: false
      register: who
    - name: Ask who runs a task delegated to the controller
      ansible.builtin.raw: id -un
      changed_when: false
      register: delegated
      delegate_to: localhost
    - name: Say it
      ansible.builtin.debug:
        msg: "fleet={{ who.stdout | trim }} delegated={{ delegated.stdout | trim }}"
"""

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="su to nobody without a password needs root")


def _command(argv: list[str]) -> tuple[int, str, str]:
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "PATH": path}
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout, done.stderr


def _run(playbook: Path | str, inventory: Path, *args: str, extra: dict[str, object] | None = None) -> tuple[int, str]:
    variables = json.dumps({**BECOME_NOBODY, **(extra or {})})
    returncode, stdout, stderr = _command(
        [ANSIBLE_PLAYBOOK, "-i", str(inventory), str(playbook), "-e", variables, *args]
    )
    return returncode, stdout + stderr


@pytest.mark.parametrize("name", INVENTORIES)
def test_the_controller_works_as_its_user_and_the_fleet_becomes_root(tmp_path: Path, name: str) -> None:
    playbook = tmp_path / "who.yml"
    playbook.write_text(WHO)
    me = getpass.getuser()

    returncode, output = _run(playbook, ROOT / "inventories" / name)

    assert returncode == 0, output
    assert f"controller={me}" in output, output
    assert f"delegated={me}" in output, output
    assert "fleet=nobody" in output, output


def test_host_vars_localhost_is_the_one_place() -> None:
    """Each inventory says the controller's settings once, the same way."""
    settings = {
        name: yaml.safe_load((ROOT / "inventories" / name / "host_vars" / "localhost.yml").read_text())
        for name in INVENTORIES
    }
    expected = {
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "ansible_become": False,
    }
    assert settings == dict.fromkeys(INVENTORIES, expected)
    for name in INVENTORIES:
        group_vars = ROOT / "inventories" / name / "group_vars" / "all"
        for path in group_vars.glob("*.yml"):
            assert "ansible_become" not in (yaml.safe_load(path.read_text()) or {}), path


def _throwaway(tmp_path: Path) -> Path:
    """A fleet inventory of the lab's shape with no host_vars at all, its hosts becoming root."""
    inventory = tmp_path / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "children": {
                        "lab": {"hosts": {"m1": {"ansible_host": "198.18.0.250"}}, "vars": {"ansible_become": True}},
                        "swarm_managers": {"hosts": {"m1": {}}},
                    }
                }
            }
        )
    )
    (inventory / "group_vars" / "all.yml").write_text(
        yaml.safe_dump({"stack_environments": {"dev": {"overlay": {}, "build": True}}})
    )
    return inventory


def test_without_host_vars_the_implicit_localhost_works_as_its_user(tmp_path: Path) -> None:
    playbook = tmp_path / "who.yml"
    playbook.write_text(WHO)

    returncode, output = _run(playbook, _throwaway(tmp_path))

    assert returncode == 0, output
    assert f"controller={getpass.getuser()}" in output, output
    assert f"delegated={getpass.getuser()}" in output, output
    assert "fleet=nobody" in output, output


def test_job_input_checks_a_job_on_the_implicit_localhost(tmp_path: Path) -> None:
    job = {"drover_job": "deploy", "env": "dev", "version": "1.4.2"}
    returncode, output = _run("playbooks/job_input.yml", _throwaway(tmp_path), extra=job)

    assert returncode == 0, output
    assert "deploy 1.4.2 to dev" in output, output


def test_deploy_with_bad_input_stops_on_the_implicit_localhost(tmp_path: Path) -> None:
    returncode, output = _run("playbooks/deploy.yml", _throwaway(tmp_path), "--check", extra={"version": "no good"})

    assert returncode != 0, output
    assert "is not a docker tag" in output, output
    # It stopped on the controller: no play of the fleet started.
    assert "PLAY [Find a way in" not in output, output


def test_deploy_without_the_inventory_s_vault_stops_on_the_controller_naming_what_is_missing(tmp_path: Path) -> None:
    inventory = _throwaway(tmp_path)
    vault_dir = inventory / "group_vars" / "all"
    vault_dir.mkdir()
    (inventory / "group_vars" / "all.yml").rename(vault_dir / "main.yml")
    (vault_dir / "vault.yml.example").write_text("vault_registry_password: replace-me\nvault_api_token: replace-me\n")
    (vault_dir / "vault.yml").write_text("vault_registry_password: lab\n")

    returncode, output = _run("playbooks/deploy.yml", inventory, "--check", extra={"env": "dev"})

    assert returncode != 0, output
    assert "vault_api_token is not defined: this inventory's secrets are not all there" in output, output
    assert "vault_registry_password" not in output.split("is not defined")[0], output
    assert "Traceback" not in output, output
    assert "PLAY [Find a way in" not in output, output

    (vault_dir / "vault.yml").write_text("vault_registry_password: lab\nvault_api_token: lab\n")
    returncode, output = _run("playbooks/job_input.yml", inventory, extra={"drover_job": "deploy", "env": "dev"})
    assert returncode == 0, output


def test_job_input_without_a_job_says_which_to_name(tmp_path: Path) -> None:
    returncode, output = _run("playbooks/job_input.yml", _throwaway(tmp_path))

    assert returncode != 0, output
    assert "-e drover_job=deploy" in output, output
    assert "Traceback" not in output, output


def test_an_awx_job_runs_its_controller_tasks_as_its_user() -> None:
    """tools/awx-job imports the inventory as AWX's sync does: hosts and groups, no host_vars/localhost.yml.

    smoke.yml runs a module on the controller (the request through the edge).
    As nobody it could not even start (this project's Python is not theirs to
    run); as the job's user it runs and fails only because no edge answers,
    or passes if one does.
    """
    # smoke_ca_file empty: the system's CAs alone, so that no lab CA need exist here.
    answers = [f"--text={key}={value}" for key, value in {**BECOME_NOBODY, "env": "dev", "smoke_ca_file": ""}.items()]
    returncode, stdout, stderr = _command(
        [
            sys.executable,
            str(ROOT / "tools" / "awx-job"),
            "playbooks/smoke.yml",
            "--inventory",
            "inventories/lab",
            *answers,
        ]
    )
    output = stdout + stderr

    assert "TASK [Ask each routed service through the edge]" in output, output
    assert "Module result deserialization failed" not in output, output
    assert "Permission denied" not in output, output
    assert json.loads(stdout.splitlines()[-1])["hosts"].keys() == {"localhost"}, output
