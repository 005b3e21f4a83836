# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.drover.platform.plugins.filter import release

DIGEST = "sha256:" + "a" * 64
WEB = f"reg:5000/demo/web@{DIGEST}"


def ledger(*numbers: int, stack: str = "demo-dev") -> list[dict[str, Any]]:
    return [{"release": n, "stack": stack, "version": f"{n}.0", "images": {"web": WEB}} for n in numbers]


def test_every_filter_is_registered() -> None:
    assert set(release.FilterModule().filters()) == {
        "release_ledger",
        "release_plan",
        "release_record",
        "release_rollback",
        "release_promotion",
        "release_running",
        "release_ledger_summary",
        "release_architectures",
        "release_copies",
        "release_copy_problem",
    }


def test_a_release_error_is_a_filter_error_that_names_the_filter() -> None:
    with pytest.raises(AnsibleFilterError, match="^release_ledger: the ledger read for demo-dev is the ledger of x"):
        release.release_ledger('{"stack": "x", "releases": []}', "demo-dev")


def test_plan_then_record_as_the_role_chains_them() -> None:
    releases = release.release_ledger(json.dumps({"stack": "demo-dev", "releases": ledger(1)}), "demo-dev")
    plan = release.release_plan(releases, {"services": {}}, "demo-dev", "dev", "2.0", {"web": WEB}, "c0ffee", "me", "n")
    assert plan["new"] is True and plan["release"] == 2
    document = release.release_record(releases, plan, "demo-dev", "2026-12-01T00:00:00Z", ["web"])
    assert [entry["release"] for entry in document["releases"]] == [1, 2]


@pytest.mark.parametrize(("wanted", "chosen"), [(0, 1), ("2", 2), (1, 1)])
def test_rollback_takes_the_number_as_text_too(wanted: Any, chosen: int) -> None:
    decision = release.release_rollback(ledger(1, 2), "demo-dev", wanted)
    assert decision["release"]["release"] == chosen and decision["problem"] == ""


def test_rollback_says_why_there_is_no_target() -> None:
    decision = release.release_rollback(ledger(1), "demo-dev")
    assert decision == {
        "release": {},
        "images": {},
        "problem": "demo-dev has no earlier release to roll back to; recorded: 1",
    }


def test_rollback_refuses_a_word() -> None:
    with pytest.raises(AnsibleFilterError, match="must be a number, got 'last'"):
        release.release_rollback(ledger(1), "demo-dev", "last")


def test_promotion() -> None:
    decision = release.release_promotion(ledger(1, 2), {"web": WEB}, "dev", "demo-dev", ["web"])
    assert decision == {"release": ledger(1, 2)[1], "images": {"web": WEB}, "problem": ""}


RUNNING: dict[str, tuple[list[Any], dict[str, str]]] = {
    "swarm lines": ([f"demo-dev_web {WEB}"], {"web": WEB}),
    "kubernetes workloads": (
        [{"metadata": {"labels": {"app.kubernetes.io/name": "web"}},
          "spec": {"template": {"spec": {"containers": [{"image": WEB}]}}}}],
        {"web": WEB},
    ),
    "nothing runs": ([], {}),
}  # fmt: skip


@pytest.mark.parametrize(("listed", "expected"), RUNNING.values(), ids=RUNNING.keys())
def test_running(listed: list[Any], expected: dict[str, str]) -> None:
    assert release.release_running(listed, "demo-dev") == expected


def test_running_refuses_a_mix() -> None:
    with pytest.raises(AnsibleFilterError, match="not a mix"):
        release.release_running(["demo-dev_web x", {"metadata": {}}], "demo-dev")


def test_summary() -> None:
    text = json.dumps({"stack": "demo-prod", "releases": ledger(1, 2, stack="demo-prod")})
    assert release.release_ledger_summary(text, "demo-prod") == {"releases": 2, "last_release": 2}


def test_copies_then_their_problem_as_the_role_chains_them() -> None:
    digest = "sha256:" + "a" * 64
    planned = release.release_copies({"web": f"pre:5000/demo/web@{digest}"}, "pre:5000", "prod:5000", "2.0")
    assert planned["images"] == {"web": f"prod:5000/demo/web@{digest}"}
    resolved = {"prod:5000/demo/web:2.0": f"prod:5000/demo/web@{digest}"}
    assert release.release_copy_problem(planned["copies"], resolved) == ""
    with pytest.raises(AnsibleFilterError, match="release_copies: .*pinned by digest"):
        release.release_copies({"web": "pre:5000/demo/web:2.0"}, "pre:5000", "prod:5000", "2.0")
