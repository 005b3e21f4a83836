# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The renderer over third-party Compose files: rendered or refused, checked by the reference tools.

The corpus (the Compose reference implementation's end-to-end fixtures and
Docker's sample apps; sources and licences in its README) lives beside the
project, never in it: DROVER_COMPOSE_CORPUS names its folder, else
../shared/compose-corpus beside the repository root, else
/work/shared/compose-corpus. Each Compose file (every .yml/.yaml in it) must
load and render for both targets, or be refused with a message (some are
fragments or invalid on purpose), never a traceback. Rendered, the Swarm
definition passes `docker stack config`; the Kubernetes manifests pass the
API's strict schemas for two versions (the renderer runs the admission
check itself); and every service key and top-level key of the file is
honoured by the target, or named in its report.

Services with only build: get an image from the overlay, as the stack role
pins what it built; every profile of the file is active, so that every
service is checked.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.drover.platform.plugins.module_utils._app_model import App, AppError, ReportItem
from ansible_collections.drover.platform.plugins.module_utils._compose_loader import load_app
from ansible_collections.drover.platform.plugins.module_utils._render_frame import HONOURED_TOP_LEVEL_KEYS
from ansible_collections.drover.platform.plugins.module_utils._render_k8s import HONOURED_OBJECT_KEYS as K8S_OBJECT_KEYS
from ansible_collections.drover.platform.plugins.module_utils._render_k8s import render_kubernetes
from ansible_collections.drover.platform.plugins.module_utils._render_k8s_plan import KubernetesOptions
from ansible_collections.drover.platform.plugins.module_utils._render_k8s_pod import HONOURED_KEYS as K8S_KEYS
from ansible_collections.drover.platform.plugins.module_utils._render_swarm import HONOURED_KEYS as SWARM_KEYS
from ansible_collections.drover.platform.plugins.module_utils._render_swarm import (
    HONOURED_OBJECT_KEYS as SWARM_OBJECT_KEYS,
)
from ansible_collections.drover.platform.plugins.module_utils._render_swarm import SwarmOptions, render_swarm

from .conftest import corpus_folder, corpus_overlay, has_stack_config, schema_problems, stack_config_problem

VERSIONS = ("1.30.0", "1.37.0")


CORPUS = corpus_folder()
FILES = sorted(path for path in CORPUS.rglob("*") if path.suffix in (".yml", ".yaml")) if CORPUS else []
TALLY: Counter[str] = Counter()
REPORTED: Counter[str] = Counter()


def unaccounted(
    raw: dict[str, Any],
    app: App,
    report: list[ReportItem],
    honoured: frozenset[str],
    honoured_objects: dict[str, frozenset[str]],
) -> list[str]:
    """Keys of the file neither honoured by the target nor named in its report."""
    enabled = set(app.services)
    reported = {(item.service, item.key.split(".", 1)[0]) for item in report}
    missing = []
    for key in raw:
        name = str(key)
        if name not in HONOURED_TOP_LEVEL_KEYS and not name.startswith("x-") and (None, name) not in reported:
            missing.append(name)
    for service, data in (raw.get("services") or {}).items():
        if service not in enabled or not isinstance(data, dict):
            continue
        for key in data:
            name = str(key)
            TALLY["service keys checked"] += 1
            if name not in honoured and not name.startswith("x-") and (service, name) not in reported:
                missing.append(f"services.{service}.{name}")
    reported_top = {item.key for item in report if item.service is None}
    for kind, known in honoured_objects.items():
        used = getattr(app, kind)
        for key, data in (raw.get(kind) or {}).items():
            if key not in used or not isinstance(data, dict):
                continue
            for option in data:
                TALLY["top-level object keys checked"] += 1
                name = str(option)
                if name not in known and not name.startswith("x-") and f"{kind}.{name}" not in reported_top:
                    missing.append(f"{kind}.{key}.{name}")
    return missing


@pytest.mark.skipif(CORPUS is None, reason="no Compose corpus here (set DROVER_COMPOSE_CORPUS to its folder)")
@pytest.mark.parametrize("path", FILES, ids=[str(path.relative_to(CORPUS)) for path in FILES] if CORPUS else [])
def test_corpus_file(path: Path, tmp_path: Path) -> None:
    TALLY["files"] += 1
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        raw = None
    try:
        app = load_app(str(path), corpus_overlay(path))
    except AppError as error:
        assert str(error), "a refusal says why"
        TALLY["refused by the loader"] += 1
        return
    assert isinstance(raw, dict)
    for target in ("swarm", "kubernetes"):
        try:
            if target == "swarm":
                result: Any = render_swarm(app, SwarmOptions(stack_name="corpus"))
            else:
                result = render_kubernetes(app, KubernetesOptions(instance="corpus-dev"))
        except AppError as error:
            assert str(error)
            TALLY[f"refused by {target}"] += 1
            continue
        TALLY[f"rendered for {target}"] += 1
        REPORTED.update(f"{target}: {item.key}" for item in result.report)
        if target == "swarm":
            missing = unaccounted(raw, app, result.report, SWARM_KEYS, SWARM_OBJECT_KEYS)
        else:
            missing = unaccounted(raw, app, result.report, K8S_KEYS, K8S_OBJECT_KEYS)
        assert missing == [], f"{target} neither honours nor reports {', '.join(missing)}"
        if target == "swarm" and has_stack_config():
            assert stack_config_problem(result.definition, tmp_path) is None
            TALLY["accepted by docker stack config"] += 1
        if target == "kubernetes":
            problems = [line for m in result.manifests for version in VERSIONS for line in schema_problems(m, version)]
            assert problems == []
            TALLY["manifests validated"] += len(result.manifests)


@pytest.mark.skipif(CORPUS is None, reason="no Compose corpus here (set DROVER_COMPOSE_CORPUS to its folder)")
def test_corpus_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """The figures, printed; run after the files (pytest keeps the order of a module)."""
    if TALLY["files"] != len(FILES):
        pytest.skip("the summary counts a run over every corpus file")
    lines = [f"compose corpus {CORPUS}: {len(FILES)} files"]
    lines += [f"  {key}: {value}" for key, value in sorted(TALLY.items()) if key != "files"]
    lines += [f"  report item {key}: {value}" for key, value in sorted(REPORTED.items())]
    with capsys.disabled():
        print("\n" + "\n".join(lines))
