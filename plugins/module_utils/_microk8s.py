# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The microk8s CLI as one small runner, readers for what it prints, and the
plans of the microk8s_addon and microk8s_join modules.

Nothing here starts a process: MicroK8sCli is handed a function that does
(AnsibleModule.run_command in the modules, a fake replaying recorded output
in the tests). Every reader works on text microk8s really prints; the
fixtures under tests/unit/fixtures/microk8s/ say where each sample comes
from.

* `microk8s status --format yaml`: read line by line rather than with a YAML
  library. microk8s prints it with print() and format strings, not a YAML
  dumper, so an addon description holding ": " would not be valid YAML, and
  PyYAML need not be on the node.
* `microk8s kubectl get nodes -o wide`: the columns by the header.
* `microk8s add-node`: the `microk8s join ADDRESS/TOKEN/CHECK` lines of its
  default output (every version prints those), or its JSON, YAML or short
  output.
* `microk8s join`: success, or which of the known refusals it printed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

MICROK8S = "/snap/bin/microk8s"
# Messages are matched, so they must not be translated.
ENVIRONMENT = {"LC_ALL": "C", "LANG": "C"}
# argv and the environment entries to add; returns (rc, stdout, stderr).
RunCommand = Callable[[list[str], dict[str, str]], tuple[int, str, str]]

JOIN_PORT = 25000
TOKEN_MIN_LENGTH = 32
ADDON_STATES = ("enabled", "disabled")
MODES = ("issue", "join")
MASK = "********"
# coreutils timeout: rc 124 when the time ran out, 137 when the command had to
# be killed after --kill-after.
TIMEOUT_RCS = (124, 137)
KILL_AFTER = 30

# What microk8s prints instead of an answer (scripts/wrappers/common/utils.py).
WORKER_MARK = "acting as a node in a cluster"
STOPPED_MARK = "microk8s is not running, try microk8s start"
NO_PERMISSION_MARK = "Insufficient permissions to access MicroK8s"

ADDON_NAME = re.compile(r"^(?:(?P<repository>[A-Za-z0-9][A-Za-z0-9_.-]*)/)?(?P<name>[a-z0-9][a-z0-9-]*)$")
TOKEN = re.compile(r"^[A-Za-z0-9]+$")
FINGERPRINT = re.compile(r"^[0-9a-f]{12,64}$")
HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$")
JOIN_LINE = re.compile(r"microk8s[ .]join\s+(\S+)")


class MicroK8sError(Exception):
    """Base of this module's errors; the message says what to do."""


class CommandError(MicroK8sError):
    """A microk8s command that failed, or answered what cannot be read."""

    def __init__(self, argv: Sequence[str], rc: int, stdout: str, stderr: str, reason: str | None = None) -> None:
        self.argv = list(argv)
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        detail = reason or tail(stderr + "\n" + stdout) or "no output"
        super().__init__(f"`{' '.join(self.argv)}` failed (rc {rc}): {detail}")


class CommandTimeoutError(CommandError):
    """A microk8s command that did not finish in the time given."""


class NotRunningError(MicroK8sError):
    """microk8s is installed but does not answer."""


class WorkerNodeError(MicroK8sError):
    """The node joined a cluster as a worker; it runs no control plane to ask."""


class AddonNotFoundError(MicroK8sError):
    """The addon is not in the status microk8s prints."""


class JoinError(MicroK8sError):
    """`microk8s join` did not join, with the reason it gave."""


def tail(text: str, lines: int = 6) -> str:
    """The last non-empty lines of command output, on one line."""
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " / ".join(kept[-lines:])


@dataclass(frozen=True)
class Result:
    argv: list[str]
    rc: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return f"{self.stdout}\n{self.stderr}"


class MicroK8sCli:
    """Runs `microk8s <args>`; the secrets given never show in an error message."""

    def __init__(
        self,
        run_command: RunCommand,
        executable: str = MICROK8S,
        secrets: Iterable[str] = (),
        timeout_command: str | None = None,
    ) -> None:
        self.run_command = run_command
        self.executable = executable
        self.secrets = [secret for secret in secrets if secret]
        self.timeout_command = timeout_command

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def run(self, args: Sequence[str], check: bool = True, timeout: int | None = None) -> Result:
        argv = [self.executable, *args]
        if timeout and self.timeout_command:
            argv = [self.timeout_command, f"--kill-after={KILL_AFTER}", str(timeout), *argv]
        rc, stdout, stderr = self.run_command(argv, dict(ENVIRONMENT))
        shown = [self.redact(word) for word in argv[-len(args) - 1 :]]
        result = Result(shown, rc, self.redact(stdout), self.redact(stderr))
        if timeout and self.timeout_command and rc in TIMEOUT_RCS:
            raise CommandTimeoutError(
                shown,
                rc,
                result.stdout,
                result.stderr,
                f"did not finish within {timeout} seconds; raise the task's timeout",
            )
        if check and rc != 0:
            raise CommandError(shown, rc, result.stdout, result.stderr)
        return result


def module_cli(module: Any, secrets: Iterable[str] = ()) -> MicroK8sCli:
    """The runner on an AnsibleModule's run_command, for its microk8s_path."""
    executable = module.params["microk8s_path"]
    if not os.access(executable, os.X_OK):
        raise MicroK8sError(
            f"microk8s is not installed at {executable}; install the snap "
            "(snap install microk8s --classic) or set microk8s_path"
        )
    if module.params["timeout"] < 0:
        raise MicroK8sError("timeout must be 0 or more seconds")

    def run_command(argv: list[str], environment: dict[str, str]) -> tuple[int, str, str]:
        # An answered, closed standard input: a question gets an empty answer.
        return module.run_command(argv, environ_update=environment, data="\n", binary_data=True)

    return MicroK8sCli(run_command, executable, secrets, module.get_bin_path("timeout"))


# `microk8s status`


@dataclass(frozen=True)
class HaNode:
    address: str
    role: str


@dataclass(frozen=True)
class AddonStatus:
    name: str
    status: str
    repository: str | None = None
    description: str | None = None
    version: str | None = None

    @property
    def label(self) -> str:
        return f"{self.repository}/{self.name}" if self.repository else self.name


@dataclass(frozen=True)
class Status:
    running: bool
    worker: bool = False
    message: str | None = None
    ha_enabled: bool | None = None
    ha_nodes: tuple[HaNode, ...] = ()
    addons: tuple[AddonStatus, ...] = ()


def _boolean(value: str) -> bool:
    if value.lower() in ("true", "yes"):
        return True
    if value.lower() in ("false", "no"):
        return False
    raise ValueError(value)


def parse_status_yaml(text: str) -> Status:
    """`microk8s status --format yaml` (1.19 and later), as printed.

    A disabled addon's `repository` is not to be trusted: the 1.24+ printer
    writes the repository of the last enabled addon there (a loop variable
    used after its loop), so the repositories of enabled addons are kept and
    those of disabled ones dropped.
    """
    section: str | None = None
    running: bool | None = None
    message: str | None = None
    ha_enabled: bool | None = None
    ha_nodes: list[dict[str, str]] = []
    addons: list[dict[str, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        line = raw.strip()
        if raw[0] not in " -":
            key, sep, value = line.partition(":")
            if not sep or value.strip():
                raise MicroK8sError(f"line {number} of the status is not `section:` but {line!r}")
            section = key
            continue
        item = line.startswith("- ")
        if item:
            line = line[2:].strip()
        key, sep, value = line.partition(":")
        if not sep:
            raise MicroK8sError(
                f"line {number} of the status is not `key: value` but {line!r}; microk8s older than 1.19 "
                "prints addons another way and is not supported"
            )
        key, value = key.strip(), value.strip()
        try:
            if section == "microk8s":
                if key == "running":
                    running = _boolean(value)
                elif key == "message":
                    message = value
            elif section == "high-availability":
                if key == "enabled":
                    ha_enabled = _boolean(value)
                elif key in ("address", "role"):
                    if item or not ha_nodes:
                        ha_nodes.append({})
                    ha_nodes[-1][key] = value
                elif key == "message":
                    message = value
            elif section == "addons":
                if item or not addons:
                    addons.append({})
                addons[-1][key] = value
        except ValueError:
            raise MicroK8sError(f"line {number} of the status: {key} is {value!r}, not True or False") from None
    if running is None:
        raise MicroK8sError("the status has no `microk8s: running:` line; it is not `microk8s status --format yaml`")
    try:
        read_addons = tuple(
            AddonStatus(
                name=addon["name"],
                status=addon["status"],
                repository=(addon.get("repository") or None) if addon["status"] == "enabled" else None,
                description=addon.get("description"),
                version=addon.get("version"),
            )
            for addon in addons
        )
        read_nodes = tuple(HaNode(address=node["address"], role=node.get("role", "")) for node in ha_nodes)
    except KeyError as missing:
        raise MicroK8sError(f"an entry of the status has no {missing.args[0]}") from None
    return Status(running=running, message=message, ha_enabled=ha_enabled, ha_nodes=read_nodes, addons=read_addons)


def status_from_result(result: Result) -> Status:
    """What `microk8s status --format yaml` answered, whatever it printed."""
    output = result.output
    if WORKER_MARK in output:
        return Status(running=True, worker=True, message=tail(output))
    if NO_PERMISSION_MARK in output:
        raise MicroK8sError(
            "microk8s refused: insufficient permissions to access MicroK8s. Run the task with "
            "`become: true`, or add the connecting user to the microk8s group"
        )
    if STOPPED_MARK in output:
        return Status(running=False, message=STOPPED_MARK)
    if result.rc != 0:
        raise CommandError(result.argv, result.rc, result.stdout, result.stderr)
    return parse_status_yaml(result.stdout)


def read_status(cli: MicroK8sCli, timeout: int) -> Status:
    """The status, after waiting up to `timeout` seconds (0: not at all) for microk8s to be ready."""
    args = ["status", "--format", "yaml"]
    if timeout > 0:
        args += ["--wait-ready", "--timeout", str(timeout)]
    return status_from_result(cli.run(args, check=False))


def require_running(status: Status, timeout: int) -> None:
    if status.worker:
        return
    if not status.running:
        waited = f" after waiting {timeout} seconds" if timeout > 0 else ""
        raise NotRunningError(
            f"microk8s is not running{waited} ({status.message or 'no reason given'}). "
            "Start it with `microk8s start`, and look at `microk8s inspect` if it does not come up"
        )


# Addons


def parse_addon_name(text: str) -> tuple[str | None, str]:
    """`dns` or `core/dns` into (repository, name)."""
    match = ADDON_NAME.match(text.strip())
    if not match:
        raise MicroK8sError(f"{text!r} is not an addon name (like `dns`, or `core/dns` with its repository)")
    return match.group("repository"), match.group("name")


def addon_state(status: Status, repository: str | None, name: str) -> str:
    """`enabled` or `disabled`, as the status says."""
    records = [addon for addon in status.addons if addon.name == name]
    if not records:
        known = ", ".join(sorted({addon.label for addon in status.addons})) or "none"
        raise AddonNotFoundError(
            f"microk8s has no addon {name!r} (its status lists: {known}); "
            "community addons need `microk8s enable community` first"
        )
    for addon in records:
        if addon.status == "enabled" and (repository is None or addon.repository in (None, repository)):
            return "enabled"
    return "disabled"


def addon_word(name: str, arguments: str | None) -> str:
    """The one argv word for `microk8s enable`: NAME, or NAME:ARGUMENTS.

    microk8s splits that word at every colon (scripts/wrappers/common/utils.py,
    parse_xable_single_arg), so arguments with a colon would reach the addon
    cut in pieces.
    """
    if arguments is None or arguments == "":
        return name
    if ":" in arguments:
        raise MicroK8sError(
            f"the arguments of addon {name} hold a colon ({arguments!r}); microk8s cuts `enable {name}:ARGUMENTS` "
            "at every colon, so they cannot be passed this way"
        )
    return f"{name}:{arguments}"


@dataclass(frozen=True)
class AddonRequest:
    name: str
    state: str = "enabled"
    arguments: str | None = None
    timeout: int = 300


@dataclass
class Outcome:
    changed: bool
    result: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    diff: dict[str, Any] | None = None


def run_addon(cli: MicroK8sCli, request: AddonRequest, check_mode: bool = False) -> Outcome:
    """Bring one addon to the state asked for, reading `microk8s status` before and after."""
    if request.state not in ADDON_STATES:
        raise MicroK8sError(f"state must be one of {', '.join(ADDON_STATES)}, not {request.state!r}")
    repository, name = parse_addon_name(request.name)
    label = f"{repository}/{name}" if repository else name
    word = addon_word(request.name.strip(), request.arguments)
    verb = "enable" if request.state == "enabled" else "disable"

    status = read_status(cli, request.timeout)
    if status.worker:
        raise WorkerNodeError(
            "this node joined its cluster as a worker, which runs no control plane and cannot change addons; "
            "run microk8s_addon on a control plane node"
        )
    require_running(status, request.timeout)
    before = addon_state(status, repository, name)
    result: dict[str, Any] = {
        "addon": label,
        "state": request.state,
        "status": {"before": before, "after": before},
        "command": None,
        "stdout": "",
        "stderr": "",
    }
    diff = {"before": {"addon": label, "state": before}, "after": {"addon": label, "state": request.state}}
    if before == request.state:
        return Outcome(False, result, diff={"before": diff["before"], "after": diff["before"]})

    result["status"]["after"] = request.state
    result["command"] = [cli.executable, verb, word]
    if check_mode:
        return Outcome(True, result, diff=diff)

    done = cli.run([verb, word], check=False, timeout=request.timeout)
    result["stdout"], result["stderr"] = done.stdout, done.stderr
    if done.rc != 0:
        raise CommandError(done.argv, done.rc, done.stdout, done.stderr)
    after = addon_state(read_status(cli, request.timeout), repository, name)
    result["status"]["after"] = after
    if after != request.state:
        raise MicroK8sError(
            f"`microk8s {verb} {word}` ended without error, yet the status still says {label} is {after}: "
            f"{tail(done.output) or 'it printed nothing'}"
        )
    return Outcome(True, result, diff=diff)


# `microk8s kubectl get nodes`


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
        return Outcome(False, result, diff={"before": before, "after": before})
    ttl = "single use" if request.token_ttl == -1 else f"valid {request.token_ttl} seconds"
    diff = {"before": before, "after": {**before, "join_token": ttl}}
    if check_mode:
        return Outcome(True, result, diff=diff)

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
    return Outcome(True, result, diff=diff)


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
        return Outcome(False, result, warnings, {"before": {"joined": True}, "after": {"joined": True}})
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
        return Outcome(False, result, warnings, {"before": {"joined": True}, "after": {"joined": True}})

    result["joined"] = False
    diff = {"before": {"joined": False}, "after": {"joined": True, "address": endpoint, "worker": request.worker}}
    if check_mode:
        result["joined"] = True
        return Outcome(True, result, warnings, diff)
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
    return Outcome(True, result, warnings, diff)
