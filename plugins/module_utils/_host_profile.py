# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What kind of host this is and what it can carry, read from its files.

Everything is read under a root prefix, so that a fixture tree stands in for
a real host in tests. Nothing here writes, runs a command or needs
AnsibleModule. A file that is missing or unreadable makes the value it feeds
None (or the class "unknown"); only a root that is not a directory or an
argument out of range raises (HostProfileError).
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._arch import debian_arch

CLASSES = ("nuc", "pc", "rpi", "vm", "container")
UNKNOWN_CLASS = "unknown"

# The Raspberry Pi kernel leaves the memory controller off unless both are
# on the kernel command line (microk8s and k3s ask for the same two).
PI_MEMORY_CGROUP_PARAMETERS = ("cgroup_enable=memory", "cgroup_memory=1")

# Raspberry Pi OS bookworm moved the boot partition to /boot/firmware; the
# older location is tried second.
PI_CMDLINE_PATHS = (
    ("/boot/firmware/cmdline.txt", "rpi_firmware"),
    ("/boot/cmdline.txt", "rpi_boot"),
)
GRUB_DEFAULT_PATH = "/etc/default/grub"
REBOOT_REQUIRED_PATHS = ("/var/run/reboot-required", "/run/reboot-required")

DMI_DIR = "/sys/class/dmi/id"

# SMBIOS 3.x chassis types that a desktop, laptop or mini PC reports.
PC_CHASSIS_TYPES = {
    3: "Desktop",
    4: "Low Profile Desktop",
    5: "Pizza Box",
    6: "Mini Tower",
    7: "Tower",
    8: "Portable",
    9: "Laptop",
    10: "Notebook",
    13: "All in One",
    14: "Sub Notebook",
    15: "Space-saving",
    16: "Lunch Box",
    24: "Sealed-case PC",
    30: "Tablet",
    31: "Convertible",
    32: "Detachable",
    35: "Mini PC",
    36: "Stick PC",
}

# Board makers fill unused DMI strings with these; they name nothing.
DMI_PLACEHOLDERS = frozenset(
    {
        "",
        "default string",
        "not applicable",
        "not specified",
        "none",
        "o.e.m.",
        "system manufacturer",
        "system product name",
        "system version",
        "to be filled by o.e.m.",
    }
)

# ASUS builds NUCs since 2023 and kept Intel's product names.
NUC_VENDOR = re.compile(r"Intel|ASUSTeK", re.IGNORECASE)
NUC_PRODUCT = re.compile(r"\bNUC\d")

# DMI vendor or product prefixes a hypervisor leaves, with the name
# systemd-detect-virt gives it.
HYPERVISOR_DMI_PREFIXES = (
    ("QEMU", "qemu"),
    ("KVM", "kvm"),
    ("VMware", "vmware"),
    ("VMW", "vmware"),
    ("innotek GmbH", "oracle"),
    ("VirtualBox", "oracle"),
    ("Oracle Corporation", "oracle"),
    ("Xen", "xen"),
    ("Parallels", "parallels"),
)
HYPERV_VENDOR = "Microsoft Corporation"
HYPERV_PRODUCT = "Virtual Machine"


class HostProfileError(Exception):
    """The host profile cannot be read at all."""


class RootNotFoundError(HostProfileError):
    """The root prefix is not a directory."""


class InvalidArgumentError(HostProfileError):
    """An argument is outside what the profile accepts."""


@dataclass(frozen=True)
class Swap:
    total_mb: int | None
    devices: list[str] | None
    active: bool | None


@dataclass(frozen=True)
class Cgroup:
    version: int | None
    memory_enabled: bool | None
    memory_missing_parameters: list[str] | None


@dataclass(frozen=True)
class Boot:
    cmdline_path: str | None
    grub_default: str | None
    kind: str


@dataclass(frozen=True)
class CanCarry:
    stateful: bool | None
    kubernetes: bool | None
    docker: bool


@dataclass(frozen=True)
class Detection:
    host_class: str
    evidence: str


@dataclass(frozen=True)
class HostProfile:
    host_class: str
    class_source: str
    detected_class: str
    class_evidence: str
    model: str | None
    arch: str | None
    cpus: int | None
    memory_mb: int | None
    swap: Swap
    cgroup: Cgroup
    boot: Boot
    reboot_required: bool
    virtualization: str
    can_carry: CanCarry

    def as_dict(self) -> dict[str, Any]:
        """The profile as the facts show it (`class`, not `host_class`)."""
        facts = asdict(self)
        facts["class"] = facts.pop("host_class")
        return facts


class HostFiles:
    """Read-only view of a host's files under a root prefix."""

    def __init__(self, root: str = "/") -> None:
        self.root = root

    def path(self, host_path: str) -> str:
        return os.path.join(self.root, host_path.lstrip("/"))

    def exists(self, host_path: str) -> bool:
        return os.path.exists(self.path(host_path))

    def read_text(self, host_path: str) -> str | None:
        """The file's text, or None when it is missing or unreadable."""
        try:
            with open(self.path(host_path), "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        return data.decode("utf-8", errors="replace")

    def read_value(self, host_path: str) -> str | None:
        """A one-value file (sysfs, device tree), stripped; None when empty."""
        text = self.read_text(host_path)
        if text is None:
            return None
        value = text.replace("\0", "").strip()
        return value or None


def read_dmi(files: HostFiles, name: str) -> str | None:
    """A DMI string, or None when missing or a maker's placeholder."""
    value = files.read_value(f"{DMI_DIR}/{name}")
    if value is None or value.lower() in DMI_PLACEHOLDERS:
        return None
    return value


def read_chassis_type(files: HostFiles) -> int | None:
    value = files.read_value(f"{DMI_DIR}/chassis_type")
    if value is None or not value.isdigit():
        return None
    return int(value)


def read_device_tree_model(files: HostFiles) -> str | None:
    return files.read_value("/proc/device-tree/model")


def detect_container(files: HostFiles) -> str | None:
    """docker, podman, lxc (or what systemd was told), or None."""
    if files.exists("/.dockerenv"):
        return "docker"
    if files.exists("/run/.containerenv"):
        return "podman"
    manager = files.read_value("/run/systemd/container")
    if manager:
        return "lxc" if manager.startswith("lxc") else manager
    init_cgroup = files.read_text("/proc/1/cgroup") or ""
    for line in init_cgroup.splitlines():
        path = line.split(":", 2)[-1]
        if "/docker/" in path or "/docker-" in path:
            return "docker"
        if "libpod" in path:
            return "podman"
        if "/lxc/" in path or "/lxc.payload" in path:
            return "lxc"
    return None


def key_value(line: str) -> tuple[str, str]:
    """Key and value of a `key : value` line of /proc/cpuinfo or /proc/meminfo."""
    key, separator, value = line.partition(":")
    return key.strip(), value.strip() if separator else ""


def cpu_flags(cpuinfo: str | None) -> set[str]:
    """x86 CPU flags of the first processor (ARM has no flags line)."""
    for line in (cpuinfo or "").splitlines():
        key, value = key_value(line)
        if key == "flags":
            return set(value.split())
    return set()


def detect_hypervisor(files: HostFiles, cpuinfo: str | None) -> str | None:
    """The hypervisor's name when DMI, /sys/hypervisor or the CPU tell one.

    "vm" when the CPU says it runs under a hypervisor that nothing names.
    """
    vendor = read_dmi(files, "sys_vendor")
    product = read_dmi(files, "product_name")
    if vendor == HYPERV_VENDOR and product == HYPERV_PRODUCT:
        return "microsoft"
    for name in ("sys_vendor", "product_name", "board_vendor", "bios_vendor"):
        value = read_dmi(files, name)
        if value is None:
            continue
        for prefix, hypervisor in HYPERVISOR_DMI_PREFIXES:
            if value.startswith(prefix):
                return hypervisor
    hypervisor_type = files.read_value("/sys/hypervisor/type")
    if hypervisor_type:
        return hypervisor_type.lower()
    if "hypervisor" in cpu_flags(cpuinfo):
        return "vm"
    return None


def detect_class(files: HostFiles, container: str | None, hypervisor: str | None) -> Detection:
    """The host's class, tried in order from the most specific evidence."""
    if container:
        return Detection("container", f"container marker ({container})")
    model = read_device_tree_model(files)
    if model and "Raspberry Pi" in model:
        return Detection("rpi", f"device-tree model {model!r}")
    vendors = [v for v in (read_dmi(files, "sys_vendor"), read_dmi(files, "board_vendor")) if v]
    products = [p for p in (read_dmi(files, "product_name"), read_dmi(files, "board_name")) if p]
    if any(NUC_VENDOR.search(v) for v in vendors) and any(NUC_PRODUCT.search(p) for p in products):
        return Detection("nuc", f"DMI {vendors[0]!r} {products[0]!r}")
    if hypervisor:
        return Detection("vm", f"hypervisor {hypervisor}")
    chassis = read_chassis_type(files)
    if chassis in PC_CHASSIS_TYPES:
        return Detection("pc", f"DMI chassis_type {chassis} ({PC_CHASSIS_TYPES[chassis]})")
    if vendors or products:
        return Detection("pc", f"DMI present, chassis_type {chassis}")
    return Detection(UNKNOWN_CLASS, "no container marker, device-tree model or DMI found")


def read_model(files: HostFiles) -> str | None:
    """Device-tree model, else DMI maker and product (the board's if unset)."""
    model = read_device_tree_model(files)
    if model:
        return model
    for vendor_file, product_file in (("sys_vendor", "product_name"), ("board_vendor", "board_name")):
        parts = [p for p in (read_dmi(files, vendor_file), read_dmi(files, product_file)) if p]
        if parts:
            return " ".join(parts)
    return None


def count_cpus(cpuinfo: str | None) -> int | None:
    if cpuinfo is None:
        return None
    count = sum(1 for line in cpuinfo.splitlines() if key_value(line)[0] == "processor")
    return count or None


def read_memory_mb(files: HostFiles) -> int | None:
    """MemTotal in MiB, rounded down like Ansible's memtotal_mb."""
    for line in (files.read_text("/proc/meminfo") or "").splitlines():
        key, value = key_value(line)
        if key == "MemTotal":
            fields = value.split()
            if fields and fields[0].isdigit():
                return int(fields[0]) // 1024
    return None


def unescape_proc_path(path: str) -> str:
    """Undo the octal escapes (\\040 for a space) the kernel puts in paths."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), path)


def read_swap(files: HostFiles) -> Swap:
    text = files.read_text("/proc/swaps")
    if text is None:
        return Swap(total_mb=None, devices=None, active=None)
    devices: list[str] = []
    total_kb = 0
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 3:
            continue
        devices.append(unescape_proc_path(fields[0]))
        if fields[2].isdigit():
            total_kb += int(fields[2])
    return Swap(total_mb=total_kb // 1024, devices=devices, active=bool(devices))


def cmdline_parameters(text: str | None) -> list[str]:
    return (text or "").split()


def read_cgroup(files: HostFiles, host_class: str) -> Cgroup:
    """cgroup version and whether the memory controller is really there.

    v2 when the unified hierarchy is mounted on /sys/fs/cgroup itself; a
    hybrid host (v2 only under /sys/fs/cgroup/unified) counts as v1, since
    its controllers live on the v1 hierarchies.
    """
    controllers = files.read_text("/sys/fs/cgroup/cgroup.controllers")
    memory_enabled: bool | None
    if controllers is not None:
        version: int | None = 2
        memory_enabled = "memory" in controllers.split()
    else:
        v1_table = files.read_text("/proc/cgroups")
        version = 1 if v1_table is not None else None
        memory_enabled = memory_enabled_v1(v1_table)
    if host_class != "rpi" or memory_enabled:
        missing: list[str] | None = []
    elif memory_enabled is None:
        missing = None
    else:
        running = cmdline_parameters(files.read_text("/proc/cmdline"))
        missing = [p for p in PI_MEMORY_CGROUP_PARAMETERS if p not in running]
    return Cgroup(version=version, memory_enabled=memory_enabled, memory_missing_parameters=missing)


def memory_enabled_v1(table: str | None) -> bool | None:
    """The `enabled` column of the memory row of /proc/cgroups."""
    for line in (table or "").splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[0] == "memory":
            return fields[3] == "1"
    return None


def read_boot(files: HostFiles) -> Boot:
    cmdline_path = None
    kind = "none"
    for path, path_kind in PI_CMDLINE_PATHS:
        if files.exists(path):
            cmdline_path, kind = path, path_kind
            break
    grub_default = GRUB_DEFAULT_PATH if files.exists(GRUB_DEFAULT_PATH) else None
    if cmdline_path is None and grub_default is not None:
        kind = "grub"
    return Boot(cmdline_path=cmdline_path, grub_default=grub_default, kind=kind)


def can_carry(memory_mb: int | None, swap: Swap, cgroup: Cgroup, stateful_min_memory_mb: int) -> CanCarry:
    stateful = None if memory_mb is None else memory_mb >= stateful_min_memory_mb
    if cgroup.memory_enabled is False or swap.active is True:
        kubernetes: bool | None = False
    elif cgroup.memory_enabled is None or swap.active is None:
        kubernetes = None
    else:
        kubernetes = True
    return CanCarry(stateful=stateful, kubernetes=kubernetes, docker=True)


def check_root(root: str) -> None:
    if not os.path.isdir(root):
        raise RootNotFoundError(f"root {root!r} is not a directory; give the host's root, normally '/'")


def read_host_profile(
    root: str = "/",
    machine: str | None = None,
    declared_class: str | None = None,
    stateful_min_memory_mb: int = 2048,
    userland_bits: int | None = None,
) -> HostProfile:
    """Profile the host whose files are under root.

    machine is `uname -m` of that host (platform.machine() on the host
    itself); declared_class, when given, wins over the detected class.
    """
    check_root(root)
    if declared_class is not None and declared_class not in CLASSES:
        raise InvalidArgumentError(f"declared class {declared_class!r} is not one of {', '.join(CLASSES)}")
    if stateful_min_memory_mb < 0:
        raise InvalidArgumentError(f"stateful_min_memory_mb must be 0 or more, not {stateful_min_memory_mb}")

    files = HostFiles(root)
    cpuinfo = files.read_text("/proc/cpuinfo")
    container = detect_container(files)
    hypervisor = detect_hypervisor(files, cpuinfo)
    detection = detect_class(files, container, hypervisor)
    host_class = declared_class or detection.host_class
    memory_mb = read_memory_mb(files)
    swap = read_swap(files)
    cgroup = read_cgroup(files, host_class)
    return HostProfile(
        host_class=host_class,
        class_source="declared" if declared_class else "detected",
        detected_class=detection.host_class,
        class_evidence=detection.evidence,
        model=read_model(files),
        arch=debian_arch(machine, userland_bits),
        cpus=count_cpus(cpuinfo),
        memory_mb=memory_mb,
        swap=swap,
        cgroup=cgroup,
        boot=read_boot(files),
        reboot_required=any(files.exists(path) for path in REBOOT_REQUIRED_PATHS),
        virtualization=container or hypervisor or "none",
        can_carry=can_carry(memory_mb, swap, cgroup, stateful_min_memory_mb),
    )
