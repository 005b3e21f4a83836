# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.drover.platform.plugins.filter.docker_arch import FilterModule, docker_arch


def test_docker_arch_filter() -> None:
    assert FilterModule().filters()["docker_arch"] is docker_arch
    with pytest.raises(AnsibleFilterError, match="expects an architecture name, got int 64"):
        docker_arch(64)
