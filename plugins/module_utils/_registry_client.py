# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one client of a registry's HTTP API: GET a manifest or a blob, answering the registry's Basic
or Bearer challenge, following redirects, checking every digest.

The HTTP itself goes through an Opener: `open_url_opener` (ansible's
open_url) in the module, a fake replaying recorded exchanges in the tests.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import ssl
import urllib.error
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.client import HTTPException
from typing import Any

from ansible.module_utils.urls import open_url

from ansible_collections.drover.platform.plugins.module_utils._registry_model import (
    ACCEPT,
    IMAGE_TYPES,
    INDEX_TYPES,
    OCI_INDEX,
    OCI_MANIFEST,
    DigestMismatch,
    ManifestNotFound,
    RegistryAuthError,
    RegistryUnreachable,
    UnexpectedResponse,
    compute_digest,
)

USER_AGENT = "drover.platform.registry_digest"
MAX_REDIRECTS = 5
REDIRECT_STATUSES = (301, 302, 303, 307, 308)


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
