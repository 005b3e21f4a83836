# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A named lock held in a file on one host, for deploys that must not overlap.

The lock is the file <directory>/<name>.lock. It appears whole or not at all:
its JSON (who holds it, since when, the holder's token) is written and
synced to a scratch file in the same folder, which is then hard-linked to
the lock's name. link() fails when the name exists, so of several processes
racing for a free lock exactly one gets it, and a reader never sees a lock
half written. The token (one per run) is what makes a lock someone's own:
only that token releases it or takes it again without a change. Nothing
expires by itself: a run that died keeps its lock until someone breaks it.
"""

from __future__ import annotations

import calendar
import contextlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._outcome import Outcome

STATES = ("acquired", "released", "broken")
LOCK_SUFFIX = ".lock"
DEFAULT_POLL = 1.0
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
# How a holder is described in a message, in this order; other keys follow.
_HOLDER_ORDER = ("pid", "play", "trigger", "started")


class DeployLockError(Exception):
    """A lock that cannot be read, written or named as asked."""


class LockHeld(DeployLockError):
    """Someone else held the lock for longer than the caller would wait."""

    def __init__(
        self, name: str, record: Mapping[str, Any], waited: float, now: float | None = None, path: str | None = None
    ) -> None:
        self.name = name
        self.record = dict(record)
        self.waited = waited
        self.path = path
        age = held_for(self.record, now)
        super().__init__(
            f"the deploy lock {name} is held by {held_since(self.record)}"
            + (f" ({format_seconds(age)} ago)" if age is not None else "")
            + f"; waited {format_seconds(waited)} for it"
        )

    @property
    def result(self) -> dict[str, Any]:
        """What the module's failure returns besides the message."""
        return {"lock_file": self.path, "holder": self.record, "waited": round(self.waited, 3)}


@dataclass
class LockChange:
    """What a call did (or, in check mode, would do) to the lock."""

    changed: bool
    path: str
    # The record the task is about: the lock now held (acquired), the one
    # given back or left in place (released), the one removed (broken).
    holder: dict[str, Any] | None
    # Whether the caller's token holds the lock after the task.
    held: bool
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    waited: float = 0.0
    released_at: str | None = None
    warnings: list[str] = field(default_factory=list)

    def result(self, diff: bool) -> dict[str, Any]:
        result: dict[str, Any] = {
            "changed": self.changed,
            "lock_file": self.path,
            "holder": self.holder,
            "held": self.held,
            "waited": round(self.waited, 3),
        }
        if self.released_at is not None:
            result["released_at"] = self.released_at
        if diff:
            result["diff"] = {
                "before": as_text(self.before),
                "after": as_text(self.after),
                "before_header": self.path,
                "after_header": self.path,
            }
        return result

    @classmethod
    def no_lock(cls, path: str) -> LockChange:
        """Nothing to give back or break: there is no lock."""
        return cls(changed=False, path=path, holder=None, held=False, before=None, after=None)

    @classmethod
    def left(cls, path: str, record: dict[str, Any], held: bool, **details: Any) -> LockChange:
        """The lock stays as it is, with this record."""
        return cls(changed=False, path=path, holder=record, held=held, before=record, after=record, **details)

    @classmethod
    def removed(cls, path: str, record: dict[str, Any], **details: Any) -> LockChange:
        """The lock with this record is gone (in check mode, would be)."""
        return cls(changed=True, path=path, holder=record, held=False, before=record, after=None, **details)

    def outcome(self, diff: bool) -> Outcome:
        return Outcome(self.result(diff), warnings=list(self.warnings))


def utc_stamp(seconds: float | None = None) -> str:
    """An ISO 8601 UTC time to the millisecond; such stamps sort as text."""
    seconds = time.time() if seconds is None else seconds
    whole = int(seconds)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{int((seconds - whole) * 1000):03d}Z"


def parse_stamp(stamp: Any) -> float | None:
    """The seconds since the epoch of a utc_stamp(); None for anything else."""
    if not isinstance(stamp, str):
        return None
    match = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$", stamp)
    if not match:
        return None
    whole = calendar.timegm(time.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S"))
    return whole + (float("0." + match.group(2)) if match.group(2) else 0.0)


def held_for(record: Mapping[str, Any], now: float | None = None) -> float | None:
    acquired = parse_stamp(record.get("acquired_at"))
    if acquired is None:
        return None
    return max(0.0, (time.time() if now is None else now) - acquired)


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def describe(record: Mapping[str, Any]) -> str:
    """Who holds a lock, in words: user@controller (pid ..., play ..., ...)."""
    holder = record.get("holder")
    if holder is None and "unreadable" in record:
        return f"an unreadable lock file ({record['unreadable']!r})"
    if not isinstance(holder, Mapping):
        return str(holder) if holder else "an unnamed holder"
    user, controller = holder.get("user"), holder.get("controller")
    who = "@".join(str(part) for part in (user, controller) if part) or "an unnamed holder"
    details = [f"{key} {holder[key]}" for key in _HOLDER_ORDER if holder.get(key) not in (None, "")]
    details += [
        f"{key} {value}"
        for key, value in sorted(holder.items())
        if key not in _HOLDER_ORDER and key not in ("user", "controller") and value not in (None, "")
    ]
    return who + (f" ({', '.join(details)})" if details else "")


def held_since(record: Mapping[str, Any]) -> str:
    """Who holds a lock and since when, in words."""
    return f"{describe(record)} since {record.get('acquired_at', 'an unknown time')}"


def as_text(record: Mapping[str, Any] | None) -> str:
    return "" if record is None else json.dumps(record, indent=2, sort_keys=True) + "\n"


def normalise_holder(holder: Any) -> dict[str, Any]:
    if holder is None:
        return {}
    if isinstance(holder, Mapping):
        return dict(holder)
    if isinstance(holder, str):
        return {"description": holder} if holder else {}
    raise DeployLockError(f"holder must be a dictionary or a string, not {type(holder).__name__}")


def lock_path(directory: str, name: str) -> str:
    if not _NAME.match(name or ""):
        raise DeployLockError(
            f"the lock name {name!r} must be 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return os.path.join(directory, name + LOCK_SUFFIX)


def read_lock(path: str) -> dict[str, Any] | None:
    """The lock's record; None when nobody holds it."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise DeployLockError(f"cannot read the lock {path}: {error.strerror or error}") from error
    try:
        record = json.loads(text)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        # Held all the same: a file someone put there is not ours to ignore.
        return {"unreadable": text[:200]}
    return record


def _sync_directory(directory: str) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def ensure_directory(directory: str) -> None:
    try:
        os.makedirs(directory, mode=0o750, exist_ok=True)
    except OSError as error:
        raise DeployLockError(f"cannot create the lock folder {directory}: {error.strerror or error}") from error


def try_create(path: str, record: Mapping[str, Any]) -> bool:
    """Create the lock with this record; False when it exists already."""
    directory = os.path.dirname(path)
    descriptor, scratch = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=directory)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(as_text(record))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(scratch, 0o640)
        try:
            os.link(scratch, path)
        except FileExistsError:
            return False
        _sync_directory(directory)
        return True
    except OSError as error:
        raise DeployLockError(f"cannot create the lock {path}: {error.strerror or error}") from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(scratch)


def remove(path: str) -> bool:
    """Remove the lock file; False when it was gone already."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    except OSError as error:
        raise DeployLockError(f"cannot remove the lock {path}: {error.strerror or error}") from error
    with contextlib.suppress(OSError):
        _sync_directory(os.path.dirname(path))
    return True


def acquire(
    directory: str,
    name: str,
    token: str,
    holder: Any = None,
    wait: float = 0,
    poll: float = DEFAULT_POLL,
    check_mode: bool = False,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.time,
) -> LockChange:
    """Take the lock for token, waiting up to `wait` seconds while another token holds it.

    In check mode nothing is created, but a lock held by someone else is
    waited for and refused exactly as in a real run.
    """
    if not token:
        raise DeployLockError("a token is needed to take a lock")
    path = lock_path(directory, name)
    holder = normalise_holder(holder)
    start = clock()
    if not check_mode:
        ensure_directory(directory)
    while True:
        current = read_lock(path) if os.path.isdir(directory) else None
        if current is not None and current.get("token") == token:
            return LockChange.left(path, current, held=True, waited=clock() - start)
        if current is None:
            record = {"lock": name, "token": token, "acquired_at": utc_stamp(now()), "holder": holder}
            # In check mode nothing is created: the lock is as good as taken.
            if check_mode or try_create(path, record):
                return LockChange(
                    changed=True, path=path, holder=record, held=True, before=None, after=record, waited=clock() - start
                )
            # Another process created it between the read and the link: read who.
            continue
        waited = clock() - start
        if waited >= wait:
            raise LockHeld(name, current, waited, now(), path)
        sleep(max(0.0, min(poll, wait - waited)))


def release(
    directory: str, name: str, token: str, check_mode: bool = False, now: Callable[[], float] = time.time
) -> LockChange:
    """Give the lock back if token holds it; a lock another token holds stays, with a warning."""
    if not token:
        raise DeployLockError("a token is needed to release a lock")
    path = lock_path(directory, name)
    current = read_lock(path)
    if current is None:
        return LockChange.no_lock(path)
    if current.get("token") != token:
        # Someone broke this run's lock and took it: theirs now, not ours to free.
        warning = f"the deploy lock {name} is held by {held_since(current)}, not by this run: left in place"
        return LockChange.left(path, current, held=False, warnings=[warning])
    released_at = utc_stamp(now())
    if not check_mode:
        remove(path)
    return LockChange.removed(path, current, released_at=released_at)


def break_lock(directory: str, name: str, check_mode: bool = False) -> LockChange:
    """Remove the lock whoever holds it; the record removed is returned for the log."""
    path = lock_path(directory, name)
    current = read_lock(path)
    if current is None:
        return LockChange.no_lock(path)
    if not check_mode:
        remove(path)
    return LockChange.removed(path, current, warnings=[f"broke the deploy lock {name} held by {held_since(current)}"])


def run(params: Mapping[str, Any], check_mode: bool, poll: float = DEFAULT_POLL) -> LockChange:
    """The module's work for its parameters."""
    state = params["state"]
    if state == "acquired":
        return acquire(
            params["path"],
            params["name"],
            params["token"],
            params.get("holder"),
            wait=params.get("wait") or 0,
            poll=poll,
            check_mode=check_mode,
        )
    if state == "released":
        return release(params["path"], params["name"], params["token"], check_mode=check_mode)
    if state == "broken":
        return break_lock(params["path"], params["name"], check_mode=check_mode)
    raise DeployLockError(f"unknown state {state!r}; one of {', '.join(STATES)}")
