# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tools/ee-context makes a complete build context or fails loudly (about 10 s: two ansible-builder runs).

ansible-builder create alone (without the pre-step that packs the
collection) exits 0 with a context that lacks the collection; the checks of
tools/ee-context refuse it. A complete context with a dependency taken out
of its Python or system list is refused too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EE_CONTEXT = ROOT / "tools" / "ee-context"
BIN = Path(sys.executable).parent


def ee_context(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")])}
    return subprocess.run([str(EE_CONTEXT), *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False,
                          timeout=300)


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ee") / "context"
    done = ee_context(str(folder))
    assert done.returncode == 0, done.stderr
    return folder


def test_the_one_command_makes_a_complete_context(context: Path) -> None:
    assert (context / "_build" / "collection" / "drover-platform.tar.gz").is_file()
    assert ee_context("--check", str(context)).returncode == 0


def test_a_context_without_the_collection_is_refused(tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    # What an admin gets from ansible-builder alone when .ee/collection is not there (rc 0, a warning).
    staged = tmp_path / "project"
    (staged / "meta").mkdir(parents=True)
    shutil.copy(ROOT / "execution-environment.yml", staged)
    shutil.copy(ROOT / "meta" / "ee-requirements.txt", staged / "meta")
    shutil.copy(ROOT / "bindep.txt", staged)
    made = subprocess.run([str(BIN / "ansible-builder"), "create", "--file", "execution-environment.yml",
                           "--context", str(bare), "--output-filename", "Containerfile"],
                          cwd=staged, capture_output=True, text=True, check=False, timeout=300)
    assert made.returncode == 0, made.stderr

    done = ee_context("--check", str(bare))

    assert done.returncode == 1
    assert "the collection's tarball is not in" in done.stderr and "tools/ee-context" in done.stderr


@pytest.mark.parametrize(
    ("listed", "dropped", "message"),
    [
        pytest.param("requirements.txt", "PyYAML", "requirements.txt is not meta/ee-requirements.txt", id="python"),
        pytest.param("bindep.txt", "openssh-clients", "bindep.txt is not bindep.txt", id="system"),
    ],
)
def test_a_context_missing_a_dependency_is_refused(context: Path, tmp_path: Path, listed: str, dropped: str,
                                                   message: str) -> None:
    planted = tmp_path / "context"
    shutil.copytree(context, planted, symlinks=True)
    path = planted / "_build" / listed
    path.write_text("".join(line for line in path.read_text().splitlines(keepends=True) if dropped not in line))

    done = ee_context("--check", str(planted))

    assert done.returncode == 1 and message in done.stderr, done.stderr
