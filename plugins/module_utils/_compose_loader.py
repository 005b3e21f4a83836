# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Compose file read the way `docker compose config` reads it, plus an overlay: the `App`.

`load_app` reads a Compose file (interpolation, `.env` or the environment's
env files, profiles, service `env_file`), applies the overlay
(`_app_overlay`), and returns an `App` (`_app_model`).

Variables for interpolation come, highest first, from the caller's
``variables``, the overlay's ``variables``, then the env files; the
controller's environment is never read unless passed in as ``variables``.
Values from the overlay are taken literally, never interpolated.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    DEFAULT_NETWORK,
    App,
    AppDefinitionError,
    FileObject,
    Network,
    OverlayError,
    Volume,
)
from ansible_collections.drover.platform.plugins.module_utils._app_overlay import (
    Overlay,
    _active_profiles,
    _apply_overlay,
    parse_overlay,
)
from ansible_collections.drover.platform.plugins.module_utils._compose_interpolation import (
    interpolate,
    project_variables,
)
from ansible_collections.drover.platform.plugins.module_utils._compose_schema import check_compose
from ansible_collections.drover.platform.plugins.module_utils._compose_service import (
    _Loader,
)
from ansible_collections.drover.platform.plugins.module_utils._compose_values import (
    _mapping,
    _project_path,
    _read_text,
    _scalar_text,
    _string_list,
)

try:
    import yaml

    HAS_YAML = True
except ImportError:  # only the controller runs this, and ansible-core needs PyYAML there
    HAS_YAML = False

_TOP_LEVEL_KEYS = frozenset("version name services networks volumes configs secrets include".split())


# --- YAML, read as Compose reads it ------------------------------------------

if HAS_YAML:

    class _ComposeLoader(yaml.SafeLoader):
        """YAML 1.2 scalars, as Compose reads them: yes/no/on stay strings, 22:22 is not base 60, no dates.

        A key written twice in one mapping is refused, as Compose refuses it (PyYAML keeps the last one);
        a key given again next to a merge key (<<) overrides the merged one, as YAML means.
        """

        def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
            seen: dict[Any, Any] = {}
            for key_node, _value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                if key in seen:
                    raise yaml.YAMLError(
                        f"line {key_node.start_mark.line + 1}: the key {key} is written twice in one mapping "
                        f"(first on line {seen[key]})"
                    )
                seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep)

    _dropped_tags = {
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:timestamp",
    }
    _ComposeLoader.yaml_implicit_resolvers = {
        first: [(tag, pattern) for tag, pattern in resolvers if tag not in _dropped_tags]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _ComposeLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
    )
    _ComposeLoader.add_implicit_resolver(
        "tag:yaml.org,2002:int",
        re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*)|0[0-7]+|0x[0-9a-fA-F]+)$"),
        list("-+0123456789"),
    )
    _ComposeLoader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        list("-+0123456789."),
    )


def parse_compose(text: str, where: str) -> dict[str, Any]:
    """A Compose file's YAML as data (YAML 1.2 scalars; anchors and merge keys work)."""
    if not HAS_YAML:
        raise AppDefinitionError("reading a Compose file needs PyYAML on the controller")
    try:
        data = yaml.load(text, Loader=_ComposeLoader)
    except yaml.YAMLError as failure:
        raise AppDefinitionError(f"{where} is not valid YAML: {failure}") from None
    if not isinstance(data, dict):
        raise AppDefinitionError(f"{where} does not hold a Compose mapping (services: ...)")
    return data


def _parse_top_level(kind: str, key: str, value: Any) -> tuple[bool, str | None, str | None, dict[str, Any]]:
    """(external, external name, driver, other options) of a top-level network or volume."""
    data = {
        option: item
        for option, item in _mapping(value, f"{kind}.{key}", AppDefinitionError).items()
        if not option.startswith("x-")
    }
    external = data.pop("external", False)
    external_name = None
    if isinstance(external, Mapping):
        external_name = external.get("name")
        external = True
    name = data.pop("name", None)
    driver = data.pop("driver", None)
    if external:
        external_name = str(external_name or name or key)
    elif name is not None:
        data["name"] = name
    return bool(external), external_name, driver, data


def _file_object(
    kind: str,
    key: str,
    value: Any,
    loader: _Loader,
    overlay_content: str | None,
) -> FileObject:
    where = f"{kind}.{key}"
    data = _mapping(value, where, AppDefinitionError)
    external = data.pop("external", False)
    name = data.pop("name", None)
    sources = [option for option in ("file", "environment", "content") if option in data]
    if external:
        if overlay_content is not None:
            raise OverlayError(f"overlay {kind}.{key}: {where} is external in the Compose file; it takes no content")
        external_name = external.get("name") if isinstance(external, Mapping) else None
        return FileObject(key=key, source="external", external=True, name=str(external_name or name or key))
    if len(sources) > 1:
        raise AppDefinitionError(f"{where} has {' and '.join(sources)}; give one")
    for option in sources:
        data.pop(option)
    obj = FileObject(key=key, source="overlay", name=None if name is None else str(name), options=data)
    if overlay_content is not None:
        obj.content = overlay_content
    elif "file" in sources:
        path = _project_path(loader.project_dir, str(value["file"]))
        obj.source = "file"
        obj.content = _read_file(path, f"the file of {where}")
    elif "environment" in sources:
        variable = str(value["environment"])
        obj.source = "environment"
        obj.content = loader.variables.get(variable)
        if obj.content is None:
            raise AppDefinitionError(f"{where} comes from variable {variable}, which is not set")
    elif "content" in sources:
        obj.source = "content"
        obj.content = _scalar_text(value["content"])
    else:
        raise AppDefinitionError(
            f"{where} has no file, environment or content; give its content in overlay {kind}.{key}"
        )
    return obj


def _read_file(path: str, what: str) -> str | bytes:
    """A config's or secret's file: text when it is UTF-8, else its bytes."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as failure:
        raise AppDefinitionError(f"cannot read {what} ({path}): {failure.strerror or failure}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


def _normalise_project_name(name: str) -> str:
    normal = re.sub(r"[^a-z0-9_-]", "", name.lower()).lstrip("_-")
    return normal or "app"


def _check_references(app: App, compose: Mapping[str, Any]) -> None:
    declared = {
        kind: _mapping(compose.get(kind), kind, AppDefinitionError)
        for kind in ("networks", "volumes", "configs", "secrets")
    }
    every_service = _mapping(compose.get("services"), "services", AppDefinitionError)
    for service in app.services.values():
        where = f"services.{service.name}"
        for network in service.networks:
            if network != DEFAULT_NETWORK and network not in declared["networks"]:
                raise AppDefinitionError(
                    f"{where} uses network {network}, which the top-level networks: does not define"
                )
        for mount in service.mounts:
            if mount.type == "volume" and mount.source and mount.source not in declared["volumes"]:
                raise AppDefinitionError(
                    f"{where} mounts volume {mount.source}, which the top-level volumes: does not define"
                )
        for kind in ("configs", "secrets"):
            for ref in getattr(service, kind):
                if ref.source not in declared[kind]:
                    raise AppDefinitionError(
                        f"{where} uses {kind[:-1]} {ref.source}, which the top-level {kind}: does not define"
                    )
        for dependency in service.depends_on:
            if dependency.service not in every_service:
                raise AppDefinitionError(
                    f"{where} depends on {dependency.service}, which the Compose file does not define"
                )
            if dependency.service in app.disabled_services and dependency.required:
                raise AppDefinitionError(
                    f"{where} depends on {dependency.service}, which the active profiles "
                    f"({', '.join(app.profiles) or 'none'}) switch off"
                )


def _build_app(
    compose: Mapping[str, Any],
    overlay: Overlay,
    project_dir: str,
    variables: Mapping[str, str] | None,
    source: str | None,
) -> App:
    project_dir = os.path.abspath(project_dir)
    explicit = {**overlay.variables, **{key: _scalar_text(value) for key, value in (variables or {}).items()}}
    resolved = project_variables(project_dir, overlay.env_files, explicit)
    top_level = {key: value for key, value in compose.items() if not str(key).startswith("x-")}
    if "include" in top_level:
        raise AppDefinitionError("include: is not resolved by this loader; merge the files into one Compose file")
    interpolated, unset = interpolate(top_level, resolved)
    check_compose(interpolated)
    warnings = [f"variable {name} is not set; it stands for an empty string ({where})" for name, where in unset.items()]

    services = _mapping(interpolated.get("services"), "services", AppDefinitionError)
    if not services:
        raise AppDefinitionError("the Compose file has no services")
    name = interpolated.get("name")
    app = App(
        name=_normalise_project_name(str(name) if name else os.path.basename(project_dir)),
        environment=overlay.environment,
        project_dir=project_dir,
        profiles=_active_profiles(overlay, resolved),
        allow=list(overlay.allow),
        options={key: value for key, value in interpolated.items() if key not in _TOP_LEVEL_KEYS},
        warnings=warnings,
    )
    loader = _Loader(project_dir, resolved, app.warnings)
    profiles_of: dict[str, list[str]] = {}
    for service_name, raw in services.items():
        profiles = (
            _string_list(raw.get("profiles") or [], f"services.{service_name}.profiles", AppDefinitionError)
            if isinstance(raw, Mapping)
            else []
        )
        profiles_of[service_name] = profiles
        if profiles and not set(profiles) & set(app.profiles):
            app.disabled_services.append(service_name)
            continue
        app.services[service_name] = loader.service(service_name, raw)

    for service_name, service_overlay in overlay.services.items():
        if service_name in app.disabled_services:
            raise OverlayError(
                f"overlay services.{service_name}: the service is switched off by its profiles "
                f"({', '.join(profiles_of[service_name])}; active: {', '.join(app.profiles) or 'none'}): "
                "add one of them to overlay.profiles, or drop the service from the overlay"
            )
        if service_name not in app.services:
            raise OverlayError(
                f"overlay services.{service_name}: the Compose file has no such service (it has {', '.join(services)})"
            )
        _apply_overlay(app.services[service_name], service_overlay)
    for service in app.services.values():
        if not service.image:
            hint = " (it has only build:; swarm and kubernetes cannot build)" if service.build is not None else ""
            raise AppDefinitionError(
                f"service {service.name} has no image{hint}: give overlay services.{service.name}.image"
            )

    if not app.services:
        raise AppDefinitionError(
            f"every service is switched off by its profiles (active: {', '.join(app.profiles) or 'none'})"
        )
    _check_references(app, interpolated)
    _collect_objects(app, interpolated, overlay, loader)
    return app


def build_app(
    compose: Mapping[str, Any],
    overlay: Overlay,
    project_dir: str,
    variables: Mapping[str, str] | None = None,
    source: str | None = None,
) -> App:
    """The model from Compose data already read (not yet interpolated) and a parsed overlay.

    source names the Compose file in the errors of the Compose file (not in those of the overlay).
    """
    try:
        return _build_app(compose, overlay, project_dir, variables, source)
    except AppDefinitionError as error:
        if source is None or str(error).startswith(source):
            raise
        raise AppDefinitionError(f"{source}: {error}") from None


def _collect_objects(app: App, compose: Mapping[str, Any], overlay: Overlay, loader: _Loader) -> None:
    """The top-level networks, volumes, configs and secrets the enabled services use."""
    used_networks = {name for service in app.services.values() for name in service.networks}
    used_volumes = {m.source for s in app.services.values() for m in s.mounts if m.type == "volume" and m.source}
    for key, value in _mapping(compose.get("networks"), "networks", AppDefinitionError).items():
        if key in used_networks or (key == DEFAULT_NETWORK and any(not s.networks for s in app.services.values())):
            external, external_name, driver, options = _parse_top_level("networks", key, value)
            app.networks[key] = Network(key, external, external_name, None if driver is None else str(driver), options)
    for key, value in _mapping(compose.get("volumes"), "volumes", AppDefinitionError).items():
        if key in used_volumes:
            external, external_name, driver, options = _parse_top_level("volumes", key, value)
            app.volumes[key] = Volume(key, external, external_name, None if driver is None else str(driver), options)
    for kind in ("configs", "secrets"):
        declared = _mapping(compose.get(kind), kind, AppDefinitionError)
        given: dict[str, str] = getattr(overlay, kind)
        undeclared = [key for key in given if key not in declared]
        if undeclared:
            raise OverlayError(
                f"overlay {kind} gives {', '.join(undeclared)}, which the top-level {kind}: of the Compose file "
                "does not declare"
            )
        used = {ref.source for service in app.services.values() for ref in getattr(service, kind)}
        objects = getattr(app, kind)
        for key, value in declared.items():
            if key in used:
                objects[key] = _file_object(kind, key, value, loader, given.get(key))


def load_app(
    compose_file: str,
    overlay: Overlay | Mapping[str, Any],
    project_dir: str | None = None,
    variables: Mapping[str, str] | None = None,
) -> App:
    """Read compose_file, apply the overlay, return the App.

    project_dir (default: the Compose file's directory) is where .env, env
    files, env_file entries and config/secret files are found. variables win
    over every other source of interpolation variables.
    """
    if not isinstance(overlay, Overlay):
        overlay = parse_overlay(overlay)
    path = os.path.abspath(compose_file)
    compose = parse_compose(_read_text(path, "the Compose file"), path)
    return build_app(compose, overlay, project_dir or os.path.dirname(path), variables, path)
