# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small pieces of the Compose file format shared by the renderer and swarm_stack."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def key_value_list(items: Iterable[Any]) -> dict[str, str | None]:
    """Compose's list spelling of environment and labels: KEY=VALUE items; KEY alone has no value (None)."""
    mapping: dict[str, str | None] = {}
    for item in items:
        key, equals, value = str(item).partition("=")
        mapping[key] = value if equals else None
    return mapping
