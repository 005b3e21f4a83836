# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one command runner: argv lists, the C locale, never a shell string.

The runner does not start processes itself; it is handed a function that
does (AnsibleModule.run_command in the modules, subprocess in the tools, a
fake replaying recorded output in the tests). A tool's runner (docker,
microk8s) is this class with the tool's executable, environment and error
type; secrets given to it never show in an error message or a result.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

# argv and the environment entries to add; returns (rc, stdout, stderr).
RunCommand = Callable[[list[str], dict[str, str]], tuple[int, str, str]]

# Messages and formats are parsed, so they must not be translated.
C_LOCALE = {"LC_ALL": "C", "LANG": "C"}
MASK = "********"
# coreutils timeout: rc 124 when the time ran out, 137 when the command had to
# be killed after --kill-after.
TIMEOUT_RCS = (124, 137)
KILL_AFTER = 30


def tail(text: str, lines: int = 6) -> str:
    """The last non-empty lines of command output, on one line."""
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " / ".join(kept[-lines:])


class CommandError(Exception):
    """A command that exited non-zero, or printed what cannot be read."""

    def __init__(self, argv: Sequence[str], rc: int, stdout: str, stderr: str, reason: str | None = None) -> None:
        self.argv = list(argv)
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        detail = reason or self.detail() or "no output"
        super().__init__(f"`{' '.join(self.argv)}` failed (rc {rc}): {detail}")

    def detail(self) -> str:
        """What of the output the message quotes: the last lines of both streams."""
        return tail(self.stderr + "\n" + self.stdout)


class CommandTimeoutError(CommandError):
    """A command that did not finish in the time given."""


@dataclass(frozen=True)
class Result:
    argv: list[str]
    rc: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return f"{self.stdout}\n{self.stderr}"


class CommandRunner:
    """Runs `<executable> <args>`; a subclass names the tool's environment and error types."""

    default_executable: ClassVar[str] = ""
    environment: ClassVar[dict[str, str]] = C_LOCALE
    error: ClassVar[type[CommandError]] = CommandError
    timeout_error: ClassVar[type[CommandError]] = CommandTimeoutError

    def __init__(
        self,
        run_command: RunCommand,
        executable: str | None = None,
        secrets: Iterable[str] = (),
        timeout_command: str | None = None,
    ) -> None:
        self.run_command = run_command
        self.executable = executable or self.default_executable
        self.secrets = [secret for secret in secrets if secret]
        self.timeout_command = timeout_command

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def run(self, args: Sequence[str], check: bool = True, timeout: int | None = None) -> Result:
        """One command; with a timeout (and coreutils timeout given), it is killed when the time runs out."""
        argv = [self.executable, *args]
        if timeout and self.timeout_command:
            argv = [self.timeout_command, f"--kill-after={KILL_AFTER}", str(timeout), *argv]
        rc, stdout, stderr = self.run_command(argv, dict(self.environment))
        shown = [self.redact(word) for word in argv[-len(args) - 1 :]]
        result = Result(shown, rc, self.redact(stdout), self.redact(stderr))
        if timeout and self.timeout_command and rc in TIMEOUT_RCS:
            raise self.timeout_error(
                shown,
                rc,
                result.stdout,
                result.stderr,
                f"did not finish within {timeout} seconds; raise the task's timeout",
            )
        if check and rc != 0:
            raise self.error(shown, rc, result.stdout, result.stderr)
        return result

    def lines(self, args: Sequence[str]) -> list[str]:
        """The non-empty lines printed on stdout."""
        return [line.strip() for line in self.run(args).stdout.splitlines() if line.strip()]

    def json(self, args: Sequence[str]) -> Any:
        """The JSON document printed on stdout, as `docker inspect` prints it."""
        result = self.run(args)
        try:
            return json.loads(result.stdout)
        except ValueError as error:
            raise self.error(result.argv, result.rc, result.stdout, result.stderr, f"not JSON: {error}") from None

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
                raise self.error(
                    result.argv, result.rc, result.stdout, result.stderr, f"line {line!r} is not JSON: {error}"
                ) from None
        return documents


def module_run_command(module: Any, answer_stdin: bool = False) -> RunCommand:
    """An AnsibleModule's run_command as a RunCommand; answer_stdin closes standard input after one empty line."""

    def run_command(argv: list[str], environment: dict[str, str]) -> tuple[int, str, str]:
        if answer_stdin:
            # An answered, closed standard input: a question gets an empty answer.
            return module.run_command(argv, environ_update=environment, data="\n", binary_data=True)
        return module.run_command(argv, environ_update=environment)

    return run_command
