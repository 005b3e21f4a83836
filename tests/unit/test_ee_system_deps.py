# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution environment carries the programs the collection runs on the controller.

In AWX the controller is the execution environment. The task files under
roles/ and the playbooks under playbooks/ are read as YAML; a task runs on
the controller when it is delegated to localhost (literally, or through a
variable whose role default or var is localhost), sits in a block that is,
or belongs to a play on localhost or with connection: local (every role
such a play runs, and a role included with apply: delegate_to: localhost,
counts as a whole). From each such task the program it needs is taken:
argv[0] or the first word of each command of ansible.builtin.command/shell,
and the program behind a module that calls one (MODULE_PROGRAMS). Ansible's
own ssh connection to the fleet adds ssh.

Each program found must be provided by the execution environment: a
package in bindep.txt under both its dpkg and its rpm name (PACKAGES), a
pinned, checksummed download in execution-environment.yml's
additional_build_steps (BUILD_STEPS), the image itself (IN_THE_IMAGE), or
an exception with its reason (NOT_IN_THE_EE). Every table entry must still
be used, so that the tables do not outlive the code they describe.
A delegation to a variable this test cannot resolve (a fleet's manager, the
build host) is taken as remote.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import shutil
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LOCAL_NAMES = {"localhost", "127.0.0.1"}
COMMAND_MODULES = {"ansible.builtin.command", "ansible.builtin.shell", "command", "shell"}
# Modules that call a program of the controller, by FQCN pattern.
MODULE_PROGRAMS = {
    "kubernetes.core.helm*": "helm",
    "ansible.builtin.git": "git",
    "ansible.posix.synchronize": "rsync",
    "community.docker.docker_compose_v2*": "docker",
    "community.docker.docker_stack*": "docker",
    "community.general.terraform": "terraform",
}
# Words of a shell command that are not programs to look for.
SHELL_WORDS = {"set", "cd", "export", "exec", "test", "[", "[[", "true", "false", "echo", "printf", "if", "then",
               "else", "fi", "for", "do", "done", "while", "!"}

# Program -> (Debian package, RPM package) that bindep.txt must name.
PACKAGES = {
    "ssh": ("openssh-client", "openssh-clients"),
    "git": ("git", "git-core"),
    "skopeo": ("skopeo", "skopeo"),
    "restic": ("restic", "restic"),
}
# Programs execution-environment.yml's additional_build_steps install into /usr/local/bin.
BUILD_STEPS = {"helm"}
# Programs the base image and the EE's own installs already have.
IN_THE_IMAGE = {
    "ansible_playbook_python": "the interpreter Ansible runs with (python_interpreter, execution-environment.yml)",
}
# Magic variables that name a program.
MAGIC_PROGRAMS = {"ansible_playbook_python"}
# Programs the controller-side code runs that the EE deliberately lacks, with the reason.
NOT_IN_THE_EE = {
    # playbooks/lab.yml and playbooks/platform.yml's first play drive the
    # lab's own Docker engine; no AWX job template runs them (docs/awx.md).
    "docker": "lab tooling only: the lab role builds and runs its hosts on the controller's engine",
    "debootstrap": "lab tooling only: the lab role makes its base image with it",
    "tar": "lab tooling only: the lab role packs its base image's root file system",
}

TASK_LISTS = ("tasks", "pre_tasks", "post_tasks", "handlers")
BLOCK_KEYS = ("block", "rescue", "always")
# Task keywords: anything else at a task's top level is its module.
KEYWORDS = {
    "name", "when", "register", "loop", "loop_control", "with_items", "with_dict", "with_list", "with_fileglob",
    "with_subelements", "with_nested", "with_together", "with_sequence", "with_first_found", "until", "retries",
    "delay", "changed_when", "failed_when", "check_mode", "diff", "become", "become_user", "become_method",
    "become_flags", "delegate_to", "delegate_facts", "run_once", "no_log", "ignore_errors", "ignore_unreachable",
    "tags", "vars", "environment", "notify", "listen", "args", "async", "poll", "throttle", "any_errors_fatal",
    "connection", "module_defaults", "timeout", "collections", "debugger", "local_action", "action",
    *BLOCK_KEYS,
}


@dataclass(frozen=True)
class Use:
    """A program a controller-side task runs."""

    program: str
    where: str


def _load(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:  # a vault-tagged value, for example: not a task file of ours
        pytest.fail(f"{path}: {error}")


def _role_values(role: Path) -> dict[str, Any]:
    """The role's defaults and vars (vars win), as written, for resolving delegate_to and argv."""
    values: dict[str, Any] = {}
    for folder in ("defaults", "vars"):
        for path in sorted((role / folder).glob("**/*.yml")):
            loaded = _load(path)
            if isinstance(loaded, dict):
                values.update(loaded)
    return values


def _variable(text: str) -> str | None:
    """The variable a '{{ name }}' or '{{ name | filter }}' value names."""
    found = re.fullmatch(r"\{\{\s*([A-Za-z_]\w*)\s*(\|[^}]*)?\}\}", text.strip())
    return found.group(1) if found else None


def _resolve(value: Any, values: Mapping[str, Any]) -> Any:
    """VALUE with one '{{ name }}' looked up in VALUES (once more for a name naming a name)."""
    for _round in range(2):
        name = _variable(value) if isinstance(value, str) else None
        if name is None or name not in values:
            break
        value = values[name]
    return value


def _is_local(delegate: Any, values: Mapping[str, Any]) -> bool:
    resolved = _resolve(delegate, values)
    return isinstance(resolved, str) and resolved.strip() in LOCAL_NAMES


def _module(task: Mapping[str, Any]) -> tuple[str | None, Any]:
    if "local_action" in task:
        action = task["local_action"]
        if isinstance(action, dict):
            action = dict(action)
            return action.pop("module", None), action
        word, _space, rest = str(action).partition(" ")
        return word, rest
    for key, value in task.items():
        if key not in KEYWORDS and not key.startswith("with_"):
            return key, value
    return None, None


def _first_words(command: str) -> Iterator[str]:
    """The program of each command of a shell line (pipelines, lists, env assignments skipped)."""
    for segment in re.split(r"&&|\|\||[;|\n]", command):
        try:
            words = shlex.split(segment)
        except ValueError:
            words = segment.split()
        words = [w for w in words if not re.fullmatch(r"[A-Za-z_]\w*=.*", w)]
        if words and words[0] not in SHELL_WORDS:
            yield words[0]


def _program_word(word: Any, values: Mapping[str, Any]) -> str:
    """A program's name from argv[0] (a path's last part); a template it cannot read is returned as is."""
    word = _resolve(word, values)
    if isinstance(word, list) and word:
        word = _resolve(word[0], values)
    if isinstance(word, str) and _variable(word) in MAGIC_PROGRAMS:
        return str(_variable(word))
    if isinstance(word, str):
        # '{{ ['ssh', '-o', ...] + ... }}': a list written as a Jinja expression.
        listed = re.match(r"\s*\{\{\s*\[\s*['\"]([^'\"]+)['\"]", word)
        if listed:
            word = listed.group(1)
        if "{{" not in word:
            return Path(word.strip()).name
    return f"<unresolved {word!r}>"


def _programs_of(task: Mapping[str, Any], values: Mapping[str, Any]) -> list[str]:
    module, arguments = _module(task)
    if module is None:
        return []
    if module in COMMAND_MODULES:
        if isinstance(arguments, dict) and "argv" in arguments:
            return [_program_word(arguments["argv"], values)]
        command = arguments.get("cmd") if isinstance(arguments, dict) else arguments
        command = _resolve(command, values)
        if not isinstance(command, str) or "{{" in command.split()[0]:
            return [f"<unresolved {command!r}>"]
        if module.endswith("command"):
            return [_program_word(command.split()[0], values)]
        return [Path(word).name for word in _first_words(command)]
    return [program for pattern, program in MODULE_PROGRAMS.items() if fnmatch.fnmatchcase(module, pattern)]


def _walk(tasks: Any, values: Mapping[str, Any], local: bool) -> Iterator[tuple[Mapping[str, Any], bool]]:
    """Each task of TASKS (blocks opened), with whether it runs on the controller."""
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        here = local or ("delegate_to" in task and _is_local(task["delegate_to"], values)) or "local_action" in task \
            or task.get("connection") == "local"
        if any(key in task for key in BLOCK_KEYS):
            for key in BLOCK_KEYS:
                yield from _walk(task.get(key), values, here)
            continue
        yield task, here


def _included_roles(task: Mapping[str, Any], values: Mapping[str, Any], local: bool) -> Iterator[str]:
    """Roles a task includes whose tasks then run on the controller."""
    module, arguments = _module(task)
    if module not in {"ansible.builtin.include_role", "ansible.builtin.import_role", "include_role", "import_role"}:
        return
    if not isinstance(arguments, dict):
        return
    applied = arguments.get("apply") or {}
    if local or _is_local(applied.get("delegate_to"), values):
        yield str(arguments["name"]).rsplit(".", maxsplit=1)[-1]


def _role_name(entry: Any) -> str:
    name = entry.get("role", entry.get("name")) if isinstance(entry, dict) else entry
    return str(name).rsplit(".", maxsplit=1)[-1]


def _included_file(task: Mapping[str, Any], path: Path) -> Path | None:
    """The task file an include_tasks/import_tasks of a playbook names, beside the playbook; None otherwise."""
    for key in ("include_tasks", "import_tasks"):
        value = task.get(key, task.get(f"ansible.builtin.{key}"))
        name = value.get("file") if isinstance(value, Mapping) else value
        if isinstance(name, str) and "{{" not in name:
            included = path.parent / name
            return included if included.is_file() else None
    return None


def controller_uses(root: Path) -> list[Use]:
    """Every program the roles and playbooks under ROOT run on the controller."""
    uses: list[Use] = []
    local_roles: set[str] = set()
    role_tasks: dict[str, list[tuple[Path, Any]]] = {}
    for role in sorted(p for p in (root / "roles").glob("*") if p.is_dir()):
        files = sorted((role / "tasks").glob("**/*.yml")) + sorted((role / "handlers").glob("**/*.yml"))
        role_tasks[role.name] = [(path, _load(path)) for path in files]

    def collect(path: Path, tasks: Any, values: Mapping[str, Any], local: bool) -> None:
        for task, here in _walk(tasks, values, local):
            local_roles.update(_included_roles(task, values, here))
            if here:
                where = f"{path.relative_to(root)}: {task.get('name', '(unnamed)')}"
                uses.extend(Use(program, where) for program in _programs_of(task, values))
            included = _included_file(task, path)
            if included is not None:  # a playbook's own task file, run where the including task runs
                collect(included, _load(included), {**values, **(task.get("vars") or {})}, here)

    for path in sorted((root / "playbooks").glob("**/*.yml")):
        plays = _load(path)
        if not isinstance(plays, list):
            continue
        for play in plays:
            if not isinstance(play, dict) or "hosts" not in play:
                continue
            hosts = {h.strip() for h in str(play["hosts"]).replace(",", ":").split(":")}
            local = bool(hosts) and hosts <= LOCAL_NAMES or play.get("connection") == "local"
            values = play.get("vars") or {}
            if local:
                local_roles.update(_role_name(entry) for entry in play.get("roles") or [])
            for key in TASK_LISTS:
                collect(path, play.get(key), values, local)

    done: set[str] = set()
    for role, files in role_tasks.items():  # delegated tasks; included roles found on the way
        values = _role_values(root / "roles" / role)
        for path, tasks in files:
            collect(path, tasks, values, False)
    while local_roles - done:  # the roles that run on the controller as a whole
        role = sorted(local_roles - done)[0]
        done.add(role)
        if role not in role_tasks:
            continue
        values = _role_values(root / "roles" / role)
        for path, tasks in role_tasks[role]:
            for task, here in _walk(tasks, values, True):
                if not here:
                    continue
                local_roles.update(_included_roles(task, values, True))
                where = f"{path.relative_to(root)}: {task.get('name', '(unnamed)')}"
                uses.extend(Use(program, where) for program in _programs_of(task, values))
    # Ansible's own connection to the fleet.
    uses.append(Use("ssh", "ansible.builtin.ssh connection (every play on the fleet)"))
    return sorted(set(uses), key=lambda use: (use.program, use.where))


def bindep_packages(path: Path) -> set[tuple[str, str]]:
    """(package, platform) pairs of a bindep file: platform dpkg, rpm, or '' for every one."""
    pairs = set()
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name = line.split()[0]
        profiles = re.findall(r"platform:(\w+)", line)
        pairs |= {(name, profile) for profile in profiles} or {(name, "")}
    return pairs


def build_step_programs(ee_file: Path) -> set[str]:
    """Programs the EE's additional_build_steps install into /usr/local/bin from a sha256-checked download."""
    steps = (yaml.safe_load(ee_file.read_text()) or {}).get("additional_build_steps") or {}
    found = set()
    for lines in steps.values():
        text = "\n".join(lines) if isinstance(lines, list) else str(lines)
        for step in re.split(r"\n(?=RUN |ARG |ENV |COPY |ADD )", text):
            if "sha256sum" in step and re.search(r"https://\S*\d+\.\d+\.\d+", step):
                found |= set(re.findall(r"/usr/local/bin/([\w.-]+)", step))
    return found


def unprovided(uses: Iterable[Use], bindep: set[tuple[str, str]], built: set[str]) -> list[str]:
    """One line per program no package, build step, image or exception provides."""
    problems = []
    for use in uses:
        program = use.program
        if program in PACKAGES:
            dpkg, rpm = PACKAGES[program]
            missing = [f"{name} [platform:{platform}]" for name, platform in ((dpkg, "dpkg"), (rpm, "rpm"))
                       if (name, platform) not in bindep and (name, "") not in bindep]
            if missing:
                problems.append(f"{use.where}: {program}: bindep.txt lacks {', '.join(missing)}")
        elif program in BUILD_STEPS:
            if program not in built:
                problems.append(f"{use.where}: {program}: no pinned, checksummed build step installs it")
        elif program not in IN_THE_IMAGE and program not in NOT_IN_THE_EE:
            problems.append(f"{use.where}: {program}: the execution environment does not provide it "
                            "(bindep.txt, additional_build_steps, or an exception with its reason in this test)")
    return problems


@pytest.fixture(scope="module")
def uses() -> list[Use]:
    return controller_uses(ROOT)


def test_every_controller_program_is_in_the_ee(uses: list[Use]) -> None:
    problems = unprovided(uses, bindep_packages(ROOT / "bindep.txt"),
                          build_step_programs(ROOT / "execution-environment.yml"))

    assert problems == []


def test_the_scan_finds_what_the_collection_is_known_to_run(uses: list[Use]) -> None:
    found = {use.program for use in uses}

    # helm (stack, Kubernetes releases), skopeo (promotion), git (stack's
    # version), ssh (hardening's fresh login and the connection), docker (lab).
    assert {"helm", "skopeo", "git", "ssh", "docker", "restic"} <= found, uses
    # restic (backup), from a task file backup.yml's localhost plays include.
    assert any(use.where.startswith("playbooks/tasks/backup_repository.yml") for use in uses if use.program == "restic")
    assert any(use.where.startswith("roles/stack/tasks/kubernetes/helm.yml") for use in uses if use.program == "helm")
    assert any(use.where.startswith("roles/hardening/tasks/ssh.yml") for use in uses if use.program == "ssh")


def test_every_table_entry_is_still_used(uses: list[Use]) -> None:
    found = {use.program for use in uses}

    assert set(PACKAGES) | BUILD_STEPS | set(IN_THE_IMAGE) | set(NOT_IN_THE_EE) <= found


def test_the_helm_build_step_is_pinned_and_checked() -> None:
    steps = yaml.safe_load((ROOT / "execution-environment.yml").read_text())["additional_build_steps"]
    text = "\n".join(steps["append_final"])

    assert re.search(r"get\.helm\.sh/helm-v3\.\d+\.\d+-linux-", text), "a pinned Helm 3 release"
    assert len(re.findall(r"\b[0-9a-f]{64}\b", text)) == 2, "one sha256 per architecture (amd64, arm64)"
    assert "sha256sum -c" in text and "/usr/local/bin/helm" in text


PLANTED_ROLE = """\
---
- name: Remote, not counted
  ansible.builtin.command:
    argv: [kubectl, version]
- name: Ask the cloud
  ansible.builtin.command:
    argv: [aws, sts, get-caller-identity]
  delegate_to: "{{ planted_controller }}"
- name: On the controller, in a block
  delegate_to: localhost
  block:
    - name: Plan
      ansible.builtin.shell:
        cmd: set -o pipefail && LANG=C terraform plan | tee plan.txt
    - name: Releases
      kubernetes.core.helm_info:
        name: x
        release_namespace: y
"""
PLANTED_PLAY = """\
---
- name: On the controller
  hosts: localhost
  tasks:
    - name: Sign
      ansible.builtin.command: /usr/bin/cosign sign x
    - name: Copy
      ansible.builtin.command:
        argv: [skopeo, copy, a, b]
"""


def test_a_planted_controller_command_for_an_unknown_program_is_caught(tmp_path: Path) -> None:
    (tmp_path / "roles" / "planted" / "tasks").mkdir(parents=True)
    (tmp_path / "roles" / "planted" / "defaults").mkdir()
    (tmp_path / "roles" / "planted" / "tasks" / "main.yml").write_text(PLANTED_ROLE)
    (tmp_path / "roles" / "planted" / "defaults" / "main.yml").write_text("---\nplanted_controller: localhost\n")
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "planted.yml").write_text(PLANTED_PLAY)
    shutil.copy(ROOT / "bindep.txt", tmp_path)

    uses = controller_uses(tmp_path)
    problems = unprovided(uses, bindep_packages(tmp_path / "bindep.txt"), {"helm"})

    assert {use.program for use in uses} == {"aws", "terraform", "tee", "helm", "cosign", "skopeo", "ssh"}
    assert sorted(p.split(": ")[-2] for p in problems) == ["aws", "cosign", "tee", "terraform"], problems
    # Without the build step, helm is missing too; without bindep's lines, skopeo.
    assert any(": helm: no pinned" in p for p in unprovided(uses, bindep_packages(tmp_path / "bindep.txt"), set()))
    (tmp_path / "bindep.txt").write_text("skopeo [platform:rpm]\nopenssh-client [platform:dpkg]\n"
                                         "openssh-clients [platform:rpm]\n")
    assert any("skopeo: bindep.txt lacks skopeo [platform:dpkg]" in p
               for p in unprovided(uses, bindep_packages(tmp_path / "bindep.txt"), {"helm"}))


def test_an_unreadable_command_is_reported_not_skipped(tmp_path: Path) -> None:
    (tmp_path / "roles" / "planted" / "tasks").mkdir(parents=True)
    (tmp_path / "roles" / "planted" / "tasks" / "main.yml").write_text(
        "---\n- name: Run\n  ansible.builtin.command:\n    argv: \"{{ nobody_knows }}\"\n  delegate_to: localhost\n")

    [use] = [use for use in controller_uses(tmp_path) if use.program != "ssh"]

    assert use.program.startswith("<unresolved")
    assert unprovided([use], set(), set()) == [
        f"{use.where}: {use.program}: the execution environment does not provide it "
        "(bindep.txt, additional_build_steps, or an exception with its reason in this test)"]
