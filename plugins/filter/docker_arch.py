# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: docker_arch
short_description: Docker's name for a host's architecture
version_added: 0.1.0
description:
  - Turns the architecture name C(uname -m) prints (and so C(ansible_architecture)), or Debian's, into the one
    Docker images use, C(architecture[/variant]) - V(x86_64) to V(amd64), V(aarch64) to V(arm64), V(armv7l) to
    V(arm/v7), V(armv6l) to V(arm/v6), V(i686) to V(386), V(armhf) to V(arm/v7), V(ppc64el) to V(ppc64le).
  - Docker's own names pass through, with the default variant left out (V(arm64/v8) gives V(arm64)); 32-bit
    arm always keeps its variant.
  - The result is what O(drover.platform.registry_digest#module:required_architectures) takes.
  - A 32-bit userland on a 64-bit kernel reports the kernel's name in C(ansible_architecture); such hosts need the
    32-bit image (give V(arm/v7) for a Raspberry Pi running 32-bit Raspberry Pi OS).
options:
  _input:
    description: An architecture name, optionally with a variant and an OS in front (V(linux/arm64)).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The architectures the swarm's hosts need, in Docker's words
  ansible.builtin.set_fact:
    fleet_architectures: >-
      {{ (groups['swarm_managers'] + groups['swarm_workers'] | default([]))
         | map('extract', hostvars, 'ansible_architecture')
         | map('drover.platform.docker_arch') | unique }}

- name: One host's
  ansible.builtin.debug:
    msg: "{{ 'armv7l' | drover.platform.docker_arch }}"  # arm/v7
"""

RETURN = r"""
_value:
  description: Docker's architecture, with the variant where it matters (V(amd64), V(arm64), V(arm/v7)).
  type: str
"""

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.drover.platform.plugins.module_utils._arch import InvalidPlatform, docker_platform


def docker_arch(name: Any) -> str:
    if not isinstance(name, str):
        raise AnsibleFilterError(f"docker_arch expects an architecture name, got {type(name).__name__} {name!r}")
    try:
        return docker_platform(name)
    except InvalidPlatform as error:
        raise AnsibleFilterError(str(error)) from None


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"docker_arch": docker_arch}
