# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""swarm_stack's logic on real swarm output.

The fixtures under tests/unit/fixtures/swarm_stack/ were recorded by
tools/record-swarm-fixtures on a single-node swarm (Engine and CLI 20.10;
the job case deployed by CLI 28, which 20.10 refuses). The expected values in
these tables were read off that JSON, not off this code's output.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import stat
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.module_utils._swarm_cli import (
    DockerCli,
    DockerCliError,
    SwarmStackClient,
    is_orphaned_job_task,
)
from ansible_collections.drover.platform.plugins.module_utils._swarm_convergence import (
    Snapshot,
    evaluate_stack,
    failure_message,
    parse_timestamp,
    spec_matches,
    verdict,
)
from ansible_collections.drover.platform.plugins.module_utils._swarm_definition import (
    HASH_LABEL,
    DefinitionError,
    canonical_json,
    load_definition_file,
    plan_changes,
    render,
    service_diff,
    spec_hash,
    stage,
    staged_compose,
)
from ansible_collections.drover.platform.plugins.module_utils._swarm_stack import (
    Options,
    run_present,
    wait_for_convergence,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "swarm_stack"
UNHEALTHY = "task: non-zero exit (137): dockerexec: unhealthy container"


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def snapshot(case: str, folder: str = "") -> Snapshot:
    where = FIXTURES / case / folder
    listed = [json.loads(line) for line in (where / "service-ls.jsonl").read_text().splitlines() if line.strip()]
    services = read_json(where / "services.json") if (where / "services.json").exists() else []
    tasks = read_json(where / "tasks.json") if (where / "tasks.json").exists() else []
    return Snapshot(listed=listed, services=services, tasks=tasks)


def about(case: str) -> dict[str, Any]:
    return read_json(FIXTURES / case / "case.json")


def definition(case: str) -> dict[str, Any]:
    return read_json(FIXTURES / case / "definition.json")


def reports_for(case: str, expect_definition: bool = True) -> dict[str, Any]:
    stack = about(case)["stack"]
    rendered = render(stack, definition(case))
    expected = rendered.hashes if expect_definition else dict.fromkeys(rendered.hashes)
    return evaluate_stack(stack, snapshot(case), expected)


CASES = ["converged", "updating", "rolled-back", "paused", "task-error", "oneshot", "job", "global"]


# case, verdict, {service: (state, mode, desired, running, running_previous, completed, update_state, task_error)}
@pytest.mark.parametrize(
    ("case", "expected_verdict", "expected"),
    [
        pytest.param(
            "converged", "converged", {"web": ("converged", "replicated", 2, 2, 0, 0, None, None)}, id="converged"
        ),
        # The new task is "starting" (healthcheck start period); the old one is shut down.
        pytest.param(
            "updating", "waiting", {"web": ("updating", "replicated", 1, 0, 0, 0, "updating", None)}, id="updating"
        ),
        # Rolled back to v1, whose two tasks run; the v2 tasks failed unhealthy.
        pytest.param(
            "rolled-back",
            "failed",
            {"web": ("rolled_back", "replicated", 2, 2, 0, 0, "rollback_completed", UNHEALTHY)},
            id="rolled-back",
        ),
        # Paused on v2: no v2 task runs, both v1 tasks still do.
        pytest.param(
            "paused", "failed", {"web": ("paused", "replicated", 2, 0, 2, 0, "paused", UNHEALTHY)}, id="paused"
        ),
        pytest.param(
            "task-error",
            "waiting",
            {
                "exits": ("pending", "replicated", 1, 0, 0, 0, None, "task: non-zero exit (3)"),
                "missing": ("pending", "replicated", 1, 0, 0, 0, None, "No such image: drover-lab/does-not-exist:none"),
            },
            id="task-error",
        ),
        # restart_policy none: both tasks "complete", desired state shutdown; `service ls` says 0/2.
        pytest.param(
            "oneshot", "converged", {"once": ("converged", "replicated", 2, 0, 0, 2, None, None)}, id="oneshot"
        ),
        pytest.param("job", "converged", {"once": ("converged", "replicated-job", 2, 0, 0, 2, None, None)}, id="job"),
        # One task per node of the lab's three.
        pytest.param("global", "converged", {"web": ("converged", "global", 3, 3, 0, 0, None, None)}, id="global"),
    ],
)
def test_report_per_case(case: str, expected_verdict: str, expected: dict[str, tuple]) -> None:
    reports = reports_for(case)
    assert verdict(reports) == expected_verdict
    assert {
        key: (r.state, r.mode, r.desired, r.running, r.running_previous, r.completed, r.update_state, r.task_error)
        for key, r in reports.items()
    } == expected


@pytest.mark.parametrize("case", CASES)
def test_report_carries_what_inspect_says(case: str) -> None:
    snap = snapshot(case)
    for key, report in reports_for(case).items():
        service = next(s for s in snap.services if s["Spec"]["Name"] == f"{about(case)['stack']}_{key}")
        assert report.name == service["Spec"]["Name"]
        assert report.id == service["ID"]
        assert report.image == service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
        assert report.digest is None  # deployed by tag with --resolve-image never
        assert report.spec_hash == service["Spec"]["Labels"][HASH_LABEL]
        assert report.update_message == (service.get("UpdateStatus") or {}).get("Message")
        replicated = service["Spec"]["Mode"].get("Replicated")
        if replicated:
            assert report.desired == replicated["Replicas"]


def test_paused_reports_the_error_of_the_task_its_update_names() -> None:
    snap = snapshot("paused")
    message = snap.services[0]["UpdateStatus"]["Message"]
    named = re.search(r"task (\w+)", message).group(1)
    task = next(t for t in snap.tasks if t["ID"] == named)
    assert reports_for("paused")["web"].task_error == task["Status"]["Err"]
    # The newest task carries no error: it waits, ready, for the paused update.
    newest = max(snap.tasks, key=lambda t: parse_timestamp(t["CreatedAt"]))
    assert newest["Status"].get("Err") is None


def test_the_task_the_update_names_wins_over_a_newer_error() -> None:
    """Both failed v2 tasks say "unhealthy" in the recording; told apart here, and made out of order."""
    snap = snapshot("paused")
    named = re.search(r"task (\w+)", snap.services[0]["UpdateStatus"]["Message"]).group(1)
    for task in snap.tasks:
        if task["ID"] == named:
            task["Status"]["Err"] = "the error of the task named"
        elif task["Status"].get("Err"):
            task["CreatedAt"] = "2026-11-22T12:29:12Z"  # after the named one, before the newest (no error)
            task["Status"]["Err"] = "a later error"
    newest = max(snap.tasks, key=lambda t: parse_timestamp(t["CreatedAt"]))
    assert newest["Status"].get("Err") is None
    reports = evaluate_stack("fx-paused", snap, render("fx-paused", definition("paused")).hashes)
    assert reports["web"].task_error == "the error of the task named"


def test_failure_message_names_service_and_task_error() -> None:
    message = failure_message("fx-paused", reports_for("paused"), timed_out=False, timeout=60)
    assert message.startswith("stack fx-paused did not converge: web update paused (update paused due to failure")
    assert message.endswith(f"task error: {UNHEALTHY}")
    message = failure_message("fx-task-error", reports_for("task-error"), timed_out=True, timeout=60)
    assert message == (
        "stack fx-task-error did not converge within 60 seconds: "
        "exits pending, 0/1 running; task error: task: non-zero exit (3); "
        "missing pending, 0/1 running; task error: No such image: drover-lab/does-not-exist:none"
    )


def test_after_a_rollback_the_previous_version_is_what_runs() -> None:
    """v2 rolled back: the service carries v1's spec and label again."""
    case = about("rolled-back")
    v1 = render(case["stack"], case["first_version"])
    v2 = render(case["stack"], definition("rolled-back"))
    services = snapshot("rolled-back").services
    assert services[0]["Spec"]["Labels"][HASH_LABEL] == v1.hashes["web"] != v2.hashes["web"]
    # Deploying v2 again is a change (and a retry); v1 is not, and it stands converged.
    assert plan_changes(case["stack"], v2, services).updated == ["web"]
    assert plan_changes(case["stack"], v1, services).unchanged == ["web"]
    reports = evaluate_stack(case["stack"], snapshot("rolled-back"), v1.hashes)
    assert (reports["web"].state, reports["web"].update_state) == ("converged", "rollback_completed")


def test_just_after_the_deploy_old_tasks_do_not_count() -> None:
    """The moment between `docker stack deploy` and the updater's start.

    The service has its new spec, and no update status: every service update
    clears it (seen on this Engine). The tasks are still v1's, as
    updating/before recorded them. Counting them would call this converged.
    """
    service = copy.deepcopy(snapshot("updating").services[0])
    del service["UpdateStatus"]
    before = snapshot("updating", "before")
    assert [t["Status"]["State"] for t in before.tasks] == ["running"]
    moment = Snapshot(listed=before.listed, services=[service], tasks=before.tasks)
    expected = render("fx-updating", definition("updating")).hashes
    report = evaluate_stack("fx-updating", moment, expected)["web"]
    assert (report.state, report.running, report.running_previous) == ("pending", 0, 1)


def test_check_mode_describes_a_rollback_without_expectations() -> None:
    assert reports_for("rolled-back", expect_definition=False)["web"].state == "rolled_back"


@pytest.mark.parametrize("case", ["converged", "updating", "paused", "task-error", "oneshot", "job", "global"])
def test_recorded_labels_are_the_hash_of_the_definition(case: str) -> None:
    """The label a real deploy left matches a fresh rendering: the hash is stable."""
    rendered = render(about(case)["stack"], definition(case))
    labels = {s["Spec"]["Name"].split("_", 1)[1]: s["Spec"]["Labels"][HASH_LABEL] for s in snapshot(case).services}
    assert labels == rendered.hashes


@pytest.mark.parametrize("case", ["updating", "paused"])
def test_before_the_update_the_first_version_ran(case: str) -> None:
    stack = about(case)["stack"]
    before = snapshot(case, "before").services
    assert plan_changes(stack, render(stack, about(case)["first_version"]), before).unchanged == ["web"]
    plan = plan_changes(stack, render(stack, definition(case)), before)
    assert (plan.updated, plan.reasons) == (["web"], {"web": "spec changed"})


def test_tasks_of_the_current_spec() -> None:
    """paused: aagtj8rl and aq3j49yi still run v1; the two others (healthcheck `test -e /tmp/never`) were made
    from v2, the spec now."""
    snap = snapshot("paused")
    template = snap.services[0]["Spec"]["TaskTemplate"]
    current = sorted(t["ID"][:8] for t in snap.tasks if spec_matches(t["Spec"], template))
    assert current == ["reui2mcc", "rpppqun7"]


def test_spec_matches_compares_what_both_carry() -> None:
    template = {"ContainerSpec": {"Image": "a", "StopGracePeriod": 1}, "RestartPolicy": {"Condition": "any"}}
    assert spec_matches({"ContainerSpec": {"Image": "a"}}, template)
    assert not spec_matches({"ContainerSpec": {"Image": "b"}}, template)
    assert not spec_matches({"Networks": [{"Target": "x"}]}, {"Networks": [{"Target": "x"}, {"Target": "y"}]})


def test_timestamps_with_trimmed_nanoseconds() -> None:
    # Go drops trailing zeros from the fraction, so text order can be wrong.
    earlier, later = "2026-11-22T12:24:37.8472Z", "2026-11-22T12:24:37.84721Z"
    assert earlier > later
    assert parse_timestamp(earlier) < parse_timestamp(later)
    assert parse_timestamp("2026-11-22T13:24:37+01:00") == parse_timestamp("2026-11-22T12:24:37Z")
    assert parse_timestamp("0001-01-01T00:00:00Z") < parse_timestamp(later)
    assert parse_timestamp(None) == (0, 0)


def test_recorded_timestamps_in_order() -> None:
    created = [task["CreatedAt"] for task in snapshot("paused").tasks]
    assert any(len(text) != len(created[0]) for text in created)  # some were trimmed

    def exact(text: str) -> tuple[str, Decimal]:
        return text[:17], Decimal(text[17:-1])  # up to the minute as text, then seconds with their fraction

    assert sorted(created, key=parse_timestamp) == sorted(created, key=exact)


# --- rendering -----------------------------------------------------------------


def test_spec_hash_by_hand() -> None:
    service = {"image": "nginx:1.27", "deploy": {"replicas": 2, "labels": {"team": "web"}}, "configs": ["site"]}
    names = {"configs": {"site": "app_site_0123456789"}, "secrets": {}}
    by_hand = json.dumps(
        {"configs": ["app_site_0123456789"], "secrets": [], "service": service}, sort_keys=True, separators=(",", ":")
    )
    assert spec_hash(service, names) == hashlib.sha256(by_hand.encode()).hexdigest()


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        pytest.param({"environment": ["A=1", "B"]}, {"environment": {"B": None, "A": "1"}}, True, id="env-spellings"),
        pytest.param({"labels": ["a=b"]}, {"labels": {"a": "b"}}, True, id="label-spellings"),
        pytest.param(
            {"deploy": {"labels": ["a=b"]}},
            {"deploy": {"labels": {"a": "b", HASH_LABEL: "old"}}},
            True,
            id="own-label-ignored",
        ),
        pytest.param({"deploy": {"labels": {HASH_LABEL: "old"}}}, {}, True, id="only-own-label"),
        pytest.param({"deploy": {"replicas": 2}}, {"deploy": {"replicas": 3}}, False, id="replicas"),
        pytest.param({"command": ["a", "b"]}, {"command": ["b", "a"]}, False, id="list-order-counts"),
    ],
)
def test_spec_hash_spellings(one: dict, other: dict, same: bool) -> None:
    names: dict[str, dict[str, str]] = {"configs": {}, "secrets": {}}
    base = {"image": "nginx"}
    assert (spec_hash({**base, **one}, names) == spec_hash({**base, **other}, names)) is same


def test_changed_config_content_changes_the_services_using_it() -> None:
    def compose(content: str) -> dict[str, Any]:
        return {
            "services": {"web": {"image": "nginx", "configs": ["site"]}, "db": {"image": "postgres"}},
            "configs": {"site": {"content": content}},
        }

    one, other = render("app", compose("a")), render("app", compose("b"))
    assert one.hashes["web"] != other.hashes["web"]
    assert one.hashes["db"] == other.hashes["db"]


def test_content_objects_named_by_hash(tmp_path: Path) -> None:
    (tmp_path / "site.conf").write_bytes(b"server {}\n")
    rendered = render(
        "app",
        {
            "services": {"web": {"image": "nginx", "configs": ["site", "inline", "tpl"], "secrets": ["token", "ext"]}},
            "configs": {
                "site": {"file": "./site.conf"},
                "inline": {"content": "x = 1\n", "name": "shared"},
                "tpl": {"content": "{{ .Service.Name }}", "template_driver": "golang"},
            },
            "secrets": {"token": {"content": "s3cret"}, "ext": {"external": True, "name": "prod_token"}},
        },
        base_dir=str(tmp_path),
    )

    def short(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()[:10]

    templated = b"{{ .Service.Name }}" + b"\0" + canonical_json({"template_driver": "golang"}).encode()
    assert rendered.names == {
        "configs": {
            "site": f"app_site_{short(b'server {}' + chr(10).encode())}",
            "inline": f"shared_{short(b'x = 1' + chr(10).encode())}",
            "tpl": f"app_tpl_{short(templated)}",
        },
        "secrets": {"token": f"app_token_{short(b's3cret')}", "ext": "prod_token"},
    }
    configs = rendered.definition["configs"]
    assert configs["site"] == {"file": str(tmp_path / "site.conf"), "name": rendered.names["configs"]["site"]}
    assert configs["inline"]["name"] == rendered.names["configs"]["inline"]
    assert rendered.definition["secrets"]["ext"] == {"external": True, "name": "prod_token"}
    assert "content" not in rendered.definition["secrets"]["token"]
    assert rendered.secret_values == ["s3cret"]
    # Services keep referring to the keys.
    assert rendered.services["web"]["configs"] == ["site", "inline", "tpl"]


def test_recorded_service_uses_the_hashed_names_under_the_keys_targets() -> None:
    """The real CLI: a top-level name: renames the object, the reference and the file's place stay."""
    container = snapshot("converged").services[0]["Spec"]["TaskTemplate"]["ContainerSpec"]
    app_conf = "fx-converged_app_conf_" + hashlib.sha256(b"greeting = hello\n").hexdigest()[:10]
    token = "fx-converged_token_" + hashlib.sha256(b"not-a-real-secret\n").hexdigest()[:10]
    assert [(c["ConfigName"], c["File"]["Name"]) for c in container["Configs"]] == [
        (app_conf, "app_conf"),
        (app_conf, "/etc/app/app.conf"),
    ]
    assert [(s["SecretName"], s["File"]["Name"]) for s in container["Secrets"]] == [(token, "token")]
    assert f"Creating config {app_conf}" in (FIXTURES / "converged" / "deploy.txt").read_text()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param({}, "3.9", id="none-given"),
        pytest.param({"version": "3.8"}, "3.8", id="kept"),
        pytest.param({"version": 3.8}, "3.8", id="number"),
        pytest.param({"version": "3.3", "configs": {"c": {"content": "x"}}}, "3.5", id="raised-for-names"),
        pytest.param({"version": "3.3"}, "3.3", id="no-names-kept"),
    ],
)
def test_compose_version(given: dict, expected: str) -> None:
    assert render("app", {"services": {"web": {"image": "nginx"}}, **given}).definition["version"] == expected


def test_hash_label_joins_the_services_labels() -> None:
    rendered = render(
        "app",
        {
            "services": {
                "web": {"image": "nginx", "deploy": {"labels": ["team=web"], "replicas": 2}},
                "db": {"image": "postgres"},
            }
        },
    )
    assert rendered.services["web"]["deploy"] == {
        "labels": {"team": "web", HASH_LABEL: rendered.hashes["web"]},
        "replicas": 2,
    }
    assert rendered.services["db"]["deploy"] == {"labels": {HASH_LABEL: rendered.hashes["db"]}}


def test_relative_paths_become_absolute(tmp_path: Path) -> None:
    rendered = render(
        "app",
        {
            "services": {
                "web": {
                    "image": "nginx",
                    "env_file": "./web.env",
                    "volumes": [
                        "./html:/usr/share/nginx/html:ro",
                        "data:/data",
                        {"type": "bind", "source": "../logs", "target": "/logs"},
                    ],
                }
            }
        },
        base_dir=str(tmp_path / "app"),
    )
    web = rendered.services["web"]
    assert web["env_file"] == str(tmp_path / "app" / "web.env")
    assert web["volumes"] == [
        f"{tmp_path / 'app' / 'html'}:/usr/share/nginx/html:ro",
        "data:/data",
        {"type": "bind", "source": str(tmp_path / "logs"), "target": "/logs"},
    ]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        pytest.param({"services": {}}, "has no services", id="no-services"),
        pytest.param({"services": {"web": {"image": "x", "configs": ["nope"]}}}, "uses configs nope", id="unknown-ref"),
        pytest.param(
            {"services": {"web": {"image": "x"}}, "configs": {"c": {"file": "a", "content": "b"}}},
            "both file and content",
            id="file-and-content",
        ),
        pytest.param(
            {"services": {"web": {"image": "x"}}, "configs": {"c": {"file": "./c.conf"}}},
            "give an absolute path",
            id="relative-without-file",
        ),
        pytest.param(
            {"services": {"web": {"image": "x"}}, "configs": {"c": {"file": "/nonexistent/c.conf"}}},
            "cannot read configs.c.file /nonexistent/c.conf",
            id="missing-file",
        ),
        pytest.param(
            {"services": {"web": {"image": "x", "environment": "A=1"}}}, "mapping or a list", id="environment-string"
        ),
    ],
)
def test_definitions_refused(bad: dict, message: str) -> None:
    with pytest.raises(DefinitionError, match=re.escape(message)):
        render("app", bad)


def test_stack_name_checked() -> None:
    with pytest.raises(DefinitionError, match="is not a stack name"):
        render("my app", {"services": {"web": {"image": "x"}}})


def test_stage_writes_private_files(tmp_path: Path) -> None:
    rendered = render(
        "app",
        {
            "services": {"web": {"image": "nginx", "secrets": ["token"]}},
            "secrets": {"token": {"content": "s3cret"}},
        },
    )
    compose = Path(stage(rendered, str(tmp_path)))
    staged = json.loads(compose.read_text())
    secret_file = Path(staged["secrets"]["token"]["file"])
    assert secret_file.parent == tmp_path
    assert secret_file.read_text() == "s3cret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == stat.S_IMODE(compose.stat().st_mode) == 0o600
    assert staged["services"] == rendered.services
    # The rendering itself is left as it was, for the diff.
    assert rendered.definition["secrets"]["token"]["file"] is None


def test_staged_compose_cleans_up(tmp_path: Path) -> None:
    rendered = render("app", {"services": {"web": {"image": "nginx"}}})
    with staged_compose(rendered, str(tmp_path)) as compose:
        assert os.path.exists(compose)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError), staged_compose(rendered, str(tmp_path)):
        raise RuntimeError("deploy failed")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        pytest.param("services:\n  web:\n    image: nginx\n", "compose.yml", id="yaml"),
        pytest.param('{"services": {"web": {"image": "nginx"}}}', "compose.json", id="json"),
    ],
)
def test_definition_file(tmp_path: Path, text: str, name: str) -> None:
    (tmp_path / name).write_text(text)
    assert load_definition_file(str(tmp_path / name)) == {"services": {"web": {"image": "nginx"}}}


@pytest.mark.parametrize("text", ["services: [\n", "- just\n- a list\n"])
def test_definition_file_refused(tmp_path: Path, text: str) -> None:
    (tmp_path / "compose.yml").write_text(text)
    with pytest.raises(DefinitionError):
        load_definition_file(str(tmp_path / "compose.yml"))


# --- plan and diff ---------------------------------------------------------------


def converged_plan(
    change: dict | None = None, prune: bool = False, services: list | None = None, resolve_image: str = "never"
) -> Any:
    compose = definition("converged")
    if change:
        compose["services"].update(change)
    return plan_changes(
        "fx-converged",
        render("fx-converged", compose),
        services if services is not None else snapshot("converged").services,
        prune,
        resolve_image,
    )


def test_plan_nothing_changed() -> None:
    plan = converged_plan()
    assert (plan.changed, plan.unchanged) == (False, ["web"])


def test_plan_added_and_updated() -> None:
    web = definition("converged")["services"]["web"]
    plan = converged_plan({"web": {**web, "deploy": {**web["deploy"], "replicas": 3}}, "worker": {"image": "x"}})
    assert (plan.added, plan.updated, plan.removed) == (["worker"], ["web"], [])
    assert plan.reasons == {"web": "spec changed", "worker": "not deployed yet"}


@pytest.mark.parametrize("prune", [True, False])
def test_plan_prune(prune: bool) -> None:
    compose = {"services": {"other": {"image": "x"}}}
    plan = plan_changes("fx-converged", render("fx-converged", compose), snapshot("converged").services, prune)
    assert plan.removed == (["web"] if prune else [])
    assert plan.added == ["other"]


def test_plan_sees_changes_by_hand() -> None:
    scaled = json.loads(json.dumps(snapshot("converged").services))
    scaled[0]["Spec"]["Mode"]["Replicated"]["Replicas"] = 5
    plan = converged_plan(services=scaled)
    assert plan.updated == ["web"]
    assert plan.reasons["web"] == "scaled to 5 replicas outside the stack, the definition says 2"

    retagged = json.loads(json.dumps(snapshot("converged").services))
    retagged[0]["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] = "drover-lab/debian-base:trixie"
    assert converged_plan(services=retagged).updated == ["web"]
    # A resolved image carries a digest the definition does not: not a change.
    assert converged_plan(services=retagged, resolve_image="always").updated == []


def test_plan_leaves_replicas_from_variables_to_the_cli() -> None:
    web = definition("converged")["services"]["web"]
    plan = converged_plan({"web": {**web, "deploy": {**web["deploy"], "replicas": "${WEB_REPLICAS}"}}})
    assert plan.reasons == {"web": "spec changed"}


def test_plan_unlabelled_service() -> None:
    unlabelled = json.loads(json.dumps(snapshot("converged").services))
    del unlabelled[0]["Spec"]["Labels"][HASH_LABEL]
    assert converged_plan(services=unlabelled).reasons == {"web": "deployed without a spec-hash label"}


def test_diff_before_and_after() -> None:
    compose = definition("converged")
    compose["configs"]["app_conf"]["content"] = "greeting = bonjour\n"
    rendered = render("fx-converged", compose)
    services = snapshot("converged").services
    plan = plan_changes("fx-converged", rendered, services)
    diff = service_diff("fx-converged", rendered, services, plan)
    recorded = services[0]["Spec"]
    assert diff["before"] == {
        "web": {
            "spec_hash": recorded["Labels"][HASH_LABEL],
            "image": recorded["TaskTemplate"]["ContainerSpec"]["Image"],
        }
    }
    assert diff["after"] == {"web": rendered.services["web"]}
    assert diff["after"]["web"]["deploy"]["labels"][HASH_LABEL] != recorded["Labels"][HASH_LABEL]


# --- waiting ---------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class SnapshotsInTurn:
    """A stack whose snapshot() gives recorded snapshots in turn, the last one for good."""

    def __init__(self, name: str, *snapshots: Snapshot | Exception) -> None:
        self.name = name
        self.snapshots = list(snapshots)
        self.reads = 0

    def snapshot(self) -> Snapshot:
        self.reads += 1
        item = self.snapshots.pop(0) if len(self.snapshots) > 1 else self.snapshots[0]
        if isinstance(item, Exception):
            raise item
        return item


def test_wait_times_out_on_an_update_in_progress() -> None:
    clock = FakeClock()
    stack = SnapshotsInTurn("fx-updating", snapshot("updating"))
    expected = render("fx-updating", definition("updating")).hashes
    options = Options("fx-updating", timeout=10, poll_interval=4)
    reports, timed_out, error = wait_for_convergence(stack, expected, options, clock, clock.sleep)
    assert (reports["web"].state, timed_out, error) == ("updating", True, None)
    assert clock.sleeps == [4, 4, 2]
    assert stack.reads == 4


def test_wait_goes_on_until_a_rollback() -> None:
    """Just after the deploy the service still carries v1 (pending); then it rolls back: the wait stops."""
    clock = FakeClock()
    stack = SnapshotsInTurn("fx-rolled-back", snapshot("rolled-back", "before"), snapshot("rolled-back"))
    expected = render("fx-rolled-back", definition("rolled-back")).hashes
    reports, timed_out, _error = wait_for_convergence(stack, expected, Options("x", timeout=300), clock, clock.sleep)
    assert (reports["web"].state, timed_out, clock.sleeps) == ("rolled_back", False, [2])


def oneshot_still_running() -> Snapshot:
    """The oneshot case a moment earlier: both tasks of restart condition none still run."""
    snap = snapshot("oneshot")
    tasks = json.loads(json.dumps(snap.tasks))
    for task in tasks:
        task["DesiredState"] = "running"
        task["Status"]["State"] = "running"
    return Snapshot(listed=snap.listed, services=snap.services, tasks=tasks)


def wait_for_the_one_shot(options: Options, *snapshots: Snapshot, settle: float = 15) -> tuple[Any, bool, FakeClock]:
    """The oneshot case's wait over these snapshots in turn: its report, whether it timed out, the clock."""
    clock = FakeClock()
    stack = SnapshotsInTurn("fx-oneshot", *snapshots)
    expected = render("fx-oneshot", definition("oneshot")).hashes
    reports, timed_out, _error = wait_for_convergence(stack, expected, options, clock, clock.sleep, settle=settle)
    return reports["once"], timed_out, clock


def test_a_one_shot_deployed_just_now_is_given_time_to_finish() -> None:
    once, timed_out, clock = wait_for_the_one_shot(
        Options("x", timeout=300), oneshot_still_running(), oneshot_still_running(), snapshot("oneshot")
    )
    assert (once.state, once.running, once.completed, timed_out, clock.sleeps) == ("converged", 0, 2, False, [2, 2])
    assert "finishing" not in once.as_dict()


def test_a_one_shot_still_running_after_the_settle_time_is_a_long_running_service() -> None:
    options = Options("x", timeout=300, poll_interval=4)
    once, timed_out, clock = wait_for_the_one_shot(options, oneshot_still_running())
    assert (once.state, once.running, once.completed, timed_out) == ("converged", 2, 0, False)
    assert clock.sleeps == [4, 4, 4, 3]
    # Without a deploy just now (settle 0), what runs is what the wait reports at once.
    once, _timed_out, clock = wait_for_the_one_shot(options, oneshot_still_running(), settle=0)
    assert (once.running, clock.sleeps) == (2, [])


def test_the_settle_time_ends_at_the_timeout() -> None:
    once, timed_out, clock = wait_for_the_one_shot(Options("x", timeout=5, poll_interval=2), oneshot_still_running())
    assert (once.state, timed_out, sum(clock.sleeps)) == ("converged", False, 5)


def test_wait_rides_out_a_failed_read() -> None:
    clock = FakeClock()
    error = DockerCliError(["docker", "service", "inspect", "x"], 1, "", "Error: no such service: x")
    stack = SnapshotsInTurn("fx-converged", error, snapshot("converged"))
    expected = render("fx-converged", definition("converged")).hashes
    reports, timed_out, last_error = wait_for_convergence(stack, expected, Options("x"), clock, clock.sleep)
    assert (reports["web"].state, timed_out, last_error, stack.reads) == ("converged", False, None, 2)


def test_run_present_times_out_with_the_report() -> None:
    clock = FakeClock()

    class Stack(SnapshotsInTurn):
        def deploy(self, *args: Any) -> list[str]:
            raise AssertionError("nothing changed, nothing to deploy")

    outcome = run_present(
        Stack("fx-task-error", snapshot("task-error")),
        render("fx-task-error", definition("task-error")),
        Options("fx-task-error", timeout=30),
        lambda r: None,
        clock,
        clock.sleep,
    )
    assert outcome.result["changed"] is False
    assert outcome.failure.startswith("stack fx-task-error did not converge within 30 seconds: exits pending")
    assert outcome.result["services"]["missing"]["task_error"] == "No such image: drover-lab/does-not-exist:none"
    assert outcome.result["elapsed"] == 30


def test_finished_job_tasks_of_a_removed_service_are_orphans() -> None:
    """job/gone: after `docker stack rm`, Engine 20.10 keeps the job's finished tasks."""
    gone = FIXTURES / "job" / "gone"
    assert (gone / "service-ls.jsonl").read_text() == ""
    tasks = read_json(gone / "tasks.json")
    assert len(tasks) == 2
    assert all(is_orphaned_job_task(task, []) for task in tasks)
    # While the service is there, they are its tasks, not orphans.
    service_id = snapshot("job").services[0]["ID"]
    assert not any(is_orphaned_job_task(task, [service_id]) for task in tasks)
    removing = read_json(FIXTURES / "converged" / "removing" / "tasks.json")
    assert not any(is_orphaned_job_task(task, []) for task in removing)


# --- the CLI runner ------------------------------------------------------------------


def test_cli_runs_argv_in_the_c_locale() -> None:
    calls = []

    def run_command(argv: list[str], environment: dict[str, str]) -> tuple[int, str, str]:
        calls.append((argv, environment))
        return 0, '{"ID":"a"}\n\n{"ID":"b"}\n', ""

    cli = DockerCli(run_command, "/usr/bin/docker")
    assert cli.json_lines(["service", "ls", "--format", "{{json .}}"]) == [{"ID": "a"}, {"ID": "b"}]
    assert calls == [
        (
            ["/usr/bin/docker", "service", "ls", "--format", "{{json .}}"],
            {"LC_ALL": "C", "LANG": "C", "DOCKER_CLI_HINTS": "false"},
        )
    ]


@pytest.mark.parametrize(
    ("rc", "stdout", "stderr", "method", "message"),
    [
        pytest.param(
            1,
            "Creating network fx-job_default\n",
            "service once: Unknown mode: replicated-job\n",
            "lines",
            "`docker stack deploy` failed (rc 1): service once: Unknown mode: replicated-job",
            id="rc",
        ),
        pytest.param(0, "not json", "", "json", "not JSON", id="not-json"),
        pytest.param(0, "{}\nnope\n", "", "json_lines", "line 'nope' is not JSON", id="not-json-line"),
    ],
)
def test_cli_errors(rc: int, stdout: str, stderr: str, method: str, message: str) -> None:
    cli = DockerCli(lambda argv, environment: (rc, stdout, stderr), "docker")
    with pytest.raises(DockerCliError, match=re.escape(message)):
        getattr(cli, method)(["stack", "deploy"])


def test_refusal_recorded_from_the_2010_cli() -> None:
    refused = read_json(FIXTURES / "job" / "refused.json")
    assert refused["cli"].startswith("20.10")
    assert (refused["rc"], refused["stderr"]) == (1, "service once: Unknown mode: replicated-job\n")
    # It had created the stack's network before refusing.
    assert refused["stdout"] == "Creating network fx-job_default\n"


# Swarm removes tasks between `service ps` and `inspect`: seen in the lab
# while a stack was being removed. The tasks still there are kept, the
# vanished ones are gone; any other error still stops the module.
@pytest.mark.parametrize(
    ("rc", "stdout", "stderr", "expected"),
    [
        (0, '[{"ID": "a"}, {"ID": "b"}]', "", ["a", "b"]),
        (1, '[{"ID": "a"}]', "Error: No such task: b\n", ["a"]),
        (1, "[]", "Error: No such task: a\nError: No such task: b\n", []),
    ],
    ids=["all-there", "one-vanished", "all-vanished"],
)
def test_inspect_tasks_skips_tasks_removed_meanwhile(rc: int, stdout: str, stderr: str, expected: list[str]) -> None:
    stack = SwarmStackClient(DockerCli(lambda argv, env: (rc, stdout, stderr)), "probe")
    assert [task["ID"] for task in stack.inspect_tasks(["a", "b"])] == expected


def test_inspect_tasks_still_fails_on_other_errors() -> None:
    stack = SwarmStackClient(DockerCli(lambda argv, env: (1, "", "Cannot connect to the Docker daemon\n")), "probe")
    with pytest.raises(DockerCliError, match="Cannot connect"):
        stack.inspect_tasks(["a"])
