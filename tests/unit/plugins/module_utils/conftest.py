# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the renderer's tests: a Compose file in a folder as an App, and the reference CLI's check."""

from __future__ import annotations

import copy
import functools
import os
import re
import shutil
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import jsonschema
import pytest
import referencing
import yaml

from ansible_collections.drover.platform.plugins.module_utils._app_model import App
from ansible_collections.drover.platform.plugins.module_utils._compose_loader import load_app

ComposeApp = Callable[..., App]
StackConfig = Callable[[dict[str, Any]], Optional[str]]  # noqa: UP045 - pylint in ansible-test reads the alias at run time


def write_app(folder: Path, compose: str, files: dict[str, str | bytes] | None = None) -> Path:
    """compose.yml (dedented) and the files beside it; returns the Compose file's path."""
    path = folder / "compose.yml"
    path.write_text(textwrap.dedent(compose))
    for name, content in (files or {}).items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    return path


def load_written(
    folder: Path, compose: str, overlay: dict[str, Any] | None = None, files: dict[str, str | bytes] | None = None
) -> App:
    """The App of a Compose file written (dedented) into folder with the files beside it, in dev."""
    path = write_app(folder, compose, files)
    return load_app(str(path), {"environment": "dev", **(overlay or {})})


def app_and_db(service: str, top_level: str = "") -> str:
    """A Compose file of the service app (its lines given) and a plain db, then the top-level lines."""
    return (
        "services:\n  app:\n"
        + textwrap.indent(textwrap.dedent(service), "    ")
        + "  db:\n    image: db:1\n"
        + textwrap.dedent(top_level)
    )


def with_app_overlay(overlay: dict[str, Any], overlay_service: dict[str, Any] | None) -> dict[str, Any]:
    """The overlay, with overlay_service as the app's when given."""
    return overlay if overlay_service is None else {**overlay, "services": {"app": overlay_service}}


@pytest.fixture
def compose_app(tmp_path: Path) -> ComposeApp:
    """compose_app(compose, overlay=None, files=None): the App of that Compose file in a fresh folder."""

    def build(compose: str, overlay: dict[str, Any] | None = None, files: dict[str, str | bytes] | None = None) -> App:
        return load_written(tmp_path, compose, overlay, files)

    return build


def stack_config_problem(definition: dict[str, Any], folder: Path) -> str | None:
    """What `docker stack config` says against a definition swarm_stack would deploy (None: accepted).

    Contents become files first, as swarm_stack writes them.
    """
    data = copy.deepcopy(definition)
    for kind in ("configs", "secrets"):
        for key, entry in (data.get(kind) or {}).items():
            if "content" in entry:
                path = folder / f"{kind}-{key}"
                path.write_text(entry.pop("content"))
                entry["file"] = str(path)
    stack = folder / "stack.yml"
    stack.write_text(yaml.safe_dump(data))
    done = subprocess.run(
        ["docker", "stack", "config", "-c", str(stack)], capture_output=True, text=True, check=False, timeout=60
    )
    return None if done.returncode == 0 else (done.stderr or done.stdout).strip()


@functools.lru_cache(maxsize=1)
def has_stack_config() -> bool:
    """Whether a docker CLI with `docker stack config` (it needs no daemon) is installed here."""
    if shutil.which("docker") is None:
        return False
    done = subprocess.run(["docker", "stack", "config", "--help"], capture_output=True, check=False, timeout=60)
    return done.returncode == 0


@pytest.fixture
def stack_config(tmp_path_factory: pytest.TempPathFactory) -> StackConfig:
    """stack_config(definition): docker stack config's complaint, or None; skips where no docker CLI has it."""
    if not has_stack_config():
        pytest.skip("no docker CLI with docker stack config here to check the stack file with")

    def check(definition: dict[str, Any]) -> str | None:
        return stack_config_problem(definition, tmp_path_factory.mktemp("stack"))

    return check


@functools.cache
def _strict_validator(version: str, kind: str, api_version: str) -> Any:
    """kubernetes-validate's strict schema for one kind, built once (its validate() reads the definitions each call)."""
    from kubernetes_validate import utils

    schema_version = [
        known for known in utils.all_versions() if utils.major_minor(known) <= utils.major_minor(version)
    ][-1]
    folder = f"kubernetes-json-schema/v{schema_version}-local-strict"
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = utils.schema_contents(f"{folder}/{kind.lower()}-{group}.json", version)
    definitions = utils.schema_contents(f"{folder}/_definitions.json", version)
    registry = referencing.Resource.from_contents(definitions) @ (
        referencing.Resource.from_contents(schema) @ referencing.Registry()
    )
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def schema_problems(manifest: dict[str, Any], version: str) -> list[str]:
    """What the API's strict JSON schemas of this version say against a manifest (none: valid)."""
    validator = _strict_validator(version, manifest["kind"], manifest["apiVersion"])
    name = f"{manifest['kind']}/{manifest['metadata']['name']}"
    return [
        f"{name}: {'.'.join(str(part) for part in error.path)}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]


def corpus_folder() -> Path | None:
    """The third-party Compose corpus: DROVER_COMPOSE_CORPUS, else ../shared/compose-corpus beside the repository."""
    given = os.environ.get("DROVER_COMPOSE_CORPUS")
    root = Path(__file__).resolve().parents[4]
    candidates = (
        [Path(given)] if given else [root.parent / "shared" / "compose-corpus", Path("/work/shared/compose-corpus")]
    )
    return next((path for path in candidates if path.is_dir()), None)


def corpus_overlay(path: Path) -> dict[str, Any]:
    """The overlay a corpus file is rendered with: an image for each build-only service (as the stack role pins
    what it built), and every profile of the file active, so that every service is checked."""
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        raw = None
    services: dict[str, Any] = {}
    profiles: set[str] = set()
    for name, service in (raw.get("services") or {}).items() if isinstance(raw, dict) else []:
        if isinstance(service, dict):
            if not service.get("image"):
                services[name] = {"image": f"corpus.test/{str(name).lower()}:1.0"}
            if isinstance(service.get("profiles"), list):
                profiles.update(str(profile) for profile in service["profiles"])
    return {"environment": "dev", "services": services, "profiles": sorted(profiles)}
