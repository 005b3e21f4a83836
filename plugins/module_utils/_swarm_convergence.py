# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a deployed Swarm stack converges, read from what the docker CLI prints.

Plain Python on recorded `docker service ls`, `docker service inspect` and
task `docker inspect` output:

* evaluate_service: one service's convergence from its inspect JSON and its
  tasks';
* evaluate_stack / verdict: the stack's, from those;
* failure_message: what the module says when it did not converge.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._swarm_definition import HASH_LABEL, service_key

_DIGEST = re.compile(r"@(sha256:[0-9a-f]{64})$")
_TASK_ID = re.compile(r"\btask ([0-9a-z]{25})\b")
_TIMESTAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)")
_REPLICAS = re.compile(r"(\d+)/(\d+)")
_JOB_COMPLETIONS = re.compile(r"\((\d+)/(\d+) completed\)")

# Service states in a report. A paused or rolled-back update stays that way
# until someone acts, so the wait ends there.
CONVERGED = "converged"
PENDING = "pending"
UPDATING = "updating"
ROLLING_BACK = "rolling_back"
ROLLED_BACK = "rolled_back"
PAUSED = "paused"
MISSING = "missing"
FAILED_STATES = (ROLLED_BACK, PAUSED)

# Restart conditions under which a task that exits 0 is left complete, which
# makes a replicated service a one-shot.
ONE_SHOT_CONDITIONS = ("none", "on-failure")


def parse_timestamp(text: Any) -> tuple[int, int]:
    """(seconds, nanoseconds) of an RFC 3339 time as the Engine writes it; Go trims trailing zeros, so no strcmp."""
    match = _TIMESTAMP.fullmatch(str(text or ""))
    if not match:
        return (0, 0)
    moment = calendar.timegm(time.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S"))
    zone = match.group(3)
    offset = 0
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        offset = sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    seconds = moment - offset
    nanos = int((match.group(2) or "0")[:9].ljust(9, "0"))
    return (seconds, nanos)


def _task_age_key(task: Mapping[str, Any]) -> tuple[tuple[int, int], tuple[int, int]]:
    return (parse_timestamp(task.get("CreatedAt")), parse_timestamp((task.get("Status") or {}).get("Timestamp")))


def spec_matches(task_spec: Any, template: Any) -> bool:
    """Whether a task was made from this task template.

    The Engine leaves some defaults out of a task's copy of the spec (the stop
    grace period, the restart policy), so only what both carry is compared.
    """
    if isinstance(task_spec, Mapping) and isinstance(template, Mapping):
        return all(spec_matches(task_spec[key], template[key]) for key in task_spec.keys() & template.keys())
    if isinstance(task_spec, list) and isinstance(template, list):
        return len(task_spec) == len(template) and all(map(spec_matches, task_spec, template))
    return task_spec == template


@dataclass
class ServiceReport:
    """How one service stands, as the module returns it."""

    service: str
    name: str
    id: str | None = None
    mode: str | None = None
    image: str | None = None
    digest: str | None = None
    desired: int = 0
    running: int = 0
    running_previous: int = 0
    completed: int = 0
    update_state: str | None = None
    update_message: str | None = None
    task_error: str | None = None
    spec_hash: str | None = None
    state: str = PENDING
    # A one-shot (restart condition none or on-failure) with tasks still
    # running and not all its completions: converged only as a long-running
    # service, which is why the wait gives it a while to finish first.
    finishing: bool = False

    def as_dict(self) -> dict[str, Any]:
        report = asdict(self)
        report.pop("finishing")
        return report


def _mode(spec: Mapping[str, Any]) -> str:
    mode = spec.get("Mode") or {}
    for key, name in (
        ("Replicated", "replicated"),
        ("Global", "global"),
        ("ReplicatedJob", "replicated-job"),
        ("GlobalJob", "global-job"),
    ):
        if key in mode:
            return name
    return "replicated"


def _listed_desired(listed: Mapping[str, Any] | None, job: bool) -> int | None:
    """The desired count `docker service ls` shows: n/DESIRED, or (n/DESIRED completed) for a job."""
    text = str((listed or {}).get("Replicas") or "")
    match = (_JOB_COMPLETIONS if job else _REPLICAS).search(text)
    return int(match.group(2)) if match else None


def _split_image(image: str | None) -> tuple[str | None, str | None]:
    if not image:
        return None, None
    match = _DIGEST.search(image)
    if not match:
        return image, None
    return image[: match.start()], match.group(1)


def _task_error(service: Mapping[str, Any], tasks: list[Mapping[str, Any]], converged: bool) -> str | None:
    """The newest task's error; short of convergence, the error of the task the update names, or the newest one."""
    if not tasks:
        return None
    newest_first = sorted(tasks, key=_task_age_key, reverse=True)
    error = (newest_first[0].get("Status") or {}).get("Err")
    if error or converged:
        return error or None
    message = str((service.get("UpdateStatus") or {}).get("Message") or "")
    named = _TASK_ID.search(message)
    if named:
        for task in tasks:
            if task.get("ID") == named.group(1) and (task.get("Status") or {}).get("Err"):
                return str(task["Status"]["Err"])
    for task in newest_first:
        error = (task.get("Status") or {}).get("Err")
        if error:
            return str(error)
    return None


def _restart_condition(spec: Mapping[str, Any]) -> str:
    return str((((spec.get("TaskTemplate") or {}).get("RestartPolicy") or {}).get("Condition")) or "any")


def finishing(reports: Mapping[str, ServiceReport]) -> list[str]:
    """The one-shots whose tasks still run, by key: converged, but not yet finished."""
    return [key for key, report in reports.items() if report.state == CONVERGED and report.finishing]


def _counts(
    spec: Mapping[str, Any],
    mode: str,
    service: Mapping[str, Any],
    tasks: list[Mapping[str, Any]],
    listed: Mapping[str, Any] | None,
) -> tuple[int, int, int, list[Mapping[str, Any]]]:
    """desired, running, completed, and the running tasks of the current spec (or job iteration)."""
    template = spec.get("TaskTemplate") or {}
    if mode.endswith("-job"):
        iteration = ((service.get("JobStatus") or {}).get("JobIteration") or {}).get("Index", 0)
        current = [t for t in tasks if (t.get("JobIteration") or {}).get("Index", 0) == iteration]
        running = [t for t in current if (t.get("Status") or {}).get("State") == "running"]
        complete = [t for t in current if (t.get("Status") or {}).get("State") == "complete"]
        if mode == "replicated-job":
            desired = int(((spec.get("Mode") or {}).get("ReplicatedJob") or {}).get("TotalCompletions") or 1)
            done = len(complete)
        else:
            listed_desired = _listed_desired(listed, job=True)
            nodes = {t.get("NodeID") for t in current}
            desired = listed_desired if listed_desired is not None else len(nodes)
            done = len({t.get("NodeID") for t in complete})
        return desired, len(running), done, running

    current = [t for t in tasks if spec_matches(t.get("Spec") or {}, template)]
    running = [
        t for t in current if t.get("DesiredState") == "running" and (t.get("Status") or {}).get("State") == "running"
    ]
    if mode == "global":
        listed_desired = _listed_desired(listed, job=False)
        if listed_desired is None:
            listed_desired = len({t.get("NodeID") for t in tasks if t.get("DesiredState") == "running"})
        return listed_desired, len({t.get("NodeID") for t in running}), 0, running

    desired = int(((spec.get("Mode") or {}).get("Replicated") or {}).get("Replicas", 1))
    completed = 0
    if _restart_condition(spec) in ONE_SHOT_CONDITIONS:
        # A one-shot slot is done when its newest task of this spec exited 0.
        newest_by_slot: dict[Any, Mapping[str, Any]] = {}
        for task in sorted(current, key=_task_age_key):
            newest_by_slot[task.get("Slot")] = task
        completed = sum(
            1 for task in newest_by_slot.values() if (task.get("Status") or {}).get("State") == "complete"
        )
    return desired, len(running), completed, running


def evaluate_service(
    key: str,
    service: Mapping[str, Any],
    tasks: Iterable[Mapping[str, Any]],
    expected_hash: str | None = None,
    listed: Mapping[str, Any] | None = None,
) -> ServiceReport:
    """One service's report from its `docker service inspect` and its tasks' `docker inspect`.

    expected_hash is the spec-hash label just deployed: a service that
    carries another one has not taken the new spec, or rolled back from it.
    """
    spec = service.get("Spec") or {}
    service_id = service.get("ID")
    own_tasks = [t for t in tasks if t.get("ServiceID") == service_id]
    mode = _mode(spec)
    desired, running, completed, running_tasks = _counts(spec, mode, service, own_tasks, listed)
    running_ids = {t.get("ID") for t in running_tasks}
    running_previous = sum(
        1
        for t in own_tasks
        if t.get("ID") not in running_ids
        and t.get("DesiredState") == "running"
        and (t.get("Status") or {}).get("State") == "running"
    )
    update = service.get("UpdateStatus") or {}
    update_state = update.get("State") or None
    label = (spec.get("Labels") or {}).get(HASH_LABEL)

    spec_image = ((spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}).get("Image")
    newest_running = sorted(running_tasks, key=_task_age_key)[-1:] if running_tasks else []
    task_image = (((newest_running[0].get("Spec") or {}).get("ContainerSpec") or {}).get("Image")
                  if newest_running else None)
    image, digest = _split_image(spec_image)
    _task_name, task_digest = _split_image(task_image)

    if mode.endswith("-job"):
        counts_reached = completed >= desired
    else:
        counts_reached = running + completed >= desired
    if expected_hash is not None and label != expected_hash:
        # After a rollback the service carries its previous spec, label included.
        state = {
            "rollback_completed": ROLLED_BACK,
            "rollback_started": ROLLING_BACK,
            "rollback_paused": PAUSED,
            "paused": PAUSED,
        }.get(update_state or "", PENDING)
    elif update_state in ("paused", "rollback_paused"):
        state = PAUSED
    elif update_state == "updating":
        state = UPDATING
    elif update_state == "rollback_started":
        state = ROLLING_BACK
    elif update_state == "rollback_completed" and expected_hash is None:
        state = ROLLED_BACK
    else:
        # completed, none yet, or a rollback back to the very spec wanted now.
        state = CONVERGED if counts_reached else PENDING

    return ServiceReport(
        service=key,
        name=str(spec.get("Name", key)),
        id=service_id,
        mode=mode,
        image=image,
        digest=task_digest or digest,
        desired=desired,
        running=running,
        running_previous=running_previous,
        completed=completed,
        update_state=update_state,
        update_message=update.get("Message") or None,
        task_error=_task_error(service, own_tasks, state == CONVERGED),
        spec_hash=label,
        state=state,
        finishing=(
            mode == "replicated"
            and _restart_condition(spec) in ONE_SHOT_CONDITIONS
            and running > 0
            and completed < desired
        ),
    )


@dataclass
class Snapshot:
    """The stack's services and tasks as the CLI printed them at one moment."""

    listed: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)


def evaluate_stack(
    stack: str, snapshot: Snapshot, expected: Mapping[str, str | None]
) -> dict[str, ServiceReport]:
    """A report per service of the definition (key -> spec hash expected, or None to describe what runs)."""
    by_key = {}
    for service in snapshot.services:
        by_key[service_key(stack, str((service.get("Spec") or {}).get("Name", "")))] = service
    listed_by_id = {str(item.get("ID", "")): item for item in snapshot.listed}
    reports = {}
    for key, expected_hash in expected.items():
        service = by_key.get(key)
        if service is None:
            reports[key] = ServiceReport(service=key, name=f"{stack}_{key}", state=MISSING)
            continue
        service_id = str(service.get("ID", ""))
        listed = next((item for short, item in listed_by_id.items() if short and service_id.startswith(short)), None)
        reports[key] = evaluate_service(key, service, snapshot.tasks, expected_hash, listed)
    return reports


def verdict(reports: Mapping[str, ServiceReport]) -> str:
    """converged, failed (a service rolled back or paused), or waiting."""
    states = [report.state for report in reports.values()]
    if any(state in FAILED_STATES for state in states):
        return "failed"
    if all(state == CONVERGED for state in states):
        return "converged"
    return "waiting"


def describe(report: ServiceReport) -> str:
    """One service's trouble, in a sentence."""
    if report.state == ROLLED_BACK:
        text = f"{report.service} rolled back"
    elif report.state == PAUSED:
        text = f"{report.service} update paused"
    elif report.state == MISSING:
        text = f"{report.service} was not created"
    else:
        text = f"{report.service} {report.state.replace('_', ' ')}, {report.running}/{report.desired} running"
        if report.completed:
            text += f", {report.completed} completed"
    if report.update_message and report.state in FAILED_STATES:
        text += f" ({report.update_message})"
    if report.task_error:
        text += f"; task error: {report.task_error}"
    return text


def failure_message(stack: str, reports: Mapping[str, ServiceReport], timed_out: bool, timeout: float) -> str:
    troubled = [report for report in reports.values() if report.state != CONVERGED]
    failed = [report for report in troubled if report.state in FAILED_STATES]
    shown = failed or troubled
    details = "; ".join(describe(report) for report in shown)
    if failed:
        return f"stack {stack} did not converge: {details}"
    if timed_out:
        return f"stack {stack} did not converge within {timeout:g} seconds: {details}"
    return f"stack {stack} did not converge: {details}"
