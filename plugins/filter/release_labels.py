# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: release_labels
short_description: Put release labels on every service of a stack definition
version_added: 0.1.0
description:
  - Returns a copy of a Compose stack definition (as M(drover.platform.app_render) renders it) whose services all
    carry the given labels in C(deploy.labels), so that the release a service belongs to can be read from the
    swarm (C(docker service inspect)) as well as from the ledger.
  - Labels already on a service keep their values unless the same key is given.
options:
  _input:
    description: The stack definition, with a C(services) mapping.
    type: dict
    required: true
  labels:
    description: The labels, string to string.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Label the release
  ansible.builtin.set_fact:
    definition: "{{ rendered.definition | drover.platform.release_labels({'io.drover.release': '4'}) }}"
"""

RETURN = r"""
_value:
  description: The definition with the labels on every service's C(deploy.labels).
  type: dict
"""

import copy
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError


def release_labels(definition: Any, labels: Any) -> dict[str, Any]:
    if not isinstance(definition, Mapping) or not isinstance(definition.get("services"), Mapping):
        raise AnsibleFilterError("release_labels expects a stack definition with a services mapping")
    if not isinstance(labels, Mapping):
        raise AnsibleFilterError(f"release_labels expects labels as a mapping, got {type(labels).__name__}")
    result = copy.deepcopy(dict(definition))
    for name, service in result["services"].items():
        if not isinstance(service, Mapping):
            raise AnsibleFilterError(f"service {name} of the definition is not a mapping")
        deploy = dict(service.get("deploy") or {})
        deploy["labels"] = {**dict(deploy.get("labels") or {}), **{str(k): str(v) for k, v in labels.items()}}
        result["services"][name] = {**service, "deploy": deploy}
    return result


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"release_labels": release_labels}
