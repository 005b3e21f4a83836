# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The demo app's web service, without a socket: RESP, answers, the drain."""

from __future__ import annotations

import importlib.util
import io
import sys
from http import HTTPStatus
from pathlib import Path
from types import ModuleType

import pytest

APP = Path(__file__).resolve().parents[2] / "apps" / "demo" / "web" / "app.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_web_app", APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up by name while the class is made.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


web = _load()


@pytest.mark.parametrize(
    ("args", "wire"),
    [
        (("PING",), b"*1\r\n$4\r\nPING\r\n"),
        (("INCR", "demo:hits"), b"*2\r\n$4\r\nINCR\r\n$9\r\ndemo:hits\r\n"),
        (("LTRIM", "k", 0, 999), b"*4\r\n$5\r\nLTRIM\r\n$1\r\nk\r\n$1\r\n0\r\n$3\r\n999\r\n"),
        (("SET", "k", b"a\r\nb"), b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n"),
        (("SET", "k", "é"), b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n\xc3\xa9\r\n"),
    ],
)
def test_encode_command(args: tuple[object, ...], wire: bytes) -> None:
    assert web.encode_command(*args) == wire


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        (b"+OK\r\n", "OK"),
        (b":42\r\n", 42),
        (b"$5\r\nhello\r\n", b"hello"),
        (b"$4\r\na\r\nb\r\n", b"a\r\nb"),
        (b"$0\r\n\r\n", b""),
        (b"$-1\r\n", None),
        (b"*-1\r\n", None),
        (b"*3\r\n:1\r\n$1\r\nx\r\n*0\r\n", [1, b"x", []]),
    ],
)
def test_read_reply(wire: bytes, value: object) -> None:
    stream = io.BytesIO(wire)
    assert web.read_reply(stream) == value
    assert stream.read() == b""


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b"-WRONGTYPE Operation against a key\r\n", "WRONGTYPE"),
        (b":4", "closed"),
        (b"$5\r\nhel", "cut short"),
        (b"!3\r\nabc\r\n", "unknown reply type"),
    ],
)
def test_read_reply_errors(wire: bytes, message: str) -> None:
    with pytest.raises(web.RespError, match=message):
        web.read_reply(io.BytesIO(wire))


def test_pipeline_replies_read_in_order() -> None:
    stream = io.BytesIO(b":7\r\n:1\r\n+OK\r\n$1\r\n3\r\n")
    replies = [web.read_reply(stream) for _command in web.hit_commands("h", 0.0)]
    body = web.index_body(web.Settings(version="1.2.0"), "web-1", "hi", replies)
    assert body == {
        "app": "demo",
        "version": "1.2.0",
        "host": "web-1",
        "greeting": "hi",
        "hits": 7,
        "processed": 3,
        "redis": "ok",
    }


def test_index_body_without_redis() -> None:
    body = web.index_body(web.Settings(), "web-1", "hi", None, "unavailable: refused")
    assert (body["hits"], body["processed"], body["redis"]) == (None, None, "unavailable: refused")
    assert body["version"] == "dev"


def test_index_body_before_the_worker_ran() -> None:
    body = web.index_body(web.Settings(), "web-1", "hi", [1, 1, "OK", None])
    assert (body["hits"], body["processed"]) == (1, 0)


@pytest.mark.parametrize(
    ("state", "broken", "answer"),
    [
        (web.SERVING, False, (HTTPStatus.OK, "ok")),
        (web.SERVING, True, (HTTPStatus.INTERNAL_SERVER_ERROR, "broken")),
        (web.DRAINING, False, (HTTPStatus.SERVICE_UNAVAILABLE, "draining")),
        (web.DRAINING, True, (HTTPStatus.SERVICE_UNAVAILABLE, "draining")),
        (web.STOPPED, False, (HTTPStatus.SERVICE_UNAVAILABLE, "stopped")),
    ],
)
def test_health(state: str, broken: bool, answer: tuple[HTTPStatus, str]) -> None:
    assert web.health(state, broken) == answer


def test_drain_starts_once_and_counts_down() -> None:
    now = [100.0]
    lifecycle = web.Lifecycle(5.0, clock=lambda: now[0])
    assert lifecycle.state == web.SERVING
    assert lifecycle.drain_left() == 5.0

    assert lifecycle.begin_drain() is True
    assert lifecycle.state == web.DRAINING
    now[0] = 102.0
    assert lifecycle.drain_left() == 3.0
    # A second signal finds the drain under way: the caller stops at once.
    assert lifecycle.begin_drain() is False
    now[0] = 110.0
    assert lifecycle.drain_left() == 0.0

    lifecycle.stop()
    assert lifecycle.state == web.STOPPED
    assert lifecycle.begin_drain() is False


@pytest.mark.parametrize(
    ("value", "broken"),
    [(None, False), ("", False), ("0", False), ("false", False), ("1", True), ("yes", True)],
)
def test_break_health_switch(value: str | None, broken: bool) -> None:
    env = {"APP_VERSION": "2.0.0", "DRAIN_SECONDS": "0.5"}
    if value is not None:
        env["DEMO_BREAK_HEALTH"] = value
    settings = web.Settings.from_env(env)
    assert (settings.version, settings.drain_seconds, settings.break_health) == ("2.0.0", 0.5, broken)
