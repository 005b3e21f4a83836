# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: microk8s_host_problems
short_description: List what keeps microk8s from running on a host
version_added: 0.1.0
description:
  - Reads a host's C(drover_host_profile) facts (M(drover.platform.host_profile)) and what the microk8s role's
    preflight found on the host, and returns one message per problem, each saying what to do; an empty list when
    microk8s can be installed.
  - Checked - snapd is installed and running (microk8s comes only as a snap), the architecture is one microk8s is
    published for, and the kernel's memory cgroup controller is on.
  - On a Raspberry Pi whose memory controller is off, the message names the kernel parameters the running kernel
    lacks (C(cgroup_enable=memory), C(cgroup_memory=1)). Given the boot command line file's content, it tells
    parameters still to add from parameters already written there, which only a reboot applies.
positional: architectures
options:
  _input:
    description: The host profile, as M(drover.platform.host_profile) sets it in C(drover_host_profile).
    type: dict
    required: true
  architectures:
    description: Architectures microk8s is published for, in Debian's names.
    type: list
    elements: str
    required: true
  snap_installed:
    description: Whether the C(snap) command is on the host.
    type: bool
    default: true
  snapd_running:
    description: Whether snapd answers (its socket exists).
    type: bool
    default: true
  boot_cmdline:
    description:
      - The content of the boot command line file (RV(ansible_facts.drover_host_profile.boot.cmdline_path)), or
        null when it could not be read.
    type: str
"""

EXAMPLES = r"""
- name: Stop where microk8s cannot run
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join(' ') }}"
  vars:
    problems: >-
      {{ drover_host_profile | drover.platform.microk8s_host_problems(['amd64', 'arm64'],
           snap_installed=snap_binary.stat.exists, snapd_running=snapd_socket.stat.exists) }}
"""

RETURN = r"""
_value:
  description: One message per problem found; empty when microk8s can be installed.
  type: list
  elements: str
"""

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

# The two parameters the Raspberry Pi kernel needs for the memory controller
# (the host_profile module reports which of them /proc/cmdline lacks).
PI_MEMORY_PARAMETERS = ("cgroup_enable=memory", "cgroup_memory=1")


def _section(profile: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = profile.get(name)
    return value if isinstance(value, Mapping) else {}


def _snapd_problems(snap_installed: bool, snapd_running: bool) -> list[str]:
    if not snap_installed:
        return [
            "snapd is not installed (there is no /usr/bin/snap), and microk8s comes only as a snap. Install snapd "
            "(apt-get install snapd, then log in again so that /snap/bin is on the PATH), or give this host the "
            "Docker runtime instead (drover_runtime: docker, playbooks/cluster.yml)."
        ]
    if not snapd_running:
        return [
            "snapd is installed but not running (there is no /run/snapd.socket). Start it: "
            "systemctl enable --now snapd.socket snapd.service."
        ]
    return []


def _arch_problems(arch: Any, architectures: list[str]) -> list[str]:
    if arch in architectures:
        return []
    known = ", ".join(architectures)
    if not arch:
        return [f"its architecture is unknown; microk8s is published for {known} only."]
    hint = " (a 32-bit userland: install a 64-bit OS)" if arch == "armhf" else ""
    return [f"its architecture {arch}{hint} is not one microk8s is published for ({known})."]


def _pi_memory_problem(profile: Mapping[str, Any], boot_cmdline: str | None) -> str:
    cgroup = _section(profile, "cgroup")
    cmdline_path = _section(profile, "boot").get("cmdline_path") or "cmdline.txt"
    missing = cgroup.get("memory_missing_parameters")
    if not isinstance(missing, list):
        missing = list(PI_MEMORY_PARAMETERS)
    head = "it is a Raspberry Pi whose kernel has the memory cgroup controller off, and Kubernetes needs it: "
    fix = (
        " Set host_rpi_cgroup_enabled: true and run playbooks/host.yml (the host role writes them and reboots when "
        "host_reboot_allowed is true), or add them to that one line by hand and reboot."
    )
    pending = " A reboot is pending already (/run/reboot-required)." if profile.get("reboot_required") else ""
    if not missing:
        return (
            head + "the running kernel's command line has " + " ".join(PI_MEMORY_PARAMETERS) + " and the controller "
            "is still off; check /proc/cgroups and the kernel." + pending
        )
    written = set(boot_cmdline.split()) if boot_cmdline is not None else set()
    to_add = [p for p in missing if p not in written]
    already = [p for p in missing if p in written]
    if not to_add:
        return (
            head + f"{' '.join(already)} {'is' if len(already) == 1 else 'are'} in {cmdline_path} already, but the "
            "running kernel (/proc/cmdline) started without them: a reboot is pending. Reboot the host (the host "
            "role does when host_reboot_allowed is true)."
        )
    message = head + f"the running kernel's command line (/proc/cmdline) lacks {' '.join(missing)}. "
    if boot_cmdline is None:
        message += f"Add {' '.join(to_add)} to {cmdline_path} ({cmdline_path} could not be read)."
    elif already:
        message += f"{' '.join(already)} is in {cmdline_path} already; add {' '.join(to_add)} to it."
    else:
        message += f"Add {' '.join(to_add)} to {cmdline_path}."
    return message + fix + pending


def _memory_problems(profile: Mapping[str, Any], boot_cmdline: str | None) -> list[str]:
    cgroup = _section(profile, "cgroup")
    # None means the host's files did not tell; microk8s's own start says more then.
    if cgroup.get("memory_enabled") is not False:
        return []
    if profile.get("class") == "rpi":
        return [_pi_memory_problem(profile, boot_cmdline)]
    version = cgroup.get("version")
    where = f" (cgroup v{version})" if version else ""
    return [
        f"its kernel has the memory cgroup controller off{where}, and Kubernetes needs it. Add "
        "cgroup_enable=memory to the kernel command line (the host role's host_kernel_parameters, "
        "playbooks/host.yml) and reboot."
    ]


def microk8s_host_problems(
    profile: Any,
    architectures: list[str],
    snap_installed: bool = True,
    snapd_running: bool = True,
    boot_cmdline: str | None = None,
) -> list[str]:
    if not isinstance(profile, Mapping):
        raise AnsibleFilterError(
            f"microk8s_host_problems expects the drover_host_profile facts (a mapping), got {type(profile).__name__}"
        )
    if not isinstance(architectures, list) or not all(isinstance(a, str) for a in architectures):
        raise AnsibleFilterError(f"microk8s_host_problems expects a list of architectures, got {architectures!r}")
    if boot_cmdline is not None and not isinstance(boot_cmdline, str):
        raise AnsibleFilterError(f"boot_cmdline must be the file's text or null, got {type(boot_cmdline).__name__}")
    return (
        _snapd_problems(bool(snap_installed), bool(snapd_running))
        + _arch_problems(profile.get("arch"), architectures)
        + _memory_problems(profile, boot_cmdline)
    )


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"microk8s_host_problems": microk8s_host_problems}
