# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module's main(), run as Ansible runs it: in this process, and as real processes racing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.modules import deploy_lock

# The run_main fixture of tests/unit/conftest.py.
RunMain = Callable[..., dict[str, Any]]

HOLDER = {"user": "alice", "controller": "ops1", "pid": 4242, "play": "Deploy the app"}
MODULE = Path(deploy_lock.__file__)
# What makes ansible_collections.drover.platform importable in a child process.
COLLECTIONS = str(Path(__file__).resolve().parents[4] / "collections")


def run_module(run_main: RunMain, args: dict[str, Any]) -> dict[str, Any]:
    return run_main(deploy_lock.main, args)


def args(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {"name": "demo-prod", "path": str(tmp_path), **extra}


def test_acquire_again_release_again(run_main: RunMain, tmp_path: Path) -> None:
    file = tmp_path / "demo-prod.lock"

    taken = run_module(run_main, args(tmp_path, token="tok-a", holder=HOLDER))
    assert (taken["changed"], taken["held"], taken["lock_file"]) == (True, True, str(file))
    assert json.loads(file.read_text()) == taken["holder"]
    assert taken["holder"]["holder"] == HOLDER

    again = run_module(run_main, args(tmp_path, token="tok-a", holder=HOLDER))
    assert (again["changed"], again["held"]) == (False, True)
    assert again["holder"] == taken["holder"]

    released = run_module(run_main, args(tmp_path, token="tok-a", state="released"))
    assert (released["changed"], released["held"]) == (True, False)
    assert released["released_at"] >= taken["holder"]["acquired_at"]
    assert not file.exists()

    released_again = run_module(run_main, args(tmp_path, token="tok-a", state="released"))
    assert released_again["changed"] is False
    assert released_again["holder"] is None
    # The result is about the lock, not about a file: no file attributes mixed in.
    assert "mode" not in taken and "state" not in released


def test_a_held_lock_fails_naming_the_holder(run_main: RunMain, tmp_path: Path) -> None:
    taken = run_module(run_main, args(tmp_path, token="tok-a", holder=HOLDER))

    refused = run_module(run_main, args(tmp_path, token="tok-b", holder={"user": "bob"}, wait=0))

    assert refused["failed"] is True
    assert "alice@ops1 (pid 4242, play Deploy the app)" in refused["msg"]
    assert "since " + taken["holder"]["acquired_at"] in refused["msg"]
    assert refused["holder"] == taken["holder"]
    assert refused["lock_file"] == taken["lock_file"]


def test_a_held_lock_is_waited_for_then_refused(run_main: RunMain, tmp_path: Path) -> None:
    run_module(run_main, args(tmp_path, token="tok-a", holder=HOLDER))
    started = time.monotonic()

    refused = run_module(run_main, args(tmp_path, token="tok-b", wait=1))

    assert time.monotonic() - started >= 1
    assert refused["failed"] is True
    assert refused["waited"] >= 1
    assert "waited 1 s" in refused["msg"]


def test_release_by_another_token_is_refused(
    run_main: RunMain, tmp_path: Path, warnings: list[str]
) -> None:
    run_module(run_main, args(tmp_path, token="tok-a", holder=HOLDER))
    content = (tmp_path / "demo-prod.lock").read_text()

    refused = run_module(run_main, args(tmp_path, token="tok-b", state="released"))

    assert refused["changed"] is False
    assert refused["held"] is False
    assert refused["holder"]["token"] == "tok-a"
    assert len(warnings) == 1 and "left in place" in warnings[0]
    assert (tmp_path / "demo-prod.lock").read_text() == content


def test_break_reports_the_holder_it_removed(
    run_main: RunMain, tmp_path: Path, warnings: list[str]
) -> None:
    taken = run_module(run_main, args(tmp_path, token="tok-a", holder=HOLDER))

    broken = run_module(run_main, args(tmp_path, state="broken"))
    broken_again = run_module(run_main, args(tmp_path, state="broken"))

    assert broken["changed"] is True
    assert broken["holder"] == taken["holder"]
    # One warning, from the break that removed a lock; the second had nothing to say.
    assert len(warnings) == 1 and "alice@ops1" in warnings[0]
    assert not (tmp_path / "demo-prod.lock").exists()
    assert (broken_again["changed"], broken_again["holder"]) == (False, None)


def test_check_mode_with_diff_predicts_and_changes_nothing(run_main: RunMain, tmp_path: Path) -> None:
    check = {"_ansible_check_mode": True, "_ansible_diff": True}

    predicted = run_module(run_main, args(tmp_path, token="tok-a", holder=HOLDER, **check))
    assert predicted["changed"] is True
    assert predicted["diff"]["before"] == ""
    assert json.loads(predicted["diff"]["after"])["holder"] == HOLDER
    assert os.listdir(tmp_path) == []

    taken = run_module(run_main, args(tmp_path, token="tok-a", holder=HOLDER, _ansible_diff=True))
    assert json.loads(taken["diff"]["after"]) == taken["holder"]

    release_predicted = run_module(run_main, args(tmp_path, token="tok-a", state="released", **check))
    assert release_predicted["changed"] is True
    assert json.loads(release_predicted["diff"]["before"]) == taken["holder"]
    assert release_predicted["diff"]["after"] == ""
    assert (tmp_path / "demo-prod.lock").exists()

    refused = run_module(run_main, args(tmp_path, token="tok-b", **check))
    assert refused["failed"] is True
    assert "alice@ops1" in refused["msg"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param({}, "token", id="acquire-without-token"),
        pytest.param({"state": "released"}, "token", id="release-without-token"),
        pytest.param({"token": "tok-a", "name": "../../etc/motd"}, "lock name", id="path-in-name"),
        pytest.param({"token": "tok-a", "holder": [1, 2]}, "holder must be", id="holder-list"),
    ],
)
def test_bad_input_fails_before_touching_anything(
    run_main: RunMain, tmp_path: Path, extra: dict[str, Any], message: str
) -> None:
    result = run_module(run_main, args(tmp_path, **extra))
    assert result["failed"] is True
    assert message in result["msg"]
    assert os.listdir(tmp_path) == []


def test_a_string_holder(run_main: RunMain, tmp_path: Path) -> None:
    taken = run_module(run_main, args(tmp_path, token="tok-a", holder="nightly backup"))
    assert taken["holder"]["holder"] == {"description": "nightly backup"}


# The module file itself, as separate processes: what Ansible runs on a host.


def start_module(tmp_path: Path, label: str, module_args: dict[str, Any]) -> subprocess.Popen[str]:
    args_file = tmp_path / f"{label}.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": module_args}))
    env = {**os.environ, "PYTHONPATH": COLLECTIONS, "LC_ALL": "C"}
    return subprocess.Popen([sys.executable, str(MODULE), str(args_file)], stdout=subprocess.PIPE, text=True,
                            env=env)


def result_of(process: subprocess.Popen[str]) -> dict[str, Any]:
    out = process.communicate(timeout=60)[0]
    return json.loads(out)


def test_two_module_runs_for_a_free_lock_one_gets_it(tmp_path: Path) -> None:
    locks = tmp_path / "locks"
    runs = [start_module(tmp_path, run, {"name": "demo-dev", "path": str(locks), "token": run, "holder": {"user": run}})
            for run in ("first", "second")]
    results = {run: result_of(process) for run, process in zip(("first", "second"), runs, strict=True)}

    winners = [run for run, result in results.items() if not result.get("failed")]
    assert len(winners) == 1, results
    loser = results["second" if winners == ["first"] else "first"]
    assert loser["holder"]["token"] == winners[0]
    assert f"held by {winners[0]} since" in loser["msg"]


def test_a_module_run_waits_for_the_holder_to_release(tmp_path: Path) -> None:
    locks = tmp_path / "locks"
    lock_args = {"name": "demo-dev", "path": str(locks)}
    first = result_of(start_module(tmp_path, "first", {**lock_args, "token": "first", "holder": HOLDER}))
    assert first["changed"] is True

    waiting = start_module(tmp_path, "second", {**lock_args, "token": "second", "wait": 30})
    time.sleep(1.5)
    assert waiting.poll() is None, "the second run did not wait"
    released = result_of(start_module(tmp_path, "release", {**lock_args, "token": "first", "state": "released"}))
    second = result_of(waiting)

    assert released["changed"] is True
    assert second["changed"] is True
    assert second["waited"] >= 1
    assert second["holder"]["acquired_at"] >= released["released_at"]
    assert json.loads((locks / "demo-dev.lock").read_text())["token"] == "second"
