# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""drover.platform.app_render: Compose file + overlay -> Swarm stack or Kubernetes manifests, on the controller.

The documentation is in plugins/modules/app_render.py. The work is in
module_utils (_app_model, _render_swarm, _render_k8s); `render` ties them
together and is what the tests call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    DEFAULT_STRICT_ENVIRONMENTS,
    App,
    AppError,
    ReportItem,
)
from ansible_collections.drover.platform.plugins.module_utils._compose_loader import load_app
from ansible_collections.drover.platform.plugins.module_utils._render_k8s import render_kubernetes
from ansible_collections.drover.platform.plugins.module_utils._render_k8s_plan import (
    DEFAULT_DRAIN_SECONDS,
    DEFAULT_INGRESS_CLASS,
    DEFAULT_VOLUME_SIZE,
    DRAIN_HOOKS,
    KubernetesOptions,
)
from ansible_collections.drover.platform.plugins.module_utils._render_swarm import (
    ENDPOINT_MODES,
    SwarmOptions,
    default_stack_name,
    render_swarm,
)
from ansible_collections.drover.platform.plugins.module_utils._render_swarm_edge import (
    DEFAULT_EDGE_ENTRYPOINT,
    DEFAULT_EDGE_NETWORK,
    EDGE_CHECK_INTERVAL,
)

display = Display()

TARGETS = ("swarm", "kubernetes")

ARGUMENT_SPEC: dict[str, Any] = dict(
    compose_file=dict(type="path", required=True),
    project_dir=dict(type="path"),
    overlay=dict(type="dict", required=True),
    target=dict(type="str", choices=list(TARGETS), default="swarm"),
    stack_name=dict(type="str"),
    endpoint_mode=dict(type="str", choices=list(ENDPOINT_MODES), default="vip"),
    edge_network=dict(type="str", default=DEFAULT_EDGE_NETWORK),
    edge_entrypoint=dict(type="str", default=DEFAULT_EDGE_ENTRYPOINT),
    edge_certresolver=dict(type="str"),
    edge_check_interval=dict(type="float", default=EDGE_CHECK_INTERVAL),
    health_probe=dict(type="str"),
    strict_environments=dict(type="list", elements="str", default=list(DEFAULT_STRICT_ENVIRONMENTS)),
    allow=dict(type="list", elements="str", default=[]),
    # kubernetes only
    namespace=dict(type="str"),
    ingress_class=dict(type="str", default=DEFAULT_INGRESS_CLASS),
    tls=dict(type="bool", default=True),
    tls_secret=dict(type="str"),
    ingress_annotations=dict(type="dict", default={}),
    storage_class=dict(type="str"),
    volume_size=dict(type="str", default=DEFAULT_VOLUME_SIZE),
    volume_sizes=dict(type="dict", default={}),
    image_pull_secret=dict(type="str"),
    version=dict(type="str"),
    labels=dict(type="dict", default={}),
    drain_seconds=dict(type="int", default=DEFAULT_DRAIN_SECONDS),
    drain_hook=dict(type="str", choices=list(DRAIN_HOOKS), default="exec"),
)


def failure_message(items: list[ReportItem]) -> str:
    """One line per item not allowed, each saying how to allow it."""
    lines = "\n".join(f"- {item.describe()}" for item in items)
    return (
        f"the app cannot be deployed as written: {len(items)} Compose key(s) are not honoured on this target, "
        f"and nothing allows them:\n{lines}"
    )


def render(params: Mapping[str, Any], compose_file: str) -> dict[str, Any]:
    """The action's result for validated params, the Compose file's path resolved. Raises AppError on bad input.

    A report item not allowed fails the result, without the definition or
    manifests. With secret contents in them, the result is marked no_log.
    """
    app = load_app(compose_file, params["overlay"], project_dir=params.get("project_dir"))
    if params.get("target") == "kubernetes":
        return _render_kubernetes(app, params)
    options = SwarmOptions(
        stack_name=params.get("stack_name") or default_stack_name(app),
        endpoint_mode=params.get("endpoint_mode") or "vip",
        edge_network=params.get("edge_network") or None,
        edge_entrypoint=params.get("edge_entrypoint") or DEFAULT_EDGE_ENTRYPOINT,
        edge_certresolver=params.get("edge_certresolver") or None,
        edge_check_interval=float(params.get("edge_check_interval") or EDGE_CHECK_INTERVAL),
        health_probe=params.get("health_probe") or None,
        strict_environments=tuple(params.get("strict_environments") or ()),
        allow=tuple(params.get("allow") or ()),
    )
    stack = render_swarm(app, options)
    result: dict[str, Any] = {
        "changed": False,
        "stack_name": options.stack_name,
        "environment": app.environment,
        "services": list(app.services),
        "images": stack.images,
        "report": [item.as_dict() for item in stack.report],
    }
    return _finish(result, app, stack.blocking, "definition", stack.definition, stack.secret_values)


def _render_kubernetes(app: App, params: Mapping[str, Any]) -> dict[str, Any]:
    instance = params.get("stack_name") or default_stack_name(app)
    options = KubernetesOptions(
        namespace=params.get("namespace") or None,
        instance=instance,
        ingress_class=params.get("ingress_class") or None,
        tls=params.get("tls", True),
        tls_secret=params.get("tls_secret") or None,
        edge_entrypoint=params.get("edge_entrypoint", DEFAULT_EDGE_ENTRYPOINT) or None,
        edge_certresolver=params.get("edge_certresolver") or None,
        ingress_annotations={str(k): str(v) for k, v in (params.get("ingress_annotations") or {}).items()},
        storage_class=params.get("storage_class") or None,
        volume_size=params.get("volume_size") or DEFAULT_VOLUME_SIZE,
        volume_sizes={str(k): str(v) for k, v in (params.get("volume_sizes") or {}).items()},
        image_pull_secret=params.get("image_pull_secret") or None,
        version=params.get("version") or None,
        labels={str(k): str(v) for k, v in (params.get("labels") or {}).items()},
        drain_seconds=DEFAULT_DRAIN_SECONDS if params.get("drain_seconds") is None else params["drain_seconds"],
        drain_hook=params.get("drain_hook") or "exec",
        strict_environments=tuple(params.get("strict_environments") or ()),
        allow=tuple(params.get("allow") or ()),
    )
    rendered = render_kubernetes(app, options)
    result: dict[str, Any] = {
        "changed": False,
        "stack_name": instance,
        "namespace": rendered.namespace,
        "environment": app.environment,
        "services": list(app.services),
        "images": rendered.images,
        "workloads": [workload.as_dict() for workload in rendered.workloads],
        "report": [item.as_dict() for item in rendered.report],
    }
    return _finish(result, app, rendered.blocking, "manifests", rendered.manifests, rendered.secret_values)


def _finish(
    result: dict[str, Any],
    app: App,
    stopping: list[ReportItem],
    key: str,
    rendered: Any,
    secret_values: list[str],
) -> dict[str, Any]:
    """The result: failed without the rendering while a report item is not allowed; no_log with secrets in it."""
    if app.warnings:
        result["warnings"] = list(app.warnings)
    if stopping:
        result["failed"] = True
        result["msg"] = failure_message(stopping)
        return result
    result[key] = rendered
    if secret_values:
        result["_ansible_no_log"] = True
    return result


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: str | None = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp
        _validation, params = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            compose_file = self._find_needle("files", params["compose_file"])
        except AnsibleError as error:
            raise AnsibleActionFail(f"compose_file {params['compose_file']} was not found: {error.message}") from None
        if params.get("project_dir"):
            params["project_dir"] = self._loader.path_dwim(params["project_dir"])
        try:
            rendered = render(params, compose_file)
        except AppError as error:
            raise AnsibleActionFail(str(error)) from None
        for warning in rendered.pop("warnings", []):
            display.warning(warning)
        result.update(rendered)
        return result
