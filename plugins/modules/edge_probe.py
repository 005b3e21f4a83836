#!/usr/bin/python
# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: edge_probe
short_description: Ask a routed service through the edge over HTTPS, as a user would
version_added: 0.1.0
description:
  - Sends one C(GET) for O(path) on O(domain) to the edge at O(address) and
    fails unless the answer's status is one of O(status).
  - The connection goes to O(address), while the TLS server name, the
    certificate check and the C(Host) header are O(domain), so the domain
    need not resolve where the task runs (a lab, a split DNS).
  - The edge's certificate is checked against the system's CAs and, when
    O(ca_file) is given, the fleet's own CA as well (what
    M(ansible.builtin.uri)'s C(ca_path) cannot do, since it trusts only the file
    it is given). One check then passes for Let's Encrypt and for the fleet
    CA's certificates alike.
  - A read; it changes nothing anywhere.
author:
  - drover.platform developers (@drover-platform)
extends_documentation_fragment:
  - drover.platform.attributes
  - drover.platform.attributes.READ_ONLY
options:
  address:
    description:
      - The edge's address (an IP address or a host name) the request is sent to.
    type: str
    required: true
  domain:
    description:
      - The service's domain, as its users name it.
    type: str
    required: true
  port:
    description:
      - The edge's HTTPS port.
    type: int
    default: 443
  path:
    description:
      - The path asked for, such as a health endpoint (V(/healthz)).
    type: str
    default: /
  status:
    description:
      - The statuses that count as an answer.
    type: list
    elements: int
    default: [200]
  ca_file:
    description:
      - A PEM file of CA certificates trusted beside the system's, such as
        the fleet CA. Empty or unset, the system's CAs alone. A file named
        that does not exist fails the task, naming it.
    type: path
  system_cas:
    description:
      - Trust the system's CAs too; V(false) trusts O(ca_file) alone.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the connection and for each read.
    type: float
    default: 10
"""

EXAMPLES = r"""
- name: Ask the demo's web service through the edge, trusting the fleet CA too
  drover.platform.edge_probe:
    address: 198.18.0.11
    domain: demo.lab.drover.test
    path: /
    status: [200]
    ca_file: "{{ lookup('ansible.builtin.env', 'DROVER_FLEET_CA') }}"
  delegate_to: localhost
  register: __answer
  retries: 5
  delay: 2
  until: __answer is succeeded

- name: Show which version answered
  ansible.builtin.debug:
    msg: "{{ __answer.json.version | default(__answer.body) }}"

- name: A health endpoint behind Let's Encrypt, which answers 204
  drover.platform.edge_probe:
    address: edge.example.com
    domain: shop.example.com
    path: /healthz
    status: [200, 204]
  delegate_to: localhost
"""

RETURN = r"""
url:
  description: The URL asked for, as its users name it.
  returned: always
  type: str
  sample: https://demo.lab.drover.test/
address:
  description: The address the request went to.
  returned: always
  type: str
  sample: 198.18.0.11
status:
  description: The answer's HTTP status.
  returned: when the edge answered
  type: int
  sample: 200
elapsed:
  description: Seconds from connecting to the answer's end.
  returned: when the edge answered
  type: float
  sample: 0.042
body:
  description: The answer's body, its first 4 KiB, as text.
  returned: when the edge answered
  type: str
json:
  description: The body read as JSON, when it is JSON.
  returned: when the body is JSON
  type: raw
  sample: {app: demo, version: 1.4.2, host: web.1}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.drover.platform.plugins.module_utils._edge_probe import Probe, ProbeError, ask
from ansible_collections.drover.platform.plugins.module_utils._outcome import Outcome, finish


def argument_spec() -> dict:
    return dict(
        address=dict(type="str", required=True),
        domain=dict(type="str", required=True),
        port=dict(type="int", default=443),
        path=dict(type="str", default="/"),
        status=dict(type="list", elements="int", default=[200]),
        ca_file=dict(type="path"),
        system_cas=dict(type="bool", default=True),
        timeout=dict(type="float", default=10),
    )


def probe(module: AnsibleModule) -> Outcome:
    params = module.params
    path = params["path"] if params["path"].startswith("/") else "/" + params["path"]
    answer = ask(Probe(
        address=params["address"],
        domain=params["domain"],
        port=params["port"],
        path=path,
        status=tuple(params["status"]),
        ca_file=params["ca_file"] or None,
        system_cas=params["system_cas"],
        timeout=params["timeout"],
    ))
    return Outcome({"changed": False, **answer})


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    finish(module, lambda: probe(module), (ProbeError,))


if __name__ == "__main__":
    main()
