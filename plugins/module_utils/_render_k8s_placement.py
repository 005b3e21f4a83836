# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a service's pods may run: Compose placement as node selectors and affinity."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    ConversionReport,
    Service,
)
from ansible_collections.drover.platform.plugins.module_utils._render_k8s_plan import (
    _ARCHES,
    _CONSTRAINT,
    _LABEL_VALUE,
    _UNAME_ARCHES,
    ARCH_LABEL,
    CLASS_LABEL,
    HOSTNAME_LABEL,
    OS_LABEL,
    is_qualified_name,
)

# --- placement ------------------------------------------------------------------------


@dataclass
class _NodeRules:
    """Node requirements as (label, operator, values), all of which must hold."""

    requirements: list[tuple[str, str, list[str]]] = field(default_factory=list)

    def need(self, key: str, operator: str, values: list[str]) -> None:
        rule = (key, operator, values)
        if rule not in self.requirements:
            self.requirements.append(rule)

    def render(self) -> tuple[dict[str, str], list[dict[str, Any]]]:
        """(nodeSelector, nodeAffinity match expressions): one wanted value of a key once is a selector."""
        keys = [key for key, _op, _values in self.requirements]
        selector: dict[str, str] = {}
        expressions: list[dict[str, Any]] = []
        for key, operator, values in self.requirements:
            if operator == "In" and len(values) == 1 and keys.count(key) == 1:
                selector[key] = values[0]
            else:
                expressions.append({"key": key, "operator": operator, "values": list(values)})
        return selector, expressions


def _constraint(rules: _NodeRules, constraint: str, report: ConversionReport, service: str) -> None:
    match = _CONSTRAINT.fullmatch(constraint)
    attribute, operator, value = match.groups() if match else ("", "", "")
    key: str | None = None
    if attribute.startswith("node.labels."):
        key = attribute[len("node.labels.") :]
    elif attribute == "node.hostname":
        key = HOSTNAME_LABEL
    elif attribute == "node.platform.os":
        key = OS_LABEL
    elif attribute == "node.platform.arch":
        key, value = ARCH_LABEL, _UNAME_ARCHES.get(value, value)
    if key is None or not is_qualified_name(key) or not _LABEL_VALUE.fullmatch(value):
        report.add(
            service,
            "deploy.placement.constraints",
            f"{constraint.strip()} has no Kubernetes node label to match (node labels, node.hostname, "
            "node.platform.os and node.platform.arch do); left out",
        )
        return
    rules.need(key, "In" if operator == "==" else "NotIn", [value])


def _placement(service: Service, selector: dict[str, str], report: ConversionReport) -> dict[str, Any]:
    """nodeSelector, affinity and topologySpreadConstraints of the pod spec."""
    placement = service.placement
    rules = _NodeRules()
    if placement.classes:
        rules.need(CLASS_LABEL, "In", list(placement.classes))
    if placement.arches:
        rules.need(ARCH_LABEL, "In", [_ARCHES[arch] for arch in placement.arches])
    for key, value in placement.node_labels.items():
        if is_qualified_name(key) and _LABEL_VALUE.fullmatch(value):
            rules.need(key, "In", [value])
        else:
            report.add(
                service.name,
                "deploy.placement.constraints",
                f"node label {key}={value} is not a Kubernetes label; left out",
            )
    for constraint in placement.constraints:
        _constraint(rules, constraint, report, service.name)
    platform = service.options.get("platform")
    if isinstance(platform, str) and platform:
        os_name, _slash, rest = platform.partition("/")
        rules.need(OS_LABEL, "In", [os_name])
        if rest:
            arch = rest.split("/", 1)[0]
            rules.need(ARCH_LABEL, "In", [_UNAME_ARCHES.get(arch, arch)])

    spec: dict[str, Any] = {}
    node_selector, expressions = rules.render()
    if node_selector:
        spec["nodeSelector"] = node_selector
    affinity: dict[str, Any] = {}
    if expressions:
        affinity["nodeAffinity"] = {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": expressions}]}
        }
    if placement.max_replicas_per_node is not None and service.mode != "global":
        if placement.max_replicas_per_node == 1:
            affinity["podAntiAffinity"] = {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": dict(selector)}, "topologyKey": HOSTNAME_LABEL}
                ]
            }
        else:
            report.add(
                service.name,
                "deploy.placement.max_replicas_per_node",
                f"Kubernetes can keep pods apart (at most one per node), not cap them at "
                f"{placement.max_replicas_per_node} per node; left out",
            )
    if affinity:
        spec["affinity"] = affinity
    spread_constraints = []
    for spread in placement.spread:
        if spread.startswith("node.labels."):
            topology_key = spread[len("node.labels.") :]
        elif spread == "node.hostname":
            topology_key = HOSTNAME_LABEL
        else:
            report.add(
                service.name,
                "deploy.placement.preferences",
                f"spread over {spread} has no Kubernetes node label to spread over; left out",
            )
            continue
        spread_constraints.append(
            {
                "maxSkew": 1,
                "topologyKey": topology_key,
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": dict(selector)},
            }
        )
    if spread_constraints:
        spec["topologySpreadConstraints"] = spread_constraints
    return spec
