# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.drover.platform.plugins.filter.node_lifecycle import (
    FilterModule,
    swarm_replacement,
    upgrade_window_problem,
)


def test_registered_as_filters() -> None:
    assert set(FilterModule().filters()) == {"swarm_replacement", "upgrade_window_problem", "swarm_services_behind"}


def test_bad_input_is_named() -> None:
    with pytest.raises(AnsibleFilterError, match="list of nodes"):
        swarm_replacement({"nodes": []}, "m3", "n1")
    with pytest.raises(AnsibleFilterError, match="inventory_role must be manager or worker"):
        swarm_replacement([], "m3", "n1", inventory_role="leader")
    with pytest.raises(AnsibleFilterError, match="names"):
        swarm_replacement([], "", "n1")


def test_force_as_extra_vars_give_it() -> None:
    healthy = [{"ID": "a", "Description": {"Hostname": "w1"}, "Spec": {"Role": "worker"},
                "Status": {"State": "ready", "Addr": "10.0.0.11"}}]
    assert swarm_replacement(healthy, "w1", "n1")["problem"].startswith("w1 is not dead")
    assert swarm_replacement(healthy, "w1", "n1", force="true")["problem"] == ""
    assert swarm_replacement(healthy, "w1", "n1", force=True)["problem"] == ""


def test_a_bad_window_is_a_problem_not_an_error() -> None:
    assert "is not a UTC time range" in upgrade_window_problem("soon", "03:00")
    assert upgrade_window_problem(None, "03:00") == ""
