# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every playbook of the collection answers to drover.platform.<name> once installed.

The collection is built into a tarball as a user would get it, installed into
a folder of its own, and each playbook under playbooks/ is syntax-checked by
its FQCN with only that folder (and the collections the ansible package
bundles) to resolve names from: no ansible.cfg, no link back to this
repository. A folder that shadows a playbook (playbooks/awx/ beside awx.yml)
or a name ansible-core does not take as a resource (runtime-k8s) fails here.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    return shutil.which(name, path=os.pathsep.join([str(BIN), os.environ["PATH"]])) or name


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    return done.returncode, done.stdout + done.stderr


def _holds_plays(document: object) -> bool:
    """A list of plays (hosts:, or an imported playbook), not of tasks (playbooks/tasks/)."""
    return isinstance(document, list) and bool(document) and all(
        isinstance(item, dict) and ("hosts" in item or "import_playbook" in item
                                    or "ansible.builtin.import_playbook" in item)
        for item in document)


def _playbook_names() -> list[str]:
    """drover.platform.<subdirs>.<name> for each YAML file under playbooks/ that holds plays.

    Vars files kept beside the playbooks (a mapping, not a list of plays) and
    the playbooks' task files (playbooks/tasks/: a list of tasks) are not
    playbooks and are left out, and so are playbooks galaxy.yml keeps out
    of the built collection (the lab's).
    """
    ignored = yaml.safe_load((ROOT / "galaxy.yml").read_text()).get("build_ignore") or []
    names = []
    for path in sorted((ROOT / "playbooks").rglob("*.y*ml")):
        if not _holds_plays(yaml.safe_load(path.read_text())):
            continue
        if any(fnmatch.fnmatch(str(path.relative_to(ROOT)), pattern) for pattern in ignored):
            continue
        parts = path.relative_to(ROOT / "playbooks").with_suffix("").parts
        names.append(".".join(("drover", "platform", *parts)))
    return names


PLAYBOOKS = _playbook_names()
FLEET = {"swarm_managers": "m1", "swarm_workers": "w1"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The built collection installed into a temporary path, and the env that sees only it."""
    base = tmp_path_factory.mktemp("fqcn")
    build, collections, work = base / "build", base / "collections", base / "work"
    for folder in (build, collections, work):
        folder.mkdir()
    # An empty configuration file: the project's ansible.cfg would put the
    # repository itself on the collections path.
    config = base / "ansible.cfg"
    config.write_text("[defaults]\n")
    # The groups the playbooks' host patterns name, as a fleet inventory has them.
    (work / "hosts.yml").write_text(
        yaml.safe_dump({"all": {"children": {group: {"hosts": {host: {}}} for group, host in FLEET.items()}}})
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ANSIBLE_") or key in {"ANSIBLE_LOCAL_TEMP", "ANSIBLE_REMOTE_TEMP"}
    }
    env.update(
        ANSIBLE_CONFIG=str(config),
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_HOME=str(base / "home"),
    )
    returncode, output = _run(
        [_tool("ansible-galaxy"), "collection", "build", str(ROOT), "--output-path", str(build)], work, env
    )
    assert returncode == 0, output
    (tarball,) = build.glob("drover-platform-*.tar.gz")
    # --no-deps: the dependencies are the ones the ansible package bundles;
    # Galaxy is not asked.
    returncode, output = _run(
        [_tool("ansible-galaxy"), "collection", "install", str(tarball), "-p", str(collections), "--no-deps"], work, env
    )
    assert returncode == 0, output
    assert (collections / "ansible_collections" / "drover" / "platform" / "MANIFEST.json").is_file(), output
    return work, env


def test_the_playbooks_are_found() -> None:
    assert "drover.platform.site" in PLAYBOOKS
    assert len(PLAYBOOKS) >= 10, PLAYBOOKS
    # A playbook's task file is no playbook.
    assert "drover.platform.backup" in PLAYBOOKS and "drover.platform.tasks.backup_repository" not in PLAYBOOKS


def test_the_playbooks_task_files_are_in_the_built_collection(installed: tuple[Path, dict[str, str]]) -> None:
    _work, env = installed
    installed_tasks = Path(env["ANSIBLE_COLLECTIONS_PATH"]) / "ansible_collections/drover/platform/playbooks/tasks"
    task_files = sorted((ROOT / "playbooks" / "tasks").glob("*.yml"))
    assert task_files
    for task_file in task_files:
        assert (installed_tasks / task_file.name).is_file(), installed_tasks


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_playbook_runs_by_fqcn(installed: tuple[Path, dict[str, str]], playbook: str) -> None:
    work, env = installed
    returncode, output = _run([_tool("ansible-playbook"), playbook, "--syntax-check", "-i", "hosts.yml"], work, env)
    assert returncode == 0, output
    # The run read the installed copy, not this repository.
    assert str(ROOT) not in output, output
