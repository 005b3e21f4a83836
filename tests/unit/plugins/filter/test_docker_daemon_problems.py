# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.drover.platform.plugins.filter.docker_daemon_problems import docker_daemon_problems

# The daemon.json the docker role writes by default on a Swarm node.
HARDENED = {
    "log-driver": "json-file",
    "log-opts": {"max-size": "10m", "max-file": "3"},
    "default-address-pools": [{"base": "172.30.0.0/16", "size": 24}],
    "icc": False,
    "no-new-privileges": True,
    "userland-proxy": False,
    "live-restore": False,
}


@pytest.mark.parametrize(
    ("options", "swarm", "expected"),
    [
        pytest.param(HARDENED, True, [], id="role-defaults-on-swarm"),
        pytest.param({**HARDENED, "live-restore": True}, False, [], id="live-restore-off-swarm"),
        pytest.param(
            {**HARDENED, "live-restore": True},
            True,
            ["'live-restore' cannot be true on a Swarm node"],
            id="live-restore-on-swarm",
        ),
        pytest.param({"icc": "false"}, True, ["'icc' must be a boolean, got str"], id="icc-string"),
        pytest.param({"no-new-privileges": 1}, True, ["'no-new-privileges' must be a boolean"], id="nnp-number"),
        pytest.param({"userns-remap": True}, True, ["'userns-remap' must be a string"], id="userns-bool"),
        pytest.param(
            {"authorization-plugins": "authz"}, True, ["'authorization-plugins' must be a list"], id="authz-string"
        ),
        pytest.param({"mtu": True}, True, ["'mtu' must be a number, got bool"], id="mtu-bool"),
        pytest.param({"log-opts": {"max-file": 3}}, True, ["log-opts.max-file must be a string"], id="log-opt-number"),
        pytest.param({"some-new-option": [1]}, True, [], id="unknown-key-passes"),
    ],
)
def test_problems(options: dict[str, Any], swarm: bool, expected: list[str]) -> None:
    problems = docker_daemon_problems(options, swarm=swarm)
    assert len(problems) == len(expected), problems
    for problem, fragment in zip(problems, expected, strict=True):
        assert fragment in problem


def test_swarm_is_assumed_when_not_said() -> None:
    assert docker_daemon_problems({"live-restore": True})


def test_not_a_mapping_is_a_clear_error() -> None:
    with pytest.raises(AnsibleFilterError, match="expects a mapping, got list"):
        docker_daemon_problems([])
