# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""swarm_stack's and registry_digest's EXAMPLES, run on the converged lab's swarm and registry.

tests/unit/test_module_examples.py runs the examples that can run on the controller; these two
need a swarm manager and the lab's registry. Each module's examples run as one play through
ansible-playbook with the lab's inventory, as written but for what names something the lab does
not have, which is put in its place (each in a table below, with the reason):

* the examples' images (registry.lab:5000/app/...) are the demo's, as the dev environment's last
  release records them in its ledger: by tag (its version) for registry_digest, by digest for
  swarm_stack;
* the registry's CA and login are the inventory's (registry_ca_file, registry_users), on the
  controller where the example delegates to localhost;
* swarm_stack's stacks are named drover-examples-<name> (the lab is shared: no example may touch
  another test's stack), its Compose file is written by the play on the manager, the web example's
  healthcheck asks the demo's port with curl (the demo's image has no wget and listens on 8000), the
  migration runs a command the demo's image has, the template and vault value are the play's;
* swarm_stack gets with_registry_auth through module_defaults: the lab's registry wants a login,
  which the manager's engine has (the registry role's login) and the examples do not set.

Left out, and why: registry_digest's plain-HTTP example and the assert on its result (the lab's
registry speaks TLS only), and the tasks of other modules (the unit test does the same).

Cheap: one play per module, small stacks of the demo's image the nodes have already. Every
stack the examples create is removed by the play (an `always`), and again over ssh if the play
did not get that far; the Compose file's folder on the manager with it.

Written without a lab at hand: not yet run on one (see the commit that added it).
"""

from __future__ import annotations

import ast
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from .lab import Lab, Run, run, tool

PREFIX = "drover.platform."
BOOKKEEPING = ("ansible.builtin.set_fact", "ansible.builtin.debug", "ansible.builtin.assert")
MODULES = Path(__file__).resolve().parents[2] / "plugins" / "modules"
# Stacks the swarm_stack examples create are named so: nothing else on the lab is.
STACK_PREFIX = "drover-examples-"
# On the manager: the Compose file the first swarm_stack example deploys from.
FOLDER = "/tmp/drover-module-examples"
# Example tasks (by name) that cannot run on the lab, and why.
LEFT_OUT = {
    "registry_digest": {
        "Check a lab registry on plain HTTP, for amd64 and 64-bit Raspberry Pis": "the lab's registry speaks TLS only",
        "Refuse a moving tag": "it checks the result of the plain-HTTP example, left out",
    },
    "swarm_stack": {},
}
# The web example's healthcheck, and what asks the demo's image the same (curl, port 8000).
WGET_HEALTHCHECK = "wget -qO- http://127.0.0.1/healthz || exit 1"
CURL_HEALTHCHECK = "curl -fsS -o /dev/null http://127.0.0.1:8000/healthz || exit 1"
# The migration example's command, and one the demo's image runs and exits 0 with.
MIGRATE_COMMAND = ["./manage.py", "migrate"]
DEMO_COMMAND = ["python3", "-c", "print('migrated')"]
# The examples' vault value and template.
VAULT_VARS = {"vault_api_token": "drover-examples-token",
              "vault_registry_password": "{{ registry_users[0].password }}"}
TEMPLATE = "default.conf.j2"


def module_examples(module: str) -> list[dict[str, Any]]:
    """A module's EXAMPLES, read without importing it."""
    for node in ast.parse((MODULES / f"{module}.py").read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", "") == "EXAMPLES" for target in node.targets):
            return yaml.safe_load(node.value.value)  # type: ignore[attr-defined]
    raise AssertionError(f"{module} has no EXAMPLES")


def runnable(module: str, examples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """MODULE's calls and the bookkeeping between them, without LEFT_OUT (each of which must be there)."""
    names = {task.get("name") for task in examples}
    missing = set(LEFT_OUT[module]) - names
    assert not missing, f"{module}'s examples no longer have {missing}: update LEFT_OUT"
    return [copy.deepcopy(task) for task in examples
            if task.get("name") not in LEFT_OUT[module] and any(key in task for key in (PREFIX + module, *BOOKKEEPING))]


def calls(module: str, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [task for task in tasks if PREFIX + module in task]


def repository(reference: str) -> str:
    """registry/repo of registry/repo[:tag][@digest]."""
    name = reference.split("@", 1)[0]
    head, _slash, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}"


def digest(reference: str) -> str:
    """sha256:... of registry/repo[:tag]@sha256:..."""
    return reference.rsplit("@", 1)[-1]


def demo_release(lab: Lab) -> dict[str, Any]:
    """The dev environment's last release: its version and images ({service: registry/repo@digest})."""
    release = lab.ledger("dev")[-1]
    assert {"web", "worker"} <= set(release["images"]), f"dev's last release has no web and worker: {release}"
    assert all("@sha256:" in image for image in release["images"].values()), release["images"]
    return release


def registry_digest_play(release: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The registry_digest examples as a play over the swarm, and the references they now name (example -> lab)."""
    named = {f"registry.lab:5000/app/{service}:1.4.2": f"{repository(release['images'][service])}:{release['version']}"
             for service in ("web", "worker")}
    tasks = runnable("registry_digest", module_examples("registry_digest"))
    for task in calls("registry_digest", tasks):
        args = task[PREFIX + "registry_digest"]
        unknown = [image for image in args["images"] if image not in named]
        assert not unknown, f"registry_digest's examples name {unknown}: say in registry_digest_play what they are"
        args["images"] = [named[image] for image in args["images"]]
        if "ca_path" in args:
            args["ca_path"] = "{{ registry_ca_file }}"
        if "username" in args:
            args["username"] = "{{ registry_users[0].name }}"
    play = {
        "name": "The examples of registry_digest",
        "hosts": "swarm_managers:swarm_workers",
        # The examples read each host's architecture.
        "gather_facts": True,
        "gather_subset": ["!all", "min"],
        "vars": VAULT_VARS,
        "tasks": tasks,
    }
    return [play], named


def swarm_stack_play(release: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """The swarm_stack examples as a play on the first manager, and the stacks they create."""
    image = release["images"]["web"]
    tasks = runnable("swarm_stack", module_examples("swarm_stack"))
    stacks: list[str] = []
    for task in calls("swarm_stack", tasks):
        args = task[PREFIX + "swarm_stack"]
        args["name"] = STACK_PREFIX + args["name"]
        stacks.append(args["name"])
        if "definition_file" in args:
            args["definition_file"] = f"{FOLDER}/compose.yml"
        for service in (args.get("definition") or {}).get("services", {}).values():
            service["image"] = image
            healthcheck = service.get("healthcheck") or {}
            if healthcheck.get("test") == ["CMD-SHELL", WGET_HEALTHCHECK]:
                healthcheck["test"] = ["CMD-SHELL", CURL_HEALTHCHECK]
            if service.get("command") == MIGRATE_COMMAND:
                service["command"] = DEMO_COMMAND
            assert "wget" not in json.dumps(service) and "manage.py" not in json.dumps(service), (
                f"swarm_stack's example {task['name']!r} changed: say in swarm_stack_play how it runs on the lab")
    stacks = list(dict.fromkeys(stacks))
    compose = {"services": {"web": {"image": image, "deploy": {"replicas": 1}}}}
    play = {
        "name": "The examples of swarm_stack",
        "hosts": "swarm_managers[0]",
        "gather_facts": False,
        "vars": VAULT_VARS,
        "module_defaults": {PREFIX + "swarm_stack": {"with_registry_auth": True}},
        "tasks": [
            {"name": "The examples' folder on the manager",
             "ansible.builtin.file": {"path": FOLDER, "state": "directory", "mode": "0700"}},
            {"name": "The examples' Compose file on the manager",
             "ansible.builtin.copy": {"dest": f"{FOLDER}/compose.yml", "content": json.dumps(compose) + "\n",
                                      "mode": "0600"}},
            {"name": "The examples", "block": tasks, "always": [
                {"name": "Remove what the examples deployed",
                 "drover.platform.swarm_stack": {"name": "{{ item }}", "state": "absent"},
                 "loop": stacks},
                {"name": "Remove the examples' Compose file",
                 "ansible.builtin.file": {"path": FOLDER, "state": "absent"}},
            ]},
        ],
    }
    return [play], stacks


def play(lab: Lab, folder: Path, playbook: list[dict[str, Any]]) -> tuple[Run, dict[str, list[dict[str, Any]]]]:
    """Run PLAYBOOK on the lab: the run, and each task's results (host by host) by the task's name."""
    path = folder / "examples.yml"
    path.write_text(yaml.safe_dump(playbook, sort_keys=False))
    (folder / "templates").mkdir(exist_ok=True)
    (folder / "templates" / TEMPLATE).write_text("server { listen 8000; }  # {{ inventory_hostname }}\n")
    done = run([tool("ansible-playbook"), "-i", str(lab.inventory), str(path)], timeout=600,
               ANSIBLE_STDOUT_CALLBACK="json")
    try:
        results = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"ansible-playbook printed no JSON: {done}")
    ran: dict[str, list[dict[str, Any]]] = {}
    for each in results["plays"]:
        for task in each["tasks"]:
            ran.setdefault(task["task"]["name"], []).extend(task["hosts"].values())
    failed = [f"{name}: {' '.join(str(result.get('msg', result)).split())[:1500]}"
              for name, results_of in ran.items() for result in results_of if result.get("failed")]
    assert done.rc == 0 and not failed, failed or str(done)
    return done, ran


def test_registry_digest_examples_pin_the_demos_images(lab: Lab, tmp_path: Path) -> None:
    release = demo_release(lab)
    playbook, named = registry_digest_play(release)
    _done, ran = play(lab, tmp_path, playbook)
    tasks = calls("registry_digest", playbook[0]["tasks"])
    assert tasks, "no registry_digest example left to run"
    for task in tasks:
        results = [result for result in ran[task["name"]] if not result.get("skipped")]
        assert len(results) == 1, f"{task['name']}: run_once ran {len(results)} times"
        pinned = results[0]["pinned"]
        # A version's tag names the images of the release that recorded it.
        for example, reference in named.items():
            service = example.split("/")[-1].split(":")[0]
            assert digest(pinned[reference]) == digest(release["images"][service]), (reference, pinned)
        assert all(image["platforms"] for image in results[0]["images"]), results[0]["images"]


@pytest.fixture
def examples_cleaned(lab: Lab) -> Iterator[None]:
    """Whatever the play left (it stopped before its `always`): the examples' stacks and folder gone."""
    yield
    listed = lab.ssh("docker", "stack", "ls", "--format", "{{.Name}}", check=False).stdout.split()
    left = [name for name in listed if name.startswith(STACK_PREFIX)]
    if left:
        lab.ssh("docker", "stack", "rm", *left, check=False)
    lab.ssh("rm", "-rf", FOLDER, check=False)


@pytest.mark.usefixtures("examples_cleaned")
def test_swarm_stack_examples_deploy_and_remove_on_the_swarm(lab: Lab, tmp_path: Path) -> None:
    release = demo_release(lab)
    playbook, stacks = swarm_stack_play(release)
    done, ran = play(lab, tmp_path, playbook)
    examples = calls("swarm_stack", playbook[0]["tasks"][-1]["block"])
    for task in examples:
        (result,) = ran[task["name"]]
        args = task[PREFIX + "swarm_stack"]
        if args.get("state", "present") == "absent":
            assert result["changed"], f"{task['name']}: removed nothing"
            continue
        assert result["changed"] and result["services"], f"{task['name']}: deployed nothing: {result}"
        for name, service in result["services"].items():
            assert service["state"] == "converged" and service["digest"] == digest(release["images"]["web"]), (
                task["name"], name, service)
            if "migrate" in args["name"]:
                assert service["completed"] == service["desired"] == 1, (task["name"], name, service)
            else:
                assert service["running"] == service["desired"] > 0, (task["name"], name, service)
    assert "1/1" in json.dumps(ran["Show what runs, by digest"]), ran["Show what runs, by digest"]
    listed = lab.ssh("docker", "stack", "ls", "--format", "{{.Name}}").stdout.split()
    assert not [name for name in listed if name in stacks], f"the examples' stacks are still there: {listed}"
    assert lab.ssh("test", "-e", FOLDER, check=False).rc != 0, f"{FOLDER} is still on {lab.manager}"
    assert done.seconds < 300, f"the examples took {done.seconds} s"
