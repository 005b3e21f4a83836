# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The microk8s_join module's plans, and the readers they need.

* `microk8s kubectl get nodes -o wide`: the columns by the header.
* `microk8s add-node`: the `microk8s join ADDRESS/TOKEN/CHECK` lines of its
  default output (every version prints those), or its JSON, YAML or short
  output.
* `microk8s join`: success, or which of the known refusals it printed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._command import MASK
from ansible_collections.drover.platform.plugins.module_utils._microk8s import (
    WORKER_MARK,
    CommandError,
    CommandTimeoutError,
    JoinError,
    MicroK8sCli,
    MicroK8sError,
    WorkerNodeError,
    read_status,
    require_running,
    tail,
)
from ansible_collections.drover.platform.plugins.module_utils._outcome import Outcome, changed_outcome

JOIN_PORT = 25000
TOKEN_MIN_LENGTH = 32
MODES = ("issue", "join")
TOKEN = re.compile(r"^[A-Za-z0-9]+$")
FINGERPRINT = re.compile(r"^[0-9a-f]{12,64}$")
HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$")
JOIN_LINE = re.compile(r"microk8s[ .]join\s+(\S+)")


@dataclass(frozen=True)
class Node:
    name: str
    status: str
    internal_ip: str | None = None
    external_ip: str | None = None

    def matches(self, wanted: str) -> bool:
        wanted = wanted.strip().lower()
        return wanted in {self.name.lower(), (self.internal_ip or "").lower(), (self.external_ip or "").lower()}


def parse_nodes(text: str) -> list[Node]:
    """`kubectl get nodes`, with or without `-o wide`, by its header.

    The columns up to EXTERNAL-IP never hold a space, so a row's words line
    up with the header's there; OS-IMAGE, further right, may.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or lines[0].startswith("No resources found"):
        return []
    header = lines[0].split()
    if header[:2] != ["NAME", "STATUS"]:
        raise MicroK8sError(f"`kubectl get nodes` printed no NAME STATUS header but {lines[0]!r}")

    def column(words: list[str], title: str) -> str | None:
        if title not in header or header.index(title) >= len(words):
            return None
        value = words[header.index(title)]
        return None if value == "<none>" else value

    nodes = []
    for line in lines[1:]:
        words = line.split()
        nodes.append(
            Node(
                name=words[0],
                status=column(words, "STATUS") or "",
                internal_ip=column(words, "INTERNAL-IP"),
                external_ip=column(words, "EXTERNAL-IP"),
            )
        )
    return nodes


def read_nodes(cli: MicroK8sCli) -> list[Node]:
    result = cli.run(["kubectl", "get", "nodes", "-o", "wide"], check=False)
    if WORKER_MARK in result.output:
        raise WorkerNodeError(
            "this node joined its cluster as a worker and cannot list the cluster's nodes; "
            "run mode=issue on a control plane node"
        )
    if result.rc != 0:
        raise CommandError(result.argv, result.rc, result.stdout, result.stderr)
    return parse_nodes(result.stdout)


# `microk8s add-node` and `microk8s join`


@dataclass(frozen=True)
class Connection:
    """ADDRESS:PORT/TOKEN[/CHECK], what `microk8s join` takes."""

    endpoint: str
    token: str
    fingerprint: str | None = None

    @property
    def text(self) -> str:
        return "/".join(part for part in (self.endpoint, self.token, self.fingerprint) if part)


def parse_connection(text: str) -> Connection:
    parts = text.strip().split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise MicroK8sError(f"{text!r} is not a join connection string ADDRESS:PORT/TOKEN[/CHECK]")
    return Connection(parse_endpoint(parts[0]), parts[1], parts[2] if len(parts) == 3 else None)


def parse_endpoint(text: str) -> str:
    """HOST or HOST:PORT into HOST:PORT, the cluster agent's port 25000 by default."""
    text = text.strip()
    host, port = text, str(JOIN_PORT)
    bracketed = text.startswith("[")
    if (bracketed and "]:" in text) or (not bracketed and text.count(":") == 1):
        host, port = text.rsplit(":", 1)
    if not HOST.match(host) or not port.isdigit() or not 0 < int(port) < 65536:
        raise MicroK8sError(f"{text!r} is not an address of the cluster agent, HOST or HOST:PORT (port {JOIN_PORT})")
    return f"{host}:{port}"


def parse_add_node(text: str) -> list[Connection]:
    """The connection strings `microk8s add-node` printed, first the default address, without repeats."""
    stripped = text.strip()
    strings: list[str] = []
    if stripped.startswith("{"):
        try:
            strings = list(json.loads(stripped)["urls"])
        except (ValueError, KeyError, TypeError) as error:
            raise MicroK8sError(f"`microk8s add-node --format json` printed what cannot be read: {error}") from None
    elif stripped.startswith(("token:", "urls:")):
        strings = [line.strip()[2:].strip() for line in stripped.splitlines() if line.strip().startswith("- ")]
    else:
        strings = JOIN_LINE.findall(text)
    connections: list[Connection] = []
    for string in strings:
        connection = parse_connection(string)
        if connection not in connections:
            connections.append(connection)
    if not connections:
        raise MicroK8sError(f"`microk8s add-node` printed no `microk8s join` line: {tail(text) or 'nothing'}")
    return connections


def check_token(token: str) -> None:
    if len(token) < TOKEN_MIN_LENGTH or not TOKEN.match(token):
        raise MicroK8sError(
            f"the join token must be at least {TOKEN_MIN_LENGTH} letters or digits "
            f"(microk8s add-node refuses shorter ones); this one has {len(token)} characters"
        )


# Known refusals of `microk8s join`, first match wins: the words to find in
# its output (lower case), and what to do about them.
JOIN_FAILURES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("invalid token",),
        "the cluster at {endpoint} refused the token: it is wrong, expired (token_ttl), or was a single-use token "
        "already spent. Issue a new one with mode=issue on the first node and join with it",
    ),
    (
        ("already known to dqlite",),
        "the cluster at {endpoint} already knows this node's address from an earlier join attempt. Remove it there "
        "with `microk8s remove-node <this node's address> --force`, then join again",
    ),
    (
        ("should resolve to",),
        "the cluster at {endpoint} cannot resolve this node's hostname to the address it connects from. Make the "
        "hostname resolvable on every control plane node (DNS or /etc/hosts), then join again",
    ),
    (
        ("could not verify the identity", "fingerprint too short"),
        "the certificate of {endpoint} does not match the fingerprint given; check that the address is the cluster's "
        "and that the fingerprint comes from its add-node output",
    ),
    (("not have enough ram",), "this node has too little memory to run the control plane; join it with worker=true"),
    (
        (
            "no route to host",
            "connection refused",
            "timed out",
            "name or service not known",
            "temporary failure in name resolution",
            "please ensure the master node is reachable",
            "connecting to cluster failed",
        ),
        "cannot reach the cluster agent at {endpoint}: check the address, that microk8s runs there, and that TCP port "
        "{port} is open between the nodes",
    ),
)


def join_failure(output: str, endpoint: str) -> str | None:
    """What to do about a failed join, when its output says why; None when it does not."""
    lowered = output.lower()
    port = endpoint.rpartition(":")[2]
    for words, advice in JOIN_FAILURES:
        if any(word in lowered for word in words):
            return advice.format(endpoint=endpoint, port=port)
    return None


@dataclass(frozen=True)
class IssueRequest:
    token: str
    nodes: Sequence[str]
    token_ttl: int = 3600
    timeout: int = 300


@dataclass(frozen=True)
class JoinRequest:
    address: str
    token: str
    worker: bool = False
    fingerprint: str | None = None
    timeout: int = 300


def run_issue(cli: MicroK8sCli, request: IssueRequest, check_mode: bool = False) -> Outcome:
    """On a control plane node: issue a join token when an expected node is not in the cluster."""
    check_token(request.token)
    if request.token_ttl == 0 or request.token_ttl < -1:
        raise MicroK8sError("token_ttl must be a number of seconds, or -1 for a token that serves one join")
    status = read_status(cli, request.timeout)
    if status.worker:
        raise WorkerNodeError(
            "this node joined its cluster as a worker; run mode=issue on a control plane node, the one the others join"
        )
    require_running(status, request.timeout)
    nodes = read_nodes(cli)
    wanted = [node.strip() for node in request.nodes if node.strip()]
    missing = [node for node in wanted if not any(present.matches(node) for present in nodes)]
    result: dict[str, Any] = {
        "nodes": [node.name for node in nodes],
        "missing": missing,
        "join_addresses": [],
        "join_endpoints": [],
        "fingerprint": None,
        "stdout": "",
    }
    before = {"nodes": result["nodes"], "missing": missing, "join_token": "none"}
    if not missing:
        return changed_outcome(False, result, diff={"before": before, "after": before})
    ttl = "single use" if request.token_ttl == -1 else f"valid {request.token_ttl} seconds"
    diff = {"before": before, "after": {**before, "join_token": ttl}}
    if check_mode:
        return changed_outcome(True, result, diff=diff)

    done = cli.run(
        ["add-node", "--token", request.token, "--token-ttl", str(request.token_ttl)], timeout=request.timeout
    )
    connections = parse_add_node(done.stdout)
    if any(connection.token not in (request.token, MASK) for connection in connections):
        raise MicroK8sError(
            "`microk8s add-node` printed another token than the one given; this microk8s ignores --token, upgrade it"
        )
    result.update(
        join_addresses=[Connection(c.endpoint, request.token, c.fingerprint).text for c in connections],
        join_endpoints=list(dict.fromkeys(connection.endpoint for connection in connections)),
        fingerprint=connections[0].fingerprint,
        stdout=done.stdout,
    )
    return changed_outcome(True, result, diff=diff)


def run_join(cli: MicroK8sCli, request: JoinRequest, check_mode: bool = False) -> Outcome:
    """On a joining node: join the cluster at the address unless this node is in a cluster already."""
    check_token(request.token)
    endpoint = parse_endpoint(request.address)
    if request.fingerprint is not None and not FINGERPRINT.match(request.fingerprint):
        raise MicroK8sError(f"the fingerprint {request.fingerprint!r} is not the hex CHECK part of a join string")
    connection = Connection(endpoint, request.token, request.fingerprint)
    result: dict[str, Any] = {"joined": True, "worker": request.worker, "nodes": [], "stdout": ""}
    warnings: list[str] = []

    status = read_status(cli, request.timeout)
    if status.worker:
        if not request.worker:
            warnings.append(
                "this node is in a cluster as a worker, not the control plane node asked for; "
                "`microk8s leave` it and join again to change that"
            )
        return changed_outcome(False, result, warnings, {"before": {"joined": True}, "after": {"joined": True}})
    require_running(status, request.timeout)
    nodes = read_nodes(cli)
    result["nodes"] = [node.name for node in nodes]
    if len(nodes) > 1 or len(status.ha_nodes) > 1:
        host = endpoint.rpartition(":")[0].strip("[]")
        if nodes and not any(node.matches(host) for node in nodes):
            warnings.append(
                f"this node is in a cluster already (nodes: {', '.join(result['nodes'])}), "
                f"which does not list {host}; nothing was joined"
            )
        if request.worker:
            warnings.append("this node is in a cluster as a control plane node, not the worker asked for")
        return changed_outcome(False, result, warnings, {"before": {"joined": True}, "after": {"joined": True}})

    result["joined"] = False
    diff = {"before": {"joined": False}, "after": {"joined": True, "address": endpoint, "worker": request.worker}}
    if check_mode:
        result["joined"] = True
        return changed_outcome(True, result, warnings, diff)
    args = ["join", connection.text] + (["--worker"] if request.worker else [])
    try:
        done = cli.run(args, check=False, timeout=request.timeout)
    except CommandTimeoutError as error:
        raise JoinError(
            f"`microk8s join` to {endpoint} did not finish within {request.timeout} seconds; it "
            f"printed: {tail(error.stderr + chr(10) + error.stdout) or 'nothing'}"
        ) from None
    result["stdout"] = done.stdout
    # A printed refusal or traceback is a failure whatever the exit code says.
    if done.rc != 0 or "Connection failed" in done.output or "Traceback" in done.output:
        advice = join_failure(done.output, endpoint) or "see what it printed"
        raise JoinError(
            f"`microk8s join` to {endpoint} failed (rc {done.rc}): {advice}. "
            f"It printed: {tail(done.output) or 'nothing'}"
        )
    result["joined"] = True
    return changed_outcome(True, result, warnings, diff)
