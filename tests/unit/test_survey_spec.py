# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX's surveys ask exactly what the job playbooks take.

playbooks/awx_config/templates.yml says which playbook and which drover.platform.job
entry point each job template runs, playbooks/awx_config/surveys.yml what each
survey asks, roles/job/meta/argument_specs.yml what each entry point takes.
survey_problems() reads the three together: every survey variable is an
option of the entry point, every required option is asked or fixed by the
template, the answer types and choices fit the options, and the release
workflow hands each node only what that node's template accepts.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.drover.platform.plugins.module_utils._awx_config import rollback_choices, rollback_survey

ROOT = Path(__file__).resolve().parents[2]
AWX_VARS = ROOT / "playbooks" / "awx_config"
JOB_SPECS = ROOT / "roles" / "job" / "meta" / "argument_specs.yml"

# The argument-spec types an answer of each AWX survey type fits.
FITS = {
    "text": {"str", "path", "raw"},
    "textarea": {"str", "path", "raw"},
    "password": {"str", "raw"},
    "integer": {"int", "float", "raw"},
    "float": {"float", "raw"},
    "multiplechoice": {"str", "raw"},
    "multiselect": {"list", "raw"},
}
PYTHON_TYPE = {"int": int, "float": (int, float), "str": str, "path": str, "list": list}

Spec = Mapping[str, Any]


def _choices(question: Spec) -> list[Any]:
    """A question's choices: AWX takes a list or one string, a choice a line."""
    choices = question.get("choices") or []
    return choices.splitlines() if isinstance(choices, str) else list(choices)


def expand_job_templates(job_templates: Sequence[Spec], environments: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Templates by name, per_environment ones spelled out as playbooks/awx.yml does."""
    expanded: dict[str, dict[str, Any]] = {}
    for template in job_templates:
        if not template.get("per_environment"):
            expanded[template["name"]] = dict(template)
            continue
        for environment in environments:
            extra_vars = dict(template.get("extra_vars") or {})
            if "environment_var" in template:
                extra_vars[template["environment_var"]] = environment
            name = f"{template['name']} {environment}"
            expanded[name] = {**template, "name": name, "inventory": environment, "extra_vars": extra_vars}
    return expanded


def _question_problems(where: str, question: Spec, option: Spec, entry: str) -> list[str]:
    variable, kind = question["variable"], question.get("type")
    problems = []
    option_type = option.get("type", "str")
    if kind not in FITS:
        problems.append(f"{where}: {variable} has survey type {kind!r}, which AWX does not have")
    elif kind == "multiplechoice" and option_type == "int" and all(
            str(choice).isdigit() for choice in _choices(question)):
        # AWX answers with the choice's text; the entry point converts a number's text to an int.
        pass
    elif kind == "multiplechoice" and option_type == "bool" and _choices(question) and all(
            str(choice) in ("true", "false") for choice in _choices(question)):
        # Likewise "true" and "false": the argument spec's bool takes them.
        pass
    elif option_type not in FITS[kind]:
        problems.append(f"{where}: asks {variable} as {kind}; entry point {entry} takes {option_type}")
    choices = _choices(question)
    if kind in ("multiplechoice", "multiselect"):
        if not choices:
            problems.append(f"{where}: {variable} is {kind} with no choices")
        allowed = option.get("choices")
        if allowed is not None and not set(choices) <= set(allowed):
            extra = sorted(set(choices) - set(allowed), key=str)
            problems.append(f"{where}: {variable} offers {extra}, not among entry point {entry}'s choices {allowed}")
    default = question.get("default")
    if default not in (None, ""):
        expected = PYTHON_TYPE.get(option_type)
        if kind == "multiplechoice" and default not in choices:
            problems.append(f"{where}: {variable}'s default {default!r} is not one of its choices {choices}")
        elif expected is not None and kind not in ("multiselect", "multiplechoice") \
                and not isinstance(default, expected):
            problems.append(f"{where}: {variable}'s default {default!r} is not a {option_type}")
    if option.get("required") and not question.get("required") and default in (None, ""):
        problems.append(f"{where}: entry point {entry} requires {variable}; the survey lets it be left out")
    return problems


def survey_problems(
    job_templates: Sequence[Spec],
    surveys: Mapping[str, Spec],
    argument_specs: Mapping[str, Spec],
    environments: Sequence[str],
    workflow: Spec | None = None,
) -> list[str]:
    """Every disagreement between the templates' surveys and fixed vars and the job entry points."""
    problems: list[str] = []
    templates = expand_job_templates(job_templates, environments)
    asked_by: dict[str, dict[str, Spec]] = {}
    for name, template in templates.items():
        where = f"job template {name!r}"
        entry = template.get("entry_point")
        if entry not in argument_specs:
            problems.append(f"{where}: entry point {entry!r} is not in roles/job/meta/argument_specs.yml")
            continue
        options = argument_specs[entry].get("options") or {}
        fixed = dict(template.get("extra_vars") or {})
        for variable, value in fixed.items():
            if variable not in options:
                problems.append(f"{where}: fixes {variable}, which entry point {entry} does not take")
            elif not isinstance(value, PYTHON_TYPE.get(options[variable].get("type", "str"), object)):
                problems.append(f"{where}: fixes {variable} to {value!r}, not a {options[variable].get('type', 'str')}")
        asked: dict[str, Spec] = {}
        if "survey" in template:
            survey = surveys.get(template["survey"])
            if survey is None:
                problems.append(f"{where}: survey {template['survey']!r} is not in playbooks/awx_config/surveys.yml")
                continue
            for question in survey.get("spec") or []:
                variable = question["variable"]
                if variable in asked:
                    problems.append(f"{where}: survey {template['survey']!r} asks {variable} twice")
                asked[variable] = question
                if variable not in options:
                    problems.append(
                        f"{where}: survey {template['survey']!r} asks {variable}, "
                        f"which entry point {entry} does not take"
                    )
                    continue
                if variable in fixed:
                    problems.append(f"{where}: asks {variable}, which the template also fixes (the answer would win)")
                in_survey = f"{where}, survey {template['survey']!r}"
                problems += _question_problems(in_survey, question, options[variable], entry)
        asked_by[name] = asked
        for variable, option in options.items():
            if option.get("required") and variable not in asked and variable not in fixed:
                problems.append(
                    f"{where}: entry point {entry} requires {variable}; the survey does not ask it "
                    "and the template does not fix it"
                )
    if workflow is not None:
        problems += _workflow_problems(workflow, templates, asked_by, surveys, argument_specs)
    return problems


def _workflow_problems(
    workflow: Spec,
    templates: Mapping[str, Spec],
    asked_by: Mapping[str, Mapping[str, Spec]],
    surveys: Mapping[str, Spec],
    argument_specs: Mapping[str, Spec],
) -> list[str]:
    problems: list[str] = []
    where = f"workflow {workflow['name']!r}"
    survey = surveys.get(workflow.get("survey", ""), {})
    # AWX hands the workflow's answers to every job of the workflow, over the templates' own vars.
    workflow_vars = [question["variable"] for question in survey.get("spec") or []]
    nodes = workflow.get("nodes") or []
    identifiers = {node["identifier"] for node in nodes}
    entries = []
    for node in nodes:
        node_where = f"{where}, node {node['identifier']!r}"
        for target in node.get("success") or []:
            if target not in identifiers:
                problems.append(f"{node_where}: leads to {target!r}, which is no node")
        if "approval" in node:
            continue
        template = templates.get(node.get("template", ""))
        if template is None:
            problems.append(f"{node_where}: runs {node.get('template')!r}, which is no job template")
            continue
        if node.get("inventory") and not template.get("ask_inventory"):
            problems.append(f"{node_where}: sets the inventory of {template['name']!r}, which does not ask for one")
        entry = template["entry_point"]
        entries.append(entry)
        options = argument_specs.get(entry, {}).get("options") or {}
        asked = asked_by.get(template["name"], {})
        data = node.get("extra_data") or {}
        for variable, value in data.items():
            if variable not in options:
                problems.append(f"{node_where}: gives {variable}, which entry point {entry} does not take")
            elif variable not in asked:
                problems.append(f"{node_where}: gives {variable}, which {template['name']!r}'s survey does not ask")
            elif _choices(asked[variable]) and value not in _choices(asked[variable]):
                problems.append(f"{node_where}: gives {variable}={value!r}, not one of the survey's choices")
        for variable in workflow_vars:
            if variable in (template.get("extra_vars") or {}):
                problems.append(f"{where}: asks {variable}, which would override {template['name']!r}'s own")
        answered = set(data) | set(template.get("extra_vars") or {}) | set(workflow_vars)
        answered |= {v for v, q in asked.items() if q.get("default") not in (None, "")}
        for variable, option in options.items():
            if option.get("required") and variable not in answered:
                problems.append(f"{node_where}: entry point {entry} requires {variable}, which nothing gives")
    for variable in workflow_vars:
        if not any(variable in (argument_specs.get(entry, {}).get("options") or {}) for entry in entries):
            problems.append(f"{where}: asks {variable}, which no node's entry point takes")
    return problems


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@pytest.fixture(name="awx")
def awx_fixture() -> dict[str, Any]:
    """The project's own data, as the checker takes it."""
    templates = _load(AWX_VARS / "templates.yml")
    return {
        "job_templates": templates["awx_job_templates"],
        "surveys": _load(AWX_VARS / "surveys.yml")["awx_surveys"],
        "argument_specs": _load(JOB_SPECS)["argument_specs"],
        "environments": _load(AWX_VARS / "defaults.yml")["awx_environments"],
        "workflow": templates["awx_release_workflow"],
    }


def test_the_surveys_agree_with_the_job_entry_points(awx: dict[str, Any]) -> None:
    assert survey_problems(**awx) == []
    # The checker saw what it should: every survey of templates.yml, per environment.
    names = expand_job_templates(awx["job_templates"], awx["environments"])
    assert {"deploy dev", "rollback prod", "backup preprod", "promote", "site dev", "drift prod"} <= set(names)
    assert {t["survey"] for t in awx["job_templates"] if "survey" in t} | {awx["workflow"]["survey"]} == set(
        awx["surveys"]
    )


def _planted(awx: dict[str, Any], survey: str, variable: str) -> dict[str, Any]:
    """A copy of the data, and the planted survey's question for VARIABLE."""
    planted = copy.deepcopy(awx)
    [question] = [q for q in planted["surveys"][survey]["spec"] if q["variable"] == variable]
    return {"data": planted, "question": question}


def test_a_misspelt_survey_variable_is_caught(awx: dict[str, Any]) -> None:
    planted = _planted(awx, "rollback", "release")
    planted["question"]["variable"] = "releese"

    problems = survey_problems(**planted["data"])

    assert problems == [
        f"job template 'rollback {env}': survey 'rollback' asks releese, which entry point rollback does not take"
        for env in awx["environments"]
    ]


def test_a_required_variable_dropped_from_the_survey_is_caught(awx: dict[str, Any]) -> None:
    planted = copy.deepcopy(awx)
    spec = planted["surveys"]["promote"]["spec"]
    planted["surveys"]["promote"]["spec"] = [question for question in spec if question["variable"] != "from"]

    problems = survey_problems(**planted)

    assert problems == [
        "job template 'promote': entry point promote requires from; the survey does not ask it and the template "
        "does not fix it",
        "workflow 'release', node 'promote-prod': gives from, which 'promote''s survey does not ask",
    ]


def test_an_answer_of_the_wrong_type_is_caught(awx: dict[str, Any]) -> None:
    planted = _planted(awx, "rollback", "release")
    planted["question"]["type"] = "text"

    problems = survey_problems(**planted["data"])

    assert problems == [
        f"job template 'rollback {env}', survey 'rollback': asks release as text; entry point rollback takes int"
        for env in awx["environments"]
    ]


def test_a_yes_or_no_choice_other_than_true_and_false_is_caught(awx: dict[str, Any]) -> None:
    planted = _planted(awx, "restore", "force")
    planted["question"]["choices"] = ["no", "yes"]
    planted["question"]["default"] = "no"

    assert survey_problems(**planted["data"]) == [
        f"job template 'restore {env}', survey 'restore': asks force as multiplechoice; entry point restore takes bool"
        for env in awx["environments"]
    ]


def test_the_rollback_survey_built_from_a_ledger_agrees_with_the_entry_point(awx: dict[str, Any]) -> None:
    planted = copy.deepcopy(awx)
    choices = rollback_choices([{"release": number} for number in range(1, 6)])
    planted["surveys"]["rollback"] = rollback_survey(planted["surveys"]["rollback"], choices)
    [question] = planted["surveys"]["rollback"]["spec"]
    assert question["type"] == "multiplechoice" and question["choices"] == ["0", "4", "3", "2", "1"]

    assert survey_problems(**planted) == []


def test_choices_that_are_no_release_number_are_caught(awx: dict[str, Any]) -> None:
    planted = copy.deepcopy(awx)
    planted["surveys"]["rollback"] = rollback_survey(planted["surveys"]["rollback"], ["4", "latest"])

    assert survey_problems(**planted) == [
        f"job template 'rollback {env}', survey 'rollback': asks release as multiplechoice; entry point rollback "
        "takes int" for env in awx["environments"]
    ]


def test_choices_outside_the_entry_points_choices_are_caught(awx: dict[str, Any]) -> None:
    planted = copy.deepcopy(awx)
    planted["argument_specs"]["promote"]["options"]["to"]["choices"] = ["preprod"]

    problems = survey_problems(**planted)

    assert problems == [
        "job template 'promote', survey 'promote': to offers ['prod'], not among entry point promote's choices "
        "['preprod']"
    ]


def test_a_required_answer_that_may_be_left_out_is_caught(awx: dict[str, Any]) -> None:
    planted = _planted(awx, "promote", "to")
    planted["question"]["required"] = False
    planted["question"]["default"] = ""

    assert survey_problems(**planted["data"]) == [
        "job template 'promote', survey 'promote': entry point promote requires to; the survey lets it be left out"
    ]


def test_a_survey_question_the_template_also_fixes_is_caught(awx: dict[str, Any]) -> None:
    planted = copy.deepcopy(awx)
    planted["surveys"]["deploy"]["spec"].append(
        {"question_name": "Environment", "variable": "env", "type": "text", "required": False, "default": ""}
    )

    problems = survey_problems(**planted)

    assert problems == [
        f"job template 'deploy {env}': asks env, which the template also fixes (the answer would win)"
        for env in awx["environments"]
    ]


def test_a_workflow_answer_that_overrides_a_templates_environment_is_caught(awx: dict[str, Any]) -> None:
    planted = copy.deepcopy(awx)
    planted["surveys"]["release"]["spec"].append(
        {"question_name": "Environment", "variable": "env", "type": "text", "required": True}
    )

    problems = survey_problems(**planted)

    assert problems == [
        "workflow 'release': asks env, which would override 'deploy dev''s own",
        "workflow 'release': asks env, which would override 'smoke dev''s own",
        "workflow 'release': asks env, which would override 'deploy preprod''s own",
    ]


def test_a_workflow_node_without_its_required_input_is_caught(awx: dict[str, Any]) -> None:
    planted = copy.deepcopy(awx)
    [node] = [n for n in planted["workflow"]["nodes"] if n["identifier"] == "promote-prod"]
    del node["extra_data"]["to"]

    # The promote survey has a default for `to`: AWX fills it in.
    assert survey_problems(**planted) == []
    [question] = [q for q in planted["surveys"]["promote"]["spec"] if q["variable"] == "to"]
    del question["default"]
    assert survey_problems(**planted) == [
        "workflow 'release', node 'promote-prod': entry point promote requires to, which nothing gives"
    ]


def test_a_workflow_node_naming_no_template_is_caught(awx: dict[str, Any]) -> None:
    planted = copy.deepcopy(awx)
    planted["workflow"]["nodes"][0]["template"] = "deploy staging"

    assert survey_problems(**planted) == [
        "workflow 'release', node 'deploy-dev': runs 'deploy staging', which is no job template"
    ]


JOB_INPUT = ROOT / "playbooks" / "job_input.yml"


def _job_play_entry(playbook: Path) -> str | None:
    """The entry point the playbook's first play checks its input with, if it does.

    The first play imports playbooks/job_input.yml, naming the entry point in
    drover_job; job_input.yml includes drover.platform.job with that entry point.
    """
    first = (_load(playbook) or [{}])[0]
    imported = first.get("ansible.builtin.import_playbook")
    if imported is None or (playbook.parent / imported).resolve() != JOB_INPUT:
        return None
    return (first.get("vars") or {}).get("drover_job")


def test_job_input_checks_the_entry_point_it_is_given() -> None:
    [play] = _load(JOB_INPUT)
    task, vault = play["tasks"]
    include = task["ansible.builtin.include_role"]
    # The second check, that the inventory's vault holds what its example names, cannot be skipped either.
    assert "ansible.builtin.assert" in vault and vault["tags"] == ["always"]
    assert play["hosts"] == "localhost"
    assert include["name"] == "drover.platform.job"
    assert include["tasks_from"].startswith("{{ drover_job | mandatory(")
    # No --tags choice skips the check.
    assert task["tags"] == ["always"] and include["apply"]["tags"] == ["always"]


@pytest.mark.parametrize(
    ("playbook", "entry"),
    sorted({(t["playbook"], t["entry_point"]) for t in _load(AWX_VARS / "templates.yml")["awx_job_templates"]}),
)
def test_each_job_playbook_checks_its_input_with_its_entry_point(playbook: str, entry: str) -> None:
    path = ROOT / playbook
    if not path.exists():
        pytest.skip(f"{playbook} is not written yet")
    assert _job_play_entry(path) == entry, (
        f"{playbook} must begin by importing playbooks/job_input.yml with drover_job: {entry}"
    )
