# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app model -> Kubernetes manifests and their conversion report.

Expected values are written by hand from the Kubernetes API (apps/v1,
batch/v1, networking.k8s.io/v1, core/v1: probes, lifecycle hooks, rolling
update parameters, quantities) and Docker's healthcheck and stop defaults,
not from this code's output. Schema validity is tested in test_k8s_schemas.
"""

from __future__ import annotations

import base64
import json
import textwrap
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.task import Task

from ansible_collections.drover.platform.plugins.action.app_render import ActionModule
from ansible_collections.drover.platform.plugins.action.app_render import render as action_render
from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    Healthcheck,
    ImagePolicyError,
    must_stop,
)
from ansible_collections.drover.platform.plugins.module_utils._compose_loader import load_app
from ansible_collections.drover.platform.plugins.module_utils._render_frame import RenderError
from ansible_collections.drover.platform.plugins.module_utils._render_k8s import KubernetesManifests, render_kubernetes
from ansible_collections.drover.platform.plugins.module_utils._render_k8s_plan import (
    KubernetesOptions,
    content_name,
    cpu_quantity,
    dns_name,
    is_qualified_name,
    label_value,
    memory_quantity,
)
from ansible_collections.drover.platform.plugins.module_utils._render_k8s_pod import probes

from .conftest import app_and_db, load_written, with_app_overlay

REALISTIC = Path(__file__).resolve().parents[2] / "fixtures" / "render" / "realistic"
DIGEST = "sha256:" + "4c" * 32
SECRET = "pr0d-Pa$$word-from-vault"


def render(
    tmp_path: Path,
    compose: str,
    overlay: dict[str, Any] | None = None,
    files: dict[str, str] | None = None,
    **options: Any,
) -> KubernetesManifests:
    compose = textwrap.dedent(compose)
    # The app's name, for the labels; without it the app takes the folder's name.
    if not compose.startswith("name:"):
        compose = "name: shop\n" + compose
    app = load_written(tmp_path, compose, overlay, dict(files or {}))
    return render_kubernetes(app, KubernetesOptions(**{"instance": "shop-dev", **options}))


def render_app(
    tmp_path: Path, service: str, overlay_service: dict[str, Any] | None = None, **options: Any
) -> KubernetesManifests:
    """An app of `app` (its Compose lines given) and a plain `db`."""
    compose = app_and_db(service, "volumes:\n  data:\n  shared:\n")
    return render(tmp_path, compose, with_app_overlay(options.pop("overlay", {}), overlay_service), **options)


def keys(result: KubernetesManifests) -> list[tuple[str | None, str, bool]]:
    return [(item.service, item.key, item.allowed) for item in result.report]


def workload(result: KubernetesManifests, service: str = "app") -> dict[str, Any]:
    for item in result.workloads:
        if item.service == service:
            return result.find(item.kind, item.name)
    raise KeyError(service)


def pod(result: KubernetesManifests, service: str = "app") -> dict[str, Any]:
    return workload(result, service)["spec"]["template"]["spec"]


def container(result: KubernetesManifests, service: str = "app") -> dict[str, Any]:
    return pod(result, service)["containers"][0]


def labels(name: str, version: str | None = None, instance: str = "shop-dev", environment: str = "dev") -> dict:
    rendered = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": instance,
        "app.kubernetes.io/part-of": "shop",
    }
    if version:
        rendered["app.kubernetes.io/version"] = version
    rendered["app.kubernetes.io/managed-by"] = "drover"
    rendered["drover.platform/environment"] = environment
    return rendered


# --- small pieces ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("web", "web"),
        ("Web_Front", "web-front"),
        ("web.front", "web-front"),
        ("--api--", "api"),
        ("1st", "x-1st"),
        ("_", "x"),
    ],
)
def test_dns_name(text: str, name: str) -> None:
    assert dns_name(text) == name


def test_long_names_are_cut_and_stay_apart() -> None:
    first, second = dns_name("a" * 70 + "1", 52), dns_name("a" * 70 + "2", 52)
    assert len(first) == len(second) == 52
    assert first != second
    assert first.startswith("a" * 43 + "-")


@pytest.mark.parametrize(
    ("text", "value"),
    [("1.4.0", "1.4.0"), ("v2+build.7", "v2-build.7"), ("-dev-", "dev"), ("x" * 70, "x" * 63), ("", "")],
)
def test_label_value(text: str, value: str) -> None:
    assert label_value(text) == value


@pytest.mark.parametrize(
    ("key", "valid"),
    [
        ("app.kubernetes.io/name", True),
        ("io.shop.tier", True),
        ("team", True),
        ("Bad Key", False),
        ("UPPER.example/x", False),
        ("a/b/c", False),
        ("x" * 64, False),
    ],
)
def test_is_qualified_name(key: str, valid: bool) -> None:
    assert is_qualified_name(key) is valid


@pytest.mark.parametrize(
    ("cpus", "quantity"), [("0.5", "500m"), ("1.0", "1"), ("2", "2"), ("0.25", "250m"), (".1", "100m")]
)
def test_cpu_quantity(cpus: str, quantity: str) -> None:
    assert cpu_quantity(cpus) == quantity


@pytest.mark.parametrize(
    ("memory", "quantity"),
    [("128M", "128Mi"), ("1g", "1Gi"), ("1536m", "1536Mi"), ("512k", "512Ki"), ("1000", "1000"), ("2G", "2Gi")],
)
def test_memory_quantity(memory: str, quantity: str) -> None:
    assert memory_quantity(memory, "x") == quantity


def exec_probe(command: list[str], period: int, timeout: int, threshold: int, **extra: int) -> dict[str, Any]:
    return {
        "exec": {"command": command},
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "failureThreshold": threshold,
        **extra,
    }


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        pytest.param(None, {}, id="none"),
        pytest.param(Healthcheck(["NONE"], disabled=True), {}, id="disabled"),
        pytest.param(Healthcheck(interval=5.0), {}, id="no-test"),
        pytest.param(
            Healthcheck(["CMD", "curl", "-f", "http://localhost/"]),
            {
                # Docker's defaults: 30s interval, 30s timeout, 3 retries.
                "livenessProbe": exec_probe(["curl", "-f", "http://localhost/"], 30, 30, 3),
                "readinessProbe": exec_probe(["curl", "-f", "http://localhost/"], 30, 30, 3, successThreshold=1),
            },
            id="cmd-docker-defaults",
        ),
        pytest.param(
            Healthcheck(["CMD-SHELL", "pg_isready -U ${POSTGRES_USER}"], interval=5.0, timeout=0.5, retries=5),
            {
                "livenessProbe": exec_probe(["/bin/sh", "-c", "pg_isready -U ${POSTGRES_USER}"], 5, 1, 5),
                "readinessProbe": exec_probe(
                    ["/bin/sh", "-c", "pg_isready -U ${POSTGRES_USER}"], 5, 1, 5, successThreshold=1
                ),
            },
            id="cmd-shell-timeout-rounded-up",
        ),
        pytest.param(
            Healthcheck(["CMD", "true"], interval=10.0, timeout=2.0, retries=3, start_period=20.0),
            {
                "livenessProbe": exec_probe(["true"], 10, 2, 3),
                "readinessProbe": exec_probe(["true"], 10, 2, 3, successThreshold=1),
                # 20s + 10s x 3 = 50s, every 5s (Docker's start interval): 10 tries.
                "startupProbe": exec_probe(["true"], 5, 2, 10),
            },
            id="start-period",
        ),
        pytest.param(
            Healthcheck(["CMD", "true"], interval=10.0, retries=2, start_period=30.0, start_interval=2.0),
            {
                "livenessProbe": exec_probe(["true"], 10, 30, 2),
                "readinessProbe": exec_probe(["true"], 10, 30, 2, successThreshold=1),
                # 30s + 10s x 2 = 50s, every 2s: 25 tries.
                "startupProbe": exec_probe(["true"], 2, 30, 25),
            },
            id="start-interval",
        ),
        pytest.param(
            Healthcheck(["CMD", "true"], retries=0),
            {
                "livenessProbe": exec_probe(["true"], 30, 30, 3),
                "readinessProbe": exec_probe(["true"], 30, 30, 3, successThreshold=1),
            },
            id="retries-0-is-docker-default",
        ),
    ],
)
def test_probes(check: Healthcheck | None, expected: dict[str, Any]) -> None:
    assert probes(check) == expected


def test_probes_do_not_share_objects() -> None:
    rendered = probes(Healthcheck(["CMD", "true"], start_period=5.0))
    rendered["livenessProbe"]["exec"]["command"].append("x")
    assert rendered["readinessProbe"]["exec"]["command"] == ["true"]
    assert rendered["startupProbe"]["exec"]["command"] == ["true"]


# --- a plain app, whole ----------------------------------------------------------------------

POD_DEFAULTS = {"terminationGracePeriodSeconds": 10, "enableServiceLinks": False, "automountServiceAccountToken": False}


def deployment(name: str, version: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop-dev", "labels": labels(name, version)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": "shop-dev"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {"metadata": {"labels": labels(name, version)}, "spec": spec},
        },
    }


def test_a_plain_app(tmp_path: Path) -> None:
    result = render(tmp_path, "name: shop\nservices:\n  web: {image: web:1.2, expose: [8000]}\n  db: {image: db:16}\n")
    assert result.namespace == "shop-dev"
    assert result.report == []
    assert result.images == {"web": "web:1.2", "db": "db:16"}
    assert result.manifests == [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "shop-dev", "labels": labels("shop")},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop-dev", "labels": labels("web", "1.2")},
            "spec": {
                "selector": {"app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "shop-dev"},
                "type": "ClusterIP",
                "ports": [{"name": "tcp-8000", "port": 8000, "targetPort": 8000, "protocol": "TCP"}],
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "db", "namespace": "shop-dev", "labels": labels("db", "16")},
            # No ports: headless, so that db resolves to the pods and every port answers, as on a Compose network.
            "spec": {
                "selector": {"app.kubernetes.io/name": "db", "app.kubernetes.io/instance": "shop-dev"},
                "clusterIP": "None",
            },
        },
        deployment(
            "web",
            "1.2",
            {
                "containers": [
                    {
                        "name": "web",
                        "image": "web:1.2",
                        "ports": [{"name": "tcp-8000", "containerPort": 8000, "protocol": "TCP"}],
                        "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
                    }
                ],
                # Compose's 10s stop grace period after the 5s drain.
                **POD_DEFAULTS,
                "terminationGracePeriodSeconds": 15,
            },
        ),
        deployment("db", "16", {"containers": [{"name": "db", "image": "db:16"}], **POD_DEFAULTS}),
    ]
    assert [(w.service, w.kind, w.name, w.service_name) for w in result.workloads] == [
        ("web", "Deployment", "web", "web"),
        ("db", "Deployment", "db", "db"),
    ]


def test_a_service_in_full(tmp_path: Path) -> None:
    result = render(
        tmp_path,
        """\
        services:
          app:
            image: app:1
            command: ./serve --port 8000
            entrypoint: [/sbin/tini, --]
            environment: {MODE: serve, PRICE: "5$$", TEMPLATE: "$$(HOME)"}
            labels: {io.shop.team: payments}
            user: "1000:2000"
            working_dir: /srv
            stop_grace_period: 1m30s
            ports: ["8000"]
            deploy:
              replicas: 3
              labels: {io.shop.tier: backend}
              resources: {limits: {cpus: "0.5", memory: 128M}, reservations: {cpus: "0.1", memory: 64M}}
        """,
        version="2.0.1",
    )
    assert result.report == []
    rendered = workload(result)
    assert rendered["metadata"]["annotations"] == {"io.shop.tier": "backend"}
    assert rendered["metadata"]["labels"] == labels("app", "2.0.1")
    assert rendered["spec"]["replicas"] == 3
    template = rendered["spec"]["template"]
    assert template["metadata"] == {"labels": labels("app", "2.0.1"), "annotations": {"io.shop.team": "payments"}}
    assert template["spec"]["containers"] == [
        {
            "name": "app",
            "image": "app:1",
            "command": ["/sbin/tini", "--"],
            "args": ["./serve", "--port", "8000"],
            "workingDir": "/srv",
            # Kubernetes reads $$ as $: every $ is doubled so that $(HOME) stays as written.
            "env": [
                {"name": "MODE", "value": "serve"},
                {"name": "PRICE", "value": "5$$"},
                {"name": "TEMPLATE", "value": "$$(HOME)"},
            ],
            "ports": [{"name": "tcp-8000", "containerPort": 8000, "protocol": "TCP"}],
            "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "100m", "memory": "64Mi"}},
            "lifecycle": {"preStop": {"exec": {"command": ["sleep", "5"]}}},
            "securityContext": {"runAsUser": 1000, "runAsGroup": 2000},
        }
    ]
    # 90s after SIGTERM, plus the 5s drain before it.
    assert template["spec"]["terminationGracePeriodSeconds"] == 95


def test_command_dollars_survive_expansion(tmp_path: Path) -> None:
    result = render_app(tmp_path, 'image: a:1\ncommand: [sh, -c, "echo $$HOME $$(date)"]\n')
    assert container(result)["args"] == ["sh", "-c", "echo $$HOME $$(date)"]


def test_apply_order(tmp_path: Path) -> None:
    result = render(
        tmp_path,
        """\
        services:
          web: {image: w:1, expose: [80], configs: [site], secrets: [token], volumes: [uploads:/u]}
          worker: {image: w:1, volumes: [uploads:/u], deploy: {mode: replicated-job}}
          db: {image: d:1, volumes: [data:/d]}
        volumes: {data: {}, uploads: {}}
        configs: {site: {content: "a"}}
        secrets: {token: {content: "t"}}
        """,
        {"services": {"web": {"domain": "shop.example.com"}}},
        allow=("volumes.shared",),
    )
    assert [(m["kind"], m["metadata"]["name"]) for m in result.manifests] == [
        ("Namespace", "shop-dev"),
        ("ConfigMap", content_name("site", "a")),
        ("Secret", content_name("token", "t")),
        ("PersistentVolumeClaim", "uploads"),
        ("Service", "web"),
        ("Service", "worker"),
        ("Service", "db"),
        ("Deployment", "web"),
        ("Job", result.workloads[1].name),
        ("StatefulSet", "db"),
        ("Ingress", "web"),
    ]
    assert all(m["metadata"]["namespace"] == "shop-dev" for m in result.manifests[1:])


# --- which workload ----------------------------------------------------------------------------


# the app service's Compose lines, expected kind, expected spec items (besides template), report keys
@pytest.mark.parametrize(
    ("lines", "kind", "spec", "report"),
    [
        pytest.param("image: a:1", "Deployment", {"replicas": 1}, [], id="deployment"),
        pytest.param("image: a:1\nscale: 3", "Deployment", {"replicas": 3}, [], id="scale"),
        pytest.param(
            "image: a:1\nvolumes: [data:/data]",
            "StatefulSet",
            {"serviceName": "app", "replicas": 1, "updateStrategy": {"type": "RollingUpdate"}},
            [],
            id="writes-its-own-volume",
        ),
        pytest.param(
            "image: a:1\nvolumes: [data:/data]\ndeploy: {replicas: 2}",
            "StatefulSet",
            {"serviceName": "app", "replicas": 2, "updateStrategy": {"type": "RollingUpdate"}},
            [],
            id="one-claim-per-replica",
        ),
        pytest.param("image: a:1\nvolumes: ['data:/data:ro']", "Deployment", {"replicas": 1}, [], id="reads-a-volume"),
        pytest.param(
            "image: a:1\ndeploy: {mode: global}",
            "DaemonSet",
            {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}},
            [],
            id="global",
        ),
        pytest.param(
            "image: a:1\ndeploy: {mode: global}\nvolumes: [data:/data]",
            "DaemonSet",
            {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}},
            ["volumes.shared"],
            id="global-writing-a-volume",
        ),
        pytest.param(
            "image: a:1\ndeploy: {mode: replicated-job}",
            "Job",
            {"completions": 1, "parallelism": 1, "backoffLimit": 3},
            [],
            id="job",
        ),
        pytest.param(
            "image: a:1\ndeploy: {mode: replicated-job, replicas: 4, restart_policy: {max_attempts: 1}}",
            "Job",
            {"completions": 4, "parallelism": 4, "backoffLimit": 1},
            [],
            id="job-replicas-attempts",
        ),
        pytest.param(
            "image: a:1\ndeploy: {mode: replicated-job, restart_policy: {condition: none}}",
            "Job",
            {"completions": 1, "parallelism": 1, "backoffLimit": 0},
            [],
            id="job-never-retried",
        ),
        pytest.param(
            'image: a:1\nrestart: "no"',
            "Deployment",
            {"replicas": 1},
            ["deploy.restart_policy.condition"],
            id="restart-no-is-not-a-job",
        ),
    ],
)
def test_workload_kind(tmp_path: Path, lines: str, kind: str, spec: dict[str, Any], report: list[str]) -> None:
    result = render_app(tmp_path, lines + "\n")
    rendered = workload(result)
    assert rendered["kind"] == kind
    assert {key: rendered["spec"][key] for key in spec} == spec
    assert [key for _service, key, _allowed in keys(result)] == report
    assert workload(result, "db")["kind"] == "Deployment"


def test_a_statefulset_claims_per_replica(tmp_path: Path) -> None:
    result = render_app(tmp_path, "image: a:1\nvolumes: [data:/data, 'shared:/s:ro']\n", storage_class="fast")
    spec = workload(result)["spec"]
    assert spec["volumeClaimTemplates"] == [
        {
            "metadata": {"name": "data", "labels": labels("app")},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
                "storageClassName": "fast",
            },
        }
    ]
    assert spec["template"]["spec"]["containers"][0]["volumeMounts"] == [
        {"name": "data", "mountPath": "/data"},
        {"name": "shared", "mountPath": "/s", "readOnly": True},
    ]
    # The volume it only reads is a claim of its own, mounted by name.
    assert spec["template"]["spec"]["volumes"] == [{"name": "shared", "persistentVolumeClaim": {"claimName": "shared"}}]
    assert [m["metadata"]["name"] for m in result.of_kind("PersistentVolumeClaim")] == ["shared"]


def test_a_volume_shared_by_services(tmp_path: Path) -> None:
    compose = """\
    services:
      web: {image: w:1, volumes: ['uploads:/u:ro']}
      worker: {image: w:1, volumes: [uploads:/u]}
    volumes:
      uploads: {labels: {io.shop.backup: daily}}
    """
    result = render(tmp_path, compose, volume_sizes={"uploads": "5Gi"})
    assert [workload(result, name)["kind"] for name in ("web", "worker")] == ["Deployment", "Deployment"]
    assert result.of_kind("PersistentVolumeClaim") == [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {
                "name": "uploads",
                "namespace": "shop-dev",
                "labels": labels("shop"),
                "annotations": {"io.shop.backup": "daily"},
            },
            "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "5Gi"}}},
        }
    ]
    assert keys(result) == [("web", "volumes.shared", False), ("worker", "volumes.shared", False)]


def test_an_external_volume_is_claimed_by_name(tmp_path: Path) -> None:
    compose = (
        "services:\n  app: {image: a:1, volumes: [data:/d]}\nvolumes:\n  data: {external: true, name: shop-data}\n"
    )
    result = render(tmp_path, compose)
    assert workload(result)["kind"] == "Deployment"
    assert result.of_kind("PersistentVolumeClaim") == []
    assert pod(result)["volumes"] == [{"name": "shop-data", "persistentVolumeClaim": {"claimName": "shop-data"}}]


def test_a_job_is_named_by_its_spec(tmp_path: Path) -> None:
    def job_name(image: str, environment: str = "one") -> str:
        result = render(
            tmp_path,
            f"services:\n  migrate: {{image: {image}, environment: {{RUN: {environment}}}, "
            "deploy: {mode: replicated-job}}\n",
        )
        (job,) = result.of_kind("Job")
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
        assert "readinessProbe" not in job["spec"]["template"]["spec"]["containers"][0]
        return job["metadata"]["name"]

    first = job_name("m:1")
    assert first.startswith("migrate-") and len(first) == len("migrate-") + 8
    assert job_name("m:1") == first
    assert job_name("m:2") != first
    assert job_name("m:1", "two") != first


# --- configs and secrets, by content --------------------------------------------------------

CONFIGURED = """\
services:
  app:
    image: a:1
    configs: [{source: settings, target: /etc/app.toml}, {source: settings, target: /etc/app2.toml, mode: 0400}]
    secrets: [token, {source: api_key, target: api.txt}]
  other: {image: o:1}
configs:
  settings: {file: ./settings.toml}
secrets:
  token: {file: ./token.txt}
  api_key: {external: true, name: shop-api-key}
"""


def configured(tmp_path: Path, settings: str, token: str = "t0ken") -> KubernetesManifests:
    return render(tmp_path, CONFIGURED, files={"settings.toml": settings, "token.txt": token})


def test_configs_and_secrets_become_objects_named_by_content(tmp_path: Path) -> None:
    result = configured(tmp_path, "debug = false\n")
    (config,) = result.of_kind("ConfigMap")
    (secret,) = result.of_kind("Secret")
    assert config["metadata"]["name"] == content_name("settings", "debug = false\n")
    assert config["metadata"]["name"].startswith("settings-") and len(config["metadata"]["name"]) == 19
    assert config["data"] == {"settings": "debug = false\n"}
    assert config["immutable"] is True
    assert secret["type"] == "Opaque"
    assert secret["data"] == {"token": base64.b64encode(b"t0ken").decode()}
    assert result.secret_values == ["t0ken"]
    spec = pod(result)
    assert spec["volumes"] == [
        {"name": "config-settings", "configMap": {"name": config["metadata"]["name"], "defaultMode": 0o444}},
        {"name": "config-settings-400", "configMap": {"name": config["metadata"]["name"], "defaultMode": 0o400}},
        {"name": "secret-token", "secret": {"secretName": secret["metadata"]["name"], "defaultMode": 0o444}},
        {"name": "secret-api-key", "secret": {"secretName": "shop-api-key", "defaultMode": 0o444}},
    ]
    assert spec["containers"][0]["volumeMounts"] == [
        {"name": "config-settings", "mountPath": "/etc/app.toml", "readOnly": True, "subPath": "settings"},
        {"name": "config-settings-400", "mountPath": "/etc/app2.toml", "readOnly": True, "subPath": "settings"},
        {"name": "secret-token", "mountPath": "/run/secrets/token", "readOnly": True, "subPath": "token"},
        # An external secret's keys are unknown: it is a folder at the target.
        {"name": "secret-api-key", "mountPath": "/run/secrets/api.txt", "readOnly": True},
    ]
    assert "t0ken" not in json.dumps([item.as_dict() for item in result.report])


def test_a_new_content_is_a_new_name_and_rolls_the_pods(tmp_path: Path) -> None:
    before = configured(tmp_path, "debug = false\n")
    same = configured(tmp_path, "debug = false\n")
    after = configured(tmp_path, "debug = true\n")
    rotated = configured(tmp_path, "debug = false\n", token="n3w")
    name = before.of_kind("ConfigMap")[0]["metadata"]["name"]
    assert same.of_kind("ConfigMap")[0]["metadata"]["name"] == name
    assert after.of_kind("ConfigMap")[0]["metadata"]["name"] != name
    assert rotated.of_kind("ConfigMap")[0]["metadata"]["name"] == name
    assert rotated.of_kind("Secret")[0]["metadata"]["name"] != before.of_kind("Secret")[0]["metadata"]["name"]
    # The pod template changes with the name, so the Deployment rolls; the other service's does not.
    assert pod(same) == pod(before)
    assert pod(after) != pod(before)
    assert pod(rotated) != pod(before)
    assert pod(after, "other") == pod(before, "other")


# --- rolling updates and the drain --------------------------------------------------------------


@pytest.mark.parametrize(
    ("update", "rolling", "min_ready", "report"),
    [
        pytest.param(None, {"maxUnavailable": 0, "maxSurge": 1}, None, [], id="start-first-one-at-a-time"),
        pytest.param("{parallelism: 2}", {"maxUnavailable": 0, "maxSurge": 2}, None, [], id="parallelism"),
        pytest.param("{parallelism: 0}", {"maxUnavailable": 0, "maxSurge": "100%"}, None, [], id="all-at-once"),
        pytest.param("{order: stop-first}", {"maxUnavailable": 1, "maxSurge": 0}, None, [], id="stop-first"),
        pytest.param("{monitor: 30s}", {"maxUnavailable": 0, "maxSurge": 1}, 30, [], id="monitor-min-ready"),
        pytest.param(
            "{delay: 10s, failure_action: continue, max_failure_ratio: 0.2}",
            {"maxUnavailable": 0, "maxSurge": 1},
            None,
            [
                "deploy.update_config.delay",
                "deploy.update_config.failure_action",
                "deploy.update_config.max_failure_ratio",
            ],
            id="not-on-kubernetes",
        ),
        pytest.param("{failure_action: pause}", {"maxUnavailable": 0, "maxSurge": 1}, None, [], id="pause-is-a-stop"),
    ],
)
def test_rolling_update(
    tmp_path: Path, update: str | None, rolling: dict[str, Any], min_ready: int | None, report: list[str]
) -> None:
    lines = "image: a:1\n" + (f"deploy: {{update_config: {update}}}\n" if update else "")
    result = render_app(tmp_path, lines)
    spec = workload(result)["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": rolling}
    assert spec.get("minReadySeconds") == min_ready
    assert [key for _s, key, _a in keys(result)] == report


def test_statefulset_updates_stop_first(tmp_path: Path) -> None:
    result = render_app(
        tmp_path,
        "image: a:1\nvolumes: [data:/d]\ndeploy: {update_config: {order: start-first, parallelism: 2}, "
        "rollback_config: {order: start-first}}\n",
    )
    assert workload(result)["spec"]["updateStrategy"] == {"type": "RollingUpdate"}
    assert [key for _s, key, _a in keys(result)] == [
        "deploy.update_config.order",
        "deploy.update_config.parallelism",
        "deploy.rollback_config",
    ]


@pytest.mark.parametrize(
    ("lines", "options", "hook", "grace"),
    [
        pytest.param("expose: [80]", {}, {"exec": {"command": ["sleep", "5"]}}, 15, id="default-drain"),
        pytest.param("expose: [80]\nstop_grace_period: 15s", {}, {"exec": {"command": ["sleep", "5"]}}, 20, id="grace"),
        pytest.param("expose: [80]", {"drain_seconds": 8}, {"exec": {"command": ["sleep", "8"]}}, 18, id="longer"),
        pytest.param("expose: [80]", {"drain_hook": "sleep"}, {"sleep": {"seconds": 5}}, 15, id="kubelet-sleep"),
        pytest.param("expose: [80]", {"drain_seconds": 0}, None, 10, id="no-drain"),
        pytest.param("stop_grace_period: 1m", {}, None, 60, id="no-ports-no-drain"),
        pytest.param("expose: [80]\ndeploy: {mode: replicated-job}", {}, None, 10, id="jobs-do-not-drain"),
    ],
)
def test_drain(tmp_path: Path, lines: str, options: dict[str, Any], hook: dict[str, Any] | None, grace: int) -> None:
    result = render_app(tmp_path, f"image: a:1\n{lines}\n", **options)
    lifecycle = container(result).get("lifecycle")
    assert lifecycle == (None if hook is None else {"preStop": hook})
    assert pod(result)["terminationGracePeriodSeconds"] == grace


def test_healthcheck_becomes_probes(tmp_path: Path) -> None:
    result = render_app(
        tmp_path,
        "image: a:1\nhealthcheck: {test: [CMD, wget, -qO-, 'http://127.0.0.1/'], interval: 10s, timeout: 3s, "
        "retries: 3, start_period: 5s}\n",
    )
    rendered = container(result)
    assert rendered["livenessProbe"] == exec_probe(["wget", "-qO-", "http://127.0.0.1/"], 10, 3, 3)
    assert rendered["readinessProbe"]["successThreshold"] == 1
    # 5s + 10s x 3 = 35s, every 5s: 7 tries.
    assert rendered["startupProbe"]["failureThreshold"] == 7
    assert result.report == []


# --- labels and ingress ---------------------------------------------------------------------


def test_every_object_is_labelled(tmp_path: Path) -> None:
    result = render_app(
        tmp_path,
        "image: a:1.4.0\nexpose: [80]\nvolumes: [data:/d]\n",
        {"domain": "shop.example.com"},
        overlay={"environment": "preprod"},
        instance="shop-preprod",
        labels={"drover.platform/release": "7"},
    )
    assert [m["kind"] for m in result.manifests] == [
        "Namespace",
        "Service",
        "Service",
        "StatefulSet",
        "Deployment",
        "Ingress",
    ]
    for manifest in result.manifests:
        metadata_labels = manifest["metadata"]["labels"]
        assert metadata_labels["app.kubernetes.io/managed-by"] == "drover"
        assert metadata_labels["app.kubernetes.io/instance"] == "shop-preprod"
        assert metadata_labels["app.kubernetes.io/part-of"] == "shop"
        assert metadata_labels["drover.platform/environment"] == "preprod"
        assert metadata_labels["drover.platform/release"] == "7"
        assert "app.kubernetes.io/name" in metadata_labels
        template = manifest.get("spec", {}).get("template")
        if template is not None:
            # A new release number alone must roll no pod.
            assert "drover.platform/release" not in template["metadata"]["labels"]
    app = workload(result)
    assert app["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"] == "1.4.0"
    # Claim templates cannot change once the StatefulSet exists: no release, no version on them.
    assert app["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"] == labels(
        "app", instance="shop-preprod", environment="preprod"
    )
    assert app["spec"]["selector"] == {
        "matchLabels": {"app.kubernetes.io/name": "app", "app.kubernetes.io/instance": "shop-preprod"}
    }


def test_a_new_release_changes_only_what_can_change(tmp_path: Path) -> None:
    """The API server refuses changes to a selector, a StatefulSet's claim templates and a Service's clusterIP."""
    compose = "image: a:1\nexpose: [80]\nvolumes: [data:/d]\n"
    first = render_app(tmp_path, compose, version="1.0", labels={"drover.platform/release": "1"})
    second = render_app(tmp_path, compose, version="2.0", labels={"drover.platform/release": "2"})
    mutable = ("replicas", "template", "updateStrategy", "minReadySeconds", "strategy")
    for before, after in zip(first.manifests, second.manifests, strict=True):
        assert (before["kind"], before["metadata"]["name"]) == (after["kind"], after["metadata"]["name"])
        assert before["metadata"]["labels"] != after["metadata"]["labels"]
        if before["kind"] in ("StatefulSet", "Deployment"):
            fixed = {key: value for key, value in before["spec"].items() if key not in mutable}
            assert fixed == {key: value for key, value in after["spec"].items() if key not in mutable}
            assert before["spec"]["template"] != after["spec"]["template"]
        elif before["kind"] == "Service":
            assert before["spec"] == after["spec"]


@pytest.mark.parametrize(
    ("options", "version", "app_wide"),
    [
        ({}, "1.4.0", None),
        ({"version": "2026.07.1"}, "2026.07.1", "2026.07.1"),
        ({"version": "v2+build"}, "v2-build", "v2-build"),
    ],
)
def test_version_label(tmp_path: Path, options: dict[str, Any], version: str, app_wide: str | None) -> None:
    result = render_app(tmp_path, "image: registry.lab:5000/shop/app:1.4.0\n", **options)
    assert workload(result)["metadata"]["labels"]["app.kubernetes.io/version"] == version
    assert result.of_kind("Namespace")[0]["metadata"]["labels"].get("app.kubernetes.io/version") == app_wide


def test_a_digest_alone_gives_no_version(tmp_path: Path) -> None:
    result = render_app(tmp_path, "image: a:1\n", {"image": f"registry.lab:5000/shop/app@{DIGEST}"})
    assert "app.kubernetes.io/version" not in workload(result)["metadata"]["labels"]


def ingress(domain: str, port: int, name: str = "app", **spec: Any) -> dict[str, Any]:
    backend = {"service": {"name": name, "port": {"number": port}}}
    return {
        **spec,
        "rules": [{"host": domain, "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}],
    }


@pytest.mark.parametrize(
    ("options", "annotations", "spec"),
    [
        pytest.param(
            {},
            None,
            ingress("shop.example.com", 8000, ingressClassName="traefik", tls=[{"hosts": ["shop.example.com"]}]),
            id="defaults",
        ),
        pytest.param(
            {"edge_entrypoint": "websecure", "edge_certresolver": "letsencrypt", "tls_secret": "shop-tls"},
            {
                "traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
                "traefik.ingress.kubernetes.io/router.tls.certresolver": "letsencrypt",
            },
            ingress(
                "shop.example.com",
                8000,
                ingressClassName="traefik",
                tls=[{"hosts": ["shop.example.com"], "secretName": "shop-tls"}],
            ),
            id="traefik-acme-secret",
        ),
        pytest.param(
            {"ingress_class": "public", "ingress_annotations": {"cert-manager.io/cluster-issuer": "ca"}},
            {"cert-manager.io/cluster-issuer": "ca"},
            ingress("shop.example.com", 8000, ingressClassName="public", tls=[{"hosts": ["shop.example.com"]}]),
            id="other-class",
        ),
        pytest.param(
            {"tls": False, "ingress_class": None, "edge_certresolver": "letsencrypt"},
            None,
            ingress("shop.example.com", 8000),
            id="plain-http-default-class",
        ),
    ],
)
def test_ingress(tmp_path: Path, options: dict[str, Any], annotations: dict[str, str] | None, spec: dict) -> None:
    result = render_app(tmp_path, "image: app:1\nexpose: [8000]\n", {"domain": "shop.example.com"}, **options)
    (rendered,) = result.of_kind("Ingress")
    assert rendered["apiVersion"] == "networking.k8s.io/v1"
    assert rendered["metadata"].get("annotations") == annotations
    assert rendered["spec"] == spec


def test_the_routed_port_is_on_the_service(tmp_path: Path) -> None:
    result = render_app(
        tmp_path, "image: app:1\nports: ['8080:80']\n", {"ports": [], "domain": "a.example.com", "port": 9000}
    )
    assert result.find("Service", "app")["spec"]["ports"] == [
        {"name": "tcp-9000", "port": 9000, "targetPort": 9000, "protocol": "TCP"}
    ]
    assert result.of_kind("Ingress")[0]["spec"]["rules"][0]["http"]["paths"][0]["backend"] == {
        "service": {"name": "app", "port": {"number": 9000}}
    }
    assert result.report == []


@pytest.mark.parametrize(
    ("lines", "spec"),
    [
        pytest.param(
            "ports: ['8080:80', '53:53/udp']",
            {
                "type": "ClusterIP",
                "ports": [
                    {"name": "tcp-80", "port": 80, "targetPort": 80, "protocol": "TCP"},
                    {"name": "udp-53", "port": 53, "targetPort": 53, "protocol": "UDP"},
                ],
            },
            id="published-ports",
        ),
        pytest.param(
            "expose: [80]\ndeploy: {endpoint_mode: dnsrr}",
            {"clusterIP": "None", "ports": [{"name": "tcp-80", "port": 80, "targetPort": 80, "protocol": "TCP"}]},
            id="dnsrr-headless",
        ),
    ],
)
def test_services(tmp_path: Path, lines: str, spec: dict[str, Any]) -> None:
    result = render_app(tmp_path, f"image: a:1\n{lines}\n", allow=("ports.published",))
    rendered = result.find("Service", "app")["spec"]
    assert {key: value for key, value in rendered.items() if key != "selector"} == spec


# --- placement -------------------------------------------------------------------------------


def node_affinity(*expressions: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": list(expressions)}]
            }
        }
    }


SELECTOR = {"app.kubernetes.io/name": "app", "app.kubernetes.io/instance": "shop-dev"}


# overlay placement / Compose lines, expected pod spec items, report keys
@pytest.mark.parametrize(
    ("overlay", "lines", "spec", "report"),
    [
        pytest.param({"class": "nuc"}, "", {"nodeSelector": {"drover.class": "nuc"}}, [], id="one-class"),
        pytest.param(
            {"class": ["nuc", "pc"], "arch": ["amd64", "armhf"]},
            "",
            {
                "affinity": node_affinity(
                    {"key": "drover.class", "operator": "In", "values": ["nuc", "pc"]},
                    {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm"]},
                )
            },
            [],
            id="several-classes-and-arches",
        ),
        pytest.param(
            {"arch": "arm64", "labels": {"disk": "ssd"}},
            "",
            {"nodeSelector": {"kubernetes.io/arch": "arm64", "disk": "ssd"}},
            [],
            id="arch-and-labels",
        ),
        pytest.param(
            None,
            "deploy: {placement: {constraints: [node.labels.zone==a, 'node.labels.gpu != none', "
            "node.hostname==nuc-1, node.platform.arch==aarch64]}}",
            {
                "nodeSelector": {"zone": "a", "kubernetes.io/hostname": "nuc-1", "kubernetes.io/arch": "arm64"},
                "affinity": node_affinity({"key": "gpu", "operator": "NotIn", "values": ["none"]}),
            },
            [],
            id="constraints",
        ),
        pytest.param(
            {"class": "nuc"},
            "deploy: {placement: {constraints: [node.labels.drover.class==pc]}}",
            {
                "affinity": node_affinity(
                    {"key": "drover.class", "operator": "In", "values": ["nuc"]},
                    {"key": "drover.class", "operator": "In", "values": ["pc"]},
                )
            },
            [],
            id="both-must-hold",
        ),
        pytest.param(
            None,
            "deploy: {placement: {constraints: [node.role==manager, engine.labels.x==y]}}",
            {},
            ["deploy.placement.constraints", "deploy.placement.constraints"],
            id="no-node-label-for-role",
        ),
        pytest.param(
            None,
            "deploy: {placement: {max_replicas_per_node: 1}}",
            {
                "affinity": {
                    "podAntiAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": [
                            {"labelSelector": {"matchLabels": SELECTOR}, "topologyKey": "kubernetes.io/hostname"}
                        ]
                    }
                }
            },
            [],
            id="one-per-node",
        ),
        pytest.param(
            None,
            "deploy: {placement: {max_replicas_per_node: 2}}",
            {},
            ["deploy.placement.max_replicas_per_node"],
            id="two-per-node",
        ),
        pytest.param(
            None,
            "deploy: {placement: {preferences: [{spread: node.labels.zone}, {spread: node.id}]}}",
            {
                "topologySpreadConstraints": [
                    {
                        "maxSkew": 1,
                        "topologyKey": "zone",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": SELECTOR},
                    }
                ]
            },
            ["deploy.placement.preferences"],
            id="spread",
        ),
        pytest.param(
            None,
            "platform: linux/arm/v7",
            {"nodeSelector": {"kubernetes.io/os": "linux", "kubernetes.io/arch": "arm"}},
            [],
            id="platform",
        ),
    ],
)
def test_placement(
    tmp_path: Path, overlay: dict[str, Any] | None, lines: str, spec: dict[str, Any], report: list[str]
) -> None:
    result = render_app(tmp_path, f"image: a:1\n{lines}\n", None if overlay is None else {"placement": overlay})
    rendered = pod(result)
    assert {
        key: rendered[key] for key in ("nodeSelector", "affinity", "topologySpreadConstraints") if key in rendered
    } == spec
    assert [key for _s, key, _a in keys(result)] == report


# --- Compose keys carried over, and the report ----------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "container_items", "pod_items"),
    [
        pytest.param(
            "cap_add: [NET_ADMIN, CAP_SYS_TIME]\ncap_drop: [ALL]\nread_only: true\n"
            "security_opt: [no-new-privileges:true]",
            {
                "securityContext": {
                    "capabilities": {"add": ["NET_ADMIN", "SYS_TIME"], "drop": ["ALL"]},
                    "readOnlyRootFilesystem": True,
                    "allowPrivilegeEscalation": False,
                }
            },
            {},
            id="security",
        ),
        pytest.param("tty: true\nstdin_open: true", {"tty": True, "stdin": True}, {}, id="terminal"),
        pytest.param("pull_policy: always", {"imagePullPolicy": "Always"}, {}, id="pull-policy"),
        pytest.param("init: true", {}, {"shareProcessNamespace": True}, id="init"),
        pytest.param(
            "extra_hosts: ['db.local=10.0.0.5', 'cache.local:10.0.0.5', 'v6.local=[::1]']\nhostname: shop-app",
            {},
            {
                "hostAliases": [
                    {"ip": "10.0.0.5", "hostnames": ["db.local", "cache.local"]},
                    {"ip": "::1", "hostnames": ["v6.local"]},
                ],
                "hostname": "shop-app",
            },
            id="hosts",
        ),
        pytest.param(
            "sysctls: {net.core.somaxconn: 1024}\ngroup_add: ['44']",
            {},
            {
                "securityContext": {
                    "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}],
                    "supplementalGroups": [44],
                }
            },
            id="kernel",
        ),
        pytest.param(
            "shm_size: 256m\ntmpfs: ['/run:size=64m']",
            {
                "volumeMounts": [
                    {"name": "tmpfs-0", "mountPath": "/run"},
                    {"name": "dshm", "mountPath": "/dev/shm"},
                ]
            },
            {
                "volumes": [
                    {"name": "tmpfs-0", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
                    {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "256Mi"}},
                ]
            },
            id="memory-filesystems",
        ),
        pytest.param(
            "network_mode: host\npid: host\nipc: host\ndns: [10.0.0.2]\ndns_search: [shop.lan]",
            {},
            {
                "hostNetwork": True,
                "dnsPolicy": "ClusterFirstWithHostNet",
                "hostPID": True,
                "hostIPC": True,
                "dnsConfig": {"nameservers": ["10.0.0.2"], "searches": ["shop.lan"]},
            },
            id="host-namespaces",
        ),
        pytest.param(
            "volumes: ['/etc/localtime:/etc/localtime:ro', '/srv/log:/log:rslave']",
            {
                "volumeMounts": [
                    {"name": "host-0", "mountPath": "/etc/localtime", "readOnly": True},
                    {"name": "host-1", "mountPath": "/log", "mountPropagation": "HostToContainer"},
                ]
            },
            {
                "volumes": [
                    {"name": "host-0", "hostPath": {"path": "/etc/localtime"}},
                    {"name": "host-1", "hostPath": {"path": "/srv/log"}},
                ]
            },
            id="host-paths-allowed",
        ),
    ],
)
def test_carried_keys(tmp_path: Path, lines: str, container_items: dict[str, Any], pod_items: dict[str, Any]) -> None:
    result = render_app(tmp_path, f"image: a:1\n{lines}\n", allow=("volumes.bind",))
    assert must_stop(result.report) is False
    rendered = container(result)
    assert {key: rendered[key] for key in container_items} == container_items
    spec = pod(result)
    assert {key: spec[key] for key in pod_items} == pod_items


# the app service's Compose lines, overlay for it, expected report keys (all for service app)
@pytest.mark.parametrize(
    ("lines", "overlay", "report"),
    [
        pytest.param("build: .\nimage: r/app:1", None, ["build"], id="build-with-compose-image"),
        pytest.param("build: .\nimage: r/app:1", {"image": "r/app:2"}, [], id="build-with-overlay-image"),
        pytest.param(
            "image: a:1\ndepends_on: {db: {condition: service_healthy}}",
            None,
            ["depends_on.condition"],
            id="depends-on-healthy",
        ),
        pytest.param("image: a:1\ndepends_on: [db]", None, ["depends_on"], id="depends-on-plain"),
        pytest.param("image: a:1\nports: ['8080:80']", None, ["ports.published"], id="published-port"),
        pytest.param("image: a:1\nports: ['8080:80']", {"ports": []}, [], id="published-port-dropped-by-overlay"),
        pytest.param("image: a:1\nports: ['80']", None, [], id="container-port-only"),
        pytest.param("image: a:1\nvolumes: [/srv/data:/data]", None, ["volumes.bind"], id="bind-absolute"),
        pytest.param("image: a:1\nvolumes: [./src:/app]", None, ["volumes.bind_relative"], id="bind-relative"),
        pytest.param(
            "image: a:1\nvolumes: ['/srv:/srv:z']", None, ["volumes.selinux", "volumes.bind"], id="bind-selinux"
        ),
        pytest.param(
            "image: a:1\nvolumes: ['/srv:/srv:rshared']", None, ["volumes.bind", "volumes.propagation"], id="rshared"
        ),
        pytest.param("image: a:1\nvolumes: [{type: npipe, source: x, target: /x}]", None, ["volumes.type"], id="npipe"),
        pytest.param("image: a:1\ncontainer_name: app-1", None, ["container_name"], id="container_name"),
        pytest.param("image: a:1\nlinks: [db]", None, ["links"], id="links"),
        pytest.param("image: a:1\ndevices: [/dev/ttyUSB0]", None, ["devices"], id="devices"),
        pytest.param("image: a:1\nsecurity_opt: [apparmor:unconfined]", None, ["security_opt"], id="security_opt"),
        pytest.param("image: a:1\nnetwork_mode: bridge", None, ["network_mode"], id="network_mode"),
        pytest.param("image: a:1\npid: 'service:db'", None, ["pid"], id="pid-of-a-service"),
        pytest.param("image: a:1\nipc: shareable", None, [], id="ipc-shareable"),
        pytest.param("image: a:1\nstop_signal: SIGINT", None, ["stop_signal"], id="stop_signal"),
        pytest.param("image: a:1\nlogging: {driver: syslog}", None, ["logging"], id="logging"),
        pytest.param("image: a:1\nulimits: {nofile: 1024}", None, ["ulimits"], id="ulimits"),
        pytest.param("image: a:1\npull_policy: build", None, ["pull_policy"], id="pull-build"),
        pytest.param("image: a:1\ngpus: all", None, ["gpus"], id="gpus"),
        pytest.param("image: a:1\nhostname: App_1", None, ["hostname"], id="hostname-not-dns"),
        pytest.param("image: a:1\ngroup_add: [audio]", None, ["group_add"], id="group-by-name"),
        pytest.param("image: a:1\nuser: postgres", None, ["user"], id="user-by-name"),
        pytest.param(
            "image: a:1\nrestart: on-failure", None, ["deploy.restart_policy.condition"], id="restart-on-failure"
        ),
        pytest.param("image: a:1\nrestart: always", None, [], id="restart-always"),
        pytest.param(
            "image: a:1\ndeploy: {restart_policy: {delay: 10s, max_attempts: 3}}",
            None,
            ["deploy.restart_policy.delay", "deploy.restart_policy.max_attempts"],
            id="restart-policy-details",
        ),
        pytest.param(
            "image: a:1\ndeploy: {resources: {limits: {pids: 100}}}", None, ["deploy.resources.limits.pids"], id="pids"
        ),
        pytest.param(
            "image: a:1\ndeploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}",
            None,
            ["deploy.resources.reservations.devices"],
            id="gpu-reservation",
        ),
        pytest.param("image: a:1\nhealthcheck: {interval: 5s}", None, ["healthcheck.test"], id="timings-only"),
        pytest.param(
            "image: a:1\nhealthcheck: {test: [CMD, 'true'], start_interval: 1s, start_period: 5s}",
            None,
            [],
            id="start-interval-honoured",
        ),
        pytest.param("image: a:1\nlabels: {'bad key': x}", None, ["labels"], id="label-key"),
        pytest.param(
            "image: a:1\nnetworks: {default: {aliases: [application]}}", None, ["networks.aliases"], id="aliases"
        ),
        pytest.param(
            "image: a:1\nnetworks: {default: {ipv4_address: 10.0.0.5}}", None, ["networks.ipv4_address"], id="address"
        ),
        pytest.param(
            "image: a:1\nexpose: [80]\ndevelop: {watch: []}\nx-note: n\nworking_dir: /srv", None, [], id="honoured"
        ),
    ],
)
def test_report(tmp_path: Path, lines: str, overlay: dict[str, Any] | None, report: list[str]) -> None:
    result = render_app(tmp_path, lines + "\n", overlay)
    assert keys(result) == [("app", key, False) for key in report]
    assert must_stop(result.report) is bool(report)
    assert [(item.service, item.key) for item in result.blocking] == [("app", key) for key in report]


def test_networks_that_isolate_are_reported(tmp_path: Path) -> None:
    compose = """\
    services:
      web: {image: w:1, networks: [front]}
      api: {image: a:1, networks: [front, back]}
      db: {image: d:1, networks: [back]}
      other: {image: o:1, networks: [shared]}
    networks:
      front: {}
      back: {}
      shared: {external: true, name: platform}
    """
    result = render(tmp_path, compose)
    assert keys(result) == [
        ("web", "networks", False),
        ("api", "networks", False),
        ("db", "networks", False),
        ("other", "networks", False),
        ("other", "networks.external", False),
    ]
    assert result.report[0].message == (
        "Kubernetes has one pod network: every pod in the cluster reaches this service, not only those on front"
    )
    one = render(
        tmp_path, "services:\n  a: {image: a:1, networks: [n]}\n  b: {image: b:1, networks: [n]}\nnetworks:\n  n: {}\n"
    )
    assert one.report == []


def test_top_level_report(tmp_path: Path) -> None:
    result = render(
        tmp_path,
        """\
        services:
          app: {image: a:1, volumes: [data:/d], configs: [c]}
        volumes:
          data: {driver: nfs, driver_opts: {o: addr=10.0.0.1}}
        configs:
          c: {content: x, template_driver: golang}
        models:
          llm: {model: ai/smollm2}
        """,
    )
    assert keys(result) == [
        (None, "models", False),
        (None, "configs.template_driver", False),
        (None, "volumes.driver", False),
        (None, "volumes.driver_opts", False),
    ]


@pytest.mark.parametrize(
    ("overlay_allow", "option_allow", "expected"),
    [
        pytest.param([], [], [("app", "volumes.bind", False), ("db", "volumes.bind", False)], id="nothing-allowed"),
        pytest.param(["volumes.bind"], [], [("app", "volumes.bind", True), ("db", "volumes.bind", True)], id="overlay"),
        pytest.param([], ["volumes.bind"], [("app", "volumes.bind", True), ("db", "volumes.bind", True)], id="option"),
        pytest.param(
            [], ["db:volumes.bind"], [("app", "volumes.bind", False), ("db", "volumes.bind", True)], id="one-service"
        ),
    ],
)
def test_allow(
    tmp_path: Path, overlay_allow: list[str], option_allow: list[str], expected: list[tuple[str, str, bool]]
) -> None:
    compose = "services:\n  app: {image: a:1, volumes: ['/srv/a:/a']}\n  db: {image: d:1, volumes: ['/srv/d:/d']}\n"
    result = render(tmp_path, compose, {"allow": overlay_allow}, allow=tuple(option_allow))
    assert keys(result) == expected
    assert must_stop(result.report) is not all(allowed for _s, _k, allowed in expected)


# --- names and options --------------------------------------------------------------------------


def test_service_names_become_dns_labels(tmp_path: Path) -> None:
    result = render(tmp_path, "services:\n  Web_Front: {image: w:1, expose: [80]}\n")
    assert keys(result) == [("Web_Front", "service_name", False)]
    assert "reach it as web-front, not Web_Front" in result.report[0].message
    assert result.find("Service", "web-front")["spec"]["selector"]["app.kubernetes.io/name"] == "web-front"
    assert container(result, "Web_Front")["name"] == "web-front"


def test_names_that_collide(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="services web_1 and web.1 would both be named web-1"):
        render(tmp_path, "services:\n  web_1: {image: w:1}\n  web.1: {image: w:1}\n")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"namespace": "Shop"}, "namespace must be a DNS label"),
        ({"tls_secret": "shop_tls"}, "tls_secret must be a Secret name"),
        ({"volume_size": "lots"}, "volume_size must be a quantity"),
        ({"volume_sizes": {"nothing": "1Gi"}}, "volume_sizes names nothing, which no service mounts"),
        ({"labels": {"release": "no good"}}, "labels: release=no good is not a Kubernetes label"),
        ({"drain_seconds": -1}, "drain_seconds must be 0 or more"),
        ({"drain_hook": "wait"}, "drain_hook must be exec or sleep"),
        ({"ingress_annotations": {"a b": "c"}}, "ingress_annotations: a b is not an annotation key"),
    ],
)
def test_bad_options(tmp_path: Path, options: dict[str, Any], message: str) -> None:
    with pytest.raises(RenderError, match=message):
        render_app(tmp_path, "image: a:1\n", **options)


def test_namespace_and_instance(tmp_path: Path) -> None:
    result = render_app(tmp_path, "image: a:1\n", instance="shop-blue", namespace="shop")
    assert result.namespace == "shop"
    assert {m["metadata"].get("namespace", "shop") for m in result.manifests} == {"shop"}
    assert workload(result)["metadata"]["labels"]["app.kubernetes.io/instance"] == "shop-blue"
    defaulted = render_app(tmp_path, "image: a:1\n", instance=None, overlay={"environment": "Test_2"})
    assert defaulted.namespace == "shop-test-2"
    assert workload(defaulted)["metadata"]["labels"]["app.kubernetes.io/instance"] == "shop-Test_2"


@pytest.mark.parametrize(
    ("environment", "image", "refused"),
    [("prod", "app:latest", True), ("prod", "app", True), ("prod", f"app@{DIGEST}", False), ("dev", "app", False)],
)
def test_strict_tags(tmp_path: Path, environment: str, image: str, refused: bool) -> None:
    def go() -> KubernetesManifests:
        return render_app(tmp_path, "image: a:1\n", {"image": image}, overlay={"environment": environment})

    if refused:
        with pytest.raises(ImagePolicyError, match=f"environment {environment} is strict"):
            go()
    else:
        assert go().images["app"] == image


# --- the action, with target kubernetes --------------------------------------------------------------


def action_params(**given: Any) -> dict[str, Any]:
    return {"overlay": {"environment": "dev"}, "target": "kubernetes", **given}


def test_action_renders_manifests(tmp_path: Path) -> None:
    (tmp_path / "compose.yml").write_text("name: shop\nservices:\n  web: {image: 'web:1.0', expose: [80]}\n")
    result = action_render(
        action_params(
            overlay={"environment": "dev", "services": {"web": {"domain": "shop.example.com"}}},
            edge_entrypoint="websecure",
            version="1.0",
        ),
        str(tmp_path / "compose.yml"),
    )
    assert result["changed"] is False
    assert (result["stack_name"], result["namespace"], result["environment"]) == ("shop-dev", "shop-dev", "dev")
    assert result["services"] == ["web"]
    assert result["workloads"] == [{"service": "web", "kind": "Deployment", "name": "web", "service_name": "web"}]
    assert [m["kind"] for m in result["manifests"]] == ["Namespace", "Service", "Deployment", "Ingress"]
    assert result["manifests"][-1]["metadata"]["annotations"] == {
        "traefik.ingress.kubernetes.io/router.entrypoints": "websecure"
    }
    assert result["report"] == []
    assert "definition" not in result
    assert "_ansible_no_log" not in result


def test_action_with_secrets_is_no_log_and_stops_on_the_report(tmp_path: Path) -> None:
    (tmp_path / "compose.yml").write_text(
        "services:\n  db: {image: 'db:1', secrets: [pw], volumes: ['/srv/db:/var/lib/db']}\n"
        "secrets:\n  pw: {file: pw}\n"
    )
    (tmp_path / "pw").write_text(SECRET)
    stopped = action_render(action_params(stack_name="shop-x"), str(tmp_path / "compose.yml"))
    assert stopped["failed"] is True
    assert "manifests" not in stopped
    assert stopped["namespace"] == "shop-x"
    assert stopped["msg"].startswith("the app cannot be deployed as written: 1 Compose key(s)")
    assert "- db: volumes.bind - the host path /srv/db" in stopped["msg"]
    assert SECRET not in repr(stopped)
    allowed = action_render(action_params(allow=["volumes.bind"]), str(tmp_path / "compose.yml"))
    assert allowed["_ansible_no_log"] is True
    (secret,) = [m for m in allowed["manifests"] if m["kind"] == "Secret"]
    assert base64.b64decode(secret["data"]["pw"]).decode() == SECRET


def run_action(args: dict[str, Any], search_path: Path) -> dict[str, Any]:
    """The action as ansible-playbook starts it: argument spec, file lookup, result."""
    task = MagicMock(Task)
    task.args = args
    task.async_val = 0
    task.check_mode = False
    task.action = "drover.platform.app_render"
    task.get_search_path.return_value = [str(search_path)]
    loader = DataLoader()
    loader.set_basedir(str(search_path))
    plugin = ActionModule(task, MagicMock(), MagicMock(), loader, MagicMock(), None)
    plugin._load_name = "drover.platform.app_render"
    return plugin.run(task_vars={})


def test_action_run_through_the_argument_spec(tmp_path: Path) -> None:
    (tmp_path / "compose.yml").write_text(
        "services:\n  web: {image: 'web:1.0', volumes: [data:/d]}\nvolumes:\n  data: {}\n"
    )
    args = {
        "compose_file": "compose.yml",
        "overlay": {"environment": "dev"},
        "target": "kubernetes",
        "namespace": "team-a",
        "storage_class": "microk8s-hostpath",
        "volume_sizes": {"data": "2Gi"},
        "drain_seconds": 3,
    }
    result = run_action(args, tmp_path)
    assert result["namespace"] == "team-a"
    (statefulset,) = [m for m in result["manifests"] if m["kind"] == "StatefulSet"]
    assert statefulset["spec"]["volumeClaimTemplates"][0]["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "2Gi"}},
        "storageClassName": "microk8s-hostpath",
    }
    with pytest.raises(AnsibleActionFail, match="value of drain_hook must be one of: exec, sleep"):
        run_action({**args, "drain_hook": "wait"}, tmp_path)
    with pytest.raises(AnsibleActionFail, match="namespace must be a DNS label"):
        run_action({**args, "namespace": "Team_A"}, tmp_path)


# --- a realistic app ------------------------------------------------------------------------------


def test_realistic_app_in_prod() -> None:
    overlay = {
        "environment": "prod",
        "env_files": [".env", "env/prod.env"],
        "services": {
            "web": {"image": f"registry.lab:5000/shop/web@{DIGEST}", "replicas": 2, "domain": "shop.example.com"},
            "api": {"image": f"registry.lab:5000/shop/api@{DIGEST}", "domain": "api.shop.example.com"},
            "worker": {"image": f"registry.lab:5000/shop/api@{DIGEST}"},
            "db": {"placement": {"class": "nuc"}},
        },
        "secrets": {"db_password": SECRET},
        "allow": ["depends_on"],
    }
    app = load_app(str(REALISTIC / "compose.yml"), overlay)
    result = render_kubernetes(app, KubernetesOptions(instance="shop-prod", version="1.4.2", tls_secret="shop-tls"))
    assert {item.key for item in result.report} == {"depends_on"}
    assert result.blocking == []
    assert [(w.service, w.kind) for w in result.workloads] == [
        ("web", "Deployment"),
        ("api", "Deployment"),
        ("worker", "Deployment"),
        ("db", "StatefulSet"),
        ("cache", "StatefulSet"),
    ]
    assert [m["spec"]["rules"][0]["host"] for m in result.of_kind("Ingress")] == [
        "shop.example.com",
        "api.shop.example.com",
    ]
    assert result.find("Deployment", "web")["spec"]["replicas"] == 2
    db = result.find("StatefulSet", "db")["spec"]
    assert db["template"]["spec"]["nodeSelector"] == {"drover.class": "nuc"}
    assert db["volumeClaimTemplates"][0]["metadata"]["name"] == "dbdata"
    assert db["template"]["spec"]["containers"][0]["livenessProbe"]["exec"]["command"] == [
        "/bin/sh",
        "-c",
        "pg_isready -U ${POSTGRES_USER} -d shop",
    ]
    # 30s after SIGTERM, no drain (db has no ports: its headless Service resolves to the pod).
    assert db["template"]["spec"]["terminationGracePeriodSeconds"] == 30
    assert result.find("Service", "db")["spec"]["clusterIP"] == "None"
    api = result.find("Deployment", "api")["spec"]["template"]["spec"]["containers"][0]
    assert api["resources"] == {"limits": {"memory": "256Mi"}}
    assert {"name": "DATABASE_PASSWORD_FILE", "value": "/run/secrets/db_password"} in api["env"]
    assert result.secret_values == [SECRET]
    assert SECRET not in " ".join(item.describe() for item in result.report)
