# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The architecture table: Debian's name for a host, Docker's for an image, which image runs where."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.drover.platform.plugins.filter.docker_arch import docker_arch
from ansible_collections.drover.platform.plugins.module_utils._arch import (
    ARCH_NAMES,
    ARCHITECTURES,
    InvalidPlatform,
    Platform,
    debian_arch,
    docker_platform,
    parse_platform,
)


@pytest.mark.parametrize(
    ("machine", "userland_bits", "expected"),
    [
        ("x86_64", None, "amd64"),
        ("x86_64", 64, "amd64"),
        ("x86_64", 32, "i386"),
        ("aarch64", None, "arm64"),
        ("aarch64", 32, "armhf"),  # 32-bit Raspberry Pi OS on a 64-bit kernel
        ("arm64", 64, "arm64"),
        ("armv7l", None, "armhf"),
        ("armv6l", 32, "armhf"),
        ("armv5tel", None, "armel"),
        ("i686", None, "i386"),
        ("ppc64le", None, "ppc64el"),
        ("s390x", None, "s390x"),
        ("riscv64", None, "riscv64"),
        ("loongarch64", None, "loong64"),
        ("mips64", None, "mips64"),
        ("", None, None),
        (None, None, None),
    ],
)
def test_debian_arch(machine: str | None, userland_bits: int | None, expected: str | None) -> None:
    assert debian_arch(machine, userland_bits) == expected


def test_every_name_in_the_table_is_an_architecture_docker_knows() -> None:
    assert {name.docker for name in ARCH_NAMES.values()} <= ARCHITECTURES
    for name in ("ppc64le", "s390x", "riscv64"):
        assert parse_platform(name) == Platform("linux", name)


@pytest.mark.parametrize(
    ("name", "docker"),
    [
        ("x86_64", "amd64"),
        ("amd64", "amd64"),
        ("AMD64", "amd64"),
        ("amd64/v1", "amd64"),
        ("amd64/v3", "amd64/v3"),
        ("aarch64", "arm64"),
        ("arm64", "arm64"),
        ("arm64/v8", "arm64"),
        ("linux/arm64", "arm64"),
        ("armv7l", "arm/v7"),
        ("armv6l", "arm/v6"),
        ("armv8l", "arm/v8"),
        ("armv5tel", "arm/v5"),
        ("arm", "arm/v7"),
        ("arm/7", "arm/v7"),
        ("armhf", "arm/v7"),
        ("armel", "arm/v6"),
        ("i686", "386"),
        ("i386", "386"),
        ("ppc64el", "ppc64le"),
        ("ppc64le", "ppc64le"),
        ("s390x", "s390x"),
        ("riscv64", "riscv64"),
        ("loongarch64", "loong64"),
    ],
)
def test_docker_arch(name: str, docker: str) -> None:
    assert docker_platform(name) == docker
    assert docker_arch(name) == docker


@pytest.mark.parametrize("name", ["sparc64", "", "linux/arm/v7/x", "windows", "arm//v7"])
def test_unknown_architectures(name: str) -> None:
    with pytest.raises(InvalidPlatform):
        parse_platform(name)
    with pytest.raises(AnsibleFilterError):
        docker_arch(name)


@pytest.mark.parametrize(
    ("image", "host", "runs"),
    [
        pytest.param("linux/arm64/v8", "arm64", True, id="arm64-v8-on-arm64"),
        pytest.param("linux/arm64", "arm64/v8", True, id="arm64-on-arm64-v8"),
        pytest.param("linux/arm64", "aarch64", True, id="arm64-on-aarch64"),
        pytest.param("linux/arm/v7", "arm/v7", True, id="armv7"),
        pytest.param("linux/arm/v6", "armv7l", True, id="older-arm-variant"),
        pytest.param("linux/arm/v7", "armv6l", False, id="newer-arm-variant"),
        pytest.param("linux/arm", "arm/v7", True, id="arm-means-v7"),
        pytest.param("linux/arm/v7", "arm", True, id="required-arm-means-v7"),
        pytest.param("linux/arm/v7", "arm64", False, id="32-bit-for-64-bit-host"),
        pytest.param("linux/amd64", "x86_64", True, id="amd64"),
        pytest.param("linux/amd64/v3", "amd64", False, id="amd64-v3-on-baseline"),
        pytest.param("linux/amd64", "amd64/v3", True, id="baseline-on-amd64-v3"),
        pytest.param("linux/386", "amd64", False, id="386-is-not-amd64"),
        pytest.param("windows/amd64", "amd64", False, id="windows-image"),
        pytest.param("windows/amd64", "windows/amd64", True, id="windows-host"),
    ],
)
def test_runs_on(image: str, host: str, runs: bool) -> None:
    os_name, architecture, *variant = image.split("/")
    assert Platform(os_name, architecture, variant[0] if variant else None).runs_on(parse_platform(host)) is runs
