# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""edge_probe against a real HTTPS server on this machine, with a CA of its own.

The server's certificate is for demo.probe.test, issued by a CA made here;
the name does not resolve, so every request goes to 127.0.0.1 with the
domain as server name and Host, as the probe sends it to an edge.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.module_utils._edge_probe import Probe, ProbeError, ask, report
from ansible_collections.drover.platform.plugins.modules import edge_probe

RunMain = Callable[..., dict[str, Any]]
# tests/unit/conftest.py's https_edge: a folder and the domains -> the server, running.
ServeHTTPS = Callable[..., contextlib.AbstractContextManager[dict[str, Any]]]
DOMAIN = "demo.probe.test"


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory, https_edge: ServeHTTPS) -> Iterator[dict[str, Any]]:
    with https_edge(tmp_path_factory.mktemp("edge"), (DOMAIN,)) as served:
        yield served


def probe(edge: dict[str, Any], **changes: Any) -> Probe:
    return Probe(**{"address": "127.0.0.1", "domain": DOMAIN, "port": edge["port"], "ca_file": edge["ca"],
                    "timeout": 5.0, **changes})


def test_the_fleet_ca_beside_the_system_cas_is_trusted(edge: dict[str, Any]) -> None:
    answer = ask(probe(edge))
    assert answer["status"] == 200 and answer["json"]["version"] == "1.4.2"
    assert answer["url"] == f"https://{DOMAIN}:{edge['port']}/"
    assert edge["hosts"][-1] == f"{DOMAIN}"


def test_the_fleet_ca_alone_is_trusted_too(edge: dict[str, Any]) -> None:
    assert ask(probe(edge, system_cas=False))["status"] == 200


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"ca_file": None}, "the edge's certificate is not trusted", id="system CAs only"),
        pytest.param({"domain": "other.probe.test"}, "not trusted", id="another name"),
        pytest.param({"ca_file": "/nonexistent/ca.crt"}, "the fleet CA file /nonexistent/ca.crt does not exist",
                     id="CA file missing"),
        pytest.param({"ca_file": "NOT_A_CA"}, "holds no usable certificate", id="CA file not a certificate"),
        pytest.param({"ca_file": None, "system_cas": False}, "nothing to trust", id="nothing trusted"),
        pytest.param({"path": "/missing"}, "answered 404 Not Found, expected 200", id="status"),
        pytest.param({"port": 1}, "cannot connect", id="nothing listens"),
    ],
)
def test_what_fails_says_why(edge: dict[str, Any], changes: dict[str, Any], message: str) -> None:
    if changes.get("ca_file") == "NOT_A_CA":
        changes["ca_file"] = str(edge["folder"] / "not-a-ca.crt")
    with pytest.raises(ProbeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ask(probe(edge, **changes))


def test_expected_statuses_are_configurable(edge: dict[str, Any]) -> None:
    assert ask(probe(edge, path="/missing", status=(200, 404)))["status"] == 404


def test_the_module_answers_in_check_mode_and_changes_nothing(run_main: RunMain, edge: dict[str, Any]) -> None:
    result = run_main(edge_probe.main, {"address": "127.0.0.1", "domain": DOMAIN, "port": edge["port"],
                                        "path": "healthz", "ca_file": edge["ca"], "_ansible_check_mode": True})
    assert not result.get("failed") and result["changed"] is False
    assert result["status"] == 200 and result["json"]["path"] == "/healthz"


def test_the_module_fails_with_the_status_it_got(run_main: RunMain, edge: dict[str, Any]) -> None:
    result = run_main(edge_probe.main, {"address": "127.0.0.1", "domain": DOMAIN, "port": edge["port"],
                                        "path": "/missing", "ca_file": edge["ca"]})
    assert result["failed"] and result["status"] == 404 and "expected 200" in result["msg"]


def answers(*outcomes: Any) -> Callable[..., dict[str, Any]]:
    """A stand-in for one request: each call gives the next outcome (an answer, or a ProbeError raised)."""
    calls = iter(outcomes)

    def once(_probe: Probe, _context: ssl.SSLContext) -> dict[str, Any]:
        outcome = next(calls)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    return once


def test_a_report_asks_again_until_an_expected_status(edge: dict[str, Any]) -> None:
    slept: list[float] = []
    wrong = ProbeError("answered 404 Not Found, expected 200", {"status": 404, "body": "no"})
    answer = report(probe(edge), attempts=5, delay=1.5, sleep=slept.append,
                    once=answers(ProbeError("cannot connect: refused"), wrong, {"status": 200, "body": "{}"}))
    assert (answer["status"], answer["attempts"], answer["error"], slept) == (200, 3, "", [1.5, 1.5])


def test_a_report_says_why_the_last_attempt_failed(edge: dict[str, Any]) -> None:
    wrong = ProbeError("answered 404 Not Found, expected 200", {"status": 404, "body": "no"})
    answer = report(probe(edge), attempts=2, sleep=lambda _s: None,
                    once=answers(wrong, ProbeError("cannot connect: timed out")))
    assert answer["attempts"] == 2 and answer["error"] == "cannot connect: timed out"
    assert "status" not in answer and answer["url"] == f"https://{DOMAIN}:{edge['port']}/"


def test_a_report_of_a_real_answer_does_not_raise(edge: dict[str, Any]) -> None:
    answer = report(probe(edge, path="/missing"), attempts=1)
    assert answer["status"] == 404 and answer["reason"] == "Not Found" and "expected 200" in answer["error"]


def test_a_missing_ca_file_fails_a_report_before_asking(edge: dict[str, Any]) -> None:
    with pytest.raises(ProbeError, match="does not exist"):
        report(probe(edge, ca_file="/nonexistent/ca.crt"), once=answers())


def test_the_module_asks_every_service_and_reports_without_failing(run_main: RunMain, edge: dict[str, Any]) -> None:
    result = run_main(edge_probe.main, {"address": "127.0.0.1", "port": edge["port"], "ca_file": edge["ca"],
                                        "services": {"web": DOMAIN, "docs": "other.probe.test"},
                                        "fail_on_error": False})
    assert not result.get("failed") and result["changed"] is False
    web, docs = result["answers"]
    assert (web["service"], web["domain"], web["status"], web["error"]) == ("web", DOMAIN, 200, "")
    assert docs["service"] == "docs" and "not trusted" in docs["error"] and "status" not in docs


def test_the_module_fails_naming_each_service_that_did_not_answer(run_main: RunMain, edge: dict[str, Any]) -> None:
    result = run_main(edge_probe.main, {"address": "127.0.0.1", "port": edge["port"], "ca_file": edge["ca"],
                                        "services": {"web": DOMAIN, "docs": "other.probe.test"}, "path": "/healthz"})
    assert result["failed"] and result["msg"].startswith("docs: ") and "web" not in result["msg"]
    assert [answer["service"] for answer in result["answers"]] == ["web", "docs"]


def test_the_module_in_report_mode_with_one_domain(run_main: RunMain, edge: dict[str, Any]) -> None:
    result = run_main(edge_probe.main, {"address": "127.0.0.1", "domain": DOMAIN, "port": edge["port"],
                                        "path": "/missing", "ca_file": edge["ca"], "fail_on_error": False,
                                        "attempts": 2, "delay": 0})
    assert not result.get("failed") and result["status"] == 404 and result["attempts"] == 2
    assert "expected 200" in result["error"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param({}, "one of the following is required: domain, services", id="neither"),
        pytest.param({"domain": DOMAIN, "services": {"web": DOMAIN}}, "mutually exclusive", id="both"),
    ],
)
def test_the_module_wants_a_domain_or_services(run_main: RunMain, args: dict[str, Any], message: str) -> None:
    result = run_main(edge_probe.main, {"address": "127.0.0.1", **args})
    assert result["failed"] and message in result["msg"]
