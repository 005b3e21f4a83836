# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: how long app_render's work takes for the demo app, per target and environment.

    .venv/bin/python tests/bench/render.py [--runs 200] [--corpus [FOLDER]]

For each lab environment (dev, preprod, prod: the overlays of
inventories/lab/group_vars/all/stack.yml, the images pinned by digest as
the stack role pins them) it times, on this controller, reading the
Compose file into the model (load_app) and rendering it for Swarm and for
Kubernetes, and prints the median and 95th percentile of each over --runs
runs, after a few warm-up runs. Nothing is deployed; no host is reached.

With --corpus (default folder: as the corpus test finds it,
DROVER_COMPOSE_CORPUS, else ../shared/compose-corpus beside the repository) it times load_app plus both
renders for each Compose file of the third-party corpus that renders, --runs
times each (default there: 20), and prints the median and 95th percentile
over the files' medians.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "collections"))
sys.path.insert(0, str(ROOT))

from ansible_collections.drover.platform.plugins.module_utils._app_model import AppError  # noqa: E402
from ansible_collections.drover.platform.plugins.module_utils._compose_loader import load_app  # noqa: E402
from ansible_collections.drover.platform.plugins.module_utils._render_k8s import render_kubernetes  # noqa: E402
from ansible_collections.drover.platform.plugins.module_utils._render_k8s_plan import KubernetesOptions  # noqa: E402
from ansible_collections.drover.platform.plugins.module_utils._render_swarm import (  # noqa: E402
    SwarmOptions,
    render_swarm,
)
from tests.unit.plugins.module_utils.conftest import corpus_folder, corpus_overlay  # noqa: E402

DEMO = ROOT / "apps" / "demo" / "compose.yml"
LAB_STACK = ROOT / "inventories" / "lab" / "group_vars" / "all" / "stack.yml"
ENVIRONMENTS = ("dev", "preprod", "prod")
WARM_UP = 5


def overlay(environment: str) -> dict[str, Any]:
    settings = yaml.safe_load(LAB_STACK.read_text())["stack_environments"][environment]
    data = copy.deepcopy(settings["overlay"])
    data["environment"] = environment
    data["variables"] = {"APP_VERSION": "1.7.0"}
    services = data.setdefault("services", {})
    names = ["web", "worker", "redis"] + (["toolbox"] if "debug" in data.get("profiles", []) else [])
    for index, name in enumerate(names):
        services.setdefault(name, {})["image"] = f"registry.lab:5000/demo/{name}@sha256:{index + 1:x}{'0' * 63}"
    return data


def timings(work: Callable[[], object], runs: int) -> list[float]:
    for _warm_up in range(WARM_UP):
        work()
    found = []
    for _run in range(runs):
        start = time.perf_counter()
        work()
        found.append(time.perf_counter() - start)
    return found


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered) * 1000:8.3f} {p95 * 1000:8.3f}"


def steps(environment: str) -> list[tuple[str, Callable[[], object], str]]:
    """(step, work, what it makes) for one environment."""
    data = overlay(environment)
    app = load_app(str(DEMO), data)
    swarm_options = SwarmOptions(stack_name=f"demo-{environment}", endpoint_mode="dnsrr")
    k8s_options = KubernetesOptions(version="1.7.0", edge_entrypoint="websecure")
    stack = render_swarm(app, swarm_options)
    manifests = render_kubernetes(app, k8s_options)
    return [
        ("load_app", lambda: load_app(str(DEMO), data), f"{len(app.services)} services"),
        ("render_swarm", lambda: render_swarm(app, swarm_options), f"{len(stack.definition['services'])} services"),
        ("render_kubernetes", lambda: render_kubernetes(app, k8s_options), f"{len(manifests.manifests)} manifests"),
        ("load_app + render_swarm", lambda: render_swarm(load_app(str(DEMO), data), swarm_options), ""),
        ("load_app + render_kubernetes", lambda: render_kubernetes(load_app(str(DEMO), data), k8s_options), ""),
    ]


def corpus(folder: Path, runs: int) -> int:
    medians = []
    for path in sorted(item for item in folder.rglob("*") if item.suffix in (".yml", ".yaml")):
        data = corpus_overlay(path)

        def both(path: Path = path, data: dict[str, Any] = data) -> None:
            app = load_app(str(path), data)
            render_swarm(app, SwarmOptions(stack_name="corpus"))
            render_kubernetes(app, KubernetesOptions(instance="corpus-dev"))

        try:
            both()
        except AppError:
            continue
        medians.append(statistics.median(timings(both, runs)))
    print(f"corpus {folder}: {len(medians)} files that render for both targets, {runs} runs each")
    print(f"load_app + render_swarm + render_kubernetes, ms over the files' medians: median p95\n{summary(medians)}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=None, help="timed runs per figure (default 200; corpus 20)")
    parser.add_argument("--corpus", nargs="?", const="", default=None, help="time the corpus instead")
    args = parser.parse_args()
    if args.runs is not None and args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.corpus is not None:
        folder = Path(args.corpus) if args.corpus else corpus_folder()
        if folder is None or not folder.is_dir():
            parser.error(f"no corpus folder at {folder or 'DROVER_COMPOSE_CORPUS, or ../shared/compose-corpus'}")
        return corpus(folder, args.runs or 20)
    args.runs = args.runs or 200

    print(f"demo app, {args.runs} runs each after {WARM_UP} warm-up runs; milliseconds: median p95")
    print(f"{'environment':<12} {'step':<28} {'median':>8} {'p95':>8}  output")
    for environment in ENVIRONMENTS:
        for step, work, output in steps(environment):
            print(f"{environment:<12} {step:<28} {summary(timings(work, args.runs))}  {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
