# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module's main(), run as Ansible runs it, against what microk8s printed.

No microk8s runs here: the commands the module runs are answered by a fake
that replays the outputs under tests/unit/fixtures/microk8s/ (their sources
are in its README.md), and refuses any command it has no answer for.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.drover.platform.plugins.modules import microk8s_addon

# The run_main fixture of tests/unit/conftest.py.
RunMain = Callable[..., dict[str, Any]]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "microk8s"
TIMEOUT = "/usr/bin/timeout"
# The exit codes microk8s gives these outputs (see the fixtures' README).
STATUS_RC = {"status-worker.txt": 1, "status-no-permission.txt": 1}


def read(name: str) -> str:
    return (FIXTURES / name).read_text() if name else ""


class FakeMicroK8s:
    """Answers microk8s commands from fixtures.

    statuses: what `microk8s status` prints, the next one after each enable
    or disable that exits 0. answers: by verb, (rc, stdout file, stderr file).
    """

    def __init__(self, *statuses: str, answers: dict[str, tuple[int, str, str]] | None = None) -> None:
        self.statuses = list(statuses)
        self.answers = answers or {}
        self.calls: list[list[str]] = []
        self.timeouts: list[str] = []
        self.executable = ""

    def __call__(self, _module: AnsibleModule, args: list[str], environ_update: dict[str, str] | None = None,
                 data: str | None = None, binary_data: bool = False, **_kwargs: Any) -> tuple[int, str, str]:
        assert isinstance(args, list), "argv lists only, never a shell string"
        assert (environ_update or {}).get("LC_ALL") == "C"
        assert (data, binary_data) == ("\n", True), "a closed, answered standard input"
        if args[0] == TIMEOUT:
            self.timeouts.append(args[2])
            args = args[3:]
        assert args[0] == self.executable
        words = args[1:]
        self.calls.append(words)
        if words[0] == "status":
            return STATUS_RC.get(self.statuses[0], 0), read(self.statuses[0]), ""
        if words[0] in self.answers:
            rc, stdout, stderr = self.answers[words[0]]
            if rc == 0 and len(self.statuses) > 1:
                self.statuses.pop(0)
            return rc, read(stdout), read(stderr)
        raise AssertionError(f"no answer for {words}")

    def ran(self, verb: str) -> list[list[str]]:
        return [words for words in self.calls if words[0] == verb]


def run_module(run_main: RunMain, monkeypatch: pytest.MonkeyPatch, fake: FakeMicroK8s,
               microk8s: str, args: dict[str, Any]) -> dict[str, Any]:
    """main() with args against the fake; the JSON it prints, with failed set when it failed."""
    fake.executable = microk8s

    def run_command(module: AnsibleModule, args: list[str], **kwargs: Any) -> tuple[int, str, str]:
        return fake(module, args, **kwargs)

    monkeypatch.setattr(AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(AnsibleModule, "get_bin_path",
                        lambda _module, name, *_args, **_kwargs: TIMEOUT if name == "timeout" else None)
    return run_main(microk8s_addon.main, {"microk8s_path": microk8s, **args})


ENABLE_DNS = {"enable": (0, "enable-dns.stdout.txt", "enable-dns.stderr.txt")}
DISABLE_DNS = {"disable": (0, "disable-dns.stdout.txt", "")}


def test_enable_then_nothing_to_do(run_main: RunMain, monkeypatch: pytest.MonkeyPatch,
                                   microk8s: str) -> None:
    fake = FakeMicroK8s("status-fresh.txt", "status-addons-enabled.txt", answers=ENABLE_DNS)
    first = run_module(run_main, monkeypatch, fake, microk8s, {"name": "dns"})
    assert first["changed"] is True
    assert first["status"] == {"before": "disabled", "after": "enabled"}
    assert fake.ran("enable") == [["enable", "dns"]]
    assert first["command"] == [microk8s, "enable", "dns"]
    assert first["stdout"] == read("enable-dns.stdout.txt")
    assert first["stderr"] == "Infer repository core for addon dns\n"
    assert fake.ran("status") == [["status", "--format", "yaml", "--wait-ready", "--timeout", "300"]] * 2
    assert fake.timeouts == ["300"]

    again = FakeMicroK8s("status-addons-enabled.txt", answers=ENABLE_DNS)
    second = run_module(run_main, monkeypatch, again, microk8s, {"name": "dns"})
    assert second["changed"] is False
    assert second["status"] == {"before": "enabled", "after": "enabled"}
    assert second["command"] is None
    assert not again.ran("enable")


def test_arguments_go_after_a_colon(run_main: RunMain, monkeypatch: pytest.MonkeyPatch,
                                    microk8s: str) -> None:
    fake = FakeMicroK8s("status-fresh.txt", "status-addons-enabled.txt",
                        answers={"enable": (0, "enable-metallb.stdout.txt", "enable-metallb.stderr.txt")})
    result = run_module(run_main, monkeypatch, fake, microk8s,
                        {"name": "metallb", "arguments": "10.64.140.43-10.64.140.49", "timeout": 600})
    assert result["changed"] is True
    assert fake.ran("enable") == [["enable", "metallb:10.64.140.43-10.64.140.49"]]
    assert fake.timeouts == ["600"]
    assert fake.ran("status")[0][-1] == "600"
    assert result["stdout"].startswith("Enabling MetalLB\n")


def test_check_mode_with_diff_predicts_and_changes_nothing(
    run_main: RunMain, monkeypatch: pytest.MonkeyPatch, microk8s: str
) -> None:
    fake = FakeMicroK8s("status-fresh.txt", answers=ENABLE_DNS)
    result = run_module(run_main, monkeypatch, fake, microk8s,
                        {"name": "dns", "_ansible_check_mode": True, "_ansible_diff": True})
    assert result["changed"] is True
    assert result["status"] == {"before": "disabled", "after": "enabled"}
    assert result["diff"] == {"before": {"addon": "dns", "state": "disabled"},
                              "after": {"addon": "dns", "state": "enabled"}}
    assert result["command"] == [microk8s, "enable", "dns"]
    assert [words[0] for words in fake.calls] == ["status"]


def test_disable_then_nothing_to_do(run_main: RunMain, monkeypatch: pytest.MonkeyPatch,
                                    microk8s: str) -> None:
    fake = FakeMicroK8s("status-addons-enabled.txt", "status-fresh.txt", answers=DISABLE_DNS)
    args = {"name": "core/dns", "state": "disabled", "_ansible_diff": True}
    first = run_module(run_main, monkeypatch, fake, microk8s, args)
    assert first["changed"] is True
    assert fake.ran("disable") == [["disable", "core/dns"]]
    assert first["diff"]["after"] == {"addon": "core/dns", "state": "disabled"}
    assert first["stdout"].endswith("DNS is disabled\n")

    again = FakeMicroK8s("status-fresh.txt", answers=DISABLE_DNS)
    second = run_module(run_main, monkeypatch, again, microk8s, {"name": "core/dns", "state": "disabled"})
    assert second["changed"] is False
    assert not again.ran("disable")


@pytest.mark.parametrize(
    ("status", "name", "changed"),
    [
        ("status-community-repo.txt", "community/argocd", False),
        ("status-community-repo.txt", "community/traefik", True),
        ("status-addons-enabled.txt", "storage", False),
        ("status-ha-single-voter.txt", "core/dns", False),
        ("status-ha-six-nodes.txt", "ingress", True),
    ],
)
def test_state_read_from_status(run_main: RunMain, monkeypatch: pytest.MonkeyPatch,
                                microk8s: str, status: str, name: str, changed: bool) -> None:
    fake = FakeMicroK8s(status)
    result = run_module(run_main, monkeypatch, fake, microk8s, {"name": name, "_ansible_check_mode": True})
    assert result["changed"] is changed
    assert [words[0] for words in fake.calls] == ["status"]


def test_timeout_zero_reads_the_status_at_once(run_main: RunMain, monkeypatch: pytest.MonkeyPatch,
                                               microk8s: str) -> None:
    fake = FakeMicroK8s("status-addons-enabled.txt")
    run_module(run_main, monkeypatch, fake, microk8s, {"name": "dns", "timeout": 0})
    assert fake.calls == [["status", "--format", "yaml"]]


@pytest.mark.parametrize(
    ("statuses", "answers", "args", "message", "ran"),
    [
        pytest.param(["status-ha-single-voter.txt"], {}, {"name": "metallb"},
                     r"microk8s has no addon 'metallb' \(its status lists: dns, ha-cluster\)", [], id="unknown-addon"),
        pytest.param(["status-worker.txt"], {}, {"name": "dns"}, "joined its cluster as a worker", [], id="worker"),
        pytest.param(["status-not-running.txt"], {}, {"name": "dns"},
                     r"microk8s is not running after waiting 300 seconds \(microk8s is not running. Use microk8s "
                     r"inspect", [], id="not-running"),
        pytest.param(["status-stopped.txt"], {}, {"name": "dns", "timeout": 0},
                     r"not running \(microk8s is not running, try microk8s start\)", [], id="stopped"),
        pytest.param(["status-no-permission.txt"], {}, {"name": "dns"}, "become: true", [], id="no-permission"),
        pytest.param(["status-fresh.txt"], {"enable": (1, "enable-metallb-no-range.stdout.txt",
                                                       "enable-metallb-no-range.stderr.txt")},
                     {"name": "metallb"}, r"`.*microk8s enable metallb` failed \(rc 1\): .*provide it as an argument",
                     ["enable"], id="enable-fails"),
        pytest.param(["status-community-repo.txt"], {"enable": (0, "enable-not-found.stdout.txt", "")},
                     {"name": "core/traefik"},
                     "ended without error, yet the status still says core/traefik is disabled: "
                     "Addon core/traefik not found", ["enable"], id="enabled-nothing"),
        pytest.param(["status-fresh.txt"], {"enable": (124, "enable-metallb.stdout.txt", "")},
                     {"name": "metallb", "arguments": "10.64.140.43-10.64.140.49", "timeout": 60},
                     "did not finish within 60 seconds", ["enable"], id="timed-out"),
        pytest.param(["status-fresh.txt"], {}, {"name": "dns", "arguments": "2001:4860:4860::8888"},
                     "at every colon", [], id="colon-in-arguments"),
        pytest.param(["status-fresh.txt"], {}, {"name": "dns --force"}, "is not an addon name", [], id="bad-name"),
        pytest.param(["status-fresh.txt"], {}, {"name": "dns", "timeout": -1}, "0 or more seconds", [],
                     id="negative-timeout"),
    ],
)
def test_failures_say_what_to_do(run_main: RunMain, monkeypatch: pytest.MonkeyPatch, microk8s: str,
                                 statuses: list[str], answers: dict[str, tuple[int, str, str]], args: dict[str, Any],
                                 message: str, ran: list[str]) -> None:
    fake = FakeMicroK8s(*statuses, answers=answers)
    result = run_module(run_main, monkeypatch, fake, microk8s, args)
    assert result["failed"] is True
    assert re.search(message, result["msg"]), result["msg"]
    assert [words[0] for words in fake.calls if words[0] != "status"] == ran


def test_missing_microk8s_fails_before_any_command(run_main: RunMain,
                                                   monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = FakeMicroK8s("status-fresh.txt")
    result = run_module(run_main, monkeypatch, fake, str(tmp_path / "absent"), {"name": "dns"})
    assert result["failed"] is True
    assert "microk8s is not installed at" in result["msg"]
    assert fake.calls == []
