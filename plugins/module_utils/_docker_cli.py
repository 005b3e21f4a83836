# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The docker CLI as one small runner: argv lists, the C locale, never a shell.

The runner does not start processes itself; it is handed a function that
does (AnsibleModule.run_command in the modules, subprocess in the tools, a
fake replaying recorded output in the tests).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# argv and the environment entries to add; returns (rc, stdout, stderr).
RunCommand = Callable[[list[str], dict[str, str]], tuple[int, str, str]]

# Messages and formats are parsed, so they must not be translated; the hints
# the newer CLI prints after some commands are noise in a log.
ENVIRONMENT = {"LC_ALL": "C", "LANG": "C", "DOCKER_CLI_HINTS": "false"}


class DockerCliError(Exception):
    """A docker command that exited non-zero, or printed what cannot be read."""

    def __init__(self, argv: Sequence[str], rc: int, stdout: str, stderr: str, reason: str | None = None) -> None:
        self.argv = list(argv)
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        detail = reason or (stderr.strip() or stdout.strip() or "no output")
        super().__init__(f"`{' '.join(self.argv)}` failed (rc {rc}): {detail}")


@dataclass(frozen=True)
class Result:
    argv: list[str]
    rc: int
    stdout: str
    stderr: str


class DockerCli:
    """Runs `docker <args>` with the given executable."""

    def __init__(self, run_command: RunCommand, executable: str = "docker") -> None:
        self.run_command = run_command
        self.executable = executable

    def run(self, args: Sequence[str], check: bool = True) -> Result:
        argv = [self.executable, *args]
        rc, stdout, stderr = self.run_command(argv, dict(ENVIRONMENT))
        if check and rc != 0:
            raise DockerCliError(argv, rc, stdout, stderr)
        return Result(argv, rc, stdout, stderr)

    def lines(self, args: Sequence[str]) -> list[str]:
        """The non-empty lines printed on stdout."""
        return [line.strip() for line in self.run(args).stdout.splitlines() if line.strip()]

    def json(self, args: Sequence[str]) -> Any:
        """The JSON document printed on stdout, as `docker inspect` prints it."""
        result = self.run(args)
        try:
            return json.loads(result.stdout)
        except ValueError as error:
            raise DockerCliError(result.argv, result.rc, result.stdout, result.stderr, f"not JSON: {error}") from None

    def json_lines(self, args: Sequence[str]) -> list[Any]:
        """One JSON document per line, as `--format '{{json .}}'` prints them."""
        result = self.run(args)
        documents = []
        for line in result.stdout.splitlines():
            if not line.strip():
                continue
            try:
                documents.append(json.loads(line))
            except ValueError as error:
                raise DockerCliError(
                    result.argv, result.rc, result.stdout, result.stderr, f"line {line!r} is not JSON: {error}"
                ) from None
        return documents
