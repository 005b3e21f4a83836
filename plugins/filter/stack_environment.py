# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: stack_environment
short_description: Choose the environment a stack role run deploys, and what it runs and builds
version_added: 0.1.0
description:
  - The stack role's preflight in one decision, before any host is changed. First every problem
    the drover.platform.stack_input_problems filter finds; then the environment asked for (C(environment); empty, the
    inventory's only one) must be one of C(environments); with a Compose file, the registry must be set and the
    environment must run at least one service.
  - A service runs when it lists no profiles or one of the active ones, as C(docker compose) decides; it is built
    when it also has a C(build) section. The active profiles are those the renderer reads, the environment overlay's
    C(profiles), else C(COMPOSE_PROFILES) from its C(variables), else from its C(env_files) (C(.env) when it names
    none) beside the Compose file, when C(compose_file) is an absolute path.
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
        description: C(stack_compose_file), named in messages.
        type: str
      environments:
        description: C(stack_environments).
        type: dict
      environment:
        description: C(stack_environment), the environment asked for.
        type: str
      registry:
        description: C(stack_registry).
        type: str
  compose:
    description: The Compose file, read; C(none) when the run needs no services (the releases listing).
    type: dict
"""

EXAMPLES = r"""
- name: Choose the environment
  ansible.builtin.set_fact:
    _plan: >-
      {{ {'app_name': stack_app_name, 'compose_file': stack_compose_file, 'environments': stack_environments,
          'environment': stack_environment, 'registry': stack_registry}
         | drover.platform.stack_environment(lookup('ansible.builtin.file', stack_compose_file) | from_yaml) }}
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    problems: {description: One message per problem; empty when the run may go on., type: list, elements: str}
    environment: {description: The environment chosen., type: str}
    settings: {description: Its settings (overlay, build, stack_name, timeout)., type: dict}
    stack_name: {description: Its stack's name (settings' stack_name, else <app>-<environment>)., type: str}
    compose: {description: The Compose file as given., type: dict}
    services: {description: The services the environment runs, in file order., type: list, elements: str}
    built_services: {description: Those of them with a build section., type: list, elements: str}
"""

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.drover.platform.plugins.module_utils._stack_input import environment_plan


def stack_environment(data: Any, compose: Any = None) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise AnsibleFilterError(f"stack_environment expects a mapping, got {type(data).__name__}")
    if compose is not None and not isinstance(compose, dict):
        raise AnsibleFilterError(f"the Compose file must be a mapping, not {type(compose).__name__}")
    return environment_plan(data, compose)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"stack_environment": stack_environment}
