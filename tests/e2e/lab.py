# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A converged lab as a user reaches it: playbooks, plain ssh to the manager, HTTPS through the edge."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .constants import LEDGER_DIR, LOAD_LOOP, LOCK_DIR, ROOT

BIN = Path(sys.executable).parent
# A deploy on this shared machine takes minutes; nothing here should take an hour.
PLAYBOOK_TIMEOUT = 3600


class LabError(Exception):
    """The lab could not be described or reached."""


def tool(name: str) -> str:
    """An Ansible command of the Python running the tests, else the one on PATH."""
    return shutil.which(name, path=os.pathsep.join([str(BIN), os.environ.get("PATH", os.defpath)])) or name


def command_env(**settings: str) -> dict[str, str]:
    """The environment of every command: the project's configuration, plain output, the venv first on PATH."""
    return {
        **os.environ,
        **settings,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PATH": os.pathsep.join([str(BIN), settings.get("PATH", os.environ.get("PATH", os.defpath))]),
    }


@dataclass(frozen=True)
class Run:
    """What a command left: its exit status, its output (stdout then stderr) and how long it took."""

    argv: list[str]
    rc: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.output.splitlines()[-lines:])

    def __str__(self) -> str:
        return f"{shlex.join(self.argv)} -> rc {self.rc} after {self.seconds:.0f} s:\n{self.tail()}"


def run(argv: Sequence[str], timeout: float = PLAYBOOK_TIMEOUT, **settings: str) -> Run:
    began = time.monotonic()
    done = subprocess.run(list(argv), cwd=ROOT, env=command_env(**settings), capture_output=True, text=True,
                          check=False, timeout=timeout)
    return Run(list(argv), done.returncode, done.stdout, done.stderr, round(time.monotonic() - began, 1))


class Background:
    """A command left running, its output going to files (a pipe nobody reads would stall it)."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = list(argv)
        self.began = time.monotonic()
        self._stdout = tempfile.TemporaryFile(mode="w+")
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(self.argv, cwd=ROOT, env=command_env(), stdout=self._stdout,
                                        stderr=self._stderr, text=True)

    def running(self) -> bool:
        return self.process.poll() is None

    def finish(self, timeout: float = PLAYBOOK_TIMEOUT) -> Run:
        """Wait for the command to end: what it left."""
        self.process.wait(timeout=timeout)
        seconds = round(time.monotonic() - self.began, 1)
        output = []
        for file in (self._stdout, self._stderr):
            file.seek(0)
            output.append(file.read())
            file.close()
        return Run(self.argv, self.process.returncode, output[0], output[1], seconds)


@contextmanager
def background(argv: Sequence[str]) -> Iterator[Background]:
    """A Background command, killed if the block ends before it did (a failed check leaves no deploy running)."""
    command = Background(argv)
    try:
        yield command
    finally:
        if command.running():
            command.process.kill()
            command.process.wait()


def playbook_argv(inventory: Path, playbook: str, *args: str) -> list[str]:
    return [tool("ansible-playbook"), "-i", str(inventory), str(ROOT / playbook), *args]


def extra_vars(**values: Any) -> list[str]:
    """-e KEY=VALUE for text values, -e JSON for the rest (as an operator writes them)."""
    argv: list[str] = []
    for key, value in values.items():
        argv += ["-e", f"{key}={value}" if isinstance(value, str) else json.dumps({key: value})]
    return argv


# Read once per lab from the inventory, templated by Ansible itself: who to ssh as, the edge,
# the CA, the app's name and each environment's domain.
_DESCRIBE = (
    "msg={{ {'name': inventory_hostname, 'address': ansible_host, 'user': ansible_user | default('root'),"
    " 'key': ansible_ssh_private_key_file | default(''), 'ssh_args': ansible_ssh_common_args | default(''),"
    " 'edge': hostvars[(groups['edge'] | default([], true) or groups['swarm_managers'])[0]]['ansible_host'],"
    " 'ca': drover_pki_dir ~ '/ca.crt', 'app': stack_app_name,"
    " 'environments': stack_environments} | to_json }}"
)


@dataclass(frozen=True)
class Lab:
    """A converged lab: its inventory, its first manager (over ssh) and its edge."""

    inventory: Path
    manager: str
    address: str
    user: str
    key: str
    ssh_args: list[str]
    edge: str
    ca: Path
    app: str
    domains: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_inventory(cls, inventory: Path, service: str = "web") -> Lab:
        """Ask Ansible what the inventory says about the first swarm manager and the edge; domains are those of
        the routed service named (the demo's web by default)."""
        described = run([tool("ansible"), "-i", str(inventory), "swarm_managers[0]", "-m", "ansible.builtin.debug",
                         "-a", _DESCRIBE], timeout=300, ANSIBLE_CALLBACK_RESULT_FORMAT="json")
        facts = _debug_message(described)
        return cls(
            inventory=inventory,
            manager=facts["name"],
            address=facts["address"],
            user=facts["user"],
            key=facts["key"],
            ssh_args=shlex.split(facts["ssh_args"]),
            edge=facts["edge"],
            ca=Path(facts["ca"]),
            app=facts["app"],
            domains={name: environment["overlay"]["services"][service]["domain"]
                     for name, environment in facts["environments"].items()
                     if "domain" in environment.get("overlay", {}).get("services", {}).get(service, {})},
        )

    # --- the release commands an operator runs

    def playbook(self, playbook: str, *args: str) -> Run:
        return run(playbook_argv(self.inventory, playbook, *args))

    def playbook_argv(self, playbook: str, *args: str) -> list[str]:
        return playbook_argv(self.inventory, playbook, *args)

    # --- the first manager over plain ssh, as the deploy user with sudo

    def ssh(self, *command: str, check: bool = True) -> Run:
        remote = shlex.join(command if self.user == "root" else ("sudo", "-n", *command))
        argv = ["ssh", "-o", "BatchMode=yes", *(["-i", self.key] if self.key else []), *self.ssh_args,
                f"{self.user}@{self.address}", remote]
        done = run(argv, timeout=120)
        if check and done.rc != 0:
            raise LabError(f"on {self.manager}: {done}")
        return done

    def stack(self, environment: str) -> str:
        return f"{self.app}-{environment}"

    def ledger_text(self, environment: str) -> str:
        return self.ssh("cat", f"{LEDGER_DIR}/{self.stack(environment)}.json").stdout

    def ledger(self, environment: str) -> list[dict[str, Any]]:
        """The releases recorded for an environment, oldest first."""
        return json.loads(self.ledger_text(environment))["releases"]

    def lock_held(self, environment: str) -> bool:
        return self.ssh("test", "-e", f"{LOCK_DIR}/{self.stack(environment)}.lock", check=False).rc == 0

    def running_images(self, environment: str) -> dict[str, str]:
        """Each service of the environment's stack (its name in the stack) and the image it runs."""
        stack = self.stack(environment)
        ids = self.ssh("docker", "service", "ls", "--quiet", "--filter",
                       f"label=com.docker.stack.namespace={stack}").stdout.split()
        if not ids:
            return {}
        listed = self.ssh("docker", "service", "inspect", "--format",
                          "{{.Spec.Name}} {{.Spec.TaskTemplate.ContainerSpec.Image}}", *ids).stdout
        return {name.removeprefix(f"{stack}_"): image
                for name, image in (line.split(" ", 1) for line in listed.splitlines() if line)}

    # --- HTTPS through the edge

    def load_argv(self, environment: str, *args: str) -> list[str]:
        return [sys.executable, str(ROOT / LOAD_LOOP), "--address", self.edge, "--domain", self.domains[environment],
                "--ca", str(self.ca), *args]

    def ask(self, environment: str) -> dict[str, Any]:
        """One request to the environment's domain; its JSON answer."""
        done = run(self.load_argv(environment, "--once"), timeout=60)
        if done.rc != 0:
            raise LabError(f"{environment} does not answer through the edge: {done.stderr.strip()}")
        return json.loads(done.stdout)

    @contextmanager
    def under_load(self, environment: str, minimum: int = 1000) -> Iterator[dict[str, Any]]:
        """A load loop on the environment while the block runs; the dict yielded gets its counts after."""
        counts: dict[str, Any] = {}
        with tempfile.TemporaryDirectory(prefix="drover-e2e-load-") as folder:
            stop = Path(folder) / "stop"
            with background(self.load_argv(environment, "--stop", str(stop), "--min", str(minimum),
                                           "--max-seconds", "1800")) as loop:
                try:
                    yield counts
                finally:
                    stop.touch()
                    done = loop.finish(timeout=1900)
                if done.rc != 0:
                    raise LabError(f"the load loop failed: {done}")
                counts.update(json.loads(done.stdout.strip().splitlines()[-1]))


def _debug_message(described: Run) -> dict[str, Any]:
    """The msg of `ansible HOST -m debug -a msg=...` from its one-host output (`HOST | SUCCESS => {...}`)."""
    head, sep, body = described.stdout.partition("=>")
    if described.rc != 0 or not sep or "SUCCESS" not in head:
        raise LabError(f"the inventory does not describe a lab with a swarm manager: {described}")
    message = json.loads(body)["msg"]
    return message if isinstance(message, dict) else json.loads(message)
