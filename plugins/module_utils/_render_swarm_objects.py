# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The top-level networks, volumes, configs and secrets of a Swarm stack definition, with what the format lacks."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    ConversionReport,
    FileObject,
    Network,
    Volume,
)

_NETWORK_KEYS = ("name", "driver_opts", "ipam", "internal", "attachable", "labels")
_VOLUME_KEYS = ("name", "driver_opts", "labels")
_OBJECT_KEYS = ("labels", "driver", "driver_opts", "template_driver")


def _stack_options(
    options: Mapping[str, Any],
    honoured: Collection[str],
    report: ConversionReport,
    section: str,
    label: str,
    convert: Mapping[str, Callable[[Any], Any]] | None = None,
    skip_extensions: bool = False,
) -> dict[str, Any]:
    """The options of a top-level object the stack file format has, each converted where convert says.

    Every other option is reported as left out (under section.option), in the order written; with
    skip_extensions, x- keys are left out without a word.
    """
    convert = convert or {}
    kept: dict[str, Any] = {}
    for option, value in options.items():
        if option in honoured:
            kept[option] = convert[option](value) if option in convert else value
        elif not (skip_extensions and option.startswith("x-")):
            report.add(None, f"{section}.{option}", f"{label}: the stack file format has no {option}; left out")
    return kept


def _top_level(key: str, declared: Network | Volume, report: ConversionReport) -> dict[str, Any]:
    """A top-level network or volume of the stack file: an external one by its name, else what the format keeps."""
    if declared.external:
        return {"name": declared.external_name or key, "external": True}
    if isinstance(declared, Network):
        return _own_network(key, declared, report)
    return _own_volume(key, declared, report)


def _own_network(key: str, network: Network, report: ConversionReport) -> dict[str, Any]:
    if network.driver not in (None, "overlay"):
        report.add(
            None, "networks.driver", f"network {key} uses the {network.driver} driver; stacks need overlay networks"
        )
    rendered: dict[str, Any] = {"driver": "overlay"}
    ipam = {"ipam": lambda value: _ipam(key, value, report)}
    rendered.update(_stack_options(network.options, _NETWORK_KEYS, report, "networks", f"network {key}", ipam))
    return rendered


def _ipam(key: str, value: Any, report: ConversionReport) -> dict[str, Any]:
    ipam: dict[str, Any] = {}
    if isinstance(value, Mapping):
        if value.get("driver"):
            ipam["driver"] = value["driver"]
        configs = []
        for entry in value.get("config") or []:
            if isinstance(entry, Mapping) and entry.get("subnet"):
                configs.append({"subnet": entry["subnet"]})
            if isinstance(entry, Mapping) and set(entry) - {"subnet"}:
                report.add(None, "networks.ipam", f"network {key}: a stack network's IPAM takes a subnet only")
        if configs:
            ipam["config"] = configs
    return ipam


def _own_volume(key: str, volume: Volume, report: ConversionReport) -> dict[str, Any]:
    rendered: dict[str, Any] = {} if volume.driver is None else {"driver": volume.driver}
    rendered.update(_stack_options(volume.options, _VOLUME_KEYS, report, "volumes", f"volume {key}"))
    return rendered


def _top_level_object(kind: str, obj: FileObject, report: ConversionReport) -> dict[str, Any]:
    if obj.external:
        return {"name": obj.name or obj.key, "external": True}
    rendered: dict[str, Any] = {}
    if obj.name is not None:
        rendered["name"] = obj.name
    rendered.update(
        _stack_options(obj.options, _OBJECT_KEYS, report, kind, f"{kind[:-1]} {obj.key}", skip_extensions=True)
    )
    return rendered
