#!/usr/bin/python
# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: edge_probe
short_description: Ask routed services through the edge over HTTPS, as a user would
version_added: 0.1.0
description:
  - Sends one C(GET) for O(path) on O(domain) to the edge at O(address) and
    fails unless the answer's status is one of O(status).
  - With O(services) instead of O(domain), asks each service's domain in one
    task and returns every answer in RV(answers), in the order of O(services).
  - A service that does not answer one of O(status) is asked again, up to
    O(attempts) times, O(delay) seconds apart.
  - With O(fail_on_error=false) it reports and does not judge - what
    answered, or why nothing did, is returned (RV(error)) and the task does
    not fail; a deploy shows that, where C(playbooks/smoke.yml) is the check
    that fails. A CA file that is not there fails the task all the same.
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
      - One of O(domain) and O(services) is required.
    type: str
  services:
    description:
      - "Several routed services, C({service: domain}), asked in one task;
        each answer is in RV(answers)."
      - One of O(domain) and O(services) is required.
    type: dict
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
  attempts:
    description:
      - How many times a service that does not answer one of O(status) is asked.
    type: int
    default: 1
  delay:
    description:
      - Seconds between two attempts.
    type: float
    default: 2
  fail_on_error:
    description:
      - Fail when a service did not answer one of O(status). V(false) reports
        what answered (RV(error), or each answer's C(error) in RV(answers)) and does not fail.
    type: bool
    default: true
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

- name: After a deploy, show what every routed service answers, without failing
  drover.platform.edge_probe:
    address: 198.18.0.11
    services:
      api: api-teamapp-dev.lab.drover.test
      web: teamapp-dev.lab.drover.test
    ca_file: "{{ lookup('ansible.builtin.env', 'DROVER_FLEET_CA') }}"
    attempts: 15
    fail_on_error: false
  delegate_to: localhost
  register: __answers

- name: Show them
  ansible.builtin.debug:
    msg: "{{ __answers.answers | drover.platform.deploy_answers }}"
"""

RETURN = r"""
url:
  description: The URL asked for, as its users name it.
  returned: with O(domain)
  type: str
  sample: https://demo.lab.drover.test/
address:
  description: The address the request went to.
  returned: with O(domain)
  type: str
  sample: 198.18.0.11
status:
  description: The answer's HTTP status.
  returned: when the edge answered
  type: int
  sample: 200
reason:
  description: The answer's reason phrase.
  returned: when the edge answered
  type: str
  sample: OK
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
error:
  description: Why the answer was not one of O(status); empty when it was.
  returned: with O(domain)
  type: str
  sample: ""
attempts:
  description: How many requests were sent.
  returned: with O(domain)
  type: int
  sample: 1
answers:
  description:
    - One per service of O(services), in its order, each with the service's
      name and domain and the fields returned for O(domain) (RV(url),
      RV(status), RV(reason), RV(elapsed), RV(body), RV(json), RV(error),
      RV(attempts)).
  returned: with O(services)
  type: list
  elements: dict
  sample:
    - {service: api, domain: api-teamapp-dev.lab.drover.test, url: "https://api-teamapp-dev.lab.drover.test/",
       address: 198.18.0.11, status: 200, reason: OK, elapsed: 0.04, body: '{"app": "teamapp"}',
       json: {app: teamapp}, error: "", attempts: 1}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.drover.platform.plugins.module_utils._edge_probe import Probe, ProbeError, report
from ansible_collections.drover.platform.plugins.module_utils._outcome import Outcome, finish


def argument_spec() -> dict:
    return dict(
        address=dict(type="str", required=True),
        domain=dict(type="str"),
        services=dict(type="dict"),
        port=dict(type="int", default=443),
        path=dict(type="str", default="/"),
        status=dict(type="list", elements="int", default=[200]),
        ca_file=dict(type="path"),
        system_cas=dict(type="bool", default=True),
        timeout=dict(type="float", default=10),
        attempts=dict(type="int", default=1),
        delay=dict(type="float", default=2),
        fail_on_error=dict(type="bool", default=True),
    )


def probe_of(params: dict, domain: str) -> Probe:
    path = params["path"] if params["path"].startswith("/") else "/" + params["path"]
    return Probe(
        address=params["address"],
        domain=domain,
        port=params["port"],
        path=path,
        status=tuple(params["status"]),
        ca_file=params["ca_file"] or None,
        system_cas=params["system_cas"],
        timeout=params["timeout"],
    )


def probe(module: AnsibleModule) -> Outcome:
    params = module.params
    fail = params["fail_on_error"]

    def asked(domain: str) -> dict:
        return report(probe_of(params, domain), attempts=params["attempts"], delay=params["delay"])

    if params["domain"] is not None:
        answer = asked(params["domain"])
        return Outcome({"changed": False, **answer}, failure=answer["error"] if fail and answer["error"] else None)
    answers = [{"service": str(service), "domain": str(domain), **asked(str(domain))}
               for service, domain in params["services"].items()]
    wrong = [f"{answer['service']}: {answer['error']}" for answer in answers if answer["error"]]
    return Outcome({"changed": False, "answers": answers}, failure="; ".join(wrong) if fail and wrong else None)


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[("domain", "services")],
        required_one_of=[("domain", "services")],
        supports_check_mode=True,
    )
    finish(module, lambda: probe(module), (ProbeError,))


if __name__ == "__main__":
    main()
