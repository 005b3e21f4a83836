# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The top-level networks, volumes, configs and secrets of a Swarm stack definition, with what the format lacks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._app_model import App, ConversionReport, FileObject

_NETWORK_KEYS = ("name", "driver_opts", "ipam", "internal", "attachable", "labels")
_VOLUME_KEYS = ("name", "driver_opts", "labels")
_OBJECT_KEYS = ("labels", "driver", "driver_opts", "template_driver")


def _top_level_network(app: App, key: str, report: ConversionReport) -> dict[str, Any]:
    network = app.networks[key]
    if network.external:
        return {"name": network.external_name or key, "external": True}
    rendered: dict[str, Any] = {}
    if network.driver not in (None, "overlay"):
        report.add(
            None, "networks.driver", f"network {key} uses the {network.driver} driver; stacks need overlay networks"
        )
    rendered["driver"] = "overlay"
    for option, value in network.options.items():
        if option not in _NETWORK_KEYS:
            report.add(None, f"networks.{option}", f"network {key}: the stack file format has no {option}; left out")
        elif option == "ipam":
            rendered[option] = _ipam(key, value, report)
        else:
            rendered[option] = value
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


def _top_level_volume(app: App, key: str, report: ConversionReport) -> dict[str, Any]:
    volume = app.volumes[key]
    if volume.external:
        return {"name": volume.external_name or key, "external": True}
    rendered: dict[str, Any] = {}
    if volume.driver is not None:
        rendered["driver"] = volume.driver
    for option, value in volume.options.items():
        if option in _VOLUME_KEYS:
            rendered[option] = value
        else:
            report.add(None, f"volumes.{option}", f"volume {key}: the stack file format has no {option}; left out")
    return rendered


def _top_level_object(kind: str, obj: FileObject, report: ConversionReport) -> dict[str, Any]:
    if obj.external:
        return {"name": obj.name or obj.key, "external": True}
    rendered: dict[str, Any] = {}
    if obj.name is not None:
        rendered["name"] = obj.name
    for option, value in obj.options.items():
        if option in _OBJECT_KEYS:
            rendered[option] = value
        elif not option.startswith("x-"):
            report.add(
                None, f"{kind}.{option}", f"{kind[:-1]} {obj.key}: the stack file format has no {option}; left out"
            )
    return rendered
