# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.drover.platform.plugins.module_utils._deploy_report import (
    answer_lines,
    release_lines,
    report_lines,
    routed_domains,
    service_table,
    short_digest,
)

DIGEST = "sha256:" + "ab12" * 16


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (f"registry:5000/shop/web@{DIGEST}", "sha256:ab12ab12ab12"),
        (DIGEST, "sha256:ab12ab12ab12"),
        ("python:3.11-slim-bookworm", "-"),
        (None, "-"),
    ],
)
def test_short_digest(image: str | None, expected: str) -> None:
    assert short_digest(image) == expected


def test_the_report_shows_refused_items_first_with_how_to_allow_them() -> None:
    lines = report_lines([
        {"service": "jobs", "key": "depends_on", "message": "no start order", "allowed": True},
        {"service": "api", "key": "volumes.bind_relative", "message": "left out", "allowed": False},
        {"service": None, "key": "x-tooling", "message": "not read", "allowed": True},
    ])

    assert lines == [
        "conversion report: 1 refused, 2 allowed",
        "refused api: volumes.bind_relative - left out (allow it with overlay allow: [volumes.bind_relative])",
        "allowed jobs: depends_on - no start order",
        "allowed app: x-tooling - not read",
    ]


def test_an_empty_report_says_so() -> None:
    assert report_lines([]) == ["conversion report: every Compose key is honoured on this target"]


def test_the_service_table_has_a_row_per_service_and_the_time() -> None:
    services = {
        "web": {"desired": 2, "running": 2, "state": "converged", "digest": f"r/web@{DIGEST}"},
        "docs": {"desired": 1, "running": 0, "state": "pending", "digest": None},
    }

    lines = service_table(services, {"web": "spec changed"}, 12.34, "shop-prod release 4 (1.2.0)")

    assert lines[0] == "shop-prod release 4 (1.2.0)"
    assert lines[1].split() == ["SERVICE", "RUNNING/DESIRED", "STATE", "DIGEST", "CHANGED"]
    assert lines[2].split() == ["docs", "0/1", "pending", "-", "unchanged"]
    assert lines[3].split() == ["web", "2/2", "converged", "sha256:ab12ab12ab12", "spec", "changed"]
    assert lines[-1] == "converged in 12.3 s"
    # Columns line up.
    assert lines[2].index("0/1") == lines[3].index("2/2")


def test_routed_domains_are_the_services_with_a_domain() -> None:
    overlay = {"services": {"api": {"domain": "api.example.com", "port": 8080}, "jobs": {"replicas": 2}}}

    assert routed_domains(overlay) == {"api": "api.example.com"}
    assert routed_domains(None) == {}


def test_answers_name_the_url_and_what_came_back() -> None:
    lines = answer_lines([
        {"service": "api", "url": "https://api.example.com/", "status": 200, "reason": "OK", "elapsed": 0.04,
         "body": '{"app":\n "shop"}'},
        {"service": "docs", "url": "https://docs.example.com/", "status": 0, "error": "timed out"},
    ])

    assert lines == [
        'api: https://api.example.com/ -> 200 OK in 0.04 s: {"app": "shop"}',
        "docs: https://docs.example.com/ -> no answer: timed out",
    ]


def test_releases_are_listed_newest_first_with_the_lock_holder() -> None:
    releases = [
        {"release": 1, "version": "a1", "deployed_at": "2026-12-01T10:00:00Z", "trigger": "ansible-playbook by ann",
         "note": "deploy of a1", "images": {"web": f"r/web@{DIGEST}"}},
        {"release": 2, "version": "b2", "deployed_at": "2026-12-01T11:00:00Z", "trigger": "awx job 7",
         "note": "deploy of b2", "images": {"web": f"r/web@{DIGEST}", "api": f"r/api@{DIGEST}"}},
    ]
    lock = {"holder": {"user": "bob", "controller": "ci1", "pid": 42}, "acquired_at": "2026-12-01T12:00:00Z"}

    lines = release_lines(releases, lock, "shop-prod", now=1_764_590_460.0)

    assert lines[0] == "shop-prod: 2 release(s)"
    assert lines[1].split()[:5] == ["RELEASE", "VERSION", "WHEN", "BY", "NOTE"]
    assert lines[2].startswith("2 ") and "awx job 7" in lines[2] and "api sha256:ab12ab12ab12" in lines[2]
    assert lines[3].startswith("1 ") and "ansible-playbook by ann" in lines[3]
    assert lines[-1].startswith("deploy lock: held by bob@ci1")
    assert "since 2026-12-01T12:00:00Z" in lines[-1]


def test_a_free_lock_and_no_release() -> None:
    assert release_lines([], None, "shop-dev") == ["shop-dev: 0 release(s)", "deploy lock: free"]
