# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""finish(): how every module ends, on a stand-in that records what AnsibleModule would have been told."""

from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.module_utils._outcome import Outcome, changed_outcome, finish


class Ended(Exception):
    """exit_json or fail_json was called: the module is over."""


class Module:
    def __init__(self, diff: bool = False) -> None:
        self._diff = diff
        self.warned: list[str] = []
        self.ended: tuple[str, dict[str, Any]] | None = None

    def warn(self, warning: str) -> None:
        self.warned.append(warning)

    def exit_json(self, **result: Any) -> None:
        self.ended = ("exit", result)
        raise Ended

    def fail_json(self, **result: Any) -> None:
        self.ended = ("fail", result)
        raise Ended


class Refused(Exception):
    def __init__(self, message: str, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        if result is not None:
            self.result = result


def end(module: Module, work: Any, *args: Any, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    with pytest.raises(Ended):
        finish(module, work, *args, **kwargs)
    assert module.ended is not None
    return module.ended


@pytest.mark.parametrize(("diff", "shown"), [(True, True), (False, False)])
def test_the_diff_is_returned_in_diff_mode_only(diff: bool, shown: bool) -> None:
    module = Module(diff=diff)
    how, result = end(module, lambda: changed_outcome(True, {"a": 1}, ["careful"], {"before": "x", "after": "y"}))
    assert how == "exit"
    assert list(result)[:2] == ["changed", "a"]
    assert ("diff" in result) is shown
    assert module.warned == ["careful"]


def test_a_failure_fails_with_the_result() -> None:
    how, result = end(Module(), lambda: Outcome({"changed": True, "stack": "s"}, failure="did not converge"))
    assert (how, result) == ("fail", {"msg": "did not converge", "changed": True, "stack": "s"})


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param(Refused("held"), {"msg": "held"}, id="message"),
        pytest.param(Refused("held", {"holder": "bob"}), {"msg": "held", "holder": "bob"}, id="with-result"),
    ],
)
def test_an_error_of_the_types_given_fails_once(error: Exception, expected: dict[str, Any]) -> None:
    def work() -> Outcome:
        raise error

    assert end(Module(), work, (Refused,)) == ("fail", expected)


def test_another_error_is_not_caught() -> None:
    def work() -> Outcome:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        finish(Module(), work, (Refused,))


@pytest.mark.parametrize(
    ("error", "message"),
    [
        pytest.param(
            FileNotFoundError(2, "No such file or directory", "/x/c.yml"),
            "cannot read /x/c.yml: No such file or directory",
            id="named",
        ),
        pytest.param(PermissionError("denied"), "cannot read a file: denied", id="unnamed"),
    ],
)
def test_an_os_error_names_the_file(error: OSError, message: str) -> None:
    def work() -> Outcome:
        raise error

    assert end(Module(), work, (Refused,), file_error=("cannot read", "a file")) == ("fail", {"msg": message})


def test_without_file_error_an_os_error_is_not_caught() -> None:
    def work() -> Outcome:
        raise PermissionError("denied")

    with pytest.raises(PermissionError):
        finish(Module(), work, (Refused,))
