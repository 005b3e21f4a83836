#!/usr/bin/python
# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: registry_digest
short_description: Resolve image references to digests on a self-hosted registry and check their architectures
version_added: 0.1.0
description:
  - Asks a registry that speaks the Registry HTTP API v2 (Docker Distribution, also known as C(registry:2), and the
    registries that follow the OCI distribution spec) for the manifest of each image, and returns its digest and a
    reference pinned to it, to deploy exactly that (for example with M(drover.platform.swarm_stack)).
  - Reads the platforms each image covers - the entries of a manifest list or OCI index, or the image config of a
    single-platform image - and fails when an image lacks one of O(required_architectures), so that a fleet mixing
    amd64 and arm64 hosts fails here rather than when Swarm cannot place a task.
  - The digest is that of the manifest the registry sent, computed from its bytes; it must match the registry's
    C(Docker-Content-Digest) header, and the digest asked for when the reference has one. Image configs are checked
    against their digest too.
  - Answers the registry's challenge, HTTP Basic (an htpasswd registry) or Bearer (a token service, as Docker's
    token protocol has it), with O(username) and O(password). Follows redirects to blob storage, without the
    credentials when the host changes.
  - Only reads; needs nothing but Python's standard library on the host it runs on, which must reach the registry
    (the controller, with C(delegate_to=localhost), or a manager).
author:
  - drover.platform developers (@drover-platform)
extends_documentation_fragment:
  - drover.platform.attributes
  - drover.platform.attributes.READ_ONLY
options:
  images:
    description:
      - Image references, C(host[:port]/repository[:tag][@digest]), as docker takes them.
      - The registry host is required; Docker Hub's short names (C(nginx), C(library/nginx)) are refused.
      - Without tag and digest the tag is V(latest), as with docker; RV(images[].is_latest_tag) says so.
      - With a digest, that manifest is fetched and checked; a tag written next to it is ignored, as docker ignores it.
    type: list
    elements: str
    required: true
  required_architectures:
    description:
      - Architectures every image must cover, in Docker's words (V(amd64), V(arm64), V(arm/v7)), Debian's (V(armhf),
        V(ppc64el)) or those of C(uname -m) and C(ansible_architecture) (V(x86_64), V(aarch64), V(armv7l)); an OS may
        come first (V(linux/arm64)), and is V(linux) otherwise.
      - An image platform covers a requirement when OS and architecture are the same and its variant is not newer;
        V(arm64) and V(arm64/v8) are the same, an V(arm/v6) image covers V(arm/v7), an V(arm/v7) image does not
        cover V(arm64).
      - Entries of an index for C(unknown/unknown), such as BuildKit's attestation manifests, cover nothing.
      - The filter P(drover.platform.docker_arch#filter) turns C(ansible_architecture) into Docker's name.
    type: list
    elements: str
    default: []
  username:
    description:
      - User name for a registry that asks for credentials, with Basic auth or through its token service.
      - Sent only when challenged, and then to every registry of O(images) that challenges; resolve images of
        registries with different accounts in separate tasks.
    type: str
  password:
    description:
      - Password (or token) of O(username).
    type: str
  ca_path:
    description:
      - A PEM file with the CA certificate(s) that signed the registries' TLS certificates, for a registry whose CA
        the system does not trust.
    type: path
  validate_certs:
    description:
      - Verify the registries' TLS certificates. Turn it off only for a throwaway lab; use O(ca_path) otherwise.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each HTTP answer.
    type: int
    default: 30
  plain_http:
    description:
      - Registries (C(host[:port]) as written in O(images)) to reach over plain HTTP rather than HTTPS, as the engine's
        C(insecure-registries) allows. Credentials would then cross the network unencrypted.
    type: list
    elements: str
    default: []
notes:
  - RV(images[].pinned) is C(host[:port]/repository@digest), without the tag; docker ignores a tag written next to a
    digest, and the digest alone says what runs. The tag stays in RV(images[].tag) for a name to show.
  - The digest of a multi-platform image is that of its manifest list or index; each node pulls the entry for its
    own platform from it, which is what Swarm pins when it resolves an image itself.
requirements:
  - A registry that speaks the Registry HTTP API v2.
seealso:
  - module: drover.platform.swarm_stack
    description: Deploys a stack; give it the pinned references.
  - name: Registry HTTP API V2
    description: The API this module speaks.
    link: https://distribution.github.io/distribution/spec/api/
  - name: Docker token authentication
    description: The Bearer flow of a registry with a token service.
    link: https://distribution.github.io/distribution/spec/auth/token/
"""

EXAMPLES = r"""
- name: Pin the app's images and check they run on every host of the swarm
  drover.platform.registry_digest:
    images:
      - registry.lab:5000/app/web:1.4.2
      - registry.lab:5000/app/worker:1.4.2
    required_architectures: >-
      {{ (groups['swarm_managers'] + groups['swarm_workers'] | default([]))
         | map('extract', hostvars, 'ansible_architecture')
         | map('drover.platform.docker_arch') | unique }}
    ca_path: /etc/docker/certs.d/registry.lab:5000/ca.crt
    username: deploy
    password: "{{ vault_registry_password }}"
  delegate_to: localhost
  run_once: true
  register: __app_images

- name: Deploy exactly those images
  drover.platform.swarm_stack:
    name: app
    definition:
      services:
        web:
          image: "{{ __app_images.pinned['registry.lab:5000/app/web:1.4.2'] }}"
        worker:
          image: "{{ __app_images.pinned['registry.lab:5000/app/worker:1.4.2'] }}"
  run_once: true

- name: Check a lab registry on plain HTTP, for amd64 and 64-bit Raspberry Pis
  drover.platform.registry_digest:
    images: [registry.lab:5000/tools/probe]
    required_architectures: [amd64, arm64]
    plain_http: [registry.lab:5000]
  register: __probe

- name: Refuse a moving tag
  ansible.builtin.assert:
    that: not (__probe.images | selectattr('is_latest_tag') | list)
    fail_msg: "Deploy a tag or a digest, not latest: {{ __probe.images | selectattr('is_latest_tag')
      | map(attribute='reference') | join(', ') }}"
"""

RETURN = r"""
images:
  description:
    - One entry per distinct reference of O(images) that resolved, in their order.
    - When the module fails because an image lacks an architecture, the entries are returned with the failure.
  returned: always
  type: list
  elements: dict
  contains:
    reference:
      description: The reference as given.
      type: str
      sample: registry.lab:5000/app/web:1.4.2
    registry:
      description: The registry's host and port.
      type: str
      sample: registry.lab:5000
    repository:
      description: The repository on that registry.
      type: str
      sample: app/web
    tag:
      description: The tag, V(latest) when none was written; V(null) when only a digest was.
      type: str
      sample: 1.4.2
    digest:
      description: The digest of the manifest (list) the reference resolved to.
      type: str
      sample: sha256:8ece8d3b1eb19bc02ce2c40c6b854a19cc4eb8cf7d606ca9b765be9a7bdb8556
    pinned:
      description: C(registry/repository@digest), the reference to deploy.
      type: str
      sample: registry.lab:5000/app/web@sha256:8ece8d3b1eb19bc02ce2c40c6b854a19cc4eb8cf7d606ca9b765be9a7bdb8556
    media_type:
      description:
        - The manifest's media type - an OCI index, a Docker manifest list, a Docker manifest v2 schema 2 or an OCI
          manifest.
      type: str
      sample: application/vnd.docker.distribution.manifest.list.v2+json
    platforms:
      description:
        - The platforms the image covers, as the registry names them; attestation entries (C(unknown/unknown)) left
          out.
        - For a single-platform image, the one its config names, and the image's own digest.
      type: list
      elements: dict
      contains:
        os:
          description: The operating system.
          type: str
          sample: linux
        architecture:
          description: The architecture, in Go's words.
          type: str
          sample: arm64
        variant:
          description: The CPU variant, or V(null).
          type: str
          sample: v8
        digest:
          description: The digest of that platform's image manifest.
          type: str
          sample: sha256:bd08bf35b52dfb938bb050c41374ca5098bd50c8d5803f7c4efa686df5e6d35d
    is_latest_tag:
      description: Whether the reference was resolved through the tag C(latest), written or implied, which moves.
      type: bool
      sample: false
    missing_architectures:
      description: Those of O(required_architectures) the image does not cover, as C(os/architecture[/variant]).
      type: list
      elements: str
      sample: []
pinned:
  description: The pinned reference of each reference of O(images) that resolved, by the reference as given.
  returned: always
  type: dict
  sample:
    registry.lab:5000/app/web:1.4.2: >-
      registry.lab:5000/app/web@sha256:8ece8d3b1eb19bc02ce2c40c6b854a19cc4eb8cf7d606ca9b765be9a7bdb8556
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.drover.platform.plugins.module_utils._arch import InvalidPlatform
from ansible_collections.drover.platform.plugins.module_utils._outcome import Outcome, finish
from ansible_collections.drover.platform.plugins.module_utils._registry import Options, run
from ansible_collections.drover.platform.plugins.module_utils._registry_client import open_url_opener
from ansible_collections.drover.platform.plugins.module_utils._registry_model import RegistryError


def argument_spec() -> dict:
    return dict(
        images=dict(type="list", elements="str", required=True),
        required_architectures=dict(type="list", elements="str", default=[]),
        username=dict(type="str"),
        password=dict(type="str", no_log=True),
        ca_path=dict(type="path"),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="int", default=30),
        plain_http=dict(type="list", elements="str", default=[]),
    )


def resolve(module: AnsibleModule) -> Outcome:
    params = module.params
    options = Options(
        images=params["images"],
        required_architectures=params["required_architectures"],
        username=params["username"],
        password=params["password"],
        ca_path=params["ca_path"],
        validate_certs=params["validate_certs"],
        timeout=params["timeout"],
        plain_http=params["plain_http"],
    )
    opener = open_url_opener(options.timeout, options.validate_certs, options.ca_path)
    return run(options, opener)


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_together=[("username", "password")],
        supports_check_mode=True,
    )
    finish(module, lambda: resolve(module), (RegistryError, InvalidPlatform))


if __name__ == "__main__":
    main()
