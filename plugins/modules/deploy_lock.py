#!/usr/bin/python
# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: deploy_lock
short_description: Take, give back or break a named deploy lock on a host
version_added: 0.1.0
description:
  - Keeps runs that change the same thing (a deploy, promotion or rollback of
    one environment) from overlapping. The lock is a file,
    O(path)/O(name).lock, on the host the task runs on; it holds who took it
    and when, as JSON.
  - V(acquired) takes the lock for O(token). The file appears whole or not at
    all (it is written beside its name, synced, then hard-linked to it), so
    of several runs racing for a free lock exactly one gets it. While another
    token holds it, the task polls once a second for up to O(wait) seconds,
    then fails with a message that names the holder and since when. Taking
    a lock that O(token) already holds changes nothing.
  - V(released) gives the lock back when O(token) holds it. A lock held by
    another token (someone broke this run's lock and took it) is left in
    place, with a warning; a lock nobody holds is nothing to do.
  - V(broken) removes the lock whoever holds it and returns the holder it
    removed, for the log. A lock never expires by itself, so this is how the
    lock of a run that died (killed, or its controller lost) is freed.
author:
  - drover.platform developers (@drover-platform)
extends_documentation_fragment:
  - drover.platform.attributes
attributes:
  check_mode:
    support: full
    details:
      - Nothing is created or removed. V(acquired) still waits for a lock held
        by another token and fails as a real run would when it stays held,
        since a check that reads what another run is changing predicts
        nothing reliable. It does not take the lock either, so a real run may start
        while the check goes on.
  diff_mode:
    support: full
    details:
      - The lock file's content before and after.
  idempotent:
    support: full
    details:
      - With the same O(token), V(acquired) then V(acquired) again, or
        V(released) then V(released) again, changes nothing the second time.
options:
  name:
    description:
      - The lock's name, for example the stack that a deploy changes
        (V(demo-prod)). Letters, digits, V(.), V(_) and V(-), at most 128.
    type: str
    required: true
  state:
    description:
      - V(acquired) takes the lock, V(released) gives it back, V(broken)
        removes it whoever holds it.
    type: str
    choices: [acquired, released, broken]
    default: acquired
  token:
    description:
      - What makes the lock this run's own, a random value made once per run
        and passed to both V(acquired) and V(released). Not a secret; it is
        written in the lock file.
      - Required with O(state=acquired) and O(state=released).
    type: str
  holder:
    description:
      - Who takes the lock, written in it and shown to whoever finds it held,
        as a dictionary such as C(user), C(controller), C(pid), C(play),
        C(trigger) (an AWX job, a Jenkins build) and C(started), or a
        string.
      - Used with O(state=acquired) only.
    type: raw
  wait:
    description:
      - Seconds to wait for a lock another token holds before failing; V(0)
        fails at once.
      - Used with O(state=acquired) only.
    type: int
    default: 0
  path:
    description:
      - The folder of the lock files on the host; created (mode C(0750)) when
        missing.
    type: path
    default: /var/lib/drover/locks
notes:
  - The lock guards runs that take it; it does not stop a command that does
    not ask for it.
  - All runs must take the lock on the same host, for example the first
    manager of a swarm.
seealso:
  - name: Deploy lock
    description: How the stack role takes the lock and how to break it.
    link: https://github.com/drover-platform/drover.platform/blob/main/docs/deploy.md#deploy-lock
"""

EXAMPLES = r"""
- name: Make a token for this run
  ansible.builtin.set_fact:
    __deploy_token: >-
      {{ lookup('ansible.builtin.password', '/dev/null', chars=['ascii_lowercase', 'digits'], length=20) }}

- name: Deploy prod, one run at a time
  block:
    - name: Take the deploy lock of demo-prod, waiting up to 15 minutes
      drover.platform.deploy_lock:
        name: demo-prod
        token: "{{ __deploy_token }}"
        holder:
          user: "{{ lookup('ansible.builtin.env', 'USER') }}"
          play: "{{ ansible_play_name }}"
          started: "{{ now(utc=true).isoformat() }}"
        wait: 900
      register: __deploy_lock

    - name: Deploy
      ansible.builtin.debug:
        msg: the deploy runs here
  always:
    - name: Give the lock back, failed deploy or not
      drover.platform.deploy_lock:
        name: demo-prod
        token: "{{ __deploy_token }}"
        state: released
      when: __deploy_lock is succeeded

- name: Break the lock of a run that died
  drover.platform.deploy_lock:
    name: demo-prod
    state: broken
  register: __broken

- name: Say whose lock it was
  ansible.builtin.debug:
    msg: "removed {{ __broken.holder | to_json }}"
  when: __broken is changed
"""

RETURN = r"""
lock_file:
  description: The lock file.
  returned: always
  type: str
  sample: /var/lib/drover/locks/demo-prod.lock
holder:
  description:
    - The lock's record, as in the file - C(lock), C(token), C(acquired_at)
      (UTC, to the millisecond, on the host's clock) and C(holder) (what
      O(holder) gave).
    - With V(acquired), the lock this run holds (in check mode, would hold);
      when the task failed because the lock stayed held, the other holder's.
    - With V(released), the lock given back, or the other holder's, left in
      place. With V(broken), the lock removed. V(null) when there was no lock.
  returned: always
  type: dict
  sample:
    lock: demo-prod
    token: k3v9q0c2m1x8d7f6a5b4
    acquired_at: "2026-03-02T10:15:04.211Z"
    holder: {user: alice, controller: ops1, pid: 41520, play: Deploy the app, trigger: awx job 118,
             started: "2026-03-02T10:14:51Z"}
held:
  description: Whether O(token) holds the lock after the task (in check mode, would hold it).
  returned: success
  type: bool
  sample: true
waited:
  description: Seconds spent waiting for another holder to give the lock back.
  returned: always
  type: float
  sample: 41.7
released_at:
  description: When the lock was given back (UTC, to the millisecond, on the host's clock).
  returned: when O(state=released) gave the lock back
  type: str
  sample: "2026-03-02T10:17:40.005Z"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.drover.platform.plugins.module_utils._deploy_lock import STATES, DeployLockError, run
from ansible_collections.drover.platform.plugins.module_utils._outcome import finish


def argument_spec() -> dict:
    return dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=list(STATES), default="acquired"),
        token=dict(type="str", no_log=False),
        holder=dict(type="raw"),
        wait=dict(type="int", default=0),
        path=dict(type="path", default="/var/lib/drover/locks"),
    )


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[("state", "acquired", ("token",)), ("state", "released", ("token",))],
        supports_check_mode=True,
    )
    finish(module, lambda: run(module.params, module.check_mode).outcome(module._diff), (DeployLockError,))


if __name__ == "__main__":
    main()
