# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resolve image references to digests on a self-hosted registry, and check their platforms.

The registry_digest module's plan: each image resolved through the one
registry client (_registry_client) and checked against the architectures a
fleet needs, on the data of _registry_model; one missing image or platform
does not stop the others from being reported.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._arch import Platform, parse_platform
from ansible_collections.drover.platform.plugins.module_utils._outcome import Outcome
from ansible_collections.drover.platform.plugins.module_utils._registry_client import (
    Credentials,
    Opener,
    RegistryClient,
)
from ansible_collections.drover.platform.plugins.module_utils._registry_model import (
    IMAGE_CONFIG_TYPES,
    ArchitectureMissing,
    DigestMismatch,
    ImageReference,
    ManifestNotFound,
    PlatformImage,
    UnexpectedResponse,
    config_platform,
    index_platforms,
    missing_platforms,
    parse_reference,
)

# --- resolution ---------------------------------------------------------------------------------------------------


@dataclass
class Resolution:
    """An image reference resolved: its digest, manifest type and the platforms it covers."""

    given: str
    reference: ImageReference
    digest: str
    media_type: str
    platforms: list[PlatformImage]
    missing: list[Platform] = field(default_factory=list)

    @property
    def pinned(self) -> str:
        return self.reference.pinned(self.digest)

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.given,
            "registry": self.reference.registry,
            "repository": self.reference.repository,
            "tag": self.reference.tag,
            "digest": self.digest,
            "pinned": self.pinned,
            "media_type": self.media_type,
            "platforms": [platform.as_dict() for platform in self.platforms],
            "is_latest_tag": self.reference.is_latest_tag,
            "missing_architectures": [str(platform) for platform in self.missing],
        }


def resolve(client: RegistryClient, given: str, reference: ImageReference) -> Resolution:
    """The digest of reference and its platforms: a list's entries, or a single image's config."""
    manifest = client.manifest(reference.repository, reference.manifest_reference)
    if manifest.is_index:
        platforms = index_platforms(manifest.data)
    else:
        platforms = []
        config = manifest.data.get("config") or {}
        if isinstance(config, Mapping) and config.get("mediaType") in IMAGE_CONFIG_TYPES and config.get("digest"):
            blob = client.blob(reference.repository, str(config["digest"]))
            try:
                data = json.loads(blob.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                data = None
            if not isinstance(data, Mapping):
                raise UnexpectedResponse(f"the image config {config['digest']} of {given} is not JSON")
            platform = config_platform(data)
            if platform is not None:
                platforms = [PlatformImage(platform, manifest.digest)]
    return Resolution(given, reference, manifest.digest, manifest.media_type, platforms)


def check_architectures(resolution: Resolution, required: Sequence[Platform]) -> None:
    """Raise ArchitectureMissing when the image lacks a required platform (recorded in resolution.missing)."""
    present = [entry.platform for entry in resolution.platforms]
    resolution.missing = missing_platforms(present, required)
    if resolution.missing:
        raise ArchitectureMissing(resolution.given, resolution.missing, present)


# --- the module ---------------------------------------------------------------------------------------------------


@dataclass
class Options:
    images: list[str]
    required_architectures: list[str] = field(default_factory=list)
    username: str | None = None
    password: str | None = None
    ca_path: str | None = None
    validate_certs: bool = True
    timeout: float = 30
    plain_http: list[str] = field(default_factory=list)


# Problems with one image: the others are still resolved and reported.
IMAGE_PROBLEMS = (ManifestNotFound, DigestMismatch, ArchitectureMissing)


def run(options: Options, opener: Opener) -> Outcome:
    """Resolve every image (each distinct reference once), check its platforms, and report.

    Bad references and architecture names fail before any request; an
    unreachable registry or refused credentials stop at once (RegistryError);
    a missing image or platform is collected, so the message names them all.
    """
    references = [(given, parse_reference(given)) for given in options.images]
    required = list(dict.fromkeys(parse_platform(name) for name in options.required_architectures))
    credentials = Credentials(options.username, options.password or "") if options.username else None
    plain_http = set(options.plain_http)
    clients: dict[str, RegistryClient] = {}
    resolved: dict[str, Resolution] = {}
    problems: list[str] = []
    for given, reference in references:
        if given in resolved:
            continue
        client = clients.get(reference.registry)
        if client is None:
            client = RegistryClient(reference.registry, opener, reference.registry in plain_http, credentials)
            clients[reference.registry] = client
        try:
            resolved[given] = resolve(client, given, reference)
            check_architectures(resolved[given], required)
        except IMAGE_PROBLEMS as problem:
            problems.append(str(problem))
    result: dict[str, Any] = {
        "changed": False,
        "images": [resolution.as_dict() for resolution in resolved.values()],
        "pinned": {given: resolution.pinned for given, resolution in resolved.items()},
    }
    return Outcome(result, "; ".join(problems) or None)
