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
* deploy_lock runs in check mode on localhost (it predicts, takes nothing);
* edge_probe runs against an HTTPS server on 127.0.0.1 with a CA of its own
  (tests/unit/conftest.py's https_edge), whose certificate names every domain
  the examples ask for. Only the address is changed (the examples' edges are
  not here); the fleet CA the examples read from DROVER_FLEET_CA is that CA,
  and the examples that trust the system's CAs alone (Let's Encrypt) get it
  as SSL_CERT_FILE, while the others get a CA that did not sign the server,
  so that their ca_file has to do the trusting;
* boot_cmdline runs in check mode, then for real twice, on a Pi's
  cmdline.txt and a PC's /etc/default/grub made under a temporary root
  (the module's root option, through module_defaults: the examples set no root).

Between the calls, the examples' bookkeeping (set_fact, debug, assert) runs;
other modules (a reboot, update-grub, another module of the collection) are
left out. swarm_stack and registry_digest need the lab's swarm and registry:
tests/e2e/test_module_examples_lab.py runs their examples there.

microk8s_addon and microk8s_join are checked statically only: they drive the
`microk8s` command of a MicroK8s node (addons, join tokens on port 25000),
which needs snapd and a running Kubernetes API. Neither exists on this
controller or in the lab's containers, and a stand-in `microk8s` script would
test the stand-in, not the examples (their logic has table tests in
tests/unit/plugins/modules/test_microk8s_*.py).
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted((ROOT / "plugins" / "modules").glob("*.py"))
PREFIX = "drover.platform."
# Module -> how its examples run here: "run" for real, "check" in check mode.
RUN_HERE = {"app_render": "run", "host_profile": "run", "deploy_lock": "check"}
# The modules whose examples run here with a setting of their own (a test each, below).
RUN_WITH_SETUP = ("boot_cmdline", "edge_probe")
# Static checks only, and why (the module docstring says more).
STATIC_ONLY = {
    "microk8s_addon": "needs a MicroK8s node (snapd, a Kubernetes API)",
    "microk8s_join": "needs MicroK8s nodes to join",
    "registry_digest": "needs the lab's registry: tests/e2e/test_module_examples_lab.py",
    "swarm_stack": "needs the lab's swarm: tests/e2e/test_module_examples_lab.py",
}
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


def test_every_module_is_accounted_for() -> None:
    """A new module's examples run here, or the table says why not."""
    accounted = [*RUN_HERE, *RUN_WITH_SETUP, *STATIC_ONLY]
    assert sorted(accounted) == sorted(path.stem for path in MODULES)


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


def runnable_playbook(module: str, tasks: list[dict[str, Any]], **play: Any) -> list[dict[str, Any]]:
    """TASKS as one localhost play, with PLAY's keywords (module_defaults, environment)."""
    return [{
        "name": f"The examples of {module}",
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                 **EXAMPLE_VARS},
        **play,
        "tasks": tasks,
    }]


def examples(module: str) -> list[dict[str, Any]]:
    return module_docs(ROOT / "plugins" / "modules" / f"{module}.py")[1]


def module_calls(module: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [task for task in tasks_of(items) if PREFIX + module in task]


def play_examples(module: str, tasks: list[dict[str, Any]], folder: Path, check: bool = False,
                  env: dict[str, str] | None = None, **play: Any) -> dict[str, dict[str, Any]]:
    """Run TASKS through ansible-playbook on localhost: each task's result by its name; fails on a failure."""
    # The examples name files relative to the project or to playbooks/ (playbook_dir/..).
    (folder / "playbooks").mkdir(exist_ok=True)
    playbook = folder / "playbooks" / f"{module}_examples.yml"
    playbook.write_text(yaml.safe_dump(runnable_playbook(module, tasks, **play), sort_keys=False))
    if not (folder / "apps").exists():
        (folder / "apps").symlink_to(ROOT / "apps")
    environ = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    environ.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="json",
                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false", **(env or {}))
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook)]
    if check:
        argv.append("--check")
    done = subprocess.run(argv, cwd=folder, env=environ, capture_output=True, text=True, check=False, timeout=300)
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
    ran = {task["task"]["name"]: task["hosts"]["localhost"] for play in results["plays"] for task in play["tasks"]}
    calls = [task["name"] for task in module_calls(module, tasks)]
    assert calls and all(name in ran for name in calls), f"not every example of {module} ran: {calls} {sorted(ran)}"
    return ran


@pytest.mark.parametrize("module", sorted(RUN_HERE))
def test_examples_run_here(module: str, tmp_path: Path) -> None:
    play_examples(module, runnable_tasks(module, examples(module)), tmp_path, check=RUN_HERE[module] == "check")


def example_domains(items: list[dict[str, Any]]) -> list[str]:
    """Every domain edge_probe's examples ask for, in order."""
    domains: list[str] = []
    for task in module_calls("edge_probe", items):
        args = task[PREFIX + "edge_probe"]
        domains += [args["domain"]] if "domain" in args else list(args["services"].values())
    return list(dict.fromkeys(domains))


def test_edge_probe_examples_run_against_an_edge_here(
        tmp_path: Path, https_edge: Callable[..., contextlib.AbstractContextManager[dict[str, Any]]]) -> None:
    tasks = runnable_tasks("edge_probe", examples("edge_probe"))
    domains = example_domains(tasks)
    with https_edge(tmp_path, domains) as edge:
        ca, other_ca = edge["ca"], str(tmp_path / "other-ca.crt")
        for task in module_calls("edge_probe", tasks):
            args = task[PREFIX + "edge_probe"]
            args["address"] = "127.0.0.1"
            if "ca_file" not in args:
                # The system's store, as far as this task knows: it holds the edge's CA, as a real
                # system's holds Let's Encrypt's root.
                task["environment"] = {"SSL_CERT_FILE": ca}
        ran = play_examples("edge_probe", tasks, tmp_path, env={"DROVER_FLEET_CA": ca},
                            module_defaults={PREFIX + "edge_probe": {"port": edge["port"], "timeout": 5}},
                            environment={"SSL_CERT_FILE": other_ca})
        asked = set(edge["hosts"])
    assert sorted(asked) == sorted(domains), "the examples did not ask the edge for each of their domains"
    for task in module_calls("edge_probe", tasks):
        result = ran[task["name"]]
        answers = result.get("answers") or [result]
        # fail_on_error: false does not fail the task: each answer must have come all the same.
        assert [(answer.get("status"), answer.get("error")) for answer in answers] == [(200, "")] * len(answers), (
            task["name"], answers)
    assert "1.4.2" in str(ran["Show which version answered"]["msg"])


CMDLINE = "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait\n"
GRUB = 'GRUB_DEFAULT=0\nGRUB_TIMEOUT=5\nGRUB_CMDLINE_LINUX_DEFAULT="quiet splash"\nGRUB_CMDLINE_LINUX=""\n'


def test_boot_cmdline_examples_run_on_boot_files_here(tmp_path: Path) -> None:
    """Check mode predicts and touches nothing; a run makes what the examples say; a second run changes nothing."""
    root = tmp_path / "root"
    cmdline, grub = root / "boot" / "firmware" / "cmdline.txt", root / "etc" / "default" / "grub"
    for path, text in ((cmdline, CMDLINE), (grub, GRUB)):
        path.parent.mkdir(parents=True)
        path.write_text(text)
    tasks = runnable_tasks("boot_cmdline", examples("boot_cmdline"))
    names = [task["name"] for task in module_calls("boot_cmdline", tasks)]
    defaults = {"module_defaults": {PREFIX + "boot_cmdline": {"root": str(root)}}}

    predicted = play_examples("boot_cmdline", tasks, tmp_path, check=True, **defaults)
    assert [predicted[name]["changed"] for name in names] == [True] * len(names)
    assert (cmdline.read_text(), grub.read_text()) == (CMDLINE, GRUB)
    assert sorted(path.name for path in grub.parent.iterdir()) == ["grub"]

    done = play_examples("boot_cmdline", tasks, tmp_path, **defaults)
    assert [done[name]["changed"] for name in names] == [True] * len(names)
    assert cmdline.read_text() == ("console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait"
                                   " cgroup_enable=memory cgroup_memory=1\n")
    assert grub.read_text() == GRUB.replace('"quiet splash"', '"quiet"')
    backups = [path for path in grub.parent.iterdir() if path.name != "grub"]
    assert len(backups) == 1 and backups[0].read_text() == GRUB
    assert done[names[0]]["reboot_required"] and done[names[-1]]["update_grub_required"]

    again = play_examples("boot_cmdline", tasks, tmp_path, **defaults)
    assert [again[name]["changed"] for name in names] == [False] * len(names)
