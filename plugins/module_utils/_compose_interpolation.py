# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compose interpolation (${VAR:-default} and friends), env files, and the project's variables."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    AppDefinitionError,
    OverlayError,
)
from ansible_collections.drover.platform.plugins.module_utils._compose_values import (
    _project_path,
    _read_text,
)

_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


class _Interpolation:
    """One pass of Compose interpolation; remembers which variables were unset."""

    def __init__(self, lookup: Callable[[str], str | None]) -> None:
        self.lookup = lookup
        self.unset: dict[str, str] = {}

    def text(self, text: str, where: str) -> str:
        out: list[str] = []
        index = 0
        length = len(text)
        while index < length:
            char = text[index]
            following = text[index + 1] if index + 1 < length else ""
            if char != "$":
                out.append(char)
                index += 1
            elif following == "$":
                out.append("$")
                index += 2
            elif following == "{":
                end = _closing_brace(text, index + 2)
                if end < 0:
                    raise AppDefinitionError(f"{where}: '${{' without its closing '}}'")
                out.append(self._braced(text[index + 2 : end], where))
                index = end + 1
            else:
                match = _NAME.match(text, index + 1)
                if match:
                    out.append(self._value(match.group(), where))
                    index = match.end()
                else:
                    # `$` before anything but a name, `{` or `$` stays, as in Compose.
                    out.append(char)
                    index += 1
        return "".join(out)

    def _value(self, name: str, where: str) -> str:
        value = self.lookup(name)
        if value is None:
            self.unset.setdefault(name, where)
            return ""
        return value

    def _braced(self, expression: str, where: str) -> str:
        match = _NAME.match(expression)
        if not match:
            raise AppDefinitionError(f"{where}: invalid interpolation '${{{expression}}}'")
        name, rest = match.group(), expression[match.end() :]
        if not rest:
            return self._value(name, where)
        operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
        if operator is None:
            raise AppDefinitionError(f"{where}: invalid interpolation '${{{expression}}}'")
        argument = rest[len(operator) :]
        value = self.lookup(name)
        present = value is not None if not operator.startswith(":") else bool(value)
        if operator in (":-", "-"):
            return value if present and value is not None else self.text(argument, where)
        if operator in (":+", "+"):
            return self.text(argument, where) if present else ""
        if present and value is not None:
            return value
        reason = self.text(argument, where)
        missing = "is not set" if operator == "?" else "is not set or empty"
        raise AppDefinitionError(f"{where}: required variable {name} {missing}" + (f": {reason}" if reason else ""))

    def value(self, value: Any, where: str) -> Any:
        if isinstance(value, str):
            return self.text(value, where)
        if isinstance(value, Mapping):
            return {key: self.value(item, f"{where}.{key}" if where else str(key)) for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item, f"{where}[{index}]") for index, item in enumerate(value)]
        return value


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    index = start
    while index < len(text):
        if text.startswith("${", index):
            depth += 1
            index += 2
            continue
        if text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return -1


def _mapping_lookup(variables: Mapping[str, str]) -> Callable[[str], str | None]:
    return variables.get


def interpolate(value: Any, variables: Mapping[str, str], where: str = "") -> tuple[Any, dict[str, str]]:
    """Compose interpolation of every string in value: (result, {unset variable: where first seen}).

    ${VAR} and $VAR; ${VAR:-default} (unset or empty) and ${VAR-default} (unset);
    ${VAR:?error} and ${VAR?error} raise AppDefinitionError; ${VAR:+alt} and
    ${VAR+alt}; $$ for a literal $. Defaults nest. Keys are left as written.
    """
    interpolation = _Interpolation(_mapping_lookup(variables))
    return interpolation.value(value, where), interpolation.unset


def _closing_quote(text: str, quote: str) -> int:
    index = 0
    while index < len(text):
        if quote == '"' and text[index] == "\\":
            index += 2
            continue
        if text[index] == quote:
            return index
        index += 1
    return -1


def _unescape_double_quoted(text: str) -> str:
    """\\n \\r \\t \\\\ \\" as in a shell; \\$ a literal $ (written $$ for the interpolation after)."""
    escapes = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "$": "$$"}
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in escapes:
            out.append(escapes[text[index + 1]])
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def parse_env_file(text: str, where: str, lookup: Callable[[str], str | None] | None = None) -> dict[str, str]:
    """KEY=VALUE lines as Compose reads env files.

    `export ` prefixes, # comments (and ` #` after an unquoted value), single
    quotes (literal) and double quotes (escapes, may span lines). Unquoted and
    double-quoted values are interpolated from lookup first, then from the
    file's earlier keys. A bare KEY takes its value from lookup and is left
    out when lookup has none.
    """
    values: dict[str, str] = {}

    def resolve(name: str) -> str | None:
        found = lookup(name) if lookup else None
        return found if found is not None else values.get(name)

    interpolation = _Interpolation(resolve)
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        number = index + 1
        line = lines[index].strip()
        index += 1
        if not line or line.startswith("#"):
            continue
        if line.startswith("export ") or line.startswith("export\t"):
            line = line[len("export") :].lstrip()
        key, equals, rest = line.partition("=")
        key = key.strip()
        if not _ENV_KEY.fullmatch(key):
            raise AppDefinitionError(f"{where} line {number}: {key!r} is not a variable name")
        if not equals:
            found = resolve(key)
            if found is not None:
                values[key] = found
            continue
        rest = rest.strip()
        if rest[:1] in ("'", '"'):
            quote, body = rest[0], rest[1:]
            end = _closing_quote(body, quote)
            while end < 0:
                if index >= len(lines):
                    raise AppDefinitionError(f"{where} line {number}: the value of {key} has no closing {quote}")
                body += "\n" + lines[index]
                index += 1
                end = _closing_quote(body, quote)
            trailing = body[end + 1 :].strip()
            if trailing and not trailing.startswith("#"):
                raise AppDefinitionError(f"{where} line {number}: {key} has text after its closing quote")
            value = body[:end]
            if quote == '"':
                value = interpolation.text(_unescape_double_quoted(value), f"{where} {key}")
        else:
            comment = re.search(r"\s#", rest)
            value = rest[: comment.start()].rstrip() if comment else rest
            value = interpolation.text(value, f"{where} {key}")
        values[key] = value
    return values


def project_variables(
    project_dir: str,
    env_files: list[str] | None,
    explicit: Mapping[str, str],
) -> dict[str, str]:
    """The interpolation variables: env files (or .env when none are named, if present), then explicit ones on top."""
    if env_files is None:
        default = os.path.join(project_dir, ".env")
        paths = [default] if os.path.isfile(default) else []
    else:
        paths = [_project_path(project_dir, path) for path in env_files]
    collected: dict[str, str] = {}
    for path in paths:
        text = _read_text(path, "env file", OverlayError if env_files is not None else AppDefinitionError)

        def lookup(name: str) -> str | None:
            return explicit.get(name, collected.get(name))

        collected.update(parse_env_file(text, path, lookup))
    return {**collected, **explicit}
