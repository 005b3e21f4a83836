#!/usr/bin/python
# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

# The work is done on the controller by the action plugin of the same name
# (plugins/action/app_render.py); this file holds its documentation.

DOCUMENTATION = r"""
module: app_render
short_description: Render the team's Compose file and an environment's overlay as a Swarm stack or Kubernetes manifests
version_added: 0.1.0
description:
  - Reads a Compose file the way C(docker compose config) does - interpolation
    of C(${VAR}), C($VAR), C(${VAR:-default}), C(${VAR-default}),
    C(${VAR:?error}), C(${VAR?error}), C(${VAR:+alt}), C(${VAR+alt}) and C($$);
    the project's C(.env) or the environment's env files; profiles; each
    service's C(env_file) merged under its C(environment) - and applies the
    environment's O(overlay) (images, replicas, domains, resources,
    environment values, placement, secret contents).
  - Checks the Compose file as Compose does before rendering anything - every
    key and the type of its value against the Compose Specification, and no
    key written twice - and fails naming the file, the service and the key.
  - With O(target=swarm), turns the result into a stack definition for
    M(drover.platform.swarm_stack) (RV(definition)), with safe defaults per
    service - rolling updates that start the new task first and roll back on
    failure, a monitor period the healthcheck fits in, a restart policy - and
    Traefik v3 labels for services with a domain.
  - With O(target=kubernetes), turns it into Kubernetes manifests
    (RV(manifests)) in the order they can be applied - a Namespace,
    ConfigMaps and Secrets named by a hash of their content, claims,
    Services, the workloads (a Deployment; a StatefulSet for a service
    writing a named volume of its own; a DaemonSet for a global service; a
    Job for a job) and an Ingress for each service with a domain - with
    probes from the healthchecks, requests and limits, rolling updates that
    start the new pod first, a preStop drain and node selectors from the
    placement.
  - Writes a conversion report (RV(report)) naming every Compose key the
    target cannot honour. The task fails, before anything is deployed, while the
    report holds an item whose key is not in O(allow) or the overlay's
    C(allow); the message lists each one with the C(allow) entry that accepts
    it.
  - Runs on the controller only; it reads files there and connects to no host.
  - The overlay format and what each Compose key becomes are described in
    C(docs/app.md) of the collection.
author:
  - drover.platform developers (@drover-platform)
extends_documentation_fragment:
  - drover.platform.attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
    details:
      - Renders the same way in check mode; it changes nothing anywhere.
  diff_mode:
    support: none
  idempotent:
    support: full
options:
  compose_file:
    description:
      - The Compose file, on the controller.
      - A relative path is looked up like a file of M(ansible.builtin.copy) -
        in the role's C(files/), the role, then the playbook's C(files/) and
        directory.
    type: path
    required: true
  project_dir:
    description:
      - Where C(.env), the overlay's C(env_files), services' C(env_file) and the
        C(file) of top-level configs and secrets are found.
      - Defaults to the Compose file's directory.
    type: path
  overlay:
    description:
      - The environment's overlay, usually from inventory variables.
      - C(environment) (required) - the environment's name.
      - C(profiles) - active Compose profiles. Services with C(profiles) run
        only when one of theirs is active; others always run. Defaults to the
        C(COMPOSE_PROFILES) variable, else none.
      - C(env_files) - files of interpolation variables, relative to
        O(project_dir), later files winning, as with C(docker compose
        --env-file). Without it the project's C(.env) is read when present.
      - C(variables) - interpolation variables; they win over the env files.
        The controller's environment is never read.
      - C(services.<name>) - C(image) (replaces the Compose image and
        C(build)), C(replicas), C(mode) (V(replicated), V(global) or V(job)),
        C(domain) (route it through the edge), C(port) (the container port
        the edge sends to; default the only port the service publishes or
        exposes), C(resources) (C(limits) and C(reservations) of C(cpus),
        C(memory), C(pids)), C(environment) (merged over the Compose
        environment; V(null) removes a variable), C(placement) (C(class) and
        C(arch) - the node labels C(drover.class) and C(drover.arch) the swarm
        role sets - C(labels) for other node labels, C(constraints),
        C(max_replicas_per_node)).
      - C(secrets) and C(configs) - contents of the Compose file's top-level
        secrets and configs, by name; they replace C(file) or C(environment).
      - C(allow) - report keys accepted, as O(allow).
    type: dict
    required: true
  target:
    description:
      - What to render - a Swarm stack definition (RV(definition)) or
        Kubernetes manifests (RV(manifests)).
      - O(endpoint_mode) and O(edge_network) are for V(swarm) only; the
        options from O(namespace) on are for V(kubernetes) only.
    type: str
    choices: [swarm, kubernetes]
    default: swarm
  stack_name:
    description:
      - The stack's name; it prefixes the Traefik router and service names, so
        that the stacks of several environments can share one swarm and edge.
      - With O(target=kubernetes), the C(app.kubernetes.io/instance) label of
        every object, and the namespace unless O(namespace) is given.
      - Defaults to C(<app>-<environment>), the app being the Compose file's
        C(name) or else its directory's name.
    type: str
  endpoint_mode:
    description:
      - How services are reached inside the swarm. V(vip) is Swarm's default.
        V(dnsrr) is for swarms without IPVS (the lab); every published port
        is then published in host mode.
      - A service whose Compose file says C(deploy.endpoint_mode=dnsrr) keeps it.
    type: str
    choices: [vip, dnsrr]
    default: vip
  edge_network:
    description:
      - The external overlay network the edge router (Traefik) shares with
        routed services. Every service with a domain joins it, as well as its
        own networks.
      - An empty string turns the edge off; a domain in the overlay is then an
        error.
    type: str
    default: drover-edge
  edge_entrypoint:
    description:
      - The Traefik entry point routed services are served on.
      - With O(target=kubernetes), the Ingress annotation
        C(traefik.ingress.kubernetes.io/router.entrypoints); an empty string
        leaves it out (for another ingress controller).
    type: str
    default: websecure
  edge_certresolver:
    description:
      - A Traefik certificate resolver (ACME) for the routers, in production.
      - With O(target=kubernetes), the Ingress annotation
        C(traefik.ingress.kubernetes.io/router.tls.certresolver).
    type: str
  edge_check_interval:
    description:
      - Seconds between the edge's active health checks of a routed service
        (Traefik's C(loadbalancer.healthcheck.interval)); the update timing
        of routed services without a healthcheck is derived from it.
      - Swarm only.
    type: float
    default: 2.0
  health_probe:
    description:
      - Path, on every node, of a static busybox (Debian's C(busybox-static)
        installs C(/bin/busybox)). Set, a routed service without a
        healthcheck gets one that fetches its health path with the probe,
        bind-mounted read-only, so Swarm starts its traffic and stops the old
        task only once the new one answers. Empty, no healthcheck is added.
      - Swarm only.
    type: str
  strict_environments:
    description:
      - Environments whose images must carry a version tag or a digest; an
        image tagged C(:latest), or not tagged at all, fails the task there.
    type: list
    elements: str
    default: [preprod, prod]
  allow:
    description:
      - Report keys the user accepts, on top of the overlay's C(allow). An
        entry is a key (V(depends_on.condition)) or C(<service>:<key>) for one
        service only (V(db:volumes.bind)).
    type: list
    elements: str
    default: []
  namespace:
    description:
      - The namespace of every object; the first manifest creates it.
      - Defaults to O(stack_name) as a DNS label, so C(<app>-<environment>).
    type: str
  ingress_class:
    description:
      - The C(ingressClassName) of the Ingresses; an empty string leaves it
        to the cluster's default class.
    type: str
    default: traefik
  tls:
    description:
      - Whether the Ingresses serve HTTPS for their host.
    type: bool
    default: true
  tls_secret:
    description:
      - The Secret (in the namespace) holding the certificate for the hosts.
      - Without it the Ingress asks for TLS with no secret, and the ingress
        controller serves its default certificate (the edge's, from the
        fleet's CA) or the one of O(edge_certresolver).
    type: str
  ingress_annotations:
    description:
      - Annotations for every Ingress, such as a cert-manager issuer.
    type: dict
    default: {}
  storage_class:
    description:
      - The storage class of every claim; without it the cluster's default.
    type: str
  volume_size:
    description:
      - The size every claim asks for (Compose volumes have none).
    type: str
    default: 1Gi
  volume_sizes:
    description:
      - Sizes by Compose volume name, over O(volume_size).
    type: dict
    default: {}
  image_pull_secret:
    description:
      - A Secret (in the namespace) of type C(kubernetes.io/dockerconfigjson)
        that pods pull their images with.
    type: str
  version:
    description:
      - The release version, as the C(app.kubernetes.io/version) label of
        every object.
      - Without it a service's objects carry its image tag, when the image
        has one, and app-wide objects carry no version.
    type: str
  labels:
    description:
      - Labels for the metadata of every object (not the pod templates, so
        that a new value rolls no pod).
    type: dict
    default: {}
  drain_seconds:
    description:
      - How long a pod behind a Service waits in its preStop hook before it
        gets SIGTERM, so that endpoints and the edge stop sending to it
        first. The pod's grace period is this plus the service's
        C(stop_grace_period). V(0) adds no hook.
    type: int
    default: 5
  drain_hook:
    description:
      - How the preStop hook waits. V(exec) runs C(sleep) in the container
        (the image needs one). V(sleep) is the kubelet's own sleep action
        (Kubernetes 1.30 and later).
    type: str
    choices: [exec, sleep]
    default: exec
notes:
  - B(Secrets.) The contents of secrets are in RV(definition) or RV(manifests)
    only, never in RV(report) or in a message. When they hold secret contents,
    the whole result is marked C(no_log), so that no callback prints it, and
    the registered variable keeps it for M(drover.platform.swarm_stack) or
    M(kubernetes.core.k8s). To read the report in a job log, print
    C(<registered>.report), which holds no secret.
  - B(Kubernetes.) A Job is named with a hash of its spec, and ConfigMaps and
    Secrets with a hash of their content, so a change is a new object; prune
    the old ones by label after the deploy. A published port is not
    published on the nodes (reported); it is on the service's ClusterIP
    Service. A service without ports gets a headless Service, so that its
    name resolves to its pods as on a Compose network. Named volumes start
    empty; Kubernetes does not copy the image's files into them as Docker does.
  - B(Kubernetes, in place.) The API server does not change a Service from
    headless (no ports) to ClusterIP or back, nor a StatefulSet's claim
    templates (O(volume_size), O(storage_class)); such a change needs the
    object replaced. Selectors and claim templates carry no version, so a new
    release never touches them.
  - Any C($) in the model is written as C($$) in RV(definition), since
    C(docker stack deploy) interpolates the file once more; values arrive as
    the Compose file and the overlay meant them.
  - Compose C(extends) and C(include) are not resolved; the task fails naming them.
  - With O(target=kubernetes), the manifests are checked against what the API
    server refuses beyond its schemas (names, label values, port names, mounts,
    quantities, pod settings that exclude each other); such a manifest fails
    the task instead of the apply.
seealso:
  - module: drover.platform.swarm_stack
  - module: kubernetes.core.k8s
  - name: Compose Specification
    description: The file format the renderer reads.
    link: https://docs.docker.com/reference/compose-file/
  - name: Traefik Swarm provider
    description: The labels routed services get.
    link: https://doc.traefik.io/traefik/routing/providers/swarm/
  - name: Kubernetes recommended labels
    description: The app.kubernetes.io labels every object carries.
    link: https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
"""

EXAMPLES = r"""
- name: Render the app for this environment
  drover.platform.app_render:
    compose_file: "{{ playbook_dir }}/../apps/demo/compose.yml"
    overlay:
      environment: prod
      # web and worker retry until redis answers.
      allow: [depends_on.condition]
      services:
        web:
          image: registry.lab:5000/demo/web@sha256:0d5b0ab9fd0ea4c2bc60d3b4ec1c2f3d3d0d1a2c7bd9a38e4c3f1c4b2a1e0f9d
          replicas: 2
          domain: demo.example.com
          # Reached through the edge: no port of its own in prod.
          ports: []
          port: 8000
          resources: {limits: {cpus: "0.5", memory: 128M}}
        worker:
          image: registry.lab:5000/demo/worker@sha256:5f1e3c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f
        redis:
          image: registry.lab:5000/demo/redis@sha256:9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b
          placement: {class: nuc}
    edge_certresolver: letsencrypt
  run_once: true
  register: __stack_render

- name: Show the conversion report (it holds no secret)
  ansible.builtin.debug:
    var: __stack_render.report
  run_once: true

- name: Deploy it
  drover.platform.swarm_stack:
    name: "{{ __stack_render.stack_name }}"
    definition: "{{ __stack_render.definition }}"
  run_once: true
  delegate_to: "{{ groups['swarm_managers'] | first }}"

- name: In the lab (no IPVS), accepting what the lab cannot honour
  drover.platform.app_render:
    compose_file: "{{ playbook_dir }}/../apps/demo/compose.yml"
    overlay:
      environment: lab
      profiles: [debug]
      allow: [build, depends_on.condition, deploy.update_config.order]
    endpoint_mode: dnsrr
  run_once: true

- name: Render the app for Kubernetes
  drover.platform.app_render:
    compose_file: "{{ playbook_dir }}/../apps/demo/compose.yml"
    target: kubernetes
    overlay:
      environment: prod
      allow: [depends_on.condition]
      services:
        web:
          image: registry.lab:5000/demo/web@sha256:0d5b0ab9fd0ea4c2bc60d3b4ec1c2f3d3d0d1a2c7bd9a38e4c3f1c4b2a1e0f9d
          replicas: 2
          domain: demo.example.com
          ports: []
          port: 8000
        worker:
          image: registry.lab:5000/demo/worker@sha256:5f1e3c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f
        redis:
          image: registry.lab:5000/demo/redis@sha256:9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b
    version: 1.4.0
    storage_class: microk8s-hostpath
    edge_certresolver: letsencrypt
  run_once: true
  register: __k8s_render

- name: Apply the manifests in order
  kubernetes.core.k8s:
    state: present
    definition: "{{ item }}"
    wait: true
  loop: "{{ __k8s_render.manifests }}"
  loop_control:
    label: "{{ item.kind }}/{{ item.metadata.name }}"
  no_log: "{{ __k8s_render.manifests | selectattr('kind', 'eq', 'Secret') | list | length > 0 }}"
  run_once: true
"""

RETURN = r"""
definition:
  description:
    - The stack, in the Compose file format M(drover.platform.swarm_stack)
      takes as its O(drover.platform.swarm_stack#module:definition).
    - Top-level configs and secrets carry C(content).
  returned: success, with O(target=swarm)
  type: dict
  sample:
    version: "3.9"
    services:
      web:
        image: registry.lab:5000/demo/web:1.4.0
        networks: [default, drover-edge]
        deploy:
          mode: replicated
          replicas: 2
          endpoint_mode: vip
          labels:
            traefik.enable: "true"
            traefik.swarm.network: drover-edge
            traefik.http.routers.demo-prod-web.rule: Host(`demo.example.com`)
            traefik.http.routers.demo-prod-web.entrypoints: websecure
            traefik.http.routers.demo-prod-web.tls: "true"
            traefik.http.routers.demo-prod-web.service: demo-prod-web
            traefik.http.services.demo-prod-web.loadbalancer.server.port: "8000"
          restart_policy: {condition: any, delay: 5s}
          update_config: {parallelism: 1, order: start-first, failure_action: rollback, monitor: 10s}
          rollback_config: {parallelism: 0, order: start-first}
    networks:
      drover-edge: {name: drover-edge, external: true}
manifests:
  description:
    - The Kubernetes objects, in the order to apply them - Namespace,
      ConfigMaps, Secrets, PersistentVolumeClaims, Services, workloads
      (Deployments, StatefulSets, DaemonSets, Jobs), Ingresses.
    - Secrets carry their contents, base64-encoded in C(data).
  returned: success, with O(target=kubernetes)
  type: list
  elements: dict
  sample:
    - {apiVersion: v1, kind: Namespace, metadata: {name: demo-prod, labels: {app.kubernetes.io/name: demo}}}
    - apiVersion: networking.k8s.io/v1
      kind: Ingress
      metadata: {name: web, namespace: demo-prod}
      spec:
        ingressClassName: traefik
        tls: [{hosts: [demo.example.com]}]
        rules:
          - host: demo.example.com
            http:
              paths:
                - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 8000}}}}
namespace:
  description: The namespace of the manifests, as given or as defaulted.
  returned: success, and when the report stops the task, with O(target=kubernetes)
  type: str
  sample: demo-prod
workloads:
  description: The workload of each service, for waiting on it or reading its status.
  returned: success, and when the report stops the task, with O(target=kubernetes)
  type: list
  elements: dict
  contains:
    service:
      description: The Compose service.
      type: str
      sample: redis
    kind:
      description: V(Deployment), V(StatefulSet), V(DaemonSet) or V(Job).
      type: str
      sample: StatefulSet
    name:
      description: The workload's name (a Job's ends with a hash of its spec).
      type: str
      sample: redis
    service_name:
      description: The name of the service's Kubernetes Service.
      type: str
      sample: redis
report:
  description:
    - One item per Compose key the target cannot honour, in the order found.
    - Also returned when the task fails because of items not allowed.
  returned: success, and when the report stops the task
  type: list
  elements: dict
  contains:
    service:
      description: The service, or V(null) for a top-level key.
      type: str
      sample: db
    key:
      description: The report key, the one C(allow) takes.
      type: str
      sample: depends_on.condition
    message:
      description: What the target does instead.
      type: str
      sample: Swarm starts services in no order and does not wait until db is healthy; web must retry until it answers
    allowed:
      description: Whether O(allow) or the overlay's C(allow) accepts it.
      type: bool
      sample: true
stack_name:
  description: The stack's name, as given or as defaulted (with O(target=kubernetes), the instance label).
  returned: success, and when the report stops the task
  type: str
  sample: demo-prod
environment:
  description: The overlay's environment.
  returned: success, and when the report stops the task
  type: str
  sample: prod
services:
  description: The services rendered, in the Compose file's order (those switched off by profiles are not).
  returned: success, and when the report stops the task
  type: list
  elements: str
  sample: [web, api, db]
images:
  description: The image of each service, as deployed.
  returned: success, and when the report stops the task
  type: dict
  sample: {web: "registry.lab:5000/demo/web@sha256:0d5b0ab9fd0ea4c2bc60d3b4ec1c2f3d3d0d1a2c7bd9a38e4c3f1c4b2a1e0f9d"}
"""
