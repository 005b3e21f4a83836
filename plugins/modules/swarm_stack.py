#!/usr/bin/python
# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: swarm_stack
short_description: Deploy a Docker Swarm stack and wait until it converged
version_added: 0.1.0
description:
  - Deploys a stack from a Compose definition with C(docker stack deploy), then
    waits until every service of the definition converged, and fails with a
    per-service report when one did not.
  - A service has converged when as many of its tasks run the current spec as
    it wants (one per node for a global service), its update (if any) has
    completed, and its healthcheck passes. Swarm only reports a task with a
    healthcheck as V(running) once it is healthy.
  - A one-shot service converged when its tasks finished. Debian's docker CLI
    20.10 cannot deploy C(deploy.mode=replicated-job) from a stack file (it
    says C(Unknown mode) and stops, its networks already created), so there a one-shot is a
    replicated service with C(deploy.restart_policy.condition=none) (or
    V(on-failure)) whose tasks exit 0; each slot then counts once its newest
    task is V(complete). Jobs deployed by a newer CLI count when the current
    iteration has its completions.
  - Such a one-shot deployed by this run whose tasks still run gets 15 seconds
    more, once everything else converged, to finish them, so that a short
    migration is reported V(completed), not V(running). A task still running
    after that is taken for a long-running service written with restart
    condition none or on-failure (a Compose file's C(restart) of V(no)), and
    counts as running.
  - The module fails at once when a service rolled back (C(UpdateStatus)
    V(rollback_completed), with the service left on its previous spec) or
    paused (V(paused), V(rollback_paused)), and after O(timeout) seconds when
    a service still has not converged. The message names the services and the
    error of their last failed task; the RV(services) report comes with it.
  - C(docker stack deploy) runs only when a service would change. Each
    service carries the label C(io.drover.spec-hash) in C(deploy.labels), the
    sha256 of its normalised definition and of the names of the configs and
    secrets it uses; a service changed when that label differs from the one
    the running service carries, when it is new, or (with O(prune=true)) when
    it is no longer in the definition. A service scaled by hand, or (with
    O(resolve_image=never)) given another image by hand, counts as changed
    too, so that the deploy puts it back.
  - Configs and secrets given with C(file) or C(content) at the top level are
    named C(<stack>_<key>_<hash>) (or C(<name>_<hash>) when they have a
    C(name)), the hash being the first 10 hex digits of the sha256 of their
    content (and of C(template_driver), C(driver) and C(driver_opts) when
    set). Swarm configs and secrets cannot change, so changed content is a new
    object under a new name, and the services using it roll out. Services keep
    referring to them by their key; the file they see keeps its place. The
    objects of earlier versions stay, so that C(docker service rollback) can
    still use them; O(state=absent) removes them all.
  - With O(state=absent), runs C(docker stack rm) and waits until the stack's
    services, tasks, containers (those on this manager), networks, configs
    and secrets are gone.
  - Everything goes through the docker CLI on the manager the task runs on,
    with argv lists in the C locale; the module needs no Python library for
    Docker.
author:
  - drover.platform developers (@drover-platform)
extends_documentation_fragment:
  - drover.platform.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the running services and predicts which ones a deploy would
        add, update or remove, without deploying, and returns the state they
        are in now.
  diff_mode:
    support: full
    details:
      - Per changed service, before is its spec-hash label and image as it
        runs, after is the definition it would be deployed with.
  idempotent:
    support: full
options:
  name:
    description:
      - The stack's name; services are named C(<name>_<key>).
    type: str
    required: true
  state:
    description:
      - V(present) deploys O(definition) or O(definition_file) and waits for it.
      - V(absent) removes the stack and waits until it is gone.
    type: str
    choices: [present, absent]
    default: present
  definition:
    description:
      - The stack as data, in the Compose file format the docker CLI reads
        (C(services), C(networks), C(volumes), C(configs), C(secrets)).
      - C(version) is set to V(3.9) when missing, since the 20.10 CLI refuses a
        file without one, and raised to V(3.5) when hashed config or secret
        names need it.
      - Top-level configs and secrets may have C(content) (a string) instead
        of C(file); it is written to a private file on the manager for the
        deploy and removed after it. Secret contents are kept out of the
        module's output and logs.
      - Relative paths (C(file), C(env_file), bind-mount sources) are not
        allowed here, there is no file to be relative to; give absolute
        paths on the manager.
      - Variables (C($VAR)) are left to the docker CLI, which fills them from
        the module's environment; their values do not count towards
        C(changed). Template them with Ansible instead.
    type: dict
  definition_file:
    description:
      - A Compose file on the manager, YAML or JSON, read as O(definition) is.
      - Relative paths in it are taken from its directory, as the docker CLI
        does.
      - Reading YAML needs PyYAML on the manager; JSON does not.
    type: path
  timeout:
    description:
      - Seconds to wait for convergence (or, with O(state=absent), for the
        stack to be gone) before failing.
      - Make room for every rolling update, where parallelism, delay, monitor
        period and the healthchecks' start period add up.
    type: int
    default: 300
  poll_interval:
    description:
      - Seconds between two reads of the swarm while waiting. Each read runs
        four docker commands.
    type: float
    default: 2
  prune:
    description:
      - Remove the stack's services that are no longer in the definition
        (C(docker stack deploy --prune)).
      - Without it, such services keep running and are left out of the
        report.
    type: bool
    default: false
  with_registry_auth:
    description:
      - Send the manager's registry credentials to the swarm agents
        (C(docker stack deploy --with-registry-auth)), so that nodes can pull
        from a private registry. Log in first, for example with
        M(community.docker.docker_login).
    type: bool
    default: false
  resolve_image:
    description:
      - Passed to C(docker stack deploy --resolve-image).
      - V(never) (the default here; the CLI's own default is V(always)) sends
        each image reference as written, without asking a registry. Deploy
        images by digest (C(image@sha256:...)) to know exactly what runs; then
        the report carries the digest, no registry needs to be reachable from
        the manager at deploy time, and an image changed by hand is noticed.
      - V(always) asks the registry for the digest of every image at every
        deploy and pins it; V(changed) only for images whose reference
        changed. This module deploys only when the definition changed, so a
        tag that moved in the registry is not rolled out by itself either way.
    type: str
    choices: [always, changed, never]
    default: never
  docker_cli:
    description:
      - The docker CLI to run, a name looked up in E(PATH) or a path.
      - The CLI's own settings apply, E(DOCKER_HOST) and contexts included, so
        it can also drive a manager it reaches over SSH.
    type: str
    default: docker
notes:
  - Run it on a Swarm manager (C(docker info) says C(ControlAvailable)), once
    per stack; C(run_once) is the way in a play over several managers.
  - C(docker stack deploy) updates every service of the stack whenever it
    runs, and each update resets the services' update status; this is why
    the module skips it when nothing changed.
  - Whether a task runs the current spec is judged by comparing its spec with
    the service's task template, as Swarm does.
  - The swarm's own history limits what the report can show; a task error
    only stays visible while Swarm keeps that task (5 per slot by default).
  - Engine 20.10 never deletes the finished tasks of a removed job service
    (moby/moby#44312); O(state=absent) reports them in RV(orphaned_tasks) and
    does not wait for them.
seealso:
  - module: community.docker.docker_stack
    description: Deploys a stack without waiting for it.
  - module: community.docker.docker_swarm
  - name: Compose file deploy reference
    description: The deploy keys, update and rollback settings, restart policies and healthchecks.
    link: https://docs.docker.com/reference/compose-file/deploy/
"""

EXAMPLES = r"""
- name: Deploy the app and wait until every service runs healthy
  drover.platform.swarm_stack:
    name: app
    definition_file: /srv/app/compose.yml
    timeout: 600
  run_once: true
  register: __stack_app

- name: Show what runs, by digest
  ansible.builtin.debug:
    msg: >-
      {{ item.key }}: {{ item.value.image }}@{{ item.value.digest }}
      ({{ item.value.running }}/{{ item.value.desired }})
  loop: "{{ __stack_app.services | dict2items }}"

- name: Deploy from data, with a config that rolls out when its content changes
  drover.platform.swarm_stack:
    name: web
    prune: true
    definition:
      services:
        web:
          image: registry.lab:5000/web@sha256:0d5b0ab9fd0ea4c2bc60d3b4ec1c2f3d3d0d1a2c7bd9a38e4c3f1c4b2a1e0f9d
          configs:
            - source: nginx_conf
              target: /etc/nginx/conf.d/default.conf
          secrets:
            - api_token
          healthcheck:
            test: [CMD-SHELL, "wget -qO- http://127.0.0.1/healthz || exit 1"]
            interval: 5s
          deploy:
            replicas: 2
            update_config:
              order: start-first
              failure_action: rollback
      configs:
        nginx_conf:
          content: "{{ lookup('ansible.builtin.template', 'default.conf.j2') }}"
      secrets:
        api_token:
          content: "{{ vault_api_token }}"
  run_once: true

- name: Run database migrations once, before the app
  drover.platform.swarm_stack:
    name: migrate
    definition:
      services:
        migrate:
          image: registry.lab:5000/app:1.4.2
          command: [./manage.py, migrate]
          deploy:
            restart_policy:
              condition: none
  run_once: true

- name: Remove the stack and wait until its networks are gone
  drover.platform.swarm_stack:
    name: app
    state: absent
  run_once: true
"""

RETURN = r"""
stack:
  description: The stack's name.
  returned: always
  type: str
  sample: app
services:
  description:
    - A report per service of the definition, by its key in the definition.
    - In check mode, the state the services are in now, read once.
  returned: O(state=present), also when the module fails after deploying
  type: dict
  contains:
    name:
      description: The swarm service's name.
      type: str
      sample: app_web
    id:
      description: The swarm service's ID; V(null) while it does not exist.
      type: str
      sample: qk2efwbqu0e599d5p4tah0ytz
    mode:
      description: V(replicated), V(global), V(replicated-job) or V(global-job).
      type: str
      sample: replicated
    image:
      description: The image the service's spec names, without its digest.
      type: str
      sample: registry.lab:5000/web
    digest:
      description:
        - The image digest, from the spec of the newest running task (C(name@sha256:...)), or from the service's spec.
        - V(null) when the image was not given or resolved by digest.
      type: str
      sample: sha256:0d5b0ab9fd0ea4c2bc60d3b4ec1c2f3d3d0d1a2c7bd9a38e4c3f1c4b2a1e0f9d
    desired:
      description: Tasks wanted - replicas, eligible nodes of a global service, or a job's completions.
      type: int
      sample: 2
    running:
      description: Tasks running (and healthy) on the service's current spec.
      type: int
      sample: 2
    running_previous:
      description: Tasks still running an earlier spec, such as the old version during a paused update.
      type: int
      sample: 0
    completed:
      description: One-shot slots or job tasks that finished.
      type: int
      sample: 0
    update_state:
      description:
        - The service's C(UpdateStatus.State) - V(updating), V(paused), V(completed),
          V(rollback_started), V(rollback_paused), V(rollback_completed) - or V(null)
          when it has had no rolling update since its last deploy.
      type: str
      sample: completed
    update_message:
      description: The service's C(UpdateStatus.Message).
      type: str
      sample: update paused due to failure or early termination of task kfylsfmdhmezzsl6fjud7gfcv
    task_error:
      description:
        - The error of the service's newest task; for a service that did not converge,
          that of the task its update status names, or else the newest error any task has.
      type: str
      sample: "task: non-zero exit (137): dockerexec: unhealthy container"
    spec_hash:
      description: The C(io.drover.spec-hash) label the service carries.
      type: str
      sample: 081f7afbf27eb1e1d5b0e01dd33c905351c603774fd39e84697b4f1f9d882905
    state:
      description:
        - V(converged), V(pending) (not all tasks up yet), V(updating), V(rolling_back),
          V(rolled_back), V(paused), or V(missing) (not created).
      type: str
      sample: converged
  sample:
    web:
      name: app_web
      id: qk2efwbqu0e599d5p4tah0ytz
      mode: replicated
      image: registry.lab:5000/web
      digest: null
      desired: 2
      running: 2
      running_previous: 0
      completed: 0
      update_state: null
      update_message: null
      task_error: null
      spec_hash: 081f7afbf27eb1e1d5b0e01dd33c905351c603774fd39e84697b4f1f9d882905
      state: converged
services_added:
  description: Services of the definition the stack did not have (in check mode, would not).
  returned: O(state=present)
  type: list
  elements: str
  sample: [worker]
services_updated:
  description: Services whose spec changed, or that were changed by hand.
  returned: O(state=present)
  type: list
  elements: str
  sample: [web]
services_removed:
  description:
    - With O(state=present) and O(prune=true), the stack's services no longer in the definition.
    - With O(state=absent), the services the stack had.
  returned: always
  type: list
  elements: str
  sample: []
change_reasons:
  description: Why each added, updated or removed service counts as changed.
  returned: O(state=present)
  type: dict
  sample: {web: spec changed, worker: not deployed yet}
configs:
  description: The swarm name of each top-level config, by its key.
  returned: O(state=present)
  type: dict
  sample: {nginx_conf: web_nginx_conf_5e0f1c2a9b}
secrets:
  description: The swarm name of each top-level secret, by its key.
  returned: O(state=present)
  type: dict
  sample: {api_token: web_api_token_8d1e4f2c0a}
deployed:
  description: Whether C(docker stack deploy) ran.
  returned: always
  type: bool
  sample: true
deploy_output:
  description: What C(docker stack deploy) printed.
  returned: when it ran
  type: list
  elements: str
  sample: [Creating network app_default, Creating service app_web]
elapsed:
  description: Seconds from the module's start until the stack converged, failed, was gone, or the timeout.
  returned: always
  type: float
  sample: 14.2
orphaned_tasks:
  description: Finished job tasks Engine 20.10 keeps after their service is removed (see notes).
  returned: O(state=absent), when there are any
  type: list
  elements: str
  sample: [x5wxmewxrb2m1gyhn6ylw3ubo]
leftovers:
  description: What was still there when O(state=absent) timed out, by kind.
  returned: O(state=absent), on timeout
  type: dict
  sample:
    services: []
    tasks: []
    containers: []
    networks: [app_default]
    configs: []
    secrets: []
    orphaned_tasks: []
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.drover.platform.plugins.module_utils._command import module_run_command
from ansible_collections.drover.platform.plugins.module_utils._outcome import Outcome, finish
from ansible_collections.drover.platform.plugins.module_utils._swarm_cli import (
    DockerCli,
    DockerCliError,
    SwarmStackClient,
)
from ansible_collections.drover.platform.plugins.module_utils._swarm_definition import (
    SwarmStackError,
    check_stack_name,
    load_definition_file,
    render,
    staged_compose,
)
from ansible_collections.drover.platform.plugins.module_utils._swarm_stack import (
    RESOLVE_IMAGE,
    STATES,
    Options,
    run_absent,
    run_present,
)


def argument_spec() -> dict:
    return dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=list(STATES), default="present"),
        definition=dict(type="dict"),
        definition_file=dict(type="path"),
        timeout=dict(type="int", default=300),
        poll_interval=dict(type="float", default=2),
        prune=dict(type="bool", default=False),
        with_registry_auth=dict(type="bool", default=False),
        resolve_image=dict(type="str", choices=list(RESOLVE_IMAGE), default="never"),
        docker_cli=dict(type="str", default="docker"),
    )


def docker_cli(module: AnsibleModule) -> DockerCli:
    executable = module.params["docker_cli"]
    if os.sep not in executable:
        executable = module.get_bin_path(executable, required=True)
    return DockerCli(module_run_command(module), executable)


def run(module: AnsibleModule) -> Outcome:
    params = module.params
    check_stack_name(params["name"])
    stack = SwarmStackClient(docker_cli(module), params["name"])
    options = Options(
        name=params["name"],
        timeout=params["timeout"],
        poll_interval=params["poll_interval"],
        prune=params["prune"],
        with_registry_auth=params["with_registry_auth"],
        resolve_image=params["resolve_image"],
        check_mode=module.check_mode,
        diff=module._diff,
    )
    if params["state"] == "absent":
        return run_absent(stack, options)

    if params["definition_file"]:
        path = params["definition_file"]
        rendered = render(params["name"], load_definition_file(path), base_dir=os.path.dirname(os.path.abspath(path)))
    else:
        rendered = render(params["name"], params["definition"])
    module.no_log_values.update(rendered.secret_values)
    return run_present(stack, rendered, options, lambda staged: staged_compose(staged, module.tmpdir))


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[("definition", "definition_file")],
        required_if=[("state", "present", ("definition", "definition_file"), True)],
        supports_check_mode=True,
    )
    finish(module, lambda: run(module), (SwarmStackError, DockerCliError), file_error=("cannot read", "a file"))


if __name__ == "__main__":
    main()
