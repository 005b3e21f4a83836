# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resolve image references to digests on a self-hosted registry, and check their platforms.

Speaks the Registry HTTP API v2 (Docker Distribution, and the OCI
distribution spec it became) through one small client, so that tests feed it
recorded registry answers:

* references: parse `host[:port]/repository[:tag][@digest]`;
* platforms: what a manifest list, OCI index or single image covers, and
  whether that satisfies the architectures a fleet needs (with the names
  `uname -m`, Debian and Docker use for them);
* RegistryClient: GET a manifest or a blob, answering the registry's Basic
  or Bearer challenge, following redirects, checking every digest;
* resolve / run: one image, and the module's list of them.

The HTTP itself goes through an Opener: `open_url_opener` (ansible's
open_url) in the module, a fake replaying recorded exchanges in the tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import ssl
import urllib.error
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.client import HTTPException
from typing import Any

from ansible.module_utils.urls import open_url

from ansible_collections.drover.platform.plugins.module_utils._arch import Platform, parse_platform
from ansible_collections.drover.platform.plugins.module_utils._outcome import Outcome

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

USER_AGENT = "drover.platform.registry_digest"
MAX_REDIRECTS = 5
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
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


# --- HTTP ---------------------------------------------------------------------------------------------------------


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    url: str

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    @property
    def media_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()


# method, absolute URL, request headers -> the response, whatever its status;
# raises RegistryUnreachable when there is none.
Opener = Callable[[str, str, Mapping[str, str]], HttpResponse]


def describe_connection_error(url: str, error: BaseException, timeout: float | None = None) -> str:
    """Why url gave no HTTP answer, in words that say what to check."""
    reason: Any = error.reason if isinstance(error, urllib.error.URLError) else error
    where = f"cannot reach {url}"
    if isinstance(reason, ssl.SSLCertVerificationError):
        detail = getattr(reason, "verify_message", None) or str(reason)
        return (
            f"{where}: TLS certificate verification failed ({detail}); give the CA certificate that signed the "
            "registry's certificate with ca_path (validate_certs=false only for a throwaway lab)"
        )
    if isinstance(reason, ssl.SSLError):
        text = getattr(reason, "reason", None) or str(reason)
        hint = ""
        if "WRONG_VERSION_NUMBER" in str(reason) or "wrong version number" in str(reason).lower():
            hint = "; the registry may speak plain HTTP: list it in plain_http"
        return f"{where}: TLS handshake failed ({text}){hint}"
    if isinstance(reason, ConnectionRefusedError):
        return f"{where}: connection refused; is the registry running and listening on that port?"
    if isinstance(reason, socket.gaierror):
        host = urllib.parse.urlsplit(url).hostname
        return f"{where}: cannot resolve the host name {host} ({reason.strerror or reason})"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        seconds = f" within {timeout:g} seconds" if timeout else ""
        return f"{where}: timed out, no answer{seconds} (raise timeout, or check firewalls and routes)"
    if isinstance(reason, OSError):
        return f"{where}: {reason.strerror or reason}"
    return f"{where}: {reason}"


def open_url_opener(
    timeout: float = 30,
    validate_certs: bool = True,
    ca_path: str | None = None,
    open_url_function: Callable[..., Any] | None = None,
) -> Opener:
    """An Opener on ansible's open_url: no redirects followed (the client does, see RegistryClient), no netrc."""

    def opener(method: str, url: str, headers: Mapping[str, str]) -> HttpResponse:
        fetch = open_url_function or open_url
        try:
            response = fetch(
                url,
                method=method,
                headers=dict(headers),
                timeout=timeout,
                validate_certs=validate_certs,
                ca_path=ca_path,
                follow_redirects="none",
                http_agent=USER_AGENT,
                use_netrc=False,
            )
            with response:
                return HttpResponse(response.status, list(response.headers.items()), response.read(), url)
        except urllib.error.HTTPError as error:
            try:
                body = error.read() or b""
            except (OSError, HTTPException):
                body = b""
            headers_sent = list(error.headers.items()) if error.headers is not None else []
            return HttpResponse(error.code, headers_sent, body, url)
        except (urllib.error.URLError, OSError, HTTPException) as error:
            raise RegistryUnreachable(describe_connection_error(url, error, timeout)) from None

    return opener


# --- authentication -----------------------------------------------------------------------------------------------

_TOKEN_CHARS = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_QUOTED_STRING = r'"(?:[^"\\]|\\.)*"'
_AUTH_PARAM = re.compile(rf"\s*({_TOKEN_CHARS})\s*=\s*({_TOKEN_CHARS}|{_QUOTED_STRING})\s*(?:,|$)")
_AUTH_SCHEME = re.compile(rf"\s*({_TOKEN_CHARS})(?:\s+|$)")


@dataclass
class Challenge:
    """One challenge of a WWW-Authenticate header: its scheme (lowercase) and parameters."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        params = ",".join(f'{key}="{value}"' for key, value in self.params.items())
        return f"{self.scheme.capitalize()} {params}".strip()


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_challenges(headers: Iterable[str]) -> list[Challenge]:
    """The challenges of WWW-Authenticate headers (RFC 7235: several per header, comma-separated)."""
    challenges: list[Challenge] = []
    for header in headers:
        position = 0
        current: Challenge | None = None
        while position < len(header):
            if header[position] in ", \t":
                position += 1
                continue
            param = _AUTH_PARAM.match(header, position)
            if param and current is not None:
                current.params[param.group(1).lower()] = _unquote(param.group(2))
                position = param.end()
                continue
            scheme = _AUTH_SCHEME.match(header, position)
            if not scheme:
                break
            current = Challenge(scheme.group(1).lower())
            challenges.append(current)
            position = scheme.end()
    return challenges


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()


def registry_errors(body: bytes) -> str:
    """The registry's own error codes and messages, or the start of what it sent."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if isinstance(data, Mapping) and isinstance(data.get("errors"), list):
        parts = []
        for item in data["errors"]:
            if isinstance(item, Mapping):
                parts.append(": ".join(str(item[key]) for key in ("code", "message") if item.get(key)))
        if any(parts):
            return "; ".join(part for part in parts if part)
    text = body.decode("utf-8", "replace").strip()
    return text[:200] if text else "no body"


# --- the client ---------------------------------------------------------------------------------------------------


@dataclass
class Manifest:
    media_type: str
    digest: str
    data: dict[str, Any]

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


class RegistryClient:
    """GET manifests and blobs from one registry, answering its Basic or Bearer challenges.

    Basic credentials, once asked for, go with every later request; Bearer
    tokens are fetched from the challenge's realm per scope and reused.
    Redirects (to blob storage) are followed by hand, dropping the
    Authorization header when the host changes, as docker does.
    """

    def __init__(
        self, registry: str, opener: Opener, plain_http: bool = False, credentials: Credentials | None = None
    ) -> None:
        self.registry = registry
        self.opener = opener
        self.base_url = f"{'http' if plain_http else 'https'}://{registry}"
        self.plain_http = plain_http
        self.credentials = credentials
        self._basic: str | None = None
        self._tokens: dict[str, str] = {}

    # -- requests --

    def get(self, path: str, scope: str, accept: str | None = None) -> HttpResponse:
        """GET path on the registry with whatever authorization it asks for; 401 and 403 raise."""
        headers = {"Accept": accept} if accept else {}
        url = self.base_url + path
        response = self._follow("GET", url, {**headers, **self._authorization(scope)})
        if response.status == 401:
            authorization = self._answer(response, scope)
            response = self._follow("GET", url, {**headers, **authorization})
            if response.status == 401:
                raise RegistryAuthError(self._refused(response, scope))
        if response.status == 403:
            raise RegistryAuthError(
                f"{self.registry} denied GET {path} ({registry_errors(response.body)}); the account lacks pull access"
            )
        if response.status == 400 and self.plain_http and b"HTTP request to an HTTPS server" in response.body:
            raise UnexpectedResponse(f"{self.registry} speaks HTTPS: remove it from plain_http")
        return response

    def _follow(self, method: str, url: str, headers: Mapping[str, str]) -> HttpResponse:
        current = dict(headers)
        for _hop in range(MAX_REDIRECTS + 1):
            response = self.opener(method, url, current)
            location = response.header("Location")
            if response.status not in REDIRECT_STATUSES or not location:
                return response
            target = urllib.parse.urljoin(url, location)
            if urllib.parse.urlsplit(target).netloc != urllib.parse.urlsplit(url).netloc:
                current = {key: value for key, value in current.items() if key.lower() != "authorization"}
            url = target
        raise UnexpectedResponse(f"{self.registry}: more than {MAX_REDIRECTS} redirects from {method} {url}")

    def _authorization(self, scope: str) -> dict[str, str]:
        if self._basic:
            return {"Authorization": self._basic}
        if scope in self._tokens:
            return {"Authorization": f"Bearer {self._tokens[scope]}"}
        return {}

    def _answer(self, response: HttpResponse, scope: str) -> dict[str, str]:
        """The Authorization header that answers the registry's challenge."""
        challenges = parse_challenges(response.header_values("WWW-Authenticate"))
        bearer = next((c for c in challenges if c.scheme == "bearer"), None)
        basic = next((c for c in challenges if c.scheme == "basic"), None)
        if bearer is not None:
            token = self._fetch_token(bearer, scope)
            return {"Authorization": f"Bearer {token}"}
        if basic is not None:
            if self.credentials is None:
                raise RegistryAuthError(f"{self.registry} asks for credentials ({basic}); give username and password")
            self._basic = self.credentials.basic()
            return {"Authorization": self._basic}
        offered = ", ".join(str(c) for c in challenges) or "no WWW-Authenticate challenge"
        raise RegistryAuthError(f"{self.registry} wants authentication this client does not speak ({offered})")

    def _fetch_token(self, challenge: Challenge, scope: str) -> str:
        """A Bearer token from the challenge's realm (Docker's token protocol), for the challenge's scope."""
        realm = challenge.params.get("realm")
        if not realm:
            raise RegistryAuthError(f"{self.registry} sent a Bearer challenge without a realm ({challenge})")
        wanted = challenge.params.get("scope") or scope
        query = {"scope": wanted}
        if challenge.params.get("service"):
            query["service"] = challenge.params["service"]
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
        headers = {"Authorization": self.credentials.basic()} if self.credentials else {}
        response = self._follow("GET", url, headers)
        if response.status == 401:
            who = f"the credentials of {self.credentials.username!r}" if self.credentials else "anonymous access"
            raise RegistryAuthError(
                f"the token service {realm} of {self.registry} refused {who} ({registry_errors(response.body)})"
            )
        if response.status != 200:
            raise UnexpectedResponse(
                f"the token service {realm} of {self.registry} answered {response.status} "
                f"({registry_errors(response.body)})"
            )
        try:
            data = json.loads(response.body.decode("utf-8"))
            token = data.get("token") or data.get("access_token")
        except (UnicodeDecodeError, ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise UnexpectedResponse(f"the token service {realm} of {self.registry} sent no token")
        self._tokens[wanted] = token
        if wanted != scope:
            self._tokens[scope] = token
        return token

    def _refused(self, response: HttpResponse, scope: str) -> str:
        challenges = parse_challenges(response.header_values("WWW-Authenticate"))
        detail = registry_errors(response.body)
        if self._basic:
            return f"{self.registry} refused the credentials of {self.credentials.username!r} ({detail})"
        bearer = next((c for c in challenges if c.scheme == "bearer"), None)
        error = f"{bearer.params['error']}, " if bearer and bearer.params.get("error") else ""
        message = f"{self.registry} refused the token from its token service for {scope} ({error}{detail})"
        if self.credentials is None:
            message += "; give username and password"
        return message

    # -- the API --

    def manifest(self, repository: str, reference: str) -> Manifest:
        """GET /v2/<repository>/manifests/<reference>, checked against its digest."""
        path = f"/v2/{repository}/manifests/{reference}"
        response = self.get(path, f"repository:{repository}:pull", ACCEPT)
        if response.status == 404:
            raise ManifestNotFound(
                f"{self.registry} has no manifest {repository}{'@' if ':' in reference else ':'}{reference} "
                f"({registry_errors(response.body)})"
            )
        if response.status != 200:
            raise UnexpectedResponse(
                f"{self.registry} answered {response.status} to GET {path} ({registry_errors(response.body)})"
            )
        digest = self._checked_digest(response, f"the manifest {repository}:{reference}", reference)
        try:
            data = json.loads(response.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            data = None
        if not isinstance(data, dict):
            raise UnexpectedResponse(f"{self.registry} sent a manifest for {repository}:{reference} that is not JSON")
        media_type = manifest_media_type(response.media_type, data)
        if media_type not in INDEX_TYPES + IMAGE_TYPES:
            raise UnexpectedResponse(
                f"{self.registry} sent {repository}:{reference} as {media_type or 'an unnamed type'}, which this "
                "module does not read (schema 1?); push the image again with a current docker or buildx"
            )
        return Manifest(media_type, digest, data)

    def blob(self, repository: str, digest: str) -> bytes:
        """GET /v2/<repository>/blobs/<digest>, checked against the digest."""
        path = f"/v2/{repository}/blobs/{digest}"
        response = self.get(path, f"repository:{repository}:pull")
        if response.status != 200:
            raise UnexpectedResponse(
                f"{self.registry} answered {response.status} to GET {path} ({registry_errors(response.body)})"
            )
        algorithm = digest.split(":", 1)[0]
        computed = compute_digest(response.body, algorithm)
        if computed != digest:
            raise DigestMismatch(
                f"{self.registry} sent blob {digest} of {repository} whose content hashes to {computed}; "
                "something between here and the registry changed it"
            )
        return response.body

    def _checked_digest(self, response: HttpResponse, what: str, reference: str) -> str:
        """The digest of the body, which must match Docker-Content-Digest and a digest asked by."""
        sent = response.header("Docker-Content-Digest")
        asked = reference if ":" in reference else None
        algorithm = (asked or sent or "sha256").split(":", 1)[0]
        computed = compute_digest(response.body, algorithm)
        if asked and computed != asked:
            raise DigestMismatch(
                f"{self.registry} sent {what} whose content hashes to {computed}, not the digest "
                "asked for; something between here and the registry changed it"
            )
        if sent and sent.split(":", 1)[0] == algorithm and sent != computed:
            raise DigestMismatch(
                f"{self.registry} sent {what} whose content hashes to {computed}, but its "
                f"Docker-Content-Digest header says {sent}; something between here and the "
                "registry changed it"
            )
        return computed


def manifest_media_type(content_type: str, data: Mapping[str, Any]) -> str:
    """The Content-Type the registry sent, or the manifest's own mediaType, or what its shape says."""
    if content_type in INDEX_TYPES + IMAGE_TYPES:
        return content_type
    own = data.get("mediaType")
    if isinstance(own, str) and own:
        return own
    if data.get("schemaVersion") == 2 and "manifests" in data:
        return OCI_INDEX
    if data.get("schemaVersion") == 2 and "config" in data:
        return OCI_MANIFEST
    return content_type


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
