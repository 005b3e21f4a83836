# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: host_input_problems
short_description: List what is wrong with the host role's input
version_added: 0.1.0
description:
  - Checks what the argument spec cannot see in the host role's lists, before
    any host is changed, and returns one message per problem (an empty list
    when the input is sound).
  - A deploy user needs at least one SSH key; a line edit needs a path, and
    either a line or, with state absent, a regexp or a line;
    a regexp must compile; a repository needs a repo and a dest, and dests
    must differ; folders need an absolute path.
options:
  _input:
    description: The role's input.
    type: dict
    required: true
    suboptions:
      deploy_user:
        description: The deploy user's name (empty for none).
        type: str
      deploy_user_keys:
        description: The deploy user's SSH public keys.
        type: list
        elements: str
      line_edits:
        description: Line edits, as in C(host_line_edits).
        type: list
        elements: dict
      repos:
        description: Repositories, as in C(host_repos).
        type: list
        elements: dict
      folders:
        description: Folders, as in C(host_folders).
        type: list
        elements: dict
"""

EXAMPLES = r"""
- name: Stop on bad input
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ host_input | drover.platform.host_input_problems }}"
    host_input:
      deploy_user: deploy
      deploy_user_keys: []
      line_edits: []
      repos: []
"""

RETURN = r"""
_value:
  description: One message per problem found; empty when the input is sound.
  type: list
  elements: str
"""

import re
from collections import Counter
from typing import Any

from ansible.errors import AnsibleFilterError


def _line_edit_problems(position: int, edit: Any) -> list[str]:
    if not isinstance(edit, dict):
        return [f"line edit #{position} is not a mapping: {edit!r}"]
    path = edit.get("path")
    if not path:
        return [f"line edit #{position} has no path"]
    label = f"line edit #{position} of {path}"
    problems = []
    state = edit.get("state", "present")
    if state not in ("present", "absent"):
        problems.append(f"{label}: state must be present or absent, not {state!r}")
    if state == "present" and not edit.get("line"):
        problems.append(f"{label}: no line to write")
    if state == "absent" and not (edit.get("regexp") or edit.get("line")):
        problems.append(f"{label}: removes lines but names neither a regexp nor a line")
    for key in ("regexp", "insertafter", "insertbefore"):
        pattern = edit.get(key)
        if pattern and pattern not in ("BOF", "EOF"):
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.append(f"{label}: {key} {pattern!r} is not a valid regular expression ({exc})")
    return problems


def host_input_problems(data: Any) -> list[str]:
    if not isinstance(data, dict):
        raise AnsibleFilterError(f"host_input_problems expects a mapping, got {type(data).__name__}")
    problems: list[str] = []

    user = data.get("deploy_user") or ""
    keys = [k for k in data.get("deploy_user_keys") or [] if str(k).strip()]
    if user and not keys:
        problems.append(f"deploy user {user!r} has no SSH key: set host_deploy_user_keys, or host_deploy_user to ''")

    for position, edit in enumerate(data.get("line_edits") or [], start=1):
        problems.extend(_line_edit_problems(position, edit))

    repos = [r for r in data.get("repos") or [] if isinstance(r, dict)]
    for position, repo in enumerate(data.get("repos") or [], start=1):
        if not isinstance(repo, dict):
            problems.append(f"repository #{position} is not a mapping: {repo!r}")
            continue
        label = f"repository {repo['repo']!r}" if repo.get("repo") else f"repository #{position}"
        if not repo.get("repo"):
            problems.append(f"{label} has no repo (the URL or path to clone)")
        if not repo.get("dest"):
            problems.append(f"{label} has no dest (the folder to clone into)")
        elif not str(repo["dest"]).startswith("/"):
            problems.append(f"{label} needs an absolute dest, got {repo['dest']!r}")
    dests = Counter(str(r["dest"]).rstrip("/") or "/" for r in repos if r.get("dest"))
    problems.extend(f"{count} repositories share dest {dest}" for dest, count in dests.items() if count > 1)

    for position, folder in enumerate(data.get("folders") or [], start=1):
        if not isinstance(folder, dict):
            problems.append(f"folder #{position} is not a mapping with a path: {folder!r}")
            continue
        path = folder.get("path")
        if not path or not str(path).startswith("/"):
            problems.append(f"folder #{position} needs an absolute path, got {path!r}")
    return problems


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"host_input_problems": host_input_problems}
