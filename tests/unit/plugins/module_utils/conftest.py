# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the renderer's tests: a Compose file in a folder as an App, and the reference CLI's check."""

from __future__ import annotations

import copy
import shutil
import subprocess
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.drover.platform.plugins.module_utils._app_model import App
from ansible_collections.drover.platform.plugins.module_utils._compose_loader import load_app

ComposeApp = Callable[..., App]
StackConfig = Callable[[dict[str, Any]], str | None]


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


@pytest.fixture
def compose_app(tmp_path: Path) -> ComposeApp:
    """compose_app(compose, overlay=None, files=None): the App of that Compose file in a fresh folder."""

    def build(compose: str, overlay: dict[str, Any] | None = None, files: dict[str, str | bytes] | None = None) -> App:
        path = write_app(tmp_path, compose, files)
        return load_app(str(path), {"environment": "dev", **(overlay or {})})

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


@pytest.fixture
def stack_config(tmp_path_factory: pytest.TempPathFactory) -> StackConfig:
    """stack_config(definition): docker stack config's complaint, or None; skips where no docker CLI is installed."""
    if shutil.which("docker") is None:
        pytest.skip("no docker CLI here to check the stack file with docker stack config")

    def check(definition: dict[str, Any]) -> str | None:
        return stack_config_problem(definition, tmp_path_factory.mktemp("stack"))

    return check
