# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one outcome of a module's run, and the one way a module ends with it.

Every module's logic returns an Outcome (its result, the message to fail
with when it did not go well, warnings, the diff for diff mode) or raises a
typed error; `finish` turns either into exit_json or fail_json, once, so
that a module's main() builds its AnsibleModule and ends in one line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    """What a run came to, as the module returns it."""

    result: dict[str, Any]
    failure: str | None = None
    warnings: list[str] = field(default_factory=list)
    # Returned only in diff mode.
    diff: dict[str, Any] | None = None

    @property
    def changed(self) -> bool:
        return bool(self.result.get("changed"))


def changed_outcome(
    changed: bool,
    result: Mapping[str, Any],
    warnings: list[str] | None = None,
    diff: dict[str, Any] | None = None,
) -> Outcome:
    """An Outcome whose result starts with `changed`."""
    return Outcome({"changed": changed, **result}, warnings=list(warnings or []), diff=diff)


def _os_error_message(error: OSError, file_error: tuple[str, str]) -> str:
    verb, default = file_error
    return f"{verb} {error.filename or default}: {error.strerror or error}"


def finish(
    module: Any,
    work: Callable[[], Outcome],
    errors: tuple[type[Exception], ...] = (),
    file_error: tuple[str, str] | None = None,
) -> None:
    """Run work and end the module with what it came to.

    An error of one of the types given fails with its message (and the
    fields of its `result` mapping, where it has one); with file_error
    (what failed, and the file to name when the error names none) an
    OSError fails too, as "<what failed> <file>: <reason>".
    """
    handled = (*errors, OSError) if file_error else errors
    try:
        outcome = work()
    except handled as error:
        if file_error and isinstance(error, OSError) and not isinstance(error, errors):
            module.fail_json(msg=_os_error_message(error, file_error))
        module.fail_json(msg=str(error), **dict(getattr(error, "result", None) or {}))
    for warning in outcome.warnings:
        module.warn(warning)
    result = dict(outcome.result)
    if outcome.diff and module._diff:
        result["diff"] = outcome.diff
    if outcome.failure:
        module.fail_json(msg=outcome.failure, **result)
    module.exit_json(**result)
