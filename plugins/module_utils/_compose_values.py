# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compose value spellings shared by the loader and the overlay: sizes, durations, numbers, files."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    AppDefinitionError,
    AppError,
    OverlayError,
)

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_BYTES = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?", re.IGNORECASE)
_MEMORY = re.compile(r"\d+(?:\.\d+)?\s*(?:[kmgtpe]i?b?|b)?", re.IGNORECASE)
_CPUS = re.compile(r"\d+(?:\.\d+)?|\.\d+")

_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_BYTE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def _unknown_keys(data: Mapping[str, Any], known: Iterable[str], where: str) -> None:
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise OverlayError(f"{where} has unknown keys {', '.join(unknown)}; known: {', '.join(known)}")


def _string_list(value: Any, where: str, error: type[AppError] = OverlayError) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
        return [str(item) for item in value]
    raise error(f"{where} must be a string or a list of strings")


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _mapping(value: Any, where: str, error: type[AppError] = OverlayError) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise error(f"{where} must be a mapping, not {type(value).__name__}")
    return {str(key): item for key, item in value.items()}


def _int(value: Any, where: str, minimum: int = 0, error: type[AppError] = OverlayError) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise error(f"{where} must be a whole number, not {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise error(f"{where} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise error(f"{where} must be at least {minimum}, not {number}")
    return number


def _port_number(value: Any, where: str, error: type[AppError] = OverlayError) -> int:
    number = _int(value, where, 1, error)
    if number > 65535:
        raise error(f"{where} must be a port number (1-65535), not {number}")
    return number


def _read_text(path: str, what: str, error: type[AppError] = AppDefinitionError) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except UnicodeDecodeError:
        raise error(f"{what} ({path}) is not UTF-8 text") from None
    except OSError as failure:
        raise error(f"cannot read {what} ({path}): {failure.strerror or failure}") from None


def _project_path(project_dir: str, path: str) -> str:
    return os.path.normpath(os.path.join(project_dir, os.path.expanduser(path)))


def parse_duration(value: Any, where: str) -> float:
    """Seconds from a Compose duration: 1m30s, 90s, 1.5s, 500ms, 2h; a bare number counts as seconds."""
    if isinstance(value, bool):
        raise AppDefinitionError(f"{where} must be a duration such as 30s or 1m30s, not {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    position = 0
    total = 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise AppDefinitionError(f"{where} must be a duration such as 30s or 1m30s, not {value!r}")
    return total


def parse_bytes(value: Any, where: str) -> int:
    """Bytes from 64m, 1g, 512k, 100 (binary units, as Docker counts)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _BYTES.fullmatch(str(value).strip())
    if not match:
        raise AppDefinitionError(f"{where} must be a size such as 64m or 1g, not {value!r}")
    return int(float(match.group(1)) * _BYTE_UNITS[match.group(2).lower()])


def _resource_value(key: str, value: Any, where: str, error: type[AppError]) -> Any:
    """One resource value; None for Docker's "no limit" (cpus 0, memory 0, pids 0 or -1)."""
    if key == "cpus":
        text = _scalar_text(value).strip()
        if isinstance(value, bool) or not _CPUS.fullmatch(text):
            raise error(f"{where} must be a number of CPUs such as 0.5, not {value!r}")
        return None if float(text) == 0 else text
    if key == "memory":
        text = _scalar_text(value).strip()
        if isinstance(value, bool) or not _MEMORY.fullmatch(text):
            raise error(f"{where} must be a size such as 128M or 1G, not {value!r}")
        return None if float(re.match(r"[\d.]+", text).group()) == 0 else text  # type: ignore[union-attr]
    if key == "pids":
        number = _int(value, where, -1, error)
        return None if number in (0, -1) else number
    if error is OverlayError:
        raise error(f"{where} is not a resource the overlay sets (cpus, memory, pids)")
    return value


def _resource_values(data: Mapping[str, Any], where: str, error: type[AppError]) -> dict[str, Any]:
    """cpus and memory as the strings Compose files carry; pids a number; the rest as written.

    A value that means "no limit" is None: `update_resources` removes the key.
    """
    return {
        key: _resource_value(key, value, f"{where}.{key}", error) for key, value in data.items() if value is not None
    }


def update_resources(current: dict[str, Any], values: Mapping[str, Any]) -> None:
    """Values over the current ones; None removes a limit or reservation."""
    for key, value in values.items():
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value
