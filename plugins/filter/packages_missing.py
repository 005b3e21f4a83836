# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: packages_missing
short_description: The packages of a list that a host does not have installed
version_added: 0.1.0
description:
  - Compares the packages a task wants with what C(ansible.builtin.package_facts) read on the host, so that a
    converged host skips the package manager altogether (a no-op run reads the package database once, instead of
    once per role).
  - A name may carry a version, C(name=version), as C(ansible.builtin.apt) takes it; it is missing unless that
    version is installed. A trailing C(*) matches versions that start with what comes before it.
  - With no package facts (V(none), or facts from another run) every package counts as missing, so the install
    task runs and the package manager decides; the filter can make a task run needlessly, never skip one it needs.
options:
  _input:
    description: The packages wanted, as names or C(name=version).
    type: list
    elements: str
    required: true
  packages:
    description: C(ansible_facts.packages) as C(ansible.builtin.package_facts) returns it, or V(none).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Read the installed packages, once per run
  ansible.builtin.package_facts:
    manager: apt
  when: ansible_facts.packages is not defined

- name: Install what is missing
  ansible.builtin.apt:
    name: "{{ __wanted }}"
  when: __wanted | drover.platform.packages_missing(ansible_facts.packages | default(none)) | length > 0
"""

RETURN = r"""
_value:
  description: The wanted entries that are not installed, in the order given.
  type: list
  elements: str
"""

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError


def _installed(versions: Any, wanted_version: str | None) -> bool:
    if not isinstance(versions, list) or not versions:
        return False
    if wanted_version is None:
        return True
    found = [v.get("version", "") for v in versions if isinstance(v, Mapping)]
    if wanted_version.endswith("*"):
        return any(str(v).startswith(wanted_version[:-1]) for v in found)
    return wanted_version in found


def packages_missing(wanted: Any, packages: Any) -> list[str]:
    if isinstance(wanted, str) or not isinstance(wanted, list) or not all(isinstance(w, str) for w in wanted):
        raise AnsibleFilterError(f"packages_missing expects a list of package names, got {wanted!r}")
    if packages is None:
        return list(wanted)
    if not isinstance(packages, Mapping):
        raise AnsibleFilterError(
            f"packages_missing expects ansible_facts.packages (a mapping) or none, got {type(packages).__name__}"
        )
    missing = []
    for entry in wanted:
        name, version = entry.split("=", 1) if "=" in entry else (entry, "")
        if not _installed(packages.get(name), version or None):
            missing.append(entry)
    return missing


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"packages_missing": packages_missing}
