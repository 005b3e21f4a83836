# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stack role's build decisions as filters; the logic is module_utils/_build.py.

Each filter is documented in the YAML file of its name beside this one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.drover.platform.plugins.module_utils import _build


def build_plan(
    services: Mapping[str, Any],
    registry: str,
    app: str,
    version: str,
    build_args: Mapping[str, Any] | None = None,
    platforms: Sequence[str] = (),
    platform_args: Mapping[str, Mapping[str, Any]] | None = None,
    variables: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    try:
        return _build.build_plan(
            services,
            registry=str(registry),
            app=str(app),
            version=str(version),
            build_args=build_args,
            platforms=list(platforms or []),
            platform_args=platform_args,
            variables=variables,
        )
    except _build.BuildError as error:
        raise AnsibleFilterError(f"build_plan: {error}") from error


def build_version(
    given: str, commit: str = "", status: str = "", git_error: str = "", builds: bool = True, required: bool = True
) -> dict[str, str]:
    return _build.choose_version(
        str(given), commit=str(commit), status=str(status), git_error=str(git_error), builds=bool(builds),
        required=bool(required),
    )


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {"build_plan": build_plan, "build_version": build_version}
