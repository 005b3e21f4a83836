# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions playbooks/awx.yml makes about AWX objects, as plain functions.

* workflow_changes: how a workflow's nodes in AWX differ from the ones
  wanted. awx.awx.workflow_job_template adds and updates nodes by
  identifier but leaves nodes and links it is not told about; the playbook
  rebuilds the graph (destroy_current_nodes) exactly when this finds a
  difference, so that an unchanged workflow stays unchanged.
* rollback_choices: the release numbers of a ledger a rollback survey
  offers, newest first, the current release left out; rollback_survey: the
  rollback survey with its release question turned into those choices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

LINKS = ("success_nodes", "failure_nodes", "always_nodes")


class AwxConfigError(Exception):
    """Input that is not what AWX or the playbook gives."""


def _wanted_node(node: Mapping[str, Any]) -> dict[str, Any]:
    related = node.get("related") or {}
    template = node.get("unified_job_template") or {}
    return {
        "template": template.get("name", ""),
        "inventory": (node.get("inventory") or {}).get("name", ""),
        "extra_data": dict(node.get("extra_data") or {}),
        **{link: sorted(item["identifier"] for item in related.get(link) or []) for link in LINKS},
    }


def _current_node(node: Mapping[str, Any], identifiers: Mapping[int, str]) -> dict[str, Any]:
    summary = node.get("summary_fields") or {}
    return {
        "template": (summary.get("unified_job_template") or {}).get("name", ""),
        "inventory": (summary.get("inventory") or {}).get("name", ""),
        "extra_data": dict(node.get("extra_data") or {}),
        **{link: sorted(identifiers.get(target, f"#{target}") for target in node.get(link) or [])
           for link in LINKS},
    }


def workflow_changes(current: Sequence[Mapping[str, Any]], wanted: Sequence[Mapping[str, Any]]) -> list[str]:
    """What differs between the nodes AWX has (its API's node objects) and the wanted ones; [] when none."""
    if not isinstance(current, Sequence) or not isinstance(wanted, Sequence):
        raise AwxConfigError("workflow_changes takes two lists of nodes")
    try:
        identifiers = {int(node["id"]): str(node.get("identifier") or f"#{node['id']}") for node in current}
        have = {identifiers[int(node["id"])]: _current_node(node, identifiers) for node in current}
        want = {str(node["identifier"]): _wanted_node(node) for node in wanted}
    except (KeyError, TypeError, ValueError) as error:
        raise AwxConfigError(f"a node lacks its id or identifier: {error}") from None
    changes = [f"node {name} to add" for name in sorted(set(want) - set(have))]
    changes += [f"node {name} to remove" for name in sorted(set(have) - set(want))]
    for name in sorted(set(want) & set(have)):
        for key, value in want[name].items():
            if have[name][key] != value:
                changes.append(f"node {name}: {key} {have[name][key]!r} -> {value!r}")
    return changes


def rollback_choices(ledger: Sequence[Mapping[str, Any]], keep: int = 20) -> list[str]:
    """Release numbers to offer, newest first, without the current one (the last), at most KEEP."""
    if not isinstance(ledger, Sequence) or isinstance(ledger, (str, bytes)):
        raise AwxConfigError(f"a ledger is a list of releases, not {type(ledger).__name__}")
    try:
        numbers = [int(release["release"]) for release in ledger]
    except (KeyError, TypeError, ValueError) as error:
        raise AwxConfigError(f"a release of the ledger has no release number: {error}") from None
    return [str(number) for number in sorted(set(numbers[:-1]), reverse=True)][:max(int(keep), 0)]


def rollback_survey(survey: Mapping[str, Any], choices: Sequence[str], variable: str = "release") -> dict[str, Any]:
    """SURVEY with its VARIABLE question a choice of CHOICES (and 0, the one before the current), when there are any.

    AWX answers a multiple choice with the choice's text; the rollback entry
    point takes the release as an int, which the text of a number converts to.
    """
    if not choices:
        return dict(survey)
    spec = []
    for question in survey.get("spec") or []:
        if question.get("variable") == variable:
            question = {key: value for key, value in question.items() if key not in ("min", "max")}
            question.update(type="multiplechoice", choices=["0", *[str(choice) for choice in choices]], default="0")
        spec.append(question)
    if not any(question.get("variable") == variable for question in spec):
        raise AwxConfigError(f"the survey {survey.get('name', '?')!r} asks no {variable}")
    return {**survey, "spec": spec}
