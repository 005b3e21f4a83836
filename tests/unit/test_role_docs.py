# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role READMEs are plain Markdown, written from argument_specs, each with an example playbook that parses."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC = importlib.util.spec_from_file_location("role_docs", ROOT / "tools" / "role_docs.py")
assert SPEC and SPEC.loader
role_docs = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(role_docs)
READMES = sorted(ROOT.glob("roles/*/README.md"))


@pytest.mark.parametrize(
    ("markup", "markdown"),
    [
        ("C(docker.io)", "`docker.io`"),
        ("set O(edge_network) to V(drover-edge)", "set `edge_network` to `drover-edge`"),
        ("M(drover.platform.host_profile) reads it", "`drover.platform.host_profile` reads it"),
        ("I(never) and B(always)", "*never* and **always**"),
        ("see U(https://example.test/)", "see <https://example.test/>"),
        ("see L(the docs,https://example.test/docs)", "see [the docs](https://example.test/docs)"),
        ("C(traefik.swarm.network=<edge_network>)", "`traefik.swarm.network=<edge_network>`"),
        ("C(sshd -t) (a test)", "`sshd -t` (a test)"),
        ("ABC(x) is not markup", "ABC(x) is not markup"),
    ],
)
def test_markup_becomes_markdown(markup: str, markdown: str) -> None:
    assert role_docs.plain(markup) == markdown


def test_readmes_are_up_to_date() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "role_docs.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("readme", READMES, ids=[path.parent.name for path in READMES])
def test_readme_has_no_raw_markup_and_an_example_playbook(readme: Path) -> None:
    text = readme.read_text()
    assert not re.findall(r"\b[CIBMOVEPUL]\([^)]*\)", text)
    example = re.search(r"## Example playbook\n\n```yaml\n(?P<yaml>.*?)```", text, re.DOTALL)
    assert example, f"{readme} has no example playbook"
    plays = yaml.safe_load(example["yaml"])
    play = plays[0]
    applied = play["roles"][0]["role"] if "roles" in play else play["tasks"][0]["ansible.builtin.include_role"]["name"]
    assert play["hosts"] and applied == f"drover.platform.{readme.parent.name}"
