# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.drover.platform.plugins.module_utils._host_profile import (
    HostProfile,
    InvalidArgumentError,
    RootNotFoundError,
    read_host_profile,
)
from ansible_collections.drover.platform.plugins.modules import host_profile as module

FIXTURES = Path(__file__).parents[2] / "fixtures" / "host_profile"

# Written from the fixture files: MemTotal and swap sizes are kB / 1024,
# rounded down; cpus counts the `processor` lines.
EXPECTED: dict[str, dict[str, Any]] = {
    "rpi4-bookworm": {
        "class": "rpi",
        "class_source": "detected",
        "detected_class": "rpi",
        "class_evidence": "device-tree model 'Raspberry Pi 4 Model B Rev 1.4'",
        "model": "Raspberry Pi 4 Model B Rev 1.4",
        "arch": "arm64",
        "cpus": 4,
        "memory_mb": 3789,  # 3880412 kB
        "swap": {"total_mb": 99, "devices": ["/var/swap"], "active": True},  # 102396 kB
        "cgroup": {
            "version": 2,
            "memory_enabled": False,
            "memory_missing_parameters": ["cgroup_enable=memory", "cgroup_memory=1"],
        },
        "boot": {"cmdline_path": "/boot/firmware/cmdline.txt", "grub_default": None, "kind": "rpi_firmware"},
        "reboot_required": False,
        "virtualization": "none",
        "can_carry": {"stateful": True, "kubernetes": False, "docker": True},
    },
    "rpi5-bookworm": {
        "class": "rpi",
        "class_source": "detected",
        "detected_class": "rpi",
        "class_evidence": "device-tree model 'Raspberry Pi 5 Model B Rev 1.0'",
        "model": "Raspberry Pi 5 Model B Rev 1.0",
        "arch": "arm64",
        "cpus": 4,
        "memory_mb": 8052,  # 8245984 kB
        "swap": {"total_mb": 0, "devices": [], "active": False},
        "cgroup": {"version": 2, "memory_enabled": True, "memory_missing_parameters": []},
        "boot": {"cmdline_path": "/boot/firmware/cmdline.txt", "grub_default": None, "kind": "rpi_firmware"},
        "reboot_required": False,
        "virtualization": "none",
        "can_carry": {"stateful": True, "kubernetes": True, "docker": True},
    },
    "nuc": {
        "class": "nuc",
        "class_source": "detected",
        "detected_class": "nuc",
        "class_evidence": "DMI 'Intel(R) Client Systems' 'NUC11PAHi5'",
        "model": "Intel(R) Client Systems NUC11PAHi5",
        "arch": "amd64",
        "cpus": 8,
        "memory_mb": 15740,  # 16118716 kB
        "swap": {"total_mb": 0, "devices": [], "active": False},
        "cgroup": {"version": 2, "memory_enabled": True, "memory_missing_parameters": []},
        "boot": {"cmdline_path": None, "grub_default": "/etc/default/grub", "kind": "grub"},
        "reboot_required": True,  # var/run/reboot-required
        "virtualization": "none",
        "can_carry": {"stateful": True, "kubernetes": True, "docker": True},
    },
    "pc": {
        "class": "pc",
        "class_source": "detected",
        "detected_class": "pc",
        "class_evidence": "DMI chassis_type 3 (Desktop)",
        "model": "Dell Inc. OptiPlex 7090",
        "arch": "amd64",
        "cpus": 12,
        "memory_mb": 15812,  # 16191536 kB
        "swap": {"total_mb": 975, "devices": ["/dev/nvme0n1p3"], "active": True},  # 999420 kB
        "cgroup": {"version": 2, "memory_enabled": True, "memory_missing_parameters": []},
        "boot": {"cmdline_path": None, "grub_default": "/etc/default/grub", "kind": "grub"},
        "reboot_required": False,
        "virtualization": "none",
        "can_carry": {"stateful": True, "kubernetes": False, "docker": True},
    },
    "vm": {
        "class": "vm",
        "class_source": "detected",
        "detected_class": "vm",
        "class_evidence": "hypervisor qemu",
        "model": "QEMU Standard PC (Q35 + ICH9, 2009)",
        "arch": "amd64",
        "cpus": 2,
        "memory_mb": 1967,  # 2014244 kB
        "swap": {"total_mb": 0, "devices": [], "active": False},
        "cgroup": {"version": 2, "memory_enabled": True, "memory_missing_parameters": []},
        "boot": {"cmdline_path": None, "grub_default": "/etc/default/grub", "kind": "grub"},
        "reboot_required": False,
        "virtualization": "qemu",
        "can_carry": {"stateful": False, "kubernetes": True, "docker": True},
    },
    # Docker on the NUC: the host's DMI, CPUs and memory show through.
    "container": {
        "class": "container",
        "class_source": "detected",
        "detected_class": "container",
        "class_evidence": "container marker (docker)",
        "model": "Intel(R) Client Systems NUC11PAHi5",
        "arch": "amd64",
        "cpus": 8,
        "memory_mb": 15740,
        "swap": {"total_mb": 0, "devices": [], "active": False},
        "cgroup": {"version": 2, "memory_enabled": True, "memory_missing_parameters": []},
        "boot": {"cmdline_path": None, "grub_default": None, "kind": "none"},
        "reboot_required": False,
        "virtualization": "docker",
        "can_carry": {"stateful": True, "kubernetes": True, "docker": True},
    },
}


def fixture_root(name: str) -> str:
    return str(FIXTURES / name)


def fixture_machine(name: str) -> str:
    """`uname -m` of the fixture's host, kept beside its files."""
    return (FIXTURES / name / "machine").read_text().strip()


def profile_of(name: str, **options: Any) -> dict[str, Any]:
    return read_host_profile(root=fixture_root(name), machine=fixture_machine(name), **options).as_dict()


def write_tree(root: Path, files: dict[str, str]) -> str:
    for host_path, text in files.items():
        target = root / host_path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return str(root)


def copy_fixture(name: str, dest: Path) -> Path:
    target = dest / name
    shutil.copytree(FIXTURES / name, target)
    return target


def test_every_fixture_has_expectations() -> None:
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_profile(name: str) -> None:
    assert profile_of(name) == EXPECTED[name]


@pytest.mark.parametrize(
    ("name", "declared", "detected"),
    [
        ("container", "rpi", "container"),  # a lab host standing in for a Pi
        ("pc", "nuc", "pc"),
        ("vm", "pc", "vm"),
        ("rpi4-bookworm", "rpi", "rpi"),
    ],
)
def test_declared_class_wins(name: str, declared: str, detected: str) -> None:
    profile = profile_of(name, declared_class=declared)
    assert (profile["class"], profile["class_source"], profile["detected_class"]) == (declared, "declared", detected)


def test_declared_class_changes_only_class_facts() -> None:
    declared = profile_of("pc", declared_class="nuc")
    detected = profile_of("pc")
    for key in ("class", "class_source"):
        declared.pop(key)
        detected.pop(key)
    assert declared == detected


def test_declared_rpi_lists_missing_parameters_when_memory_is_off(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"/sys/fs/cgroup/cgroup.controllers": "cpuset cpu io pids\n", "/proc/cmdline": "ro\n"})
    cgroup = read_host_profile(root=root, declared_class="rpi").as_dict()["cgroup"]
    assert cgroup == {
        "version": 2,
        "memory_enabled": False,
        "memory_missing_parameters": ["cgroup_enable=memory", "cgroup_memory=1"],
    }


def test_missing_files_give_unknowns(tmp_path: Path) -> None:
    assert read_host_profile(root=str(tmp_path)).as_dict() == {
        "class": "unknown",
        "class_source": "detected",
        "detected_class": "unknown",
        "class_evidence": "no container marker, device-tree model or DMI found",
        "model": None,
        "arch": None,
        "cpus": None,
        "memory_mb": None,
        "swap": {"total_mb": None, "devices": None, "active": None},
        "cgroup": {"version": None, "memory_enabled": None, "memory_missing_parameters": []},
        "boot": {"cmdline_path": None, "grub_default": None, "kind": "none"},
        "reboot_required": False,
        "virtualization": "none",
        "can_carry": {"stateful": None, "kubernetes": None, "docker": True},
    }


def test_declared_rpi_with_unknown_cgroup_has_unknown_missing_parameters(tmp_path: Path) -> None:
    cgroup = read_host_profile(root=str(tmp_path), declared_class="rpi").as_dict()["cgroup"]
    assert cgroup["memory_missing_parameters"] is None


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param({"/proc/meminfo": "MemTotal:       garbage kB\n"}, {"memory_mb": None}, id="meminfo-garbled"),
        pytest.param({"/proc/meminfo": "MemFree:         1024 kB\n"}, {"memory_mb": None}, id="meminfo-no-total"),
        pytest.param({"/proc/cpuinfo": "\n"}, {"cpus": None}, id="cpuinfo-empty"),
        pytest.param({"/sys/class/dmi/id/chassis_type": "desk\n"}, {"class": "unknown"}, id="chassis-garbled"),
        pytest.param(
            {"/proc/cgroups": "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"},
            {"cgroup": {"version": 1, "memory_enabled": None, "memory_missing_parameters": []}},
            id="cgroups-no-memory-row",
        ),
        pytest.param(
            {"/proc/swaps": "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/swapfile\n"},
            {"swap": {"total_mb": 0, "devices": [], "active": False}},
            id="swaps-short-line",
        ),
    ],
)
def test_malformed_files_give_unknowns(tmp_path: Path, files: dict[str, str], expected: dict[str, Any]) -> None:
    profile = read_host_profile(root=write_tree(tmp_path, files)).as_dict()
    assert {key: profile[key] for key in expected} == expected


def test_unreadable_file_is_unknown(tmp_path: Path) -> None:
    (tmp_path / "proc" / "meminfo").mkdir(parents=True)  # open() fails with IsADirectoryError
    assert read_host_profile(root=str(tmp_path)).memory_mb is None


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"/.dockerenv": ""}, "docker"),
        ({"/run/.containerenv": 'engine="podman-4.3.1"\n'}, "podman"),
        ({"/run/systemd/container": "lxc\n"}, "lxc"),
        ({"/run/systemd/container": "lxc-libvirt\n"}, "lxc"),
        ({"/run/systemd/container": "systemd-nspawn\n"}, "systemd-nspawn"),
        ({"/proc/1/cgroup": "12:memory:/docker/3f1e2d4c5b6a\n11:pids:/docker/3f1e2d4c5b6a\n"}, "docker"),
        ({"/proc/1/cgroup": "0::/system.slice/docker-3f1e2d4c5b6a.scope\n"}, "docker"),
        ({"/proc/1/cgroup": "0::/machine.slice/libpod-3f1e2d4c5b6a.scope/container\n"}, "podman"),
        ({"/proc/1/cgroup": "1:name=systemd:/lxc/web1\n"}, "lxc"),
        ({"/proc/1/cgroup": "0::/lxc.payload.web1\n"}, "lxc"),
    ],
)
def test_container_markers(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    profile = read_host_profile(root=write_tree(tmp_path, files))
    assert (profile.detected_class, profile.virtualization) == ("container", expected)


def test_host_init_cgroup_is_no_container(tmp_path: Path) -> None:
    profile = read_host_profile(root=write_tree(tmp_path, {"/proc/1/cgroup": "0::/init.scope\n"}))
    assert (profile.detected_class, profile.virtualization) == ("unknown", "none")


def test_container_wins_over_raspberry_pi(tmp_path: Path) -> None:
    root = copy_fixture("rpi4-bookworm", tmp_path)
    (root / ".dockerenv").write_text("")
    profile = read_host_profile(root=str(root))
    assert (profile.detected_class, profile.model) == ("container", "Raspberry Pi 4 Model B Rev 1.4")


DMI = "/sys/class/dmi/id"


@pytest.mark.parametrize(
    ("files", "expected_class", "expected_virtualization"),
    [
        pytest.param(
            {f"{DMI}/sys_vendor": "VMware, Inc.\n", f"{DMI}/product_name": "VMware7,1\n", f"{DMI}/chassis_type": "1\n"},
            "vm",
            "vmware",
            id="vmware",
        ),
        pytest.param(
            {f"{DMI}/sys_vendor": "innotek GmbH\n", f"{DMI}/product_name": "VirtualBox\n"},
            "vm",
            "oracle",
            id="virtualbox",
        ),
        pytest.param(
            {
                f"{DMI}/sys_vendor": "Microsoft Corporation\n",
                f"{DMI}/product_name": "Virtual Machine\n",
                f"{DMI}/chassis_type": "3\n",
            },
            "vm",
            "microsoft",
            id="hyper-v",
        ),
        pytest.param(
            {
                f"{DMI}/sys_vendor": "Microsoft Corporation\n",
                f"{DMI}/product_name": "Surface Laptop 4\n",
                f"{DMI}/chassis_type": "9\n",
            },
            "pc",
            "none",
            id="surface-is-no-vm",
        ),
        pytest.param({f"{DMI}/sys_vendor": "Xen\n", f"{DMI}/product_name": "HVM domU\n"}, "vm", "xen", id="xen-hvm"),
        pytest.param({"/sys/hypervisor/type": "xen\n"}, "vm", "xen", id="xen-pv"),
        pytest.param(
            {
                f"{DMI}/sys_vendor": "Parallels International GmbH.\n",
                f"{DMI}/product_name": "Parallels ARM Virtual Machine\n",
            },
            "vm",
            "parallels",
            id="parallels",
        ),
        pytest.param({f"{DMI}/sys_vendor": "Red Hat\n", f"{DMI}/product_name": "KVM\n"}, "vm", "kvm", id="rhel-kvm"),
        pytest.param(
            {"/proc/cpuinfo": "processor\t: 0\nflags\t\t: fpu vme hypervisor lahf_lm\n"}, "vm", "vm", id="cpu-flag-only"
        ),
    ],
)
def test_hypervisors(tmp_path: Path, files: dict[str, str], expected_class: str, expected_virtualization: str) -> None:
    profile = read_host_profile(root=write_tree(tmp_path, files))
    assert (profile.detected_class, profile.virtualization) == (expected_class, expected_virtualization)


@pytest.mark.parametrize(
    ("files", "expected_class", "expected_model"),
    [
        pytest.param(
            {
                f"{DMI}/sys_vendor": "Intel Corporation\n",
                f"{DMI}/product_name": "NUC8i5BEH\n",
                f"{DMI}/chassis_type": "3\n",
            },
            "nuc",
            "Intel Corporation NUC8i5BEH",
            id="nuc8",
        ),
        pytest.param(
            {f"{DMI}/sys_vendor": "ASUSTeK COMPUTER INC.\n", f"{DMI}/product_name": "NUC14RVH\n"},
            "nuc",
            "ASUSTeK COMPUTER INC. NUC14RVH",
            id="asus-nuc",
        ),
        # Some NUC BIOSes leave the system strings unset; the board still says NUC.
        pytest.param(
            {
                f"{DMI}/sys_vendor": "To Be Filled By O.E.M.\n",
                f"{DMI}/product_name": "To Be Filled By O.E.M.\n",
                f"{DMI}/board_vendor": "Intel Corporation\n",
                f"{DMI}/board_name": "NUC7i3BNB\n",
            },
            "nuc",
            "Intel Corporation NUC7i3BNB",
            id="nuc-board-only",
        ),
        pytest.param(
            {
                f"{DMI}/sys_vendor": "Intel Corporation\n",
                f"{DMI}/product_name": "S2600WFT\n",
                f"{DMI}/chassis_type": "23\n",
            },
            "pc",
            "Intel Corporation S2600WFT",
            id="intel-server-is-no-nuc",
        ),
        pytest.param(
            {
                f"{DMI}/sys_vendor": "System manufacturer\n",
                f"{DMI}/product_name": "System Product Name\n",
                f"{DMI}/board_vendor": "ASUSTeK COMPUTER INC.\n",
                f"{DMI}/board_name": "PRIME B560M-A\n",
                f"{DMI}/chassis_type": "3\n",
            },
            "pc",
            "ASUSTeK COMPUTER INC. PRIME B560M-A",
            id="self-built-pc",
        ),
        pytest.param(
            {f"{DMI}/sys_vendor": "LENOVO\n", f"{DMI}/product_name": "20XW0055GE\n", f"{DMI}/chassis_type": "10\n"},
            "pc",
            "LENOVO 20XW0055GE",
            id="laptop",
        ),
        pytest.param(
            {"/proc/device-tree/model": "Radxa ROCK 5 Model B\0"},
            "unknown",
            "Radxa ROCK 5 Model B",
            id="other-arm-board",
        ),
    ],
)
def test_dmi_classes(tmp_path: Path, files: dict[str, str], expected_class: str, expected_model: str) -> None:
    profile = read_host_profile(root=write_tree(tmp_path, files))
    assert (profile.detected_class, profile.model) == (expected_class, expected_model)


@pytest.mark.parametrize(
    ("cmdline", "expected"),
    [
        pytest.param("console=tty1 rootwait\n", ["cgroup_enable=memory", "cgroup_memory=1"], id="neither"),
        pytest.param(
            "console=tty1 cgroup_enable=cpuset cgroup_enable=memory rootwait\n", ["cgroup_memory=1"], id="enable-only"
        ),
        pytest.param("console=tty1 cgroup_memory=1\n", ["cgroup_enable=memory"], id="memory-only"),
        pytest.param("console=tty1 cgroup_enable=memory cgroup_memory=1\n", [], id="both-but-still-off"),
        pytest.param(None, ["cgroup_enable=memory", "cgroup_memory=1"], id="no-proc-cmdline"),
    ],
)
def test_pi_missing_memory_parameters(tmp_path: Path, cmdline: str | None, expected: list[str]) -> None:
    root = copy_fixture("rpi4-bookworm", tmp_path)
    if cmdline is None:
        (root / "proc" / "cmdline").unlink()
    else:
        (root / "proc" / "cmdline").write_text(cmdline)
    assert read_host_profile(root=str(root)).cgroup.memory_missing_parameters == expected


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"/proc/cgroups": "#subsys_name\thierarchy\tnum_cgroups\tenabled\nmemory\t4\t13\t1\n"},
            {"version": 1, "memory_enabled": True, "memory_missing_parameters": []},
            id="v1-on",
        ),
        pytest.param(
            {"/proc/cgroups": "#subsys_name\thierarchy\tnum_cgroups\tenabled\nmemory\t0\t1\t0\n"},
            {"version": 1, "memory_enabled": False, "memory_missing_parameters": []},
            id="v1-off",
        ),
        pytest.param(
            {
                "/proc/cgroups": "#subsys_name\thierarchy\tnum_cgroups\tenabled\nmemory\t4\t13\t1\n",
                "/sys/fs/cgroup/unified/cgroup.controllers": "\n",
            },
            {"version": 1, "memory_enabled": True, "memory_missing_parameters": []},
            id="hybrid",
        ),
        pytest.param(
            {"/sys/fs/cgroup/cgroup.controllers": "\n"},
            {"version": 2, "memory_enabled": False, "memory_missing_parameters": []},
            id="v2-none-delegated",
        ),
    ],
)
def test_cgroup_versions(tmp_path: Path, files: dict[str, str], expected: dict[str, Any]) -> None:
    assert read_host_profile(root=write_tree(tmp_path, files)).as_dict()["cgroup"] == expected


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"/boot/cmdline.txt": "console=serial0,115200 root=PARTUUID=738a4d67-02 rootwait\n"},
            {"cmdline_path": "/boot/cmdline.txt", "grub_default": None, "kind": "rpi_boot"},
            id="bullseye-pi",
        ),
        pytest.param(
            {"/boot/firmware/cmdline.txt": "console=tty1\n", "/etc/default/grub": "GRUB_DEFAULT=0\n"},
            {"cmdline_path": "/boot/firmware/cmdline.txt", "grub_default": "/etc/default/grub", "kind": "rpi_firmware"},
            id="pi-with-grub-file",
        ),
    ],
)
def test_boot_locations(tmp_path: Path, files: dict[str, str], expected: dict[str, Any]) -> None:
    assert read_host_profile(root=write_tree(tmp_path, files)).as_dict()["boot"] == expected


@pytest.mark.parametrize("path", ["/var/run/reboot-required", "/run/reboot-required"])
def test_reboot_required(tmp_path: Path, path: str) -> None:
    assert read_host_profile(root=write_tree(tmp_path, {path: "*** System restart required ***\n"})).reboot_required


def test_swap_paths_are_unescaped(tmp_path: Path) -> None:
    swaps = (
        "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
        "/mnt/swap\\040file                       file\t\t524284\t\t0\t\t-2\n"
        "/dev/zram0                              partition\t2097148\t\t1024\t\t100\n"
    )
    swap = read_host_profile(root=write_tree(tmp_path, {"/proc/swaps": swaps})).as_dict()["swap"]
    assert swap == {"total_mb": 2559, "devices": ["/mnt/swap file", "/dev/zram0"], "active": True}


@pytest.mark.parametrize(
    ("name", "threshold", "expected"),
    [
        ("vm", 1967, True),  # exactly MemTotal
        ("vm", 1968, False),
        ("rpi4-bookworm", 4096, False),
        ("rpi4-bookworm", 0, True),
    ],
)
def test_stateful_threshold(name: str, threshold: int, expected: bool) -> None:
    assert profile_of(name, stateful_min_memory_mb=threshold)["can_carry"]["stateful"] is expected


def test_root_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(RootNotFoundError, match="is not a directory"):
        read_host_profile(root=str(tmp_path / "missing"))


@pytest.mark.parametrize(
    "options",
    [{"declared_class": "laptop"}, {"stateful_min_memory_mb": -1}],
)
def test_invalid_arguments(tmp_path: Path, options: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgumentError):
        read_host_profile(root=str(tmp_path), **options)


def test_profile_is_a_dataclass_with_class_key() -> None:
    profile = read_host_profile(root=fixture_root("nuc"), machine="x86_64")
    assert isinstance(profile, HostProfile)
    assert profile.host_class == profile.as_dict()["class"] == "nuc"


# The module: run() is what main() calls with AnsibleModule's params.
def module_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"declared_class": None, "root": "/", "stateful_min_memory_mb": 2048}
    params.update(overrides)
    return params


def test_module_run_returns_facts() -> None:
    result = module.run(module_params(root=fixture_root("rpi4-bookworm")), "aarch64", 64)
    assert set(result) == {"changed", "ansible_facts"}
    assert result["changed"] is False
    assert list(result["ansible_facts"]) == ["drover_host_profile"]
    facts = result["ansible_facts"]["drover_host_profile"]
    assert facts == EXPECTED["rpi4-bookworm"]
    assert json.loads(json.dumps(result)) == result


def test_module_run_passes_every_option() -> None:
    params = module_params(root=fixture_root("rpi4-bookworm"), declared_class="pc", stateful_min_memory_mb=4096)
    facts = module.run(params, "aarch64", 32)["ansible_facts"]["drover_host_profile"]
    assert (facts["class"], facts["class_source"], facts["arch"], facts["can_carry"]["stateful"]) == (
        "pc",
        "declared",
        "armhf",
        False,
    )


def returned_keys(spec: dict[str, Any]) -> dict[str, Any]:
    return {key: returned_keys(value.get("contains", {})) for key, value in spec.items()}


def test_module_documents_what_it_returns() -> None:
    documented = returned_keys(yaml.safe_load(module.RETURN))["ansible_facts"]["drover_host_profile"]
    facts = module.run(module_params(root=fixture_root("pc")), "x86_64", 64)["ansible_facts"]["drover_host_profile"]
    actual = {key: ({sub: {} for sub in value} if isinstance(value, dict) else {}) for key, value in facts.items()}
    assert documented == actual


def test_module_documents_its_options() -> None:
    options = yaml.safe_load(module.DOCUMENTATION)["options"]
    assert {name: (o["type"], o.get("default"), o.get("choices")) for name, o in options.items()} == {
        name: (spec["type"], spec.get("default"), spec.get("choices")) for name, spec in module.ARGUMENT_SPEC.items()
    }
