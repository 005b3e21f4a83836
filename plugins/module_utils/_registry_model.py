# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the Registry HTTP API v2 speaks, as plain data: media types, image references, digests, the
platforms a manifest covers, and the errors of registry_digest.

* references: parse `host[:port]/repository[:tag][@digest]`;
* platforms: what a manifest list, OCI index or single image covers, and
  whether that satisfies the architectures a fleet needs (the names are
  those of the one architecture table, _arch).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._arch import Platform

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
IMAGE_TYPES = (DOCKER_MANIFEST, OCI_MANIFEST)
# Without the list types in Accept, a registry answers a list's tag with one
# of its images (Distribution 2.8 picks linux/amd64), under another digest.
ACCEPT = ", ".join((*INDEX_TYPES, *IMAGE_TYPES))
IMAGE_CONFIG_TYPES = ("application/vnd.docker.container.image.v1+json", "application/vnd.oci.image.config.v1+json")

DIGEST_ALGORITHMS = {"sha256": 64, "sha512": 128}
NAME_MAX_LENGTH = 255
ATTESTATION_TYPE = "attestation-manifest"


class RegistryError(Exception):
    """Base of this module's errors; the message says what to do."""


class InvalidReference(RegistryError):
    """A string that is not an image reference this module can resolve."""


class RegistryUnreachable(RegistryError):
    """No HTTP answer: refused, timed out, TLS failed, name not resolved."""


class RegistryAuthError(RegistryError):
    """The registry (or its token service) wants credentials it was not given, or refused them."""


class UnexpectedResponse(RegistryError):
    """An answer this client cannot use: a server error, not JSON, a manifest type it does not read."""


class ManifestNotFound(RegistryError):
    """The registry has no manifest for the repository and tag or digest."""


class DigestMismatch(RegistryError):
    """What came back does not hash to the digest it was asked by or sent with."""


class ArchitectureMissing(RegistryError):
    """An image does not cover every platform the fleet needs."""

    def __init__(self, image: str, missing: Sequence[Platform], present: Sequence[Platform]) -> None:
        self.image = image
        self.missing = list(missing)
        self.present = list(present)
        covers = ", ".join(str(platform) for platform in present) if present else "no platform at all"
        super().__init__(f"{image} has no {', '.join(str(p) for p in missing)} image; it covers {covers}")


# --- references ---------------------------------------------------------------------------------------------------

# The grammar of github.com/distribution/reference.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?")
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([0-9a-fA-F]{32,})")


@dataclass(frozen=True)
class ImageReference:
    """host[:port]/repository with a tag, a digest or both; tag_implied when `latest` was not written."""

    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None
    tag_implied: bool = False

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    @property
    def manifest_reference(self) -> str:
        """What to ask the registry for: a digest wins over a tag, as docker does."""
        return self.digest or self.tag or "latest"

    @property
    def is_latest_tag(self) -> bool:
        """Resolved through the tag latest, written or implied; it moves with every push."""
        return self.digest is None and self.tag == "latest"

    def pinned(self, digest: str) -> str:
        return f"{self.name}@{digest}"

    def __str__(self) -> str:
        text = self.name
        if self.tag and not self.tag_implied:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _invalid(text: str, reason: str) -> InvalidReference:
    return InvalidReference(f"{text!r} is not an image reference: {reason}")


def parse_reference(text: str) -> ImageReference:
    """host[:port]/path[:tag][@algorithm:hex]; the host is required (a self-hosted registry, not Docker Hub)."""
    if not isinstance(text, str) or not text:
        raise _invalid(str(text), "it is empty")
    if text != text.strip() or any(character.isspace() for character in text):
        raise _invalid(text, "it contains white space")
    if "://" in text:
        raise _invalid(
            text, "drop the scheme; write host[:port]/repository[:tag], and list plain-HTTP registries in plain_http"
        )
    remainder, at, digest = text.partition("@")
    if at:
        digest = _check_digest(text, digest)
    slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    tag = None
    if colon > slash:
        remainder, tag = remainder[:colon], remainder[colon + 1 :]
        if not _TAG.fullmatch(tag):
            raise _invalid(
                text, f"the tag {tag!r} must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'"
            )
    domain, slash_found, repository = remainder.partition("/")
    if not slash_found or not ("." in domain or ":" in domain or domain == "localhost"):
        raise _invalid(
            text,
            "it names no registry host; write it first, as in registry.example:5000/app:1.0 "
            "(Docker Hub's short names are not resolved here)",
        )
    if not _DOMAIN.fullmatch(domain):
        raise _invalid(text, f"{domain!r} is not a host name or address with an optional port")
    if not repository:
        raise _invalid(text, "the repository is missing after the registry host")
    for component in repository.split("/"):
        if not _PATH_COMPONENT.fullmatch(component):
            raise _invalid(
                text,
                f"the repository part {component!r} must be lowercase letters and digits, "
                "separated by '.', '_', '__' or dashes",
            )
    if len(remainder) > NAME_MAX_LENGTH:
        raise _invalid(text, f"the name is longer than {NAME_MAX_LENGTH} characters")
    if tag is None and not digest:
        return ImageReference(domain, repository, "latest", None, tag_implied=True)
    return ImageReference(domain, repository, tag, digest or None)


def _check_digest(text: str, digest: str) -> str:
    match = _DIGEST.fullmatch(digest)
    if not match:
        raise _invalid(text, f"{digest!r} is not a digest (algorithm:hex, such as sha256:<64 hex digits>)")
    algorithm, encoded = match.groups()
    if algorithm not in DIGEST_ALGORITHMS:
        raise _invalid(text, f"digest algorithm {algorithm!r} is not supported; use sha256 or sha512")
    if len(encoded) != DIGEST_ALGORITHMS[algorithm] or encoded != encoded.lower():
        raise _invalid(text, f"a {algorithm} digest is {DIGEST_ALGORITHMS[algorithm]} lowercase hex digits")
    return digest


def compute_digest(data: bytes, algorithm: str = "sha256") -> str:
    if algorithm not in DIGEST_ALGORITHMS:
        raise UnexpectedResponse(f"digest algorithm {algorithm!r} is not supported; only sha256 and sha512 are")
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


# --- platforms ----------------------------------------------------------------------------------------------------


def missing_platforms(present: Iterable[Platform], required: Iterable[Platform]) -> list[Platform]:
    """The required platforms none of the present ones runs on."""
    usable = [platform for platform in present if not platform.is_unknown]
    return [need.canonical() for need in required if not any(have.runs_on(need) for have in usable)]


@dataclass(frozen=True)
class PlatformImage:
    """One platform an image covers, and the digest of that platform's own manifest."""

    platform: Platform
    digest: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "os": self.platform.os,
            "architecture": self.platform.architecture,
            "variant": self.platform.variant,
            "digest": self.digest,
        }


def _platform_from(data: Mapping[str, Any]) -> Platform | None:
    os_name, architecture = data.get("os"), data.get("architecture")
    if not isinstance(os_name, str) or not isinstance(architecture, str) or not os_name or not architecture:
        return None
    variant = data.get("variant")
    return Platform(os_name, architecture, variant if isinstance(variant, str) and variant else None)


def index_platforms(index: Mapping[str, Any]) -> list[PlatformImage]:
    """The platforms a manifest list or OCI index covers, without attestations (unknown/unknown)."""
    covered = []
    for entry in index.get("manifests") or []:
        if not isinstance(entry, Mapping):
            continue
        annotations = entry.get("annotations") or {}
        if annotations.get("vnd.docker.reference.type") == ATTESTATION_TYPE:
            continue
        platform = _platform_from(entry.get("platform") or {})
        if platform is None or platform.is_unknown:
            continue
        covered.append(PlatformImage(platform, str(entry.get("digest", ""))))
    return covered


def config_platform(config: Mapping[str, Any]) -> Platform | None:
    """The platform an image config (the JSON blob a single manifest points to) says it is for."""
    platform = _platform_from(config)
    return None if platform is None or platform.is_unknown else platform
