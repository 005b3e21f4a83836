# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.module_utils._app_model import OverlayError
from ansible_collections.drover.platform.plugins.module_utils._compose_loader import load_app, parse_compose
from ansible_collections.drover.platform.plugins.module_utils._stack_input import (
    active_profiles,
    app_problems,
    environment_plan,
    environment_problems,
    stack_input_problems,
)

SOUND: dict[str, Any] = {
    "dev": {"build": True, "overlay": {"services": {}}, "timeout": 300},
    "prod": {"stack_name": "shop-prod", "overlay": {}},
    "empty": None,
}


def test_sound_environments_have_no_problem() -> None:
    assert environment_problems(SOUND) == []


BAD: dict[str, tuple[Any, list[str]]] = {
    "typo of build": ({"dev": {"biuld": True}}, ["dev.biuld is not a setting", "did you mean build?"]),
    "typo of timeout": ({"dev": {"timout": 60}}, ["stack_environments.dev.timout", "did you mean timeout?"]),
    "unknown key, no near one": ({"dev": {"replicas": 2}}, ["dev.replicas is not a setting", "overlay, build"]),
    "build not a bool": ({"dev": {"build": "yes"}}, ["dev.build must be true or false"]),
    "timeout a bool": ({"dev": {"timeout": True}}, ["dev.timeout must be a number of seconds"]),
    "timeout zero": ({"dev": {"timeout": 0}}, ["dev.timeout must be a positive number"]),
    "overlay a list": ({"dev": {"overlay": []}}, ["dev.overlay must be a mapping"]),
    "stack name with a space": ({"dev": {"stack_name": "my app"}}, ["'my app' is not a stack name"]),
    "settings a list": ({"dev": ["build"]}, ["stack_environments.dev must be a mapping"]),
    "not a mapping": (["dev"], ["stack_environments must be a mapping"]),
}


@pytest.mark.parametrize(("environments", "expected"), BAD.values(), ids=BAD.keys())
def test_bad_environments_are_named(environments: Any, expected: list[str]) -> None:
    problems = environment_problems(environments)

    assert len(problems) == 1, problems
    for fragment in expected:
        assert fragment in problems[0]


def test_every_bad_key_is_named_once() -> None:
    problems = environment_problems({"dev": {"biuld": True, "timout": 5}, "prod": {"overlya": {}}})

    assert [problem.split(" ", 1)[0] for problem in problems] == [
        "stack_environments.dev.biuld",
        "stack_environments.dev.timout",
        "stack_environments.prod.overlya",
    ]


APPS: dict[str, tuple[Any, Any, list[str]]] = {
    "both set": ("shop", "/srv/shop/compose.yml", []),
    "no file": ("shop", "", ["stack_compose_file is not set"]),
    "no name": ("", "/srv/shop/compose.yml", ["stack_app_name is not set"]),
    "neither": (None, None, ["stack_compose_file is not set", "stack_app_name is not set"]),
    "upper case name": ("Shop", "/srv/shop/compose.yml", ["'Shop' cannot name images"]),
}


@pytest.mark.parametrize(("name", "compose_file", "expected"), APPS.values(), ids=APPS.keys())
def test_the_app_must_be_named(name: Any, compose_file: Any, expected: list[str]) -> None:
    problems = app_problems(name, compose_file)

    assert len(problems) == len(expected), problems
    for problem, fragment in zip(problems, expected, strict=True):
        assert fragment in problem


def test_all_problems_together() -> None:
    problems = stack_input_problems({"app_name": "", "compose_file": "x.yml", "environments": {"dev": {"biuld": 1}}})

    assert len(problems) == 2


# environment_plan: the preflight's decision, one row per case.
COMPOSE: dict[str, Any] = {
    "services": {
        "web": {"build": "./web", "image": "shop/web"},
        "db": {"image": "postgres:16"},
        "debug": {"image": "busybox", "profiles": ["debug"]},
        "seed": {"build": "./seed", "profiles": ["seed", "debug"]},
        "always": {"image": "nginx", "profiles": []},
        "bare": None,
    }
}
ENVIRONMENTS: dict[str, Any] = {
    "dev": {"build": True, "overlay": {"profiles": ["debug"]}},
    "prod": {"stack_name": "shop-live"},
    "preprod": None,
}


def _plan_input(**changes: Any) -> dict[str, Any]:
    data = {
        "app_name": "shop",
        "compose_file": "/apps/shop/compose.yml",
        "environments": ENVIRONMENTS,
        "environment": "dev",
        "registry": "registry.lan:5000",
    }
    data.update(changes)
    return data


PLANS: dict[str, tuple[dict[str, Any], Any, dict[str, Any]]] = {
    "profile active: its services run, and those built": (
        _plan_input(),
        COMPOSE,
        {
            "environment": "dev",
            "stack_name": "shop-dev",
            "services": ["web", "db", "debug", "seed", "always", "bare"],
            "built_services": ["web", "seed"],
        },
    ),
    "no profile active: services with profiles stay out": (
        _plan_input(environment="prod"),
        COMPOSE,
        {"stack_name": "shop-live", "services": ["web", "db", "always", "bare"], "built_services": ["web"]},
    ),
    "settings empty (None)": (
        _plan_input(environment="preprod"),
        COMPOSE,
        {"environment": "preprod", "settings": {}, "stack_name": "shop-preprod", "problems": []},
    ),
    "the only environment, when none is asked for": (
        _plan_input(environment="", environments={"prod": {}}),
        COMPOSE,
        {"environment": "prod", "problems": []},
    ),
    "the releases listing reads no Compose file": (
        _plan_input(registry=""),
        None,
        {"environment": "dev", "services": [], "problems": []},
    ),
}


@pytest.mark.parametrize(("data", "compose", "expected"), PLANS.values(), ids=PLANS.keys())
def test_environment_plan(data: dict[str, Any], compose: Any, expected: dict[str, Any]) -> None:
    plan = environment_plan(data, compose)
    assert plan["problems"] == expected.pop("problems", [])
    for key, value in expected.items():
        assert plan[key] == value, key


REFUSED: dict[str, tuple[dict[str, Any], Any, str]] = {
    "unknown environment": (
        _plan_input(environment="qa"),
        COMPOSE,
        'unknown environment "qa"; this inventory has dev, prod, preprod',
    ),
    "several, none asked for": (
        _plan_input(environment=""),
        COMPOSE,
        "several environments (dev, prod, preprod): name one with -e env=NAME",
    ),
    "no environment at all": (
        _plan_input(environment="", environments={}),
        COMPOSE,
        "has no environment (stack_environments is empty)",
    ),
    "no registry": (
        _plan_input(registry=""),
        COMPOSE,
        "stack_registry (host:port of the self-hosted registry) is empty",
    ),
    "nothing runs": (
        _plan_input(environment="prod"),
        {"services": {"debug": {"image": "busybox", "profiles": ["debug"]}}},
        "/apps/shop/compose.yml has no service this environment runs",
    ),
    "no services key": (_plan_input(), {"volumes": {}}, "has no service this environment runs"),
    "bad input first, before the environment": (
        _plan_input(app_name="", environment="qa"),
        COMPOSE,
        "stack_app_name is not set",
    ),
}


@pytest.mark.parametrize(("data", "compose", "expected"), REFUSED.values(), ids=REFUSED.keys())
def test_environment_plan_refuses(data: dict[str, Any], compose: Any, expected: str) -> None:
    plan = environment_plan(data, compose)
    assert len(plan["problems"]) == 1, plan["problems"]
    assert expected in plan["problems"][0]


# COMPOSE_PROFILES: the preflight switches on what the renderer switches on.
PROFILED_COMPOSE = (
    "services:\n  web:\n    image: nginx\n  seed:\n    build: ./seed\n    image: shop/seed\n    profiles: [seed]\n"
)


@pytest.mark.parametrize(
    ("overlay", "files", "expected"),
    [
        pytest.param({"variables": {"COMPOSE_PROFILES": "seed, debug"}}, {}, ["seed", "debug"], id="overlay variable"),
        pytest.param({}, {".env": "COMPOSE_PROFILES=seed\n"}, ["seed"], id=".env beside the Compose file"),
        pytest.param(
            {"env_files": ["prod.env"]},
            {".env": "COMPOSE_PROFILES=other\n", "prod.env": "COMPOSE_PROFILES=seed\n"},
            ["seed"],
            id="named env files, not .env",
        ),
        pytest.param(
            {"profiles": [], "variables": {"COMPOSE_PROFILES": "seed"}}, {}, [], id="the overlay's profiles win"
        ),
        pytest.param(
            {"variables": {"COMPOSE_PROFILES": ""}}, {".env": "COMPOSE_PROFILES=seed\n"}, [], id="variable over .env"
        ),
        pytest.param({}, {}, [], id="none"),
    ],
)
def test_compose_profiles_switch_on_what_the_renderer_does(
    tmp_path: Any, overlay: dict[str, Any], files: dict[str, str], expected: list[str]
) -> None:
    compose_file = tmp_path / "compose.yml"
    compose_file.write_text(PROFILED_COMPOSE)
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert active_profiles(overlay, str(compose_file)) == expected
    app = load_app(str(compose_file), {"environment": "dev", **overlay})
    assert app.profiles == expected
    data = _plan_input(compose_file=str(compose_file), environments={"dev": {"overlay": overlay}})
    plan = environment_plan(data, parse_compose(PROFILED_COMPOSE, str(compose_file)))
    assert plan["built_services"] == (["seed"] if "seed" in expected else [])
    assert plan["services"] == [name for name in ("web", "seed") if name not in app.disabled_services]


def test_an_unreadable_env_file_is_left_to_the_renderer(tmp_path: Any) -> None:
    compose_file = tmp_path / "compose.yml"
    compose_file.write_text(PROFILED_COMPOSE)
    assert active_profiles({"env_files": ["missing.env"]}, str(compose_file)) == []
    with pytest.raises(OverlayError, match="missing.env"):
        load_app(str(compose_file), {"environment": "dev", "env_files": ["missing.env"]})
