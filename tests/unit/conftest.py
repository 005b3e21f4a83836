# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the unit tests share: a module's main() run as Ansible runs it, and what it warns."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args


class RunMain(Protocol):
    def __call__(self, main: Callable[[], None], args: dict[str, Any], printed: bool = False) -> dict[str, Any]: ...


@pytest.fixture
def run_main(capsys: pytest.CaptureFixture[str]) -> RunMain:
    """A module's main() with args: the JSON it prints, with failed set when it called fail_json.

    The exit code must agree with `failed`; printed=True keeps the printed
    text under `_printed`, for tests that look for what must never show.
    """

    def run(main: Callable[[], None], args: dict[str, Any], printed: bool = False) -> dict[str, Any]:
        with patch_module_args(args), pytest.raises(SystemExit) as leaving:
            main()
        out = capsys.readouterr().out
        result = json.loads(out)
        if printed:
            result["_printed"] = out
        assert (leaving.value.code != 0) == bool(result.get("failed"))
        return result

    return run


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the module warns about, as it calls module.warn().

    Where a warning ends up depends on what was imported into this process
    before; what the module warns is what matters to a test.
    """
    seen: list[str] = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda _module, warning: seen.append(warning))
    return seen


@pytest.fixture
def microk8s(tmp_path: Path) -> str:
    """A stand-in for /snap/bin/microk8s, so the module finds an executable there."""
    path = tmp_path / "microk8s"
    path.write_text("#!/bin/sh\nexit 99\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)
