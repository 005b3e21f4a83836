# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/deploy.yml with drover_runtime kubernetes, up to the API server.

No Kubernetes API server can run on the project's machines, so these runs
stop where the deploy first needs one. What is real: the playbooks, the
runtime switch (connect.yml's groups), the stack role with
stack_target kubernetes, its preflight rendering Kubernetes manifests of the
demo app (bad input stops there, as on Swarm), and the Kubernetes client
failing against a kubeconfig whose server is a closed port on this machine.
What is not exercised here: apply, wait, prune and the ledger write
(molecule/k8s does, where a cluster answers).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

PLAYBOOK = "playbooks/deploy.yml"
RENDER_TASK = "TASK [drover.platform.stack : Render the stack from the Compose file and the environment's overlay]"
LEDGER_TASK = "TASK [drover.platform.stack : Read the ledger of demo-dev]"
SWARM_TASK = "TASK [drover.platform.stack : Deploy the stack and wait until it converged]"
APPLY_TASK = "TASK [drover.platform.stack : Apply the manifests and wait until they are ready]"
WEB = {"ports": [], "port": 8000}
ALLOW = ["depends_on.condition"]


def _kubeconfig(tmp_path: Path) -> Path:
    """A kubeconfig whose API server is port 9 of this machine, where nothing listens."""
    path = tmp_path / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "none", "cluster": {"server": "https://127.0.0.1:9"}}],
                "contexts": [{"name": "none", "context": {"cluster": "none", "user": "none"}}],
                "current-context": "none",
                "users": [{"name": "none", "user": {"token": "not-a-secret"}}],
            }
        )
    )
    return path


DEMO_COMPOSE = Path(__file__).resolve().parents[2] / "apps" / "demo" / "compose.yml"


def _inventory(tmp_path: Path, environments: dict[str, Any], runtime: str = "kubernetes") -> Path:
    inventory = tmp_path / "hosts.json"
    inventory.write_text(
        json.dumps(
            {
                "all": {
                    "hosts": {"k1": {"drover_host_class": "pc"}},
                    "vars": {
                        "drover_runtime": runtime,
                        "drover_registry": "127.0.0.1:9",
                        "stack_registry_ca_path": "",
                        "stack_kubeconfig": str(_kubeconfig(tmp_path)),
                        "stack_lock_dir": str(tmp_path / "locks"),
                        "stack_app_name": "demo",
                        "stack_compose_file": str(DEMO_COMPOSE),
                        "stack_environments": environments,
                    },
                    "children": {"kubernetes_api": {"hosts": {"k1": {}}}},
                }
            }
        )
    )
    return inventory


def _env(web: dict[str, Any], allow: list[str] | None = None) -> dict[str, Any]:
    return {"overlay": {"allow": ALLOW if allow is None else allow, "services": {"web": web}}}


SOUND = {
    "dev": _env({**WEB, "domain": "demo-dev.example.test"}),
    "prod": _env({**WEB, "domain": "demo.example.test"}),
}

CASES: dict[str, tuple[dict[str, Any], list[str], list[str]]] = {
    "unknown environment": (SOUND, ["-e", "env=staging"], ['unknown environment "staging"']),
    "routed port without a domain": ({"dev": _env(WEB)}, [], ["services.web.port", "needs a domain"]),
    ":latest in prod": (
        SOUND,
        ["-e", "env=prod", "-e", "version=latest"],
        ["environment prod is strict", "demo/web:latest) is :latest"],
    ),
    "a Compose key nobody allowed": (
        {"dev": _env({**WEB, "domain": "demo-dev.example.test"}, allow=[])},
        [],
        ["web: depends_on.condition", "allow it with allow: [depends_on.condition]"],
    ),
}


@pytest.mark.parametrize(("environments", "args", "expected"), CASES.values(), ids=CASES.keys())
def test_bad_input_stops_in_the_kubernetes_preflight(
    tmp_path: Path,
    run_playbook: Callable[..., tuple[int, str]],
    recap: Callable[[str], dict[str, dict[str, int]]],
    environments: dict[str, Any],
    args: list[str],
    expected: list[str],
) -> None:
    returncode, output = run_playbook(PLAYBOOK, _inventory(tmp_path, environments), *args)

    assert returncode != 0, output
    for fragment in expected:
        assert fragment in output, f"{fragment!r} missing from:\n{output}"
    assert "PLAY [Deploy the app]" in output, output
    assert LEDGER_TASK not in output and APPLY_TASK not in output and SWARM_TASK not in output, output
    assert recap(output)["k1"]["changed"] == 0, output


def test_sound_input_renders_for_kubernetes_then_needs_the_api_server(
    tmp_path: Path,
    run_playbook: Callable[..., tuple[int, str]],
    recap: Callable[[str], dict[str, dict[str, int]]],
) -> None:
    returncode, output = run_playbook(
        PLAYBOOK, _inventory(tmp_path, SOUND), "-e", "env=dev", "-e", "version=1.0.0", "-v"
    )

    assert returncode != 0, output
    # The deploy play ran the role on the Kubernetes deployer, for Kubernetes.
    assert "PLAY [Deploy the app]" in output, output
    assert SWARM_TASK not in output, output
    # The preflight rendered Kubernetes manifests (the Swarm renderer gives a definition)...
    assert RENDER_TASK in output, output
    rendered = output.split(RENDER_TASK, 1)[1].split("TASK [", 1)[0]
    assert "manifests:" in rendered and "kind: Deployment" in rendered and "namespace: demo-dev" in rendered, rendered
    # ...and the first call to the API server fails, naming it; nothing was applied.
    assert LEDGER_TASK in output, output
    assert "127.0.0.1" in output.split(LEDGER_TASK, 1)[1], output
    assert APPLY_TASK not in output, output
    assert recap(output)["k1"]["changed"] == 0, output


def test_an_unknown_runtime_stops_before_any_host_is_touched(
    tmp_path: Path,
    run_playbook: Callable[..., tuple[int, str]],
) -> None:
    returncode, output = run_playbook(PLAYBOOK, _inventory(tmp_path, SOUND, runtime="podman"), "-e", "env=dev")

    assert returncode != 0, output
    assert 'drover_runtime is "podman": it must be docker' in output, output
    assert "TASK [drover.platform.stack" not in output, output
