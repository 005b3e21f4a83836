# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.drover.platform.plugins.filter.lab_host_problems import FilterModule, lab_host_problems

SUBNET = "198.18.0.0/24"
GATEWAY = "198.18.0.1"
CLASSES = ["nuc", "pc", "rpi"]
NETWORK = ipaddress.IPv4Network(SUBNET)

SOUND: list[dict[str, Any]] = [
    {"name": "nuc1", "address": "198.18.0.11", "class": "nuc"},
    {"name": "pc1", "address": "198.18.0.12", "class": "pc"},
    {"name": "pi1", "address": "198.18.0.13", "class": "rpi"},
]


def check(hosts: Any) -> list[str]:
    return lab_host_problems(hosts, SUBNET, GATEWAY, CLASSES)


def changed(position: int, **fields: Any) -> list[dict[str, Any]]:
    """SOUND with fields of the host at position replaced."""
    hosts = [dict(host) for host in SOUND]
    hosts[position].update(fields)
    return hosts


def test_registered_as_filter() -> None:
    assert FilterModule().filters()["lab_host_problems"] is lab_host_problems


@pytest.mark.parametrize(
    "hosts",
    [
        pytest.param(SOUND, id="three-classes"),
        pytest.param(SOUND[:1], id="one-host"),
        pytest.param(changed(0, address=str(NETWORK.network_address + 2)), id="first-free-address"),
        pytest.param(changed(0, address=str(NETWORK.broadcast_address - 1)), id="last-free-address"),
        pytest.param(changed(1, name="a" * 63), id="63-character-name"),
        pytest.param(changed(1, name="pc-2"), id="dash-in-name"),
    ],
)
def test_sound_list_has_no_problems(hosts: list[dict[str, Any]]) -> None:
    assert check(hosts) == []


def test_empty_list() -> None:
    problems = check([])
    assert len(problems) == 1
    assert "empty" in problems[0]


@pytest.mark.parametrize("klass", ["vax", "NUC", "", None, 3])
def test_unknown_class(klass: Any) -> None:
    problems = check(changed(1, **{"class": klass}))
    assert len(problems) == 1
    assert repr(SOUND[1]["name"]) in problems[0]
    assert f"unknown class {klass!r}" in problems[0]
    assert all(known in problems[0] for known in CLASSES)


@pytest.mark.parametrize("copies", [2, 3])
def test_duplicate_name(copies: int) -> None:
    name = SOUND[0]["name"]
    hosts = [changed(0, address=str(NETWORK.network_address + 20 + i))[0] for i in range(copies)] + SOUND[1:]
    problems = check(hosts)
    assert len(problems) == copies
    for problem in problems:
        assert repr(name) in problem
        assert f"name is used {copies} times" in problem


def test_duplicate_address() -> None:
    address = SOUND[0]["address"]
    hosts = changed(2, address=address)
    problems = check(hosts)
    assert len(problems) == 2
    named = {SOUND[0]["name"], SOUND[2]["name"]}
    assert {name for name in named for problem in problems if repr(name) in problem} == named
    for problem in problems:
        assert f"address {address} is used 2 times" in problem


@pytest.mark.parametrize(
    "address",
    [
        str(NETWORK.network_address - 1),
        str(NETWORK.broadcast_address + 1),
        "10.0.0.5",
        "198.18.1.11",
    ],
)
def test_address_outside_network(address: str) -> None:
    problems = check(changed(0, address=address))
    assert len(problems) == 1
    assert repr(SOUND[0]["name"]) in problems[0]
    assert address in problems[0]
    assert "outside" in problems[0]
    assert SUBNET in problems[0]


@pytest.mark.parametrize(
    "address",
    [
        pytest.param(str(NETWORK.network_address), id="network"),
        pytest.param(str(NETWORK.broadcast_address), id="broadcast"),
        pytest.param(GATEWAY, id="gateway"),
    ],
)
def test_reserved_address(address: str) -> None:
    problems = check(changed(2, address=address))
    assert len(problems) == 1
    assert repr(SOUND[2]["name"]) in problems[0]
    assert address in problems[0]
    assert "reserved" in problems[0]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("Nuc1", id="upper-case"),
        pytest.param("nuc_1", id="underscore"),
        pytest.param("nuc.lab", id="dot"),
        pytest.param("-nuc", id="leading-dash"),
        pytest.param("nuc-", id="trailing-dash"),
        pytest.param("nuc 1", id="space"),
        pytest.param("a" * 64, id="64-characters"),
    ],
)
def test_bad_host_name(name: str) -> None:
    problems = check(changed(0, name=name))
    assert len(problems) == 1
    assert repr(name) in problems[0]
    assert "must be a host name" in problems[0]


def test_missing_name_is_labelled_by_position() -> None:
    hosts = [dict(host) for host in SOUND]
    del hosts[1]["name"]
    problems = check(hosts)
    assert len(problems) == 1
    assert problems[0].startswith("host #2:")
    assert "must be a host name" in problems[0]


@pytest.mark.parametrize("address", ["2001:db8::11", "198.18.0.256", "198.18.0", "nuc1.lab", "", None])
def test_not_an_ipv4_address(address: Any) -> None:
    problems = check(changed(1, address=address))
    assert len(problems) == 1
    assert repr(SOUND[1]["name"]) in problems[0]
    assert repr(str(address)) in problems[0]
    assert "not an IPv4 address" in problems[0]


def test_each_problem_of_one_host_is_reported() -> None:
    problems = check(changed(0, name="NUC", address="10.0.0.1", **{"class": "vax"}))
    assert len(problems) == 3
    assert all(repr("NUC") in problem for problem in problems)
    assert [word in " ".join(problems) for word in ("host name", "unknown class", "outside")] == [True] * 3


def test_entry_that_is_not_a_mapping() -> None:
    problems = check([*SOUND, "nuc9"])
    assert problems == [f"host #{len(SOUND) + 1} is not a mapping: 'nuc9'"]


def test_bad_network_settings() -> None:
    assert "not valid" in lab_host_problems(SOUND, "198.18.0.0/33", GATEWAY, CLASSES)[0]
    problems = lab_host_problems(SOUND, SUBNET, "198.19.0.1", CLASSES)
    assert len(problems) == 1
    assert "gateway 198.19.0.1 is outside" in problems[0]


@pytest.mark.parametrize(
    "hosts",
    [None, "nuc1", 42, SOUND[0], tuple(SOUND)],
    ids=["none", "string", "int", "mapping", "tuple"],
)
def test_non_list_input_raises(hosts: Any) -> None:
    with pytest.raises(AnsibleFilterError, match=f"expects a list of hosts, got {type(hosts).__name__}"):
        check(hosts)
