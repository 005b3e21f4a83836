# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.drover.platform.plugins.filter import build


def test_every_filter_is_registered() -> None:
    assert set(build.FilterModule().filters()) == {"build_plan", "build_version"}


def test_build_plan_as_the_role_calls_it() -> None:
    planned = build.build_plan({"web": {"context": "web"}}, "reg:5000", "demo", "1.0", {}, [], {},
                               {"APP_VERSION": "1.0"})
    assert [image["reference"] for image in planned["images"]] == ["reg:5000/demo/web:1.0"]


def test_a_build_error_is_a_filter_error_that_names_the_filter() -> None:
    with pytest.raises(AnsibleFilterError, match="build_plan: services.web.build: network cannot be honoured"):
        build.build_plan({"web": {"context": "web", "network": "host"}}, "reg:5000", "demo", "1.0")


def test_build_version_as_the_role_calls_it() -> None:
    assert build.build_version("", "abc1234", "", "", True) == {"version": "abc1234", "problem": ""}
