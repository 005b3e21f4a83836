# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Jenkinsfile runs what CI proves.

Every `make` the Jenkinsfile calls must be a target make knows, with the
variables it needs (make -n, exactly as written); and its steps, in order,
are either ones `make test` runs itself (unit, lint) or the ones the lab
scenario runs against real hosts, in the same order and for the same
environments (tests/e2e/pipeline-steps.yml, which tests/e2e runs).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
JENKINSFILE = ROOT / "Jenkinsfile"
LAB_PIPELINE = ROOT / "tests" / "e2e" / "pipeline-steps.yml"
# A step's `sh '...'` (or "...") whose command is a make; sh(script: 'make ...') too.
MAKE_STEP = re.compile(r"""^\s*sh\s+(?P<quote>['"])(?P<command>make\s.*?)(?P=quote)\s*$""", re.MULTILINE)
MAKE_SCRIPT = re.compile(r"""sh\(\s*script:\s*(?P<quote>['"])(?P<command>make\s.*?)(?P=quote)""")
TEST_STAGES = re.compile(r"^TEST_STAGES\s*:?=(?P<stages>[^#\n]*)$", re.MULTILINE)
RULE = re.compile(r"^(?P<target>[A-Za-z0-9_.-]+):(?![=:])(?P<prerequisites>[^=#\n]*)$", re.MULTILINE)
# The variables that choose what a step acts on; the rest (VERSION,
# INVENTORY, GIT_SHA) are the lab's own values there.
CHOOSERS = ("ENV", "FROM", "TO", "RELEASE")
# What the pipeline's shell has in its environment (Jenkinsfile `environment`).
PIPELINE_ENV = {"VERSION": "1.4.2", "GIT_SHA": "1a2b3c4"}

Step = tuple[str, tuple[tuple[str, str], ...]]


def make_call(command: str) -> tuple[list[str], dict[str, str]]:
    """Targets and variable assignments of `make ...`, the shell's $VARS expanded."""
    words = [re.sub(r"\$(\w+)", lambda m: PIPELINE_ENV.get(m[1], ""), word) for word in shlex.split(command)[1:]]
    targets = [word for word in words if not word.startswith("-") and "=" not in word]
    assignments = dict(word.split("=", 1) for word in words if not word.startswith("-") and "=" in word)
    return targets, assignments


def steps(calls: list[tuple[list[str], dict[str, str]]]) -> list[Step]:
    """One step per target, with the variables that choose what it acts on."""
    return [
        (target, tuple((name, assignments[name]) for name in CHOOSERS if name in assignments))
        for targets, assignments in calls
        for target in targets
    ]


def jenkins_steps(text: str) -> list[Step]:
    return steps([make_call(m["command"]) for m in MAKE_STEP.finditer(text)])


def lab_steps(items: list[list[str]]) -> list[Step]:
    """The make steps the end-to-end pipeline test runs, in order."""
    return steps([make_call(shlex.join(["make", *item])) for item in items])


def proved_by_make_test(makefile: str) -> set[str]:
    """`test`, the stages its recipe runs (TEST_STAGES) and every target they depend on, however deep."""
    rules = {m["target"]: m["prerequisites"].replace("|", " ").split() for m in RULE.finditer(makefile)}
    stages = TEST_STAGES.search(makefile)
    proved, todo = set(), ["test", *(stages["stages"].split() if stages else [])]
    while todo:
        target = todo.pop()
        if target not in proved:
            proved.add(target)
            todo.extend(rules.get(target, []))
    return proved


@pytest.fixture(scope="module")
def jenkinsfile() -> str:
    return JENKINSFILE.read_text()


@pytest.fixture(scope="module")
def lab_pipeline() -> list[Step]:
    return lab_steps(yaml.safe_load(LAB_PIPELINE.read_text()))


def test_the_jenkinsfile_calls_make_in_its_steps(jenkinsfile: str) -> None:
    assert [step[0] for step in jenkins_steps(jenkinsfile)][:2] == ["venv-test", "unit"]
    assert {"images", "deploy", "smoke", "promote"} <= {step[0] for step in jenkins_steps(jenkinsfile)}


def every_make_call(text: str) -> list[str]:
    return [m["command"] for m in MAKE_STEP.finditer(text)] + [m["command"] for m in MAKE_SCRIPT.finditer(text)]


@pytest.mark.parametrize("command", every_make_call(JENKINSFILE.read_text()))
def test_each_make_call_is_one_make_can_run(command: str) -> None:
    """make -n, as the Jenkinsfile writes it: the target exists, its variables are there."""
    done = subprocess.run(
        ["make", "-n", "-C", str(ROOT), *shlex.split(command)[1:]],
        env={**os.environ, **PIPELINE_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{command}: {done.stderr.strip()}"


def test_the_lab_runs_the_jenkinsfile_deployment_steps_in_order(jenkinsfile: str, lab_pipeline: list[Step]) -> None:
    proved = proved_by_make_test((ROOT / "Makefile").read_text())
    deployment = [step for step in jenkins_steps(jenkinsfile) if step[0] not in proved]
    assert deployment == lab_pipeline


def test_every_jenkinsfile_step_is_proved_by_ci(jenkinsfile: str, lab_pipeline: list[Step]) -> None:
    proved = proved_by_make_test((ROOT / "Makefile").read_text()) | {step[0] for step in lab_pipeline}
    assert [step[0] for step in jenkins_steps(jenkinsfile) if step[0] not in proved] == []


def test_the_deployment_steps_end_with_prod_from_preprod(lab_pipeline: list[Step]) -> None:
    assert lab_pipeline[0] == ("images", ())
    assert lab_pipeline[-1] == ("promote", (("FROM", "preprod"), ("TO", "prod")))


@pytest.mark.parametrize(
    ("jenkinsfile", "lab", "same"),
    [
        pytest.param(["make deploy ENV=dev", "make smoke ENV=dev"], [["deploy", "ENV=dev"], ["smoke", "ENV=dev"]],
                     True, id="same"),
        pytest.param(["make smoke ENV=dev", "make deploy ENV=dev"], [["deploy", "ENV=dev"], ["smoke", "ENV=dev"]],
                     False, id="order"),
        pytest.param(["make deploy ENV=preprod"], [["deploy", "ENV=dev"]], False, id="environment"),
        pytest.param(['make deploy ENV=dev VERSION="$VERSION"'], [["deploy", "ENV=dev", "VERSION=9.9.9"]],
                     True, id="version is the lab's own"),
        pytest.param(["make images", "make deploy ENV=dev"], [["images"]], False, id="missing step"),
    ],
)
def test_the_comparison_sees_a_difference(jenkinsfile: list[str], lab: list[list[str]], same: bool) -> None:
    text = "\n".join(f"    sh '{command}'" for command in jenkinsfile)
    assert (jenkins_steps(text) == lab_steps(lab)) is same


def test_make_test_proves_unit_and_lint() -> None:
    makefile = "venv-test: .venv/.test\nunit: venv-test\nlint: venv-test\ntest: unit lint | venv\nother: x\n"
    assert proved_by_make_test(makefile) == {"test", "unit", "lint", "venv-test", ".venv/.test", "venv"}


def test_make_test_proves_the_stages_its_recipe_runs() -> None:
    makefile = "venv-test: .venv/.test\nunit: venv-test\nlint: venv-test\nTEST_STAGES := unit lint\ntest:\nother: x\n"
    assert proved_by_make_test(makefile) == {"test", "unit", "lint", "venv-test", ".venv/.test"}
