#!/usr/bin/python
# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: microk8s_addon
short_description: Enable or disable a MicroK8s addon
version_added: 0.1.0
description:
  - Reads C(microk8s status --format yaml) and runs C(microk8s enable) or
    C(microk8s disable) only when the addon is not in the state asked for.
    It reads the status again afterwards and fails when the addon still is
    not in that state, since C(microk8s enable) exits 0 for some addons it
    could not find.
  - The status is read with C(--wait-ready --timeout) O(timeout), so a node
    that is still starting gets that long to answer; a node that does not
    answer makes the task fail, naming the reason microk8s gives.
  - Addons belong to the cluster, not the node; run the task once, on a
    control plane node. On a node that joined as a worker it fails, since
    microk8s there answers every command with C(This MicroK8s deployment is
    acting as a node in a cluster).
  - The command runs with the C locale and an answered standard input, so an
    addon that asks a question (such as C(metallb) without O(arguments))
    gets an empty answer and fails instead of waiting forever.
author:
  - drover.platform developers (@drover-platform)
extends_documentation_fragment:
  - drover.platform.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the status and reports whether the command would run; runs
        neither C(microk8s enable) nor C(microk8s disable).
  diff_mode:
    support: full
    details:
      - The addon's state before and after.
  idempotent:
    support: full
    details:
      - As far as the status shows; O(arguments) cannot be read back, see the
        notes.
options:
  name:
    description:
      - The addon, as C(microk8s status) lists it, such as V(dns),
        V(ingress), V(metallb), V(hostpath-storage) or V(registry).
      - V(REPOSITORY/NAME), such as V(core/dns) or V(community/argocd),
        names the addon of one repository when several have one of that
        name. Community addons need V(community) enabled first.
    type: str
    required: true
  state:
    description:
      - V(enabled) runs C(microk8s enable) when the addon is disabled.
      - V(disabled) runs C(microk8s disable) when the addon is enabled.
    type: str
    choices: [enabled, disabled]
    default: enabled
  arguments:
    description:
      - What the addon takes after its name, passed as
        C(microk8s enable NAME:ARGUMENTS) (and C(microk8s disable
        NAME:ARGUMENTS)), the form microk8s documents for its addons, for
        example V(10.64.140.43-10.64.140.49) for V(metallb) or
        V(1.1.1.1,8.8.8.8) for V(dns).
      - microk8s cuts that word at every colon, so arguments with a colon
        (an IPv6 address) are refused.
      - Used only when the command runs; see the notes.
    type: str
  microk8s_path:
    description:
      - The microk8s command, as the snap installs it.
    type: path
    default: /snap/bin/microk8s
  timeout:
    description:
      - Seconds to wait for microk8s to be ready before reading its status
        (C(microk8s status --wait-ready --timeout)); V(0) reads it at once.
      - Also the time C(microk8s enable) or C(microk8s disable) may take,
        when the node has C(timeout) from coreutils; the task fails when it
        runs out.
    type: int
    default: 300
notes:
  - Whether an addon is enabled is all the status says. Arguments are not
    read back, so changing O(arguments) of an addon that is enabled already
    changes nothing. To apply new arguments, disable the addon and enable it
    again (two tasks).
  - microk8s prints the repository of a disabled addon wrongly (the one of
    the last enabled addon), so the repository part of O(name) only counts
    for addons that are enabled.
requirements:
  - MicroK8s 1.19 or later (the status format with C(--format yaml)).
seealso:
  - module: drover.platform.microk8s_join
  - name: MicroK8s addons
    description: The addons and the arguments they take.
    link: https://microk8s.io/docs/addons
"""

EXAMPLES = r"""
- name: Enable CoreDNS
  drover.platform.microk8s_addon:
    name: dns
  become: true

- name: Give MetalLB its address range
  drover.platform.microk8s_addon:
    name: metallb
    arguments: 10.64.140.43-10.64.140.49
    timeout: 600
  become: true
  register: __microk8s_metallb

- name: Show what MetalLB printed
  ansible.builtin.debug:
    var: __microk8s_metallb.stdout_lines
  when: __microk8s_metallb is changed

- name: Remove the built-in registry
  drover.platform.microk8s_addon:
    name: core/registry
    state: disabled
  become: true
"""

RETURN = r"""
addon:
  description: The addon, as given in O(name).
  returned: always
  type: str
  sample: metallb
state:
  description: The state asked for.
  returned: always
  type: str
  sample: enabled
status:
  description: The addon's state as the status said before, and after (in check mode, as it would be).
  returned: always
  type: dict
  contains:
    before:
      description: V(enabled) or V(disabled).
      type: str
    after:
      description: V(enabled) or V(disabled).
      type: str
  sample: {before: disabled, after: enabled}
command:
  description: The command that ran (in check mode, would run); V(null) when nothing had to.
  returned: always
  type: list
  elements: str
  sample: [/snap/bin/microk8s, enable, "metallb:10.64.140.43-10.64.140.49"]
stdout:
  description: What C(microk8s enable) or C(microk8s disable) printed; empty when it did not run.
  returned: always
  type: str
  sample: "Enabling MetalLB\nApplying Metallb manifest\n"
stderr:
  description: Its standard error, such as the repository microk8s inferred for the addon.
  returned: always
  type: str
  sample: "Infer repository core for addon metallb\n"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.drover.platform.plugins.module_utils._microk8s import MICROK8S, MicroK8sError, module_cli
from ansible_collections.drover.platform.plugins.module_utils._microk8s_addon import (
    ADDON_STATES,
    AddonRequest,
    run_addon,
)
from ansible_collections.drover.platform.plugins.module_utils._outcome import finish


def argument_spec() -> dict:
    return dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=list(ADDON_STATES), default="enabled"),
        arguments=dict(type="str"),
        microk8s_path=dict(type="path", default=MICROK8S),
        timeout=dict(type="int", default=300),
    )


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    request = AddonRequest(
        name=params["name"], state=params["state"], arguments=params["arguments"], timeout=params["timeout"]
    )
    finish(module, lambda: run_addon(module_cli(module), request, check_mode=module.check_mode), (MicroK8sError,))


if __name__ == "__main__":
    main()
