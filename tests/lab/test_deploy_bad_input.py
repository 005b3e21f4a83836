# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad deploy input stops playbooks/deploy.yml before anything is built or deployed.

The real playbook runs in check mode against a name for this machine over a
local connection (see conftest.py), with a registry address where nothing
listens. The cases are the issue's: an unknown environment, a routed service
without a domain, :latest in prod, the registry unreachable; and a Compose
key Swarm cannot honour that nobody allowed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

PLAYBOOK = "playbooks/deploy.yml"
DEPLOY_TASK = "TASK [drover.platform.stack : Deploy the stack and wait until it converged]"
# The first task of tasks/build.yml: the build was entered.
BUILD_TASK = "TASK [drover.platform.stack : Look for this version's images in the registry]"
PIN_TASK = "TASK [drover.platform.stack : Resolve the images to digests and check their architectures]"
LOCK_TASK = "TASK [drover.platform.stack : Wait for and take the deploy lock of"
WEB = {"ports": [], "port": 8000}
ALLOW = ["depends_on.condition"]


DEMO_COMPOSE = Path(__file__).resolve().parents[2] / "apps" / "demo" / "compose.yml"


def _inventory(tmp_path: Path, environments: dict[str, Any], app: dict[str, str] | None = None) -> Path:
    inventory = tmp_path / "hosts.json"
    inventory.write_text(
        json.dumps(
            {
                "all": {
                    "hosts": {"m1": {"drover_host_class": "nuc"}},
                    "vars": {
                        # Nothing listens on port 9 (discard) here: the registry is unreachable.
                        "drover_registry": "127.0.0.1:9",
                        "stack_registry_ca_path": "",
                        **({"stack_app_name": "demo", "stack_compose_file": str(DEMO_COMPOSE)} if app is None else app),
                        "stack_environments": environments,
                    },
                    "children": {"swarm_managers": {"hosts": {"m1": {}}}, "swarm_workers": {"hosts": {}}},
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

CASES: dict[str, tuple[dict[str, Any], list[str], list[str], str]] = {
    "unknown environment": (SOUND, ["-e", "env=staging"], ['unknown environment "staging"', "dev, prod"], ""),
    "no environment named among several": (SOUND, [], ["several environments (dev, prod)", "-e env=NAME"], ""),
    "routed port without a domain": (
        {"dev": _env(WEB)},
        [],
        ["services.web.port", "needs a domain"],
        "",
    ),
    ":latest in prod": (
        SOUND,
        ["-e", "env=prod", "-e", "version=latest"],
        ["environment prod is strict", "demo/web:latest) is :latest"],
        "",
    ),
    "a Compose key nobody allowed": (
        {"dev": _env({**WEB, "domain": "demo-dev.example.test"}, allow=[])},
        [],
        ["web: depends_on.condition", "allow it with allow: [depends_on.condition]"],
        "",
    ),
    "a typo in an environment's settings": (
        {"dev": {**_env({**WEB, "domain": "demo-dev.example.test"}), "biuld": True, "timout": 60}},
        [],
        ["stack_environments.dev.biuld is not a setting", "did you mean build?", "stack_environments.dev.timout"],
        "",
    ),
    # Refused by the preflight, before the deploy lock is taken.
    "per-platform build arguments for a platform not built": (
        {"dev": {**_env({**WEB, "domain": "demo-dev.example.test"}), "build": True}},
        ["-e", "version=1.0.0", "-e", json.dumps({"stack_build_platform_args": {"linux/arm64": {"PIP_INDEX": "x"}}})],
        ["stack_build_platform_args has linux/arm64, which stack_build_platforms does not build"],
        "",
    ),
    "registry unreachable": (
        SOUND,
        ["-e", "env=dev", "-e", "version=1.0.0"],
        ["cannot reach", "127.0.0.1:9"],
        PIN_TASK,
    ),
}


@pytest.mark.parametrize(("environments", "args", "expected", "reached"), CASES.values(), ids=CASES.keys())
def test_bad_deploy_input_stops_before_any_deploy(
    tmp_path: Path,
    run_playbook: Callable[..., tuple[int, str]],
    recap: Callable[[str], dict[str, dict[str, int]]],
    environments: dict[str, Any],
    args: list[str],
    expected: list[str],
    reached: str,
) -> None:
    returncode, output = run_playbook(PLAYBOOK, _inventory(tmp_path, environments), *args)

    assert returncode != 0, output
    for fragment in expected:
        assert fragment in output, f"{fragment!r} missing from:\n{output}"
    # Stopped before the deploy (and, but for the registry case, before the pin).
    assert DEPLOY_TASK not in output, output
    assert BUILD_TASK not in output, output
    if not reached:
        assert PIN_TASK not in output, output
        assert LOCK_TASK not in output, output
    assert recap(output)["m1"]["changed"] == 0, output


def test_an_inventory_that_names_no_app_is_refused_naming_the_keys(
    tmp_path: Path,
    run_playbook: Callable[..., tuple[int, str]],
    recap: Callable[[str], dict[str, dict[str, int]]],
) -> None:
    returncode, output = run_playbook(PLAYBOOK, _inventory(tmp_path, SOUND, app={}), "-e", "env=dev")

    assert returncode != 0, output
    assert "stack_compose_file is not set" in output, output
    assert "stack_app_name is not set" in output, output
    assert BUILD_TASK not in output and DEPLOY_TASK not in output, output
    assert recap(output)["m1"]["changed"] == 0, output
