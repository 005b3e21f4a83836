# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shape of the job playbooks, read from the files.

deploy, promote, rollback and apps are each the shared input check, the
shared connect, and one play of the stack role on the hosts connect.yml
names as deployers; no playbook spells out the controller's settings, which
the inventories hold once (see test_controller_settings.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
CONTROLLER_SETTING = re.compile(
    r"^\s*(connection: local|ansible_connection: local|ansible_python_interpreter:|ansible_become: false)", re.M
)
PROMOTE_SOURCE_PLAY = "Read the source fleet from its own inventory"


def _plays(name: str) -> list[dict[str, Any]]:
    return yaml.safe_load((PLAYBOOKS / name).read_text())


@pytest.mark.parametrize(
    ("name", "job"),
    [("deploy.yml", "deploy"), ("promote.yml", "promote"), ("rollback.yml", "rollback"), ("apps.yml", "apps")],
)
def test_a_deploy_job_is_one_check_and_one_deploy_play(name: str, job: str) -> None:
    plays = _plays(name)

    assert plays[0]["ansible.builtin.import_playbook"] == "job_input.yml"
    assert plays[0]["vars"] == {"drover_job": job}
    assert plays[1]["ansible.builtin.import_playbook"] == "connect.yml"
    # Nothing else: no play on localhost before or after (apps.yml's lab
    # base image is loaded by the stack role's build step, its URLs are
    # shown by the role's deploy report). promote.yml alone keeps one
    # controller play, reading a source fleet from its own inventory.
    rest = [play for play in plays[2:] if (name, play.get("name")) != ("promote.yml", PROMOTE_SOURCE_PLAY)]
    assert [play.get("hosts") for play in rest] == ["drover_deployers"], rest
    [deploy] = rest
    [task] = deploy["tasks"]
    include = task["ansible.builtin.include_role"]
    assert include["name"] == "drover.platform.stack"
    # The role takes its target from the host's drover_runtime.
    assert "stack_target" not in (task.get("vars") or {})
    assert deploy["gather_facts"] is False


def test_connect_names_the_deployers() -> None:
    [play] = _plays("connect.yml")
    keys = [task["ansible.builtin.group_by"]["key"] for task in play["tasks"] if "ansible.builtin.group_by" in task]
    assert keys == ["runtime_{{ drover_runtime | default('docker') }}", "kubernetes_deployer", "drover_deployers"]


@pytest.mark.parametrize("path", sorted([ROOT / "site.yml", *PLAYBOOKS.rglob("*.yml")]), ids=lambda p: p.name)
def test_no_playbook_spells_out_the_controller_settings(path: Path) -> None:
    text = path.read_text()
    # backup.yml's fetches from the registry host and the volumes' nodes turn the fleet's become off for one task.
    found = [m.group(1) for m in CONTROLLER_SETTING.finditer(text)]
    if path.name in ("backup.yml", "backup_volumes.yml"):
        found.remove("ansible_become: false")
    # promote.yml's add_host names the source fleet's manager's interpreter: a remote host's, not the controller's.
    if path.name == "promote.yml":
        found.remove("ansible_python_interpreter:")
    assert found == [], f"{path.relative_to(ROOT)}: {found}; they belong in inventories/*/host_vars/localhost.yml"


@pytest.mark.parametrize(
    "path",
    sorted(path for kind in ("tasks", "handlers") for path in ROOT.glob(f"roles/*/{kind}/**/*.yml")),
    ids=lambda p: str(p.relative_to(ROOT / "roles")),
)
def test_no_role_spells_out_the_controller_settings(path: Path) -> None:
    """A task delegated to localhost takes the controller's settings from localhost's own variables."""
    found = [m.group(1) for m in CONTROLLER_SETTING.finditer(path.read_text())]
    assert found == [], f"{path.relative_to(ROOT)}: {found}; they belong in inventories/*/host_vars/localhost.yml"


def test_the_kubernetes_client_is_named_once_for_the_stack_roles_kubernetes_steps() -> None:
    """kubeconfig and context come from the module_defaults of main.yml's release block, not from each task."""
    tasks = ROOT / "roles" / "stack" / "tasks"
    [release] = [task for task in yaml.safe_load((tasks / "main.yml").read_text()) if "block" in task]
    client = {"kubeconfig": "{{ stack_kubeconfig | default(omit, true) }}",
              "context": "{{ stack_kube_context | default(omit, true) }}"}
    assert release["module_defaults"] == {"group/kubernetes.core.k8s": client, "group/kubernetes.core.helm": client}
    steps = sorted((tasks / "kubernetes").glob("*.yml"))
    assert steps, tasks / "kubernetes"
    spelled = [f"{path.name}: {task['name']}" for path in steps for task in yaml.safe_load(path.read_text())
               for module, args in task.items() if module.startswith("kubernetes.core.")
               if {"kubeconfig", "context"} & set(args)]
    assert spelled == [], spelled
