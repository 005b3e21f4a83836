# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When awx.yml rebuilds a workflow's graph, and what a rollback survey offers."""

from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.module_utils._awx_config import (
    AwxConfigError,
    rollback_choices,
    workflow_changes,
)


def wanted(identifier: str, template: str, success: list[str], **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"identifier": identifier, "unified_job_template": {"name": template},
                            "extra_data": extra, "related": {"success_nodes": [{"identifier": s} for s in success]}}
    return node


def current(node_id: int, identifier: str, template: str, success: list[int], **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "identifier": identifier, "summary_fields": {"unified_job_template": {"name": template}},
            "extra_data": extra, "success_nodes": success, "failure_nodes": [], "always_nodes": []}


WANTED = [wanted("deploy-dev", "drover deploy dev", ["smoke-dev"]), wanted("smoke-dev", "drover smoke dev", [])]
CURRENT = [current(7, "deploy-dev", "drover deploy dev", [8]), current(8, "smoke-dev", "drover smoke dev", [])]


@pytest.mark.parametrize(
    ("have", "changes"),
    [
        pytest.param(CURRENT, [], id="as wanted"),
        pytest.param([], ["node deploy-dev to add", "node smoke-dev to add"], id="new workflow"),
        pytest.param([*CURRENT, current(9, "approve", "drover approve prod", [])], ["node approve to remove"],
                     id="a node left over"),
        pytest.param([current(7, "deploy-dev", "drover deploy dev", []), CURRENT[1]],
                     ["node deploy-dev: success_nodes [] -> ['smoke-dev']"], id="a link lost"),
        pytest.param([current(7, "deploy-dev", "drover deploy preprod", [8]), CURRENT[1]],
                     ["node deploy-dev: template 'drover deploy preprod' -> 'drover deploy dev'"], id="template"),
        pytest.param([current(7, "deploy-dev", "drover deploy dev", [8], to="prod"), CURRENT[1]],
                     ["node deploy-dev: extra_data {'to': 'prod'} -> {}"], id="extra data"),
        pytest.param([{**CURRENT[0], "failure_nodes": [8]}, CURRENT[1]],
                     ["node deploy-dev: failure_nodes ['smoke-dev'] -> []"], id="a link not wanted"),
    ],
)
def test_workflow_changes(have: list[dict[str, Any]], changes: list[str]) -> None:
    assert workflow_changes(have, WANTED) == changes


def test_workflow_nodes_without_ids_are_an_error() -> None:
    with pytest.raises(AwxConfigError, match="lacks its id"):
        workflow_changes([{"identifier": "x"}], WANTED)


@pytest.mark.parametrize(
    ("ledger", "keep", "choices"),
    [
        pytest.param([{"release": 1}, {"release": 2}, {"release": 3}], 20, ["2", "1"], id="newest first"),
        pytest.param([{"release": 1}], 20, [], id="only the current"),
        pytest.param([], 20, [], id="empty"),
        pytest.param([{"release": n} for n in range(1, 30)], 3, ["28", "27", "26"], id="kept"),
        pytest.param([{"release": "4"}, {"release": "5"}], 20, ["4"], id="numbers as text"),
    ],
)
def test_rollback_choices(ledger: list[dict[str, Any]], keep: int, choices: list[str]) -> None:
    assert rollback_choices(ledger, keep) == choices


@pytest.mark.parametrize("ledger", ["[1, 2]", [{"version": "1.0"}, {"release": 2}]])
def test_a_ledger_that_is_not_one_is_an_error(ledger: Any) -> None:
    with pytest.raises(AwxConfigError):
        rollback_choices(ledger)
