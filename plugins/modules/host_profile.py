#!/usr/bin/python
# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: host_profile
short_description: Tell what kind of host this is and what it can carry
version_added: 0.1.0
description:
  - Sets the fact C(drover_host_profile) from the host's own files, with what
    the other roles of drover.platform need and no standard fact gives.
  - The class - Intel NUC, desktop or laptop PC, Raspberry Pi, virtual
    machine or container - is detected in this order - container markers,
    a device-tree model naming a Raspberry Pi, DMI naming an Intel NUC,
    a hypervisor, a PC chassis type in DMI, any other DMI. A class declared
    in the inventory wins, and is reported as declared.
  - Whether the memory cgroup controller is really enabled (and, on a
    Raspberry Pi, which kernel parameters are missing for it), the swap in
    use, where the kernel command line is kept, whether a reboot is pending
    and what the host can carry.
  - A file that is missing or unreadable makes the value it feeds null (the
    class C(unknown)); it is never an error.
author:
  - drover.platform developers (@drover-platform)
extends_documentation_fragment:
  - drover.platform.attributes
  - drover.platform.attributes.READ_ONLY
  - drover.platform.attributes.FACTS
options:
  declared_class:
    description:
      - The class the inventory gives the host, for example C(drover_host_class).
      - When set it becomes RV(ansible_facts.drover_host_profile.class), with
        RV(ansible_facts.drover_host_profile.class_source=declared); the
        detected class is still reported in
        RV(ansible_facts.drover_host_profile.detected_class).
    type: str
    choices: [nuc, pc, rpi, vm, container]
  root:
    description:
      - Directory that stands for the host's C(/); for testing on a copy of
        a host's files. Leave it at C(/) on a real host.
    type: path
    default: /
  stateful_min_memory_mb:
    description:
      - Memory in MiB from which the host counts as able to carry stateful
        services (RV(ansible_facts.drover_host_profile.can_carry.stateful)).
    type: int
    default: 2048
notes:
  - The architecture comes from the machine the module runs on; with a
    64-bit kernel and a 32-bit userland (32-bit Raspberry Pi OS on a Pi 4 or
    5) it is the userland's, since packages must match it.
seealso:
  - name: Raspberry Pi kernel command line
    description: Where cmdline.txt lives and what it holds.
    link: https://www.raspberrypi.com/documentation/computers/configuration.html#kernel-command-line-cmdline-txt
"""

EXAMPLES = r"""
- name: Read the host profile, with the class the inventory declares
  drover.platform.host_profile:
    declared_class: "{{ drover_host_class | default(omit) }}"

- name: Stop where Kubernetes cannot run
  ansible.builtin.assert:
    that: drover_host_profile.can_carry.kubernetes
    fail_msg: >-
      {{ inventory_hostname }} cannot carry Kubernetes: memory cgroup
      {{ 'enabled' if drover_host_profile.cgroup.memory_enabled else 'not enabled' }},
      swap {{ drover_host_profile.swap.devices | join(', ') or 'off' }}.

- name: Name the kernel parameters a Raspberry Pi lacks for the memory cgroup
  ansible.builtin.debug:
    msg: >-
      Add {{ drover_host_profile.cgroup.memory_missing_parameters | join(' ') }}
      to {{ drover_host_profile.boot.cmdline_path }}
  when: drover_host_profile.cgroup.memory_missing_parameters | default([], true) | length > 0
"""

RETURN = r"""
ansible_facts:
  description: Facts added to the host.
  returned: always
  type: dict
  contains:
    drover_host_profile:
      description: The host profile.
      returned: always
      type: dict
      contains:
        class:
          description: The class other roles act on - the declared class if one was given, else the detected one.
          returned: always
          type: str
          choices: [nuc, pc, rpi, vm, container, unknown]
          sample: rpi
        class_source:
          description: C(declared) when O(declared_class) was given, else C(detected).
          returned: always
          type: str
          choices: [declared, detected]
          sample: detected
        detected_class:
          description: The class read from the host's files, whatever was declared.
          returned: always
          type: str
          choices: [nuc, pc, rpi, vm, container, unknown]
          sample: rpi
        class_evidence:
          description: What the detected class was read from, for a person reading the log.
          returned: always
          type: str
          sample: device-tree model 'Raspberry Pi 4 Model B Rev 1.4'
        model:
          description:
            - The device-tree model, else the DMI maker and product (the board's when those are unset).
            - Null when neither is there.
          returned: always
          type: str
          sample: Raspberry Pi 4 Model B Rev 1.4
        arch:
          description:
            - Debian's name for the architecture (C(amd64), C(arm64), C(armhf), C(i386), ...); null when unknown.
          returned: always
          type: str
          sample: arm64
        cpus:
          description: Processors listed in C(/proc/cpuinfo); null when unknown.
          returned: always
          type: int
          sample: 4
        memory_mb:
          description: C(MemTotal) from C(/proc/meminfo) in MiB, rounded down; null when unknown.
          returned: always
          type: int
          sample: 3789
        swap:
          description: Swap in use, from C(/proc/swaps); each value null when that file cannot be read.
          returned: always
          type: dict
          contains:
            total_mb:
              description: Size of all active swap areas in MiB, rounded down.
              returned: always
              type: int
              sample: 99
            devices:
              description: Active swap files and partitions.
              returned: always
              type: list
              elements: str
              sample: [/var/swap]
            active:
              description: Whether any swap is in use.
              returned: always
              type: bool
              sample: true
        cgroup:
          description: The control groups the kernel offers.
          returned: always
          type: dict
          contains:
            version:
              description:
                - C(2) when the unified hierarchy is mounted on C(/sys/fs/cgroup), C(1) otherwise (a hybrid
                  host counts as 1).
                - Null when neither can be read.
              returned: always
              type: int
              choices: [1, 2]
              sample: 2
            memory_enabled:
              description:
                - Whether the memory controller is really available - listed in C(/sys/fs/cgroup/cgroup.controllers) on
                  version 2, enabled in C(/proc/cgroups) on version 1. Null when unknown.
              returned: always
              type: bool
              sample: false
            memory_missing_parameters:
              description:
                - On a host of class C(rpi) whose memory controller is not enabled, which of C(cgroup_enable=memory) and
                  C(cgroup_memory=1) the running kernel's C(/proc/cmdline) lacks; the boot command line needs them.
                - Empty on other hosts and when the controller is enabled; null on a C(rpi) host when that is unknown.
              returned: always
              type: list
              elements: str
              sample: [cgroup_enable=memory, cgroup_memory=1]
        boot:
          description: Where the kernel command line is kept.
          returned: always
          type: dict
          contains:
            cmdline_path:
              description: The first of C(/boot/firmware/cmdline.txt) and C(/boot/cmdline.txt) that exists, else null.
              returned: always
              type: str
              sample: /boot/firmware/cmdline.txt
            grub_default:
              description: C(/etc/default/grub) when it exists, else null.
              returned: always
              type: str
              sample: null
            kind:
              description:
                - C(rpi_firmware) or C(rpi_boot) after the cmdline.txt found, else C(grub) when C(/etc/default/grub)
                  exists, else C(none).
                - Read from files only; in a container the files, if any, do not boot anything.
              returned: always
              type: str
              choices: [rpi_firmware, rpi_boot, grub, none]
              sample: rpi_firmware
        reboot_required:
          description: Whether C(/var/run/reboot-required) or C(/run/reboot-required) exists.
          returned: always
          type: bool
          sample: false
        virtualization:
          description:
            - The container type (C(docker), C(podman), C(lxc), or the manager systemd was told), else the hypervisor
              named as systemd-detect-virt names it (C(qemu), C(kvm), C(vmware), C(oracle), C(microsoft), C(xen),
              C(parallels)), C(vm) for a hypervisor nothing names, else C(none).
          returned: always
          type: str
          sample: none
        can_carry:
          description: What the host can run.
          returned: always
          type: dict
          contains:
            stateful:
              description:
                - Whether RV(ansible_facts.drover_host_profile.memory_mb) reaches O(stateful_min_memory_mb).
                - Null when memory is unknown.
              returned: always
              type: bool
              sample: true
            kubernetes:
              description: Whether the memory cgroup is enabled and no swap is active; null when either is unknown.
              returned: always
              type: bool
              sample: false
            docker:
              description: Always true; every class carries a Docker engine.
              returned: always
              type: bool
              sample: true
"""

import platform
import sys
from collections.abc import Mapping
from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.drover.platform.plugins.module_utils._host_profile import (
    CLASSES,
    HostProfileError,
    read_host_profile,
)
from ansible_collections.drover.platform.plugins.module_utils._outcome import Outcome, finish

FACT_NAME = "drover_host_profile"

ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "declared_class": {"type": "str", "choices": list(CLASSES)},
    "root": {"type": "path", "default": "/"},
    "stateful_min_memory_mb": {"type": "int", "default": 2048},
}


def run(params: Mapping[str, Any], machine: str, userland_bits: int) -> dict[str, Any]:
    """The module's result for its parameters, on a host with this `uname -m`."""
    profile = read_host_profile(
        root=params["root"],
        machine=machine,
        declared_class=params["declared_class"],
        stateful_min_memory_mb=params["stateful_min_memory_mb"],
        userland_bits=userland_bits,
    )
    return {"changed": False, "ansible_facts": {FACT_NAME: profile.as_dict()}}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    userland_bits = 64 if sys.maxsize > 2**32 else 32
    finish(module, lambda: Outcome(run(module.params, platform.machine(), userland_bits)), (HostProfileError,))


if __name__ == "__main__":
    main()
