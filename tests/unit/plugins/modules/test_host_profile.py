# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module's main(), run as Ansible runs it, on the recorded host trees of tests/unit/fixtures/host_profile/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ansible_collections.drover.platform.plugins.modules import host_profile

# The run_main fixture of tests/unit/conftest.py.
RunMain = Callable[..., dict[str, Any]]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "host_profile"


def test_facts_of_a_host_tree(run_main: RunMain) -> None:
    result = run_main(host_profile.main, {"root": str(FIXTURES / "nuc")})
    assert result["changed"] is False
    profile = result["ansible_facts"]["drover_host_profile"]
    assert (profile["class"], profile["class_source"]) == ("nuc", "detected")


def test_declared_class_wins(run_main: RunMain) -> None:
    result = run_main(host_profile.main, {"root": str(FIXTURES / "nuc"), "declared_class": "pc"})
    profile = result["ansible_facts"]["drover_host_profile"]
    assert (profile["class"], profile["class_source"]) == ("pc", "declared")


def test_a_root_that_is_no_directory_fails_with_what_to_give(run_main: RunMain, tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("")
    result = run_main(host_profile.main, {"root": str(file)})
    assert result["failed"] is True
    assert result["msg"] == f"root {str(file)!r} is not a directory; give the host's root, normally '/'"
