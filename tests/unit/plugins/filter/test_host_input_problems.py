# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.drover.platform.plugins.filter.host_input_problems import FilterModule, host_input_problems

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostInputProblemsTestKeyNotARealKey00000 test@drover"
EDIT_PATH = "/etc/ssh/sshd_config.d/10-drover.conf"
REPO_URL = "https://git.example.invalid/drover/app.git"

SOUND: dict[str, Any] = {
    "deploy_user": "deploy",
    "deploy_user_keys": [KEY],
    "line_edits": [
        {"path": EDIT_PATH, "line": "ClientAliveInterval 300", "regexp": "^#?ClientAliveInterval "},
        {"path": "/etc/motd", "regexp": "^Welcome", "state": "absent"},
    ],
    "repos": [
        {"repo": REPO_URL, "dest": "/srv/app"},
        {"repo": "https://git.example.invalid/drover/tools.git", "dest": "/srv/tools", "version": "v1.2.0"},
    ],
    "folders": [{"path": "/srv/data", "mode": "0750"}],
}


def with_input(**fields: Any) -> dict[str, Any]:
    """SOUND with some of its keys replaced."""
    return {**SOUND, **fields}


def one_edit(**edit: Any) -> dict[str, Any]:
    return with_input(line_edits=[edit])


def test_registered_as_filter() -> None:
    assert FilterModule().filters()["host_input_problems"] is host_input_problems


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(SOUND, id="everything-set"),
        pytest.param({}, id="nothing-set"),
        pytest.param(with_input(deploy_user="", deploy_user_keys=[]), id="no-deploy-user-no-keys"),
        pytest.param(with_input(deploy_user=None, deploy_user_keys=None), id="deploy-user-none"),
        pytest.param(with_input(deploy_user_keys=["", KEY]), id="one-blank-key-among-good"),
        pytest.param(with_input(line_edits=[], repos=[], folders=[]), id="empty-lists"),
        pytest.param(with_input(line_edits=None, repos=None, folders=None), id="none-lists"),
        pytest.param(one_edit(path=EDIT_PATH, line="x", state="present"), id="explicit-present"),
        pytest.param(one_edit(path=EDIT_PATH, line="UseDNS no", state="absent"), id="absent-by-line"),
        pytest.param(one_edit(path=EDIT_PATH, regexp="^UseDNS", state="absent"), id="absent-by-regexp"),
        pytest.param(one_edit(path=EDIT_PATH, line="x", insertafter="BOF"), id="insertafter-BOF"),
        pytest.param(one_edit(path=EDIT_PATH, line="x", insertafter="EOF"), id="insertafter-EOF"),
        pytest.param(one_edit(path=EDIT_PATH, line="x", insertbefore="BOF"), id="insertbefore-BOF"),
        pytest.param(one_edit(path=EDIT_PATH, line="x", insertafter=r"^\[main\]$"), id="insertafter-regexp"),
        pytest.param(with_input(repos=[{"repo": REPO_URL, "dest": "/srv/app"}]), id="one-repo"),
    ],
)
def test_sound_input_has_no_problems(data: dict[str, Any]) -> None:
    assert host_input_problems(data) == []


@pytest.mark.parametrize(
    "keys",
    [
        pytest.param([], id="empty"),
        pytest.param(None, id="none"),
        pytest.param([""], id="empty-string"),
        pytest.param(["   ", "\t\n"], id="whitespace-only"),
    ],
)
@pytest.mark.parametrize("user", ["deploy", "courier"])
def test_deploy_user_without_a_key(user: str, keys: list[str] | None) -> None:
    problems = host_input_problems(with_input(deploy_user=user, deploy_user_keys=keys))
    assert len(problems) == 1
    assert user in problems[0]
    assert "key" in problems[0]


def test_deploy_user_keys_left_out() -> None:
    data = {key: value for key, value in SOUND.items() if key != "deploy_user_keys"}
    problems = host_input_problems(data)
    assert len(problems) == 1
    assert SOUND["deploy_user"] in problems[0]


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param({"line": "UseDNS no"}, id="missing"),
        pytest.param({"path": "", "line": "UseDNS no"}, id="empty"),
        pytest.param({"path": None, "line": "UseDNS no"}, id="none"),
    ],
)
def test_line_edit_without_path(edit: dict[str, Any]) -> None:
    problems = host_input_problems(with_input(line_edits=[SOUND["line_edits"][0], edit]))
    assert len(problems) == 1
    assert "#2" in problems[0]
    assert "path" in problems[0]


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param({"path": EDIT_PATH}, id="state-left-out"),
        pytest.param({"path": EDIT_PATH, "state": "present"}, id="state-present"),
        pytest.param({"path": EDIT_PATH, "line": ""}, id="empty-line"),
        pytest.param({"path": EDIT_PATH, "regexp": "^UseDNS"}, id="regexp-but-no-line"),
    ],
)
def test_present_edit_without_line(edit: dict[str, Any]) -> None:
    problems = host_input_problems(with_input(line_edits=[edit]))
    assert len(problems) == 1
    assert "#1" in problems[0]
    assert EDIT_PATH in problems[0]
    assert "line" in problems[0]


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param({"path": EDIT_PATH, "state": "absent"}, id="neither"),
        pytest.param({"path": EDIT_PATH, "state": "absent", "regexp": "", "line": ""}, id="both-empty"),
        pytest.param({"path": EDIT_PATH, "state": "absent", "insertafter": "EOF"}, id="only-insertafter"),
    ],
)
def test_absent_edit_without_regexp_or_line(edit: dict[str, Any]) -> None:
    problems = host_input_problems(with_input(line_edits=[edit]))
    assert len(problems) == 1
    assert EDIT_PATH in problems[0]
    assert "regexp" in problems[0]
    assert "line" in problems[0]


@pytest.mark.parametrize("state", ["latest", "Present", "", None, True])
def test_bad_state(state: Any) -> None:
    problems = host_input_problems(one_edit(path=EDIT_PATH, line="UseDNS no", state=state))
    assert len(problems) == 1
    assert EDIT_PATH in problems[0]
    assert repr(state) in problems[0]
    assert "state" in problems[0]


@pytest.mark.parametrize("pattern", ["(unclosed", "[a-", "*starts-with-star", "a{2,1}", r"\k"])
@pytest.mark.parametrize("key", ["regexp", "insertafter", "insertbefore"])
def test_invalid_regular_expression(key: str, pattern: str) -> None:
    problems = host_input_problems(one_edit(path=EDIT_PATH, line="UseDNS no", **{key: pattern}))
    assert len(problems) == 1
    assert EDIT_PATH in problems[0]
    assert key in problems[0]
    assert repr(pattern) in problems[0]


def test_every_bad_pattern_of_an_edit_is_reported() -> None:
    bad = {"regexp": "(a", "insertafter": "[b", "insertbefore": "c{2,1}"}
    problems = host_input_problems(one_edit(path=EDIT_PATH, line="UseDNS no", **bad))
    assert len(problems) == len(bad)
    for key, pattern in bad.items():
        assert [problem for problem in problems if key in problem and repr(pattern) in problem]


@pytest.mark.parametrize(
    "repo",
    [
        pytest.param({"repo": REPO_URL}, id="missing"),
        pytest.param({"repo": REPO_URL, "dest": ""}, id="empty"),
        pytest.param({"repo": REPO_URL, "dest": None}, id="none"),
    ],
)
def test_repo_without_dest(repo: dict[str, Any]) -> None:
    problems = host_input_problems(with_input(repos=[repo]))
    assert len(problems) == 1
    assert REPO_URL in problems[0]
    assert "dest" in problems[0]


@pytest.mark.parametrize(
    "repo",
    [
        pytest.param({"dest": "/srv/other"}, id="missing"),
        pytest.param({"repo": "", "dest": "/srv/other"}, id="empty"),
        pytest.param({"repo": None, "dest": "/srv/other"}, id="none"),
    ],
)
def test_repo_without_repo(repo: dict[str, Any]) -> None:
    repos = [*SOUND["repos"], repo]
    problems = host_input_problems(with_input(repos=repos))
    assert len(problems) == 1
    assert f"#{len(repos)}" in problems[0]
    assert "repo" in problems[0]


def test_repo_without_repo_or_dest() -> None:
    problems = host_input_problems(with_input(repos=[{"version": "main"}]))
    assert len(problems) == 2
    assert all("#1" in problem for problem in problems)
    assert any("dest" in problem for problem in problems)


@pytest.mark.parametrize("copies", [2, 3])
def test_repos_sharing_a_dest(copies: int) -> None:
    dest = "/srv/shared"
    repos = [{"repo": f"https://git.example.invalid/drover/app{n}.git", "dest": dest} for n in range(copies)]
    problems = host_input_problems(with_input(repos=[*SOUND["repos"], *repos]))
    assert len(problems) == 1
    assert dest in problems[0]
    assert str(copies) in problems[0]


def test_repos_with_different_dests_are_fine_even_for_the_same_url() -> None:
    repos = [{"repo": REPO_URL, "dest": "/srv/app-blue"}, {"repo": REPO_URL, "dest": "/srv/app-green"}]
    assert host_input_problems(with_input(repos=repos)) == []


@pytest.mark.parametrize(
    "folder",
    [
        pytest.param({"path": "srv/data"}, id="relative"),
        pytest.param({"path": "./data"}, id="dot-relative"),
        pytest.param({"path": "~/data"}, id="tilde"),
        pytest.param({"path": ""}, id="empty"),
        pytest.param({"path": None}, id="none"),
        pytest.param({"mode": "0750"}, id="missing"),
    ],
)
def test_folder_without_absolute_path(folder: dict[str, Any]) -> None:
    folders = [*SOUND["folders"], folder]
    problems = host_input_problems(with_input(folders=folders))
    assert len(problems) == 1
    assert f"#{len(folders)}" in problems[0]
    assert "absolute" in problems[0]
    if folder.get("path"):
        assert folder["path"] in problems[0]


NOT_MAPPINGS = pytest.mark.parametrize(
    "entry", ["/srv/data", 42, None, ["/srv/data"]], ids=["string", "int", "none", "list"]
)


@NOT_MAPPINGS
@pytest.mark.parametrize("key", ["line_edits", "repos"])
def test_entry_that_is_not_a_mapping(key: str, entry: Any) -> None:
    entries = [*SOUND[key], entry]
    problems = host_input_problems(with_input(**{key: entries}))
    assert len(problems) == 1
    assert f"#{len(entries)}" in problems[0]
    assert repr(entry) in problems[0]


@NOT_MAPPINGS
def test_folder_that_is_not_a_mapping(entry: Any) -> None:
    folders = [*SOUND["folders"], entry]
    problems = host_input_problems(with_input(folders=folders))
    assert len(problems) == 1
    assert f"#{len(folders)}" in problems[0]
    assert "path" in problems[0]


def test_folder_given_as_a_string_is_named() -> None:
    problems = host_input_problems(with_input(folders=["/srv/data"]))
    assert len(problems) == 1
    assert repr("/srv/data") in problems[0]


def test_each_problem_is_reported() -> None:
    data = {
        "deploy_user": "courier",
        "deploy_user_keys": [],
        "line_edits": [{"path": EDIT_PATH, "state": "absent"}, {"line": "x"}],
        "repos": [{"repo": REPO_URL}, {"repo": "https://git.example.invalid/b.git", "dest": "srv/b"}, "x"],
        "folders": [{"path": "data"}],
    }
    problems = host_input_problems(data)
    assert len(problems) == 7
    for fragment in ("courier", EDIT_PATH, "#2", REPO_URL, "'srv/b'", "'x'", "'data'"):
        assert [problem for problem in problems if fragment in problem], fragment


@pytest.mark.parametrize(
    "data",
    [None, [], [SOUND], "deploy", 42, (("deploy_user", "deploy"),)],
    ids=["none", "list", "list-of-mapping", "string", "int", "tuple-of-pairs"],
)
def test_non_mapping_input_raises(data: Any) -> None:
    with pytest.raises(AnsibleFilterError, match=type(data).__name__):
        host_input_problems(data)
