# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The renderer on Compose files as people write them: no traceback, no silent change of meaning.

Each row is a Compose habit found in third-party files: it is refused with a
message naming the file, the service and the key; or honoured; or named in
the conversion report. Every Swarm definition rendered here passes the
reference CLI's `docker stack config`.
"""

from __future__ import annotations

import base64
import copy
import tempfile
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.module_utils._app_model import AppDefinitionError, AppError
from ansible_collections.drover.platform.plugins.module_utils._render_frame import RenderError
from ansible_collections.drover.platform.plugins.module_utils._render_k8s import KubernetesManifests, render_kubernetes
from ansible_collections.drover.platform.plugins.module_utils._render_k8s_plan import KubernetesOptions
from ansible_collections.drover.platform.plugins.module_utils._render_swarm import (
    SwarmOptions,
    SwarmStack,
    render_swarm,
)

from .conftest import ComposeApp, StackConfig, app_and_db, has_stack_config, stack_config_problem


def app_compose(service: str, top_level: str = "") -> str:
    """A Compose file with the service app (its lines given) and a plain db."""
    return "name: shop\n" + app_and_db(service, top_level)


def both(
    compose_app: ComposeApp, service: str, top_level: str = "", **files: str | bytes
) -> tuple[SwarmStack, KubernetesManifests]:
    """Both targets' output; the Swarm definition checked by docker stack config where the CLI has it."""
    app = compose_app(app_compose(service, top_level), files=files)
    swarm = render_swarm(app, SwarmOptions(stack_name="shop-dev"))
    if has_stack_config():
        with tempfile.TemporaryDirectory() as folder:
            assert stack_config_problem(swarm.definition, Path(folder)) is None
    return swarm, render_kubernetes(app, KubernetesOptions(instance="shop-dev"))


def keys(result: SwarmStack | KubernetesManifests, service: str = "app") -> list[str]:
    return [item.key for item in result.report if item.service == service]


def container(manifests: KubernetesManifests, service: str = "app") -> dict[str, Any]:
    return pod(manifests, service)["containers"][0]


def pod(manifests: KubernetesManifests, service: str = "app") -> dict[str, Any]:
    workload = next(item for item in manifests.workloads if item.service == service)
    return manifests.find(workload.kind, workload.name)["spec"]["template"]["spec"]


# --- refused, with the file, the service and the key named ---------------------------------------


@pytest.mark.parametrize(
    ("service", "top_level", "message"),
    [
        pytest.param(
            'image: a:1\nvolumes: "data:/x"\n',
            "volumes: {data: {}}\n",
            "services.app.volumes must be a list of mounts, not 'data:/x'",
            id="volumes-string",
        ),
        pytest.param(
            "image: a:1\ncap_add: NET_ADMIN\n",
            "",
            "services.app.cap_add must be a list of strings, not 'NET_ADMIN'",
            id="cap-add-string",
        ),
        pytest.param(
            "image: a:1\nwrongField: 1\n", "", "services.app has the unknown key wrongField", id="unknown-key"
        ),
        pytest.param(
            "image: a:1\ndeploy: {rollback: {}}\n",
            "",
            "services.app.deploy has the unknown key rollback",
            id="unknown-deploy-key",
        ),
        pytest.param(
            "image: a:1\ndeploy: {update_config: {max_failure_ratio: lots}}\n",
            "",
            "services.app.deploy.update_config.max_failure_ratio must be a number",
            id="ratio-not-numeric",
        ),
        pytest.param(
            "image: a:1\nconfigs: [{source: c, mode: 0.5}]\n",
            "configs: {c: {content: x}}\n",
            "services.app.configs[0].mode must be a file mode",
            id="mode-float",
        ),
        pytest.param(
            "image: a:1\nconfigs: [{source: c, mode: 644}]\n",
            "configs: {c: {content: x}}\n",
            "mode 644 is the decimal number 644 (0o1204)",
            id="mode-decimal",
        ),
        pytest.param(
            "image: a:1\nsecrets: [{source: s, mode: 0o1777}]\n",
            "secrets: {s: {content: x}}\n",
            "services.app.secrets[0].mode",
            id="mode-over-0777",
        ),
        pytest.param(
            "image: a:1\nhealthcheck: {test: [CMD]}\n",
            "",
            "services.app.healthcheck.test [CMD] names no command",
            id="healthcheck-empty-cmd",
        ),
        pytest.param(
            "image: a:1\nhealthcheck: {test: []}\n",
            "",
            "services.app.healthcheck.test [] names no command",
            id="healthcheck-empty-list",
        ),
        pytest.param(
            "image: a:1\nvolumes: [data:/d, /srv:/d]\n",
            "volumes: {data: {}}\n",
            "services.app mounts two things on /d",
            id="two-mounts-one-path",
        ),
        pytest.param(
            "image: a:1\nvolumes: [data:/d]\ntmpfs: /d\n",
            "volumes: {data: {}}\n",
            "services.app mounts two things on /d",
            id="tmpfs-on-a-volume",
        ),
        pytest.param(
            "image: a:1\nports: [{target: 80, published: 8080.5}]\n",
            "",
            "services.app.ports[0].published must be a whole number",
            id="port-float",
        ),
        pytest.param(
            "image: a:1\nhealthcheck: {retries: many}\n",
            "",
            "services.app.healthcheck.retries must be a whole number",
            id="retries-text",
        ),
    ],
)
def test_refused_with_file_service_and_key(
    compose_app: ComposeApp, tmp_path: Path, service: str, top_level: str, message: str
) -> None:
    with pytest.raises(AppDefinitionError) as raised:
        compose_app(app_compose(service, top_level))
    text = str(raised.value)
    assert message in text
    assert str(tmp_path / "compose.yml") in text


def test_a_key_written_twice_is_refused(compose_app: ComposeApp, tmp_path: Path) -> None:
    with pytest.raises(AppDefinitionError, match="line 5: the key image is written twice in one mapping"):
        compose_app("name: shop\nservices:\n  app:\n    image: a:1\n    image: a:2\n")


def test_a_merge_key_may_be_overridden(compose_app: ComposeApp) -> None:
    app = compose_app("x-base: &base {image: a:1, user: '1'}\nservices:\n  app:\n    <<: *base\n    user: '2'\n")
    assert app.services["app"].user == "2"


# --- honoured, or named in the report ---------------------------------------------------------


def test_udp_expose_stays_udp(compose_app: ComposeApp, stack_config: StackConfig) -> None:
    swarm, k8s = both(compose_app, 'image: a:1\nexpose: ["53/udp", "8080"]\n')
    assert container(k8s)["ports"] == [
        {"name": "udp-53", "containerPort": 53, "protocol": "UDP"},
        {"name": "tcp-8080", "containerPort": 8080, "protocol": "TCP"},
    ]
    ports = k8s.find("Service", "app")["spec"]["ports"]
    assert [(port["port"], port["protocol"]) for port in ports] == [(53, "UDP"), (8080, "TCP")]
    assert stack_config(swarm.definition) is None


def test_long_port_name_and_app_protocol(compose_app: ComposeApp, stack_config: StackConfig) -> None:
    swarm, k8s = both(
        compose_app, "image: a:1\nports: [{target: 80, published: 8080, name: web, app_protocol: http}]\n"
    )
    assert container(k8s)["ports"] == [{"name": "web", "containerPort": 80, "protocol": "TCP"}]
    service_port = k8s.find("Service", "app")["spec"]["ports"][0]
    assert service_port["name"] == "web"
    assert service_port["appProtocol"] == "http"
    assert {"ports.name", "ports.app_protocol"} <= set(keys(swarm))
    assert "name" not in swarm.definition["services"]["app"]["ports"][0]
    assert stack_config(swarm.definition) is None


def test_a_port_name_kubernetes_refuses_is_reported(compose_app: ComposeApp) -> None:
    _swarm, k8s = both(compose_app, "image: a:1\nports: [{target: 80, name: Web_Port_Number_1}]\n")
    assert container(k8s)["ports"][0]["name"] == "tcp-80"
    assert "ports.name" in keys(k8s)


def test_network_options_are_reported_on_kubernetes(compose_app: ComposeApp, stack_config: StackConfig) -> None:
    swarm, k8s = both(
        compose_app,
        "image: a:1\nnetworks: [back]\n",
        """\
        networks:
          back:
            internal: true
            enable_ipv6: true
            driver_opts: {mtu: "1400"}
            labels: {tier: back}
            ipam: {config: [{subnet: 10.9.0.0/24}]}
        """,
    )
    top = [item.key for item in k8s.report if item.service is None]
    for key in (
        "networks.internal",
        "networks.enable_ipv6",
        "networks.driver_opts",
        "networks.labels",
        "networks.ipam",
    ):
        assert key in top
    internal = next(item for item in k8s.report if item.key == "networks.internal")
    assert "NetworkPolicy" in internal.message
    assert swarm.definition["networks"]["back"]["internal"] is True
    assert stack_config(swarm.definition) is None


def test_plain_depends_on_is_reported(compose_app: ComposeApp) -> None:
    swarm, k8s = both(compose_app, "image: a:1\ndepends_on: [db]\n")
    assert "depends_on" in keys(k8s)
    assert "depends_on" in keys(swarm)


def test_a_port_and_a_range_over_it_are_one_port(compose_app: ComposeApp, stack_config: StackConfig) -> None:
    swarm, k8s = both(compose_app, 'image: a:1\nports: ["3000", "3000-3002"]\n')
    targets = [port["target"] for port in swarm.definition["services"]["app"]["ports"]]
    assert targets == [3000, 3001, 3002]
    assert [port["containerPort"] for port in container(k8s)["ports"]] == [3000, 3001, 3002]
    assert stack_config(swarm.definition) is None


def test_a_null_label_is_empty(compose_app: ComposeApp, stack_config: StackConfig) -> None:
    swarm, k8s = both(compose_app, "image: a:1\nlabels: {a: null, b: x}\ndeploy: {labels: {c: null}}\n")
    assert swarm.definition["services"]["app"]["labels"] == {"a": "", "b": "x"}
    assert swarm.definition["services"]["app"]["deploy"]["labels"]["c"] == ""
    assert pod_annotations(k8s)["a"] == ""
    assert stack_config(swarm.definition) is None


def pod_annotations(manifests: KubernetesManifests) -> dict[str, str]:
    workload = next(item for item in manifests.workloads if item.service == "app")
    return manifests.find(workload.kind, workload.name)["spec"]["template"]["metadata"]["annotations"]


@pytest.mark.parametrize(
    "service",
    [
        pytest.param("image: a:1\ncpus: 0\nmem_limit: 0\n", id="service-keys"),
        pytest.param("image: a:1\ndeploy: {resources: {limits: {cpus: '0', memory: '0'}}}\n", id="deploy-resources"),
        pytest.param("image: a:1\npids_limit: -1\n", id="pids-unlimited"),
        pytest.param("image: a:1\npids_limit: 0\n", id="pids-zero"),
    ],
)
def test_zero_and_minus_one_mean_no_limit(compose_app: ComposeApp, stack_config: StackConfig, service: str) -> None:
    swarm, k8s = both(compose_app, service)
    assert "resources" not in swarm.definition["services"]["app"]["deploy"]
    assert "resources" not in container(k8s)
    assert keys(k8s) == []
    assert stack_config(swarm.definition) is None


def test_tmpfs_rw_is_the_default(compose_app: ComposeApp, stack_config: StackConfig) -> None:
    swarm, k8s = both(compose_app, "image: a:1\ntmpfs: ['/run:rw,size=64m', '/tmp:rw']\n")
    assert keys(swarm) == keys(k8s) == []
    assert stack_config(swarm.definition) is None


def test_a_binary_config_file(compose_app: ComposeApp) -> None:
    blob = bytes(range(256))
    app = compose_app(
        app_compose(
            "image: a:1\nconfigs: [logo]\nsecrets: [key]\n",
            "configs: {logo: {file: ./logo.png}}\nsecrets: {key: {file: ./key.der}}\n",
        ),
        files={"logo.png": blob, "key.der": blob},
    )
    encoded = base64.b64encode(blob).decode()
    k8s = render_kubernetes(app, KubernetesOptions(instance="shop-dev"))
    assert list(k8s.of_kind("ConfigMap")[0]["binaryData"].values()) == [encoded]
    assert list(k8s.of_kind("Secret")[0]["data"].values()) == [encoded]
    assert encoded in k8s.secret_values
    with pytest.raises(RenderError, match="config logo is a binary file"):
        render_swarm(app, SwarmOptions(stack_name="shop-dev"))


# --- pod specs the API server refuses although they pass the schemas ------------------------


def test_init_with_the_host_pid_namespace(compose_app: ComposeApp) -> None:
    _swarm, k8s = both(compose_app, "image: a:1\ninit: true\npid: host\n")
    spec = pod(k8s)
    assert spec["hostPID"] is True
    assert "shareProcessNamespace" not in spec
    assert "init" in keys(k8s)


def test_privileged_with_no_new_privileges(compose_app: ComposeApp) -> None:
    _swarm, k8s = both(compose_app, "image: a:1\nprivileged: true\nsecurity_opt: [no-new-privileges:true]\n")
    security = container(k8s)["securityContext"]
    assert security == {"privileged": True}
    assert "security_opt" in keys(k8s)


def test_host_gateway_is_no_address(compose_app: ComposeApp, stack_config: StackConfig) -> None:
    swarm, k8s = both(
        compose_app, 'image: a:1\nextra_hosts: ["host.docker.internal:host-gateway", "db.local:10.0.0.5"]\n'
    )
    assert pod(k8s)["hostAliases"] == [{"ip": "10.0.0.5", "hostnames": ["db.local"]}]
    assert "extra_hosts" in keys(k8s)
    assert stack_config(swarm.definition) is None


def test_more_than_three_dns_servers(compose_app: ComposeApp) -> None:
    _swarm, k8s = both(compose_app, "image: a:1\ndns: [1.1.1.1, 8.8.8.8, 9.9.9.9, 8.8.4.4]\n")
    assert pod(k8s)["dnsConfig"]["nameservers"] == ["1.1.1.1", "8.8.8.8", "9.9.9.9"]
    assert "dns" in keys(k8s)


def test_rollback_on_failure_is_reported_on_kubernetes(compose_app: ComposeApp) -> None:
    _swarm, k8s = both(compose_app, "image: a:1\ndeploy: {update_config: {failure_action: rollback}}\n")
    assert "deploy.update_config.failure_action" in keys(k8s)


def test_update_settings_of_a_job_are_reported(compose_app: ComposeApp) -> None:
    _swarm, k8s = both(compose_app, "image: a:1\ndeploy: {mode: replicated-job, update_config: {parallelism: 2}}\n")
    assert "deploy.update_config" in keys(k8s)


def test_the_renderer_runs_the_admission_check(compose_app: ComposeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """A manifest the API server would refuse is a render error, not a failed apply."""
    from ansible_collections.drover.platform.plugins.module_utils import _render_k8s

    app = compose_app(app_compose("image: a:1\n"))
    manifests = render_kubernetes(app, KubernetesOptions(instance="shop-dev"))
    assert _render_k8s.admission_problems(manifests.manifests) == []
    monkeypatch.setattr(_render_k8s, "admission_problems", lambda manifests: ["Deployment/app: spec: refused"])
    with pytest.raises(RenderError, match="the API server would refuse these manifests"):
        render_kubernetes(app, KubernetesOptions(instance="shop-dev"))


FUZZ_VALUES = ["x", "", 0, -1, 1.5, True, None, [], ["a"], [1], {}, {"a": 1}, [{"a": 1}], "0", "a=b", "1:2:3:4"]
FUZZ_BASE: dict[str, Any] = {
    "services": {
        "app": {
            "image": "a:1",
            "ports": ["80", {"target": 81, "name": "web"}],
            "expose": ["53/udp"],
            "volumes": ["data:/d", {"type": "tmpfs", "target": "/t", "tmpfs": {"size": "1m"}}],
            "tmpfs": ["/run:size=1m"],
            "deploy": {
                "replicas": 1,
                "labels": {"a": "b"},
                "update_config": {"parallelism": 1, "max_failure_ratio": 0.1, "order": "start-first"},
                "rollback_config": {"parallelism": 1},
                "resources": {"limits": {"cpus": "1", "memory": "1g"}, "reservations": {"memory": "1m"}},
                "placement": {"constraints": ["node.role==worker"], "preferences": [{"spread": "node.id"}]},
                "restart_policy": {"condition": "any", "max_attempts": 1},
            },
            "healthcheck": {"test": ["CMD", "true"], "interval": "1s", "retries": 1},
            "configs": [{"source": "c", "target": "/c", "mode": 0o440}],
            "secrets": ["s"],
            "networks": {"n": {"aliases": ["x"]}},
            "depends_on": {"db": {"condition": "service_healthy"}},
            "environment": {"A": "1"},
            "labels": ["a=b"],
            "extra_hosts": ["h:10.0.0.1"],
            "dns": ["1.1.1.1"],
        },
        "db": {"image": "db:1"},
    },
    "volumes": {"data": {"driver_opts": {"a": "b"}}},
    "networks": {"n": {"ipam": {"config": [{"subnet": "10.0.0.0/24"}]}, "internal": True}},
    "configs": {"c": {"content": "x"}},
    "secrets": {"s": {"content": "y"}},
}


def _places(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    places = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else []
    for key, value in items:
        places.append((*path, key))
        places.extend(_places(value, (*path, key)))
    return places


def test_no_traceback_for_any_value_in_any_place(tmp_path: Path) -> None:
    """Every place of a Compose file that uses most keys, and every service key, given values of every type:
    each load and render ends in a result or a typed error with a message."""
    from ansible_collections.drover.platform.plugins.module_utils._app_overlay import parse_overlay
    from ansible_collections.drover.platform.plugins.module_utils._compose_loader import build_app
    from ansible_collections.drover.platform.plugins.module_utils._compose_schema import SERVICE

    overlay = parse_overlay({"environment": "dev"})
    places = _places(FUZZ_BASE) + [("services", "app", key) for key in SERVICE]
    tracebacks = []
    for place in places:
        for value in FUZZ_VALUES:
            compose = copy.deepcopy(FUZZ_BASE)
            parent: Any = compose
            for step in place[:-1]:
                parent = parent[step]
            parent[place[-1]] = value
            try:
                app = build_app(compose, overlay, str(tmp_path), None, "compose.yml")
                render_swarm(app, SwarmOptions(stack_name="shop-dev"))
                render_kubernetes(app, KubernetesOptions(instance="shop-dev"))
            except AppError as error:
                assert str(error)
            except Exception as error:  # noqa: BLE001 - the point is to catch what is not typed
                tracebacks.append(f"{'.'.join(map(str, place))} = {value!r}: {type(error).__name__}: {error}")
    assert tracebacks == []
