# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module's main(), run as Ansible runs it, against recorded swarm output.

No swarm runs here: the docker commands the module runs are answered by a
fake that replays what the real docker CLI printed when
tools/record-swarm-fixtures ran them on a single-node swarm (the files and
commands.json under tests/unit/fixtures/swarm_stack/<case>/). A real swarm is
exercised by the lab scenario; this fake only replays recorded output, and
refuses any command that was not recorded.
"""

from __future__ import annotations

import copy
import json
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.drover.platform.plugins.module_utils import _swarm_stack
from ansible_collections.drover.platform.plugins.modules import swarm_stack

# The run_main fixture of tests/unit/conftest.py.
RunMain = Callable[..., dict[str, Any]]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "swarm_stack"
DOCKER = "/usr/bin/docker"
UNHEALTHY = "task: non-zero exit (137): dockerexec: unhealthy container"


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def definition(case: str) -> dict[str, Any]:
    return read_json(FIXTURES / case / "definition.json")


def stack_name(case: str) -> str:
    return read_json(FIXTURES / case / "case.json")["stack"]


class RecordedSwarm:
    """Answers docker commands from the recordings of one case.

    phases are folders of the case ("" for the case itself): the first answers
    until `docker stack deploy` or `docker stack rm` moves on to the next;
    "removing" moves on by itself once the module has read it once.
    """

    def __init__(self, case: str, *phases: str, refuse_deploy: bool = False) -> None:
        self.case = FIXTURES / case
        self.phases = list(phases)
        self.refuse_deploy = refuse_deploy
        self.calls: list[list[str]] = []
        self.staged: dict[str, Any] | None = None
        self.staged_files: dict[str, tuple[str, int]] = {}
        self.staged_dir: Path | None = None

    @property
    def phase(self) -> Path:
        return self.case / self.phases[0]

    def advance(self) -> None:
        if len(self.phases) > 1:
            self.phases.pop(0)

    def commands(self) -> dict[tuple[str, ...], tuple[int, str, str]]:
        answers = {}
        for entry in read_json(self.phase / "commands.json"):
            answers[tuple(entry["argv"])] = (entry["rc"], (self.phase / entry["file"]).read_text(), entry["stderr"])
        return answers

    def __call__(self, _module: AnsibleModule, args: list[str], environ_update: dict[str, str] | None = None,
                 **_kwargs: Any) -> tuple[int, str, str]:
        assert isinstance(args, list), "argv lists only, never a shell string"
        assert args[0] == DOCKER
        assert (environ_update or {}).get("LC_ALL") == "C"
        argv = ["docker", *args[1:]]
        self.calls.append(argv)
        if argv[1:4] == ["stack", "deploy", "--help"]:
            return 0, (self.case / "deploy-help.txt").read_text(), ""
        if argv[1:3] == ["stack", "deploy"]:
            return self.deploy(argv)
        if argv[1:3] == ["stack", "rm"]:
            self.advance()
            return 0, (self.case / "rm.txt").read_text(), ""
        answers = self.commands()
        if tuple(argv) not in answers:
            raise AssertionError(f"not recorded in {self.phase}: {argv}")
        answer = answers[tuple(argv)]
        if self.phases[0] == "removing" and argv[1:3] == ["secret", "ls"]:
            self.advance()
        return answer

    def deploy(self, argv: list[str]) -> tuple[int, str, str]:
        compose = Path(argv[argv.index("--compose-file") + 1])
        self.staged = json.loads(compose.read_text())
        self.staged_dir = compose.parent
        for kind in ("configs", "secrets"):
            for entry in (self.staged.get(kind) or {}).values():
                file = Path(entry["file"])
                self.staged_files[entry["name"]] = (file.read_text(), stat.S_IMODE(file.stat().st_mode))
        if self.refuse_deploy:
            refused = read_json(self.case / "refused.json")
            return refused["rc"], refused["stdout"], refused["stderr"]
        self.advance()
        return 0, (self.case / "deploy.txt").read_text(), ""

    def ran(self, *words: str) -> list[list[str]]:
        return [argv for argv in self.calls if argv[1:1 + len(words)] == list(words)]


class FakeTime:
    """The module's clock: sleeping only moves it on."""

    strptime = staticmethod(time.strptime)

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    clock = FakeTime()
    monkeypatch.setattr(_swarm_stack, "time", clock)
    return clock


def run_module(run_main: RunMain, monkeypatch: pytest.MonkeyPatch, swarm: RecordedSwarm,
               args: dict[str, Any]) -> dict[str, Any]:
    """main() with args against the recorded swarm; the JSON it prints, with failed set when it failed."""

    def run_command(module: AnsibleModule, args: list[str], **kwargs: Any) -> tuple[int, str, str]:
        return swarm(module, args, **kwargs)

    monkeypatch.setattr(AnsibleModule, "run_command", run_command)
    return run_main(swarm_stack.main, {"docker_cli": DOCKER, **args}, printed=True)


def present(case: str, **extra: Any) -> dict[str, Any]:
    return {"name": stack_name(case), "definition": definition(case), **extra}


@pytest.mark.parametrize("case", ["converged", "oneshot", "job", "global"])
def test_deploy_converges_then_nothing_to_do(
    run_main: RunMain, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    services = read_json(FIXTURES / case / "services.json")
    swarm = RecordedSwarm(case, "before", "")
    first = run_module(run_main, monkeypatch, swarm, present(case))

    assert first["changed"] is True and first["deployed"] is True
    assert first["services_added"] == [s["Spec"]["Name"].split("_", 1)[1] for s in services]
    assert first["deploy_output"] == (FIXTURES / case / "deploy.txt").read_text().splitlines()
    for service in services:
        report = first["services"][service["Spec"]["Name"].split("_", 1)[1]]
        assert (report["state"], report["id"]) == ("converged", service["ID"])
    detach = ["--detach=true"] if "--detach" in (FIXTURES / case / "deploy-help.txt").read_text() else []
    deploy = swarm.ran("stack", "deploy", "--compose-file")
    assert len(deploy) == 1
    assert deploy[0][5:] == ["--resolve-image", "never", *detach, stack_name(case)]
    assert not swarm.staged_dir.exists()

    again = RecordedSwarm(case, "")
    second = run_module(run_main, monkeypatch, again, present(case))
    assert (second["changed"], second["deployed"], second["services_added"], second["services_updated"]) == (
        False, False, [], []
    )
    assert not again.ran("stack", "deploy")
    assert {report["state"] for report in second["services"].values()} == {"converged"}


def test_what_is_deployed(run_main: RunMain, monkeypatch: pytest.MonkeyPatch) -> None:
    swarm = RecordedSwarm("converged", "before", "")
    result = run_module(run_main, monkeypatch, swarm, present("converged", prune=True, with_registry_auth=True,
                                                              resolve_image="changed"))
    recorded = read_json(FIXTURES / "converged" / "services.json")[0]["Spec"]["TaskTemplate"]["ContainerSpec"]
    app_conf = recorded["Configs"][0]["ConfigName"]
    token = recorded["Secrets"][0]["SecretName"]
    assert result["configs"] == {"app_conf": app_conf}
    assert result["secrets"] == {"token": token}
    assert swarm.staged["version"] == "3.9"
    assert swarm.staged["configs"]["app_conf"]["name"] == app_conf
    assert swarm.staged_files == {app_conf: ("greeting = hello\n", 0o600), token: ("not-a-real-secret\n", 0o600)}
    assert swarm.ran("stack", "deploy", "--compose-file")[0][5:] == [
        "--prune", "--with-registry-auth", "--resolve-image", "changed", "fx-converged"
    ]


def test_secret_content_never_printed(run_main: RunMain, monkeypatch: pytest.MonkeyPatch) -> None:
    args = present("converged", _ansible_diff=True)
    result = run_module(run_main, monkeypatch, RecordedSwarm("converged", "before", ""), args)
    assert result["changed"] is True
    assert "not-a-real-secret" not in result["_printed"]
    given = result["invocation"]["module_args"]["definition"]
    assert given["secrets"]["token"]["content"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert given["configs"]["app_conf"]["content"] == "greeting = hello\n"  # a config is no secret


@pytest.mark.parametrize(
    ("case", "state", "words"),
    [
        pytest.param("rolled-back", "rolled_back", "web rolled back (rollback completed)", id="rolled-back"),
        pytest.param("paused", "paused", "web update paused (update paused due to failure", id="paused"),
    ],
)
def test_failed_update_fails_with_the_report(
    run_main: RunMain, monkeypatch: pytest.MonkeyPatch, fake_time: FakeTime, case: str,
    state: str, words: str,
) -> None:
    swarm = RecordedSwarm(case, "before", "")
    result = run_module(run_main, monkeypatch, swarm, present(case, timeout=120))
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"].startswith(f"stack {stack_name(case)} did not converge: {words}")
    assert result["msg"].endswith(f"task error: {UNHEALTHY}")
    assert result["services"]["web"]["state"] == state
    assert result["services_updated"] == ["web"]
    # It failed on the first read after the deploy, without waiting out the timeout.
    assert fake_time.now == 0


@pytest.mark.parametrize(
    ("case", "words"),
    [
        pytest.param("updating", "web updating, 0/1 running", id="updating"),
        pytest.param("task-error", "exits pending, 0/1 running; task error: task: non-zero exit (3)", id="task-error"),
    ],
)
def test_timeout(
    run_main: RunMain, monkeypatch: pytest.MonkeyPatch, fake_time: FakeTime, case: str, words: str
) -> None:
    swarm = RecordedSwarm(case, "before", "")
    result = run_module(run_main, monkeypatch, swarm, present(case, timeout=45, poll_interval=5))
    assert result["failed"] is True
    assert result["msg"].startswith(f"stack {stack_name(case)} did not converge within 45 seconds: {words}")
    assert fake_time.now == 45
    assert len(swarm.ran("service", "ls")) == 1 + 10  # the plan's read, then one per poll: 0, 5, ... 45 s


def test_check_mode_with_diff_predicts_and_deploys_nothing(
    run_main: RunMain, monkeypatch: pytest.MonkeyPatch
) -> None:
    compose = definition("converged")
    compose["configs"]["app_conf"]["content"] = "greeting = bonjour\n"
    swarm = RecordedSwarm("converged", "")
    result = run_module(run_main, monkeypatch, swarm, {
        "name": "fx-converged", "definition": compose, "_ansible_check_mode": True, "_ansible_diff": True,
    })
    recorded = read_json(FIXTURES / "converged" / "services.json")[0]["Spec"]
    assert (result["changed"], result["deployed"], result["services_updated"]) == (True, False, ["web"])
    assert result["configs"]["app_conf"] != recorded["TaskTemplate"]["ContainerSpec"]["Configs"][0]["ConfigName"]
    assert result["diff"]["before"] == {"web": {
        "spec_hash": recorded["Labels"]["io.drover.spec-hash"],
        "image": recorded["TaskTemplate"]["ContainerSpec"]["Image"],
    }}
    assert result["diff"]["after"]["web"]["configs"] == compose["services"]["web"]["configs"]
    assert result["services"]["web"]["state"] == "converged"
    assert [argv[1:3] for argv in swarm.calls] == [["service", "ls"], ["service", "inspect"], ["service", "ps"],
                                                   ["inspect", "--type"]]


def test_check_mode_on_a_new_stack(run_main: RunMain, monkeypatch: pytest.MonkeyPatch) -> None:
    swarm = RecordedSwarm("converged", "before")
    result = run_module(run_main, monkeypatch, swarm, present("converged", _ansible_check_mode=True))
    assert (result["changed"], result["services_added"], result["services"]["web"]["state"]) == (
        True, ["web"], "missing"
    )
    assert not swarm.ran("stack", "deploy")


def test_definition_file_hashes_as_the_same_data(
    run_main: RunMain, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The recorded stack was deployed from inline content; the same bytes in files are no change."""
    compose = copy.deepcopy(definition("converged"))
    (tmp_path / "app.conf").write_text(compose["configs"]["app_conf"].pop("content"))
    (tmp_path / "token").write_text(compose["secrets"]["token"].pop("content"))
    compose["configs"]["app_conf"]["file"] = "./app.conf"
    compose["secrets"]["token"]["file"] = "token"
    (tmp_path / "compose.yml").write_text(json.dumps(compose))
    swarm = RecordedSwarm("converged", "")
    result = run_module(run_main, monkeypatch, swarm, {"name": "fx-converged",
                                                       "definition_file": str(tmp_path / "compose.yml")})
    assert (result["changed"], result["services"]["web"]["state"]) == (False, "converged")


def test_absent_waits_until_gone(
    run_main: RunMain, monkeypatch: pytest.MonkeyPatch, fake_time: FakeTime
) -> None:
    removing = FIXTURES / "converged" / "removing"
    assert (removing / "stack-ps.txt").read_text().strip()  # tasks were still there after rm
    swarm = RecordedSwarm("converged", "", "removing", "gone")
    absent = {"name": "fx-converged", "state": "absent", "_ansible_diff": True}
    result = run_module(run_main, monkeypatch, swarm, absent)
    assert (result["changed"], result["services_removed"]) == (True, ["web"])
    assert len(swarm.ran("stack", "rm")) == 1
    assert fake_time.now == 2  # one poll interval, between the "removing" read and the "gone" one
    assert result["diff"]["before"]["networks"] == (FIXTURES / "converged" / "networks.txt").read_text().split()
    assert result["diff"]["after"]["services"] == []

    again = RecordedSwarm("converged", "gone")
    second = run_module(run_main, monkeypatch, again, {"name": "fx-converged", "state": "absent"})
    assert (second["changed"], second["services_removed"]) == (False, [])
    assert not again.ran("stack", "rm")


def test_absent_in_check_mode(run_main: RunMain, monkeypatch: pytest.MonkeyPatch) -> None:
    swarm = RecordedSwarm("converged", "removing")
    result = run_module(run_main, monkeypatch, swarm, {"name": "fx-converged", "state": "absent",
                                                       "_ansible_check_mode": True})
    assert result["changed"] is True
    assert not swarm.ran("stack", "rm")


def test_absent_leaves_finished_job_tasks_to_the_engine(
    run_main: RunMain, monkeypatch: pytest.MonkeyPatch, warnings: list[str], fake_time: FakeTime
) -> None:
    orphans = (FIXTURES / "job" / "gone" / "stack-ps.txt").read_text().split()
    swarm = RecordedSwarm("job", "", "removing", "gone")
    result = run_module(run_main, monkeypatch, swarm, {"name": "fx-job", "state": "absent", "timeout": 30})
    assert result.get("failed") is None
    assert result["orphaned_tasks"] == orphans
    assert len(warnings) == 1 and "moby/moby#44312" in warnings[0]


def test_cli_refusal_fails_the_module(run_main: RunMain, monkeypatch: pytest.MonkeyPatch) -> None:
    swarm = RecordedSwarm("job", "before", refuse_deploy=True)
    result = run_module(run_main, monkeypatch, swarm, present("job"))
    assert result["failed"] is True
    assert result["msg"].endswith("failed (rc 1): service once: Unknown mode: replicated-job")
    assert not swarm.staged_dir.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param({"definition": {"services": {"web": {"image": "x"}}}, "definition_file": "/x.yml"},
                     "mutually exclusive", id="both"),
        pytest.param({}, "state is present but any of the following are missing", id="neither"),
        pytest.param({"definition": {"services": {"web": {"image": "x", "env_file": "web.env"}}}},
                     "give an absolute path on the manager", id="relative-path"),
        pytest.param({"definition_file": "/nonexistent/compose.yml"}, "cannot read /nonexistent/compose.yml",
                     id="missing-file"),
        pytest.param({"name": "my app", "state": "absent"}, "is not a stack name", id="bad-name"),
        pytest.param({"definition": {"services": {}}, "resolve_image": "sometimes"}, "value of resolve_image",
                     id="bad-choice"),
    ],
)
def test_refused_before_any_command(
    run_main: RunMain, monkeypatch: pytest.MonkeyPatch, args: dict[str, Any], message: str
) -> None:
    swarm = RecordedSwarm("converged", "")
    result = run_module(run_main, monkeypatch, swarm, {"name": "fx-converged", **args})
    assert result["failed"] is True
    assert message in result["msg"]
    assert swarm.calls == []
