# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's EXAMPLES is a playbook that works.

For each module under plugins/modules: EXAMPLES parses as a list of tasks,
each of this collection's module calls names only documented options (and
suboptions), with a value of a documented choice where the value is literal.
Then what can run on this machine runs, through ansible-playbook:

* app_render (an action plugin: it reads the Compose file on the controller)
  runs for real against the demo app it names;
* host_profile (read only) runs on localhost;
* deploy_lock runs in check mode on localhost (it predicts, takes nothing).

The rest (swarm_stack, registry_digest, boot_cmdline, microk8s_*) need a
swarm, a registry, a Pi's boot files or a MicroK8s node; their examples are
checked statically here.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted((ROOT / "plugins" / "modules").glob("*.py"))
PREFIX = "drover.platform."
# Module -> how its examples run here: "run" for real, "check" in check mode.
RUN_HERE = {"app_render": "run", "host_profile": "run", "deploy_lock": "check"}
# What the examples take from an inventory or a vault.
EXAMPLE_VARS: dict[str, str] = {}
# Tasks around the calls that run anywhere.
BOOKKEEPING = ("ansible.builtin.set_fact", "ansible.builtin.debug", "ansible.builtin.assert")


def module_docs(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """DOCUMENTATION and EXAMPLES of a module file, read without importing it."""
    values: dict[str, str] = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in ("DOCUMENTATION", "EXAMPLES"):
                    values[target.id] = node.value.value
    return yaml.safe_load(values["DOCUMENTATION"]), yaml.safe_load(values["EXAMPLES"])


def tasks_of(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tasks, blocks opened (their block, rescue and always lists)."""
    found: list[dict[str, Any]] = []
    for item in items:
        if "block" in item:
            for part in ("block", "rescue", "always"):
                found.extend(tasks_of(item.get(part) or []))
        else:
            found.append(item)
    return found


def option_problems(args: Any, options: dict[str, Any], where: str) -> list[str]:
    """Arguments that are not documented options, or literal values outside their choices."""
    if not isinstance(args, dict):
        return [f"{where}: takes options, not {args!r}"]
    problems = []
    for name, value in args.items():
        spec = options.get(name) or next(
            (spec for spec in options.values() if name in (spec.get("aliases") or [])), None)
        if spec is None:
            problems.append(f"{where}: {name} is no documented option")
            continue
        literal = not (isinstance(value, str) and "{{" in value)
        if literal and spec.get("choices") and value not in spec["choices"]:
            problems.append(f"{where}.{name}: {value!r} is not one of {spec['choices']}")
        suboptions = spec.get("suboptions")
        if suboptions and literal and spec.get("type") == "dict" and isinstance(value, dict):
            problems += option_problems(value, suboptions, f"{where}.{name}")
        if suboptions and literal and spec.get("type") == "list" and isinstance(value, list):
            for index, element in enumerate(value):
                problems += option_problems(element, suboptions, f"{where}.{name}[{index}]")
    return problems


def example_problems(module: str, documentation: dict[str, Any], examples: Any) -> list[str]:
    if not isinstance(examples, list) or not examples:
        return [f"{module}: EXAMPLES is not a list of tasks"]
    problems = []
    for task in tasks_of(examples):
        name = task.get("name", "?")
        calls = [key for key in task if key.startswith(PREFIX)]
        for call in calls:
            if call != PREFIX + module and not (ROOT / "plugins" / "modules" / f"{call[len(PREFIX):]}.py").is_file():
                problems.append(f"{module}: task {name!r} calls {call}, which is no module of the collection")
            elif call == PREFIX + module:
                problems += option_problems(task[call], documentation.get("options") or {}, f"{module}: {name!r}")
    if not any(PREFIX + module in task for task in tasks_of(examples)):
        problems.append(f"{module}: no example calls {PREFIX}{module}")
    return problems


@pytest.mark.parametrize("path", MODULES, ids=[path.stem for path in MODULES])
def test_examples_call_documented_options(path: Path) -> None:
    documentation, examples = module_docs(path)
    assert example_problems(path.stem, documentation, examples) == []


DOCUMENTATION = {"options": {
    "name": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent"]},
    "overlay": {"type": "dict", "suboptions": {"environment": {"type": "str", "aliases": ["env"]}}},
}}


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        pytest.param({"name": "x", "state": "absent"}, None, id="fine"),
        pytest.param({"nmae": "x"}, "nmae is no documented option", id="unknown option"),
        pytest.param({"state": "gone"}, "'gone' is not one of", id="bad choice"),
        pytest.param({"state": "{{ wanted }}"}, None, id="templated value"),
        pytest.param({"overlay": {"env": "prod"}}, None, id="suboption alias"),
        pytest.param({"overlay": {"environmnet": "prod"}}, "overlay: environmnet is no documented", id="suboption"),
    ],
)
def test_the_option_check_sees_mistakes(args: dict[str, Any], problem: str | None) -> None:
    found = example_problems("thing", DOCUMENTATION, [{"name": "t", f"{PREFIX}thing": args}])
    assert (problem is None and found == []) or (problem is not None and any(problem in p for p in found)), found


def runnable_tasks(module: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The examples' tasks that can run on the controller: MODULE's and plain bookkeeping (blocks kept)."""
    kept = []
    for item in items:
        if "block" in item:
            block = {**item, **{part: runnable_tasks(module, item[part])
                                for part in ("block", "rescue", "always") if item.get(part)}}
            if block["block"]:
                kept.append(block)
        elif any(key in item for key in (PREFIX + module, *BOOKKEEPING)):
            kept.append(item)
    return kept


def runnable_playbook(module: str, examples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The examples as one localhost play, without what needs a fleet (other modules' calls)."""
    tasks = runnable_tasks(module, examples)
    return [{
        "name": f"The examples of {module}",
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                 **EXAMPLE_VARS},
        "tasks": tasks,
    }]


@pytest.mark.parametrize("module", sorted(RUN_HERE))
def test_examples_run_here(module: str, tmp_path: Path) -> None:
    _documentation, examples = module_docs(ROOT / "plugins" / "modules" / f"{module}.py")
    # The examples name files relative to the project or to playbooks/ (playbook_dir/..).
    folder = tmp_path / "playbooks"
    folder.mkdir()
    playbook = folder / f"{module}_examples.yml"
    playbook.write_text(yaml.safe_dump(runnable_playbook(module, examples), sort_keys=False))
    (tmp_path / "apps").symlink_to(ROOT / "apps")
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="json",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false")
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook)]
    if RUN_HERE[module] == "check":
        argv.append("--check")
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=300)
    try:
        results = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"ansible-playbook printed no JSON (rc {done.returncode}):\n{done.stdout}\n{done.stderr}")
    failed = [
        task["task"]["name"] + ": " + " ".join(str(result.get("msg", result)).split())[:2000]
        for play in results["plays"] for task in play["tasks"]
        for result in task["hosts"].values() if result.get("failed")
    ]
    assert done.returncode == 0 and not failed, failed or done.stderr
    calls = [task for play in results["plays"] for task in play["tasks"] if task["task"].get("name") in {
        example.get("name") for example in tasks_of(examples) if PREFIX + module in example}]
    assert calls, f"no example of {module} ran"
