# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the stack role's argument spec cannot check: the keys of each environment, and the app's name and file.

stack_environments is a mapping of names chosen by the inventory, so the
argument spec can only say "dict"; a typo inside one (``biuld``,
``timout``) would be ignored. These checks name every key they refuse,
with the nearest known one, before any host is touched.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._app_model import AppDefinitionError, OverlayError
from ansible_collections.drover.platform.plugins.module_utils._compose_interpolation import project_variables

# Each environment's keys and the type its value must have (bool before int: a bool is an int in Python).
ENVIRONMENT_KEYS: dict[str, tuple[type, ...]] = {
    "overlay": (dict,),
    "build": (bool,),
    "stack_name": (str,),
    "timeout": (int,),
}
_TYPE_NAMES = {dict: "a mapping", bool: "true or false", str: "a text", int: "a number of seconds"}
_APP_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
_STACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _suggestion(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
    return f" (did you mean {close[0]}?)" if close else ""


def _value_problem(name: str, key: str, value: Any) -> str | None:
    expected = ENVIRONMENT_KEYS[key]
    wrong_type = not isinstance(value, expected) or (bool not in expected and isinstance(value, bool))
    if wrong_type:
        return f"stack_environments.{name}.{key} must be {_TYPE_NAMES[expected[0]]}, not {value!r}"
    if key == "timeout" and value <= 0:
        return f"stack_environments.{name}.timeout must be a positive number of seconds, not {value}"
    if key == "stack_name" and not _STACK_NAME.fullmatch(value):
        return f"stack_environments.{name}.stack_name {value!r} is not a stack name (letters, digits, '_', '-', '.')"
    return None


def environment_problems(environments: Any) -> list[str]:
    """One message per unknown key or bad value in stack_environments; empty when sound."""
    if not isinstance(environments, Mapping):
        return [f"stack_environments must be a mapping of environment names to settings, not {environments!r}"]
    known = list(ENVIRONMENT_KEYS)
    problems = []
    for name, settings in environments.items():
        if settings is None:
            continue
        if not isinstance(settings, Mapping):
            problems.append(f"stack_environments.{name} must be a mapping ({', '.join(known)}), not {settings!r}")
            continue
        for key, value in settings.items():
            if key not in ENVIRONMENT_KEYS:
                problems.append(
                    f"stack_environments.{name}.{key} is not a setting of an environment{_suggestion(str(key), known)};"
                    f" the settings are {', '.join(known)}"
                )
                continue
            problem = _value_problem(str(name), str(key), value)
            if problem:
                problems.append(problem)
    return problems


def app_problems(app_name: Any, compose_file: Any) -> list[str]:
    """What is missing or wrong in stack_app_name and stack_compose_file (no default outside the lab)."""
    problems = []
    if not compose_file:
        problems.append(
            "stack_compose_file is not set: name the app's Compose file on the controller in the inventory "
            "(for example \"{{ inventory_dir }}/../../compose.yml\"); only the lab inventory deploys the demo"
        )
    if not app_name:
        problems.append(
            "stack_app_name is not set: name the app in the inventory (its images are <registry>/<app>/<service>)"
        )
    elif not isinstance(app_name, str) or not _APP_NAME.fullmatch(app_name):
        problems.append(
            f"stack_app_name {app_name!r} cannot name images: use lower-case letters, digits, '_', '-' and '.'"
        )
    return problems


def stack_input_problems(data: Mapping[str, Any]) -> list[str]:
    """Every problem of the role's input the argument spec cannot see."""
    return [
        *app_problems(data.get("app_name"), data.get("compose_file")),
        *environment_problems(data.get("environments") or {}),
    ]


def _choice_problem(chosen: str, names: list[str]) -> str | None:
    if chosen:
        if chosen in names:
            return None
        return f'unknown environment "{chosen}"; this inventory has {", ".join(names) or "none"}'
    if not names:
        return "this inventory has no environment (stack_environments is empty)"
    if len(names) > 1:
        return f"this inventory has several environments ({', '.join(names)}): name one with -e env=NAME"
    return None


def running_services(compose: Mapping[str, Any], profiles: list[str]) -> list[str]:
    """The services an environment runs, in file order: those with no profiles, and those with an active one.

    As docker compose decides: a service that lists profiles runs only when
    one of them is active, so ``profiles: []`` runs (no profile asked for).
    """
    active = set(profiles)
    running = []
    for name, service in (compose.get("services") or {}).items():
        listed = (service or {}).get("profiles")
        if listed is None or not listed or active.intersection(listed):
            running.append(name)
    return running


def active_profiles(overlay: Mapping[str, Any], compose_file: str = "") -> list[str]:
    """The profiles an overlay switches on, as the renderer reads them.

    Its profiles when it names them; else COMPOSE_PROFILES from its
    variables, or from its env files (.env when it names none) beside an
    absolute compose_file. An env file that cannot be read is the
    renderer's to report, with its path: here it switches nothing on.
    """
    profiles = overlay.get("profiles")
    if profiles is not None:
        return [str(profile) for profile in profiles] if isinstance(profiles, list) else [str(profiles)]
    given = overlay.get("variables") or {}
    variables = {str(key): "" if value is None else str(value) for key, value in given.items()}
    if "COMPOSE_PROFILES" not in variables and compose_file and os.path.isabs(compose_file):
        env_files = overlay.get("env_files")
        named = None if env_files is None else [str(path) for path in env_files]
        try:
            variables = project_variables(os.path.dirname(compose_file), named, variables)
        except (AppDefinitionError, OverlayError):
            pass
    return [profile.strip() for profile in variables.get("COMPOSE_PROFILES", "").split(",") if profile.strip()]


def environment_plan(data: Mapping[str, Any], compose: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The environment a run deploys, read from the role's input, or the problems that stop it.

    data holds app_name, compose_file, environments, environment (the one
    asked for; empty: the only one) and registry. compose is the Compose
    file read, or None when the run needs no services (the releases
    listing): then neither the registry nor the services are checked.
    """
    problems = stack_input_problems(data)
    environments = data.get("environments") or {}
    names = [str(name) for name in environments] if isinstance(environments, Mapping) else []
    chosen = str(data.get("environment") or "")
    if not problems:
        problem = _choice_problem(chosen, names)
        if problem:
            problems.append(problem)
    environment = chosen or (names[0] if len(names) == 1 else "")
    settings = environments.get(environment) if not problems else None
    settings = dict(settings or {})
    plan: dict[str, Any] = {
        "problems": problems,
        "environment": environment,
        "settings": settings,
        "stack_name": settings.get("stack_name") or f"{data.get('app_name') or ''}-{environment}",
        "compose": dict(compose or {}),
        "services": [],
        "built_services": [],
    }
    if problems or compose is None:
        return plan
    services = compose.get("services") or {}
    overlay = settings.get("overlay") or {}
    profiles = active_profiles(overlay if isinstance(overlay, Mapping) else {}, str(data.get("compose_file") or ""))
    plan["services"] = running_services(compose, profiles)
    plan["built_services"] = [name for name in plan["services"] if "build" in (services[name] or {})]
    if not data.get("registry"):
        problems.append("stack_registry (host:port of the self-hosted registry) is empty")
    elif not plan["services"]:
        problems.append(f"{data.get('compose_file')} has no service this environment runs")
    return plan
