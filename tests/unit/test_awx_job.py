# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tools/awx-job gives a job only what AWX's credentials would: a checkout, a key through the agent, files."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOADER = importlib.machinery.SourceFileLoader("awx_job", str(ROOT / "tools" / "awx-job"))
SPEC = importlib.util.spec_from_loader("awx_job", LOADER)
assert SPEC
awx_job = importlib.util.module_from_spec(SPEC)
LOADER.exec_module(awx_job)


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


def test_the_project_copy_holds_what_a_checkout_has(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "playbooks").mkdir(parents=True)
    (project / "playbooks" / "deploy.yml").write_text("---\n")
    (project / ".gitignore").write_text(".lab/\n")
    (project / ".lab" / "pki").mkdir(parents=True)
    (project / ".lab" / "pki" / "ca.crt").write_text("local state\n")
    (project / "new.yml").write_text("not committed yet\n")
    (project / "collections").mkdir()
    (project / "collections" / "platform").symlink_to("..")
    git(project, "init", "-q")
    git(project, "add", "playbooks", ".gitignore", "collections")

    copy = awx_job.copy_project(project, tmp_path / "copy")

    assert sorted(str(path.relative_to(copy)) for path in copy.rglob("*") if not path.is_dir() or path.is_symlink()) \
        == [".gitignore", "collections/platform", "new.yml", "playbooks/deploy.yml"]
    assert (copy / "collections" / "platform").is_symlink()
    assert not (copy / ".lab").exists()


def test_the_machine_key_replaces_the_inventorys_key_file() -> None:
    exported: dict[str, Any] = {"all": {"vars": {"ansible_ssh_private_key_file": "/k", "x": 1}, "children": {
        "lab": {"hosts": {"nuc1": {"ansible_ssh_private_key_file": "/k2", "ansible_host": "198.18.0.11"}}}}}}
    awx_job.drop_variable(exported, "ansible_ssh_private_key_file")
    assert exported == {"all": {"vars": {"x": 1}, "children": {"lab": {"hosts": {"nuc1": {
        "ansible_host": "198.18.0.11"}}}}}}


def test_a_credential_file_is_a_private_copy_named_by_its_variable(tmp_path: Path) -> None:
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    private = tmp_path / "private"
    private.mkdir()
    injected = awx_job.credential_files([f"DROVER_FLEET_CA={ca}"], private)
    copy = Path(injected["DROVER_FLEET_CA"])
    assert copy.parent == private / "credentials" and copy.read_text() == ca.read_text()
    assert copy.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(("pair", "message"), [("DROVER_FLEET_CA", "expected VAR=FILE"),
                                               ("DROVER_FLEET_CA=/nonexistent", "does not exist")])
def test_a_bad_credential_file_is_refused(tmp_path: Path, pair: str, message: str) -> None:
    with pytest.raises(awx_job.JobError, match=message):
        awx_job.credential_files([pair], tmp_path)
