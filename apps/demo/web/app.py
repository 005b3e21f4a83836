"""The demo app's web service.

Standard library only. ``/`` counts hits in Redis and hands the worker a
job for each; ``/healthz`` says whether this process should get traffic.
On SIGTERM the process keeps serving for DRAIN_SECONDS while ``/healthz``
answers 503, so an edge router stops sending it requests before it goes
away: that is what makes a rolling update lose none.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import BinaryIO

RespValue = bytes | int | str | list["RespValue"] | None
RespArg = bytes | str | int

HITS_KEY = "demo:hits"
JOBS_KEY = "demo:jobs"
PROCESSED_KEY = "demo:processed"
# Jobs wait for the worker in a list; a missing worker must not let it grow
# without bound.
JOBS_KEPT = 1000


class RespError(Exception):
    """Redis answered with an error, or with something that is not RESP."""


def encode_command(*args: RespArg) -> bytes:
    """One command as a RESP array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, int):
            data = str(arg).encode()
        elif isinstance(arg, str):
            data = arg.encode()
        else:
            data = arg
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _read_line(stream: BinaryIO) -> bytes:
    line = stream.readline()
    if not line.endswith(b"\r\n"):
        raise RespError("connection closed in the middle of a reply")
    return line[:-2]


def read_reply(stream: BinaryIO) -> RespValue:
    """Read one RESP2 reply; an error reply is raised as RespError."""
    line = _read_line(stream)
    kind, rest = line[:1], line[1:]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RespError(rest.decode(errors="replace"))
    if kind == b":":
        return int(rest)
    if kind == b"$":
        length = int(rest)
        if length < 0:
            return None
        data = stream.read(length + 2)
        if len(data) != length + 2 or not data.endswith(b"\r\n"):
            raise RespError("bulk string cut short")
        return data[:-2]
    if kind == b"*":
        count = int(rest)
        if count < 0:
            return None
        return [read_reply(stream) for _index in range(count)]
    raise RespError(f"unknown reply type {kind!r}")


class Redis:
    """A connection per call: nothing to repair after Redis restarts."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout

    def pipeline(self, *commands: Sequence[RespArg]) -> list[RespValue]:
        with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
            sock.sendall(b"".join(encode_command(*command) for command in commands))
            with sock.makefile("rb") as stream:
                return [read_reply(stream) for _command in commands]


@dataclass(frozen=True)
class Settings:
    version: str = "dev"
    port: int = 8000
    redis_host: str = "redis"
    redis_port: int = 6379
    redis_timeout: float = 1.0
    drain_seconds: float = 5.0
    break_health: bool = False
    greeting_file: str = "/etc/demo/greeting.txt"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        return cls(
            version=env.get("APP_VERSION", cls.version),
            port=int(env.get("PORT", cls.port)),
            redis_host=env.get("REDIS_HOST", cls.redis_host),
            redis_port=int(env.get("REDIS_PORT", cls.redis_port)),
            redis_timeout=float(env.get("REDIS_TIMEOUT", cls.redis_timeout)),
            drain_seconds=float(env.get("DRAIN_SECONDS", cls.drain_seconds)),
            break_health=env.get("DEMO_BREAK_HEALTH", "") not in ("", "0", "false", "no"),
            greeting_file=env.get("GREETING_FILE", cls.greeting_file),
        )


SERVING = "serving"
DRAINING = "draining"
STOPPED = "stopped"


class Lifecycle:
    """serving -> draining -> stopped.

    The first stop signal starts the drain; a second one means "now".
    """

    def __init__(self, drain_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.drain_seconds = drain_seconds
        self.clock = clock
        self.state = SERVING
        self.deadline: float | None = None
        self._lock = threading.Lock()

    def begin_drain(self) -> bool:
        """True when this call started the drain, False when one was under way."""
        with self._lock:
            if self.state != SERVING:
                return False
            self.state = DRAINING
            self.deadline = self.clock() + self.drain_seconds
            return True

    def stop(self) -> None:
        with self._lock:
            self.state = STOPPED

    def drain_left(self) -> float:
        if self.deadline is None:
            return self.drain_seconds
        return max(0.0, self.deadline - self.clock())


def health(state: str, broken: bool) -> tuple[HTTPStatus, str]:
    """The /healthz answer. Redis is left out on purpose: a Redis restart
    must not take every web task out of the router at once."""
    if state != SERVING:
        return HTTPStatus.SERVICE_UNAVAILABLE, state
    if broken:
        return HTTPStatus.INTERNAL_SERVER_ERROR, "broken"
    return HTTPStatus.OK, "ok"


def index_body(
    settings: Settings,
    host: str,
    greeting: str,
    replies: Sequence[RespValue] | None,
    redis_error: str | None = None,
) -> dict[str, object]:
    """What ``/`` answers, from the replies to ``hit_commands``."""
    hits: int | None = None
    processed: int | None = None
    if replies is not None:
        hits = replies[0] if isinstance(replies[0], int) else None
        last = replies[-1]
        processed = int(last) if isinstance(last, bytes) else 0
    return {
        "app": "demo",
        "version": settings.version,
        "host": host,
        "greeting": greeting,
        "hits": hits,
        "processed": processed,
        "redis": "ok" if redis_error is None else redis_error,
    }


def hit_commands(host: str, now: float) -> list[list[RespArg]]:
    job = json.dumps({"from": host, "at": round(now, 3)})
    return [
        ["INCR", HITS_KEY],
        ["LPUSH", JOBS_KEY, job],
        ["LTRIM", JOBS_KEY, 0, JOBS_KEPT - 1],
        ["GET", PROCESSED_KEY],
    ]


def read_greeting(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError:
        return "Hello from the demo app"


def log(message: str) -> None:
    print(f"web: {message}", file=sys.stderr, flush=True)


class DemoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], settings: Settings, lifecycle: Lifecycle) -> None:
        super().__init__(address, DemoHandler)
        self.settings = settings
        self.lifecycle = lifecycle
        self.redis = Redis(settings.redis_host, settings.redis_port, settings.redis_timeout)
        self.host = socket.gethostname()


class DemoHandler(BaseHTTPRequestHandler):
    server: DemoServer
    server_version = "demo-web"

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        path = self.path.split("?", 1)[0]
        if path == "/":
            self._index()
        elif path == "/healthz":
            self._healthz()
        else:
            self._send(HTTPStatus.NOT_FOUND, {"error": "not found", "path": path})

    def _index(self) -> None:
        server = self.server
        replies: list[RespValue] | None = None
        error: str | None = None
        try:
            replies = server.redis.pipeline(*hit_commands(server.host, time.time()))
        except (OSError, RespError) as exc:
            error = f"unavailable: {exc}"
        greeting = read_greeting(server.settings.greeting_file)
        self._send(HTTPStatus.OK, index_body(server.settings, server.host, greeting, replies, error))

    def _healthz(self) -> None:
        server = self.server
        status, word = health(server.lifecycle.state, server.settings.break_health)
        self._send(status, {"status": word, "version": server.settings.version, "host": server.host})

    def _send(self, status: HTTPStatus, body: Mapping[str, object]) -> None:
        data = json.dumps(body).encode() + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Healthchecks run every few seconds; their lines would bury the rest.
        if not self.path.startswith("/healthz"):
            super().log_request(code, size)


def main() -> None:
    settings = Settings.from_env(os.environ)
    lifecycle = Lifecycle(settings.drain_seconds)
    server = DemoServer(("0.0.0.0", settings.port), settings, lifecycle)

    def on_signal(signum: int, _frame: object) -> None:
        if lifecycle.begin_drain():
            log(f"signal {signum}: draining for {settings.drain_seconds:g}s, /healthz answers 503")
            timer = threading.Timer(settings.drain_seconds, server.shutdown)
            timer.daemon = True
            timer.start()
        else:
            log(f"signal {signum} again: stopping now")
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log(f"version {settings.version} serving on :{settings.port}")
    server.serve_forever()
    lifecycle.stop()
    server.server_close()
    log("stopped")


if __name__ == "__main__":
    main()
