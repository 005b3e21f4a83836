# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: docker_daemon_problems
short_description: List what is wrong with a daemon.json before it is written
version_added: 0.1.0
description:
  - Checks the types of the daemon.json options the engine would refuse at
    start (a string where a number belongs, a list where a mapping belongs),
    so that a bad option stops the play before the engine is restarted with
    it. Unknown keys pass through untouched; the engine knows more options
    than this list.
options:
  _input:
    description: The daemon.json content, as a mapping.
    type: dict
    required: true
  swarm:
    description:
      - Whether the host is, or is to be, a Swarm node. The engine refuses
        to start or join a swarm with C(live-restore) on, so it is a problem
        only then.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Stop on a bad daemon.json
  ansible.builtin.assert:
    that: problems | length == 0
    fail_msg: "{{ problems | join('; ') }}"
  vars:
    problems: "{{ {'mtu': '1500'} | drover.platform.docker_daemon_problems }}"
"""

RETURN = r"""
_value:
  description: One message per problem found; empty when the options are sound.
  type: list
  elements: str
"""

from typing import Any

from ansible.errors import AnsibleFilterError

# The types the engine expects for the options people set most.
_EXPECTED: dict[str, tuple[type, ...]] = {
    "authorization-plugins": (list,),
    "bip": (str,),
    "data-root": (str,),
    "debug": (bool,),
    "default-address-pools": (list,),
    "dns": (list,),
    "dns-search": (list,),
    "experimental": (bool,),
    "features": (dict,),
    "insecure-registries": (list,),
    "icc": (bool,),
    "iptables": (bool,),
    "ip6tables": (bool,),
    "ipv6": (bool,),
    "labels": (list,),
    "live-restore": (bool,),
    "log-driver": (str,),
    "log-level": (str,),
    "log-opts": (dict,),
    "max-concurrent-downloads": (int,),
    "max-concurrent-uploads": (int,),
    "metrics-addr": (str,),
    "mtu": (int,),
    "no-new-privileges": (bool,),
    "registry-mirrors": (list,),
    "storage-driver": (str,),
    "userland-proxy": (bool,),
    "userns-remap": (str,),
}
_NAMES = {bool: "a boolean", int: "a number", str: "a string", list: "a list", dict: "a mapping"}


def _kind(expected: tuple[type, ...]) -> str:
    return " or ".join(_NAMES[t] for t in expected)


def docker_daemon_problems(options: Any, swarm: bool = True) -> list[str]:
    if not isinstance(options, dict):
        raise AnsibleFilterError(f"docker_daemon_problems expects a mapping, got {type(options).__name__}")
    problems = []
    for key, value in options.items():
        expected = _EXPECTED.get(key)
        if expected is None:
            continue
        # bool is an int in Python; a number option must not take true/false.
        bool_for_number = int in expected and bool not in expected and isinstance(value, bool)
        if not isinstance(value, expected) or bool_for_number:
            problems.append(f"daemon option {key!r} must be {_kind(expected)}, got {type(value).__name__} {value!r}")
    log_opts = options.get("log-opts")
    for name, value in log_opts.items() if isinstance(log_opts, dict) else []:
        if not isinstance(value, str):
            problems.append(f"daemon option log-opts.{name} must be a string, got {value!r}")
    pools = options.get("default-address-pools")
    for position, pool in enumerate(pools if isinstance(pools, list) else [], start=1):
        if not isinstance(pool, dict) or "base" not in pool or not isinstance(pool.get("size"), int):
            problems.append(f"default-address-pools entry #{position} needs a base CIDR and a numeric size: {pool!r}")
    if swarm and options.get("live-restore") is True:
        problems.append(
            "daemon option 'live-restore' cannot be true on a Swarm node: the engine refuses to start or join a swarm"
            " with it ('--live-restore daemon configuration is incompatible with swarm mode')"
        )
    return problems


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"docker_daemon_problems": docker_daemon_problems}
