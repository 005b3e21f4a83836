#!/usr/bin/python
# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: boot_cmdline
short_description: Set or remove kernel command line parameters
version_added: 0.1.0
description:
  - Adds, replaces or removes kernel parameters in the file the boot loader
    reads them from, and reports whether a reboot is needed for them to take
    effect.
  - On a Raspberry Pi this is C(cmdline.txt), C(/boot/firmware/cmdline.txt)
    on Raspberry Pi OS bookworm and Ubuntu, C(/boot/cmdline.txt) on older
    releases. The file is kept as one line ending in a single newline; a file
    whose parameters are spread over several lines, or that has stray
    whitespace, is rewritten as one line and a warning says so.
  - On a PC or NUC this is the value of O(grub_variable) in
    C(/etc/default/grub). Only that value is rewritten, in its own quoting
    style; comments and every other line stay as they are. The variable is
    added when the file has none. The module does not run C(update-grub);
    it returns RV(update_grub_required) instead.
  - Parameters the task does not name are left alone, in their order, as are
    the words after a bare C(--), which go to init rather than the kernel.
author:
  - drover.platform developers (@drover-platform)
extends_documentation_fragment:
  - drover.platform.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
options:
  parameters:
    description:
      - Kernel parameters, each V(name) or V(name=value), for example
        V(cgroup_enable=memory) or V(quiet).
      - A value with spaces may be given with or without double quotes
        around it; it is written quoted. A value cannot hold a double quote.
      - With O(state=present), a name given once ends up on the command line
        once, with that value, replacing any other value in place; a name
        given several times (such as V(console)) ends up with exactly those
        values.
      - With O(state=absent), V(name) removes the parameter whatever its
        value, V(name=value) only where it has that value.
    type: list
    elements: str
    required: true
  state:
    description:
      - Whether the parameters should be on the command line or not.
    type: str
    choices: [present, absent]
    default: present
  target:
    description:
      - Which kind of file holds the command line.
      - V(auto) takes C(cmdline.txt) when there is one, otherwise
        C(/etc/default/grub), and fails when there is neither. With O(path)
        set, V(auto) goes by the file's name and content.
      - V(cmdline) is a Raspberry Pi C(cmdline.txt). Unless O(path) is set,
        C(/boot/firmware/cmdline.txt) is edited when it exists, otherwise
        C(/boot/cmdline.txt); the placeholder bookworm leaves at
        C(/boot/cmdline.txt) is never edited.
      - V(grub) is a GRUB defaults file, by default C(/etc/default/grub).
    type: str
    choices: [auto, cmdline, grub]
    default: auto
  path:
    description:
      - The file to edit, instead of the usual location for O(target).
      - Taken under O(root).
    type: path
  grub_variable:
    description:
      - The variable of the GRUB defaults file that holds the parameters.
      - V(GRUB_CMDLINE_LINUX) applies to every boot entry,
        V(GRUB_CMDLINE_LINUX_DEFAULT) to normal boots but not recovery ones.
    type: str
    choices: [GRUB_CMDLINE_LINUX, GRUB_CMDLINE_LINUX_DEFAULT]
    default: GRUB_CMDLINE_LINUX
  backup:
    description:
      - Keep a time-stamped copy of the file beside it before changing it.
    type: bool
    default: false
  root:
    description:
      - The directory the file system is mounted under; every path is taken
        relative to it. For an image mounted elsewhere, and for tests.
    type: path
    default: /
notes:
  - The file is written atomically, through a temporary file in its own
    directory, and keeps its mode and owner.
seealso:
  - name: The kernel's command-line parameters
    description: Every parameter the Linux kernel knows.
    link: https://docs.kernel.org/admin-guide/kernel-parameters.html
"""

EXAMPLES = r"""
- name: Enable the memory cgroup on a Raspberry Pi
  drover.platform.boot_cmdline:
    parameters:
      - cgroup_enable=memory
      - cgroup_memory=1
  register: __host_boot_cmdline

- name: Reboot when the kernel parameters changed
  ansible.builtin.reboot:
  when: __host_boot_cmdline.reboot_required

- name: Free the serial port, keeping the console on the screen
  drover.platform.boot_cmdline:
    parameters:
      - console=serial0,115200
    state: absent
    target: cmdline

- name: Turn off the splash screen on a PC, keeping a copy of the file
  drover.platform.boot_cmdline:
    parameters:
      - splash
    state: absent
    target: grub
    grub_variable: GRUB_CMDLINE_LINUX_DEFAULT
    backup: true
  register: __host_grub

- name: Regenerate grub.cfg
  ansible.builtin.command: update-grub
  when: __host_grub.update_grub_required
  changed_when: true
"""

RETURN = r"""
path:
  description: The file that holds the command line.
  returned: success
  type: str
  sample: /boot/firmware/cmdline.txt
target:
  description: The kind of that file, V(cmdline) or V(grub).
  returned: success
  type: str
  sample: cmdline
cmdline:
  description:
    - The parameters after the change (in check mode, as they would be).
    - For GRUB, the value of O(grub_variable), without the shell quoting.
  returned: success
  type: str
  sample: >-
    console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4
    fsck.repair=yes rootwait cgroup_enable=memory cgroup_memory=1
added:
  description: Parameters written, as V(name) or V(name=value); a replaced value shows here and in RV(removed).
  returned: success
  type: list
  elements: str
  sample: [cgroup_memory=1]
removed:
  description: Parameters taken out, as they were written.
  returned: success
  type: list
  elements: str
  sample: [cgroup_memory=0]
reboot_required:
  description:
    - Whether the parameters the kernel gets at boot changed, so that a
      reboot is needed for them to apply. For GRUB, after C(update-grub).
  returned: success
  type: bool
  sample: true
update_grub_required:
  description: Whether the GRUB defaults changed, so that C(update-grub) must run before the reboot.
  returned: success
  type: bool
  sample: false
backup_file:
  description: The copy made with O(backup=true).
  returned: changed and O(backup=true)
  type: str
  sample: /boot/firmware/cmdline.txt.2712.2026-01-05@10:14:03~
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.drover.platform.plugins.module_utils._boot_cmdline import (
    GRUB_VARIABLES,
    STATES,
    TARGETS,
    BootCmdlineError,
    Plan,
    plan_change,
    write_beside,
)
from ansible_collections.drover.platform.plugins.module_utils._outcome import Outcome, finish

# What an OSError fails with: "<this> <file>: <reason>", the file named if the error names none.
FILE_ERROR = ("cannot read or write", "the command line file")


def argument_spec() -> dict:
    return dict(
        parameters=dict(type="list", elements="str", required=True),
        state=dict(type="str", choices=list(STATES), default="present"),
        target=dict(type="str", choices=list(TARGETS), default="auto"),
        path=dict(type="path"),
        grub_variable=dict(type="str", choices=list(GRUB_VARIABLES), default=GRUB_VARIABLES[0]),
        backup=dict(type="bool", default=False),
        root=dict(type="path", default="/"),
    )


def apply(module: AnsibleModule, plan: Plan) -> str | None:
    """Write the planned content over the file; returns the backup's name, if one was made."""
    backup_file = module.backup_local(plan.path) if module.params["backup"] else None
    temporary = write_beside(plan.path, plan.after)
    try:
        module.atomic_move(temporary, plan.path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return backup_file


def run(module: AnsibleModule) -> Outcome:
    params = module.params
    plan = plan_change(
        parameters=params["parameters"],
        state=params["state"],
        target=params["target"],
        path=params["path"],
        grub_variable=params["grub_variable"],
        root=params["root"],
    )
    # Said before the file is touched, so that a failed write still shows them.
    for warning in plan.warnings:
        module.warn(warning)
    result = dict(
        changed=plan.changed,
        path=plan.path,
        target=plan.target,
        cmdline=plan.cmdline,
        added=plan.added,
        removed=plan.removed,
        reboot_required=plan.reboot_required,
        update_grub_required=plan.update_grub_required,
    )
    if plan.changed and not module.check_mode:
        backup_file = apply(module, plan)
        if backup_file:
            result["backup_file"] = backup_file
    diff = dict(before=plan.before, after=plan.after, before_header=plan.path, after_header=plan.path)
    return Outcome(result, diff=diff)


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    finish(module, lambda: run(module), (BootCmdlineError,), file_error=FILE_ERROR)


if __name__ == "__main__":
    main()
