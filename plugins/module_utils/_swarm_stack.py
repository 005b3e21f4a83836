# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The swarm_stack module's two states: deploy and wait until converged, or remove and wait until gone.

The definition and plan are in _swarm_definition, the reading of convergence
in _swarm_convergence, the CLI in _swarm_cli; `run_present` and `run_absent`
tie them together for the module, with the clock and the sleep given so that
tests drive the waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._outcome import Outcome
from ansible_collections.drover.platform.plugins.module_utils._swarm_cli import (
    DockerCliError,
    Leftovers,
    SwarmStackClient,
)
from ansible_collections.drover.platform.plugins.module_utils._swarm_convergence import (
    ServiceReport,
    evaluate_stack,
    failure_message,
    finishing,
    verdict,
)
from ansible_collections.drover.platform.plugins.module_utils._swarm_definition import (
    Rendered,
    plan_changes,
    service_diff,
    service_key,
)

RESOLVE_IMAGE = ("always", "changed", "never")
# Seconds a one-shot deployed just now gets, once converged, to finish its
# tasks; past that, a task still running is a long-running service's (a
# Compose file's restart: "no").
ONE_SHOT_SETTLE = 15
STATES = ("present", "absent")


@dataclass
class Options:
    """The module's options that steer the deploy and the wait."""

    name: str
    timeout: float = 300
    poll_interval: float = 2
    prune: bool = False
    with_registry_auth: bool = False
    resolve_image: str = "never"
    check_mode: bool = False
    diff: bool = False


Clock = Callable[[], float]
Sleep = Callable[[float], None]


def run_present(
    stack: SwarmStackClient,
    rendered: Rendered,
    options: Options,
    stage_files: Callable[[Rendered], Any],
    clock: Clock | None = None,
    sleep: Sleep | None = None,
) -> Outcome:
    """Deploy when a service changed, then wait for every service of the definition to converge.

    stage_files is a context manager factory: it writes the Compose file (see
    stage()) and yields its path, removing what it wrote afterwards.
    """
    clock = clock or time.monotonic
    started = clock()
    before = stack.snapshot()
    plan = plan_changes(stack.name, rendered, before.services, options.prune, options.resolve_image)
    result: dict[str, Any] = {
        "changed": plan.changed,
        "stack": stack.name,
        "services_added": plan.added,
        "services_updated": plan.updated,
        "services_removed": plan.removed,
        "change_reasons": plan.reasons,
        "configs": rendered.names.get("configs", {}),
        "secrets": rendered.names.get("secrets", {}),
        "deployed": False,
    }
    if options.diff:
        result["diff"] = service_diff(stack.name, rendered, before.services, plan)

    if options.check_mode:
        # What runs now, read once: nothing was deployed to wait for.
        reports = evaluate_stack(stack.name, before, dict.fromkeys(rendered.hashes))
        result["services"] = {key: report.as_dict() for key, report in reports.items()}
        result["elapsed"] = round(clock() - started, 3)
        return Outcome(result)

    if plan.changed:
        with stage_files(rendered) as compose:
            result["deploy_output"] = stack.deploy(
                compose, options.prune, options.with_registry_auth, options.resolve_image
            )
        result["deployed"] = True

    reports, timed_out, last_error = wait_for_convergence(
        stack, rendered.hashes, options, clock, sleep, ONE_SHOT_SETTLE if plan.changed else 0
    )
    result["services"] = {key: report.as_dict() for key, report in reports.items()}
    result["elapsed"] = round(clock() - started, 3)
    outcome = verdict(reports)
    if outcome == "converged":
        return Outcome(result)
    message = failure_message(stack.name, reports, timed_out, options.timeout)
    if last_error is not None:
        message += f"; the last read of the swarm failed: {last_error}"
    return Outcome(result, failure=message)


def wait_for_convergence(
    stack: SwarmStackClient,
    expected: Mapping[str, str],
    options: Options,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
    settle: float = 0,
) -> tuple[dict[str, ServiceReport], bool, DockerCliError | None]:
    """Poll until every service converged, one failed for good, or the timeout: (reports, timed out, last CLI error).

    settle: once converged, how long a one-shot whose tasks still run gets to
    finish, so that a migration deployed just now is reported done, not
    running; one that runs on past it is a long-running service.
    """
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    deadline = clock() + options.timeout
    settled_by: float | None = None
    reports: dict[str, ServiceReport] = {}
    last_error: DockerCliError | None = None
    while True:
        try:
            reports = evaluate_stack(stack.name, stack.snapshot(), expected)
            last_error = None
        except DockerCliError as error:
            # A task or service can go between listing and inspecting it.
            last_error = error
        if reports and last_error is None and verdict(reports) != "waiting":
            if settle > 0 and verdict(reports) == "converged" and finishing(reports):
                if settled_by is None:
                    settled_by = min(clock() + settle, deadline)
                if clock() < settled_by:
                    sleep(min(options.poll_interval, max(settled_by - clock(), 0)))
                    continue
            return reports, False, None
        if clock() >= deadline:
            if not reports and last_error is not None:
                raise last_error
            return reports, True, last_error
        sleep(min(options.poll_interval, max(deadline - clock(), 0)))


def run_absent(
    stack: SwarmStackClient,
    options: Options,
    clock: Clock | None = None,
    sleep: Sleep | None = None,
) -> Outcome:
    """`docker stack rm`, then wait until its services, tasks, containers and networks are gone."""
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    started = clock()
    found = stack.leftovers()
    result: dict[str, Any] = {
        "changed": not found.empty,
        "stack": stack.name,
        "services_removed": [service_key(stack.name, name) for name in found.services],
        "deployed": False,
    }
    if options.diff:
        result["diff"] = {"before": asdict(found), "after": asdict(Leftovers())}
    if found.empty or options.check_mode:
        result["elapsed"] = round(clock() - started, 3)
        return Outcome(result)

    deadline = clock() + options.timeout
    complaint = stack.remove()
    while True:
        left = stack.leftovers()
        if left.empty:
            result["elapsed"] = round(clock() - started, 3)
            outcome = Outcome(result)
            if left.orphaned_tasks:
                result["orphaned_tasks"] = left.orphaned_tasks
                outcome.warnings.append(
                    f"{len(left.orphaned_tasks)} finished job task(s) of stack {stack.name} stay listed by "
                    "`docker stack ps`: this Engine does not delete the tasks of removed job services "
                    "(moby/moby#44312); they go when the managers restart or the leader changes"
                )
            return outcome
        if clock() >= deadline:
            result["elapsed"] = round(clock() - started, 3)
            result["leftovers"] = asdict(left)
            message = f"stack {stack.name} was not gone within {options.timeout:g} seconds: {left.describe()} left"
            if complaint:
                message += f"; docker stack rm said: {complaint}"
            return Outcome(result, failure=message)
        if not left.services and not left.tasks and (left.networks or left.configs or left.secrets):
            # The tasks are gone, so what refused to go before can go now.
            complaint = stack.remove()
        sleep(min(options.poll_interval, max(deadline - clock(), 0)))
