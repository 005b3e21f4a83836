#!/usr/bin/env python
# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check a Docker host against sections 1-3 of the CIS Docker Benchmark (v1.6.0).

Runs on the host, as root, with nothing but Python's standard library: it
reads what the benchmark reads (daemon.json, the engine's command line,
`docker info`, the bridge networks' options, audit rules files and
`auditctl -l` where auditd runs, owners and modes of the engine's files) and
prints one line per item:

    PASS  2.14    no new privileges: true in daemon.json
    WARN  2.9     user namespace remapping: off   [argued: docs/host.md]

WARN marked "argued" is an exception docs/host.md gives the reason for;
INFO is an item the benchmark leaves to a person, or one that does not
apply to this host. The exit code is 1 when any WARN is not argued.

    tools/cis_check.py [--docker-users alice,bob] [--items 1.1,2]

Copy it to a host and run it there, e.g. through Ansible:
    ansible h1 -b -m ansible.builtin.script -a 'tools/cis_check.py --docker-users ""'
"""

from __future__ import annotations

import argparse
import glob
import grp
import json
import os
import pwd
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DOCS = "docs/host.md, 'The CIS Docker Benchmark'"

# Audit watches, 1.1.3-1.1.18: where each item's file may be. A unit file is
# looked up from systemd first (FragmentPath), these are the fall-backs.
AUDIT_ITEMS: list[tuple[str, str, tuple[str, ...]]] = [
    ("1.1.3", "dockerd", ("/usr/bin/dockerd", "/usr/sbin/dockerd")),
    ("1.1.4", "/run/containerd", ("/run/containerd",)),
    ("1.1.5", "/var/lib/docker", ("/var/lib/docker",)),
    ("1.1.6", "/etc/docker", ("/etc/docker",)),
    ("1.1.7", "docker.service", ("unit:docker.service",)),
    ("1.1.8", "containerd.socket", ("unit:containerd.socket",)),
    ("1.1.9", "docker.socket", ("unit:docker.socket",)),
    ("1.1.10", "/etc/default/docker", ("/etc/default/docker",)),
    ("1.1.11", "/etc/docker/daemon.json", ("/etc/docker/daemon.json",)),
    ("1.1.12", "/etc/containerd/config.toml", ("/etc/containerd/config.toml",)),
    ("1.1.13", "/etc/sysconfig/docker", ("/etc/sysconfig/docker",)),
    ("1.1.14", "containerd", ("/usr/bin/containerd",)),
    ("1.1.15", "containerd-shim", ("/usr/bin/containerd-shim",)),
    ("1.1.16", "containerd-shim-runc-v1", ("/usr/bin/containerd-shim-runc-v1",)),
    ("1.1.17", "containerd-shim-runc-v2", ("/usr/bin/containerd-shim-runc-v2",)),
    ("1.1.18", "runc", ("/usr/bin/runc", "/usr/sbin/runc")),
]

# Section 3: (owner item, mode item, what, where, owner:group, most open mode).
FILE_ITEMS: list[tuple[str, str, str, str, str, int]] = [
    ("3.1", "3.2", "docker.service", "unit:docker.service", "root:root", 0o644),
    ("3.3", "3.4", "docker.socket", "unit:docker.socket", "root:root", 0o644),
    ("3.5", "3.6", "/etc/docker", "/etc/docker", "root:root", 0o755),
    ("3.7", "3.8", "registry certificates", "glob:/etc/docker/certs.d/*/*", "root:root", 0o444),
    ("3.9", "3.10", "TLS CA certificate", "option:tlscacert", "root:root", 0o444),
    ("3.11", "3.12", "server certificate", "option:tlscert", "root:root", 0o444),
    ("3.13", "3.14", "server key", "option:tlskey", "root:root", 0o400),
    ("3.15", "3.16", "docker.sock", "/run/docker.sock", "root:docker", 0o660),
    ("3.17", "3.18", "daemon.json", "/etc/docker/daemon.json", "root:root", 0o644),
    ("3.19", "3.20", "/etc/default/docker", "/etc/default/docker", "root:root", 0o644),
    ("3.22", "3.21", "/etc/sysconfig/docker", "/etc/sysconfig/docker", "root:root", 0o644),
    ("3.23", "3.24", "containerd.sock", "/run/containerd/containerd.sock", "root:root", 0o660),
]


@dataclass(frozen=True)
class FileState:
    owner: str
    group: str
    mode: int


@dataclass
class HostState:
    """What the benchmark reads, gathered once; evaluate() only looks at this."""

    daemon_json: dict[str, Any] = field(default_factory=dict)
    dockerd_args: list[str] = field(default_factory=list)
    info: dict[str, Any] | None = None  # docker info; None when the engine does not answer
    bridges: dict[str, dict[str, str]] = field(default_factory=dict)  # bridge network -> options
    docker_group: list[str] | None = None  # members; None when there is no docker group
    units: dict[str, str] = field(default_factory=dict)  # unit -> its file
    files: dict[str, FileState] = field(default_factory=dict)  # path -> owner, group, mode (existing only)
    globbed: dict[str, list[str]] = field(default_factory=dict)  # glob pattern -> paths
    data_root_mounted: bool = False
    audit_file_watches: set[str] = field(default_factory=set)  # -w paths in the rules files
    audit_loaded_watches: set[str] | None = None  # -w paths in auditctl -l; None when auditd is not reachable
    audit_status: str = ""  # why auditctl could not be asked, when it could not
    realpaths: dict[str, str] = field(default_factory=dict)
    # The engine writes route_localnet when the userland proxy is off; a
    # container's /proc/sys is read-only, and the engine cannot start so.
    proc_sys_writable: bool = True


@dataclass(frozen=True)
class Result:
    item: str
    status: str  # PASS, WARN, INFO
    text: str
    argued: bool = False

    def line(self) -> str:
        return f"{self.status:<5} {self.item:<7} {self.text}" + (f"   [argued: {DOCS}]" if self.argued else "")


def parse_args_flags(args: list[str]) -> dict[str, str]:
    """dockerd's long options as name -> value ('true' for a bare flag); repeated options keep the last."""
    flags: dict[str, str] = {}
    for position, arg in enumerate(args):
        if not arg.startswith("--"):
            continue
        name, sep, value = arg[2:].partition("=")
        if not sep:
            following = args[position + 1] if position + 1 < len(args) else ""
            value = following if following and not following.startswith("-") and name in _VALUED_FLAGS else "true"
        flags[name] = value
    return flags


# Options that take a value in the next argument; the rest are booleans.
_VALUED_FLAGS = {
    "log-level",
    "insecure-registry",
    "host",
    "cgroup-parent",
    "storage-opt",
    "tlscacert",
    "tlscert",
    "tlskey",
    "userns-remap",
    "authorization-plugin",
    "containerd",
    "data-root",
}
# daemon.json name -> command-line name, where they differ.
_FLAG_NAMES = {
    "insecure-registries": "insecure-registry",
    "hosts": "host",
    "storage-opts": "storage-opt",
    "authorization-plugins": "authorization-plugin",
}


def option(state: HostState, key: str) -> Any:
    """A daemon option as the engine sees it: the command line, else daemon.json, else None."""
    flags = parse_args_flags(state.dockerd_args)
    flag = _FLAG_NAMES.get(key, key)
    if flag in flags:
        value = flags[flag]
        return {"true": True, "false": False}.get(value, value)
    return state.daemon_json.get(key)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _resolve(state: HostState, where: str) -> list[str]:
    """The paths a location stands for on this host."""
    kind, rest = where.split(":", 1) if ":" in where else (where, "")
    if kind == "unit":
        return [state.units[rest]] if rest in state.units else []
    if kind == "glob":
        return state.globbed.get(rest, [])
    if kind == "option":
        return [str(v) for v in _as_list(option(state, rest))]
    return [where]


def _same(state: HostState, a: str, b: str) -> bool:
    return a == b or state.realpaths.get(a, a) == state.realpaths.get(b, b)


def audit_results(state: HostState) -> list[Result]:
    results = []
    for item, what, wheres in AUDIT_ITEMS:
        candidates = [path for where in wheres for path in _resolve(state, where)]
        if item in ("1.1.7", "1.1.8", "1.1.9") and not candidates:
            unit = wheres[0].partition(":")[2]
            candidates = [f"/lib/systemd/system/{unit}", f"/usr/lib/systemd/system/{unit}"]
        present = [path for path in candidates if path in state.files]

        def watched(watches: set[str], paths: list[str]) -> bool:
            return any(_same(state, path, watch) for path in paths for watch in watches)

        # A watch on a file the host does not have yet (the engine comes after
        # the hardening role) still counts: it is the configured state.
        paths = present or candidates
        in_files = watched(state.audit_file_watches, paths)
        loaded = None if state.audit_loaded_watches is None else watched(state.audit_loaded_watches, paths)
        name = present[0] if present else f"{paths[0]} (not on this host yet)"
        if not present and not in_files:
            results.append(Result(item, "INFO", f"audit {what}: not on this host, no watch"))
        elif in_files and loaded is not False:
            where = "loaded" if loaded else "in the rules files (auditd not running)"
            results.append(Result(item, "PASS", f"audit {what}: {name} watched, {where}"))
        elif in_files:
            results.append(Result(item, "WARN", f"audit {what}: {name} in the rules files but not loaded"))
        else:
            results.append(Result(item, "WARN", f"audit {what}: no watch on {name}"))
    return results


def host_results(state: HostState, docker_users: list[str] | None) -> list[Result]:
    data_root = (state.info or {}).get("DockerRootDir", "/var/lib/docker")
    results = [
        Result(
            "1.1.1",
            "PASS" if state.data_root_mounted else "WARN",
            f"separate partition for {data_root}: {'yes' if state.data_root_mounted else 'no'}",
            argued=not state.data_root_mounted,
        )
    ]
    members = state.docker_group or []
    if docker_users is None:
        results.append(Result("1.1.2", "INFO", f"docker group members: {members or 'none'} (no list to compare)"))
    else:
        extra = sorted(set(members) - set(docker_users))
        results.append(
            Result(
                "1.1.2",
                "WARN" if extra else "PASS",
                f"docker group members not in docker_users: {extra}" if extra else f"docker group members: {members}",
            )
        )
    results += audit_results(state)
    version = (state.info or {}).get("ServerVersion", "unknown")
    results.append(Result("1.2.1", "INFO", "host hardened: manual (the hardening role: sshd, firewall, auditd)"))
    results.append(Result("1.2.2", "INFO", f"engine version up to date: manual (running {version})"))
    return results


def daemon_results(state: HostState) -> list[Result]:
    info = state.info or {}
    security = " ".join(info.get("SecurityOptions") or [])
    checks: list[tuple[str, bool, str, bool]] = []  # item, met, text, argued when not met

    def add(item: str, met: bool, text: str, argued: bool = False) -> None:
        checks.append((item, met, text, argued))

    default_bridge = state.bridges.get("bridge", {})
    icc_on = sorted(n for n, o in state.bridges.items() if o.get("com.docker.network.bridge.enable_icc") == "true")
    add(
        "2.2",
        not icc_on and default_bridge.get("com.docker.network.bridge.enable_icc") == "false",
        f"inter-container traffic on bridges: {'on in ' + ', '.join(icc_on) if icc_on else 'off'}",
    )
    add("2.3", option(state, "log-level") in (None, "info"), f"log level: {option(state, 'log-level') or 'info'}")
    iptables = option(state, "iptables")
    add(
        "2.4",
        iptables is not False,
        f"iptables managed by the engine: {'default (yes)' if iptables is None else iptables}",
    )
    insecure = _as_list(option(state, "insecure-registries"))
    add("2.5", not insecure, f"insecure registries: {insecure or 'none'}")
    add("2.6", info.get("Driver") != "aufs", f"storage driver: {info.get('Driver')}")
    tcp = [h for h in _as_list(option(state, "hosts")) if str(h).startswith("tcp://")]
    add(
        "2.7",
        not tcp or option(state, "tlsverify") is True,
        f"TCP sockets {tcp} with tlsverify {option(state, 'tlsverify')}" if tcp else "no TCP socket",
    )
    userns = "name=userns" in security
    add("2.9", userns, f"user namespace remapping: {'on' if userns else 'off'}", argued=True)
    add("2.10", option(state, "cgroup-parent") is None, f"cgroup parent: {option(state, 'cgroup-parent') or 'default'}")
    basesize = [o for o in _as_list(option(state, "storage-opts")) if str(o).startswith("dm.basesize")]
    add("2.11", not basesize, f"base device size: {basesize or 'default'}")
    authz = ((info.get("Plugins") or {}).get("Authorization")) or []
    add("2.12", bool(authz), f"authorization plugins: {authz or 'none'}", argued=True)
    driver = info.get("LoggingDriver")
    add("2.13", driver not in (None, "json-file", "local", "none"), f"central logging: log driver {driver}", True)
    nnp = option(state, "no-new-privileges")
    add("2.14", nnp is True, f"no new privileges: {'default (off)' if nnp is None else nnp}")
    swarm = (info.get("Swarm") or {}).get("LocalNodeState") == "active"
    live = bool(info.get("LiveRestoreEnabled"))
    add("2.15", live, f"live restore: {live}" + (" (a Swarm node: the engine forbids it)" if swarm else ""), swarm)
    proxy = option(state, "userland-proxy")
    kept = "" if state.proc_sys_writable else " (/proc/sys is read-only here: the engine needs the proxy)"
    add("2.16", proxy is False, f"userland proxy: {'default (on)' if proxy is None else proxy}{kept}", bool(kept))
    add("2.18", not info.get("ExperimentalBuild"), f"experimental features: {bool(info.get('ExperimentalBuild'))}")

    results = [Result("2.1", "INFO", "rootless engine: manual (not offered: Swarm needs a root engine)")]
    if state.info is None:
        return results + [
            Result(item, "WARN", f"{text} (the engine does not answer)") for item, _met, text, _argued in checks
        ]
    for item, met, text, argued in checks:
        results.append(Result(item, "PASS" if met else "WARN", text, argued=argued and not met))
    results.append(Result("2.8", "INFO", "default ulimits: manual"))
    results.append(Result("2.17", "INFO", f"seccomp: manual ({'default profile' if 'seccomp' in security else 'off'})"))
    return sorted(results, key=lambda r: tuple(int(p) for p in r.item.split(".")))


def file_results(state: HostState) -> list[Result]:
    results = []
    for owner_item, mode_item, what, where, owner, most in FILE_ITEMS:
        paths = [p for p in _resolve(state, where) if p in state.files]
        if not paths:
            results += [Result(i, "INFO", f"{what}: not on this host") for i in (owner_item, mode_item)]
            continue
        wrong_owner = [p for p in paths if f"{state.files[p].owner}:{state.files[p].group}" != owner]
        wrong_mode = [p for p in paths if state.files[p].mode & ~most]
        first = state.files[paths[0]]
        results.append(
            Result(
                owner_item,
                "WARN" if wrong_owner else "PASS",
                f"{what} owned by {owner}" + (f": not {wrong_owner}" if wrong_owner else f" ({len(paths)} file(s))"),
            )
        )
        results.append(
            Result(
                mode_item,
                "WARN" if wrong_mode else "PASS",
                f"{what} mode {oct(most)[2:]} or stricter"
                + (f": not {wrong_mode}" if wrong_mode else f" ({oct(first.mode)[2:]})"),
            )
        )
    return sorted(results, key=lambda r: tuple(int(p) for p in r.item.split(".")))


def evaluate(state: HostState, docker_users: list[str] | None = None) -> list[Result]:
    results = host_results(state, docker_users) + daemon_results(state) + file_results(state)
    if state.audit_loaded_watches is None:
        results.insert(0, Result("-", "INFO", f"auditd is not running: {state.audit_status or 'auditctl refused'}"))
    return results


def select(results: list[Result], prefixes: list[str]) -> list[Result]:
    if not prefixes:
        return results
    return [r for r in results if r.item == "-" or any(r.item == p or r.item.startswith(p + ".") for p in prefixes)]


def summary(results: list[Result]) -> tuple[str, int]:
    counted = [r for r in results if r.item != "-"]
    passed = sum(r.status == "PASS" for r in counted)
    warned = [r for r in counted if r.status == "WARN"]
    unargued = [r for r in warned if not r.argued]
    info = sum(r.status == "INFO" for r in counted)
    line = f"PASS {passed}  WARN {len(warned)} ({len(warned) - len(unargued)} argued, {len(unargued)} not)  INFO {info}"
    return line, 1 if unargued else 0


# --- gathering, on the host ----------------------------------------------


def _run(argv: list[str]) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(
            argv, capture_output=True, text=True, timeout=30, env={**os.environ, "LC_ALL": "C"}, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def _json(argv: list[str]) -> Any:
    done = _run(argv)
    if done is None or done.returncode != 0:
        return None
    try:
        return json.loads(done.stdout)
    except ValueError:
        return None


def _dockerd_args() -> list[str]:
    for comm in glob.glob("/proc/[0-9]*/comm"):
        try:
            with open(comm) as handle:
                if handle.read().strip() != "dockerd":
                    continue
            with open(comm[: -len("comm")] + "cmdline", "rb") as handle:
                return [a.decode() for a in handle.read().split(b"\0") if a]
        except OSError:
            continue
    return []


def _audit_watches(lines: list[str]) -> set[str]:
    watches = set()
    for line in lines:
        words = line.split()
        if len(words) >= 2 and words[0] == "-w":
            watches.add(words[1])
    return watches


def _stat(path: str) -> FileState | None:
    try:
        found = os.lstat(path)
    except OSError:
        return None

    def name(lookup: Callable[[int], Any], number: int) -> str:
        try:
            return str(lookup(number)[0])
        except KeyError:
            return str(number)

    return FileState(name(pwd.getpwuid, found.st_uid), name(grp.getgrgid, found.st_gid), stat.S_IMODE(found.st_mode))


def gather() -> HostState:
    state = HostState()
    try:
        with open("/etc/docker/daemon.json") as handle:
            state.daemon_json = json.load(handle)
    except (OSError, ValueError):
        state.daemon_json = {}
    state.dockerd_args = _dockerd_args()
    state.info = _json(["docker", "info", "--format", "{{json .}}"])
    listed = _run(["docker", "network", "ls", "--quiet", "--filter", "driver=bridge"])
    ids = listed.stdout.split() if listed is not None and listed.returncode == 0 else []
    for network in (_json(["docker", "network", "inspect", *ids]) if ids else None) or []:
        state.bridges[network.get("Name", "")] = network.get("Options") or {}
    try:
        state.docker_group = list(grp.getgrnam("docker").gr_mem)
    except KeyError:
        state.docker_group = None
    for unit in ("docker.service", "docker.socket", "containerd.socket"):
        shown = _run(["systemctl", "show", "--property=FragmentPath", "--value", unit])
        if shown is not None and shown.returncode == 0 and shown.stdout.strip():
            state.units[unit] = shown.stdout.strip()
    state.globbed["/etc/docker/certs.d/*/*"] = sorted(glob.glob("/etc/docker/certs.d/*/*"))

    rule_lines: list[str] = []
    for rules in sorted(glob.glob("/etc/audit/rules.d/*.rules")) + ["/etc/audit/audit.rules"]:
        try:
            with open(rules) as handle:
                rule_lines += handle.read().splitlines()
        except OSError:
            continue
    state.audit_file_watches = _audit_watches(rule_lines)
    status = _run(["auditctl", "-s"])
    listed_rules = _run(["auditctl", "-l"]) if status is not None and status.returncode == 0 else None
    if listed_rules is not None and listed_rules.returncode == 0:
        state.audit_loaded_watches = _audit_watches(listed_rules.stdout.splitlines())
    else:
        state.audit_status = "no auditctl" if status is None else (status.stderr or status.stdout).strip()

    paths = {p for audit_item in AUDIT_ITEMS for p in audit_item[2] if not p.startswith("unit:")}
    paths |= {
        p
        for unit in ("docker.service", "docker.socket", "containerd.socket")
        for p in (f"/lib/systemd/system/{unit}", f"/usr/lib/systemd/system/{unit}")
    }
    paths |= set(state.units.values()) | set(state.globbed["/etc/docker/certs.d/*/*"])
    paths |= {file_item[-3] for file_item in FILE_ITEMS if file_item[-3].startswith("/")}
    paths |= {str(v) for key in ("tlscacert", "tlscert", "tlskey") for v in _as_list(option(state, key))}
    paths |= state.audit_file_watches | (state.audit_loaded_watches or set())
    for path in paths:
        found = _stat(path)
        if found is not None:
            state.files[path] = found
        state.realpaths[path] = os.path.realpath(path)

    state.proc_sys_writable = os.access("/proc/sys/net/ipv4/conf/all/route_localnet", os.W_OK)
    data_root = (state.info or {}).get("DockerRootDir", "/var/lib/docker")
    try:
        with open("/proc/self/mountinfo") as handle:
            state.data_root_mounted = any(line.split()[4] == data_root for line in handle)
    except OSError:
        state.data_root_mounted = False
    return state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="CIS Docker Benchmark sections 1-3, the items drover.platform sets.")
    parser.add_argument("--docker-users", help="comma-separated users allowed in the docker group (1.1.2)")
    parser.add_argument("--items", default="", help="comma-separated item prefixes to report, e.g. 1.1,2")
    args = parser.parse_args(argv)
    users = None if args.docker_users is None else [u for u in args.docker_users.split(",") if u]
    results = select(evaluate(gather(), users), [p for p in args.items.split(",") if p])
    for result in results:
        print(result.line())
    line, code = summary(results)
    print(line)
    return code


if __name__ == "__main__":
    sys.exit(main())
