# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one architecture table: the names `uname -m`, Debian and Docker give a CPU.

`uname -m` (and so Ansible's ansible_architecture) says x86_64 or armv7l,
Debian's packages say amd64 or armhf, Docker's images say amd64 or arm/v7
(Go's GOARCH with a variant). Every plugin outside the renderers that turns
one into another reads this table:

* debian_arch: what host_profile reports as `arch` (apt's name);
* Platform / parse_platform / docker_platform: an image's os/arch[/variant],
  as registry_digest and the docker_arch filter compare and print them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class InvalidPlatform(ValueError):
    """A name that is no architecture Docker knows, or not written as [os/]architecture[/variant]."""


# Go's GOARCH values, which images name their architecture by.
ARCHITECTURES = frozenset(
    (
        "386",
        "amd64",
        "arm",
        "arm64",
        "loong64",
        "mips",
        "mipsle",
        "mips64",
        "mips64le",
        "ppc64",
        "ppc64le",
        "riscv64",
        "s390x",
        "wasm",
    )
)
OPERATING_SYSTEMS = frozenset(("linux", "windows", "freebsd", "netbsd", "openbsd", "darwin", "illumos", "solaris"))


@dataclass(frozen=True)
class ArchName:
    """What one name for a CPU is in Debian's words and in Docker's."""

    debian: str
    docker: str
    variant: str | None = None


# Every name `uname -m`, Debian or Docker uses for the CPUs a fleet may hold.
# The Docker column is the table containerd normalises with; a Debian userland
# on a v6 or v8 ARM in 32-bit mode is armhf (Raspberry Pi OS), on a v5 armel.
ARCH_NAMES: dict[str, ArchName] = {
    "x86_64": ArchName("amd64", "amd64"),
    "x86-64": ArchName("amd64", "amd64"),
    "amd64": ArchName("amd64", "amd64"),
    "aarch64": ArchName("arm64", "arm64"),
    "arm64": ArchName("arm64", "arm64"),
    "armv8l": ArchName("armhf", "arm", "v8"),
    "armv7l": ArchName("armhf", "arm", "v7"),
    "armv7": ArchName("armhf", "arm", "v7"),
    "armhf": ArchName("armhf", "arm", "v7"),
    "armv6l": ArchName("armhf", "arm", "v6"),
    "armv6": ArchName("armhf", "arm", "v6"),
    "armel": ArchName("armel", "arm", "v6"),
    "armv5tel": ArchName("armel", "arm", "v5"),
    "armv5tejl": ArchName("armel", "arm", "v5"),
    "armv5l": ArchName("armel", "arm", "v5"),
    "i386": ArchName("i386", "386"),
    "i486": ArchName("i386", "386"),
    "i586": ArchName("i386", "386"),
    "i686": ArchName("i386", "386"),
    "ppc64le": ArchName("ppc64el", "ppc64le"),
    "ppc64el": ArchName("ppc64el", "ppc64le"),
    "s390x": ArchName("s390x", "s390x"),
    "riscv64": ArchName("riscv64", "riscv64"),
    "loongarch64": ArchName("loong64", "loong64"),
}
# A 64-bit kernel can run a 32-bit userland (32-bit Raspberry Pi OS does so
# on a Pi 4 or 5 by default); packages must match the userland.
USERLAND_32_BIT = {"arm64": "armhf", "amd64": "i386"}
# The variant an architecture means when none is written.
DEFAULT_VARIANT = {"arm": "v7", "arm64": "v8", "amd64": "v1"}
_VARIANT = re.compile(r"v?(\d+)(?:\.(\d+))?")
UNKNOWN = "unknown"


def debian_arch(machine: str | None, userland_bits: int | None = None) -> str | None:
    """Debian's name for the architecture that `uname -m` reports; a name the table lacks passes through.

    userland_bits (32 or 64, from the running Python) corrects a 64-bit
    kernel that runs a 32-bit userland.
    """
    if not machine:
        return None
    lowered = machine.strip().lower()
    known = ARCH_NAMES.get(lowered)
    arch = known.debian if known else lowered
    if userland_bits == 32:
        arch = USERLAND_32_BIT.get(arch, arch)
    return arch or None


@dataclass(frozen=True, order=True)
class Platform:
    """os/architecture[/variant], as an image or a requirement names it."""

    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        return "/".join(part for part in (self.os, self.architecture, self.variant) if part)

    @property
    def is_unknown(self) -> bool:
        """BuildKit's attestation manifests say unknown/unknown: they run nowhere."""
        return self.os == UNKNOWN or self.architecture == UNKNOWN

    def normalised(self) -> Platform:
        """Aliases resolved and the default variant made explicit, so that arm64 == arm64/v8."""
        os_name = self.os.lower()
        architecture = self.architecture.lower()
        variant = self.variant.lower() if self.variant else None
        known = ARCH_NAMES.get(architecture)
        if known:
            architecture, variant = known.docker, variant or known.variant
        if variant and re.fullmatch(r"\d+(?:\.\d+)?", variant):
            variant = f"v{variant}"
        return Platform(os_name, architecture, variant or DEFAULT_VARIANT.get(architecture))

    def canonical(self) -> Platform:
        """normalised(), with the variant left out where it is the default (arm64, amd64) but not for arm."""
        platform = self.normalised()
        if platform.architecture != "arm" and platform.variant == DEFAULT_VARIANT.get(platform.architecture):
            return Platform(platform.os, platform.architecture)
        return platform

    def runs_on(self, host: Platform) -> bool:
        """Whether an image of this platform runs on host: same OS and architecture, a variant no newer."""
        image, target = self.normalised(), host.normalised()
        if (image.os, image.architecture) != (target.os, target.architecture):
            return False
        if image.variant == target.variant:
            return True
        image_level, host_level = _variant_level(image.variant), _variant_level(target.variant)
        if image_level is None or host_level is None:
            return False
        return image_level <= host_level


def _variant_level(variant: str | None) -> tuple[int, int] | None:
    match = _VARIANT.fullmatch(variant or "")
    if not match:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def parse_platform(text: str) -> Platform:
    """[os/]architecture[/variant] in the words of Docker, `uname -m` or Debian, canonical; the OS defaults to linux."""
    parts = str(text).strip().lower().split("/")
    os_name = "linux"
    if len(parts) > 1 and parts[0] in OPERATING_SYSTEMS:
        os_name = parts.pop(0)
    if len(parts) > 2 or not all(parts):
        raise InvalidPlatform(
            f"{text!r} is not a platform: write architecture[/variant], such as amd64, arm64 or "
            "arm/v7, optionally after an OS (linux/arm64)"
        )
    architecture, variant = parts[0], parts[1] if len(parts) > 1 else None
    platform = Platform(os_name, architecture, variant).canonical()
    if platform.architecture not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES | set(ARCH_NAMES)))
        raise InvalidPlatform(f"{text!r} names no architecture Docker knows; known names: {known}")
    return platform


def docker_platform(name: str) -> str:
    """Docker's architecture[/variant] for a name `uname -m`, Debian or Docker uses: x86_64 -> amd64, armv7l -> arm/v7.

    The variant is left out where it is the default one (arm64, amd64).
    """
    platform = parse_platform(name)
    return "/".join(part for part in (platform.architecture, platform.variant) if part)
