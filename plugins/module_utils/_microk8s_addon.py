# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The microk8s_addon module's plan: one addon brought to the state asked for, from `microk8s status`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._microk8s import (
    AddonNotFoundError,
    CommandError,
    MicroK8sCli,
    MicroK8sError,
    Status,
    WorkerNodeError,
    read_status,
    require_running,
    tail,
)
from ansible_collections.drover.platform.plugins.module_utils._outcome import Outcome, changed_outcome

ADDON_STATES = ("enabled", "disabled")
ADDON_NAME = re.compile(r"^(?:(?P<repository>[A-Za-z0-9][A-Za-z0-9_.-]*)/)?(?P<name>[a-z0-9][a-z0-9-]*)$")


def parse_addon_name(text: str) -> tuple[str | None, str]:
    """`dns` or `core/dns` into (repository, name)."""
    match = ADDON_NAME.match(text.strip())
    if not match:
        raise MicroK8sError(f"{text!r} is not an addon name (like `dns`, or `core/dns` with its repository)")
    return match.group("repository"), match.group("name")


def addon_state(status: Status, repository: str | None, name: str) -> str:
    """`enabled` or `disabled`, as the status says."""
    records = [addon for addon in status.addons if addon.name == name]
    if not records:
        known = ", ".join(sorted({addon.label for addon in status.addons})) or "none"
        raise AddonNotFoundError(
            f"microk8s has no addon {name!r} (its status lists: {known}); "
            "community addons need `microk8s enable community` first"
        )
    for addon in records:
        if addon.status == "enabled" and (repository is None or addon.repository in (None, repository)):
            return "enabled"
    return "disabled"


def addon_word(name: str, arguments: str | None) -> str:
    """The one argv word for `microk8s enable`: NAME, or NAME:ARGUMENTS.

    microk8s splits that word at every colon (scripts/wrappers/common/utils.py,
    parse_xable_single_arg), so arguments with a colon would reach the addon
    cut in pieces.
    """
    if arguments is None or arguments == "":
        return name
    if ":" in arguments:
        raise MicroK8sError(
            f"the arguments of addon {name} hold a colon ({arguments!r}); microk8s cuts `enable {name}:ARGUMENTS` "
            "at every colon, so they cannot be passed this way"
        )
    return f"{name}:{arguments}"


@dataclass(frozen=True)
class AddonRequest:
    name: str
    state: str = "enabled"
    arguments: str | None = None
    timeout: int = 300


def run_addon(cli: MicroK8sCli, request: AddonRequest, check_mode: bool = False) -> Outcome:
    """Bring one addon to the state asked for, reading `microk8s status` before and after."""
    if request.state not in ADDON_STATES:
        raise MicroK8sError(f"state must be one of {', '.join(ADDON_STATES)}, not {request.state!r}")
    repository, name = parse_addon_name(request.name)
    label = f"{repository}/{name}" if repository else name
    word = addon_word(request.name.strip(), request.arguments)
    verb = "enable" if request.state == "enabled" else "disable"

    status = read_status(cli, request.timeout)
    if status.worker:
        raise WorkerNodeError(
            "this node joined its cluster as a worker, which runs no control plane and cannot change addons; "
            "run microk8s_addon on a control plane node"
        )
    require_running(status, request.timeout)
    before = addon_state(status, repository, name)
    result: dict[str, Any] = {
        "addon": label,
        "state": request.state,
        "status": {"before": before, "after": before},
        "command": None,
        "stdout": "",
        "stderr": "",
    }
    diff = {"before": {"addon": label, "state": before}, "after": {"addon": label, "state": request.state}}
    if before == request.state:
        return changed_outcome(False, result, diff={"before": diff["before"], "after": diff["before"]})

    result["status"]["after"] = request.state
    result["command"] = [cli.executable, verb, word]
    if check_mode:
        return changed_outcome(True, result, diff=diff)

    done = cli.run([verb, word], check=False, timeout=request.timeout)
    result["stdout"], result["stderr"] = done.stdout, done.stderr
    if done.rc != 0:
        raise CommandError(done.argv, done.rc, done.stdout, done.stderr)
    after = addon_state(read_status(cli, request.timeout), repository, name)
    result["status"]["after"] = after
    if after != request.state:
        raise MicroK8sError(
            f"`microk8s {verb} {word}` ended without error, yet the status still says {label} is {after}: "
            f"{tail(done.output) or 'it printed nothing'}"
        )
    return changed_outcome(True, result, diff=diff)
