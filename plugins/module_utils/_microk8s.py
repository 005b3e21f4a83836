# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The microk8s CLI: its runner, its errors, and the reader of `microk8s status`.

Nothing here starts a process: MicroK8sCli (the one command runner, see
_command) is handed a function that does (AnsibleModule.run_command in the
modules, a fake replaying recorded output in the tests). Every reader works
on text microk8s really prints; the fixtures under
tests/unit/fixtures/microk8s/ say where each sample comes from.

`microk8s status --format yaml` is read line by line rather than with a YAML
library: microk8s prints it with print() and format strings, not a YAML
dumper, so an addon description holding ": " would not be valid YAML, and
PyYAML need not be on the node. The addon and join modules' plans are in
_microk8s_addon and _microk8s_join.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from ansible_collections.drover.platform.plugins.module_utils._command import (
    C_LOCALE,
    CommandRunner,
    Result,
    module_run_command,
    tail,
)
from ansible_collections.drover.platform.plugins.module_utils._command import CommandError as _CommandError

MICROK8S = "/snap/bin/microk8s"
# Messages are matched, so they must not be translated.
ENVIRONMENT = C_LOCALE

# What microk8s prints instead of an answer (scripts/wrappers/common/utils.py).
WORKER_MARK = "acting as a node in a cluster"
STOPPED_MARK = "microk8s is not running, try microk8s start"
NO_PERMISSION_MARK = "Insufficient permissions to access MicroK8s"


class MicroK8sError(Exception):
    """Base of this module's errors; the message says what to do."""


class CommandError(MicroK8sError, _CommandError):
    """A microk8s command that failed, or answered what cannot be read."""


class CommandTimeoutError(CommandError):
    """A microk8s command that did not finish in the time given."""


class NotRunningError(MicroK8sError):
    """microk8s is installed but does not answer."""


class WorkerNodeError(MicroK8sError):
    """The node joined a cluster as a worker; it runs no control plane to ask."""


class AddonNotFoundError(MicroK8sError):
    """The addon is not in the status microk8s prints."""


class JoinError(MicroK8sError):
    """`microk8s join` did not join, with the reason it gave."""


class MicroK8sCli(CommandRunner):
    """Runs `microk8s <args>`; the secrets given never show in an error message."""

    default_executable: ClassVar[str] = MICROK8S
    environment: ClassVar[dict[str, str]] = ENVIRONMENT
    error: ClassVar[type[_CommandError]] = CommandError
    timeout_error: ClassVar[type[_CommandError]] = CommandTimeoutError


def module_cli(module: Any, secrets: Iterable[str] = ()) -> MicroK8sCli:
    """The runner on an AnsibleModule's run_command, for its microk8s_path."""
    executable = module.params["microk8s_path"]
    if not os.access(executable, os.X_OK):
        raise MicroK8sError(
            f"microk8s is not installed at {executable}; install the snap "
            "(snap install microk8s --classic) or set microk8s_path"
        )
    if module.params["timeout"] < 0:
        raise MicroK8sError("timeout must be 0 or more seconds")
    run_command = module_run_command(module, answer_stdin=True)
    return MicroK8sCli(run_command, executable, secrets, module.get_bin_path("timeout"))


# `microk8s status`


@dataclass(frozen=True)
class HaNode:
    address: str
    role: str


@dataclass(frozen=True)
class AddonStatus:
    name: str
    status: str
    repository: str | None = None
    description: str | None = None
    version: str | None = None

    @property
    def label(self) -> str:
        return f"{self.repository}/{self.name}" if self.repository else self.name


@dataclass(frozen=True)
class Status:
    running: bool
    worker: bool = False
    message: str | None = None
    ha_enabled: bool | None = None
    ha_nodes: tuple[HaNode, ...] = ()
    addons: tuple[AddonStatus, ...] = ()


def _boolean(value: str) -> bool:
    if value.lower() in ("true", "yes"):
        return True
    if value.lower() in ("false", "no"):
        return False
    raise ValueError(value)


def parse_status_yaml(text: str) -> Status:
    """`microk8s status --format yaml` (1.19 and later), as printed.

    A disabled addon's `repository` is not to be trusted: the 1.24+ printer
    writes the repository of the last enabled addon there (a loop variable
    used after its loop), so the repositories of enabled addons are kept and
    those of disabled ones dropped.
    """
    section: str | None = None
    running: bool | None = None
    message: str | None = None
    ha_enabled: bool | None = None
    ha_nodes: list[dict[str, str]] = []
    addons: list[dict[str, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        line = raw.strip()
        if raw[0] not in " -":
            key, sep, value = line.partition(":")
            if not sep or value.strip():
                raise MicroK8sError(f"line {number} of the status is not `section:` but {line!r}")
            section = key
            continue
        item = line.startswith("- ")
        if item:
            line = line[2:].strip()
        key, sep, value = line.partition(":")
        if not sep:
            raise MicroK8sError(
                f"line {number} of the status is not `key: value` but {line!r}; microk8s older than 1.19 "
                "prints addons another way and is not supported"
            )
        key, value = key.strip(), value.strip()
        try:
            if section == "microk8s":
                if key == "running":
                    running = _boolean(value)
                elif key == "message":
                    message = value
            elif section == "high-availability":
                if key == "enabled":
                    ha_enabled = _boolean(value)
                elif key in ("address", "role"):
                    if item or not ha_nodes:
                        ha_nodes.append({})
                    ha_nodes[-1][key] = value
                elif key == "message":
                    message = value
            elif section == "addons":
                if item or not addons:
                    addons.append({})
                addons[-1][key] = value
        except ValueError:
            raise MicroK8sError(f"line {number} of the status: {key} is {value!r}, not True or False") from None
    if running is None:
        raise MicroK8sError("the status has no `microk8s: running:` line; it is not `microk8s status --format yaml`")
    try:
        read_addons = tuple(
            AddonStatus(
                name=addon["name"],
                status=addon["status"],
                repository=(addon.get("repository") or None) if addon["status"] == "enabled" else None,
                description=addon.get("description"),
                version=addon.get("version"),
            )
            for addon in addons
        )
        read_nodes = tuple(HaNode(address=node["address"], role=node.get("role", "")) for node in ha_nodes)
    except KeyError as missing:
        raise MicroK8sError(f"an entry of the status has no {missing.args[0]}") from None
    return Status(running=running, message=message, ha_enabled=ha_enabled, ha_nodes=read_nodes, addons=read_addons)


def status_from_result(result: Result) -> Status:
    """What `microk8s status --format yaml` answered, whatever it printed."""
    output = result.output
    if WORKER_MARK in output:
        return Status(running=True, worker=True, message=tail(output))
    if NO_PERMISSION_MARK in output:
        raise MicroK8sError(
            "microk8s refused: insufficient permissions to access MicroK8s. Run the task with "
            "`become: true`, or add the connecting user to the microk8s group"
        )
    if STOPPED_MARK in output:
        return Status(running=False, message=STOPPED_MARK)
    if result.rc != 0:
        raise CommandError(result.argv, result.rc, result.stdout, result.stderr)
    return parse_status_yaml(result.stdout)


def read_status(cli: MicroK8sCli, timeout: int) -> Status:
    """The status, after waiting up to `timeout` seconds (0: not at all) for microk8s to be ready."""
    args = ["status", "--format", "yaml"]
    if timeout > 0:
        args += ["--wait-ready", "--timeout", str(timeout)]
    return status_from_result(cli.run(args, check=False))


def require_running(status: Status, timeout: int) -> None:
    if status.worker:
        return
    if not status.running:
        waited = f" after waiting {timeout} seconds" if timeout > 0 else ""
        raise NotRunningError(
            f"microk8s is not running{waited} ({status.message or 'no reason given'}). "
            "Start it with `microk8s start`, and look at `microk8s inspect` if it does not come up"
        )
