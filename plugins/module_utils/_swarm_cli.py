# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The swarm through the docker CLI: the docker runner, and one stack as the CLI shows and changes it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from ansible_collections.drover.platform.plugins.module_utils._command import C_LOCALE, CommandError, CommandRunner
from ansible_collections.drover.platform.plugins.module_utils._swarm_convergence import Snapshot

NAMESPACE_LABEL = "com.docker.stack.namespace"


class DockerCliError(CommandError):
    """A docker command that exited non-zero, or printed what cannot be read."""

    def detail(self) -> str:
        return self.stderr.strip() or self.stdout.strip()


class DockerCli(CommandRunner):
    """Runs `docker <args>` with the given executable."""

    default_executable: ClassVar[str] = "docker"
    # The hints the newer CLI prints after some commands are noise in a log.
    environment: ClassVar[dict[str, str]] = {**C_LOCALE, "DOCKER_CLI_HINTS": "false"}
    error: ClassVar[type[CommandError]] = DockerCliError


@dataclass
class Leftovers:
    """What of a stack is still there after `docker stack rm`.

    orphaned_tasks are tasks of replicated-job or global-job services that
    finished: Engine 20.10 never deletes them once their service is removed
    (moby/moby#44312, fixed in later Engines), so they are reported, not
    waited for; their stopped containers likewise.
    """

    services: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    configs: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    orphaned_tasks: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(items for kind, items in asdict(self).items() if kind != "orphaned_tasks")

    def describe(self) -> str:
        return ", ".join(f"{len(items)} {kind}" for kind, items in asdict(self).items() if items) or "nothing"


TERMINAL_TASK_STATES = ("complete", "shutdown", "failed", "rejected", "remove", "orphaned")


def is_orphaned_job_task(task: Mapping[str, Any], service_ids: Iterable[str]) -> bool:
    """A finished job task whose service is gone: Engine 20.10 keeps it for good."""
    return (
        task.get("ServiceID") not in set(service_ids)
        and task.get("DesiredState") == "complete"
        and (task.get("Status") or {}).get("State") in TERMINAL_TASK_STATES
    )


def _matching_ids(short_ids: list[str], task: Mapping[str, Any]) -> list[str]:
    """The task's service ID if `docker service ls` (which prints short IDs) still lists it."""
    service_id = str(task.get("ServiceID", ""))
    return [service_id] if any(service_id.startswith(short) for short in short_ids) else []


class SwarmStackClient:
    """One stack on the swarm this manager belongs to."""

    def __init__(self, cli: DockerCli, name: str) -> None:
        self.cli = cli
        self.name = name

    @property
    def label_filter(self) -> str:
        return f"label={NAMESPACE_LABEL}={self.name}"

    def snapshot(self) -> Snapshot:
        listed = self.cli.json_lines(["service", "ls", "--filter", self.label_filter, "--format", "{{json .}}"])
        if not listed:
            return Snapshot()
        ids = [str(item["ID"]) for item in listed]
        services = self.cli.json(["service", "inspect", *ids])
        task_ids = list(dict.fromkeys(self.cli.lines(["service", "ps", "-q", "--no-trunc", *ids])))
        return Snapshot(listed=listed, services=services, tasks=self.inspect_tasks(task_ids))

    def inspect_tasks(self, task_ids: list[str]) -> list[Any]:
        """The tasks still there: swarm removes tasks between a listing and their inspection."""
        if not task_ids:
            return []
        result = self.cli.run(["inspect", "--type", "task", *task_ids], check=False)
        errors = [line for line in result.stderr.splitlines() if line.strip()]
        if result.rc != 0 and not all("No such task" in line for line in errors):
            raise DockerCliError(result.argv, result.rc, result.stdout, result.stderr)
        try:
            return json.loads(result.stdout) if result.stdout.strip() else []
        except ValueError as error:
            raise DockerCliError(result.argv, result.rc, result.stdout, result.stderr, f"not JSON: {error}") from None

    def deploy_argv(self, compose: str, prune: bool, with_registry_auth: bool, resolve_image: str) -> list[str]:
        argv = ["stack", "deploy", "--compose-file", compose]
        if prune:
            argv.append("--prune")
        if with_registry_auth:
            argv.append("--with-registry-auth")
        argv += ["--resolve-image", resolve_image]
        if self._deploy_has_detach():
            # Newer CLIs can wait themselves, without a timeout or a report.
            argv.append("--detach=true")
        return [*argv, self.name]

    def _deploy_has_detach(self) -> bool:
        return "--detach" in self.cli.run(["stack", "deploy", "--help"]).stdout

    def deploy(self, compose: str, prune: bool, with_registry_auth: bool, resolve_image: str) -> list[str]:
        argv = self.deploy_argv(compose, prune, with_registry_auth, resolve_image)
        return self.cli.lines(argv)

    def leftovers(self) -> Leftovers:
        def names(args: list[str]) -> list[str]:
            return self.cli.lines([*args, "--filter", self.label_filter, "--format", "{{.Name}}"])

        services = self.cli.lines(["service", "ls", "--filter", self.label_filter, "--format", "{{.ID}} {{.Name}}"])
        service_ids = [line.split()[0] for line in services]
        listed = self.cli.run(["stack", "ps", "-q", "--no-trunc", self.name], check=False)
        if listed.rc != 0 and "nothing found in stack" not in (listed.stderr + listed.stdout).lower():
            raise DockerCliError(listed.argv, listed.rc, listed.stdout, listed.stderr)
        task_ids = list(dict.fromkeys(line.strip() for line in listed.stdout.splitlines() if line.strip()))
        tasks = self.inspect_tasks(task_ids) if listed.rc == 0 else []
        orphaned = [str(t["ID"]) for t in tasks if is_orphaned_job_task(t, _matching_ids(service_ids, t))]
        containers = []
        for line in self.cli.lines(
            ["ps", "-a", "--filter", self.label_filter, "--format", '{{.ID}} {{.Label "com.docker.swarm.task.id"}}']
        ):
            container, _space, task = line.partition(" ")
            if task.strip() not in orphaned:
                containers.append(container)
        return Leftovers(
            services=[line.split(maxsplit=1)[-1] for line in services],
            tasks=[str(t["ID"]) for t in tasks if str(t["ID"]) not in orphaned],
            containers=containers,
            networks=names(["network", "ls"]),
            configs=names(["config", "ls"]),
            secrets=names(["secret", "ls"]),
            orphaned_tasks=orphaned,
        )

    def remove(self) -> str:
        """`docker stack rm`; its complaints about networks still in use are expected while tasks stop."""
        result = self.cli.run(["stack", "rm", self.name], check=False)
        return (result.stderr or result.stdout).strip() if result.rc != 0 else ""
