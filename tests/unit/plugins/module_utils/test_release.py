# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.module_utils import _release
from ansible_collections.drover.platform.plugins.module_utils._release import ReleaseError

REG = "198.18.0.11:5000/demo"
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
D3 = "sha256:" + "3" * 64
DEV = "demo-dev"
PROD = "demo-prod"


def entry(
    number: int, version: str = "1.0", web: str = D1, api: str = D1, stack: str = DEV, **more: Any
) -> dict[str, Any]:
    return {
        "release": number,
        "stack": stack,
        "environment": stack.split("-")[-1],
        "version": version,
        "images": {"web": f"{REG}/web@{web}", "api": f"{REG}/api@{api}"},
        "definition_hash": more.pop("definition_hash", f"hash-{number}"),
        **more,
    }


DEFINITION: dict[str, Any] = {"services": {"web": {"image": f"{REG}/web@{D1}", "deploy": {"replicas": 2}}}}
HASH = hashlib.sha256(json.dumps(DEFINITION, sort_keys=True).encode()).hexdigest()


def test_definition_hash_is_the_one_the_ledger_recorded_with_jinja() -> None:
    # The Jinja it replaces: definition | to_json(sort_keys=true) | hash('sha256'), so old ledgers stay comparable.
    assert _release.definition_hash(DEFINITION) == HASH
    assert (
        _release.definition_hash({"b": 1, "a": [1, "é"]})
        == hashlib.sha256(b'{"a": [1, "\\u00e9"], "b": 1}').hexdigest()
    )


def test_definition_hash_refuses_what_is_not_json() -> None:
    with pytest.raises(ReleaseError, match="cannot be hashed"):
        _release.definition_hash({"a": object()})


PARSE: dict[str, tuple[Any, list[dict[str, Any]]]] = {
    "missing file": (None, []),
    "empty text": ("  \n", []),
    "text": (json.dumps({"stack": DEV, "releases": [entry(1), entry(2)]}), [entry(1), entry(2)]),
    "already parsed": ({"stack": DEV, "releases": [entry(1)]}, [entry(1)]),
    "no releases yet": ({"stack": DEV}, []),
    "old entries without stack": ({"releases": [{"release": 1, "images": {}}]}, [{"release": 1, "images": {}}]),
}


@pytest.mark.parametrize(("content", "expected"), PARSE.values(), ids=PARSE.keys())
def test_parse_ledger(content: Any, expected: list[dict[str, Any]]) -> None:
    assert _release.parse_ledger(content, DEV) == expected


PARSE_ERRORS: dict[str, tuple[Any, str]] = {
    "not json": ("{releases:", "is not JSON"),
    "a list": ("[1]", "not a mapping with a releases list"),
    "another stack's document": ({"stack": PROD, "releases": []}, "is the ledger of demo-prod"),
    "another stack's entry": ({"stack": DEV, "releases": [entry(1, stack=PROD)]}, "holds release 1 of demo-prod"),
    "releases not a list": ({"releases": "1"}, "no list of releases"),
    "entry not a mapping": ({"releases": [3]}, "entry 0 .* not a mapping"),
    "numbers out of order": ({"releases": [entry(2), entry(1)]}, "entry 1 .* release 1"),
    "number missing": ({"releases": [{"images": {}}]}, "release None"),
    "number a string": ({"releases": [{"release": "1"}]}, "release '1'"),
    "images not a mapping": ({"releases": [{"release": 1, "images": []}]}, "no images mapping"),
}


@pytest.mark.parametrize(("content", "message"), PARSE_ERRORS.values(), ids=PARSE_ERRORS.keys())
def test_parse_ledger_refuses(content: Any, message: str) -> None:
    with pytest.raises(ReleaseError, match=message):
        _release.parse_ledger(content, DEV)


PLAN: dict[str, tuple[list[dict[str, Any]], bool, int]] = {
    "first release": ([], True, 1),
    "a new definition": ([entry(1), entry(2)], True, 3),
    "the definition that runs": ([entry(1), entry(2, definition_hash=HASH)], False, 2),
    "the definition of an older release": ([entry(1, definition_hash=HASH), entry(2)], True, 3),
    # Equal digests, another definition (an overlay change): a release of its own.
    "equal digests, another definition": ([entry(1), entry(2)], True, 3),
}


@pytest.mark.parametrize(("ledger", "new", "number"), PLAN.values(), ids=PLAN.keys())
def test_plan_release(ledger: list[dict[str, Any]], new: bool, number: int) -> None:
    images = {"web": f"{REG}/web@{D1}"}
    plan = _release.plan_release(
        ledger,
        DEFINITION,
        stack=DEV,
        environment="dev",
        version="1.0",
        images=images,
        git_commit="abc",
        trigger=" awx job 4\n",
        note="deploy of 1.0",
    )
    assert plan == {
        "new": new,
        "release": number,
        "stack": DEV,
        "environment": "dev",
        "version": "1.0",
        "images": images,
        "definition_hash": HASH,
        "git_commit": "abc",
        "trigger": "awx job 4",
        "note": "deploy of 1.0",
    }


def test_plan_release_refuses_another_stacks_ledger() -> None:
    with pytest.raises(ReleaseError, match="ledger read for demo-prod holds release 1 of demo-dev"):
        _release.plan_release([entry(1)], DEFINITION, stack=PROD, environment="prod", version="1", images={})


def _plan(ledger: list[dict[str, Any]], stack: str = DEV) -> dict[str, Any]:
    return _release.plan_release(ledger, DEFINITION, stack=stack, environment="x", version="1.0", images={})


def test_record_release_appends_the_new_release() -> None:
    ledger = [entry(1)]
    document = _release.record_release(
        ledger, _plan(ledger), stack=DEV, deployed_at="2026-12-01T10:00:00Z", services_changed=["web", "api"]
    )
    assert document["stack"] == DEV
    assert document["releases"][:-1] == ledger
    added = document["releases"][-1]
    assert added["release"] == 2 and "new" not in added
    assert added["deployed_at"] == "2026-12-01T10:00:00Z" and added["services_changed"] == ["api", "web"]


def test_record_release_without_services_changed_leaves_the_key_out() -> None:
    document = _release.record_release([], _plan([]), stack=DEV, deployed_at="t")
    assert "services_changed" not in document["releases"][0]


def test_record_release_of_the_running_release_writes_the_ledger_as_it_is() -> None:
    ledger = [entry(1, definition_hash=HASH)]
    assert _release.record_release(ledger, _plan(ledger), stack=DEV, deployed_at="t") == {
        "stack": DEV,
        "releases": ledger,
    }


RECORD_ERRORS: dict[str, tuple[list[dict[str, Any]], dict[str, Any], str]] = {
    # The lab's case: promote read dev's ledger, then wrote it, plus prod's release, as prod's.
    "a promotion writing its source's ledger into the target's": (
        [entry(1, stack=DEV), entry(2, stack=DEV)],
        {**entry(3, stack=PROD), "new": True},
        "ledger read for demo-prod holds release 1 of demo-dev",
    ),
    "a release of another stack": ([], {**entry(1, stack=DEV), "new": True}, "is of 'demo-dev', not of demo-prod"),
    "a release planned on a stale ledger": (
        [entry(1, stack=PROD), entry(2, stack=PROD)],
        {**entry(2, stack=PROD), "new": True},
        "next release is 3",
    ),
}


@pytest.mark.parametrize(("ledger", "release", "message"), RECORD_ERRORS.values(), ids=RECORD_ERRORS.keys())
def test_record_release_refuses(ledger: list[dict[str, Any]], release: dict[str, Any], message: str) -> None:
    with pytest.raises(ReleaseError, match=message):
        _release.record_release(ledger, release, stack=PROD, deployed_at="t")


ROLLBACK: dict[str, tuple[list[dict[str, Any]], int, int | None, str]] = {
    "the one before": ([entry(1, "1.0", D1), entry(2, "2.0", D2)], 0, 1, ""),
    "a named release": ([entry(1, "1.0", D1), entry(2, "2.0", D2), entry(3, "3.0", D3)], 1, 1, ""),
    "the running release, named": ([entry(1, "1.0", D1), entry(2, "2.0", D2)], 2, 2, ""),
    # The lab's case: release 3 only changed the overlay, so 2 ran the same digests; rolling back to 2 would
    # render what runs. The rollback goes to 1.
    "two releases with equal digests": ([entry(1, "1.0", D1), entry(2, "2.0", D2), entry(3, "2.0", D2)], 0, 1, ""),
    "after a rollback, forward again": ([entry(1, "1.0", D1), entry(2, "2.0", D2), entry(3, "1.0", D1)], 0, 2, ""),
    "same digests, another version": ([entry(1, "1.0", D1), entry(2, "1.1", D1)], 0, 1, ""),
    "one service's digest differs": ([entry(1, web=D1), entry(2, web=D2)], 0, 1, ""),
    "no release": ([], 0, None, "demo-dev has no earlier release to roll back to; recorded: none"),
    "one release": ([entry(1)], 0, None, "demo-dev has no earlier release to roll back to; recorded: 1"),
    "only equal releases": (
        [entry(1), entry(2)],
        0,
        None,
        "demo-dev has no earlier release to roll back to; recorded: 1, 2",
    ),
    "an unknown release": ([entry(1), entry(2)], 7, None, "demo-dev has no release 7; recorded: 1, 2"),
}


@pytest.mark.parametrize(("ledger", "wanted", "chosen", "problem"), ROLLBACK.values(), ids=ROLLBACK.keys())
def test_rollback_target(ledger: list[dict[str, Any]], wanted: int, chosen: int | None, problem: str) -> None:
    decision = _release.rollback_target(ledger, stack=DEV, wanted=wanted)
    assert decision.problem == problem
    if chosen is None:
        assert decision.release == {} and decision.images == {}
    else:
        assert decision.release == ledger[chosen - 1]
        assert decision.images == ledger[chosen - 1]["images"]


@pytest.mark.parametrize("wanted", [-1, True, "2"])
def test_rollback_target_refuses_a_release_that_is_no_number(wanted: Any) -> None:
    with pytest.raises(ReleaseError, match="must be a number"):
        _release.rollback_target([entry(1)], stack=DEV, wanted=wanted)


def running(web: str = D1, api: str = D1, tag: str = "") -> dict[str, str]:
    return {"web": f"{REG}/web{tag}@{web}", "api": f"{REG}/api{tag}@{api}"}


PROMOTE: dict[str, tuple[list[dict[str, Any]], dict[str, str], list[str], str]] = {
    "runs its last release": ([entry(1, web=D3), entry(2)], running(), ["web", "api"], ""),
    "a tag beside the digest": ([entry(1)], running(tag=":1.0"), ["web", "api"], ""),
    "a service the target does not build": ([entry(1)], running(), ["web"], ""),
    "runs a service the release does not know": ([entry(1)], {**running(), "extra": "x"}, ["web", "api"], ""),
    # Equal digests across releases: what counts is the last release, service by service.
    "two releases with equal digests": ([entry(1), entry(2)], running(), ["web", "api"], ""),
    "nothing recorded": ([], running(), ["web"], "dev has no recorded release to promote"),
    "a service without image": ([entry(1)], running(), ["web", "worker"], "dev release 1 has no image for worker"),
    "runs an older release": (
        [entry(1, web=D2), entry(2, web=D1)],
        running(web=D2),
        ["web"],
        "dev does not run what its release 2 recorded (web differ",
    ),
    "a service stopped": ([entry(1)], {"web": running()["web"]}, ["web"], "(api differ"),
    # Two services swapping digests each run a digest the release has, but not their own.
    "digests swapped between services": (
        [entry(1, web=D1, api=D2)],
        running(web=D2, api=D1),
        ["web", "api"],
        "(api, web differ",
    ),
    "same digest, other repository": (
        [entry(1)],
        {"web": f"other:5000/web@{D1}", "api": running()["api"]},
        ["web"],
        "(web differ",
    ),
}


@pytest.mark.parametrize(("ledger", "runs", "services", "problem"), PROMOTE.values(), ids=PROMOTE.keys())
def test_promotion_source(
    ledger: list[dict[str, Any]], runs: dict[str, str], services: list[str], problem: str
) -> None:
    decision = _release.promotion_source(ledger, runs, source="dev", source_stack=DEV, services=services)
    if problem:
        assert decision.problem.startswith(problem) or problem in decision.problem, decision.problem
        assert decision.release == {} and decision.images == {}
    else:
        assert decision.problem == ""
        assert decision.release == ledger[-1]
        assert decision.images == {name: ledger[-1]["images"][name] for name in services}


def test_promotion_source_refuses_the_targets_ledger_as_the_source() -> None:
    with pytest.raises(ReleaseError, match="ledger read for demo-dev holds release 1 of demo-prod"):
        _release.promotion_source([entry(1, stack=PROD)], running(), source="dev", source_stack=DEV, services=["web"])


SAME: dict[str, tuple[str, str, bool]] = {
    "equal": ("r/a@" + D1, "r/a@" + D1, True),
    "a tag beside": ("r/a:1@" + D1, "r/a@" + D1, True),
    "a port, no tag": ("h:5000/a@" + D1, "h:5000/a:2@" + D1, True),
    "other digest": ("r/a@" + D1, "r/a@" + D2, False),
    "no digest, same tag": ("r/a:1", "r/a:1", True),
    "no digest on one side": ("r/a:1", "r/a@" + D1, False),
}


@pytest.mark.parametrize(("left", "right", "same"), SAME.values(), ids=SAME.keys())
def test_same_image(left: str, right: str, same: bool) -> None:
    assert _release.same_image(left, right) is same


def test_swarm_running() -> None:
    lines = [f"demo-dev_web {REG}/web@{D1}", f"demo-dev_api {REG}/api:1@{D2}", "other_x r/x:1"]
    assert _release.swarm_running(lines, stack=DEV) == {
        "web": f"{REG}/web@{D1}",
        "api": f"{REG}/api:1@{D2}",
        "other_x": "r/x:1",
    }
    with pytest.raises(ReleaseError, match="cannot read a service"):
        _release.swarm_running(["demo-dev_web"], stack=DEV)


def workload(name: str, image: str) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app.kubernetes.io/name": name}},
        "spec": {"template": {"spec": {"containers": [{"image": image}, {"image": "sidecar"}]}}},
    }


def test_kubernetes_running() -> None:
    assert _release.kubernetes_running([workload("web", "w@" + D1), workload("redis", "r:7")]) == {
        "web": "w@" + D1,
        "redis": "r:7",
    }
    with pytest.raises(ReleaseError, match="workload 0 has no app.kubernetes.io/name"):
        _release.kubernetes_running([{"metadata": {}, "spec": {}}])


SUMMARY: dict[str, tuple[Any, dict[str, Any]]] = {
    "none": ("", {"releases": 0, "last_release": None}),
    "two": (json.dumps({"stack": DEV, "releases": [entry(1), entry(4)]}), {"releases": 2, "last_release": 4}),
}


@pytest.mark.parametrize(("content", "expected"), SUMMARY.values(), ids=SUMMARY.keys())
def test_ledger_summary(content: Any, expected: dict[str, Any]) -> None:
    assert _release.ledger_summary(content, stack=DEV) == expected


def swarm_node(arch: str | None) -> dict[str, Any]:
    return {"Description": {"Platform": {"Architecture": arch, "OS": "linux"}}}


def kube_node(arch: str | None) -> dict[str, Any]:
    return {"metadata": {"labels": {} if arch is None else {"kubernetes.io/arch": arch}}}


ARCHITECTURES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "one swarm node": ({"nodes": [swarm_node("x86_64")]}, ["x86_64"]),
    "a mixed swarm": (
        {"nodes": [swarm_node("x86_64"), swarm_node("aarch64"), swarm_node("x86_64")]},
        ["aarch64", "x86_64"],
    ),
    "a mixed cluster": (
        {"resources": [kube_node("arm64"), kube_node("amd64"), kube_node("arm64")]},
        ["amd64", "arm64"],
    ),
}


@pytest.mark.parametrize(("listed", "expected"), ARCHITECTURES.values(), ids=ARCHITECTURES.keys())
def test_node_architectures(listed: dict[str, Any], expected: list[str]) -> None:
    assert _release.node_architectures(listed) == expected


ARCHITECTURE_ERRORS: dict[str, tuple[Any, str]] = {
    "not a result": ([], "expects the result of docker_node_info"),
    "no node": ({"nodes": []}, "reports no node"),
    "a swarm node without platform": (
        {"nodes": [swarm_node("amd64"), {"Description": {}}]},
        "node 1 .* no architecture",
    ),
    "a node without the label": ({"resources": [kube_node(None)]}, r"node 0 .*metadata\.labels\.kubernetes\.io/arch"),
}


@pytest.mark.parametrize(("listed", "message"), ARCHITECTURE_ERRORS.values(), ids=ARCHITECTURE_ERRORS.keys())
def test_node_architectures_refuses(listed: Any, message: str) -> None:
    with pytest.raises(ReleaseError, match=message):
        _release.node_architectures(listed)


PRE = "198.18.23.11:5000"
PRODREG = "198.18.24.11:5000"


@pytest.mark.parametrize(
    ("images", "source", "target", "copies", "deployed"),
    [
        # Across fleets: every image copied under its repository, tagged with the version, deployed by digest.
        (
            {"web": f"{PRE}/demo/web@{D1}", "api": f"{PRE}/demo/api:1.0@{D2}"},
            PRE,
            PRODREG,
            [
                {"service": "api", "source": f"{PRE}/demo/api@{D2}", "destination": f"{PRODREG}/demo/api:2.0",
                 "digest": D2},
                {"service": "web", "source": f"{PRE}/demo/web@{D1}", "destination": f"{PRODREG}/demo/web:2.0",
                 "digest": D1},
            ],
            {"web": f"{PRODREG}/demo/web@{D1}", "api": f"{PRODREG}/demo/api@{D2}"},
        ),
        # One fleet (the lab): nothing to copy, the same images.
        ({"web": f"{PRE}/demo/web@{D1}"}, PRE, PRE, [], {"web": f"{PRE}/demo/web@{D1}"}),
        # An image the target's registry holds already is not copied again.
        ({"web": f"{PRODREG}/demo/web@{D1}"}, PRE, PRODREG, [], {"web": f"{PRODREG}/demo/web@{D1}"}),
        # No image: nothing.
        ({}, PRE, PRODREG, [], {}),
    ],
)
def test_promotion_copies(
    images: dict[str, str], source: str, target: str, copies: list[dict[str, str]], deployed: dict[str, str]
) -> None:
    planned = _release.promotion_copies(images, source_registry=source, target_registry=target, version="2.0")
    assert planned == {"copies": copies, "images": deployed}


@pytest.mark.parametrize(
    ("images", "message"),
    [
        ({"web": f"{PRE}/demo/web:2.0"}, "pinned by digest"),
        ({"web": f"demo/web@{D1}"}, "pinned by digest"),
        ({"web": f"other.example:5000/demo/web@{D1}"}, "neither the source's registry"),
    ],
)
def test_promotion_copies_refuses(images: dict[str, str], message: str) -> None:
    with pytest.raises(ReleaseError, match=message):
        _release.promotion_copies(images, source_registry=PRE, target_registry=PRODREG, version="2.0")


def test_promotion_copies_needs_both_registries() -> None:
    with pytest.raises(ReleaseError, match="source's and the target's registry"):
        _release.promotion_copies({}, source_registry="", target_registry=PRODREG, version="2.0")


COPY = {"service": "web", "source": f"{PRE}/demo/web@{D1}", "destination": f"{PRODREG}/demo/web:2.0", "digest": D1}


@pytest.mark.parametrize(
    ("resolved", "problem"),
    [
        ({f"{PRODREG}/demo/web:2.0": f"{PRODREG}/demo/web@{D1}"}, ""),
        ({f"{PRODREG}/demo/web:2.0": f"{PRODREG}/demo/web@{D2}"},
         f"promotion refused, the digests would change: {PRODREG}/demo/web:2.0 is {D2} after the copy, not {D1}"
         f" as {PRE}/demo/web@{D1}"),
        ({}, "is not in the target registry after the copy"),
    ],
)
def test_copied_digests_problem(resolved: dict[str, str], problem: str) -> None:
    found = _release.copied_digests_problem([COPY], resolved)
    assert (problem in found) if problem else found == ""
