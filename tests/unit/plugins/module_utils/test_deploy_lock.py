# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deploy lock on real files, and real processes racing for it."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.module_utils import _deploy_lock as lock

HOLDER_A = {
    "user": "alice",
    "controller": "ops1",
    "pid": 4242,
    "play": "Deploy the app",
    "trigger": "awx job 17",
    "started": "2026-03-02T10:14:51Z",
}
HOLDER_B = {"user": "bob", "controller": "ci7", "pid": 99, "trigger": "jenkins-demo-deploy-31"}
# Real processes are forked: they share the test's imports and tmp_path.
FORK = multiprocessing.get_context("fork")


def lock_file(directory: Path, name: str = "demo-dev") -> Path:
    return directory / (name + ".lock")


def test_acquire_writes_the_whole_record_and_nothing_else(tmp_path: Path) -> None:
    directory = tmp_path / "locks"
    outcome = lock.acquire(str(directory), "demo-dev", "tok-a", HOLDER_A)

    file = lock_file(directory)
    record = json.loads(file.read_text())
    assert outcome.changed is True
    assert outcome.held is True
    assert outcome.path == str(file)
    assert record == outcome.holder
    assert record["lock"] == "demo-dev"
    assert record["token"] == "tok-a"
    assert record["holder"] == HOLDER_A
    assert lock.parse_stamp(record["acquired_at"]) == pytest.approx(time.time(), abs=5)
    assert stat.S_IMODE(file.stat().st_mode) == 0o640
    assert stat.S_IMODE(directory.stat().st_mode) & 0o007 == 0
    # The scratch file it was written to is gone: the folder holds the lock only.
    assert sorted(os.listdir(directory)) == ["demo-dev.lock"]


def test_acquire_again_with_the_same_token_changes_nothing(tmp_path: Path) -> None:
    first = lock.acquire(str(tmp_path), "demo-dev", "tok-a", HOLDER_A)
    content = lock_file(tmp_path).read_text()

    again = lock.acquire(str(tmp_path), "demo-dev", "tok-a", {"user": "someone else"})

    assert again.changed is False
    assert again.held is True
    assert again.holder == first.holder
    assert lock_file(tmp_path).read_text() == content


def test_another_token_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    lock.acquire(str(tmp_path), "demo-dev", "tok-a", HOLDER_A)
    content = lock_file(tmp_path).read_text()

    with pytest.raises(lock.LockHeld) as refused:
        lock.acquire(str(tmp_path), "demo-dev", "tok-b", HOLDER_B, wait=0)

    message = str(refused.value)
    assert refused.value.record["token"] == "tok-a"
    assert "demo-dev" in message
    assert "alice@ops1" in message
    assert "pid 4242" in message
    assert "awx job 17" in message
    assert "since " + json.loads(content)["acquired_at"] in message
    assert lock_file(tmp_path).read_text() == content


def test_release_gives_the_lock_back_once(tmp_path: Path) -> None:
    taken = lock.acquire(str(tmp_path), "demo-dev", "tok-a", HOLDER_A)

    released = lock.release(str(tmp_path), "demo-dev", "tok-a")
    again = lock.release(str(tmp_path), "demo-dev", "tok-a")

    assert (released.changed, released.held, released.holder) == (True, False, taken.holder)
    assert released.released_at is not None
    assert released.released_at >= taken.holder["acquired_at"]
    assert not lock_file(tmp_path).exists()
    assert (again.changed, again.holder, again.warnings) == (False, None, [])


def test_release_by_another_token_leaves_the_lock_in_place(tmp_path: Path) -> None:
    lock.acquire(str(tmp_path), "demo-dev", "tok-a", HOLDER_A)
    content = lock_file(tmp_path).read_text()

    outcome = lock.release(str(tmp_path), "demo-dev", "tok-b")

    assert outcome.changed is False
    assert outcome.held is False
    assert outcome.holder["token"] == "tok-a"
    assert len(outcome.warnings) == 1
    assert "alice@ops1" in outcome.warnings[0]
    assert "left in place" in outcome.warnings[0]
    assert lock_file(tmp_path).read_text() == content


def test_break_removes_whoever_holds_it_and_says_who(tmp_path: Path) -> None:
    taken = lock.acquire(str(tmp_path), "demo-dev", "tok-a", HOLDER_A)

    broken = lock.break_lock(str(tmp_path), "demo-dev")
    again = lock.break_lock(str(tmp_path), "demo-dev")

    assert broken.changed is True
    assert broken.holder == taken.holder
    assert "alice@ops1" in broken.warnings[0]
    assert not lock_file(tmp_path).exists()
    assert (again.changed, again.holder) == (False, None)
    # Free again: another run takes it at once.
    assert lock.acquire(str(tmp_path), "demo-dev", "tok-b", HOLDER_B).changed is True


def test_the_holder_of_a_broken_lock_does_not_free_the_next_one(tmp_path: Path) -> None:
    lock.acquire(str(tmp_path), "demo-dev", "tok-a", HOLDER_A)
    lock.break_lock(str(tmp_path), "demo-dev")
    lock.acquire(str(tmp_path), "demo-dev", "tok-b", HOLDER_B)

    late = lock.release(str(tmp_path), "demo-dev", "tok-a")

    assert late.changed is False
    assert json.loads(lock_file(tmp_path).read_text())["token"] == "tok-b"


def test_check_mode_acquire_predicts_and_creates_nothing(tmp_path: Path) -> None:
    directory = tmp_path / "not-yet"

    outcome = lock.acquire(str(directory), "demo-dev", "tok-a", HOLDER_A, check_mode=True)

    assert outcome.changed is True
    assert outcome.held is True
    assert outcome.holder["token"] == "tok-a"
    assert not directory.exists()
    result = outcome.result(diff=True)
    assert result["diff"]["before"] == ""
    assert json.loads(result["diff"]["after"])["holder"] == HOLDER_A


def test_check_mode_acquire_still_refuses_a_held_lock(tmp_path: Path) -> None:
    lock.acquire(str(tmp_path), "demo-dev", "tok-a", HOLDER_A)

    with pytest.raises(lock.LockHeld):
        lock.acquire(str(tmp_path), "demo-dev", "tok-b", HOLDER_B, check_mode=True)


@pytest.mark.parametrize(
    ("operation", "changed"),
    [
        pytest.param(lambda d: lock.release(d, "demo-dev", "tok-a", check_mode=True), True, id="release"),
        pytest.param(lambda d: lock.break_lock(d, "demo-dev", check_mode=True), True, id="break"),
        pytest.param(
            lambda d: lock.acquire(d, "demo-dev", "tok-a", HOLDER_A, check_mode=True), False, id="acquire-own"
        ),
    ],
)
def test_check_mode_leaves_a_held_lock_alone(tmp_path: Path, operation: Any, changed: bool) -> None:
    lock.acquire(str(tmp_path), "demo-dev", "tok-a", HOLDER_A)
    content = lock_file(tmp_path).read_text()

    outcome = operation(str(tmp_path))

    assert outcome.changed is changed
    assert lock_file(tmp_path).read_text() == content


def test_diff_of_a_release_shows_the_record_going(tmp_path: Path) -> None:
    lock.acquire(str(tmp_path), "demo-dev", "tok-a", HOLDER_A)

    result = lock.release(str(tmp_path), "demo-dev", "tok-a").result(diff=True)

    assert json.loads(result["diff"]["before"])["token"] == "tok-a"
    assert result["diff"]["after"] == ""
    assert result["diff"]["before_header"] == str(lock_file(tmp_path))
    assert "diff" not in lock.release(str(tmp_path), "demo-dev", "tok-a").result(diff=False)


class FakeTime:
    """A clock that moves only when slept on; `on_sleep` runs at each sleep."""

    def __init__(self, on_sleep: Any = None) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep:
            self.on_sleep(self)


def test_waiting_ends_when_the_holder_releases(tmp_path: Path) -> None:
    lock.acquire(str(tmp_path), "demo-dev", "tok-a", HOLDER_A)

    def release_after_three_polls(fake: FakeTime) -> None:
        if len(fake.sleeps) == 3:
            lock.release(str(tmp_path), "demo-dev", "tok-a")

    fake = FakeTime(release_after_three_polls)
    outcome = lock.acquire(
        str(tmp_path), "demo-dev", "tok-b", HOLDER_B, wait=60, poll=2, clock=fake.clock, sleep=fake.sleep
    )

    assert outcome.changed is True
    assert outcome.waited == 6
    assert fake.sleeps == [2, 2, 2]
    assert json.loads(lock_file(tmp_path).read_text())["token"] == "tok-b"


def test_waiting_gives_up_after_wait_seconds(tmp_path: Path) -> None:
    lock.acquire(str(tmp_path), "demo-dev", "tok-a", HOLDER_A)
    fake = FakeTime()

    with pytest.raises(lock.LockHeld) as refused:
        lock.acquire(str(tmp_path), "demo-dev", "tok-b", HOLDER_B, wait=5, poll=2, clock=fake.clock, sleep=fake.sleep)

    # The last sleep is cut short so that the wait ends on time.
    assert fake.sleeps == [2, 2, 1]
    assert refused.value.waited == 5
    assert "waited 5 s" in str(refused.value)


def test_an_unreadable_lock_is_held_all_the_same_and_can_be_broken(tmp_path: Path) -> None:
    lock_file(tmp_path).write_text("locked by hand\n")

    with pytest.raises(lock.LockHeld) as refused:
        lock.acquire(str(tmp_path), "demo-dev", "tok-a", HOLDER_A)
    broken = lock.break_lock(str(tmp_path), "demo-dev")

    assert "unreadable lock file" in str(refused.value)
    assert "locked by hand" in str(refused.value)
    assert broken.changed is True
    assert not lock_file(tmp_path).exists()


@pytest.mark.parametrize("name", ["", "../etc/passwd", "a/b", ".hidden", "-x", "x" * 129, "demo dev"])
def test_a_name_that_is_not_a_plain_file_name_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(lock.DeployLockError, match="lock name"):
        lock.acquire(str(tmp_path), name, "tok-a")
    assert os.listdir(tmp_path) == []


def test_a_token_is_needed(tmp_path: Path) -> None:
    with pytest.raises(lock.DeployLockError, match="token"):
        lock.acquire(str(tmp_path), "demo-dev", "")
    with pytest.raises(lock.DeployLockError, match="token"):
        lock.release(str(tmp_path), "demo-dev", "")


@pytest.mark.parametrize(
    ("holder", "described"),
    [
        pytest.param(
            HOLDER_A,
            "alice@ops1 (pid 4242, play Deploy the app, trigger awx job 17, started 2026-03-02T10:14:51Z)",
            id="full",
        ),
        pytest.param({"user": "bob", "job": "42"}, "bob (job 42)", id="extra-keys"),
        pytest.param(
            {"description": "nightly backup"}, "an unnamed holder (description nightly backup)", id="description"
        ),
        pytest.param({}, "an unnamed holder", id="empty"),
    ],
)
def test_describe(holder: dict[str, Any], described: str) -> None:
    assert lock.describe({"holder": holder}) == described


@pytest.mark.parametrize(
    ("record", "text"),
    [
        pytest.param(
            {"holder": {"user": "bob"}, "acquired_at": "2026-03-02T10:14:51.000Z"},
            "bob since 2026-03-02T10:14:51.000Z",
            id="stamped",
        ),
        pytest.param({"holder": {"user": "bob"}}, "bob since an unknown time", id="no-stamp"),
        pytest.param(
            {"unreadable": "garbage"}, "an unreadable lock file ('garbage') since an unknown time", id="unreadable"
        ),
    ],
)
def test_held_since(record: dict[str, Any], text: str) -> None:
    assert lock.held_since(record) == text


def test_the_three_messages_name_the_holder_the_same_way(tmp_path: Path) -> None:
    taken = lock.acquire(str(tmp_path), "demo-dev", "tok-a", {"user": "alice"}, now=lambda: 1772446491.0)
    holder = "alice since 2026-03-02T10:14:51.000Z"
    assert lock.held_since(taken.holder) == holder
    with pytest.raises(lock.LockHeld) as refused:
        lock.acquire(str(tmp_path), "demo-dev", "tok-b", now=lambda: 1772446491.0)
    assert str(refused.value).startswith(f"the deploy lock demo-dev is held by {holder} (0 s ago); waited 0 s")
    assert lock.release(str(tmp_path), "demo-dev", "tok-b").warnings == [
        f"the deploy lock demo-dev is held by {holder}, not by this run: left in place"
    ]
    assert lock.break_lock(str(tmp_path), "demo-dev").warnings == [f"broke the deploy lock demo-dev held by {holder}"]


def test_a_string_holder_is_kept_as_a_description(tmp_path: Path) -> None:
    outcome = lock.acquire(str(tmp_path), "demo-dev", "tok-a", "nightly backup")
    assert outcome.holder["holder"] == {"description": "nightly backup"}
    with pytest.raises(lock.DeployLockError, match="holder"):
        lock.acquire(str(tmp_path), "demo-prod", "tok-a", ["not", "a", "holder"])


def test_stamps_sort_as_text_and_read_back() -> None:
    stamps = [lock.utc_stamp(seconds) for seconds in (1_700_000_000.0, 1_700_000_000.5, 1_700_000_001.25)]
    assert stamps == sorted(stamps)
    assert stamps[1] == "2023-11-14T22:13:20.500Z"
    assert [lock.parse_stamp(stamp) for stamp in stamps] == [1_700_000_000.0, 1_700_000_000.5, 1_700_000_001.25]
    assert lock.parse_stamp("yesterday") is None


@pytest.mark.parametrize(("seconds", "text"), [(0.4, "0 s"), (59, "59 s"), (61, "1 min 1 s"), (3_725, "1 h 2 min")])
def test_format_seconds(seconds: float, text: str) -> None:
    assert lock.format_seconds(seconds) == text


# Real processes from here on.


def _race(directory: str, token: str, start: Any, results: Any) -> None:
    start.wait()
    try:
        outcome = lock.acquire(directory, "demo-dev", token, {"user": token}, wait=0)
        results.put((token, "won", outcome.holder["token"]))
    except lock.LockHeld as held:
        results.put((token, "refused", held.record["token"]))


def test_of_processes_racing_for_a_free_lock_exactly_one_wins(tmp_path: Path) -> None:
    for round_ in range(5):
        start = FORK.Barrier(6)
        results = FORK.Queue()
        racers = [FORK.Process(target=_race, args=(str(tmp_path), f"r{round_}-{n}", start, results)) for n in range(6)]
        for racer in racers:
            racer.start()
        outcomes = [results.get(timeout=30) for _racer in racers]
        for racer in racers:
            racer.join(timeout=30)

        winners = [token for token, what, _seen in outcomes if what == "won"]
        assert len(winners) == 1, outcomes
        # Every loser saw the winner's lock, whole.
        assert {seen for _token, _what, seen in outcomes} == {winners[0]}
        assert json.loads(lock_file(tmp_path).read_text())["token"] == winners[0]
        assert lock.release(str(tmp_path), "demo-dev", winners[0]).changed is True


def _hold(directory: str, taken: Any, done: Any, results: Any) -> None:
    lock.acquire(directory, "demo-dev", "holder", HOLDER_A)
    taken.set()
    done.wait(timeout=30)
    results.put(lock.release(directory, "demo-dev", "holder").released_at)


def test_a_waiting_process_gets_the_lock_once_the_holder_releases_it(tmp_path: Path) -> None:
    taken, done, results = FORK.Event(), FORK.Event(), FORK.Queue()
    holder = FORK.Process(target=_hold, args=(str(tmp_path), taken, done, results))
    holder.start()
    assert taken.wait(timeout=30)
    threading.Timer(1.0, done.set).start()

    outcome = lock.acquire(str(tmp_path), "demo-dev", "waiter", HOLDER_B, wait=30, poll=0.05)
    released_at = results.get(timeout=30)
    holder.join(timeout=30)

    assert outcome.changed is True
    assert outcome.waited >= 0.5
    assert outcome.holder["acquired_at"] >= released_at
    assert json.loads(lock_file(tmp_path).read_text())["token"] == "waiter"


def test_a_waiting_process_times_out_naming_the_holder(tmp_path: Path) -> None:
    taken, done, results = FORK.Event(), FORK.Event(), FORK.Queue()
    holder = FORK.Process(target=_hold, args=(str(tmp_path), taken, done, results))
    holder.start()
    assert taken.wait(timeout=30)

    started = time.monotonic()
    with pytest.raises(lock.LockHeld) as refused:
        lock.acquire(str(tmp_path), "demo-dev", "waiter", HOLDER_B, wait=1, poll=0.05)
    gave_up_after = time.monotonic() - started
    done.set()
    results.get(timeout=30)
    holder.join(timeout=30)

    assert 1 <= gave_up_after < 2.5
    assert refused.value.record["token"] == "holder"
    assert "alice@ops1" in str(refused.value)
    assert "waited 1 s" in str(refused.value)


def _work_under_the_lock(directory: str, journal: str, rounds: int) -> None:
    token = f"worker-{os.getpid()}"
    for _round in range(rounds):
        lock.acquire(directory, "demo-dev", token, {"pid": os.getpid()}, wait=60, poll=0.002)
        with open(journal, "a", encoding="utf-8") as handle:
            handle.write(f"in {token}\n")
        time.sleep(0.002)
        with open(journal, "a", encoding="utf-8") as handle:
            handle.write(f"out {token}\n")
        lock.release(directory, "demo-dev", token)


def test_processes_that_take_turns_never_overlap(tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    workers = [
        FORK.Process(target=_work_under_the_lock, args=(str(tmp_path / "locks"), str(journal), 15))
        for _worker in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]

    lines = journal.read_text().splitlines()
    assert len(lines) == 4 * 15 * 2
    # Every "in" is followed by the same worker's "out": no one entered while another was inside.
    for entering, leaving in zip(lines[::2], lines[1::2], strict=True):
        assert entering.startswith("in ")
        assert leaving == "out " + entering[3:]
    assert len({line[3:] for line in lines[::2]}) == 4
    assert os.listdir(tmp_path / "locks") == []
