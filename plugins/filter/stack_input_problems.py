# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: stack_input_problems
short_description: List what is wrong with the stack role's app and environments
version_added: 0.1.0
description:
  - Checks what the stack role's argument spec cannot see, before any host is changed, and returns one
    message per problem (an empty list when the input is sound).
  - The app's name and Compose file must be set (the role has no default app; the lab inventory names the
    demo). Every key of every environment in C(stack_environments) must be one of C(overlay), C(build),
    C(stack_name) and C(timeout), with a value of its type; a typo is named with the nearest known key.
options:
  _input:
    description: The role's input.
    type: dict
    required: true
    suboptions:
      app_name:
        description: C(stack_app_name).
        type: str
      compose_file:
        description: C(stack_compose_file).
        type: str
      environments:
        description: C(stack_environments).
        type: dict
"""

EXAMPLES = r"""
- name: Stop on bad input
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: >-
      {{ {'app_name': stack_app_name, 'compose_file': stack_compose_file, 'environments': stack_environments}
         | drover.platform.stack_input_problems }}
"""

RETURN = r"""
_value:
  description: One message per problem found; empty when the input is sound.
  type: list
  elements: str
"""

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.drover.platform.plugins.module_utils._stack_input import (
    stack_input_problems as _problems,
)


def stack_input_problems(data: Any) -> list[str]:
    if not isinstance(data, dict):
        raise AnsibleFilterError(f"stack_input_problems expects a mapping, got {type(data).__name__}")
    return _problems(data)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"stack_input_problems": stack_input_problems}
