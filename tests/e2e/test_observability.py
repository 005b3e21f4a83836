# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Metrics, alerts and central logs on a converged lab, checked as an operator would.

Everything is asked of the running services on the monitoring host (the first manager): Prometheus'
API, Alertmanager's, the central journal (journalctl on systemd-journal-remote's folder). The stacks
the tests deploy are their own (named e2e-*), from the image of the app's web service, and removed at the end.

The stop-a-host test is marked observability_host_down (about 4 minutes, it stops and starts a lab
host's container); the rest runs unmarked on the shared lab, overlapping their waits.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .constants import DEPLOY_PLAYBOOK
from .lab import Lab, LabError, extra_vars, run, tool

PROMETHEUS = "http://localhost:9090"
ALERTMANAGER = "http://localhost:9093"
TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"
CENTRAL_JOURNAL = "/var/log/journal/remote"
WEBHOOK_PORT = 9099
WEBHOOK_FILE = "/var/tmp/drover-e2e-webhook.jsonl"
METRICS_STACK = "e2e-metrics"
METRICS_PORT = 9188
REPLICAS_STACK = "e2e-replicas"
BREAK_HEALTH = {"stack_overlay_override": {"services": {"web": {"environment": {"DEMO_BREAK_HEALTH": "1"}}}}}

# A service that serves a metrics file and logs each request (python's http.server, on stderr), from
# the image of the app's own web service: every converged lab has it in its registry, with python3.
METRICS_COMPOSE = """
version: "3.8"
services:
  app:
    image: {image}
    command:
      - sh
      - -c
      - mkdir -p /tmp/m && echo drover_e2e_up 1 > /tmp/m/metrics && cd /tmp/m && exec python3 -u -m http.server {port}
    stop_grace_period: 5s
    ports: [{{target: {port}, published: {port}, protocol: tcp, mode: host}}]
    deploy:
      replicas: 1
      endpoint_mode: dnsrr
      labels: {{io.drover.metrics.port: "{port}", io.drover.environment: e2e}}
      placement: {{constraints: [node.role == manager]}}
"""
# Two replicas that only one node may hold: one of two runs, for as long as the stack does.
REPLICAS_COMPOSE = """
version: "3.8"
services:
  app:
    image: {image}
    command: [sleep, infinity]
    deploy:
      replicas: 2
      endpoint_mode: dnsrr
      placement: {{constraints: [node.role == manager], max_replicas_per_node: 1}}
"""
# The test receiver: every POST body, one JSON document a line.
WEBHOOK_SERVER = f"""
import http.server
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open({WEBHOOK_FILE!r}, "ab") as out:
            out.write(body.replace(b"\\n", b" ") + b"\\n")
        self.send_response(200)
        self.end_headers()
http.server.HTTPServer(("127.0.0.1", {WEBHOOK_PORT}), Hook).serve_forever()
"""


def until(what: str, check: Callable[[], Any], timeout: float, every: float = 3.0) -> tuple[Any, float]:
    """CHECK's first true answer and the seconds it took; LabError naming WHAT after TIMEOUT seconds."""
    began = time.monotonic()
    while True:
        answer = check()
        if answer:
            return answer, round(time.monotonic() - began, 1)
        if time.monotonic() - began > timeout:
            raise LabError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)


def api(lab: Lab, url: str, **params: str) -> Any:
    argv = ["curl", "-sf", "-G", url]
    for key, value in params.items():
        argv += ["--data-urlencode", f"{key}={value}"]
    return json.loads(lab.ssh(*argv).stdout)


def query(lab: Lab, promql: str) -> list[dict[str, Any]]:
    return api(lab, f"{PROMETHEUS}/api/v1/query", query=promql)["data"]["result"]


def firing(lab: Lab, alertname: str, **labels: str) -> list[dict[str, Any]]:
    """The alerts of that name and labels Prometheus has firing."""
    alerts = api(lab, f"{PROMETHEUS}/api/v1/alerts")["data"]["alerts"]
    return [alert for alert in alerts if alert["labels"].get("alertname") == alertname and alert["state"] == "firing"
            and all(alert["labels"].get(key) == value for key, value in labels.items())]


_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def seconds_of(duration: str) -> float:
    """A Prometheus duration (1w2d, 90m, 15d) in seconds."""
    parts = re.findall(r"(\d+)(ms|[smhdwy])", duration)
    if not parts or "".join(n + u for n, u in parts) != duration:
        raise ValueError(f"not a Prometheus duration: {duration!r}")
    return sum(int(number) * _UNITS[unit] for number, unit in parts)


def bytes_of(size: str) -> int:
    """A Prometheus size (1GB, which it prints back as 1GiB: its units are powers of 1024) in bytes."""
    match = re.fullmatch(r"(\d+)([KMGTPE]?)(i?B)", size)
    if not match:
        raise ValueError(f"not a Prometheus size: {size!r}")
    return int(match.group(1)) * 1024 ** "_KMGTPE".index(match.group(2) or "_")


def put_file(lab: Lab, path: str, text: str) -> None:
    lab.ssh("sh", "-c", f"printf '%s' {shlex.quote(text)} > {shlex.quote(path)}")


def inventory_value(lab: Lab, host: str, expression: str) -> Any:
    """A value as Ansible templates it for HOST from the lab's inventory."""
    done = run([tool("ansible"), "-i", str(lab.inventory), host, "-m", "ansible.builtin.debug", "-a",
                "msg={{ " + expression + " | to_json }}"], timeout=300, ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    head, _arrow, body = done.stdout.partition("=>")
    if done.rc != 0 or "SUCCESS" not in head:
        raise LabError(f"the inventory does not give {expression} for {host}: {done}")
    message = json.loads(body)["msg"]
    return json.loads(message) if isinstance(message, str) else message


@pytest.fixture(scope="module")
def app_image(lab: Lab) -> str:
    """The dev web service's image, pinned by digest in the lab's registry (every node can pull it)."""
    service = f"{lab.stack('dev')}_web"
    image = lab.ssh("docker", "service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}",
                    service).stdout.strip()
    if not image:
        raise LabError(f"{lab.manager}: {service} names no image")
    return image


@pytest.fixture(scope="module")
def e2e_stacks(lab: Lab, app_image: str) -> Iterator[float]:
    """The tests' two stacks, deployed once for the module (their waits overlap); when that began."""
    began = time.monotonic()
    for name, compose in ((METRICS_STACK, METRICS_COMPOSE), (REPLICAS_STACK, REPLICAS_COMPOSE)):
        put_file(lab, f"/tmp/{name}.yml", compose.format(image=app_image, port=METRICS_PORT))
        lab.ssh("docker", "stack", "deploy", "--prune", "-c", f"/tmp/{name}.yml", name)
    try:
        yield began
    finally:
        for name in (METRICS_STACK, REPLICAS_STACK):
            lab.ssh("docker", "stack", "rm", name, check=False)


def test_a_new_stack_with_scrape_labels_is_a_target_within_2_minutes(lab: Lab, e2e_stacks: float) -> None:
    def target() -> list[dict[str, Any]]:
        targets = api(lab, f"{PROMETHEUS}/api/v1/targets", state="active")["data"]["activeTargets"]
        return [t for t in targets if t["labels"].get("stack") == METRICS_STACK and t["health"] == "up"]

    left = 120 - (time.monotonic() - e2e_stacks)
    seconds = until("the new stack as an up target of Prometheus", target, timeout=left)[1]
    series = query(lab, f'drover_e2e_up{{stack="{METRICS_STACK}"}}')
    assert series, "the new stack's own metric is not in Prometheus"
    labels = series[0]["metric"]
    assert labels["service"] == f"{METRICS_STACK}_app"
    assert labels["environment"] == "e2e"
    assert labels["node"] == lab.manager, labels
    print(f"target up {seconds} s after the check began ({time.monotonic() - e2e_stacks:.0f} s after the deploy)")


def test_every_swarm_node_is_scraped_with_its_name(lab: Lab) -> None:
    nodes = set(lab.ssh("docker", "node", "ls", "--format", "{{.Hostname}}").stdout.split())

    def scraped() -> set[str]:
        # Series without a node are Debian's packaged configuration's, scraped until the role's
        # replaced it; they go stale within 5 minutes of a cold converge.
        return {s["metric"]["node"] for s in query(lab, 'up{job="node"} == 1') if "node" in s["metric"]}

    until("every swarm node's node-exporter up", lambda: nodes <= scraped(), timeout=60)
    engines = {s["metric"].get("node") for s in query(lab, 'up{job="engine"} == 1')}
    assert nodes <= engines, f"engines not scraped: {nodes - engines}"
    environment = inventory_value(lab, lab.manager, "drover_env")
    assert {s["metric"].get("environment") for s in query(lab, 'node_uname_info{node!=""}')} == {environment}


def test_traefik_metrics_are_scraped(lab: Lab) -> None:
    edge = 'traefik_config_last_reload_success{service="edge_traefik"}'
    series = until("Traefik's metrics", lambda: query(lab, edge), timeout=60)[0]
    assert series[0]["metric"]["stack"] == "edge"


def test_a_service_below_its_replicas_raises_its_alert(lab: Lab, e2e_stacks: float) -> None:
    # The rule's for (the lab inventory's 30 s; 2 min by default), the counter's 15 s, a scrape, an evaluation.
    service = f"{REPLICAS_STACK}_app"
    seconds = until("ServiceBelowReplicas", lambda: firing(lab, "ServiceBelowReplicas", service=service),
                    timeout=240 - (time.monotonic() - e2e_stacks), every=5)[1]
    print(f"ServiceBelowReplicas firing {time.monotonic() - e2e_stacks:.0f} s after the deploy"
          f" ({seconds} s after this test began)")


def test_a_failed_deploy_raises_its_alert(lab: Lab) -> None:
    stack = lab.stack("dev")
    report = f"{TEXTFILE_DIR}/drover_release_{stack}.prom"
    before = lab.ssh("cat", report, check=False)
    try:
        failed = lab.playbook(DEPLOY_PLAYBOOK, *extra_vars(env="dev", stack_timeout=60, **BREAK_HEALTH))
        assert failed.rc != 0, f"a deploy whose healthcheck fails succeeded: {failed}"
        metric = lab.ssh("cat", report).stdout
        assert re.search(rf'^drover_deploy_success\{{stack="{stack}",.*\}} 0$', metric, re.M), metric
        seconds = until("DeployFailed", lambda: firing(lab, "DeployFailed", stack=stack), timeout=90)[1]
        print(f"DeployFailed firing {seconds} s after the failed deploy")
    finally:
        if before.rc == 0:
            put_file(lab, report, before.stdout)
        else:
            lab.ssh("rm", "-f", report)


def request_marker(lab: Lab, environment: str) -> str:
    marker = f"e2e-{uuid.uuid4().hex[:12]}"
    domain = lab.domains[environment]
    lab.ssh("curl", "-skf", "-o", "/dev/null", "--resolve", f"{domain}:443:{lab.edge}", f"https://{domain}/?mark={marker}")
    return marker


def central_lines(lab: Lab, *matches: str) -> str:
    return lab.ssh("journalctl", "-D", CENTRAL_JOURNAL, "--since", "-10min", "-o", "cat", *matches, check=False).stdout


def test_a_request_is_found_in_the_central_logs_by_service_and_environment(lab: Lab) -> None:
    stack = lab.stack("dev")
    marker = request_marker(lab, "dev")
    seconds = until(
        "the request's line in the central journal",
        lambda: marker in central_lines(lab, f"COM_DOCKER_STACK_NAMESPACE={stack}",
                                        f"COM_DOCKER_SWARM_SERVICE_NAME={stack}_web"),
        timeout=30, every=2)[1]
    print(f"found centrally after {seconds} s")


def test_with_the_log_store_stopped_an_app_stops_within_its_grace_period(lab: Lab, e2e_stacks: float) -> None:
    receiver = ["systemd-journal-remote.socket", "systemd-journal-remote.service"]

    def containers() -> list[str]:
        listed = lab.ssh("docker", "ps", "-q", "--filter", f"label=com.docker.stack.namespace={METRICS_STACK}")
        return listed.stdout.split()

    container = until("the metrics stack's container", containers, timeout=120)[0][0]
    lab.ssh("systemctl", "stop", *receiver)
    try:
        # The app goes on answering and logging while the store is away.
        marker = f"e2e-{uuid.uuid4().hex[:12]}"
        lab.ssh("curl", "-sf", "-o", "/dev/null", f"http://localhost:{METRICS_PORT}/metrics?mark={marker}")
        began = time.monotonic()
        lab.ssh("timeout", "60", "docker", "stop", "-t", "5", container)
        stopped = time.monotonic() - began
        assert stopped < 5 + 5, f"docker stop took {stopped:.1f} s with the log store stopped (grace period 5 s)"
        print(f"docker stop took {stopped:.1f} s with the log store stopped")
    finally:
        lab.ssh("systemctl", "start", *receiver)
    # What was logged meanwhile arrives once the store is back.
    until("the line logged while the store was away, centrally",
          lambda: marker in central_lines(lab, f"COM_DOCKER_STACK_NAMESPACE={METRICS_STACK}"), timeout=90, every=3)


def test_retention_read_back_from_the_running_services_matches_the_inventory(lab: Lab) -> None:
    wanted = inventory_value(lab, lab.manager, "{'time': monitoring_retention_time, 'size': monitoring_retention_size,"
                             " 'alerts': monitoring_alertmanager_retention,"
                             " 'logs_time': monitoring_logs_retention_time,"
                             " 'logs_size': monitoring_logs_max_use}")
    flags = api(lab, f"{PROMETHEUS}/api/v1/status/flags")["data"]
    # Prometheus prints them back in its own units (7d as 1w, 1GB as 1GiB): compared as numbers.
    assert seconds_of(flags["storage.tsdb.retention.time"]) == seconds_of(wanted["time"]), flags
    assert bytes_of(flags["storage.tsdb.retention.size"]) == bytes_of(wanted["size"]), flags
    # (runtimeinfo's storageRetention says the same, normalised: 7d or 1GB as "1w or 1GiB".)
    pid = lab.ssh("systemctl", "show", "-P", "MainPID", "prometheus-alertmanager").stdout.strip()
    argv = lab.ssh("cat", f"/proc/{pid}/cmdline").stdout.split("\0")
    assert f"--data.retention={wanted['alerts']}" in argv, argv
    # The central journal's retention is the vacuum its timer runs: the command systemd has loaded, the timer on.
    command = lab.ssh("systemctl", "show", "-P", "ExecStart", "drover-logs-retention.service").stdout
    assert f"--vacuum-time={wanted['logs_time']}" in command and f"--vacuum-size={wanted['logs_size']}" in command
    assert lab.ssh("systemctl", "is-active", "drover-logs-retention.timer").stdout.strip() == "active"
    done = lab.ssh("systemctl", "start", "drover-logs-retention.service", check=False)
    assert done.rc == 0, f"the central journal's retention does not run: {done}"


class Webhook:
    """The test receiver on the monitoring host, at the URL the lab inventory gives Alertmanager."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab

    def start(self) -> None:
        self.lab.ssh("rm", "-f", WEBHOOK_FILE)
        self.lab.ssh("systemd-run", "--unit=drover-e2e-webhook", "--collect", "python3", "-c", WEBHOOK_SERVER)

    def stop(self) -> None:
        self.lab.ssh("systemctl", "stop", "drover-e2e-webhook", check=False)

    def alerts(self, alertname: str, status: str, **labels: str) -> list[dict[str, Any]]:
        text = self.lab.ssh("cat", WEBHOOK_FILE, check=False).stdout
        found = []
        for line in text.splitlines():
            for alert in json.loads(line).get("alerts", []):
                if alert["labels"].get("alertname") == alertname and alert["status"] == status and all(
                        alert["labels"].get(k) == v for k, v in labels.items()):
                    found.append(alert)
        return found


@pytest.mark.observability_host_down
def test_a_stopped_host_alerts_the_webhook_within_3_minutes_and_resolves(lab: Lab) -> None:
    network = inventory_value(lab, "localhost", "lab_network_name")
    workers = lab.ssh("docker", "node", "ls", "--filter", "role=worker", "--format", "{{.Hostname}}").stdout.split()
    assert workers, "the lab has no worker to stop"
    host = workers[0]
    webhook = Webhook(lab)
    webhook.start()
    try:
        subprocess.run(["docker", "stop", "-t", "5", f"{network}-{host}"], check=True, capture_output=True)
        began = time.monotonic()
        try:
            until("HostDown at the webhook", lambda: webhook.alerts("HostDown", "firing", node=host),
                  timeout=180, every=5)
            print(f"HostDown reached the webhook after {time.monotonic() - began:.0f} s")
        finally:
            subprocess.run(["docker", "start", f"{network}-{host}"], check=True, capture_output=True)
        began = time.monotonic()
        until("HostDown resolved at the webhook", lambda: webhook.alerts("HostDown", "resolved", node=host),
              timeout=300, every=5)
        print(f"HostDown resolved at the webhook {time.monotonic() - began:.0f} s after the start")
    finally:
        webhook.stop()
