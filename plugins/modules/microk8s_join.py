#!/usr/bin/python
# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: microk8s_join
short_description: Form a MicroK8s cluster with join tokens
version_added: 0.1.0
description:
  - Two halves of one job, chosen with O(mode).
  - O(mode=issue), on the node the others join, lists the cluster's nodes
    with C(microk8s kubectl get nodes -o wide) and, only when one of O(nodes)
    is not among them, runs C(microk8s add-node --token --token-ttl) so that
    O(token) lets the missing nodes join. A node of O(nodes) counts as there
    when it is a node's name (the host name, in lower case), its internal or
    its external address. The datastore nodes of C(microk8s status) are not
    used for this, since workers and the second node of a cluster are not
    among them.
  - O(mode=join), on a joining node, runs C(microk8s join ADDRESS/TOKEN)
    unless the node is in a cluster already, that is when microk8s says it is
    C(acting as a node in a cluster) (a worker), or when it lists more than
    one node or datastore node.
  - Both read C(microk8s status --format yaml --wait-ready --timeout)
    O(timeout) first, and fail when microk8s does not answer.
  - A refused join fails the task with what to do about it (a wrong, expired
    or spent token; an address the cluster knows from an earlier attempt; a
    host name the cluster cannot resolve; a cluster agent out of reach).
author:
  - drover.platform developers (@drover-platform)
extends_documentation_fragment:
  - drover.platform.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads the cluster and reports whether a token would be issued or the
        node would join, without doing either.
  diff_mode:
    support: full
    details:
      - O(mode=issue), the nodes and the missing ones, and whether a token is
        issued; O(mode=join), whether the node is in a cluster.
  idempotent:
    support: full
options:
  mode:
    description:
      - V(issue) on the node the others join, V(join) on each joining node.
    type: str
    choices: [issue, join]
    required: true
  token:
    description:
      - The join token, at least 32 letters or digits, made by the caller
        (the same for the issuing and the joining nodes).
      - Kept out of the logs and the task's result; strings that hold it,
        such as RV(join_addresses), show C(********) in its place.
    type: str
    required: true
  token_ttl:
    description:
      - O(mode=issue), the seconds the token stays valid (C(microk8s add-node
        --token-ttl)); V(-1) makes a token that serves a single join.
      - Make it long enough for every missing node to join.
    type: int
    default: 3600
  nodes:
    description:
      - O(mode=issue), the nodes that should be in the cluster, each a node
        name (the host name in lower case, as Kubernetes lists it) or an
        address. The issuing node itself may be among them.
      - Required with O(mode=issue).
    type: list
    elements: str
  address:
    description:
      - O(mode=join), the cluster agent of a node in the cluster,
        V(HOST:PORT), such as V(10.0.0.10:25000); without a port, 25000.
      - Required with O(mode=join).
    type: str
  worker:
    description:
      - O(mode=join), join as a worker (C(--worker)), which runs no control
        plane and no datastore.
      - A node joined one way is not turned into the other; the task warns.
    type: bool
    default: false
  fingerprint:
    description:
      - O(mode=join), the certificate check of the node joined, the last part
        of the strings C(microk8s add-node) prints (RV(fingerprint)). With it
        C(microk8s join) verifies the cluster's certificate; without it, it
        does not.
    type: str
  microk8s_path:
    description:
      - The microk8s command, as the snap installs it.
    type: path
    default: /snap/bin/microk8s
  timeout:
    description:
      - Seconds to wait for microk8s to be ready before reading it
        (C(microk8s status --wait-ready --timeout)); V(0) reads it at once.
      - Also the time C(microk8s add-node) or C(microk8s join) may take, when
        the node has C(timeout) from coreutils.
    type: int
    default: 300
notes:
  - Joining needs the host names of the nodes resolvable from each other,
    and the ports of MicroK8s' services open between them, among them TCP
    25000 (cluster agent), 16443 (API server) and 19001 (datastore).
  - A token issued this way stays valid for O(token_ttl) seconds, whether
    it is used or not.
requirements:
  - MicroK8s 1.19 or later; O(worker=true) needs 1.23 or later.
seealso:
  - module: drover.platform.microk8s_addon
  - name: MicroK8s clustering
    description: add-node, join, workers and high availability.
    link: https://microk8s.io/docs/clustering
  - name: MicroK8s services and ports
    description: The ports the nodes of a cluster use.
    link: https://microk8s.io/docs/services-and-ports
"""

EXAMPLES = r"""
- name: Let the missing nodes in
  drover.platform.microk8s_join:
    mode: issue
    token: "{{ microk8s_join_token }}"
    token_ttl: 600
    nodes: [k8s-1, k8s-2, k8s-3]
  register: __microk8s_issue
  when: inventory_hostname == groups['k8s'][0]

- name: Join the first node
  drover.platform.microk8s_join:
    mode: join
    address: "{{ hostvars[groups['k8s'][0]].ansible_host }}:25000"
    token: "{{ microk8s_join_token }}"
    fingerprint: "{{ hostvars[groups['k8s'][0]].__microk8s_issue.fingerprint | default(omit, true) }}"
    worker: "{{ inventory_hostname in groups['k8s_workers'] }}"
  when: inventory_hostname != groups['k8s'][0]
"""

RETURN = r"""
nodes:
  description: The cluster's nodes by name, as the node read them (before joining, for O(mode=join)).
  returned: always
  type: list
  elements: str
  sample: [k8s-1]
missing:
  description: The entries of O(nodes) not in the cluster.
  returned: O(mode=issue)
  type: list
  elements: str
  sample: [k8s-2, k8s-3]
join_addresses:
  description:
    - The connection strings C(microk8s add-node) printed, V(ADDRESS:PORT/TOKEN/CHECK), the default address first.
    - The token shows as C(********) in them, since O(token) is kept out of the result.
    - Empty when no token was issued.
  returned: O(mode=issue)
  type: list
  elements: str
  sample: ["10.54.53.229:25000/********/ca5f25c53b42"]
join_endpoints:
  description: The addresses of those strings, V(ADDRESS:PORT), the default one first.
  returned: O(mode=issue)
  type: list
  elements: str
  sample: ["10.54.53.229:25000"]
fingerprint:
  description:
    - The certificate check of those strings, for O(fingerprint) of the joining nodes; V(null) when no token was
      issued or this microk8s prints none.
  returned: O(mode=issue)
  type: str
  sample: ca5f25c53b42
joined:
  description: Whether the node is in a cluster after the task (in check mode, would be).
  returned: O(mode=join)
  type: bool
  sample: true
worker:
  description: O(worker), as asked.
  returned: O(mode=join)
  type: bool
  sample: false
stdout:
  description: What C(microk8s add-node) or C(microk8s join) printed; empty when it did not run.
  returned: always
  type: str
  sample: "Contacting cluster at 10.54.53.229\nSuccessfully joined the cluster.\n"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.drover.platform.plugins.module_utils._microk8s import MICROK8S, MicroK8sError, module_cli
from ansible_collections.drover.platform.plugins.module_utils._microk8s_join import (
    MODES,
    IssueRequest,
    JoinRequest,
    run_issue,
    run_join,
)
from ansible_collections.drover.platform.plugins.module_utils._outcome import Outcome, finish


def argument_spec() -> dict:
    return dict(
        mode=dict(type="str", choices=list(MODES), required=True),
        token=dict(type="str", required=True, no_log=True),
        token_ttl=dict(type="int", default=3600, no_log=False),
        nodes=dict(type="list", elements="str"),
        address=dict(type="str"),
        worker=dict(type="bool", default=False),
        fingerprint=dict(type="str"),
        microk8s_path=dict(type="path", default=MICROK8S),
        timeout=dict(type="int", default=300),
    )


def run(module: AnsibleModule) -> Outcome:
    params = module.params
    cli = module_cli(module, secrets=(params["token"],))
    if params["mode"] == "issue":
        request = IssueRequest(
            token=params["token"],
            nodes=params["nodes"],
            token_ttl=params["token_ttl"],
            timeout=params["timeout"],
        )
        return run_issue(cli, request, check_mode=module.check_mode)
    join = JoinRequest(
        address=params["address"],
        token=params["token"],
        worker=params["worker"],
        fingerprint=params["fingerprint"],
        timeout=params["timeout"],
    )
    return run_join(cli, join, check_mode=module.check_mode)


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[("mode", "issue", ("nodes",)), ("mode", "join", ("address",))],
        supports_check_mode=True,
    )
    finish(module, lambda: run(module), (MicroK8sError,))


if __name__ == "__main__":
    main()
