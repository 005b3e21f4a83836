# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The admission check: what the API server refuses although the JSON schemas pass it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.module_utils._render_k8s_admission import (
    admission_problems,
    quantity_value,
)

from .conftest import schema_problems

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop", "labels": {"app.kubernetes.io/name": "web"}},
    "spec": {
        "selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "web:1",
                        "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                        "resources": {"limits": {"memory": "256Mi"}, "requests": {"memory": "128Mi"}},
                    }
                ],
                "volumes": [{"name": "data", "emptyDir": {}}],
            },
        },
    },
}
SERVICE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web"},
    "spec": {"selector": {"app.kubernetes.io/name": "web"}, "ports": [{"name": "http", "port": 80}]},
}


def pod(manifest: dict[str, Any]) -> dict[str, Any]:
    return manifest["spec"]["template"]["spec"]


def container(manifest: dict[str, Any]) -> dict[str, Any]:
    return pod(manifest)["containers"][0]


def changed(base: dict[str, Any], change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    manifest = copy.deepcopy(base)
    change(manifest)
    return manifest


CASES = [
    (
        "init-and-host-pid",
        DEPLOYMENT,
        lambda m: pod(m).update(shareProcessNamespace=True, hostPID=True),
        "exclude each other",
    ),
    (
        "privileged-no-escalation",
        DEPLOYMENT,
        lambda m: container(m).update(securityContext={"privileged": True, "allowPrivilegeEscalation": False}),
        "cannot disallow privilege escalation",
    ),
    (
        "host-gateway-alias",
        DEPLOYMENT,
        lambda m: pod(m).update(hostAliases=[{"ip": "host-gateway", "hostnames": ["h"]}]),
        "'host-gateway' is no IP address",
    ),
    (
        "four-dns-servers",
        DEPLOYMENT,
        lambda m: pod(m).update(dnsConfig={"nameservers": ["1.1.1.1"] * 4}),
        "at most 3 servers",
    ),
    (
        "dns-server-name",
        DEPLOYMENT,
        lambda m: pod(m).update(dnsConfig={"nameservers": ["dns.local"]}),
        "is no IP address",
    ),
    (
        "two-mounts-one-path",
        DEPLOYMENT,
        lambda m: container(m)["volumeMounts"].append({"name": "data", "mountPath": "/data/"}),
        "two mounts' paths are named /data",
    ),
    (
        "two-volumes-one-name",
        DEPLOYMENT,
        lambda m: pod(m)["volumes"].append({"name": "data", "emptyDir": {}}),
        "two volumes are named data",
    ),
    (
        "mount-of-no-volume",
        DEPLOYMENT,
        lambda m: container(m)["volumeMounts"].append({"name": "other", "mountPath": "/o"}),
        "which is no volume of the pod",
    ),
    (
        "volume-name",
        DEPLOYMENT,
        lambda m: pod(m)["volumes"].append({"name": "My_Data", "emptyDir": {}}),
        "'My_Data' is no DNS label",
    ),
    (
        "mode-over-0777",
        DEPLOYMENT,
        lambda m: pod(m)["volumes"].append({"name": "c", "configMap": {"name": "c", "defaultMode": 644}}),
        "644 is over 0777",
    ),
    (
        "port-name-too-long",
        DEPLOYMENT,
        lambda m: container(m)["ports"][0].update(name="a-very-long-port-name"),
        "is no port name",
    ),
    ("port-name-no-letter", DEPLOYMENT, lambda m: container(m)["ports"][0].update(name="8080"), "is no port name"),
    ("port-name-uppercase", DEPLOYMENT, lambda m: container(m)["ports"][0].update(name="HTTP"), "is no port name"),
    (
        "port-name-twice",
        DEPLOYMENT,
        lambda m: container(m)["ports"].append({"name": "http", "containerPort": 81}),
        "two ports are named http",
    ),
    ("label-value", DEPLOYMENT, lambda m: m["metadata"]["labels"].update(tier="front end"), "is no label value"),
    ("label-value-too-long", DEPLOYMENT, lambda m: m["metadata"]["labels"].update(tier="x" * 64), "is no label value"),
    ("label-key", DEPLOYMENT, lambda m: m["metadata"]["labels"].update({"a b": "c"}), "is no label key"),
    (
        "quantity",
        DEPLOYMENT,
        lambda m: container(m)["resources"]["limits"].update(memory="256MB"),
        "'256MB' is no quantity",
    ),
    (
        "request-over-limit",
        DEPLOYMENT,
        lambda m: container(m)["resources"]["requests"].update(memory="512Mi"),
        "the request 512Mi is over the limit 256Mi",
    ),
    ("container-name", DEPLOYMENT, lambda m: container(m).update(name="Web"), "'Web' is no DNS label"),
    ("service-name-digit-first", SERVICE, lambda m: m["metadata"].update(name="1web"), "is no DNS-1035 label"),
    ("service-ports-unnamed", SERVICE, lambda m: m["spec"]["ports"].append({"port": 81}), "names each"),
    ("service-port-number", SERVICE, lambda m: m["spec"]["ports"][0].update(port=70000), "is no port number"),
]


def test_the_base_manifests_are_admitted() -> None:
    assert admission_problems([DEPLOYMENT, SERVICE]) == []


@pytest.mark.parametrize(("base", "change", "message"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_refused(base: dict[str, Any], change: Callable[[dict[str, Any]], object], message: str) -> None:
    manifest = changed(base, change)
    problems = admission_problems([manifest])
    assert any(message in problem for problem in problems), problems


@pytest.mark.parametrize(
    "case",
    ["init-and-host-pid", "privileged-no-escalation", "two-mounts-one-path", "mode-over-0777", "port-name-twice"],
)
def test_the_schemas_do_not_see_it(case: str) -> None:
    """These pass the strict JSON schemas: only the admission check stops them."""
    _name, base, change, _message = next(item for item in CASES if item[0] == case)
    assert schema_problems(changed(base, change), "1.37.0") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [("500m", 0.5), ("2", 2.0), ("1Gi", 2.0**30), ("1.5G", 1.5e9), ("128Mi", 128 * 2.0**20), ("1k", 1000.0)],
)
def test_quantity_value(text: str, value: float) -> None:
    assert quantity_value(text) == value
