# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The built collection holds exactly what an installed collection uses.

ansible-galaxy collection build packs the repository with galaxy.yml's
build_ignore; the tarball must hold the collection's plugins, roles,
playbooks, docs and the EE's lists, none of the repository's own tooling
(lab, CI, Makefile, inventories, tests), and every file a shipped playbook
or role names by path (playbook_dir/.., role_path/../..) must be in it.
A shipped playbook may call a role that is not shipped only where the call
is gated on the inventory's lab group.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
from pathlib import Path, PurePosixPath

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# Top-level entries of the tarball, and nothing else.
SHIPPED = {"FILES.json", "MANIFEST.json", "README.md", "apps", "bindep.txt", "changelogs", "docs", "meta",
           "playbooks", "plugins", "roles", "tests"}
# Never in it: the repository's tooling and the lab.
NEVER = ("Makefile", "mk/", "Jenkinsfile", "inventories/", "tools/", "molecule/", "roles/lab/", "playbooks/lab.yml",
         "tests/unit/", "tests/e2e/", "tests/lab/", "ansible.cfg", "execution-environment.yml", "site.yml",
         "requirements.txt", ".venv/", ".lab/", "playbooks/awx_config/vault.yml")
# Files named relative to a playbook's or role's folder.
PATH_REFERENCE = re.compile(r"""(?:playbook_dir\s*}}|role_path\s*~\s*')(?P<path>/\.\.(?:/[\w.-]+)+)""")
ROLE_CALL = re.compile(r"^(?P<indent>\s*)(?:name|role):\s*drover\.platform\.(?P<role>\w+)\s*$", re.MULTILINE)
LAB_GATE = re.compile(r"when:[^\n]*(?:\n\s+-[^\n]*)*groups\['lab'\]")


def never(name: str, entry: str) -> bool:
    """A folder entry (ending in /) covers what is in it; a file entry that file and its variants (Jenkinsfile.x)."""
    return name.startswith(entry) if entry.endswith("/") else name == entry or name.startswith(entry + ".") and \
        not name.endswith(".example")


@pytest.fixture(scope="module")
def members(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([str(Path(sys.executable).parent / "ansible-galaxy"), "collection", "build",
                           "--output-path", str(out), str(ROOT)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    (tarball,) = out.glob("drover-platform-*.tar.gz")
    with tarfile.open(tarball) as archive:
        return {member.name for member in archive.getmembers() if member.isfile()}


def test_only_what_an_installed_collection_uses(members: set[str]) -> None:
    assert {name.split("/")[0] for name in members} == SHIPPED
    assert sorted(name for name in members if any(never(name, entry) for entry in NEVER)) == []
    assert {name for name in members if name.startswith("tests/")} == {"tests/load/https_load.py"}


def test_the_collection_parts_are_all_there(members: set[str]) -> None:
    for folder in ("plugins/modules", "plugins/module_utils", "plugins/filter", "plugins/action", "roles/stack/tasks",
                   "playbooks/awx_config", "apps/demo"):
        tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", folder], capture_output=True, text=True,
                                 check=True).stdout.split()
        assert tracked, folder
        assert sorted(set(tracked) - members - {"plugins/filter/lab_host_problems.py"}) == [], folder


def references(path: str, text: str) -> list[str]:
    """Project files a playbook or role file names relative to its own folder, as tarball paths."""
    folder = PurePosixPath(path).parent
    found = []
    for match in PATH_REFERENCE.finditer(text):
        base = folder if "playbook_dir" in match[0] else PurePosixPath(*PurePosixPath(path).parts[:2])
        parts: list[str] = list(base.parts)
        for part in match["path"].strip("/").split("/"):
            if part == "..":
                parts.pop()
            else:
                parts.append(part)
        found.append("/".join(parts))
    return found


def ungated_role_calls(text: str) -> set[str]:
    """Roles a playbook calls by name, but for calls whose task is gated on the lab group."""
    calls = set()
    for match in ROLE_CALL.finditer(text):
        task = text[match.end():].split("\n    - name:", 1)[0].split("\n- name:", 1)[0]
        if not LAB_GATE.search(task):
            calls.add(match["role"])
    return calls


def test_what_shipped_files_name_is_shipped(members: set[str]) -> None:
    missing = []
    roles = {name.split("/")[1] for name in members if name.startswith("roles/")}
    for name in sorted(members):
        if name.endswith((".yml", ".yaml")) and name.startswith(("playbooks/", "roles/")):
            text = (ROOT / name).read_text()
            missing += [f"{name} names {ref}" for ref in references(name, text) if ref not in members]
            missing += [f"{name} calls drover.platform.{role}" for role in ungated_role_calls(text) - roles]
    assert missing == []


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        ("playbooks/apps.yml", '- "{{ playbook_dir }}/../tests/load/https_load.py"', ["tests/load/https_load.py"]),
        ("roles/stack/defaults/main.yml", "x: \"{{ (role_path ~ '/../../apps/demo/compose.yml') }}\"",
         ["apps/demo/compose.yml"]),
    ],
)
def test_references_are_read_as_tarball_paths(path: str, text: str, expected: list[str]) -> None:
    assert references(path, text) == expected


def test_a_lab_gated_role_call_is_allowed_and_another_is_not() -> None:
    gated = "    - name: Load\n      ansible.builtin.include_role:\n        name: drover.platform.lab\n" \
            "      when:\n        - groups['lab'] | default([]) | length > 0\n"
    plain = "    - name: Load\n      ansible.builtin.include_role:\n        name: drover.platform.lab\n"
    assert ungated_role_calls(gated) == set()
    assert ungated_role_calls(plain) == {"lab"}


def test_build_ignore_is_a_list_of_patterns() -> None:
    ignored = yaml.safe_load((ROOT / "galaxy.yml").read_text())["build_ignore"]
    assert all(isinstance(pattern, str) for pattern in ignored) and "roles/lab" in ignored
