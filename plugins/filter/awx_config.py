# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/awx.yml's decisions as filters; the logic is module_utils/_awx_config.py.

Each filter is documented in the YAML file of its name beside this one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.drover.platform.plugins.module_utils import _awx_config


def awx_workflow_changes(current: Any, wanted: Any) -> list[str]:
    try:
        return _awx_config.workflow_changes(current, wanted)
    except _awx_config.AwxConfigError as error:
        raise AnsibleFilterError(f"awx_workflow_changes: {error}") from error


def awx_rollback_choices(ledger: Any, keep: int = 20) -> list[str]:
    try:
        return _awx_config.rollback_choices(ledger, keep)
    except _awx_config.AwxConfigError as error:
        raise AnsibleFilterError(f"awx_rollback_choices: {error}") from error


def awx_rollback_survey(survey: Any, choices: Any) -> dict[str, Any]:
    try:
        return _awx_config.rollback_survey(survey, choices)
    except _awx_config.AwxConfigError as error:
        raise AnsibleFilterError(f"awx_rollback_survey: {error}") from error


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"awx_workflow_changes": awx_workflow_changes, "awx_rollback_choices": awx_rollback_choices,
                "awx_rollback_survey": awx_rollback_survey}
