# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tools/cis_check.py judged on host states written out by hand."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

_SPEC = importlib.util.spec_from_file_location("cis_check", Path(__file__).resolve().parents[2] / "tools/cis_check.py")
assert _SPEC is not None and _SPEC.loader is not None
cis: ModuleType = importlib.util.module_from_spec(_SPEC)
sys.modules["cis_check"] = cis
_SPEC.loader.exec_module(cis)

ROOT_644 = cis.FileState("root", "root", 0o644)
ENGINE_FILES = {
    "/usr/sbin/dockerd": cis.FileState("root", "root", 0o755),
    "/usr/bin/containerd": cis.FileState("root", "root", 0o755),
    "/usr/bin/runc": cis.FileState("root", "root", 0o777),
    "/usr/sbin/runc": cis.FileState("root", "root", 0o755),
    "/var/lib/docker": cis.FileState("root", "root", 0o710),
    "/etc/docker": cis.FileState("root", "root", 0o755),
    "/etc/docker/daemon.json": ROOT_644,
    "/etc/default/docker": ROOT_644,
    "/lib/systemd/system/docker.service": ROOT_644,
    "/lib/systemd/system/docker.socket": ROOT_644,
    "/run/docker.sock": cis.FileState("root", "docker", 0o660),
    "/run/containerd/containerd.sock": cis.FileState("root", "root", 0o660),
    "/etc/docker/certs.d/198.18.4.11:5000/ca.crt": cis.FileState("root", "root", 0o444),
}
HARDENED_JSON = {"icc": False, "no-new-privileges": True, "userland-proxy": False, "live-restore": False}
SWARM_INFO = {
    "ServerVersion": "20.10.24",
    "Driver": "overlay2",
    "LoggingDriver": "json-file",
    "SecurityOptions": ["name=seccomp,profile=default"],
    "Plugins": {"Authorization": None},
    "LiveRestoreEnabled": False,
    "ExperimentalBuild": False,
    "DockerRootDir": "/var/lib/docker",
    "Swarm": {"LocalNodeState": "active"},
}


def host(**changes: Any) -> Any:
    state = cis.HostState(
        daemon_json=dict(HARDENED_JSON),
        dockerd_args=["/usr/sbin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock"],
        info=dict(SWARM_INFO),
        bridges={"bridge": {"com.docker.network.bridge.enable_icc": "false"}, "docker_gwbridge": {}},
        docker_group=["deploy"],
        units={
            "docker.service": "/lib/systemd/system/docker.service",
            "docker.socket": "/lib/systemd/system/docker.socket",
        },
        files=dict(ENGINE_FILES),
        globbed={"/etc/docker/certs.d/*/*": ["/etc/docker/certs.d/198.18.4.11:5000/ca.crt"]},
        data_root_mounted=True,
        # What the hardening role writes: no /etc/sysconfig on Debian.
        audit_file_watches={
            p for item in cis.AUDIT_ITEMS for p in item[2] if p.startswith("/") and "sysconfig" not in p
        }
        | {"/lib/systemd/system/docker.service", "/lib/systemd/system/docker.socket"},
        audit_loaded_watches=None,
        audit_status="Error sending status request (Connection refused)",
    )
    for key, value in changes.items():
        setattr(state, key, value)
    return state


def by_item(results: list[Any]) -> dict[str, Any]:
    return {r.item: r for r in results}


def test_a_hardened_swarm_node_passes_with_its_argued_exceptions() -> None:
    results = cis.evaluate(host(), ["deploy"])
    line, code = cis.summary(results)
    assert code == 0, [r.line() for r in results if r.status == "WARN"]
    warned = {r.item for r in results if r.status == "WARN"}
    assert warned == {"2.9", "2.12", "2.13", "2.15"}
    assert all(r.argued for r in results if r.status == "WARN")
    assert "auditd is not running" in results[0].text
    assert by_item(results)["1.1.3"].status == "PASS"
    assert "auditd not running" in by_item(results)["1.1.3"].text
    assert by_item(results)["1.1.13"].status == "INFO"  # Red Hat's file, not on Debian
    assert line.startswith("PASS ")


def test_the_engine_s_old_defaults_fail() -> None:
    unhardened = host(
        daemon_json={"log-driver": "json-file"},
        bridges={"bridge": {"com.docker.network.bridge.enable_icc": "true"}},
        audit_file_watches=set(),
        files={**ENGINE_FILES, "/etc/docker/certs.d/198.18.4.11:5000/ca.crt": ROOT_644},
    )
    results = by_item(cis.evaluate(unhardened, ["deploy"]))
    assert cis.summary(list(results.values()))[1] == 1
    for item in ("2.2", "2.14", "2.16", "1.1.3", "1.1.5", "1.1.18", "3.8"):
        assert results[item].status == "WARN" and not results[item].argued, results[item].line()


@pytest.mark.parametrize(
    ("changes", "item", "status"),
    [
        pytest.param({"audit_loaded_watches": set()}, "1.1.6", "WARN", id="rules-written-not-loaded"),
        pytest.param({"audit_loaded_watches": {"/etc/docker"}}, "1.1.6", "PASS", id="rules-loaded"),
        pytest.param({"docker_group": ["deploy", "mallory"]}, "1.1.2", "WARN", id="unlisted-docker-user"),
        pytest.param({"dockerd_args": ["dockerd", "--icc=true"]}, "2.14", "PASS", id="flag-other-key"),
        pytest.param({"dockerd_args": ["dockerd", "--userland-proxy=true"]}, "2.16", "WARN", id="flag-beats-json"),
        pytest.param(
            {"daemon_json": {**HARDENED_JSON, "insecure-registries": ["r:5000"]}}, "2.5", "WARN", id="insecure-registry"
        ),
        pytest.param(
            {"daemon_json": {**HARDENED_JSON, "hosts": ["tcp://0.0.0.0:2375"]}}, "2.7", "WARN", id="tcp-without-tls"
        ),
        pytest.param(
            {
                "bridges": {
                    "bridge": {"com.docker.network.bridge.enable_icc": "false"},
                    "mine": {"com.docker.network.bridge.enable_icc": "true"},
                }
            },
            "2.2",
            "WARN",
            id="icc-on-another-bridge",
        ),
        pytest.param(
            {"info": {**SWARM_INFO, "Swarm": {"LocalNodeState": "inactive"}}},
            "2.15",
            "WARN",
            id="live-restore-off-without-swarm",
        ),
        pytest.param({"info": {**SWARM_INFO, "SecurityOptions": ["name=userns"]}}, "2.9", "PASS", id="userns-on"),
        pytest.param(
            {"files": {**ENGINE_FILES, "/etc/docker/daemon.json": cis.FileState("root", "root", 0o666)}},
            "3.18",
            "WARN",
            id="daemon-json-writable",
        ),
        pytest.param(
            {"files": {**ENGINE_FILES, "/run/docker.sock": cis.FileState("root", "root", 0o660)}},
            "3.15",
            "WARN",
            id="socket-group",
        ),
        pytest.param({"info": None}, "2.14", "WARN", id="engine-not-answering"),
    ],
)
def test_items(changes: dict[str, Any], item: str, status: str) -> None:
    result = by_item(cis.evaluate(host(**changes), ["deploy"]))[item]
    assert result.status == status, result.line()
    if status == "WARN":
        assert not result.argued
        assert cis.summary(cis.evaluate(host(**changes), ["deploy"]))[1] == 1


def test_the_userland_proxy_kept_where_proc_sys_is_read_only_is_argued() -> None:
    kept = host(daemon_json={**HARDENED_JSON, "userland-proxy": True}, proc_sys_writable=False)
    result = by_item(cis.evaluate(kept))["2.16"]
    assert result.status == "WARN" and result.argued and "read-only" in result.text
    result = by_item(cis.evaluate(host(daemon_json={**HARDENED_JSON, "userland-proxy": True})))["2.16"]
    assert result.status == "WARN" and not result.argued


def test_a_watch_through_a_link_counts() -> None:
    state = host(audit_file_watches={"/usr/sbin/runc"}, realpaths={"/usr/bin/runc": "/usr/sbin/runc"})
    assert by_item(cis.evaluate(state))["1.1.18"].status == "PASS"


def test_a_watch_on_a_file_not_installed_yet_counts_and_none_is_info() -> None:
    files = {p: f for p, f in ENGINE_FILES.items() if "containerd" not in p}
    results = by_item(cis.evaluate(host(files=files)))
    assert results["1.1.14"].status == "PASS" and "not on this host yet" in results["1.1.14"].text
    results = by_item(cis.evaluate(host(files=files, audit_file_watches=set())))
    assert results["1.1.14"].status == "INFO"
    assert results["1.1.3"].status == "WARN"


def test_items_can_be_selected() -> None:
    chosen = cis.select(cis.evaluate(host()), ["1.1"])
    assert {r.item for r in chosen if r.item != "-"} == {f"1.1.{n}" for n in range(1, 19)}


def test_dockerd_flags() -> None:
    assert cis.parse_args_flags(["dockerd", "-H", "fd://", "--log-level", "debug", "--live-restore"]) == {
        "log-level": "debug",
        "live-restore": "true",
    }
