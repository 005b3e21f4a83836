# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one command runner, and the docker and microk8s runners made of it."""

from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.module_utils._command import (
    C_LOCALE,
    MASK,
    CommandError,
    CommandRunner,
    CommandTimeoutError,
)
from ansible_collections.drover.platform.plugins.module_utils._microk8s import MicroK8sCli, MicroK8sError
from ansible_collections.drover.platform.plugins.module_utils._swarm_cli import DockerCli, DockerCliError


class Recorder:
    """A RunCommand that answers with one result and keeps what it was asked."""

    def __init__(self, rc: int = 0, stdout: str = "", stderr: str = "") -> None:
        self.answer = (rc, stdout, stderr)
        self.calls: list[tuple[list[str], dict[str, str]]] = []

    def __call__(self, argv: list[str], environment: dict[str, str]) -> tuple[int, str, str]:
        self.calls.append((argv, environment))
        return self.answer


def test_argv_list_and_c_locale() -> None:
    recorder = Recorder(stdout="a\n\n b \n")
    assert CommandRunner(recorder, "/bin/tool").lines(["list", "--all"]) == ["a", "b"]
    assert recorder.calls == [(["/bin/tool", "list", "--all"], C_LOCALE)]


@pytest.mark.parametrize(
    ("runner", "environment"),
    [
        pytest.param(DockerCli, {"LC_ALL": "C", "LANG": "C", "DOCKER_CLI_HINTS": "false"}, id="docker"),
        pytest.param(MicroK8sCli, {"LC_ALL": "C", "LANG": "C"}, id="microk8s"),
    ],
)
def test_each_tool_its_executable_and_environment(runner: Any, environment: dict[str, str]) -> None:
    recorder = Recorder()
    runner(recorder).run(["version"])
    argv, given = recorder.calls[0]
    assert argv == [runner.default_executable, "version"]
    assert given == environment


def test_a_secret_never_shows() -> None:
    recorder = Recorder(rc=1, stdout="joining with s3cret", stderr="s3cret refused")
    runner = CommandRunner(recorder, "/bin/tool", secrets=["s3cret"])
    with pytest.raises(CommandError) as raised:
        runner.run(["join", "host/s3cret"])
    assert "s3cret" not in str(raised.value)
    assert raised.value.argv == ["/bin/tool", "join", f"host/{MASK}"]
    result = runner.run(["join", "host/s3cret"], check=False)
    assert (result.stdout, result.stderr) == (f"joining with {MASK}", f"{MASK} refused")


def test_a_timeout_runs_under_coreutils_timeout() -> None:
    recorder = Recorder(rc=124)
    runner = CommandRunner(recorder, "/bin/tool", timeout_command="/usr/bin/timeout")
    with pytest.raises(CommandTimeoutError, match="did not finish within 5 seconds"):
        runner.run(["wait"], timeout=5)
    assert recorder.calls[0][0] == ["/usr/bin/timeout", "--kill-after=30", "5", "/bin/tool", "wait"]


@pytest.mark.parametrize(
    ("method", "stdout", "words"),
    [
        pytest.param("json", "{", "not JSON", id="json"),
        pytest.param("json_lines", '{"a": 1}\nnope\n', "line 'nope' is not JSON", id="json-lines"),
    ],
)
def test_output_that_cannot_be_read(method: str, stdout: str, words: str) -> None:
    with pytest.raises(DockerCliError, match=words):
        getattr(DockerCli(Recorder(stdout=stdout)), method)(["inspect"])


def test_each_tool_its_error_type() -> None:
    with pytest.raises(DockerCliError, match=r"`docker ps` failed \(rc 1\): Cannot connect"):
        DockerCli(Recorder(rc=1, stderr="Cannot connect\nto the daemon\n")).run(["ps"])
    with pytest.raises(MicroK8sError, match="not running"):
        MicroK8sCli(Recorder(rc=1, stdout="microk8s is not running")).run(["status"])
