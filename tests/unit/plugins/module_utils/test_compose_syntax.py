# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.module_utils._compose_syntax import key_value_list


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        pytest.param(["A=1", "B="], {"A": "1", "B": ""}, id="values-and-empty"),
        pytest.param(["ONLY"], {"ONLY": None}, id="key-alone-has-no-value"),
        pytest.param(["URL=a=b"], {"URL": "a=b"}, id="first-equals-splits"),
        pytest.param(["A=1", "A=2"], {"A": "2"}, id="later-wins"),
        pytest.param([7], {"7": None}, id="not-a-string"),
    ],
)
def test_key_value_list(items: list[Any], expected: dict[str, Any]) -> None:
    assert key_value_list(items) == expected
