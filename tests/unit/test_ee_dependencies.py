# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution environment carries what the collection's code imports.

Every Python file under plugins/ (and the scripts jobs run, such as the load
loop apps.yml and smoke.yml call) is read with ast; each third-party
top-level import is mapped to the distribution that provides it and must be
listed in meta/ee-requirements.txt, the list ansible-builder installs for
this collection. execution-environment.yml must be schema 3 and name files
that exist, with ansible-core pinned as the controller's requirements.txt
pins it and the collections pinned as the tested ansible package bundles them.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import re
import sys
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
EE_FILE = ROOT / "execution-environment.yml"
COLLECTION_EE = ROOT / "meta" / "execution-environment.yml"
# Scripts outside plugins/ that jobs run on the execution node.
JOB_SCRIPTS = [ROOT / "tests" / "load" / "https_load.py"]
# Imports that ansible-core itself is, or that load the collection's own code.
PROVIDED = {"ansible", "ansible_collections", "__future__"}
# Import names whose distribution is named otherwise (or may not be installed
# here to be asked); anything else is looked up in the installed packages.
DISTRIBUTION_OF = {
    "yaml": "PyYAML",
    "jinja2": "Jinja2",
    "docker": "docker",
    "kubernetes": "kubernetes",
    "requests": "requests",
    "urllib3": "urllib3",
    "cryptography": "cryptography",
    "OpenSSL": "pyOpenSSL",
    "jsonpatch": "jsonpatch",
    "dateutil": "python-dateutil",
    "passlib": "passlib",
    "bcrypt": "bcrypt",
    "paramiko": "paramiko",
    "packaging": "packaging",
    "jmespath": "jmespath",
    "netaddr": "netaddr",
}


def code_files() -> list[Path]:
    """The Python files whose imports the execution environment must satisfy."""
    return sorted((ROOT / "plugins").rglob("*.py")) + JOB_SCRIPTS


def third_party_imports(path: Path) -> dict[str, int]:
    """Top-level names of the absolute imports in PATH that are neither stdlib nor Ansible, with a line each.

    Imports inside functions and try blocks count: an optional import is
    still one the execution environment should be able to satisfy.
    """
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in sys.stdlib_module_names or top in PROVIDED:
                continue
            found.setdefault(top, node.lineno)
    return found


def distribution_of(import_name: str) -> str | None:
    if import_name in DISTRIBUTION_OF:
        return DISTRIBUTION_OF[import_name]
    installed = metadata.packages_distributions().get(import_name)
    return installed[0] if installed else None


def listed_requirements(path: Path) -> set[str]:
    """Canonical distribution names in a pip requirements file (-r followed)."""
    names: set[str] = set()
    for raw in path.read_text().splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        if line.startswith(("-r ", "--requirement ")):
            names |= listed_requirements(path.parent / line.split(None, 1)[1])
            continue
        names.add(canonicalize_name(Requirement(line).name))
    return names


def unlisted_imports(files: Iterable[Path], requirements: set[str]) -> list[str]:
    """One line per third-party import that no listed distribution provides."""
    problems = []
    for path in files:
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        for name, line in sorted(third_party_imports(path).items()):
            distribution = distribution_of(name)
            if distribution is None:
                problems.append(f"{shown}:{line}: import {name}: no known distribution (add it to DISTRIBUTION_OF)")
            elif canonicalize_name(distribution) not in requirements:
                problems.append(f"{shown}:{line}: import {name}: {distribution} is not in meta/ee-requirements.txt")
    return problems


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _ee_python_file() -> Path:
    return ROOT / _load(COLLECTION_EE)["dependencies"]["python"]


def test_every_third_party_import_is_in_the_ee_requirements() -> None:
    files = code_files()
    assert len(files) > 10, files
    assert unlisted_imports(files, listed_requirements(_ee_python_file())) == []


def test_a_planted_unlisted_import_is_caught(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text(
        "from __future__ import annotations\n"
        "import json\n"
        "import yaml\n"
        "from ansible.module_utils.basic import AnsibleModule\n"
        "from . import sibling\n"
        "def run() -> None:\n"
        "    try:\n"
        "        import kubernetes.client\n"
        "    except ImportError:\n"
        "        pass\n"
        "    from docker import errors\n"
    )

    problems = unlisted_imports([planted], listed_requirements(_ee_python_file()))

    assert problems == [
        f"{planted}:11: import docker: docker is not in meta/ee-requirements.txt",
        f"{planted}:8: import kubernetes: kubernetes is not in meta/ee-requirements.txt",
    ]
    # Listing them is what makes them pass.
    assert unlisted_imports([planted], {"pyyaml", "docker", "kubernetes"}) == []


def test_an_import_of_unknown_origin_is_reported(tmp_path: Path) -> None:
    planted = tmp_path / "unknown.py"
    planted.write_text("import surely_no_such_module_here\n")

    assert unlisted_imports([planted], set()) == [
        f"{planted}:1: import surely_no_such_module_here: no known distribution (add it to DISTRIBUTION_OF)"
    ]


def test_requirement_files_follow_includes(tmp_path: Path) -> None:
    (tmp_path / "more.txt").write_text("docker>=7  # comment\n")
    main = tmp_path / "main.txt"
    main.write_text("# heading\nPyYAML>=6.0,<7\n-r more.txt\n\nJinja2[i18n]==3.1.6\n")

    assert listed_requirements(main) == {"pyyaml", "docker", "jinja2"}


def test_the_ee_definition_is_schema_3_and_names_files_that_exist() -> None:
    ee = _load(EE_FILE)

    assert ee["version"] == 3
    assert ee["images"]["base_image"]["name"].count(":") >= 1, "pin the base image by tag"
    dependencies = ee["dependencies"]
    for key in ("python", "system"):
        assert (EE_FILE.parent / dependencies[key]).is_file(), dependencies[key]
    # The collection's own metadata names the same files, relative to its root.
    collection = _load(COLLECTION_EE)["dependencies"]
    assert {key: collection[key] for key in ("python", "system")} == {
        key: dependencies[key] for key in ("python", "system")
    }
    # The file ansible-builder copies in is the one the galaxy step installs.
    [build_file] = ee["additional_build_files"]
    local = [c for c in dependencies["galaxy"]["collections"] if c.get("type") == "file"]
    assert [c["name"] for c in local] == [f"{build_file['dest']}/{Path(build_file['src']).name}"]


def test_ansible_core_is_pinned_as_the_controller_pins_it() -> None:
    ee = _load(EE_FILE)
    controller = {
        canonicalize_name(Requirement(line).name): Requirement(line)
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }

    assert Requirement(ee["dependencies"]["ansible_core"]["package_pip"]) == controller["ansible-core"]
    assert str(Requirement(ee["dependencies"]["ansible_runner"]["package_pip"]).specifier).startswith("==")


def _bundled_versions() -> Mapping[str, str]:
    """Versions of the collections the installed ansible package bundles."""
    versions = {}
    try:
        base = Path(metadata.distribution("ansible").locate_file("ansible_collections"))
    except metadata.PackageNotFoundError:
        pytest.skip("the ansible package is not installed")
    for manifest in base.glob("*/*/MANIFEST.json"):
        info = json.loads(manifest.read_text())["collection_info"]
        versions[f"{info['namespace']}.{info['name']}"] = info["version"]
    return versions


def test_collections_are_pinned_as_the_ansible_package_bundles_them() -> None:
    ee = _load(EE_FILE)
    pinned = {c["name"]: c["version"] for c in ee["dependencies"]["galaxy"]["collections"] if "version" in c}
    bundled = _bundled_versions()

    assert {name: version.removeprefix("==") for name, version in pinned.items()} == {
        name: bundled[name] for name in pinned
    }
    # Every dependency galaxy.yml declares is there, at a version it accepts.
    for name, accepted in _load(ROOT / "galaxy.yml")["dependencies"].items():
        assert name in pinned, f"{name} (a dependency in galaxy.yml) is not in the execution environment"
        assert SpecifierSet(accepted.replace(" ", "")).contains(pinned[name].removeprefix("==")), (name, accepted)
    assert "awx.awx" in pinned, "playbooks/awx.yml runs as a job too"


def test_the_collection_tarball_keeps_its_ee_files() -> None:
    ignored = _load(ROOT / "galaxy.yml").get("build_ignore") or []
    needed = ["meta/execution-environment.yml", *_load(COLLECTION_EE)["dependencies"].values()]

    for path in needed:
        assert not any(fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/") for pattern in ignored), path
