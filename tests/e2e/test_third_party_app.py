# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Zero downtime for an app that does nothing for it, on the converged lab, next to the demo.

apps/plainweb has no healthcheck, no drain and one task of its routed web front; its status
and db services publish ports (one on purpose, one by accident). The platform's edge defaults
(health check, retry, 503), the health probe, the drain and the firewall's forward chain must
carry it. In this order (each starts where the one before left the lab):

1. a version update of dev under load: no request fails;
2. a promotion of dev to prod under load: no request fails;
3. a bad release that exits at start: refused, the old version serving, no request fails;
4. a bad release that answers 500: refused, the old version serving, no request fails;
5. a strict environment with a published database port stops before deploy;
6. from another lab host, the db port is refused, the status port, the edge and the registry answer;
7. a routed service with no task answers 503.

Slow (several deploys): marked `slow`; the stacks and their ledgers are removed at the end.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .constants import DEPLOY_PLAYBOOK, LEDGER_DIR, PROMOTE_PLAYBOOK, ROOT
from .lab import Lab, LabError, Run, extra_vars, run, tool

pytestmark = pytest.mark.slow

APP = "plainweb"
FIRST, SECOND = "1.0.0", "1.1.0"
DOMAINS = {"dev": "plainweb-dev.lab.drover.test", "prod": "plainweb.lab.drover.test"}
STATUS_PORT, DB_PORT = 18080, 15432
MIN_REQUESTS = 1000
HOST_PORTS = ["deploy.update_config.order"]


def settings() -> dict[str, Any]:
    """The app as an inventory would declare it: dev builds and publishes, prod is strict and publishes nothing."""
    web = {"ports": [], "port": 8080, "replicas": 1}
    on_pc = {"placement": {"class": ["pc"]}}
    return {
        "stack_app_name": APP,
        "stack_compose_file": str(ROOT / "apps" / APP / "compose.yml"),
        "stack_environments": {
            "dev": {
                "build": True,
                "overlay": {
                    "allow": HOST_PORTS,
                    "services": {"web": {**web, "domain": DOMAINS["dev"]}, "status": on_pc, "db": on_pc},
                },
            },
            "prod": {
                "overlay": {
                    "services": {
                        "web": {**web, "domain": DOMAINS["prod"]},
                        "status": {**on_pc, "ports": []},
                        "db": {**on_pc, "ports": []},
                    },
                },
            },
        },
    }


@dataclasses.dataclass(frozen=True)
class App:
    lab: Lab
    vars_file: Path

    def playbook(self, playbook: str, **values: Any) -> Run:
        return self.lab.playbook(playbook, "-e", f"@{self.vars_file}", *extra_vars(**values))

    def deploy(self, env: str, version: str, **values: Any) -> Run:
        return self.playbook(DEPLOY_PLAYBOOK, env=env, version=version, **values)

    def promote(self) -> Run:
        return self.playbook(PROMOTE_PLAYBOOK, **{"from": "dev", "to": "prod"})

    def node_address(self, node: str) -> str:
        return self.lab.ssh("docker", "node", "inspect", node, "--format", "{{.Status.Addr}}").stdout.strip()

    def update_seconds(self, env: str) -> float:
        """How long Swarm's last update of the web service took (its UpdateStatus)."""
        status = json.loads(self.lab.ssh("docker", "service", "inspect", f"{self.lab.stack(env)}_web",
                                         "--format", "{{json .UpdateStatus}}").stdout)
        began, ended = (time.mktime(time.strptime(status[key][:19], "%Y-%m-%dT%H:%M:%S"))
                        for key in ("StartedAt", "CompletedAt"))
        return ended - began


@pytest.fixture(scope="module")
def plain(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """plainweb deployed to dev (FIRST) and promoted to prod; both stacks and ledgers removed afterwards."""
    vars_file = tmp_path_factory.mktemp("plainweb") / "plainweb.json"
    vars_file.write_text(json.dumps(settings()))
    app = App(dataclasses.replace(lab, app=APP, domains=dict(DOMAINS)), vars_file)
    try:
        first = app.deploy("dev", FIRST)
        assert first.rc == 0, first
        promoted = app.promote()
        assert promoted.rc == 0, promoted
        yield app
    finally:
        stacks = [app.lab.stack(env) for env in DOMAINS]
        lab.ssh("docker", "stack", "rm", *stacks, check=False)
        lab.ssh("rm", "-f", *(f"{LEDGER_DIR}/{stack}.json" for stack in stacks), check=False)


def under_load(app: App, env: str, action: Any) -> tuple[Run, dict[str, Any]]:
    with app.lab.under_load(env, MIN_REQUESTS) as load:
        done = action()
    return done, load


def assert_no_failure(load: dict[str, Any]) -> None:
    assert load["failures"] == 0, load["first_failures"]
    assert load["requests"] >= MIN_REQUESTS, load


def test_a_version_update_fails_no_request(plain: App) -> None:
    assert plain.lab.ask("dev")["version"] == FIRST
    update, load = under_load(plain, "dev", lambda: plain.deploy("dev", SECOND))
    print(f"update under load: {json.dumps(load)}; deploy.yml {update.seconds} s, "
          f"Swarm's update of web {plain.update_seconds('dev'):.0f} s")
    assert update.rc == 0, update
    assert_no_failure(load)
    assert SECOND in load["versions"], load["versions"]
    assert plain.lab.ask("dev")["version"] == SECOND


def test_a_promotion_fails_no_request(plain: App) -> None:
    assert plain.lab.ask("prod")["version"] == FIRST
    promoted, load = under_load(plain, "prod", plain.promote)
    print(f"promotion under load: {json.dumps(load)}; promote.yml {promoted.seconds} s")
    assert promoted.rc == 0, promoted
    assert_no_failure(load)
    assert plain.lab.ask("prod")["version"] == SECOND


@pytest.mark.parametrize(("broken", "why"), [("exit", "exits at start"), ("500", "answers 500")])
def test_a_bad_release_is_refused_while_the_old_one_serves(plain: App, broken: str, why: str) -> None:
    ledger = plain.lab.ledger_text("dev")
    override = {"stack_overlay_override": {"services": {"web": {"environment": {"PLAINWEB_BREAK": broken}}}}}
    bad, load = under_load(plain, "dev", lambda: plain.deploy("dev", SECOND, **override))
    print(f"bad release ({why}) under load: {json.dumps(load)}; deploy.yml failed after {bad.seconds} s")
    assert bad.rc != 0, bad
    assert re.search(r"\bweb\b", bad.output) and re.search(r"rolled[ _]back", bad.output), bad
    assert_no_failure(load)
    assert set(load["versions"]) == {SECOND}, load["versions"]
    assert plain.lab.ledger_text("dev") == ledger, "the ledger changed for a release that was refused"


def test_a_published_database_port_stops_a_strict_environment(plain: App) -> None:
    override = {"stack_overlay_override": {"services": {"db": {"ports": [f"{DB_PORT}:8080"]}}}}
    ledger, images = plain.lab.ledger_text("prod"), plain.lab.running_images("prod")
    stopped = plain.deploy("prod", SECOND, **override)
    assert stopped.rc != 0, stopped
    assert re.search(rf"db: ports\.published - port {DB_PORT}\b", stopped.output), stopped
    assert plain.lab.ledger_text("prod") == ledger and plain.lab.running_images("prod") == images
    assert plain.lab.ask("prod")["version"] == SECOND


PROBE = textwrap.dedent(
    """
    import socket, sys
    for port in sys.argv[2:]:
        try:
            socket.create_connection((sys.argv[1], int(port)), timeout=3).close()
            print(port, "open")
        except ConnectionRefusedError:
            print(port, "refused")
        except OSError as error:
            print(port, "closed", type(error).__name__)
    """
)


def connect(plain: App, source: str, address: str, *ports: int) -> dict[int, str]:
    """From the lab host at SOURCE: whether a TCP connection to each port of ADDRESS opens, is refused or fails."""
    lab = plain.lab
    remote = shlex.join(["python3", "-c", PROBE, address, *map(str, ports)])
    argv = ["ssh", "-o", "BatchMode=yes", *(["-i", lab.key] if lab.key else []), *lab.ssh_args,
            f"{lab.user}@{source}", remote]
    done = run(argv, timeout=120)
    assert done.rc == 0, done
    return {int(words[0]): words[1] for words in (line.split() for line in done.stdout.splitlines())}


def registry_address(lab: Lab) -> tuple[str, int]:
    described = run([tool("ansible"), "-i", str(lab.inventory), "swarm_managers[0]", "-m", "ansible.builtin.debug",
                     "-a", "var=drover_registry"], timeout=300)
    # The controller's stdout callback may print JSON ("drover_registry": "h:p") or YAML (drover_registry: h:p).
    found = re.search(r'"?drover_registry"?:\s*"?([^"\s:]+):(\d+)"?', described.stdout)
    assert found, described
    return found.group(1), int(found.group(2))


def test_the_firewall_refuses_a_published_port_it_does_not_allow(plain: App) -> None:
    lab = plain.lab
    node = lab.ssh("docker", "service", "ps", "--filter", "desired-state=running", "--format", "{{.Node}}",
                   f"{lab.stack('dev')}_db").stdout.split()[0]
    address = plain.node_address(node)
    assert address != lab.address, "the db runs on the manager: the check must come from another host"
    # From the node itself (not forwarded) both answer: the ports are published, only the forward chain keeps one in.
    assert connect(plain, address, address, STATUS_PORT, DB_PORT) == {STATUS_PORT: "open", DB_PORT: "open"}
    assert connect(plain, lab.address, address, STATUS_PORT, DB_PORT) == {STATUS_PORT: "open", DB_PORT: "refused"}
    # The edge and the registry, from the db's host.
    assert connect(plain, address, lab.edge, 443) == {443: "open"}
    host, port = registry_address(lab)
    assert connect(plain, address, host, port) == {port: "open"}


def test_a_routed_service_without_a_task_answers_503(plain: App) -> None:
    web = f"{plain.lab.stack('dev')}_web"
    plain.lab.ssh("docker", "service", "scale", "--detach", f"{web}=0")
    try:
        answer = ""
        for _attempt in range(30):
            once = run(plain.lab.load_argv("dev", "--once"), timeout=60)
            answer = once.stderr
            if "HTTP 503" in answer:
                break
            time.sleep(1)
        assert "HTTP 503" in answer, answer
    finally:
        plain.lab.ssh("docker", "service", "scale", f"{web}=1")
    for _attempt in range(30):
        try:
            assert plain.lab.ask("dev")["version"] == SECOND
            return
        except LabError:
            time.sleep(1)
    raise AssertionError(f"{web} does not answer again after scaling back to 1")
