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
PIPELINE_ENV = {"VERSION": "1.4.2", "GIT_SHA": "1a2b3c4", "ENV": "prod", "RELEASE": "3"}

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


@pytest.mark.parametrize("command", every_make_call(JENKINSFILE.read_text())
                         + every_make_call((ROOT / "Jenkinsfile.rollback").read_text()))
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


# --- the declarative structure -------------------------------------------------------------------
# No declarative linter runs without a Jenkins controller (its pipeline-model-converter validates
# through the controller's API; npm-groovy-lint is CodeNarc style rules on Groovy, which says nothing
# of declarative sections): the structure is checked here with a small block reader.

ROLLBACK_JENKINSFILE = ROOT / "Jenkinsfile.rollback"
JENKINSFILES = [JENKINSFILE, ROLLBACK_JENKINSFILE]
PIPELINE_SECTIONS = {"agent", "options", "parameters", "environment", "stages", "post", "triggers", "tools",
                     "libraries"}
STAGE_SECTIONS = {"agent", "environment", "input", "options", "when", "tools", "post", "steps", "stages",
                  "parallel", "matrix"}
POST_CONDITIONS = {"always", "changed", "fixed", "regression", "aborted", "failure", "success", "unstable",
                   "unsuccessful", "cleanup"}
# Steps that reach the fleet over SSH, and so run inside sshagent.
OVER_SSH = {"images", "deploy", "promote", "rollback"}


class Block:
    """A `name(args) { ... }` block of a Groovy file: its header, its statements and its blocks, in order."""

    def __init__(self, header: str, parent: Block | None = None) -> None:
        self.header = header
        self.parent = parent
        self.children: list[Block] = []
        self.statements: list[str] = []

    @property
    def name(self) -> str:
        found = re.match(r"\s*(\w+)", self.header)
        return found[1] if found else ""

    @property
    def label(self) -> str:
        found = re.search(r"""\(\s*['"]([^'"]*)['"]""", self.header)
        return found[1] if found else ""

    def blocks(self, name: str) -> list[Block]:
        return [child for child in self.children if child.name == name]

    def walk(self) -> list[Block]:
        return [self, *(block for child in self.children for block in child.walk())]

    def ancestors(self) -> list[Block]:
        found, block = [], self.parent
        while block is not None:
            found.append(block)
            block = block.parent
        return found

    def agent(self) -> str:
        """This stage's agent: 'none', 'block' (an agent { ... }), a statement's value, or ''."""
        if self.blocks("agent"):
            return "block"
        for statement in self.statements:
            found = re.match(r"agent\s+(\w+)", statement)
            if found:
                return found[1]
        return ""


def read_blocks(text: str) -> Block:
    """The blocks of TEXT; strings and comments are read past, so that their braces do not count."""
    root = block = Block("")
    current: list[str] = []
    i = 0
    string_start = re.compile(r"'''|\"\"\"|'|\"|//|/\*")
    while i < len(text):
        char = text[i]
        opener = string_start.match(text, i)
        if opener:
            token = opener[0]
            end = {"//": "\n", "/*": "*/"}.get(token, token)
            stop = text.find(end, i + len(token))
            while token in ("'", '"') and stop > 0 and text[stop - 1] == "\\":
                stop = text.find(end, stop + 1)
            stop = len(text) if stop < 0 else stop + len(end)
            if token not in ("//", "/*"):
                current.append(text[i:stop])
            elif token == "//":
                current.append("\n")
            i = stop
            continue
        if char == "{":
            header = "".join(current).strip().rsplit("\n", 1)[-1]
            child = Block(header, block)
            block.children.append(child)
            block, current = child, []
        elif char == "}":
            block.statements += [line.strip() for line in "".join(current).split("\n") if line.strip()]
            assert block.parent is not None, "a } closes nothing"
            block, current = block.parent, []
        elif char == "\n":
            line = "".join(current).strip()
            # A statement that ended here; a header waiting for its { stays.
            if line and not line.endswith((",", "(", "[")) and line.count("(") <= line.count(")"):
                block.statements.append(line)
                current = []
            else:
                current.append(char)
        else:
            current.append(char)
        i += 1
    assert block is root, f"unclosed block {block.header!r}"
    return root


def stages_of(block: Block) -> list[Block]:
    return [stage for stages in block.blocks("stages") for stage in stages.blocks("stage")]


def all_stages(pipeline: Block) -> list[Block]:
    return [block for block in pipeline.walk() if block.name == "stage"]


def structure_problems(text: str) -> list[str]:
    """What a declarative pipeline's validator would refuse here, and the conventions this project keeps."""
    root = read_blocks(text)
    pipelines = root.blocks("pipeline")
    if len(pipelines) != 1 or len(root.children) != 1:
        return ["the file is not one pipeline { } block"]
    pipeline = pipelines[0]
    problems = [f"pipeline: unknown section {child.name}" for child in pipeline.children
                if child.name not in PIPELINE_SECTIONS]
    if pipeline.agent() != "none":
        problems.append("pipeline: agent none at the top, so that a waiting input holds no executor")
    if not stages_of(pipeline):
        problems.append("pipeline: no stages")
    for stage in all_stages(pipeline):
        where = f"stage {stage.label!r}"
        problems += [f"{where}: unknown section {child.name}" for child in stage.children
                     if child.name not in STAGE_SECTIONS]
        bodies = [name for name in ("steps", "stages", "parallel", "matrix") if stage.blocks(name)]
        if len(bodies) != 1:
            problems.append(f"{where}: needs exactly one of steps, stages, parallel, matrix (has {bodies})")
        with_agent = [block for block in (stage, *stage.ancestors()) if block.name == "stage"
                      and block.agent() not in ("", "none")]
        if stage.blocks("input"):
            if with_agent:
                problems.append(f"{where}: its input waits inside an agent ({with_agent[0].label!r})")
            when = stage.blocks("when")
            if when and not any(re.match(r"beforeInput\s+true", s) for s in when[0].statements):
                problems.append(f"{where}: its when is not evaluated before the input (beforeInput true)")
        for steps in stage.blocks("steps"):
            called = [s.split("(")[0].split()[0] for block in steps.walk() for s in block.statements if s.split()]
            used = [block.name for block in steps.walk()] + called
            if "input" in used:
                problems.append(f"{where}: input inside steps holds its executor; make it the stage's input")
            if any(re.match(r"sh\b", s) for block in steps.walk() for s in block.statements) and not with_agent:
                problems.append(f"{where}: runs sh without an agent")
            for block in steps.walk():
                for statement in block.statements:
                    make = re.match(r"""sh\s+['"]make\s+(\w+)""", statement)
                    ssh = make and make[1] in OVER_SSH
                    if ssh and not any(b.name == "sshagent" for b in (block, *block.ancestors())):
                        problems.append(f"{where}: make {make[1]} reaches the fleet outside sshagent")
        if stage.agent() not in ("", "none"):
            post = stage.blocks("post")
            always = post[0].blocks("always") if post else []
            if not always or not any(s.startswith("cleanWs") for s in always[0].walk()[0].statements):
                problems.append(f"{where}: takes an agent, but its post {{ always {{ }} }} does not cleanWs()")
    for post in (block for block in pipeline.walk() if block.name == "post"):
        problems += [f"post: unknown condition {child.name}" for child in post.children
                     if child.name not in POST_CONDITIONS]
    top_post = pipeline.blocks("post")
    if not top_post or not top_post[0].blocks("failure"):
        problems.append("pipeline: no post { failure { } } to tell anyone")
    return problems


@pytest.mark.parametrize("path", JENKINSFILES, ids=[path.name for path in JENKINSFILES])
def test_the_pipeline_is_declarative_and_keeps_the_conventions(path: Path) -> None:
    assert structure_problems(path.read_text()) == []


def test_the_approval_is_a_stage_input_for_release_managers(jenkinsfile: str) -> None:
    pipeline = read_blocks(jenkinsfile).blocks("pipeline")[0]
    (approval,) = [stage for stage in all_stages(pipeline) if stage.blocks("input")]
    assert "submitter 'drover-release-managers'" in approval.blocks("input")[0].statements
    assert any(s == "buildingTag()" for s in approval.blocks("when")[0].statements)
    names = [stage.label for stage in stages_of(pipeline)]
    assert names.index(approval.label) == names.index("Promote to prod") - 1


def test_the_rollback_job_takes_the_environment_and_release() -> None:
    pipeline = read_blocks(ROLLBACK_JENKINSFILE.read_text()).blocks("pipeline")[0]
    parameters = " ".join(pipeline.blocks("parameters")[0].statements)
    assert re.search(r"choice\(name: 'ENV', choices: \['prod', 'preprod', 'dev'\]", parameters)
    assert "string(name: 'RELEASE'" in parameters
    assert [m["command"] for m in MAKE_STEP.finditer(ROLLBACK_JENKINSFILE.read_text())] == [
        'make rollback ENV="$ENV" RELEASE="$RELEASE"']


GOOD = """
pipeline {
    agent none
    stages {
        stage('Work') {
            agent { label 'ansible' }
            steps {
                sshagent(credentials: ['k']) {
                    sh 'make deploy ENV=dev'  // a { in a comment
                }
                echo "a } in a string"
            }
            post { always { cleanWs() } }
        }
        stage('Wait') {
            when {
                beforeInput true
                buildingTag()
            }
            input {
                message 'ok?'
            }
            steps { echo 'yes' }
        }
    }
    post { failure { echo 'told' } }
}
"""


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        pytest.param(("", ""), None, id="good"),
        pytest.param(("    agent none\n    stages", "    agent { label 'ansible' }\n    stages"),
                     "agent none at the top", id="agent at the top"),
        pytest.param(("            steps { echo 'yes' }", "            steps { input message: 'really?' }"),
                     "input inside steps", id="input in steps"),
        pytest.param(("                beforeInput true\n", ""), "beforeInput", id="when after the input"),
        pytest.param(("sshagent(credentials: ['k'])", "withEnv(['A=1'])"), "outside sshagent", id="no sshagent"),
        pytest.param(("            post { always { cleanWs() } }", ""), "does not cleanWs", id="no cleanWs"),
        pytest.param(("    post { failure { echo 'told' } }", ""), "post { failure", id="no failure post"),
        pytest.param(("            steps { echo 'yes' }", "            steps { sh 'true' }"), "without an agent",
                     id="sh without agent"),
        pytest.param(("            input {", "            agent { label 'x' }\n            input {"),
                     "waits inside an agent", id="input on an agent"),
        pytest.param(("            steps { echo 'yes' }", "            stepz { echo 'yes' }"), "unknown section",
                     id="typo"),
    ],
)
def test_the_structure_check_sees_mistakes(change: tuple[str, str], problem: str | None) -> None:
    text = GOOD.replace(*change) if change[0] else GOOD
    assert change[0] == "" or change[0] in GOOD
    found = structure_problems(text)
    assert (problem is None and found == []) or (problem is not None and any(problem in p for p in found)), found
