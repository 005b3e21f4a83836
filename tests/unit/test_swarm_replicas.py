# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monitoring role's replica counter, on docker CLI output written out by hand."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

_PATH = Path(__file__).resolve().parents[2] / "roles/monitoring/files/swarm-replicas"
_LOADER = importlib.machinery.SourceFileLoader("swarm_replicas", str(_PATH))
_SPEC = importlib.util.spec_from_loader("swarm_replicas", _LOADER)
assert _SPEC is not None
replicas: ModuleType = importlib.util.module_from_spec(_SPEC)
_LOADER.exec_module(replicas)


def fake_docker(listed: str, specs: list[dict[str, object]]) -> Callable[..., str]:
    def docker(*args: str) -> str:
        return listed if args[:2] == ("service", "ls") else json.dumps(specs)
    return docker


def spec(service_id: str, name: str, **labels: str) -> dict[str, object]:
    return {"ID": service_id, "Spec": {"Name": name, "Labels": labels}}


@pytest.mark.parametrize(("listed", "specs", "expected"), [
    ("", [], []),
    ("a1 1/2\n", [spec("a1", "demo-dev_web", **{"com.docker.stack.namespace": "demo-dev",
                                                "io.drover.environment": "dev"})],
     ['drover_service_replicas_running{service="demo-dev_web",stack="demo-dev",environment="dev"} 1',
      'drover_service_replicas_desired{service="demo-dev_web",stack="demo-dev",environment="dev"} 2']),
    # A global service says "3/3"; an older CLI "global 3/3"; a service outside any stack has no labels.
    ("b2 global 3/3\n", [spec("b2", "agent")],
     ['drover_service_replicas_running{service="agent",stack="",environment=""} 3',
      'drover_service_replicas_desired{service="agent",stack="",environment=""} 3']),
    # A service gone between the two calls, and a line without counts, are left out.
    ("c3 0/1\nd4 -\n", [], []),
    ('e5 2/2\n', [spec("e5", 'odd"name')],
     ['drover_service_replicas_running{service="odd\\"name",stack="",environment=""} 2',
      'drover_service_replicas_desired{service="odd\\"name",stack="",environment=""} 2']),
])
def test_replica_lines(monkeypatch: pytest.MonkeyPatch, listed: str, specs: list[dict[str, object]],
                       expected: list[str]) -> None:
    monkeypatch.setattr(replicas, "docker", fake_docker(listed, specs))
    lines = [line for line in replicas.lines() if not line.startswith("#")]
    assert lines == expected


def test_the_file_is_replaced_whole(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    target = tmp_path / "drover_swarm_replicas.prom"
    target.write_text("stale 1\n")
    monkeypatch.setattr(replicas, "docker", fake_docker("a1 1/1\n", [spec("a1", "web")]))
    monkeypatch.setattr("sys.argv", ["swarm-replicas", str(target)])
    assert replicas.main() == 0
    assert "stale" not in target.read_text()
    assert 'drover_service_replicas_desired{service="web",stack="",environment=""} 1' in target.read_text()
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
