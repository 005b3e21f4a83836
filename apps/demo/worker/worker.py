"""The demo app's worker.

Standard library only. Takes the jobs web queues in Redis, counts them as
processed, and after every round that reached Redis touches a heartbeat
file; ``worker.py --check`` (the healthcheck) fails when that file is
older than HEARTBEAT_MAX_AGE seconds. Stops between two rounds on SIGTERM.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

# Each service builds from its own folder, so this is a second, smaller
# RESP client rather than an import of web's.
RespValue = bytes | int | str | list["RespValue"] | None

JOBS_KEY = "demo:jobs"
PROCESSED_KEY = "demo:processed"


class RespError(Exception):
    pass


def encode_command(*args: str | int) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def read_reply(stream: BinaryIO) -> RespValue:
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise RespError("connection closed in the middle of a reply")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RespError(rest.decode(errors="replace"))
    if kind == b":":
        return int(rest)
    if kind == b"$":
        length = int(rest)
        return None if length < 0 else stream.read(length + 2)[:-2]
    if kind == b"*":
        count = int(rest)
        return None if count < 0 else [read_reply(stream) for _index in range(count)]
    raise RespError(f"unknown reply type {kind!r}")


class Connection:
    """One connection kept open, dropped on any error and made again."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.address = (host, port)
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._stream: BinaryIO | None = None

    def command(self, *args: str | int) -> RespValue:
        if self._sock is None or self._stream is None:
            self._sock = socket.create_connection(self.address, timeout=self.timeout)
            self._stream = self._sock.makefile("rb")
        try:
            self._sock.sendall(encode_command(*args))
            return read_reply(self._stream)
        except (OSError, RespError):
            self.close()
            raise

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._stream = None


class Worker:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.host = socket.gethostname()
        self.interval = float(env.get("WORK_INTERVAL", "1"))
        self.heartbeat = Path(env.get("HEARTBEAT_FILE", "/tmp/worker-heartbeat"))
        # A blocking pop waits `interval` seconds; the socket must wait longer.
        self.redis = Connection(env.get("REDIS_HOST", "redis"), int(env.get("REDIS_PORT", "6379")), self.interval + 2)
        self.stopping = False

    def work_once(self) -> bool:
        """One round; True when a job was done."""
        reply = self.redis.command("BRPOP", JOBS_KEY, max(1, round(self.interval)))
        if reply is not None:
            self.redis.command("INCR", PROCESSED_KEY)
        self.redis.command("SET", f"demo:worker:{self.host}", int(time.time()), "EX", 30)
        self.heartbeat.touch()
        return reply is not None

    def run(self) -> None:
        done = 0
        while not self.stopping:
            try:
                done += self.work_once()
            except (OSError, RespError) as exc:
                log(f"redis: {exc}; trying again")
                time.sleep(1)
        self.redis.close()
        log(f"stopped after {done} jobs")

    def stop(self, signum: int, _frame: object) -> None:
        log(f"signal {signum}: stopping after this round")
        self.stopping = True


def heartbeat_fresh(path: Path, max_age: float, now: float) -> bool:
    try:
        return now - path.stat().st_mtime <= max_age
    except OSError:
        return False


def log(message: str) -> None:
    print(f"worker: {message}", file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    if argv[1:] == ["--check"]:
        path = Path(os.environ.get("HEARTBEAT_FILE", "/tmp/worker-heartbeat"))
        max_age = float(os.environ.get("HEARTBEAT_MAX_AGE", "30"))
        return 0 if heartbeat_fresh(path, max_age, time.time()) else 1
    worker = Worker(os.environ)
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
    log(f"taking jobs from {JOBS_KEY} on {worker.redis.address[0]}")
    worker.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
