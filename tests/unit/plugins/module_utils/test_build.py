# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.module_utils import _build
from ansible_collections.drover.platform.plugins.module_utils._build import BuildError

REG = "198.18.23.11:5000"


def plan(services: dict[str, Any], **more: Any) -> dict[str, Any]:
    return _build.build_plan(services, registry=REG, app="shop", version="1.2", **more)


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        ("./web", {"context": "./web", "dockerfile": None, "args": {}, "target": None, "labels": {}}),
        (
            {"context": "api/", "dockerfile": "docker/Dockerfile.prod", "target": "runtime",
             "args": {"NODE_ENV": "production", "EMPTY": None}, "labels": ["team=shop", "tier=api"]},
            {"context": "api", "dockerfile": "docker/Dockerfile.prod", "target": "runtime",
             "args": {"NODE_ENV": "production"}, "labels": {"team": "shop", "tier": "api"}},
        ),
        # The list form of args; a KEY alone is left to the Dockerfile's default, as Compose leaves it unset.
        ({"context": ".", "args": ["A=1", "B", "C=x=y"]},
         {"context": ".", "dockerfile": None, "args": {"A": "1", "C": "x=y"}, "target": None, "labels": {}}),
        # Interpolated with the project's variables, defaults included.
        ({"context": "web", "args": {"BASE": "${BASE_IMAGE:-debian:bookworm-slim}", "V": "$APP_VERSION"}},
         {"context": "web", "dockerfile": None, "args": {"BASE": "debian:bookworm-slim", "V": "1.2"}, "target": None,
          "labels": {}}),
    ],
)
def test_service_build(build: Any, expected: dict[str, Any]) -> None:
    assert _build.service_build("web", build, {"APP_VERSION": "1.2"}) == expected


@pytest.mark.parametrize(
    ("build", "message"),
    [
        ({"context": "web", "cache_from": ["x"]}, r"services.web.build: cache_from cannot be honoured"),
        ({"context": "web", "ssh": ["default"], "secrets": ["s"]}, r"secrets, ssh cannot be honoured.*them"),
        ({"context": "https://github.com/team/app.git#main"}, "is a URL"),
        ({"context": "web", "args": "A=1"}, "args must be a mapping or a list"),
        (42, "must be a path or a mapping"),
    ],
)
def test_service_build_refuses(build: Any, message: str) -> None:
    with pytest.raises(BuildError, match=message):
        _build.service_build("web", build, {})


def test_build_plan_one_platform_merges_the_inventorys_args_over_composes() -> None:
    planned = plan({"web": {"context": "web", "args": {"BASE": "debian", "MODE": "dev"}}},
                   build_args={"BASE": "drover-lab/debian-base:bookworm"})
    assert planned == {
        "images": [{"service": "web", "platform": None, "reference": f"{REG}/shop/web:1.2", "context": "web",
                    "dockerfile": None, "target": None, "labels": {},
                    "args": {"BASE": "drover-lab/debian-base:bookworm", "MODE": "dev"}}],
        "lists": [],
    }


def test_build_plan_one_named_platform_builds_that_platform_without_a_list() -> None:
    planned = plan({"web": "web"}, platforms=["arm64"])
    assert [(image["platform"], image["reference"]) for image in planned["images"]] == [
        ("linux/arm64", f"{REG}/shop/web:1.2")
    ]
    assert planned["lists"] == []


def test_build_plan_two_platforms_makes_one_list_per_service() -> None:
    planned = plan(
        {"web": {"context": "web", "args": {"BASE": "debian"}}, "api": "api"},
        build_args={"MODE": "prod"},
        platforms=["linux/amd64", "aarch64"],
        platform_args={"linux/arm64": {"BASE": "debian-arm64"}},
    )
    built = [(image["service"], image["platform"], image["reference"], image["args"]) for image in planned["images"]]
    assert built == [
        ("api", "linux/amd64", f"{REG}/shop/api:1.2-amd64", {"MODE": "prod"}),
        ("api", "linux/arm64", f"{REG}/shop/api:1.2-arm64", {"MODE": "prod", "BASE": "debian-arm64"}),
        ("web", "linux/amd64", f"{REG}/shop/web:1.2-amd64", {"BASE": "debian", "MODE": "prod"}),
        ("web", "linux/arm64", f"{REG}/shop/web:1.2-arm64", {"BASE": "debian-arm64", "MODE": "prod"}),
    ]
    assert planned["lists"] == [
        {"service": "api", "reference": f"{REG}/shop/api:1.2", "images": [f"{REG}/shop/api:1.2-amd64",
                                                                          f"{REG}/shop/api:1.2-arm64"]},
        {"service": "web", "reference": f"{REG}/shop/web:1.2", "images": [f"{REG}/shop/web:1.2-amd64",
                                                                          f"{REG}/shop/web:1.2-arm64"]},
    ]


@pytest.mark.parametrize(
    ("more", "message"),
    [
        ({"platforms": ["linux/amd64", "x86_64"]}, "names a platform twice"),
        ({"platforms": ["sparc"]}, "stack_build_platforms: 'sparc' names no architecture"),
        ({"platforms": ["amd64", "arm64"], "platform_args": {"arm/v7": {}}}, "which stack_build_platforms does not"),
    ],
)
def test_build_plan_refuses(more: dict[str, Any], message: str) -> None:
    with pytest.raises(BuildError, match=message):
        plan({"web": "web"}, **more)


def test_build_plan_refuses_a_version_that_is_no_tag() -> None:
    with pytest.raises(BuildError, match="not a docker tag"):
        _build.build_plan({"web": "web"}, registry=REG, app="shop", version="1.2/x")


@pytest.mark.parametrize(
    ("platform", "tag"), [("linux/arm64", "arm64"), ("amd64", "amd64"), ("arm/v7", "arm-v7"), ("aarch64", "arm64")]
)
def test_platform_tag(platform: str, tag: str) -> None:
    assert _build.platform_tag(platform) == tag


@pytest.mark.parametrize(
    ("given", "more", "version", "problem"),
    [
        # A version given needs no git, clean or not.
        ("2.0.0", {"git_error": "fatal: not a git repository"}, "2.0.0", ""),
        ("2.0.0", {"commit": "abc1234", "status": " M web/app.py"}, "2.0.0", ""),
        ("bad/tag", {}, "bad/tag", "is not a docker tag"),
        # Otherwise the commit of the app's folder, on a clean tree.
        ("", {"commit": "abc1234\n", "status": ""}, "abc1234", ""),
        ("", {"commit": "abc1234", "status": " M web/app.py\n?? web/new.txt\n"}, "abc1234",
         "uncommitted changes (web/app.py, web/new.txt)"),
        # An environment that does not build deploys images built before: its tree does not matter.
        ("", {"commit": "abc1234", "status": " M web/app.py", "builds": False}, "abc1234", ""),
        ("", {"git_error": "git: not found"}, "", "no git commit to take one from (git: not found)"),
        ("", {"commit": ""}, "", "give one with -e version="),
    ],
)
def test_choose_version(given: str, more: dict[str, Any], version: str, problem: str) -> None:
    chosen = _build.choose_version(given, **more)
    assert chosen["version"] == version
    assert (problem in chosen["problem"]) if problem else chosen["problem"] == ""


def test_choose_version_shortens_a_long_list_of_changes() -> None:
    status = "".join(f"?? f{number}\n" for number in range(8))
    assert "f0, f1, f2, f3, f4 and 3 more" in _build.choose_version("", commit="a", status=status)["problem"]


@pytest.mark.parametrize("more", [{"commit": ""}, {"git_error": "fatal: not a git repository"}])
def test_choose_version_without_git_for_a_job_that_takes_its_release_version(more: dict[str, Any]) -> None:
    # A promotion or rollback in a checkout without .git (an AWX project copy) needs no version of its own.
    assert _build.choose_version("", required=False, **more) == {"version": _build.PENDING_VERSION, "problem": ""}
    assert "give one with -e version=" in _build.choose_version("", required=True, **more)["problem"]
