#!/usr/bin/python
# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: edge_probe
short_description: Ask routed services through the edge over HTTPS and say what they answered
version_added: 0.1.0
description:
  - Sends one GET per service to O(address) (the edge), with the service's domain as TLS server name and
    HTTP Host, checking the edge's certificate against the system's CAs plus O(ca_file) (the fleet's CA), and
    returns each status, time and the start of the body. A service that does not answer O(expect) is asked
    again, up to O(attempts) times.
  - It reports, it does not judge - a service that never answered is in RV(answers) with its error, and the
    task fails only with O(fail_on_error=true).
author:
  - drover.platform developers (@drover-platform)
extends_documentation_fragment:
  - drover.platform.attributes
  - drover.platform.attributes.READ_ONLY
options:
  address:
    description: The edge's address (or name), where the connection goes whatever the domain.
    type: str
    required: true
  port:
    description: The edge's HTTPS port.
    type: int
    default: 443
  services:
    description: "The routed services: C({service: domain})."
    type: dict
    required: true
  path:
    description: The path asked for.
    type: str
    default: /
  expect:
    description: The status a service should answer.
    type: int
    default: 200
  ca_file:
    description: The fleet's CA certificate on the host the task runs on, trusted with the system's CAs.
    type: path
  timeout:
    description: Seconds for each request.
    type: float
    default: 5
  attempts:
    description: How many times a service that does not answer O(expect) is asked.
    type: int
    default: 1
  delay:
    description: Seconds between attempts.
    type: float
    default: 2
  fail_on_error:
    description: Fail when a service did not answer O(expect).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Ask the routed services through the edge
  drover.platform.edge_probe:
    address: 198.18.0.11
    services: {api: api-teamapp-dev.lab.drover.test}
    ca_file: .lab/pki/ca.crt
    attempts: 10
  delegate_to: localhost
"""

RETURN = r"""
answers:
  description: One per service, in the order of O(services).
  returned: always
  type: list
  elements: dict
  contains:
    service: {description: The service., type: str}
    domain: {description: Its domain., type: str}
    url: {description: The URL asked for., type: str}
    status: {description: The HTTP status; 0 when nothing answered., type: int}
    reason: {description: The status' reason phrase., type: str}
    body: {description: The start of the body (2 KiB at most)., type: str}
    seconds: {description: How long the last request took., type: float}
    error: {description: Why nothing answered; empty when something did., type: str}
    attempts: {description: How many requests were sent., type: int}
  sample:
    - {service: api, domain: api-teamapp-dev.lab.drover.test, url: "https://api-teamapp-dev.lab.drover.test/",
       status: 200, reason: OK, body: '{"app": "teamapp"}', seconds: 0.04, error: "", attempts: 1}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.drover.platform.plugins.module_utils._edge_probe import ask


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            address=dict(type="str", required=True),
            port=dict(type="int", default=443),
            services=dict(type="dict", required=True),
            path=dict(type="str", default="/"),
            expect=dict(type="int", default=200),
            ca_file=dict(type="path"),
            timeout=dict(type="float", default=5.0),
            attempts=dict(type="int", default=1),
            delay=dict(type="float", default=2.0),
            fail_on_error=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    answers = [
        ask(str(service), str(domain), params["address"], params["port"], params["path"], params["ca_file"] or None,
            params["timeout"], params["attempts"], params["delay"], params["expect"]).as_dict()
        for service, domain in params["services"].items()
    ]
    wrong = [answer["url"] for answer in answers if answer["status"] != params["expect"]]
    if wrong and params["fail_on_error"]:
        module.fail_json(msg=f"did not answer {params['expect']}: {', '.join(wrong)}", answers=answers)
    module.exit_json(changed=False, answers=answers)


if __name__ == "__main__":
    main()
