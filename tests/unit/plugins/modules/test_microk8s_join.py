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

from ansible_collections.drover.platform.plugins.modules import microk8s_join

# The run_main fixture of tests/unit/conftest.py.
RunMain = Callable[..., dict[str, Any]]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "microk8s"
TIMEOUT = "/usr/bin/timeout"
# The token add-node.txt carries: 32 hex digits, as the role makes them.
TOKEN = "0c7f86c53691b2d01abba161b69ee7c1"
# The exit codes microk8s gives these outputs (see the fixtures' README).
STATUS_RC = {"status-worker.txt": 1}
JOIN_RC = {"join-invalid-token.txt": 6, "join-known-to-dqlite.txt": 6, "join-hostname-unresolved.txt": 6,
           "join-no-route.txt": 1, "join-timed-out.txt": 1}


def read(name: str) -> str:
    return (FIXTURES / name).read_text() if name else ""


class FakeMicroK8s:
    """Answers microk8s commands from fixtures.

    statuses and nodes: what `microk8s status` and `kubectl get nodes` print,
    each moving on to the next one after a join that exits 0. answers: by
    verb, (rc, stdout file).
    """

    def __init__(self, statuses: list[str], nodes: list[str] | None = None,
                 answers: dict[str, tuple[int, str]] | None = None) -> None:
        self.statuses = statuses
        self.nodes = nodes or ["kubectl-get-nodes-wide.txt"]
        self.answers = answers or {}
        self.calls: list[list[str]] = []
        self.timeouts: list[str] = []
        self.executable = ""

    def __call__(self, args: list[str], environ_update: dict[str, str] | None = None, data: str | None = None,
                 binary_data: bool = False, **_kwargs: Any) -> tuple[int, str, str]:
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
        if words[:3] == ["kubectl", "get", "nodes"]:
            assert words[3:] == ["-o", "wide"]
            rc = 1 if self.nodes[0] == "kubectl-worker.txt" else 0
            return rc, read(self.nodes[0]), ""
        if words[0] in self.answers:
            rc, stdout = self.answers[words[0]]
            if rc == 0:
                for states in (self.statuses, self.nodes):
                    if len(states) > 1:
                        states.pop(0)
            return rc, read(stdout), ""
        raise AssertionError(f"no answer for {words}")

    def ran(self, verb: str) -> list[list[str]]:
        return [words for words in self.calls if words[0] == verb]


def run_module(run_main: RunMain, monkeypatch: pytest.MonkeyPatch, fake: FakeMicroK8s,
               microk8s: str, args: dict[str, Any]) -> dict[str, Any]:
    """main() with args against the fake; the JSON it prints, with failed set when it failed."""
    fake.executable = microk8s

    def run_command(_module: AnsibleModule, argv: list[str], **kwargs: Any) -> tuple[int, str, str]:
        return fake(argv, **kwargs)

    monkeypatch.setattr(AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(AnsibleModule, "get_bin_path",
                        lambda _module, name, *_args, **_kwargs: TIMEOUT if name == "timeout" else None)
    # None stands for an option left out, as omit does.
    given = {key: value for key, value in {"microk8s_path": microk8s, "token": TOKEN, **args}.items()
             if value is not None}
    return run_main(microk8s_join.main, given, printed=True)


# mode=issue

def test_issue_when_a_node_is_missing(run_main: RunMain, monkeypatch: pytest.MonkeyPatch,
                                      microk8s: str) -> None:
    fake = FakeMicroK8s(["status-ha-six-nodes.txt"], answers={"add-node": (0, "add-node.txt")})
    result = run_module(run_main, monkeypatch, fake, microk8s,
                        {"mode": "issue", "nodes": ["ha-05", "ha-01"], "token_ttl": 600})
    assert result["changed"] is True
    assert (result["nodes"], result["missing"]) == (["ha-05"], ["ha-01"])
    assert fake.ran("add-node") == [["add-node", "--token", TOKEN, "--token-ttl", "600"]]
    assert result["join_endpoints"] == ["10.54.53.229:25000"]
    assert result["fingerprint"] == "ca5f25c53b42"
    # The token is no_log: Ansible masks it wherever it shows.
    assert result["join_addresses"] == ["10.54.53.229:25000/********/ca5f25c53b42"]
    assert TOKEN not in result["_printed"]


def test_issue_nothing_when_every_node_is_in(run_main: RunMain, monkeypatch: pytest.MonkeyPatch,
                                             microk8s: str) -> None:
    fake = FakeMicroK8s(["status-ha-six-nodes.txt"], answers={"add-node": (0, "add-node.txt")})
    result = run_module(run_main, monkeypatch, fake, microk8s,
                        {"mode": "issue", "nodes": ["HA-05", "10.40.101.128"]})
    assert result["changed"] is False
    assert (result["missing"], result["join_addresses"], result["fingerprint"]) == ([], [], None)
    assert not fake.ran("add-node")


def test_issue_in_check_mode_predicts(run_main: RunMain, monkeypatch: pytest.MonkeyPatch,
                                      microk8s: str) -> None:
    fake = FakeMicroK8s(["status-ha-six-nodes.txt"], answers={"add-node": (0, "add-node.txt")})
    result = run_module(run_main, monkeypatch, fake, microk8s,
                        {"mode": "issue", "nodes": ["ha-05", "ha-06"], "_ansible_check_mode": True,
                         "_ansible_diff": True})
    assert result["changed"] is True
    assert result["missing"] == ["ha-06"]
    assert result["diff"] == {
        "before": {"nodes": ["ha-05"], "missing": ["ha-06"], "join_token": "none"},
        "after": {"nodes": ["ha-05"], "missing": ["ha-06"], "join_token": "valid 3600 seconds"},
    }
    assert not fake.ran("add-node")


@pytest.mark.parametrize(
    ("statuses", "nodes", "args", "message"),
    [
        pytest.param(["status-worker.txt"], None, {}, "run mode=issue on a control plane node", id="worker"),
        pytest.param(["status-not-running.txt"], None, {}, "microk8s is not running after waiting 300 seconds",
                     id="not-running"),
        pytest.param(["status-ha-six-nodes.txt"], ["kubectl-worker.txt"], {}, "cannot list the cluster's nodes",
                     id="kubectl-on-worker"),
        pytest.param(["status-ha-six-nodes.txt"], None, {"token": TOKEN[:31]}, "at least 32 letters or digits",
                     id="short-token"),
        pytest.param(["status-ha-six-nodes.txt"], None, {"token_ttl": 0}, "token_ttl must be", id="zero-ttl"),
        pytest.param(["status-ha-six-nodes.txt"], None, {"nodes": None}, "mode is issue but all of the following",
                     id="no-nodes"),
    ],
)
def test_issue_failures(run_main: RunMain, monkeypatch: pytest.MonkeyPatch, microk8s: str,
                        statuses: list[str], nodes: list[str] | None, args: dict[str, Any], message: str) -> None:
    fake = FakeMicroK8s(statuses, nodes, answers={"add-node": (0, "add-node.txt")})
    result = run_module(run_main, monkeypatch, fake, microk8s, {"mode": "issue", "nodes": ["ha-01"], **args})
    assert result["failed"] is True
    assert message in result["msg"]
    assert not fake.ran("add-node")


def test_issue_refuses_add_node_printing_another_token(run_main: RunMain,
                                                       monkeypatch: pytest.MonkeyPatch, microk8s: str) -> None:
    fake = FakeMicroK8s(["status-ha-six-nodes.txt"], answers={"add-node": (0, "add-node-several-addresses.txt")})
    result = run_module(run_main, monkeypatch, fake, microk8s, {"mode": "issue", "nodes": ["ha-01"]})
    assert result["failed"] is True
    assert "printed another token than the one given" in result["msg"]


# mode=join

def test_join_then_nothing_to_do(run_main: RunMain, monkeypatch: pytest.MonkeyPatch,
                                 microk8s: str) -> None:
    fake = FakeMicroK8s(["status-fresh.txt", "status-ha-six-nodes.txt"],
                        answers={"join": (0, "join-control-plane.txt")})
    first = run_module(run_main, monkeypatch, fake, microk8s, {"mode": "join", "address": "10.54.53.229:25000"})
    assert first["changed"] is True
    assert first["joined"] is True
    assert fake.ran("join") == [["join", f"10.54.53.229:25000/{TOKEN}"]]
    assert fake.timeouts == ["300"]
    assert first["stdout"].endswith("Successfully joined the cluster.\n")
    assert TOKEN not in first["_printed"]

    again = FakeMicroK8s(["status-ha-six-nodes.txt"], answers={"join": (0, "join-control-plane.txt")})
    second = run_module(run_main, monkeypatch, again, microk8s, {"mode": "join", "address": "10.54.53.229:25000"})
    assert (second["changed"], second["joined"]) == (False, True)
    assert not again.ran("join")


def test_join_as_worker_then_nothing_to_do(run_main: RunMain, monkeypatch: pytest.MonkeyPatch,
                                           microk8s: str, warnings: list[str]) -> None:
    fake = FakeMicroK8s(["status-fresh.txt", "status-worker.txt"], answers={"join": (0, "join-worker.txt")})
    args = {"mode": "join", "address": "10.54.53.229", "worker": True, "fingerprint": "ca5f25c53b42"}
    first = run_module(run_main, monkeypatch, fake, microk8s, args)
    assert first["changed"] is True
    assert fake.ran("join") == [["join", f"10.54.53.229:25000/{TOKEN}/ca5f25c53b42", "--worker"]]

    again = FakeMicroK8s(["status-worker.txt"], answers={"join": (0, "join-worker.txt")})
    second = run_module(run_main, monkeypatch, again, microk8s, args)
    assert (second["changed"], second["joined"]) == (False, True)
    assert again.calls == [["status", "--format", "yaml", "--wait-ready", "--timeout", "300"]]
    assert warnings == []


def test_join_in_check_mode_predicts(run_main: RunMain, monkeypatch: pytest.MonkeyPatch,
                                     microk8s: str) -> None:
    fake = FakeMicroK8s(["status-fresh.txt"], answers={"join": (0, "join-control-plane.txt")})
    result = run_module(run_main, monkeypatch, fake, microk8s,
                        {"mode": "join", "address": "10.54.53.229:25000", "_ansible_check_mode": True,
                         "_ansible_diff": True})
    assert (result["changed"], result["joined"]) == (True, True)
    assert result["diff"] == {"before": {"joined": False},
                              "after": {"joined": True, "address": "10.54.53.229:25000", "worker": False}}
    assert not fake.ran("join")


@pytest.mark.parametrize(
    ("status", "args", "warned"),
    [
        pytest.param("status-worker.txt", {}, "in a cluster as a worker, not the control plane node asked for",
                     id="worker-not-wanted"),
        pytest.param("status-ha-six-nodes.txt", {"worker": True}, "as a control plane node, not the worker",
                     id="control-plane-not-wanted"),
        pytest.param("status-ha-six-nodes.txt", {"address": "10.9.9.9"}, "which does not list 10.9.9.9",
                     id="another-cluster"),
    ],
)
def test_joined_otherwise_warns_and_changes_nothing(
    run_main: RunMain, monkeypatch: pytest.MonkeyPatch, microk8s: str, warnings: list[str],
    status: str, args: dict[str, Any], warned: str,
) -> None:
    fake = FakeMicroK8s([status], answers={"join": (0, "join-control-plane.txt")})
    result = run_module(run_main, monkeypatch, fake, microk8s, {"mode": "join", "address": "10.40.101.128", **args})
    assert result["changed"] is False
    assert len(warnings) == 1 and warned in warnings[0]
    assert not fake.ran("join")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("join-invalid-token.txt", r"failed \(rc 6\): the cluster at 10.54.53.229:25000 refused the token: .*"
                                   r"It printed: Contacting cluster at 11.22.33.44 / Connection failed. Invalid token"),
        ("join-known-to-dqlite.txt", r"microk8s remove-node <this node's address> --force"),
        ("join-hostname-unresolved.txt", r"cannot resolve this node's hostname"),
        ("join-no-route.txt", r"failed \(rc 1\): cannot reach the cluster agent at 10.54.53.229:25000.*"
                              r"No route to host"),
        ("join-timed-out.txt", r"TCP port 25000 is open between the nodes"),
    ],
)
def test_join_refusals_say_what_to_do(run_main: RunMain, monkeypatch: pytest.MonkeyPatch,
                                      microk8s: str, answer: str, message: str) -> None:
    fake = FakeMicroK8s(["status-fresh.txt"], answers={"join": (JOIN_RC[answer], answer)})
    result = run_module(run_main, monkeypatch, fake, microk8s, {"mode": "join", "address": "10.54.53.229:25000"})
    assert result["failed"] is True
    assert re.search(message, result["msg"]), result["msg"]
    assert TOKEN not in result["_printed"]


def test_join_that_runs_out_of_time(run_main: RunMain, monkeypatch: pytest.MonkeyPatch,
                                    microk8s: str) -> None:
    fake = FakeMicroK8s(["status-fresh.txt"], answers={"join": (124, "")})
    result = run_module(run_main, monkeypatch, fake, microk8s,
                        {"mode": "join", "address": "10.54.53.229:25000", "timeout": 120})
    assert result["failed"] is True
    assert "`microk8s join` to 10.54.53.229:25000 did not finish within 120 seconds" in result["msg"]
    assert fake.timeouts == ["120"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param({"address": "http://10.54.53.229"}, "is not an address of the cluster agent", id="bad-address"),
        pytest.param({"fingerprint": "CA5F"}, "is not the hex CHECK part", id="bad-fingerprint"),
        pytest.param({"address": None}, "mode is join but all of the following", id="no-address"),
        pytest.param({"token": "not/a/token/at/all/not/a/token/at/all"}, "at least 32 letters or digits",
                     id="bad-token"),
    ],
)
def test_join_refused_before_any_command(run_main: RunMain, monkeypatch: pytest.MonkeyPatch,
                                         microk8s: str, args: dict[str, Any], message: str) -> None:
    fake = FakeMicroK8s(["status-fresh.txt"])
    result = run_module(run_main, monkeypatch, fake, microk8s, {"mode": "join", "address": "10.54.53.229", **args})
    assert result["failed"] is True
    assert message in result["msg"]
    assert fake.calls == []
