# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compose file + overlay -> the app model.

The expected values are written from the Compose Specification and what
`docker compose config` does (interpolation, env files, profiles, env_file),
not taken from this code's output.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    App,
    AppDefinitionError,
    Dependency,
    FileRef,
    Healthcheck,
    ImagePolicyError,
    Mount,
    OverlayError,
    Port,
    ReportItem,
    RestartPolicy,
    UpdatePolicy,
    check_images,
    image_problem,
    is_allowed,
    must_stop,
)
from ansible_collections.drover.platform.plugins.module_utils._app_overlay import parse_overlay
from ansible_collections.drover.platform.plugins.module_utils._compose_interpolation import interpolate, parse_env_file
from ansible_collections.drover.platform.plugins.module_utils._compose_loader import load_app, parse_compose
from ansible_collections.drover.platform.plugins.module_utils._compose_values import parse_duration

DIGEST = "sha256:" + "ab" * 32
SECRET = "s3cr3t-Value-Never-Shown"


def project(tmp_path: Path, compose: str, files: dict[str, str] | None = None) -> Path:
    """A project directory with compose.yml (dedented) and other files."""
    (tmp_path / "compose.yml").write_text(textwrap.dedent(compose))
    for name, text in (files or {}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "compose.yml"


def load(
    tmp_path: Path,
    compose: str,
    overlay: dict[str, Any] | None = None,
    files: dict[str, str] | None = None,
    variables: dict[str, str] | None = None,
) -> App:
    return load_app(
        str(project(tmp_path, compose, files)), {"environment": "dev", **(overlay or {})}, variables=variables
    )


def one_service(tmp_path: Path, service: str, overlay: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """The model of a single service `app`, given its Compose lines."""
    compose = "services:\n  app:\n" + textwrap.indent(textwrap.dedent(service), "    ")
    return load(tmp_path, compose, overlay, **kwargs).services["app"]


# --- interpolation -------------------------------------------------------------


# text, variables, expected
@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        pytest.param("${A}", {"A": "x"}, "x", id="braced"),
        pytest.param("$A", {"A": "x"}, "x", id="unbraced"),
        pytest.param("$A-suffix/${A}", {"A": "x"}, "x-suffix/x", id="name-ends-at-dash"),
        pytest.param("${A:-d}", {}, "d", id="colon-dash-unset"),
        pytest.param("${A:-d}", {"A": ""}, "d", id="colon-dash-empty"),
        pytest.param("${A:-d}", {"A": "x"}, "x", id="colon-dash-set"),
        pytest.param("${A-d}", {}, "d", id="dash-unset"),
        pytest.param("${A-d}", {"A": ""}, "", id="dash-empty-stays-empty"),
        pytest.param("${A:+alt}", {"A": "x"}, "alt", id="colon-plus-set"),
        pytest.param("${A:+alt}", {"A": ""}, "", id="colon-plus-empty"),
        pytest.param("${A+alt}", {"A": ""}, "alt", id="plus-empty-counts-as-set"),
        pytest.param("${A+alt}", {}, "", id="plus-unset"),
        pytest.param("${A:?must be set}", {"A": "x"}, "x", id="colon-question-set"),
        pytest.param("${A?must be set}", {"A": ""}, "", id="question-empty-is-fine"),
        pytest.param("$$A and $${A}", {"A": "x"}, "$A and ${A}", id="escaped"),
        pytest.param("${A:-${B}}", {"B": "y"}, "y", id="nested-default"),
        pytest.param("${A:-${B:-z}-tail}", {}, "z-tail", id="nested-twice"),
        pytest.param("price: 5$ or $1", {}, "price: 5$ or $1", id="lone-dollar-stays"),
        pytest.param("${A}", {}, "", id="unset-is-empty"),
        pytest.param("${a_lower}", {"a_lower": "ok"}, "ok", id="lower-case-name"),
    ],
)
def test_interpolation(text: str, variables: dict[str, str], expected: str) -> None:
    assert interpolate(text, variables)[0] == expected


@pytest.mark.parametrize(
    ("text", "variables", "message"),
    [
        pytest.param("${A:?give A}", {}, "required variable A is not set or empty: give A", id="colon-question-unset"),
        pytest.param(
            "${A:?give A}", {"A": ""}, "required variable A is not set or empty: give A", id="colon-question-empty"
        ),
        pytest.param("${A?give A}", {}, "required variable A is not set: give A", id="question-unset"),
        pytest.param("${A:?}", {}, "required variable A is not set or empty$", id="no-reason"),
        pytest.param("${A", {}, "without its closing", id="unclosed"),
        pytest.param("${1A}", {}, "invalid interpolation", id="bad-name"),
        pytest.param("${A:x}", {}, "invalid interpolation", id="bad-operator"),
    ],
)
def test_interpolation_errors(text: str, variables: dict[str, str], message: str) -> None:
    with pytest.raises(AppDefinitionError, match=message):
        interpolate(text, variables, "services.web.image")


def test_interpolation_reaches_values_not_keys_and_reports_unset() -> None:
    value, unset = interpolate({"$A": ["$A", {"k": "${MISSING}"}], "n": 3}, {"A": "x"})
    assert value == {"$A": ["x", {"k": ""}], "n": 3}
    assert unset == {"MISSING": "$A[1].k"}


# --- env files -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("A=1\nB = two\n", {"A": "1", "B": "two"}, id="plain"),
        pytest.param("export A=1\n", {"A": "1"}, id="export"),
        pytest.param("# comment\n\nA=1 # trailing comment\n", {"A": "1"}, id="comments"),
        pytest.param("A=x#y\n", {"A": "x#y"}, id="hash-inside-value"),
        pytest.param("A='$B literal # not a comment'\n", {"A": "$B literal # not a comment"}, id="single-quoted"),
        pytest.param('A="line1\\nline2\\t\\"q\\""\n', {"A": 'line1\nline2\t"q"'}, id="double-quoted-escapes"),
        pytest.param('A="multi\nline"\nB=2\n', {"A": "multi\nline", "B": "2"}, id="double-quoted-spans-lines"),
        pytest.param('B=b\nA=${B}-x\nC="$B"\n', {"B": "b", "A": "b-x", "C": "b"}, id="earlier-keys"),
        pytest.param('A="\\$B"\n', {"A": "$B"}, id="escaped-dollar"),
        pytest.param("A=\n", {"A": ""}, id="empty"),
        pytest.param("A.b-c=1\n", {"A.b-c": "1"}, id="dots-and-dashes-in-key"),
    ],
)
def test_env_file(text: str, expected: dict[str, str]) -> None:
    assert parse_env_file(text, "test.env") == expected


def test_env_file_looks_up_before_its_own_keys_and_bare_keys() -> None:
    lookup = {"FROM_OUTSIDE": "outside", "B": "outside-b"}.get
    text = "B=inside\nA=${B}\nFROM_OUTSIDE\nNOWHERE\n"
    assert parse_env_file(text, "test.env", lookup) == {"B": "inside", "A": "outside-b", "FROM_OUTSIDE": "outside"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("1A=x\n", "line 1: '1A' is not a variable name", id="bad-key"),
        pytest.param('A="open\nB=2\n', 'line 1: the value of A has no closing "', id="unclosed-quote"),
        pytest.param("A='x' y\n", "line 1: A has text after its closing quote", id="text-after-quote"),
    ],
)
def test_env_file_errors(text: str, message: str) -> None:
    with pytest.raises(AppDefinitionError, match=message):
        parse_env_file(text, "test.env")


VARIABLE_FILES = {
    ".env": "TAG=from-dotenv\nONLY_DOTENV=yes\n",
    "env/a.env": "TAG=from-a\nX=from-a\n",
    "env/b.env": "TAG=from-b\nDERIVED=${X}-b\n",
}
VARIABLE_COMPOSE = """\
services:
  app:
    image: app:${TAG}
    environment:
      ONLY_DOTENV: ${ONLY_DOTENV-unset}
      X: ${X-unset}
      DERIVED: ${DERIVED-unset}
"""


# overlay, load_app variables, expected (image tag, ONLY_DOTENV, X, DERIVED)
@pytest.mark.parametrize(
    ("overlay", "variables", "expected"),
    [
        pytest.param({}, None, ("from-dotenv", "yes", "unset", "unset"), id="dotenv-by-default"),
        pytest.param(
            {"env_files": ["env/a.env", "env/b.env"]},
            None,
            ("from-b", "unset", "from-a", "from-a-b"),
            id="later-file-wins",
        ),
        pytest.param(
            {"env_files": ["env/b.env", "env/a.env"]}, None, ("from-a", "unset", "from-a", "-b"), id="order-counts"
        ),
        pytest.param(
            {"variables": {"TAG": "overlay"}}, None, ("overlay", "yes", "unset", "unset"), id="overlay-variables-win"
        ),
        pytest.param(
            {"variables": {"TAG": "overlay"}}, {"TAG": "caller"}, ("caller", "yes", "unset", "unset"), id="caller-wins"
        ),
        pytest.param(
            {"env_files": ["env/a.env", "env/b.env"], "variables": {"X": "explicit"}},
            None,
            ("from-b", "unset", "explicit", "explicit-b"),
            id="explicit-seen-inside-env-files",
        ),
    ],
)
def test_variable_sources(
    tmp_path: Path, overlay: dict[str, Any], variables: dict[str, str] | None, expected: tuple[str, ...]
) -> None:
    service = load(tmp_path, VARIABLE_COMPOSE, overlay, VARIABLE_FILES, variables).services["app"]
    env = service.environment
    assert (service.image.split(":")[1], env["ONLY_DOTENV"], env["X"], env["DERIVED"]) == expected


def test_the_controller_environment_is_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAG", "from-os")
    monkeypatch.setenv("X", "from-os")
    service = load(tmp_path, VARIABLE_COMPOSE, {}, VARIABLE_FILES).services["app"]
    assert service.image == "app:from-dotenv"
    assert service.environment["X"] == "unset"


def test_no_dotenv_no_variables(tmp_path: Path) -> None:
    app = load(tmp_path, "services:\n  app:\n    image: app:${TAG:-1.0}\n    command: echo ${UNSET}\n")
    assert app.services["app"].image == "app:1.0"
    assert app.services["app"].command == ["echo"]
    assert app.warnings == ["variable UNSET is not set; it stands for an empty string (services.app.command)"]


def test_a_named_env_file_that_is_missing(tmp_path: Path) -> None:
    with pytest.raises(OverlayError, match=r"cannot read env file \(.*/env/missing.env\)"):
        load(tmp_path, VARIABLE_COMPOSE, {"env_files": ["env/missing.env"]}, VARIABLE_FILES)


# --- profiles --------------------------------------------------------------------

PROFILES_COMPOSE = """\
services:
  always:
    image: a:1
  debug:
    image: b:1
    profiles: [debug]
  tools:
    image: c:1
    profiles: [debug, tools]
"""


# overlay, expected enabled services, expected disabled
@pytest.mark.parametrize(
    ("overlay", "files", "enabled", "disabled"),
    [
        pytest.param({}, {}, ["always"], ["debug", "tools"], id="none-active"),
        pytest.param({"profiles": ["debug"]}, {}, ["always", "debug", "tools"], [], id="debug"),
        pytest.param({"profiles": ["tools"]}, {}, ["always", "tools"], ["debug"], id="tools"),
        pytest.param({"profiles": "tools"}, {}, ["always", "tools"], ["debug"], id="a-single-string"),
        pytest.param({}, {".env": "COMPOSE_PROFILES=tools\n"}, ["always", "tools"], ["debug"], id="compose-profiles"),
        pytest.param(
            {"profiles": []}, {".env": "COMPOSE_PROFILES=tools\n"}, ["always"], ["debug", "tools"], id="overlay-wins"
        ),
    ],
)
def test_profiles(
    tmp_path: Path, overlay: dict[str, Any], files: dict[str, str], enabled: list[str], disabled: list[str]
) -> None:
    app = load(tmp_path, PROFILES_COMPOSE, overlay, files)
    assert list(app.services) == enabled
    assert app.disabled_services == disabled


def test_overlay_naming_a_service_a_profile_switched_off(tmp_path: Path) -> None:
    with pytest.raises(
        OverlayError, match=r"services.debug: the service is switched off by its profiles \(debug; active: none\)"
    ):
        load(tmp_path, PROFILES_COMPOSE, {"services": {"debug": {"replicas": 2}}})


def test_overlay_naming_a_service_the_compose_file_does_not_have(tmp_path: Path) -> None:
    with pytest.raises(
        OverlayError, match=r"services.wbe: the Compose file has no such service \(it has always, debug, tools\)"
    ):
        load(tmp_path, PROFILES_COMPOSE, {"services": {"wbe": {"replicas": 2}}})


def test_depending_on_a_service_a_profile_switched_off(tmp_path: Path) -> None:
    compose = PROFILES_COMPOSE.replace(
        "  always:\n    image: a:1\n", "  always:\n    image: a:1\n    depends_on: [debug]\n"
    )
    with pytest.raises(AppDefinitionError, match="services.always depends on debug, which the active profiles"):
        load(tmp_path, compose)


# --- service env_file and environment ---------------------------------------------

ENV_FILE_FILES = {
    ".env": "HOST_VAR=from-project\n",
    "env/one.env": "A=one\nB=one\nC=one\n",
    "env/two.env": "B=two\nREF=${HOST_VAR}\n",
}


def test_env_file_merged_under_environment(tmp_path: Path) -> None:
    service = one_service(
        tmp_path,
        """\
        image: app:1
        env_file:
          - env/one.env
          - env/two.env
          - {path: env/optional.env, required: false}
        environment:
          C: compose
          FROM_VAR:
          NOWHERE:
        """,
        {"services": {"app": {"environment": {"A": "overlay", "B": None, "N": 3}}}},
        files=ENV_FILE_FILES,
    )
    assert service.environment == {"A": "overlay", "C": "compose", "REF": "from-project", "N": "3"}


def test_environment_without_value_takes_the_variable(tmp_path: Path) -> None:
    app = load(
        tmp_path,
        "services:\n  app:\n    image: app:1\n    environment: [HOST_VAR, NOWHERE, LIST=x=y]\n",
        files={".env": "HOST_VAR=from-project\n"},
    )
    assert app.services["app"].environment == {"HOST_VAR": "from-project", "LIST": "x=y"}
    assert app.warnings == ["service app: environment NOWHERE has no value and no variable gives one; left out"]


def test_a_required_env_file_that_is_missing(tmp_path: Path) -> None:
    with pytest.raises(AppDefinitionError, match=r"cannot read env_file of service app \(.*/env/none.env\)"):
        one_service(tmp_path, "image: app:1\nenv_file: env/none.env\n")


# --- YAML as Compose reads it ---------------------------------------------------------


def test_yaml_1_2_scalars() -> None:
    data = parse_compose("a: yes\nb: 22:22\nc: 2024-01-02\nd: true\ne: 010\nf: 1.5\ng: on\n", "x.yml")
    assert data == {"a": "yes", "b": "22:22", "c": "2024-01-02", "d": True, "e": 8, "f": 1.5, "g": "on"}


def test_yaml_anchors_and_merge_keys() -> None:
    data = parse_compose("x-base: &base\n  image: a:1\nservices:\n  s:\n    <<: *base\n    user: u\n", "x.yml")
    assert data["services"]["s"] == {"image": "a:1", "user": "u"}


# --- ports, volumes, durations, healthchecks ------------------------------------------


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        pytest.param(["80"], [Port(80)], id="target-only"),
        pytest.param([80], [Port(80)], id="a-number"),
        pytest.param(["8080:80"], [Port(80, 8080)], id="published"),
        pytest.param(["22:22"], [Port(22, 22)], id="not-base-60"),
        pytest.param(["127.0.0.1:8080:80/udp"], [Port(80, 8080, "udp", None, "127.0.0.1")], id="address-protocol"),
        pytest.param(["127.0.0.1::80"], [Port(80, None, "tcp", None, "127.0.0.1")], id="address-no-published"),
        pytest.param(["[::1]:5353:53/udp"], [Port(53, 5353, "udp", None, "::1")], id="ipv6"),
        pytest.param(["9000-9001:8000-8001"], [Port(8000, 9000), Port(8001, 9001)], id="ranges"),
        pytest.param(["7000-7001"], [Port(7000), Port(7001)], id="target-range"),
        pytest.param(
            [{"target": 80, "published": "8080", "mode": "host", "protocol": "tcp", "name": "http"}],
            [Port(80, 8080, "tcp", "host", name="http")],
            id="long-syntax",
        ),
    ],
)
def test_ports(tmp_path: Path, ports: list[Any], expected: list[Port]) -> None:
    service = load(tmp_path, json.dumps({"services": {"app": {"image": "app:1", "ports": ports}}})).services["app"]
    assert service.ports == expected


@pytest.mark.parametrize(
    ("port", "message"),
    [
        pytest.param('"8000-8002:80"', "differ in length", id="range-to-one"),
        pytest.param("{published: 80}", "has no target", id="no-target"),
        pytest.param('"70000"', "must be a port number", id="too-big"),
        pytest.param('"90-80"', "runs backwards", id="backwards"),
        pytest.param('"::1:80:80"', "write an IPv6 address in brackets", id="ipv6-without-brackets"),
    ],
)
def test_port_errors(tmp_path: Path, port: str, message: str) -> None:
    with pytest.raises(AppDefinitionError, match=message):
        one_service(tmp_path, f"image: app:1\nports: [{port}]\n")


@pytest.mark.parametrize(
    ("volume", "expected"),
    [
        pytest.param("data:/var/lib/data", Mount("volume", "/var/lib/data", "data"), id="named"),
        pytest.param(
            "data:/d:ro,nocopy", Mount("volume", "/d", "data", read_only=True, nocopy=True), id="named-options"
        ),
        pytest.param("./src:/app:ro", Mount("bind", "/app", "./src", read_only=True), id="relative-bind"),
        pytest.param(
            "/var/run/docker.sock:/var/run/docker.sock",
            Mount("bind", "/var/run/docker.sock", "/var/run/docker.sock"),
            id="absolute-bind",
        ),
        pytest.param(
            "/srv/x:/x:rshared,z",
            Mount("bind", "/x", "/srv/x", propagation="rshared", unsupported={"selinux": "z"}),
            id="propagation-selinux",
        ),
        pytest.param("/cache", Mount("volume", "/cache"), id="anonymous"),
        pytest.param(
            {"type": "bind", "source": "/srv", "target": "/srv", "bind": {"propagation": "rslave"}},
            Mount("bind", "/srv", "/srv", propagation="rslave"),
            id="long-bind",
        ),
        pytest.param(
            {"type": "volume", "source": "data", "target": "/d", "volume": {"nocopy": True, "subpath": "x"}},
            Mount("volume", "/d", "data", nocopy=True, unsupported={"volume.subpath": "x"}),
            id="long-volume-subpath",
        ),
        pytest.param(
            {"type": "tmpfs", "target": "/t", "tmpfs": {"size": "1m"}},
            Mount("tmpfs", "/t", size=1048576),
            id="long-tmpfs",
        ),
    ],
)
def test_volumes(tmp_path: Path, volume: Any, expected: Mount) -> None:
    compose = {"services": {"app": {"image": "app:1", "volumes": [volume]}}, "volumes": {"data": None}}
    assert load(tmp_path, json.dumps(compose)).services["app"].mounts == [expected]


def test_tmpfs_key(tmp_path: Path) -> None:
    service = one_service(tmp_path, "image: app:1\ntmpfs: [/run, '/tmp:size=64m,mode=1777']\n")
    assert service.mounts == [
        Mount("tmpfs", "/run"),
        Mount("tmpfs", "/tmp", size=64 * 1024 * 1024, unsupported={"mode": "1777"}),
    ]


def test_undefined_named_volume(tmp_path: Path) -> None:
    with pytest.raises(
        AppDefinitionError, match="services.app mounts volume data, which the top-level volumes: does not define"
    ):
        one_service(tmp_path, "image: app:1\nvolumes: [data:/d]\n")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1m30s", 90.0), ("90s", 90.0), ("500ms", 0.5), ("1h", 3600.0), ("1.5s", 1.5), ("2h1m", 7260.0), (10, 10.0)],
)
def test_durations(value: Any, seconds: float) -> None:
    assert parse_duration(value, "x") == seconds


@pytest.mark.parametrize("value", ["10 s", "abc", "", "5x", True])
def test_bad_durations(value: Any) -> None:
    with pytest.raises(AppDefinitionError, match="must be a duration"):
        parse_duration(value, "x")


@pytest.mark.parametrize(
    ("healthcheck", "expected"),
    [
        pytest.param(
            "{test: 'curl -f http://localhost', interval: 10s, retries: 2}",
            Healthcheck(["CMD-SHELL", "curl -f http://localhost"], interval=10.0, retries=2),
            id="string-test",
        ),
        pytest.param(
            "{test: [CMD, pg_isready], start_period: 1m, start_interval: 1s, timeout: 3s}",
            Healthcheck(["CMD", "pg_isready"], timeout=3.0, start_period=60.0, start_interval=1.0),
            id="list-test",
        ),
        pytest.param("{test: [NONE]}", Healthcheck(["NONE"], disabled=True), id="none"),
        pytest.param("{disable: true}", Healthcheck(disabled=True), id="disable"),
    ],
)
def test_healthchecks(tmp_path: Path, healthcheck: str, expected: Healthcheck) -> None:
    assert one_service(tmp_path, f"image: app:1\nhealthcheck: {healthcheck}\n").healthcheck == expected


# --- deploy, restart, resources, references ----------------------------------------------


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param('restart: "no"', RestartPolicy("none"), id="no"),
        pytest.param("restart: always", RestartPolicy("any"), id="always"),
        pytest.param("restart: unless-stopped", RestartPolicy("any"), id="unless-stopped"),
        pytest.param("restart: on-failure:3", RestartPolicy("on-failure", max_attempts=3), id="on-failure-3"),
        pytest.param(
            "restart: always\ndeploy: {restart_policy: {condition: on-failure, delay: 10s, window: 1m}}",
            RestartPolicy("on-failure", delay=10.0, window=60.0),
            id="restart-policy-wins",
        ),
        pytest.param("user: app", None, id="none-given"),
    ],
)
def test_restart(tmp_path: Path, lines: str, expected: RestartPolicy | None) -> None:
    assert one_service(tmp_path, f"image: app:1\n{lines}\n").restart == expected


@pytest.mark.parametrize(
    ("update_config", "expected"),
    [
        pytest.param(
            "{parallelism: 2, delay: 5s, monitor: 1m, failure_action: rollback, max_failure_ratio: 0.5}",
            UpdatePolicy(parallelism=2, delay=5.0, failure_action="rollback", monitor=60.0, max_failure_ratio=0.5),
            id="all-numbers",
        ),
        pytest.param(
            "{parallelism: 0, order: start-first}", UpdatePolicy(parallelism=0, order="start-first"), id="zero"
        ),
        pytest.param("{order: stop-first}", UpdatePolicy(order="stop-first"), id="none-given"),
    ],
)
def test_update_config(tmp_path: Path, update_config: str, expected: UpdatePolicy) -> None:
    assert one_service(tmp_path, f"image: app:1\ndeploy: {{update_config: {update_config}}}\n").update == expected


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        # The first bad number of a section is the one named, in the order the section's fields are read.
        pytest.param(
            "deploy: {update_config: {parallelism: many, delay: soon}}",
            r"deploy.update_config.parallelism must be a whole number",
            id="update-count-first",
        ),
        pytest.param(
            "deploy: {update_config: {monitor: -1s}}",
            r"deploy.update_config.monitor must be a duration",
            id="update-duration",
        ),
        pytest.param(
            "deploy: {restart_policy: {window: 1x, max_attempts: -1}}",
            r"deploy.restart_policy.window must be a duration",
            id="restart-duration-first",
        ),
        pytest.param(
            "deploy: {restart_policy: {max_attempts: -1}}",
            r"deploy.restart_policy.max_attempts must be at least 0",
            id="restart-count",
        ),
        pytest.param(
            "healthcheck: {test: [CMD, 'true'], start_interval: 1x, retries: two}",
            r"healthcheck.start_interval must be a duration",
            id="healthcheck-duration-first",
        ),
        pytest.param(
            "healthcheck: {test: [CMD, 'true'], retries: two}",
            r"healthcheck.retries must be a whole number",
            id="healthcheck-count",
        ),
    ],
)
def test_bad_section_numbers(tmp_path: Path, lines: str, message: str) -> None:
    with pytest.raises(AppDefinitionError, match=message):
        one_service(tmp_path, f"image: app:1\n{lines}\n")


@pytest.mark.parametrize(
    ("lines", "overlay", "limits", "reservations"),
    [
        pytest.param(
            "mem_limit: 512m\ncpus: 0.5\npids_limit: 100",
            {},
            {"memory": "512m", "cpus": "0.5", "pids": 100},
            {},
            id="legacy-keys",
        ),
        pytest.param(
            "mem_limit: 512m\ndeploy: {resources: {limits: {memory: 1G}, reservations: {memory: 256M}}}",
            {},
            {"memory": "1G"},
            {"memory": "256M"},
            id="deploy-wins",
        ),
        pytest.param(
            "deploy: {resources: {limits: {memory: 1G, cpus: '2'}}}",
            {"resources": {"limits": {"cpus": 0.25}, "reservations": {"memory": "64M"}}},
            {"memory": "1G", "cpus": "0.25"},
            {"memory": "64M"},
            id="overlay-merges",
        ),
    ],
)
def test_resources(
    tmp_path: Path, lines: str, overlay: dict[str, Any], limits: dict[str, Any], reservations: dict[str, Any]
) -> None:
    service = one_service(tmp_path, f"image: app:1\n{lines}\n", {"services": {"app": overlay}} if overlay else None)
    assert (service.resources.limits, service.resources.reservations) == (limits, reservations)


@pytest.mark.parametrize(
    ("lines", "overlay", "mode", "replicas"),
    [
        pytest.param("deploy: {replicas: 3}", {}, "replicated", 3, id="replicas"),
        pytest.param("scale: 2", {}, "replicated", 2, id="scale"),
        pytest.param("deploy: {replicas: 3}", {"replicas": 1}, "replicated", 1, id="overlay-replicas"),
        pytest.param("deploy: {mode: global}", {}, "global", None, id="global"),
        pytest.param("deploy: {mode: replicated-job}", {}, "job", None, id="job"),
        pytest.param("deploy: {replicas: 3}", {"mode": "global"}, "global", None, id="overlay-global"),
    ],
)
def test_modes(tmp_path: Path, lines: str, overlay: dict[str, Any], mode: str, replicas: int | None) -> None:
    service = one_service(tmp_path, f"image: app:1\n{lines}\n", {"services": {"app": overlay}} if overlay else None)
    assert (service.mode, service.replicas) == (mode, replicas)


@pytest.mark.parametrize(
    ("lines", "overlay", "error", "message"),
    [
        pytest.param(
            "deploy: {mode: global, replicas: 2}",
            {},
            AppDefinitionError,
            "global service runs one task per node",
            id="global-replicas",
        ),
        pytest.param(
            "deploy: {mode: global}",
            {"replicas": 2},
            OverlayError,
            "is global .* takes no replicas",
            id="overlay-replicas-global",
        ),
        pytest.param(
            "deploy: {mode: global-job}",
            {},
            AppDefinitionError,
            "replicated, global or replicated-job",
            id="global-job",
        ),
        pytest.param("extends: {service: base}", {}, AppDefinitionError, "uses extends", id="extends"),
        pytest.param(
            "restart: sometimes", {}, AppDefinitionError, "no, always, unless-stopped or on-failure", id="restart"
        ),
        pytest.param(
            "networks: [back]",
            {},
            AppDefinitionError,
            "uses network back, which the top-level networks",
            id="undefined-network",
        ),
        pytest.param(
            "secrets: [token]",
            {},
            AppDefinitionError,
            "uses secret token, which the top-level secrets",
            id="undefined-secret",
        ),
        pytest.param(
            "depends_on: [ghost]",
            {},
            AppDefinitionError,
            "depends on ghost, which the Compose file does not define",
            id="undefined-dependency",
        ),
    ],
)
def test_service_errors(
    tmp_path: Path, lines: str, overlay: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        one_service(tmp_path, f"image: app:1\n{lines}\n", {"services": {"app": overlay}} if overlay else None)


def test_service_keys_the_model_keeps_as_written(tmp_path: Path) -> None:
    compose = """\
    services:
      app:
        image: app:1
        container_name: app-1
        cap_add: [NET_ADMIN]
        x-note: ignored
        develop: {watch: []}
        deploy: {labels: [a=b]}
        depends_on:
          db: {condition: service_healthy}
          cache: {condition: service_started, required: false}
        configs: [settings, {source: settings, target: /etc/app.toml, mode: 0440, uid: "100"}]
      db:
        image: db:1
      cache:
        image: cache:1
    configs:
      settings:
        content: "x"
    """
    service = load(tmp_path, compose).services["app"]
    assert service.options == {"container_name": "app-1", "cap_add": ["NET_ADMIN"]}
    assert service.service_labels == {"a": "b"}
    assert service.depends_on == [Dependency("db", "service_healthy"), Dependency("cache", "service_started", False)]
    assert service.configs == [FileRef("settings"), FileRef("settings", "/etc/app.toml", "100", None, 0o440)]


# --- the overlay ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overlay", "message"),
    [
        pytest.param({}, "overlay.environment must name the environment", id="no-environment"),
        pytest.param({"environment": "dev", "service": {}}, "overlay has unknown keys service", id="unknown-key"),
        pytest.param(
            {"environment": "dev", "services": {"web": {"replica": 2}}},
            "services.web has unknown keys replica",
            id="unknown-service-key",
        ),
        pytest.param(
            {"environment": "dev", "services": {"web": {"replicas": -1}}},
            "replicas must be at least 0",
            id="negative-replicas",
        ),
        pytest.param({"environment": "dev", "services": {"web": {"mode": "daemon"}}}, "mode must be one of", id="mode"),
        pytest.param(
            {"environment": "dev", "services": {"web": {"image": "a b"}}},
            "must be an image reference",
            id="image-with-space",
        ),
        pytest.param(
            {"environment": "dev", "services": {"web": {"image": "a@sha256:12"}}}, "64 hex digits", id="bad-digest"
        ),
        pytest.param(
            {"environment": "dev", "services": {"web": {"domain": "bad_domain!"}}},
            "must be a host name",
            id="bad-domain",
        ),
        pytest.param(
            {"environment": "dev", "services": {"web": {"port": 80}}}, "needs a domain", id="port-without-domain"
        ),
        pytest.param(
            {"environment": "dev", "services": {"web": {"placement": {"class": "nas"}}}},
            r"class must name some of nuc, pc, rpi, vm, container, unknown, not nas",
            id="unknown-class",
        ),
        pytest.param(
            {"environment": "dev", "services": {"web": {"placement": {"zone": "a"}}}},
            "placement has unknown keys zone",
            id="placement-key",
        ),
        pytest.param(
            {"environment": "dev", "services": {"web": {"resources": {"limits": {"gpus": 1}}}}},
            "not a resource the overlay sets",
            id="resource-key",
        ),
        pytest.param(
            {"environment": "dev", "services": {"web": {"resources": {"limits": {"memory": "lots"}}}}},
            "memory must be a size",
            id="memory",
        ),
        pytest.param(
            {"environment": "dev", "services": {"web": {"backup": {"befor": "redis-cli save"}}}},
            r"services.web.backup has unknown keys befor; known: before, pause",
            id="backup-key",
        ),
        pytest.param(
            {"environment": "dev", "services": {"web": {"backup": {"before": ["pg_dump", 3]}}}},
            r"backup.before must be a command, as a string \(run by /bin/sh -c\) or a list of words",
            id="backup-before",
        ),
        pytest.param(
            {"environment": "dev", "services": {"web": {"backup": {"pause": "yes"}}}},
            "backup.pause must be true or false, not 'yes'",
            id="backup-pause",
        ),
    ],
)
def test_overlay_errors(overlay: dict[str, Any], message: str) -> None:
    with pytest.raises(OverlayError, match=message):
        parse_overlay(overlay)


@pytest.mark.parametrize(
    ("backup", "labels"),
    [
        pytest.param({"before": ["redis-cli", "save"]}, {"drover.backup.before": '["redis-cli", "save"]'}, id="argv"),
        pytest.param(
            {"before": "pg_dump -f /data/dump.sql app", "pause": True},
            {
                "drover.backup.before": '["/bin/sh", "-c", "pg_dump -f /data/dump.sql app"]',
                "drover.backup.pause": "true",
            },
            id="shell-and-pause",
        ),
        pytest.param({"pause": False}, {}, id="nothing"),
    ],
)
def test_overlay_backup_hooks_become_container_labels(tmp_path: Path, backup: dict[str, Any],
                                                      labels: dict[str, str]) -> None:
    service = one_service(tmp_path, "image: app:1\nlabels: {team: shop}\n", {"services": {"app": {"backup": backup}}})
    assert service.labels == {"team": "shop", **labels}


def test_overlay_secret_that_is_not_a_string_is_not_echoed() -> None:
    with pytest.raises(OverlayError) as raised:
        parse_overlay({"environment": "prod", "secrets": {"db_password": {"value": SECRET}}})
    assert "overlay.secrets.db_password must be a string" in str(raised.value)
    assert SECRET not in str(raised.value)


def test_overlay_placement(tmp_path: Path) -> None:
    service = one_service(
        tmp_path,
        """\
        image: app:1
        deploy: {placement: {constraints: [node.role==worker], preferences: [{spread: node.labels.zone}]}}
        """,
        {
            "services": {
                "app": {
                    "placement": {
                        "class": ["nuc", "pc", "nuc"],
                        "arch": "arm64",
                        "labels": {"disk": "ssd"},
                        "constraints": ["node.role==worker", "node.platform.os==linux"],
                        "max_replicas_per_node": 1,
                    }
                }
            }
        },
    )
    placement = service.placement
    assert placement.classes == ["nuc", "pc"]
    assert placement.arches == ["arm64"]
    assert placement.node_labels == {"disk": "ssd"}
    assert placement.constraints == ["node.role==worker", "node.platform.os==linux"]
    assert placement.spread == ["node.labels.zone"]
    assert placement.max_replicas_per_node == 1


# --- routed services -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "overlay", "port"),
    [
        pytest.param("expose: ['8000']", {"domain": "shop.example.com"}, 8000, id="the-exposed-port"),
        pytest.param("ports: ['8080:80']", {"domain": "shop.example.com"}, 80, id="the-published-target"),
        pytest.param("ports: ['8080:80']\nexpose: [80]", {"domain": "shop.example.com"}, 80, id="same-port-twice"),
        pytest.param("expose: [8000, 9000]", {"domain": "shop.example.com", "port": 9000}, 9000, id="overlay-port"),
        pytest.param("ports: ['53:53/udp', '8080:80']", {"domain": "shop.example.com"}, 80, id="udp-not-routable"),
    ],
)
def test_routed_port(tmp_path: Path, lines: str, overlay: dict[str, Any], port: int) -> None:
    service = one_service(tmp_path, f"image: app:1\n{lines}\n", {"services": {"app": overlay}})
    assert (service.domain, service.port, service.routed) == ("shop.example.com", port, True)


@pytest.mark.parametrize(
    ("lines", "found"),
    [
        pytest.param("expose: [8000, 9000]", "it publishes or exposes 8000, 9000", id="two-ports"),
        pytest.param("user: app", "it publishes and exposes no port", id="no-port"),
    ],
)
def test_routed_service_without_a_port(tmp_path: Path, lines: str, found: str) -> None:
    with pytest.raises(
        OverlayError, match=f"the domain shop.example.com needs the container port to route to, and {found}"
    ):
        one_service(tmp_path, f"image: app:1\n{lines}\n", {"services": {"app": {"domain": "shop.example.com"}}})


def test_service_without_image(tmp_path: Path) -> None:
    with pytest.raises(AppDefinitionError, match=r"service app has no image \(it has only build:"):
        one_service(tmp_path, "build: .\n")
    assert one_service(tmp_path, "build: .\n", {"services": {"app": {"image": "r/app:1"}}}).image == "r/app:1"


# --- configs and secrets ------------------------------------------------------------------

OBJECTS_COMPOSE = """\
services:
  app:
    image: app:1
    secrets: [from_file, from_env, external_one]
    configs: [inline, from_file_config]
secrets:
  from_file:
    file: ./secrets/pw.txt
  from_env:
    environment: DB_TOKEN
  external_one:
    external: true
    name: shared_token
  unused:
    file: ./does/not/exist
configs:
  inline:
    content: "port = ${PORT:-80}"
  from_file_config:
    file: conf/app.toml
    labels: {team: shop}
"""
OBJECT_FILES = {"secrets/pw.txt": "file-password\n", "conf/app.toml": "debug = false\n", ".env": "DB_TOKEN=env-token\n"}


def test_configs_and_secrets(tmp_path: Path) -> None:
    app = load(tmp_path, OBJECTS_COMPOSE, files=OBJECT_FILES)
    secrets = {key: (obj.source, obj.content, obj.external, obj.name) for key, obj in app.secrets.items()}
    assert secrets == {
        "from_file": ("file", "file-password\n", False, None),
        "from_env": ("environment", "env-token", False, None),
        "external_one": ("external", None, True, "shared_token"),
    }
    configs = {key: (obj.source, obj.content, obj.options) for key, obj in app.configs.items()}
    assert configs == {
        "inline": ("content", "port = 80", {}),
        "from_file_config": ("file", "debug = false\n", {"labels": {"team": "shop"}}),
    }
    assert app.secret_values == ["file-password\n", "env-token"]


def test_overlay_contents_replace_the_sources(tmp_path: Path) -> None:
    app = load(
        tmp_path, OBJECTS_COMPOSE, {"secrets": {"from_file": SECRET}, "configs": {"inline": "port = 81"}}, OBJECT_FILES
    )
    assert (app.secrets["from_file"].source, app.secrets["from_file"].content) == ("overlay", SECRET)
    assert app.configs["inline"].content == "port = 81"


@pytest.mark.parametrize(
    ("overlay", "files", "error", "message"),
    [
        pytest.param(
            {"secrets": {"nope": SECRET}},
            OBJECT_FILES,
            OverlayError,
            "overlay secrets gives nope, which the top-level secrets: of the Compose file does not declare",
            id="undeclared",
        ),
        pytest.param(
            {"secrets": {"external_one": SECRET}},
            OBJECT_FILES,
            OverlayError,
            "is external in the Compose file",
            id="external",
        ),
        pytest.param(
            {},
            {"conf/app.toml": "x", ".env": "DB_TOKEN=t\n"},
            AppDefinitionError,
            r"cannot read the file of secrets.from_file \(.*/secrets/pw.txt\)",
            id="missing-file",
        ),
        pytest.param(
            {},
            {"secrets/pw.txt": "x", "conf/app.toml": "x"},
            AppDefinitionError,
            "secrets.from_env comes from variable DB_TOKEN, which is not set",
            id="missing-variable",
        ),
    ],
)
def test_config_and_secret_errors(
    tmp_path: Path, overlay: dict[str, Any], files: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as raised:
        load(tmp_path, OBJECTS_COMPOSE, overlay, files)
    assert SECRET not in str(raised.value)


def test_secret_without_a_source(tmp_path: Path) -> None:
    compose = "services:\n  app:\n    image: a:1\n    secrets: [token]\nsecrets:\n  token: {}\n"
    with pytest.raises(
        AppDefinitionError,
        match="secrets.token has no file, environment or content; give its content in overlay secrets.token",
    ):
        load(tmp_path, compose)


def test_a_binary_secret_file(tmp_path: Path) -> None:
    compose = "services:\n  app:\n    image: a:1\n    secrets: [key]\nsecrets:\n  key: {file: key.bin}\n"
    project(tmp_path, compose)
    (tmp_path / "key.bin").write_bytes(b"\xff\xfe\x00binary")
    app = load_app(str(tmp_path / "compose.yml"), {"environment": "dev"})
    assert app.secrets["key"].content == b"\xff\xfe\x00binary"


# --- the app as a whole --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("compose", "project_name"),
    [
        pytest.param("name: My_Shop\nservices: {a: {image: a:1}}\n", "my_shop", id="compose-name"),
        pytest.param("services: {a: {image: a:1}}\n", None, id="directory-name"),
    ],
)
def test_app_name(tmp_path: Path, compose: str, project_name: str | None) -> None:
    directory = tmp_path / "Team Shop.v2"
    directory.mkdir()
    app = load(directory, compose)
    assert app.name == (project_name or "teamshopv2")
    assert app.environment == "dev"


@pytest.mark.parametrize(
    ("compose", "message"),
    [
        pytest.param("services: {}\n", "the Compose file has no services", id="no-services"),
        pytest.param("include: [other.yml]\nservices: {a: {image: a:1}}\n", "include: is not resolved", id="include"),
        pytest.param("- a\n", "does not hold a Compose mapping", id="a-list"),
        pytest.param("services: {a: {image: a:1, profiles: [x]}}\n", "every service is switched off", id="all-off"),
        pytest.param("services:\n  a b:\n    image: a:1\n", "a service name may only have", id="service-name"),
    ],
)
def test_app_errors(tmp_path: Path, compose: str, message: str) -> None:
    with pytest.raises(AppDefinitionError, match=message):
        load(tmp_path, compose)


def test_unused_top_level_objects_are_left_out(tmp_path: Path) -> None:
    compose = """\
    services:
      a: {image: a:1, networks: [front], volumes: [used:/u]}
    networks:
      front: {driver: overlay, attachable: true}
      back: {}
      default: {}
    volumes:
      used: {external: true}
      spare: {}
    """
    app = load(tmp_path, compose)
    assert list(app.networks) == ["front"]
    assert (app.networks["front"].driver, app.networks["front"].options) == ("overlay", {"attachable": True})
    assert list(app.volumes) == ["used"]
    assert (app.volumes["used"].external, app.volumes["used"].external_name) == (True, "used")


# --- strict tags ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        pytest.param("web", "has no tag, which means :latest", id="untagged"),
        pytest.param("web:latest", "is :latest", id="latest"),
        pytest.param("registry.lab:5000/shop/web", "has no tag, which means :latest", id="registry-port-is-no-tag"),
        pytest.param("registry.lab:5000/shop/web:1.2.0", None, id="tagged"),
        pytest.param(f"web:latest@{DIGEST}", None, id="latest-by-digest"),
        pytest.param(f"registry.lab:5000/web@{DIGEST}", None, id="digest"),
    ],
)
def test_image_problem(image: str, problem: str | None) -> None:
    assert image_problem(image) == problem


@pytest.mark.parametrize(
    ("environment", "strict", "image", "refused"),
    [
        pytest.param("prod", ("preprod", "prod"), "web:latest", True, id="latest-in-prod"),
        pytest.param("preprod", ("preprod", "prod"), "web", True, id="untagged-in-preprod"),
        pytest.param("dev", ("preprod", "prod"), "web:latest", False, id="latest-in-dev"),
        pytest.param("prod", ("preprod", "prod"), "web:1.0", False, id="tag-in-prod"),
        pytest.param("staging", ("staging",), "web:latest", True, id="configured-strict"),
        pytest.param("prod", (), "web:latest", False, id="nothing-strict"),
    ],
)
def test_strict_images(tmp_path: Path, environment: str, strict: tuple[str, ...], image: str, refused: bool) -> None:
    app = load(tmp_path, f"services:\n  web:\n    image: {image}\n", {"environment": environment})
    if refused:
        with pytest.raises(
            ImagePolicyError, match=f"environment {environment} is strict .* the image of web \\({image}\\)"
        ):
            check_images(app, strict)
    else:
        check_images(app, strict)


# --- the report's allow rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("allow", "service", "key", "allowed"),
    [
        (["build"], "web", "build", True),
        (["web:build"], "web", "build", True),
        (["web:build"], "api", "build", False),
        (["build"], "web", "depends_on.condition", False),
        (["build"], None, "build", True),
        (["web:build"], None, "build", False),
        ([], "web", "build", False),
    ],
)
def test_is_allowed(allow: list[str], service: str | None, key: str, allowed: bool) -> None:
    assert is_allowed(allow, service, key) is allowed


def test_must_stop() -> None:
    allowed = ReportItem("web", "build", "m", True)
    refused = ReportItem("db", "volumes.bind", "m", False)
    assert must_stop([allowed, refused]) is True
    assert must_stop([allowed]) is False
    assert must_stop([]) is False
    assert refused.describe() == "db: volumes.bind - m; allow it with allow: [volumes.bind]"
    assert allowed.describe() == "web: build - m"
    assert ReportItem(None, "secrets_dir", "m").describe().startswith("app: secrets_dir - m")


# --- overlay ports ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("overlay_ports", "expected"),
    [
        pytest.param([], [], id="none-published"),
        pytest.param(None, [], id="null-is-none"),
        pytest.param(["9000:8000"], [Port(8000, 9000)], id="replaced"),
        pytest.param([{"target": 8000, "published": 9000, "mode": "host"}], [Port(8000, 9000, "tcp", "host")],
                     id="long-syntax"),
    ],
)
def test_overlay_ports_replace_the_compose_ports(tmp_path: Path, overlay_ports: Any, expected: list[Port]) -> None:
    service = one_service(tmp_path, 'image: app:1\nports: ["8000:8000"]\n',
                          {"services": {"app": {"ports": overlay_ports}}})
    assert service.ports == expected


def test_a_routed_service_without_ports_names_its_port(tmp_path: Path) -> None:
    overlay = {"services": {"app": {"ports": [], "domain": "app.example.com", "port": 8000}}}
    service = one_service(tmp_path, 'image: app:1\nports: ["8000:8000"]\n', overlay)
    assert (service.ports, service.domain, service.port) == ([], "app.example.com", 8000)


def test_overlay_ports_must_be_a_list(tmp_path: Path) -> None:
    with pytest.raises(OverlayError, match=r"services.app.ports must be a list"):
        one_service(tmp_path, "image: app:1\n", {"services": {"app": {"ports": "8000:8000"}}})
