# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/smoke.yml against an HTTPS server of this machine standing for the edge (about 20 s).

The server (tests/unit/conftest.py's, the one edge_probe's unit tests
use, with a CA of its own) answers for demo.probe.test on 127.0.0.1; the inventory routes two
services of dev to it. The playbook runs in check mode, as it runs anywhere:
it only reads.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
_SPEC = importlib.util.spec_from_file_location("edge_server", ROOT / "tests" / "unit" / "conftest.py")
assert _SPEC and _SPEC.loader
edge_server = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(edge_server)
DOMAIN = "demo.probe.test"

Runner = Callable[..., tuple[int, str]]


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with edge_server.serving(tmp_path_factory.mktemp("edge"), (DOMAIN,)) as served:
        yield served


@pytest.fixture
def inventory(tmp_path: Path, edge: dict[str, Any]) -> Iterator[Path]:
    path = tmp_path / "hosts.yml"
    services = {"web": {"domain": DOMAIN}, "api": {"domain": DOMAIN},
                "worker": {"replicas": 1}}
    path.write_text(yaml.safe_dump({"all": {
        "vars": {"drover_pki_dir": str(Path(edge["ca"]).parent), "edge_https_port": edge["port"],
                 "stack_environments": {"dev": {"overlay": {"services": services}},
                                        "prod": {"overlay": {"services": {"worker": {}}}}}},
        "children": {"swarm_managers": {"hosts": {"m1": {"ansible_host": "127.0.0.1"}}}}}}))
    yield path


def test_every_routed_service_answers(run_playbook: Runner, inventory: Path) -> None:
    rc, output = run_playbook("playbooks/smoke.yml", inventory, "-e", "env=dev")
    assert rc == 0, output
    assert "dev      web" in output and "dev      api" in output and "worker" not in output.split("Show what", 1)[1]


@pytest.fixture
def fleet_ca_credential(edge: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """DROVER_FLEET_CA as the AWX credential sets it (before run_playbook takes the environment)."""
    monkeypatch.setenv("DROVER_FLEET_CA", edge["ca"])


def test_the_fleet_ca_comes_from_the_credentials_file(fleet_ca_credential: None, run_playbook: Runner,
                                                      inventory: Path) -> None:
    rc, output = run_playbook("playbooks/smoke.yml", inventory, "-e", "env=dev", "-e", "drover_pki_dir=/nonexistent")
    assert rc == 0, output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["-e", "smoke_ca_file=/nonexistent/ca.crt"],
                     'the fleet CA /nonexistent/ca.crt is not there. In AWX, attach', id="CA missing"),
        pytest.param(["-e", "smoke_ca_file="], "the edge's certificate is not trusted", id="system CAs only"),
        pytest.param(["-e", '{"smoke_checks": {"api": {"path": "/missing"}}}'], "answered 404 Not Found, expected 200",
                     id="health path"),
        pytest.param(["-e", "env=prod"], "environment prod routes no service here; the ones that do: dev",
                     id="nothing routed"),
    ],
)
def test_what_fails_says_why(run_playbook: Runner, inventory: Path, args: list[str], message: str) -> None:
    rc, output = run_playbook("playbooks/smoke.yml", inventory, *args, "-e", "smoke_retries=0")
    assert rc != 0 and message in " ".join(output.split()), output


def test_expected_statuses_are_configurable(run_playbook: Runner, inventory: Path) -> None:
    rc, output = run_playbook("playbooks/smoke.yml", inventory, "-e",
                              '{"smoke_checks": {"api": {"path": "/missing", "status": [404]}}}')
    assert rc == 0, output
