# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The end-to-end harness's own decisions, without a lab: where a lab of its own goes, how it reads Ansible."""

from __future__ import annotations

import pytest
import yaml

from .conftest import lab_vars
from .constants import LAB_DEFAULTS, ROOT
from .lab import LabError, Run, _debug_message, extra_vars


def test_a_lab_of_its_own_has_the_default_hosts_moved_into_its_subnet() -> None:
    defaults = yaml.safe_load((ROOT / LAB_DEFAULTS).read_text())
    moved = lab_vars("drover-e2e", "198.18.3.0/24")
    assert moved["lab_network_name"] == "drover-e2e"
    assert moved["lab_network_gateway"] == "198.18.3.1"
    assert [host["address"] for host in moved["lab_hosts"]] == ["198.18.3.11", "198.18.3.12", "198.18.3.13"]
    # Names, classes and groups stay the role's own.
    assert [{**host, "address": None} for host in moved["lab_hosts"]] == [
        {**host, "address": None} for host in defaults["lab_hosts"]
    ]


@pytest.mark.parametrize("subnet", ["198.18.3.0/25", "not-a-subnet", "198.18.3.1/24"])
def test_a_subnet_that_cannot_hold_the_lab_is_refused(subnet: str) -> None:
    with pytest.raises(pytest.UsageError, match="DROVER_E2E_SUBNET"):
        lab_vars("drover-e2e", subnet)


def test_the_lab_description_is_read_from_ansible_output() -> None:
    output = 'nuc1 | SUCCESS => {\n    "changed": false,\n    "msg": "{\\"name\\": \\"nuc1\\"}"\n}\n'
    assert _debug_message(Run(["ansible"], 0, output, "", 1.0)) == {"name": "nuc1"}


@pytest.mark.parametrize(
    ("rc", "output"),
    [
        pytest.param(0, "[WARNING]: Could not match supplied host pattern: swarm_managers[0]\n", id="no manager"),
        pytest.param(2, 'nuc1 | FAILED! => {\n    "msg": "undefined variable"\n}\n', id="failed"),
    ],
)
def test_an_inventory_without_a_lab_is_a_clear_error(rc: int, output: str) -> None:
    with pytest.raises(LabError, match="does not describe a lab"):
        _debug_message(Run(["ansible"], rc, output, "", 1.0))


def test_extra_vars_pass_text_as_text_and_the_rest_as_json() -> None:
    assert extra_vars(env="dev", stack_lock_wait=0) == ["-e", "env=dev", "-e", '{"stack_lock_wait": 0}']
