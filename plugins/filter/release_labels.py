# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: release_labels
short_description: Put release labels on every service of a stack definition, or on Kubernetes objects
version_added: 0.1.0
description:
  - Returns a copy of a Compose stack definition (as M(drover.platform.app_render) renders it) whose services all
    carry the given labels in C(deploy.labels), so that the release a service belongs to can be read from the
    swarm (C(docker service inspect)) as well as from the ledger.
  - Given a list of Kubernetes manifests (the C(manifests) of M(drover.platform.app_render) with
    C(target=kubernetes)), returns copies whose C(metadata.labels) carry the labels. Pod templates are left
    alone, so a new release number alone rolls no pod.
  - Labels already on a service or object keep their values unless the same key is given.
options:
  _input:
    description: The stack definition, with a C(services) mapping, or a list of Kubernetes manifests.
    type: raw
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
  description: The definition with the labels on every service's C(deploy.labels), or the labelled manifests.
  type: raw
"""

import copy
from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError


def _label_manifests(manifests: list[Any], labels: dict[str, str]) -> list[dict[str, Any]]:
    labelled = []
    for index, manifest in enumerate(manifests):
        if not isinstance(manifest, Mapping) or not isinstance(manifest.get("metadata", {}), Mapping):
            raise AnsibleFilterError(f"manifest {index} of the list is not a Kubernetes object")
        result = copy.deepcopy(dict(manifest))
        metadata = dict(result.get("metadata") or {})
        metadata["labels"] = {**dict(metadata.get("labels") or {}), **labels}
        result["metadata"] = metadata
        labelled.append(result)
    return labelled


def release_labels(definition: Any, labels: Any) -> Any:
    if not isinstance(labels, Mapping):
        raise AnsibleFilterError(f"release_labels expects labels as a mapping, got {type(labels).__name__}")
    if isinstance(definition, list):
        return _label_manifests(definition, {str(k): str(v) for k, v in labels.items()})
    if not isinstance(definition, Mapping) or not isinstance(definition.get("services"), Mapping):
        raise AnsibleFilterError(
            "release_labels expects a stack definition with a services mapping, or a list of Kubernetes manifests"
        )
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
