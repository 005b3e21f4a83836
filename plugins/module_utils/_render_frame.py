# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every renderer does around its own target: the checks before, the report, the result's common half.

A renderer (`_render_swarm`, `_render_k8s`) opens its report with
`open_report` (the image policy, the allow list, the top-level keys no
target reads), writes its own spec, and returns a `Rendered` subclass that
carries the report, the images and the secret values to keep out of logs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ansible_collections.drover.platform.plugins.module_utils._app_model import (
    App,
    AppError,
    ConversionReport,
    ReportItem,
    blocking,
    check_images,
)

# Service keys the model reads and both targets write (or turn into their own spec): honoured, never reported
# as a whole (their parts may be). `develop` is the laptop's `docker compose watch` loop, which no deployed
# stack has; docker stack deploy ignores it too.
HONOURED_SERVICE_KEYS = frozenset(
    (
        "image build command entrypoint environment env_file ports expose volumes tmpfs healthcheck deploy labels "
        "configs secrets networks user working_dir stop_grace_period restart profiles scale mem_limit "
        "mem_reservation cpus pids_limit develop"
    ).split()
)
# Top-level keys the loader reads: name is the project's name, version is obsolete in Compose itself.
HONOURED_TOP_LEVEL_KEYS = frozenset("version name services networks volumes configs secrets".split())


# Keys of a top-level config or secret the loader reads into its content or name.
FILE_OBJECT_KEYS = frozenset("file environment content external name".split())


class RenderError(AppError):
    """A model a target cannot render with these options."""


@dataclass(kw_only=True)
class Rendered:
    """The half of a renderer's result both targets share: the report, the images, what must stay out of logs."""

    report: list[ReportItem] = field(default_factory=list)
    images: dict[str, str] = field(default_factory=dict)
    secret_values: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> list[ReportItem]:
        return blocking(self.report)


def check_routes(app: App) -> None:
    """Every service with a domain has the port the edge routes to."""
    for service in app.services.values():
        if service.routed and service.port is None:
            raise RenderError(f"service {service.name} has the domain {service.domain} but no port to route to")


def open_report(
    app: App, strict_environments: Iterable[str], allow: Iterable[str], generic_reason: str
) -> ConversionReport:
    """The image policy checked, and the report with the top-level keys the target does not read."""
    check_images(app, strict_environments)
    report = ConversionReport([*app.allow, *allow])
    for key in app.options:
        report.add(None, key, f"{generic_reason}; left out")
    return report


def result_fields(app: App, report: ConversionReport) -> dict[str, object]:
    """The keyword arguments of the `Rendered` half of a result."""
    return {
        "report": report.items,
        "images": {name: str(service.image) for name, service in app.services.items()},
        "secret_values": [value for value in app.secret_values if value],
    }
