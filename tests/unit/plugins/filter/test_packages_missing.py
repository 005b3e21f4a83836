# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.drover.platform.plugins.filter.packages_missing import packages_missing

# What package_facts returns on a host: name -> list of installed versions.
FACTS = {
    "git": [{"name": "git", "version": "1:2.39.5-0+deb12u2", "source": "apt"}],
    "docker.io": [{"name": "docker.io", "version": "20.10.24+dfsg1-1+deb12u1+b2", "source": "apt"}],
    "curl": [],
}


@pytest.mark.parametrize(
    ("wanted", "facts", "missing"),
    [
        (["git", "docker.io"], FACTS, []),
        (["git", "htop", "docker.io", "vim-tiny"], FACTS, ["htop", "vim-tiny"]),
        # A name with no installed version is missing.
        (["curl"], FACTS, ["curl"]),
        # No facts (or facts never read): everything, so the install task runs.
        (["git", "htop"], None, ["git", "htop"]),
        ([], FACTS, []),
        # A pinned version must be the installed one.
        (["docker.io=20.10.24+dfsg1-1+deb12u1+b2"], FACTS, []),
        (["docker.io=20.10.25"], FACTS, ["docker.io=20.10.25"]),
        (["docker.io=20.10.24*"], FACTS, []),
        (["docker.io=24.*"], FACTS, ["docker.io=24.*"]),
        (["htop=3.2.2-2"], FACTS, ["htop=3.2.2-2"]),
    ],
)
def test_missing(wanted: list[str], facts: dict[str, Any] | None, missing: list[str]) -> None:
    assert packages_missing(wanted, facts) == missing


@pytest.mark.parametrize(
    ("wanted", "facts", "message"),
    [
        ("git", FACTS, "expects a list of package names"),
        (["git", 3], FACTS, "expects a list of package names"),
        (["git"], ["git"], "expects ansible_facts.packages"),
    ],
)
def test_bad_input(wanted: Any, facts: Any, message: str) -> None:
    with pytest.raises(AnsibleFilterError, match=message):
        packages_missing(wanted, facts)
