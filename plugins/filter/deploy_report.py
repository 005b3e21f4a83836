# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a deploy shows a person, as text lines; the logic is module_utils/_deploy_report.py.

Each filter is documented in the YAML file of its name beside this one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils import _deploy_report


def deploy_conversion_report(report: Sequence[Mapping[str, Any]] | None) -> list[str]:
    return _deploy_report.report_lines(list(report or []))


def deploy_service_table(result: Mapping[str, Any], heading: str = "") -> list[str]:
    return _deploy_report.service_table(
        result.get("services") or {}, result.get("change_reasons") or {}, float(result.get("elapsed") or 0), heading
    )


def deploy_routed_domains(overlay: Mapping[str, Any] | None) -> dict[str, str]:
    return _deploy_report.routed_domains(overlay)


def deploy_answers(answers: Sequence[Mapping[str, Any]] | None) -> list[str]:
    return _deploy_report.answer_lines(list(answers or []))


def deploy_releases(releases: Sequence[Mapping[str, Any]], lock: Mapping[str, Any] | None, stack: str) -> list[str]:
    return _deploy_report.release_lines(list(releases or []), lock or None, str(stack))


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "deploy_conversion_report": deploy_conversion_report,
            "deploy_service_table": deploy_service_table,
            "deploy_routed_domains": deploy_routed_domains,
            "deploy_answers": deploy_answers,
            "deploy_releases": deploy_releases,
        }
