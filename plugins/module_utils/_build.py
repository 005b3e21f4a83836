# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stack role's build decisions: which version a deploy builds, and what it builds, as Compose means it.

A service's `build:` is honoured as Compose defines it: context, dockerfile (relative to the context), args
(a mapping or a list of KEY=VALUE / KEY, interpolated with the project's variables; the inventory's
stack_build_args and then the platform's own args win), target and labels. Keys the role cannot honour are
refused by name rather than dropped.

With one platform (or none: the build host's own), each service is one image tagged <registry>/<app>/<svc>:<version>.
With several, each platform's image is tagged <version>-<arch> and a manifest list at <version> names them all,
so that every node pulls the entry of its own architecture.

The version is the one given on the command line (no git needed), else the app folder's last commit; a tree
with uncommitted changes in the app's folder is refused, since its tag would name a source it is not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._arch import InvalidPlatform, parse_platform
from ansible_collections.drover.platform.plugins.module_utils._compose_interpolation import interpolate

HONOURED_KEYS = ("context", "dockerfile", "args", "target", "labels")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


class BuildError(ValueError):
    """A build the role cannot do as written."""


def platform_tag(platform: str) -> str:
    """The tag suffix of one platform's image: linux/arm64 -> arm64, linux/arm/v7 -> arm-v7."""
    parsed = parse_platform(platform)
    return "-".join(part for part in (parsed.architecture, parsed.variant) if part)


def _args(value: Any, where: str) -> dict[str, str]:
    """Compose's build.args, a mapping or a list of KEY=VALUE (KEY alone: unset, left to the Dockerfile)."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(key): "" if item is None else str(item) for key, item in value.items() if item is not None}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        args: dict[str, str] = {}
        for entry in value:
            key, sep, item = str(entry).partition("=")
            if sep:
                args[key] = item
        return args
    raise BuildError(f"{where}.args must be a mapping or a list of KEY=VALUE, not {type(value).__name__}")


def service_build(name: str, build: Any, variables: Mapping[str, str]) -> dict[str, Any]:
    """One service's build: section as the role builds it (context, dockerfile, args, target, labels)."""
    where = f"services.{name}.build"
    if isinstance(build, str):
        build = {"context": build}
    if not isinstance(build, Mapping):
        raise BuildError(f"{where} must be a path or a mapping")
    build, _unset = interpolate(dict(build), variables, where)
    unknown = sorted(set(build) - set(HONOURED_KEYS))
    if unknown:
        raise BuildError(
            f"{where}: {', '.join(unknown)} cannot be honoured by the stack role's build"
            f" (it honours {', '.join(HONOURED_KEYS)}); remove {'it' if len(unknown) == 1 else 'them'}"
            " or build and push the image yourself"
        )
    context = str(build.get("context", ".")).rstrip("/") or "."
    if re.match(r"^[a-z][a-z0-9+.-]*://", context) or context.startswith("git@"):
        raise BuildError(
            f"{where}.context {context!r} is a URL: the stack role builds from a folder beside the Compose file"
        )
    labels = build.get("labels") or {}
    if isinstance(labels, Sequence) and not isinstance(labels, (str, bytes)):
        labels = dict(str(entry).partition("=")[::2] for entry in labels)
    return {
        "context": context,
        "dockerfile": str(build["dockerfile"]) if build.get("dockerfile") else None,
        "args": _args(build.get("args"), where),
        "target": str(build["target"]) if build.get("target") else None,
        "labels": {str(key): str(value) for key, value in dict(labels).items()},
    }


def build_plan(
    services: Mapping[str, Any],
    *,
    registry: str,
    app: str,
    version: str,
    build_args: Mapping[str, Any] | None = None,
    platforms: Sequence[str] = (),
    platform_args: Mapping[str, Mapping[str, Any]] | None = None,
    variables: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """What to build: images (one per service and platform) and lists (per service, when several platforms).

    services maps each service to build to its Compose build: section. Each image: service, platform (None: the
    build host's own), reference, context, dockerfile, args, target, labels. Each list: service, reference and
    the images it names, in the order of platforms.
    """
    if not _TAG.match(version):
        raise BuildError(f"the version {version!r} is not a docker tag")
    try:
        canonical = [str(parse_platform(platform)) for platform in platforms]
    except InvalidPlatform as error:
        raise BuildError(f"stack_build_platforms: {error}") from error
    if len(set(canonical)) != len(canonical):
        raise BuildError(f"stack_build_platforms names a platform twice: {', '.join(platforms)}")
    by_platform: dict[str, dict[str, str]] = {}
    for given, args in (platform_args or {}).items():
        try:
            key = str(parse_platform(given))
        except InvalidPlatform as error:
            raise BuildError(f"stack_build_platform_args: {error}") from error
        if key not in canonical:
            built = ", ".join(canonical) or "only the build host's own"
            raise BuildError(
                f"stack_build_platform_args has {given}, which stack_build_platforms does not build ({built})"
            )
        by_platform[key] = {str(name): str(value) for name, value in (args or {}).items()}
    common = {str(name): str(value) for name, value in (build_args or {}).items()}
    images: list[dict[str, Any]] = []
    lists: list[dict[str, Any]] = []
    for service in sorted(services):
        build = service_build(service, services[service], variables or {})
        repository = f"{registry}/{app}/{service}"
        base = {key: build[key] for key in ("context", "dockerfile", "target", "labels")}
        if len(canonical) <= 1:
            images.append({"service": service, "platform": canonical[0] if canonical else None,
                           "reference": f"{repository}:{version}", **base, "args": {**build["args"], **common}})
            continue
        members = []
        for platform in canonical:
            reference = f"{repository}:{version}-{platform_tag(platform)}"
            members.append(reference)
            images.append({"service": service, "platform": platform, "reference": reference, **base,
                           "args": {**build["args"], **common, **by_platform.get(platform, {})}})
        lists.append({"service": service, "reference": f"{repository}:{version}", "images": members})
    return {"images": images, "lists": lists}


# The tag a promotion or rollback renders with before it has chosen its release (whose version it then takes).
PENDING_VERSION = "pending"


def choose_version(
    given: str, *, commit: str = "", status: str = "", git_error: str = "", builds: bool = True,
    required: bool = True,
) -> dict[str, str]:
    """The version a deploy uses, or why there is none.

    required is false for a job that takes its version from the release it chooses (promote, rollback):
    without git it gets PENDING_VERSION, a tag for the check render before the release is chosen.

    given is -e version=...; it needs no git. Otherwise commit is the app folder's last commit (short) and
    status `git status --porcelain` of that folder: anything in it (an edit, an untracked file) is refused when
    the environment builds (builds), since the tag would name a source the images are not.
    """
    given = given.strip()
    if given:
        if not _TAG.match(given):
            return {"version": given, "problem": f"the version {given!r} is not a docker tag (letters, digits, _ . -)"}
        return {"version": given, "problem": ""}
    if (git_error or not commit.strip()) and not required:
        return {"version": PENDING_VERSION, "problem": ""}
    if git_error or not commit.strip():
        return {
            "version": "",
            "problem": "no version given and the app's folder has no git commit to take one from"
            + (f" ({git_error.strip()})" if git_error.strip() else "")
            + ": give one with -e version=...",
        }
    changed = [line[3:] for line in status.splitlines() if line.strip()]
    if changed and builds:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        return {
            "version": commit.strip(),
            "problem": f"the app's folder has uncommitted changes ({shown}): the images of commit {commit.strip()}"
            " would not be what it holds. Commit them, or give a version of your own with -e version=...",
        }
    return {"version": commit.strip(), "problem": ""}
