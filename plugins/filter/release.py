# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stack role's release decisions as filters; the logic is module_utils/_release.py.

Each filter is documented in the YAML file of its name beside this one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.drover.platform.plugins.module_utils import _release


def _filter(function: Callable[..., Any]) -> Callable[..., Any]:
    """Turns ReleaseError into the filter error Ansible reports with the task."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except _release.ReleaseError as error:
            raise AnsibleFilterError(f"{function.__name__}: {error}") from error

    return wrapper


def _number(value: Any, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise _release.ReleaseError(f"{what} must be a number, got {value!r}") from error


@_filter
def release_ledger(content: Any, stack: str) -> list[dict[str, Any]]:
    return _release.parse_ledger(content, str(stack))


@_filter
def release_plan(
    ledger: Sequence[dict[str, Any]],
    definition: Any,
    stack: str,
    environment: str,
    version: str,
    images: Mapping[str, str],
    git_commit: str = "",
    trigger: str = "",
    note: str = "",
) -> dict[str, Any]:
    return _release.plan_release(
        ledger,
        definition,
        stack=str(stack),
        environment=str(environment),
        version=str(version),
        images=images,
        git_commit=str(git_commit),
        trigger=str(trigger),
        note=str(note),
    )


@_filter
def release_record(
    ledger: Sequence[dict[str, Any]],
    release: Mapping[str, Any],
    stack: str,
    deployed_at: str,
    services_changed: Sequence[str] | None = None,
) -> dict[str, Any]:
    return _release.record_release(
        ledger, release, stack=str(stack), deployed_at=str(deployed_at), services_changed=services_changed
    )


@_filter
def release_rollback(ledger: Sequence[dict[str, Any]], stack: str, wanted: Any = 0) -> dict[str, Any]:
    return _release.rollback_target(
        ledger, stack=str(stack), wanted=_number(wanted, "the release to roll back to")
    ).as_dict()


@_filter
def release_promotion(
    ledger: Sequence[dict[str, Any]],
    running: Mapping[str, str],
    source: str,
    source_stack: str,
    services: Sequence[str],
) -> dict[str, Any]:
    return _release.promotion_source(
        ledger, running, source=str(source), source_stack=str(source_stack), services=list(services)
    ).as_dict()


@_filter
def release_copies(
    images: Mapping[str, str], source_registry: str, target_registry: str, version: str
) -> dict[str, Any]:
    return _release.promotion_copies(
        images, source_registry=str(source_registry), target_registry=str(target_registry), version=str(version)
    )


@_filter
def release_copy_problem(copies: Sequence[Mapping[str, str]], resolved: Mapping[str, str]) -> str:
    return _release.copied_digests_problem(copies, resolved)


@_filter
def release_running(listed: Sequence[Any], stack: str = "") -> dict[str, str]:
    if all(isinstance(item, str) for item in listed):
        return _release.swarm_running(listed, stack=str(stack))
    if all(isinstance(item, Mapping) for item in listed):
        return _release.kubernetes_running(listed)
    raise _release.ReleaseError("expects docker service inspect lines or Kubernetes workloads, not a mix")


@_filter
def release_architectures(listed: Mapping[str, Any]) -> list[str]:
    return _release.node_architectures(listed)


@_filter
def release_ledger_summary(content: Any, stack: str) -> dict[str, Any]:
    return _release.ledger_summary(content, stack=str(stack))


class FilterModule:
    def filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "release_ledger": release_ledger,
            "release_plan": release_plan,
            "release_record": release_record,
            "release_rollback": release_rollback,
            "release_promotion": release_promotion,
            "release_running": release_running,
            "release_copies": release_copies,
            "release_copy_problem": release_copy_problem,
            "release_ledger_summary": release_ledger_summary,
            "release_architectures": release_architectures,
        }
