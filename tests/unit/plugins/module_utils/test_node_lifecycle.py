# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.module_utils._node_lifecycle import (
    replacement_plan,
    services_behind,
    window_problem,
)


def node(name: str, address: str, role: str = "manager", state: str = "ready",
         reachability: str = "reachable") -> dict[str, Any]:
    """A node as docker_node_info lists it (the fields a replacement reads)."""
    listed: dict[str, Any] = {
        "ID": f"{name}-id-0123456789",
        "Description": {"Hostname": name},
        "Spec": {"Role": role, "Availability": "active"},
        "Status": {"State": state, "Addr": address},
    }
    if role == "manager":
        listed["ManagerStatus"] = {"Reachability": reachability, "Addr": f"{address}:2377"}
    return listed


M1 = node("m1", "10.0.0.1")
M2 = node("m2", "10.0.0.2")
M3_DOWN = node("m3", "10.0.0.3", state="down", reachability="unreachable")
M3 = node("m3", "10.0.0.3")
W1 = node("w1", "10.0.0.11", role="worker")
W1_DOWN = node("w1", "10.0.0.11", role="worker", state="down")
NEW_MANAGER = node("n1", "10.0.0.9")
NEW_WORKER = node("n1", "10.0.0.9", role="worker")


@pytest.mark.parametrize(
    ("nodes", "dead", "force", "role", "dead_ids", "problem"),
    [
        # A dead manager of three: replaced.
        ([M1, M2, M3_DOWN], "m3", False, "manager", ["m3-id-0123456789"], ""),
        # A dead worker: replaced, whatever the managers.
        ([M1, W1_DOWN], "w1", False, "worker", ["w1-id-0123456789"], ""),
        # Gone already (a second run): nothing to remove, the inventory's role.
        ([M1, M2, NEW_MANAGER], "m3", False, "manager", [], ""),
        # Still healthy: only with force.
        ([M1, M2, M3], "m3", False, "manager", ["m3-id-0123456789"], "m3 is not dead"),
        ([M1, M2, M3], "m3", True, "manager", ["m3-id-0123456789"], ""),
        ([M1, W1], "w1", False, "worker", ["w1-id-0123456789"], "w1 is not dead"),
        # The last manager.
        ([M1, W1], "m1", True, "manager", ["m1-id-0123456789"], "the swarm's last manager"),
        # Two of three managers down: the quorum is lost already.
        ([M1, node("m2", "10.0.0.2", state="down", reachability="unreachable"), M3_DOWN], "m3", False, "manager",
         ["m3-id-0123456789"], "only 1 of the swarm's 3 managers are reachable"),
        # A healthy manager forced out while another is down: the two left would have one reachable.
        ([M1, node("m2", "10.0.0.2", state="down", reachability="unreachable"), M3], "m3", True, "manager",
         ["m3-id-0123456789"], "removing m3 would lose the quorum: 1 of the 2 managers left"),
        # Five managers, one dead: fine; two dead (one replaced now): fine, 3 of 4 left reachable.
        ([M1, M2, M3, node("m4", "10.0.0.4"), node("m5", "10.0.0.5", state="down", reachability="unreachable")],
         "m5", False, "manager", ["m5-id-0123456789"], ""),
        ([M1, M2, M3_DOWN, node("m4", "10.0.0.4"), node("m5", "10.0.0.5", state="down", reachability="unreachable")],
         "m5", False, "manager", ["m5-id-0123456789"], ""),
        # The new host already joined, in another role.
        ([M1, M2, M3_DOWN, NEW_WORKER], "m3", False, "manager", ["m3-id-0123456789"], "n1 is already a worker"),
        # ... or in the same role (a run cut short after the join): fine.
        ([M1, M2, M3_DOWN, NEW_MANAGER], "m3", False, "manager", ["m3-id-0123456789"], ""),
    ],
)
def test_replacement_plan(nodes: list[dict[str, Any]], dead: str, force: bool, role: str, dead_ids: list[str],
                          problem: str) -> None:
    plan = replacement_plan(nodes, dead, "n1", inventory_role="manager", force=force).as_dict()
    assert plan["role"] == role
    assert plan["dead_ids"] == dead_ids
    if problem:
        assert problem in plan["problem"]
    else:
        assert plan["problem"] == ""


def test_a_dead_node_is_found_by_its_address_and_ghosts_of_the_same_name_too() -> None:
    renamed = node("m3.lab.example", "10.0.0.3", state="down", reachability="unreachable")
    ghost = {**node("m3", "10.0.0.33", state="down", reachability="unreachable"), "ID": "ghost-id"}
    plan = replacement_plan([M1, M2, renamed, ghost], "other-name", "n1", dead_address="10.0.0.3").as_dict()
    assert plan["dead_ids"] == ["m3.lab.example-id-0123456789"]
    plan = replacement_plan([M1, M2, renamed, ghost], "m3", "n1", dead_address="10.0.0.3").as_dict()
    assert plan["dead_ids"] == ["m3.lab.example-id-0123456789", "ghost-id"]
    assert plan["managers"] == 4 and plan["reachable_managers"] == 2


def test_the_new_host_is_never_taken_for_the_dead_one() -> None:
    # The new host got the dead one's address.
    moved = node("n1", "10.0.0.3")
    plan = replacement_plan([M1, M2, M3_DOWN, moved], "m3", "n1", dead_address="10.0.0.3",
                            new_address="10.0.0.3").as_dict()
    assert plan["dead_ids"] == ["m3-id-0123456789"]
    assert plan["new_joined"] is True


@pytest.mark.parametrize(
    ("window", "now", "allowed"),
    [
        (None, "13:00", True),
        ("", "13:00", True),
        ("02:00-05:00", "02:00", True),
        ("02:00-05:00", "04:59", True),
        ("02:00-05:00", "05:00", False),
        ("02:00-05:00", "01:59", False),
        ("02:00-05:00", "13:00", False),
        # Over midnight.
        ("22:00-02:00", "23:30", True),
        ("22:00-02:00", "00:10", True),
        ("22:00-02:00", "02:00", False),
        ("22:00-02:00", "12:00", False),
        (" 2:00 - 5:00 ", "03:00", True),
        # A datetime's text, cut at the minutes.
        ("02:00-05:00", "03:15:42", True),
    ],
)
def test_window(window: str | None, now: str, allowed: bool) -> None:
    problem = window_problem(window, now)
    assert (problem == "") is allowed
    if not allowed:
        assert f"it is {now[:5]} UTC, outside the upgrade window" in problem
        assert "-e upgrade_now=true" in problem


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ("2am-5am", "is not a UTC time range"),
        ("02:00", "is not a UTC time range"),
        ("25:00-05:00", "25:00 is not a time of day"),
        ("02:00-02:60", "02:60 is not a time of day"),
        ("03:00-03:00", "is empty"),
    ],
)
def test_a_bad_window_is_named(window: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        window_problem(window, "03:00")


@pytest.mark.parametrize(
    ("lines", "behind"),
    [
        ([], []),
        (['{"Name":"demo-prod_web","Mode":"replicated","Replicas":"2/2 (max 1 per node)"}',
          '{"Name":"edge_traefik","Mode":"global","Replicas":"1/1"}'], []),
        (['{"Name":"demo-prod_web","Mode":"replicated","Replicas":"1/2 (max 1 per node)"}', "",
          '{"Name":"demo-prod_redis","Mode":"replicated","Replicas":"0/1"}'],
         ["demo-prod_web 1/2", "demo-prod_redis 0/1"]),
        # More running than desired (a task still stopping) is not behind.
        (['{"Name":"a","Replicas":"3/2"}'], []),
        (["not json"], ["unreadable: not json"]),
        (['{"Name":"a","Replicas":""}'], ["a ?"]),
    ],
)
def test_services_behind(lines: list[str], behind: list[str]) -> None:
    assert services_behind(lines) == behind
