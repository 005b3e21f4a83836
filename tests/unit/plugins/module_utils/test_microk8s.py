# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The readers of microk8s output, on what microk8s printed (tests/unit/fixtures/microk8s/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.drover.platform.plugins.module_utils._command import (
    MASK,
    Result,
)
from ansible_collections.drover.platform.plugins.module_utils._microk8s import (
    ENVIRONMENT,
    AddonNotFoundError,
    CommandError,
    CommandTimeoutError,
    MicroK8sCli,
    MicroK8sError,
    parse_status_yaml,
    status_from_result,
)
from ansible_collections.drover.platform.plugins.module_utils._microk8s_addon import (
    addon_state,
    addon_word,
    parse_addon_name,
)
from ansible_collections.drover.platform.plugins.module_utils._microk8s_join import (
    Connection,
    Node,
    check_token,
    join_failure,
    parse_add_node,
    parse_connection,
    parse_endpoint,
    parse_nodes,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "microk8s"
TOKEN_4707 = "0c7f86c53691b2d01abba161b69ee7c1"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def status(name: str, rc: int = 0) -> Result:
    return Result(["/snap/bin/microk8s", "status", "--format", "yaml"], rc, fixture(name), "")


@pytest.mark.parametrize(
    ("name", "running", "ha_nodes", "enabled"),
    [
        ("status-ha-single-voter.txt", True, [("127.0.0.1:19001", "voter")], ["dns", "ha-cluster"]),
        ("status-fresh.txt", True, [("10.54.53.229:19001", "voter")], ["core/ha-cluster"]),
        (
            "status-addons-enabled.txt",
            True,
            [("10.54.53.229:19001", "voter")],
            ["core/dns", "core/ha-cluster", "core/hostpath-storage", "core/metallb", "core/storage"],
        ),
        (
            "status-ha-six-nodes.txt",
            True,
            [
                ("10.40.101.83:19001", "voter"),
                ("10.40.101.185:19001", "voter"),
                ("10.40.101.186:19001", "voter"),
                ("10.40.101.85:19001", "standby"),
                ("10.40.101.128:19001", "standby"),
                ("10.40.101.129:19001", "standby"),
            ],
            [
                "core/dns",
                "core/ha-cluster",
                "core/helm",
                "core/helm3",
                "core/metallb",
                "core/metrics-server",
                "core/rbac",
            ],
        ),
        (
            "status-community-repo.txt",
            True,
            [("10.54.53.229:19001", "voter")],
            ["community/argocd", "core/community", "core/dns", "core/ha-cluster"],
        ),
        ("status-not-running.txt", False, [], []),
    ],
)
def test_status_yaml(name: str, running: bool, ha_nodes: list[tuple[str, str]], enabled: list[str]) -> None:
    read = parse_status_yaml(fixture(name))
    assert read.running is running
    assert [(node.address, node.role) for node in read.ha_nodes] == ha_nodes
    assert [addon.label for addon in read.addons if addon.status == "enabled"] == enabled


def test_status_keeps_descriptions_with_colons_and_empty_versions() -> None:
    addons = {addon.name: addon for addon in parse_status_yaml(fixture("status-fresh.txt")).addons}
    assert addons["registry"].description == "Private image registry exposed on localhost:32000"
    assert addons["rbac"].version == ""
    assert addons["metallb"].version == "0.9.3"
    assert len(addons) == 17


def test_disabled_addons_lose_the_repository_microk8s_prints_wrongly() -> None:
    addons = {addon.name: addon for addon in parse_status_yaml(fixture("status-community-repo.txt")).addons}
    assert "repository: core" in fixture("status-community-repo.txt").split("name: traefik")[1].split("- name")[0]
    assert (addons["traefik"].status, addons["traefik"].repository) == ("disabled", None)
    assert (addons["argocd"].status, addons["argocd"].repository) == ("enabled", "community")


@pytest.mark.parametrize(
    ("name", "rc", "running", "worker"),
    [
        ("status-worker.txt", 1, True, True),
        ("status-stopped.txt", 0, False, False),
        ("status-not-running.txt", 0, False, False),
        ("status-addons-enabled.txt", 0, True, False),
    ],
)
def test_status_from_what_microk8s_answered(name: str, rc: int, running: bool, worker: bool) -> None:
    read = status_from_result(status(name, rc))
    assert (read.running, read.worker) == (running, worker)


def test_status_without_permission_says_what_to_do() -> None:
    with pytest.raises(MicroK8sError, match="become: true"):
        status_from_result(status("status-no-permission.txt", 1))


def test_status_crash_is_a_command_error() -> None:
    result = Result(["microk8s", "status"], 1, "", "Traceback (most recent call last):\nsubprocess.CalledProcessError")
    with pytest.raises(CommandError, match=r"failed \(rc 1\): Traceback"):
        status_from_result(result)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(fixture("status-pretty.txt"), "not `section:`", id="pretty-format"),
        pytest.param("microk8s:\n  running: maybe\n", "not True or False", id="bad-boolean"),
        pytest.param("microk8s:\n  running: True\naddons:\n  - name: dns\n", "no status", id="addon-without-status"),
        pytest.param("addons:\n  enabled:\n  - rbac\n", "older than 1.19", id="1.17-format"),
        pytest.param("", "no `microk8s: running:` line", id="empty"),
    ],
)
def test_status_refused(text: str, message: str) -> None:
    with pytest.raises(MicroK8sError, match=message):
        parse_status_yaml(text)


@pytest.mark.parametrize(
    ("fixture_name", "name", "state"),
    [
        ("status-fresh.txt", "dns", "disabled"),
        ("status-fresh.txt", "core/ha-cluster", "enabled"),
        ("status-addons-enabled.txt", "dns", "enabled"),
        ("status-addons-enabled.txt", "core/dns", "enabled"),
        ("status-addons-enabled.txt", "community/dns", "disabled"),
        ("status-addons-enabled.txt", "storage", "enabled"),
        ("status-community-repo.txt", "community/argocd", "enabled"),
        ("status-community-repo.txt", "community/traefik", "disabled"),
        ("status-community-repo.txt", "traefik", "disabled"),
        ("status-ha-single-voter.txt", "core/dns", "enabled"),
    ],
)
def test_addon_state(fixture_name: str, name: str, state: str) -> None:
    repository, addon = parse_addon_name(name)
    assert addon_state(parse_status_yaml(fixture(fixture_name)), repository, addon) == state


def test_unknown_addon_names_those_there_are() -> None:
    with pytest.raises(AddonNotFoundError, match=r"no addon 'metallb' \(its status lists: dns, ha-cluster\)"):
        addon_state(parse_status_yaml(fixture("status-ha-single-voter.txt")), None, "metallb")


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("dns", (None, "dns")),
        ("hostpath-storage", (None, "hostpath-storage")),
        (" core/dns ", ("core", "dns")),
        ("community/argocd", ("community", "argocd")),
    ],
)
def test_addon_names(text: str, parsed: tuple[str | None, str]) -> None:
    assert parse_addon_name(text) == parsed


@pytest.mark.parametrize("text", ["", "core/", "a/b/c", "DNS", "dns --force", "metallb:10.0.0.1-10.0.0.9"])
def test_addon_names_refused(text: str) -> None:
    with pytest.raises(MicroK8sError, match="is not an addon name"):
        parse_addon_name(text)


@pytest.mark.parametrize(
    ("name", "arguments", "word"),
    [
        ("dns", None, "dns"),
        ("dns", "", "dns"),
        ("metallb", "10.64.140.43-10.64.140.49", "metallb:10.64.140.43-10.64.140.49"),
        ("core/dns", "1.1.1.1,8.8.8.8", "core/dns:1.1.1.1,8.8.8.8"),
    ],
)
def test_addon_word(name: str, arguments: str | None, word: str) -> None:
    assert addon_word(name, arguments) == word


def test_addon_arguments_with_a_colon_refused() -> None:
    with pytest.raises(MicroK8sError, match="cuts `enable dns:ARGUMENTS` at every colon"):
        addon_word("dns", "2001:4860:4860::8888")


@pytest.mark.parametrize(
    ("name", "nodes"),
    [
        ("kubectl-get-nodes-wide.txt", [Node("ha-05", "Ready", "10.40.101.128", None)]),
        (
            "kubectl-get-nodes-three.txt",
            [Node("microk8s1", "Ready"), Node("microk8s2", "Ready"), Node("microk8s3", "Ready")],
        ),
        ("kubectl-get-nodes-ha.txt", [Node("master02", "Ready"), Node("master03", "Ready"), Node("master01", "Ready")]),
    ],
)
def test_nodes(name: str, nodes: list[Node]) -> None:
    assert parse_nodes(fixture(name)) == nodes


def test_no_nodes() -> None:
    assert parse_nodes("No resources found\n") == []


def test_nodes_refuse_other_output() -> None:
    with pytest.raises(MicroK8sError, match="no NAME STATUS header"):
        parse_nodes(fixture("kubectl-worker.txt"))


@pytest.mark.parametrize(
    ("wanted", "matches"),
    [
        ("ha-05", True),
        ("HA-05", True),
        (" 10.40.101.128 ", True),
        ("10.40.101.12", False),
        ("ha-01", False),
        ("<none>", False),
    ],
)
def test_node_matches_name_or_address(wanted: str, matches: bool) -> None:
    assert parse_nodes(fixture("kubectl-get-nodes-wide.txt"))[0].matches(wanted) is matches


@pytest.mark.parametrize(
    ("name", "endpoints", "token", "fingerprint"),
    [
        ("add-node.txt", ["10.54.53.229:25000"], TOKEN_4707, "ca5f25c53b42"),
        ("add-node-json.txt", ["10.54.53.229:25000"], TOKEN_4707, "ca5f25c53b42"),
        ("add-node-yaml.txt", ["10.54.53.229:25000"], TOKEN_4707, "ca5f25c53b42"),
        ("add-node-short.txt", ["10.54.53.229:25000"], TOKEN_4707, "ca5f25c53b42"),
        (
            "add-node-several-addresses.txt",
            ["192.168.1.230:25000", "10.23.209.1:25000", "172.17.0.1:25000"],
            "92b2db237428470dc4fcfc4ebbd9dc81",
            "2c0cb3284b05",
        ),
        (
            "add-node-1.18.txt",
            ["192.168.0.59:25000", "172.17.0.1:25000", "10.16.242.1:25000", "10.1.77.0:25000"],
            "KeFzKRjGeFToffyXELDKInKoMITcYWuU",
            None,
        ),
    ],
)
def test_add_node_output(name: str, endpoints: list[str], token: str, fingerprint: str | None) -> None:
    connections = parse_add_node(fixture(name))
    assert [connection.endpoint for connection in connections] == endpoints
    assert {(connection.token, connection.fingerprint) for connection in connections} == {(token, fingerprint)}


def test_add_node_output_without_join_line() -> None:
    with pytest.raises(MicroK8sError, match="printed no `microk8s join` line: Invalid token size"):
        parse_add_node("Invalid token size.  It must be 32 characters long.\n")


@pytest.mark.parametrize(
    ("text", "connection"),
    [
        ("10.0.0.1:25000/" + TOKEN_4707, Connection("10.0.0.1:25000", TOKEN_4707)),
        ("10.0.0.1:25000/" + TOKEN_4707 + "/ca5f25c53b42", Connection("10.0.0.1:25000", TOKEN_4707, "ca5f25c53b42")),
        ("k8s-1/" + TOKEN_4707, Connection("k8s-1:25000", TOKEN_4707)),
    ],
)
def test_connections(text: str, connection: Connection) -> None:
    assert parse_connection(text) == connection
    assert parse_connection(connection.text) == connection


@pytest.mark.parametrize(
    ("text", "endpoint"),
    [
        ("10.0.0.1", "10.0.0.1:25000"),
        ("10.0.0.1:25001", "10.0.0.1:25001"),
        ("k8s-1.lan", "k8s-1.lan:25000"),
        ("[fd00::1]", "[fd00::1]:25000"),
        ("[fd00::1]:25000", "[fd00::1]:25000"),
    ],
)
def test_endpoints(text: str, endpoint: str) -> None:
    assert parse_endpoint(text) == endpoint


@pytest.mark.parametrize("text", ["", "10.0.0.1:", "10.0.0.1:port", "10.0.0.1:70000", "http://10.0.0.1", "a b"])
def test_endpoints_refused(text: str) -> None:
    with pytest.raises(MicroK8sError, match="is not an address of the cluster agent"):
        parse_endpoint(text)


@pytest.mark.parametrize("token", ["0c7f86c53691b2d01abba161b69ee7c", "0c7f86c53691b2d01abba161b69ee7c1/x", ""])
def test_tokens_refused(token: str) -> None:
    with pytest.raises(MicroK8sError, match="at least 32 letters or digits"):
        check_token(token)


@pytest.mark.parametrize(
    ("name", "advice"),
    [
        ("join-invalid-token.txt", "refused the token"),
        ("join-known-to-dqlite.txt", "microk8s remove-node <this node's address> --force"),
        ("join-hostname-unresolved.txt", "cannot resolve this node's hostname"),
        ("join-no-route.txt", "cannot reach the cluster agent at 10.0.0.1:25000"),
        ("join-timed-out.txt", "TCP port 25000 is open"),
        ("join-control-plane.txt", None),
        ("join-worker.txt", None),
    ],
)
def test_join_failures(name: str, advice: str | None) -> None:
    found = join_failure(fixture(name), "10.0.0.1:25000")
    assert found is None if advice is None else advice in found


class Recorder:
    def __init__(self, rc: int = 0, stdout: str = "", stderr: str = "") -> None:
        self.answer = (rc, stdout, stderr)
        self.calls: list[tuple[list[str], dict[str, str]]] = []

    def __call__(self, argv: list[str], environment: dict[str, str]) -> tuple[int, str, str]:
        self.calls.append((argv, environment))
        return self.answer


def test_cli_runs_argv_in_the_c_locale() -> None:
    recorder = Recorder(0, "ok\n")
    result = MicroK8sCli(recorder, "/snap/bin/microk8s").run(["status", "--format", "yaml"])
    assert recorder.calls == [(["/snap/bin/microk8s", "status", "--format", "yaml"], ENVIRONMENT)]
    assert (result.rc, result.stdout) == (0, "ok\n")
    assert ENVIRONMENT["LC_ALL"] == "C"


def test_cli_keeps_secrets_out_of_errors_and_output() -> None:
    recorder = Recorder(6, f"Contacting cluster at 10.0.0.1\nbad {TOKEN_4707}\n", "")
    cli = MicroK8sCli(recorder, "/snap/bin/microk8s", secrets=[TOKEN_4707])
    with pytest.raises(CommandError) as raised:
        cli.run(["join", f"10.0.0.1:25000/{TOKEN_4707}"])
    assert TOKEN_4707 not in str(raised.value)
    assert raised.value.argv == ["/snap/bin/microk8s", "join", f"10.0.0.1:25000/{MASK}"]
    assert TOKEN_4707 not in raised.value.stdout
    assert recorder.calls[0][0][-1] == f"10.0.0.1:25000/{TOKEN_4707}"


def test_cli_bounds_a_command_with_coreutils_timeout() -> None:
    recorder = Recorder(124, "Enabling MetalLB\n")
    cli = MicroK8sCli(recorder, "/snap/bin/microk8s", timeout_command="/usr/bin/timeout")
    with pytest.raises(CommandTimeoutError, match="did not finish within 90 seconds") as raised:
        cli.run(["enable", "metallb:10.0.0.1-10.0.0.9"], check=False, timeout=90)
    assert recorder.calls[0][0] == [
        "/usr/bin/timeout",
        "--kill-after=30",
        "90",
        "/snap/bin/microk8s",
        "enable",
        "metallb:10.0.0.1-10.0.0.9",
    ]
    assert raised.value.argv == ["/snap/bin/microk8s", "enable", "metallb:10.0.0.1-10.0.0.9"]


def test_cli_without_coreutils_timeout_runs_unbounded() -> None:
    recorder = Recorder(124)
    result = MicroK8sCli(recorder, "/snap/bin/microk8s").run(["enable", "dns"], check=False, timeout=90)
    assert recorder.calls[0][0] == ["/snap/bin/microk8s", "enable", "dns"]
    assert result.rc == 124
