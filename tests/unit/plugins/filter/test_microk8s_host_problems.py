# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""microk8s_host_problems over host profiles read from the recorded host files."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.drover.platform.plugins.filter.microk8s_host_problems import (
    FilterModule,
    microk8s_host_problems,
)
from ansible_collections.drover.platform.plugins.module_utils._host_profile import read_host_profile

FIXTURES = Path(__file__).parents[2] / "fixtures" / "host_profile"
ARCHITECTURES = ["amd64", "arm64"]
PI_PARAMETERS = ["cgroup_enable=memory", "cgroup_memory=1"]


def profile_of(fixture: str) -> dict[str, Any]:
    """The facts host_profile sets on the recorded host, with its recorded `uname -m`."""
    root = FIXTURES / fixture
    machine = (root / "machine").read_text().strip()
    return read_host_profile(root=str(root), machine=machine, userland_bits=64).as_dict()


def cmdline_txt(fixture: str) -> str:
    return (FIXTURES / fixture / "boot" / "firmware" / "cmdline.txt").read_text()


def test_registered_as_filter() -> None:
    assert FilterModule().filters()["microk8s_host_problems"] is microk8s_host_problems


@pytest.mark.parametrize("fixture", ["nuc", "pc", "rpi5-bookworm"])
def test_sound_host_has_no_problems(fixture: str) -> None:
    profile = profile_of(fixture)
    assert profile["cgroup"]["memory_enabled"] is True
    assert microk8s_host_problems(profile, ARCHITECTURES) == []


def test_pi_with_memory_cgroup_off_names_both_missing_parameters() -> None:
    profile = profile_of("rpi4-bookworm")
    problems = microk8s_host_problems(profile, ARCHITECTURES, boot_cmdline=cmdline_txt("rpi4-bookworm"))

    assert len(problems) == 1
    message = problems[0]
    assert "Raspberry Pi" in message
    assert "lacks cgroup_enable=memory cgroup_memory=1" in message
    assert "Add cgroup_enable=memory cgroup_memory=1 to /boot/firmware/cmdline.txt" in message
    assert "host_rpi_cgroup_enabled" in message
    assert "reboot is pending" not in message


def test_pi_missing_one_parameter_names_only_that_one() -> None:
    profile = profile_of("rpi4-bookworm")
    profile["cgroup"]["memory_missing_parameters"] = ["cgroup_memory=1"]
    written = cmdline_txt("rpi4-bookworm").strip() + " cgroup_enable=memory\n"

    (message,) = microk8s_host_problems(profile, ARCHITECTURES, boot_cmdline=written)

    assert "lacks cgroup_memory=1." in message
    assert "Add cgroup_memory=1 to /boot/firmware/cmdline.txt." in message
    assert "cgroup_enable=memory" not in message.partition("Add")[2].partition(".")[0]


def test_pi_with_parameters_written_but_not_booted_says_reboot() -> None:
    # rpi5's cmdline.txt holds both parameters; the rpi4's running kernel
    # started without them: what a Pi looks like between host.yml and a reboot.
    profile = profile_of("rpi4-bookworm")

    (message,) = microk8s_host_problems(profile, ARCHITECTURES, boot_cmdline=cmdline_txt("rpi5-bookworm"))

    assert "cgroup_enable=memory cgroup_memory=1 are in /boot/firmware/cmdline.txt already" in message
    assert "a reboot is pending" in message
    assert "Add " not in message


def test_pi_with_one_parameter_written_names_the_one_to_add() -> None:
    profile = profile_of("rpi4-bookworm")
    written = cmdline_txt("rpi4-bookworm").strip() + " cgroup_enable=memory\n"

    (message,) = microk8s_host_problems(profile, ARCHITECTURES, boot_cmdline=written)

    assert "lacks cgroup_enable=memory cgroup_memory=1" in message
    assert "cgroup_enable=memory is in /boot/firmware/cmdline.txt already; add cgroup_memory=1 to it" in message


def test_pi_with_unreadable_cmdline_still_names_the_parameters() -> None:
    (message,) = microk8s_host_problems(profile_of("rpi4-bookworm"), ARCHITECTURES, boot_cmdline=None)

    assert "Add cgroup_enable=memory cgroup_memory=1 to /boot/firmware/cmdline.txt" in message
    assert "could not be read" in message


def test_pi_with_reboot_required_says_so() -> None:
    profile = profile_of("rpi4-bookworm")
    profile["reboot_required"] = True

    (message,) = microk8s_host_problems(profile, ARCHITECTURES, boot_cmdline=cmdline_txt("rpi4-bookworm"))

    assert "A reboot is pending already (/run/reboot-required)." in message


def test_pi_with_parameters_booted_and_controller_still_off() -> None:
    profile = profile_of("rpi4-bookworm")
    profile["cgroup"]["memory_missing_parameters"] = []

    (message,) = microk8s_host_problems(profile, ARCHITECTURES)

    assert "still off" in message


def test_non_pi_with_memory_cgroup_off() -> None:
    profile = profile_of("nuc")
    profile["cgroup"] = {"version": 1, "memory_enabled": False, "memory_missing_parameters": []}

    (message,) = microk8s_host_problems(profile, ARCHITECTURES)

    assert "memory cgroup controller off (cgroup v1)" in message
    assert "cgroup_enable=memory" in message
    assert "Raspberry Pi" not in message


def test_unknown_memory_state_is_not_a_problem() -> None:
    profile = profile_of("nuc")
    profile["cgroup"] = {"version": None, "memory_enabled": None, "memory_missing_parameters": []}

    assert microk8s_host_problems(profile, ARCHITECTURES) == []


@pytest.mark.parametrize(
    ("snap_installed", "snapd_running", "expected"),
    [
        pytest.param(
            False, False, ["snapd is not installed", "apt-get install snapd", "drover_runtime: docker"], id="no-snapd"
        ),
        pytest.param(True, False, ["snapd is installed but not running", "snapd.socket"], id="snapd-stopped"),
    ],
)
def test_snapd_problems(snap_installed: bool, snapd_running: bool, expected: list[str]) -> None:
    problems = microk8s_host_problems(
        profile_of("nuc"), ARCHITECTURES, snap_installed=snap_installed, snapd_running=snapd_running
    )

    assert len(problems) == 1
    for fragment in expected:
        assert fragment in problems[0]


def test_every_problem_is_listed_at_once() -> None:
    profile = profile_of("rpi4-bookworm")
    profile["arch"] = "armhf"

    problems = microk8s_host_problems(profile, ARCHITECTURES, snap_installed=False, snapd_running=False)

    assert len(problems) == 3
    assert problems[0].startswith("snapd is not installed")
    assert "armhf (a 32-bit userland: install a 64-bit OS)" in problems[1]
    assert all(p in problems[2] for p in PI_PARAMETERS)


@pytest.mark.parametrize(
    ("arch", "expected"),
    [
        pytest.param(
            "riscv64", "architecture riscv64 is not one microk8s is published for (amd64, arm64)", id="riscv64"
        ),
        pytest.param(None, "architecture is unknown", id="unknown"),
    ],
)
def test_unsupported_architecture(arch: str | None, expected: str) -> None:
    profile = profile_of("nuc")
    profile["arch"] = arch

    (message,) = microk8s_host_problems(profile, ARCHITECTURES)

    assert expected in message


def test_input_is_not_changed() -> None:
    profile = profile_of("rpi4-bookworm")
    before = copy.deepcopy(profile)

    microk8s_host_problems(profile, ARCHITECTURES, boot_cmdline="")

    assert profile == before


@pytest.mark.parametrize(
    ("profile", "architectures", "boot_cmdline"),
    [
        pytest.param("rpi", ARCHITECTURES, None, id="profile-not-a-mapping"),
        pytest.param({}, "amd64", None, id="architectures-not-a-list"),
        pytest.param({}, ARCHITECTURES, ["console=tty1"], id="cmdline-not-text"),
    ],
)
def test_bad_arguments_raise(profile: Any, architectures: Any, boot_cmdline: Any) -> None:
    with pytest.raises(AnsibleFilterError):
        microk8s_host_problems(profile, architectures, boot_cmdline=boot_cmdline)
