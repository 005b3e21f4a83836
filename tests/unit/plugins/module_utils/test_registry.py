# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""registry_digest's logic, filter and module on a real registry's recorded answers.

The fixtures under tests/unit/fixtures/registry/ were recorded by
tools/record-registry-fixtures from Debian's docker-registry (Distribution
2.8.2) with images it pushed itself; pushed.json says what it pushed, with
the sha256 of the bytes it sent. No network here: a fake opener answers each
request with the recorded exchange for the same method, path, query, Accept
and authorization, and refuses any request that was not recorded. Expected
values come from the Registry API and what was pushed, never from this code.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.response
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.drover.platform.plugins.module_utils import _registry_client
from ansible_collections.drover.platform.plugins.module_utils._arch import InvalidPlatform, parse_platform
from ansible_collections.drover.platform.plugins.module_utils._registry import (
    Options,
    Resolution,
    check_architectures,
    resolve,
    run,
)
from ansible_collections.drover.platform.plugins.module_utils._registry_client import (
    Challenge,
    Credentials,
    HttpResponse,
    RegistryClient,
    open_url_opener,
    parse_challenges,
)
from ansible_collections.drover.platform.plugins.module_utils._registry_model import (
    ACCEPT,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    ArchitectureMissing,
    DigestMismatch,
    InvalidReference,
    ManifestNotFound,
    RegistryAuthError,
    RegistryUnreachable,
    UnexpectedResponse,
    index_platforms,
    parse_reference,
)
from ansible_collections.drover.platform.plugins.modules import registry_digest

# The run_main fixture of tests/unit/conftest.py.
RunMain = Callable[..., dict[str, Any]]

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "registry"
REGISTRY = "registry.lab:5000"
H64 = "0123456789abcdef" * 4
H128 = H64 * 2


def read_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


PUSHED = read_json("pushed.json")
TAGS = PUSHED["tags"]
REALM = PUSHED["token_realm"]
REPOSITORY = PUSHED["repository"]


def pushed_digest(media_type: str, platforms: list[str]) -> str:
    """The digest of the manifest pushed with that type and those platforms (untagged ones are keyed by digest)."""
    return next(i["digest"] for i in TAGS.values() if i["media_type"] == media_type and i["platforms"] == platforms)


def ref(tag_or_digest: str = "", repository: str = REPOSITORY) -> str:
    if not tag_or_digest:
        return f"{REGISTRY}/{repository}"
    separator = "@" if tag_or_digest.startswith("sha256:") else ":"
    return f"{REGISTRY}/{repository}{separator}{tag_or_digest}"


# --- the recorded registry ------------------------------------------------------------------------------------------


def grant(authorization: str | None) -> str | None:
    """What an Authorization header stands for: Basic as sent; a Bearer token by what it grants.

    The registry accepts any token its token service signed with the same
    subject, audience and access, so a token fetched again matches.
    """
    if not authorization:
        return None
    scheme, _space, value = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return authorization
    payload = value.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return f"Bearer sub={claims['sub']} aud={claims['aud']} access={json.dumps(claims['access'], sort_keys=True)}"


def accepted(header: str | None) -> frozenset[str]:
    return frozenset(part.split(";")[0].strip() for part in (header or "").split(",") if part.strip())


Tamper = Callable[[str, str, HttpResponse], HttpResponse]


class RecordedRegistry:
    """An Opener that answers from recorded exchanges; registry requests may go to any host, token requests to the
    recorded realm's."""

    def __init__(self, *names: str, tamper: Tamper | None = None) -> None:
        self.exchanges = [exchange for name in names for exchange in read_json(f"{name}.json")]
        self.tamper = tamper
        self.calls: list[tuple[str, str, dict[str, str]]] = []

    def __call__(self, method: str, url: str, headers: Any) -> HttpResponse:
        headers = dict(headers)
        self.calls.append((method, url, headers))
        parts = urllib.parse.urlsplit(url)
        for exchange in self.exchanges:
            recorded = urllib.parse.urlsplit(exchange["path"])
            if (exchange["method"], recorded.path, urllib.parse.parse_qs(recorded.query)) != (
                method,
                parts.path,
                urllib.parse.parse_qs(parts.query),
            ):
                continue
            if exchange["scheme"] != parts.scheme:
                continue
            if exchange["registry"] == "token-server" and parts.netloc != urllib.parse.urlsplit(REALM).netloc:
                continue
            sent = exchange["request_headers"]
            if grant(sent.get("Authorization")) != grant(headers.get("Authorization")):
                continue
            if accepted(sent.get("Accept")) != accepted(headers.get("Accept")):
                continue
            body = exchange["body"].encode() if "body" in exchange else base64.b64decode(exchange["body_base64"])
            response = HttpResponse(exchange["status"], [tuple(pair) for pair in exchange["headers"]], body, url)
            return self.tamper(method, url, response) if self.tamper else response
        raise AssertionError(f"not recorded: {method} {url} {headers}")

    def requested(self) -> list[tuple[str, str, str | None]]:
        """(method, path, what the Authorization header granted) per request made."""
        return [
            (method, urllib.parse.urlsplit(url).path, grant(headers.get("Authorization")))
            for method, url, headers in self.calls
        ]


def client(*names: str, credentials: Credentials | None = None, tamper: Tamper | None = None) -> RegistryClient:
    return RegistryClient(REGISTRY, RecordedRegistry(*names, tamper=tamper), plain_http=True, credentials=credentials)


def resolved(names: list[str], reference: str, **kwargs: Any) -> Resolution:
    return resolve(client(*names, **kwargs), reference, parse_reference(reference))


def recorded_header(name: str, index: int, header: str) -> str:
    return next(v for k, v in read_json(f"{name}.json")[index]["headers"] if k.lower() == header.lower())


RIGHT = Credentials(PUSHED["username"], PUSHED["password"])
WRONG = Credentials(PUSHED["username"], "wrong")


# --- references -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("registry.lab:5000/app:1.4", ("registry.lab:5000", "app", "1.4", None, False), id="host-port-tag"),
        pytest.param(
            "registry.lab:5000/team/app", ("registry.lab:5000", "team/app", "latest", None, True), id="no-tag"
        ),
        pytest.param("registry.lab/app:latest", ("registry.lab", "app", "latest", None, False), id="explicit-latest"),
        pytest.param("localhost/app", ("localhost", "app", "latest", None, True), id="localhost"),
        pytest.param(
            f"localhost:5000/app@sha256:{H64}",
            ("localhost:5000", "app", None, f"sha256:{H64}", False),
            id="digest-only",
        ),
        pytest.param(
            f"10.0.0.5:5000/a/b/c:v1.0-rc.1@sha256:{H64}",
            ("10.0.0.5:5000", "a/b/c", "v1.0-rc.1", f"sha256:{H64}", False),
            id="tag-and-digest",
        ),
        pytest.param("[fd00::5]:5000/app:1", ("[fd00::5]:5000", "app", "1", None, False), id="ipv6"),
        pytest.param(
            "Registry.Lab:5000/my_app__x/sub-part.name--y:TAG_1",
            ("Registry.Lab:5000", "my_app__x/sub-part.name--y", "TAG_1", None, False),
            id="separators",
        ),
        pytest.param(
            f"registry.lab:5000/app@sha512:{H128}",
            ("registry.lab:5000", "app", None, f"sha512:{H128}", False),
            id="sha512",
        ),
    ],
)
def test_parse_reference(text: str, expected: tuple[Any, ...]) -> None:
    reference = parse_reference(text)
    assert (reference.registry, reference.repository, reference.tag, reference.digest, reference.tag_implied) == (
        expected
    )
    assert str(reference) == text


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param("", "it is empty", id="empty"),
        pytest.param("app:1.0", "names no registry host", id="short-name"),
        pytest.param("library/app", "names no registry host", id="hub-path"),
        pytest.param("registry.lab:5000/App:1", "the repository part 'App' must be lowercase", id="uppercase"),
        pytest.param("registry.lab:5000/app:", "the tag '' must be 1 to 128", id="empty-tag"),
        pytest.param("registry.lab:5000/app:-x", "the tag '-x'", id="tag-starts-with-dash"),
        pytest.param("registry.lab:5000/app:" + "a" * 129, "must be 1 to 128", id="long-tag"),
        pytest.param("registry.lab:5000/app@sha256:abc", "'sha256:abc' is not a digest", id="short-digest"),
        pytest.param("registry.lab:5000/app@sha256:" + "A" * 64, "64 lowercase hex digits", id="uppercase-digest"),
        pytest.param("registry.lab:5000/app@md5:" + "0" * 32, "'md5' is not supported", id="md5"),
        pytest.param("registry.lab:5000/", "the repository is missing", id="no-repository"),
        pytest.param("registry.lab:5000//app", "the repository part ''", id="empty-component"),
        pytest.param("registry.lab:5000/app:1.0:2", "the repository part 'app:1.0'", id="two-tags"),
        pytest.param("registry_lab:5000/app", "'registry_lab:5000' is not a host name", id="bad-host"),
        pytest.param("registry.lab:5000/app name:1", "white space", id="space"),
        pytest.param(" registry.lab:5000/app", "white space", id="leading-space"),
        pytest.param("https://registry.lab:5000/app:1", "drop the scheme", id="scheme"),
        pytest.param("registry.lab:5000/" + "a/" * 130 + "a", "longer than 255", id="long-name"),
    ],
)
def test_bad_references(text: str, words: str) -> None:
    with pytest.raises(InvalidReference) as raised:
        parse_reference(text)
    assert str(raised.value).startswith(f"{text!r} is not an image reference: ")
    assert words in str(raised.value)


@pytest.mark.parametrize(
    ("text", "latest", "asked", "pinned"),
    [
        ("registry.lab:5000/app", True, "latest", f"registry.lab:5000/app@sha256:{H64}"),
        ("registry.lab:5000/app:latest", True, "latest", f"registry.lab:5000/app@sha256:{H64}"),
        (f"registry.lab:5000/app:latest@sha256:{H64}", False, f"sha256:{H64}", f"registry.lab:5000/app@sha256:{H64}"),
        ("registry.lab:5000/app:1.0", False, "1.0", f"registry.lab:5000/app@sha256:{H64}"),
    ],
)
def test_latest_what_is_asked_and_pinned(text: str, latest: bool, asked: str, pinned: str) -> None:
    reference = parse_reference(text)
    assert (reference.is_latest_tag, reference.manifest_reference, reference.pinned(f"sha256:{H64}")) == (
        latest,
        asked,
        pinned,
    )


def body_of(name: str, index: int = 0) -> dict[str, Any]:
    return json.loads(read_json(f"{name}.json")[index]["body"])


def test_platforms_of_a_manifest_list_leave_out_unknown() -> None:
    listed = index_platforms(body_of("manifest-list"))
    assert [(str(p.platform), p.digest) for p in listed] == [
        ("linux/amd64", TAGS["1.0-amd64"]["digest"]),
        ("linux/arm64/v8", TAGS["1.0-arm64"]["digest"]),
    ]


def test_platforms_of_an_oci_index_leave_out_attestations() -> None:
    listed = index_platforms(body_of("oci-index"))
    assert [(str(p.platform), p.digest) for p in listed] == [
        ("linux/amd64", pushed_digest(OCI_MANIFEST, ["linux/amd64"])),
        ("linux/arm64/v8", pushed_digest(OCI_MANIFEST, ["linux/arm64/v8"])),
        ("linux/arm/v7", TAGS["1.1-armv7"]["digest"]),
    ]
    # Attestations are left out by their annotation even when an index gives them a real platform.
    index = body_of("oci-index")
    for entry in index["manifests"][3:]:
        entry["platform"] = {"os": "linux", "architecture": "amd64"}
    assert len(index_platforms(index)) == 3


# --- resolving ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "tag", "media_type", "platforms"),
    [
        pytest.param("schema2-amd64", "1.0-amd64", DOCKER_MANIFEST, {"linux/amd64": "1.0-amd64"}, id="schema2-amd64"),
        pytest.param(
            "schema2-arm64", "1.0-arm64", DOCKER_MANIFEST, {"linux/arm64/v8": "1.0-arm64"}, id="schema2-arm64"
        ),
        pytest.param("oci-manifest", "1.1-armv7", OCI_MANIFEST, {"linux/arm/v7": "1.1-armv7"}, id="oci-manifest"),
        pytest.param(
            "manifest-list",
            "1.0",
            DOCKER_MANIFEST_LIST,
            {"linux/amd64": "1.0-amd64", "linux/arm64/v8": "1.0-arm64"},
            id="manifest-list",
        ),
        pytest.param(
            "oci-index",
            "1.1",
            OCI_INDEX,
            {"linux/amd64": None, "linux/arm64/v8": None, "linux/arm/v7": "1.1-armv7"},
            id="oci-index",
        ),
        pytest.param(
            "latest",
            "",
            DOCKER_MANIFEST_LIST,
            {"linux/amd64": "1.0-amd64", "linux/arm64/v8": "1.0-arm64"},
            id="implied-latest",
        ),
    ],
)
def test_resolve(fixture: str, tag: str, media_type: str, platforms: dict[str, str | None]) -> None:
    registry = RecordedRegistry(fixture)
    resolution = resolve(RegistryClient(REGISTRY, registry, plain_http=True), ref(tag), parse_reference(ref(tag)))
    expected = TAGS[tag or "latest"]
    assert (resolution.digest, resolution.media_type) == (expected["digest"], media_type)
    assert resolution.digest == recorded_header(fixture, 0, "Docker-Content-Digest")
    assert resolution.pinned == f"{REGISTRY}/{REPOSITORY}@{expected['digest']}"
    single = media_type in (DOCKER_MANIFEST, OCI_MANIFEST)
    assert {str(p.platform): p.digest for p in resolution.platforms} == {
        name: expected["digest"] if single else TAGS[key]["digest"] if key else pushed_digest(OCI_MANIFEST, [name])
        for name, key in platforms.items()
    }
    # A list names its platforms itself; a single image's are in its config blob.
    asked = [path.rsplit("/", 2)[-2] for _method, path, _auth in registry.requested()]
    assert asked == (["manifests", "blobs"] if single else ["manifests"])
    assert accepted(registry.calls[0][2]["Accept"]) == {OCI_INDEX, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST, OCI_MANIFEST}


def test_resolve_by_digest() -> None:
    digest = TAGS["1.0"]["digest"]
    resolution = resolved(["manifest-list"], ref(digest))
    assert (resolution.digest, resolution.reference.tag, resolution.reference.is_latest_tag) == (digest, None, False)


def test_without_the_list_types_in_accept_the_registry_answers_with_one_image() -> None:
    """Why ACCEPT names the list types: Distribution then sends the list's linux/amd64 image under the tag."""
    response = client("manifest-list").get(f"/v2/{REPOSITORY}/manifests/1.0", "x", DOCKER_MANIFEST)
    assert response.header("Docker-Content-Digest") == TAGS["1.0-amd64"]["digest"]
    assert set(ACCEPT.split(", ")) == {OCI_INDEX, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST, OCI_MANIFEST}


@pytest.mark.parametrize(
    ("fixture", "tag", "required", "message"),
    [
        pytest.param("manifest-list", "1.0", ["amd64", "arm64"], None, id="list-covers"),
        pytest.param(
            "manifest-list",
            "1.0",
            ["x86_64", "aarch64", "arm64/v8", "linux/amd64"],
            None,
            id="list-covers-any-spelling",
        ),
        pytest.param(
            "manifest-list",
            "1.0",
            ["x86_64", "aarch64", "armv7l"],
            "has no linux/arm/v7 image; it covers linux/amd64, linux/arm64/v8",
            id="list-lacks-arm",
        ),
        pytest.param(
            "schema2-amd64",
            "1.0-amd64",
            ["amd64", "arm64"],
            "has no linux/arm64 image; it covers linux/amd64",
            id="single-lacks-arm64",
        ),
        pytest.param(
            "schema2-arm64",
            "1.0-arm64",
            ["amd64", "aarch64"],
            "has no linux/amd64 image; it covers linux/arm64/v8",
            id="single-lacks-amd64",
        ),
        pytest.param("oci-index", "1.1", ["amd64", "arm64", "arm"], None, id="index-covers"),
        pytest.param(
            "oci-index",
            "1.1",
            ["armv6l", "s390x"],
            "has no linux/arm/v6, linux/s390x image; it covers linux/amd64, linux/arm64/v8, linux/arm/v7",
            id="index-lacks-two",
        ),
        pytest.param(
            "oci-manifest",
            "1.1-armv7",
            ["arm64"],
            "has no linux/arm64 image; it covers linux/arm/v7",
            id="armv7-is-not-arm64",
        ),
        pytest.param("oci-manifest", "1.1-armv7", [], None, id="nothing-required"),
    ],
)
def test_architecture_coverage(fixture: str, tag: str, required: list[str], message: str | None) -> None:
    resolution = resolved([fixture], ref(tag))
    needs = [parse_platform(name) for name in required]
    if message is None:
        check_architectures(resolution, needs)
        assert resolution.missing == []
        return
    with pytest.raises(ArchitectureMissing) as raised:
        check_architectures(resolution, needs)
    assert str(raised.value) == f"{ref(tag)} {message}"
    assert [str(p) for p in raised.value.missing] == [str(p) for p in resolution.missing]


def test_attestations_alone_cover_nothing() -> None:
    attestation = TAGS[next(key for key, i in TAGS.items() if i["platforms"] == ["unknown/unknown"])]
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": attestation["digest"],
                "size": 1,
                "platform": {"os": "unknown", "architecture": "unknown"},
            },
        ],
    }
    present = [p.platform for p in index_platforms(index)]
    assert str(ArchitectureMissing("x", [parse_platform("amd64")], present)) == (
        "x has no linux/amd64 image; it covers no platform at all"
    )


# --- digests --------------------------------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def test_a_changed_manifest_is_refused() -> None:
    def tamper(method: str, url: str, response: HttpResponse) -> HttpResponse:
        return HttpResponse(response.status, response.headers, response.body.replace(b"amd64", b"AMD64"), url)

    changed = body_of_bytes("manifest-list").replace(b"amd64", b"AMD64")
    with pytest.raises(DigestMismatch) as raised:
        resolved(["manifest-list"], ref("1.0"), tamper=tamper)
    assert str(raised.value) == (
        f"{REGISTRY} sent the manifest {REPOSITORY}:1.0 whose content hashes to {sha256(changed)}, but its "
        f"Docker-Content-Digest header says {TAGS['1.0']['digest']}; something between here and the registry "
        "changed it"
    )


def body_of_bytes(name: str, index: int = 0) -> bytes:
    return read_json(f"{name}.json")[index]["body"].encode()


def test_another_manifest_than_the_digest_asked_for_is_refused() -> None:
    amd64 = read_json("schema2-amd64.json")[0]

    def swap(method: str, url: str, response: HttpResponse) -> HttpResponse:
        return HttpResponse(200, [tuple(pair) for pair in amd64["headers"]], amd64["body"].encode(), url)

    with pytest.raises(DigestMismatch, match=f"hashes to {TAGS['1.0-amd64']['digest']}, not the digest asked for"):
        resolved(["manifest-list"], ref(TAGS["1.0"]["digest"]), tamper=swap)


def test_a_changed_config_blob_is_refused() -> None:
    def tamper(method: str, url: str, response: HttpResponse) -> HttpResponse:
        if "/blobs/" in url:
            return HttpResponse(200, response.headers, response.body.replace(b"amd64", b"arm64"), url)
        return response

    config = json.loads(body_of_bytes("schema2-amd64"))["config"]["digest"]
    with pytest.raises(DigestMismatch, match=f"sent blob {config} of {REPOSITORY} whose content hashes to sha256:"):
        resolved(["schema2-amd64"], ref("1.0-amd64"), tamper=tamper)


def test_without_the_digest_header_the_body_decides() -> None:
    def strip(method: str, url: str, response: HttpResponse) -> HttpResponse:
        headers = [(k, v) for k, v in response.headers if k.lower() != "docker-content-digest"]
        return HttpResponse(response.status, headers, response.body, url)

    assert resolved(["oci-index"], ref("1.1"), tamper=strip).digest == TAGS["1.1"]["digest"]


# --- authentication -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param(
            recorded_header("basic-auth", 0, "WWW-Authenticate"),
            [Challenge("basic", {"realm": "drover-fixtures"})],
            id="recorded-basic",
        ),
        pytest.param(
            recorded_header("token-auth", 0, "WWW-Authenticate"),
            [
                Challenge(
                    "bearer",
                    {"realm": REALM, "service": "drover-fixtures-registry", "scope": "repository:fixtures/app:pull"},
                )
            ],
            id="recorded-bearer",
        ),
        pytest.param(
            recorded_header("token-auth", 2, "WWW-Authenticate"),
            [
                Challenge(
                    "bearer",
                    {
                        "realm": REALM,
                        "service": "drover-fixtures-registry",
                        "scope": "repository:fixtures/app:pull",
                        "error": "insufficient_scope",
                    },
                )
            ],
            id="recorded-insufficient-scope",
        ),
        pytest.param(
            recorded_header("ping", 2, "WWW-Authenticate"),
            [Challenge("bearer", {"realm": REALM, "service": "drover-fixtures-registry"})],
            id="recorded-bearer-without-scope",
        ),
        pytest.param(
            'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"',
            [
                Challenge(
                    "bearer",
                    {
                        "realm": "https://auth.example/token",
                        "service": "registry.example",
                        "scope": "repository:a/b:pull,push",
                    },
                )
            ],
            id="comma-in-quotes",
        ),
        pytest.param(
            'Basic realm="a", Bearer realm="b",service="c"',
            [Challenge("basic", {"realm": "a"}), Challenge("bearer", {"realm": "b", "service": "c"})],
            id="two-challenges",
        ),
        pytest.param(
            'bearer Realm=unquoted , service="x \\"y\\""',
            [Challenge("bearer", {"realm": "unquoted", "service": 'x "y"'})],
            id="token-and-escapes",
        ),
        pytest.param("Negotiate", [Challenge("negotiate", {})], id="scheme-only"),
        pytest.param("", [], id="empty"),
    ],
)
def test_parse_challenges(header: str, expected: list[Challenge]) -> None:
    assert parse_challenges([header]) == expected


def test_basic_auth_without_credentials() -> None:
    with pytest.raises(RegistryAuthError) as raised:
        resolved(["basic-auth"], ref("1.0"))
    assert (
        str(raised.value)
        == f'{REGISTRY} asks for credentials (Basic realm="drover-fixtures"); give username and password'
    )


def test_basic_auth_with_a_wrong_password() -> None:
    with pytest.raises(RegistryAuthError) as raised:
        resolved(["basic-auth"], ref("1.0"), credentials=WRONG)
    assert str(raised.value) == (
        f"{REGISTRY} refused the credentials of 'drover' (UNAUTHORIZED: authentication required)"
    )


def test_basic_auth_once_challenged_goes_with_every_request() -> None:
    registry_client = client("basic-auth", credentials=RIGHT)
    registry = registry_client.opener
    for tag in ("1.0", "1.0-amd64"):
        resolution = resolve(registry_client, ref(tag), parse_reference(ref(tag)))
        assert resolution.digest == TAGS[tag]["digest"]
    basic = RIGHT.basic()
    config = json.loads(body_of_bytes("schema2-amd64"))["config"]["digest"]
    assert registry.requested() == [
        ("GET", f"/v2/{REPOSITORY}/manifests/1.0", None),
        ("GET", f"/v2/{REPOSITORY}/manifests/1.0", basic),
        ("GET", f"/v2/{REPOSITORY}/manifests/1.0-amd64", basic),
        ("GET", f"/v2/{REPOSITORY}/blobs/{config}", basic),
    ]


def test_token_auth_fetches_one_token_per_scope() -> None:
    registry_client = client("token-auth", credentials=RIGHT)
    registry = registry_client.opener
    for tag in ("1.0", "1.0-amd64"):
        assert resolve(registry_client, ref(tag), parse_reference(ref(tag))).digest == TAGS[tag]["digest"]
    pull = (
        f'Bearer sub=drover aud=drover-fixtures-registry access=[{{"actions": ["pull"], "name": "{REPOSITORY}", '
        '"type": "repository"}]'
    )
    config = json.loads(body_of_bytes("schema2-amd64"))["config"]["digest"]
    assert registry.requested() == [
        ("GET", f"/v2/{REPOSITORY}/manifests/1.0", None),
        ("GET", "/token", RIGHT.basic()),
        ("GET", f"/v2/{REPOSITORY}/manifests/1.0", pull),
        ("GET", f"/v2/{REPOSITORY}/manifests/1.0-amd64", pull),
        ("GET", f"/v2/{REPOSITORY}/blobs/{config}", pull),
    ]
    token_url = urllib.parse.urlsplit(registry.calls[1][1])
    assert f"{token_url.scheme}://{token_url.netloc}{token_url.path}" == REALM
    assert urllib.parse.parse_qs(token_url.query) == {
        "scope": [f"repository:{REPOSITORY}:pull"],
        "service": ["drover-fixtures-registry"],
    }


def test_token_auth_anonymous_token_is_refused() -> None:
    with pytest.raises(RegistryAuthError) as raised:
        resolved(["token-auth"], ref("1.0"))
    assert str(raised.value) == (
        f"{REGISTRY} refused the token from its token service for repository:{REPOSITORY}:pull "
        "(insufficient_scope, UNAUTHORIZED: authentication required); give username and password"
    )


def test_token_service_refuses_a_wrong_password() -> None:
    with pytest.raises(RegistryAuthError) as raised:
        resolved(["token-auth"], ref("1.0"), credentials=WRONG)
    assert str(raised.value) == (
        f"the token service {REALM} of {REGISTRY} refused the credentials of 'drover' (UNAUTHORIZED: bad credentials)"
    )


def test_forbidden() -> None:
    def deny(method: str, url: str, response: HttpResponse) -> HttpResponse:
        body = b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}'
        return HttpResponse(403, [("Content-Type", "application/json")], body, url)

    with pytest.raises(RegistryAuthError, match="denied GET .*DENIED: requested access to the resource is denied"):
        resolved(["manifest-list"], ref("1.0"), tamper=deny)


# --- what is not there ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        pytest.param(
            ref("9.9"), f"{REGISTRY} has no manifest {REPOSITORY}:9.9 (MANIFEST_UNKNOWN: manifest unknown)", id="tag"
        ),
        pytest.param(
            ref("1.0", "fixtures/nothing"),
            f"{REGISTRY} has no manifest fixtures/nothing:1.0 (MANIFEST_UNKNOWN: manifest unknown)",
            id="repository",
        ),
        pytest.param(
            ref("sha256:" + "0" * 64),
            f"{REGISTRY} has no manifest {REPOSITORY}@sha256:{'0' * 64} (MANIFEST_UNKNOWN: manifest unknown)",
            id="digest",
        ),
    ],
)
def test_manifest_not_found(reference: str, message: str) -> None:
    with pytest.raises(ManifestNotFound) as raised:
        resolved(["not-found"], reference)
    assert str(raised.value) == message


def test_blob_not_found() -> None:
    with pytest.raises(UnexpectedResponse) as raised:
        client("not-found").blob(REPOSITORY, "sha256:" + "0" * 64)
    assert str(raised.value) == (
        f"{REGISTRY} answered 404 to GET /v2/{REPOSITORY}/blobs/sha256:{'0' * 64} "
        "(BLOB_UNKNOWN: blob unknown to registry)"
    )


def test_plain_http_to_a_tls_registry() -> None:
    with pytest.raises(UnexpectedResponse, match=f"^{REGISTRY} speaks HTTPS: remove it from plain_http$"):
        resolved(["tls"], ref("1.0"))


def test_the_tls_registry_over_https() -> None:
    registry = RecordedRegistry("tls")
    resolution = resolve(RegistryClient(REGISTRY, registry), ref("1.0"), parse_reference(ref("1.0")))
    assert resolution.digest == TAGS["1.0"]["digest"]
    assert registry.calls[0][1] == f"https://{REGISTRY}/v2/{REPOSITORY}/manifests/1.0"


def test_a_schema1_answer_is_refused() -> None:
    def schema1(method: str, url: str, response: HttpResponse) -> HttpResponse:
        body = b'{"schemaVersion": 1, "name": "fixtures/app", "tag": "1.0", "architecture": "amd64"}'
        headers = [("Content-Type", "application/vnd.docker.distribution.manifest.v1+prettyjws")]
        return HttpResponse(200, headers, body, url)

    with pytest.raises(UnexpectedResponse, match="as application/vnd.docker.distribution.manifest.v1\\+prettyjws"):
        resolved(["manifest-list"], ref("1.0"), tamper=schema1)


# --- redirects (not recorded: Distribution does not redirect from a filesystem, it does from S3) ---------------


class Scripted:
    """An Opener that answers by URL from a table."""

    def __init__(self, answers: dict[str, HttpResponse]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict[str, str]]] = []

    def __call__(self, method: str, url: str, headers: Any) -> HttpResponse:
        self.calls.append((url, dict(headers)))
        return self.answers[url]


def test_redirect_to_storage_drops_the_credentials() -> None:
    data = b'{"architecture":"arm64","os":"linux"}'
    digest = sha256(data)
    path = f"/v2/app/blobs/{digest}"
    storage = "https://storage.example/blob?signature=x"
    opener = Scripted(
        {
            f"https://{REGISTRY}/v2/": HttpResponse(401, [("WWW-Authenticate", 'Basic realm="r"')], b"", ""),
            f"https://{REGISTRY}{path}": HttpResponse(307, [("Location", "/relative" + path)], b"", ""),
            f"https://{REGISTRY}/relative{path}": HttpResponse(307, [("Location", storage)], b"", ""),
            storage: HttpResponse(200, [], data, storage),
        }
    )
    registry_client = RegistryClient(REGISTRY, opener, credentials=RIGHT)
    registry_client._basic = RIGHT.basic()
    assert registry_client.blob("app", digest) == data
    assert [(url, "Authorization" in headers) for url, headers in opener.calls] == [
        (f"https://{REGISTRY}{path}", True),
        (f"https://{REGISTRY}/relative{path}", True),
        (storage, False),
    ]


def test_redirect_loop() -> None:
    url = f"https://{REGISTRY}/v2/app/blobs/sha256:{H64}"
    opener = Scripted({url: HttpResponse(302, [("Location", url)], b"", url)})
    with pytest.raises(UnexpectedResponse, match="more than 5 redirects"):
        RegistryClient(REGISTRY, opener).blob("app", f"sha256:{H64}")


# --- the HTTP layer on ansible's open_url ---------------------------------------------------------------------------

ERRORS = read_json("errors.json")


def recorded_error(case: str) -> BaseException:
    """The exception open_url raised when the recorder met that case, rebuilt from what was kept of it."""
    error = ERRORS[case]
    if error["exception"] == "TimeoutError":
        return TimeoutError(error["str"])
    reason: OSError
    if error["reason_type"] == "ConnectionRefusedError":
        reason = ConnectionRefusedError(error["reason_errno"], error["reason_args"][1])
    elif error["reason_type"] == "gaierror":
        reason = socket.gaierror(error["reason_errno"], error["reason_args"][1])
    elif error["reason_type"] == "SSLCertVerificationError":
        reason = ssl.SSLCertVerificationError(error["reason_errno"], error["reason_args"][1])
        reason.verify_message = error["verify_message"]
    elif error["reason_type"] == "SSLError":
        reason = ssl.SSLError(error["reason_errno"], error["reason_args"][1])
    else:
        raise AssertionError(f"unknown recorded error {error}")
    assert error["exception"] == "URLError"
    return urllib.error.URLError(reason)


@pytest.mark.parametrize(
    ("case", "words"),
    [
        pytest.param(
            "refused", "connection refused; is the registry running and listening on that port?", id="refused"
        ),
        pytest.param(
            "timeout",
            "timed out, no answer within 7 seconds (raise timeout, or check firewalls and routes)",
            id="timeout",
        ),
        pytest.param(
            "unknown-host",
            "cannot resolve the host name registry.invalid (Name or service not known)",
            id="unknown-host",
        ),
        pytest.param(
            "tls-untrusted",
            "TLS certificate verification failed (unable to get local issuer certificate); "
            "give the CA certificate that signed the registry's certificate with ca_path",
            id="tls-untrusted",
        ),
        pytest.param(
            "tls-to-plain-http",
            "WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)); the registry "
            "may speak plain HTTP: list it in plain_http",
            id="tls-to-plain-http",
        ),
    ],
)
def test_unreachable(case: str, words: str) -> None:
    url = ERRORS[case]["url"]

    def fake_open_url(*_args: Any, **_kwargs: Any) -> Any:
        raise recorded_error(case)

    with pytest.raises(RegistryUnreachable) as raised:
        open_url_opener(timeout=7, open_url_function=fake_open_url)("GET", url, {})
    assert str(raised.value).startswith(f"cannot reach {url}: ")
    assert words in str(raised.value)


def test_the_ca_file_is_what_made_tls_work() -> None:
    assert (ERRORS["tls-with-ca"]["exception"], ERRORS["tls-with-ca"]["status"]) == (None, 200)
    assert ERRORS["tls-with-ca"]["url"] == ERRORS["tls-untrusted"]["url"]


def message(headers: list[tuple[str, str]]) -> http.client.HTTPMessage:
    sent = http.client.HTTPMessage()
    for name, value in headers:
        sent[name] = value
    return sent


class ReplayOpenUrl:
    """ansible's open_url, answering from recorded exchanges as urllib would: HTTPError for what is not 2xx."""

    def __init__(self, *names: str) -> None:
        self.registry = RecordedRegistry(*names)
        self.kwargs: list[dict[str, Any]] = []

    def __call__(self, url: str, method: str = "GET", headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        self.kwargs.append(kwargs)
        response = self.registry(method, url, headers or {})
        if response.status >= 300:
            raise urllib.error.HTTPError(
                url, response.status, "recorded", message(response.headers), io.BytesIO(response.body)
            )
        return urllib.response.addinfourl(io.BytesIO(response.body), message(response.headers), url, response.status)


def test_open_url_opener() -> None:
    replay = ReplayOpenUrl("basic-auth")
    opener = open_url_opener(timeout=9, validate_certs=False, ca_path="/ca.pem", open_url_function=replay)
    refused = opener("GET", f"http://{REGISTRY}/v2/{REPOSITORY}/manifests/1.0", {"Accept": ACCEPT})
    assert (refused.status, refused.header("www-authenticate")) == (401, 'Basic realm="drover-fixtures"')
    assert json.loads(refused.body)["errors"][0]["code"] == "UNAUTHORIZED"
    answered = opener(
        "GET", f"http://{REGISTRY}/v2/{REPOSITORY}/manifests/1.0", {"Accept": ACCEPT, "Authorization": RIGHT.basic()}
    )
    assert (answered.status, sha256(answered.body)) == (200, TAGS["1.0"]["digest"])
    assert replay.kwargs[0] == {
        "timeout": 9,
        "validate_certs": False,
        "ca_path": "/ca.pem",
        "follow_redirects": "none",
        "http_agent": "drover.platform.registry_digest",
        "use_netrc": False,
    }


# --- the module's run -----------------------------------------------------------------------------------------------

ALL = ("schema2-amd64", "schema2-arm64", "oci-manifest", "manifest-list", "oci-index", "latest", "not-found")


def test_run_reports_every_image_and_fails_on_the_missing_platform() -> None:
    options = Options(
        images=[ref("1.0"), ref("1.0-amd64"), ref("1.0")],
        required_architectures=["x86_64", "aarch64"],
        plain_http=[REGISTRY],
    )
    outcome = run(options, RecordedRegistry(*ALL))
    assert outcome.failure == f"{ref('1.0-amd64')} has no linux/arm64 image; it covers linux/amd64"
    assert outcome.result["changed"] is False
    assert outcome.result["images"][0] == {
        "reference": ref("1.0"),
        "registry": REGISTRY,
        "repository": REPOSITORY,
        "tag": "1.0",
        "digest": TAGS["1.0"]["digest"],
        "pinned": f"{REGISTRY}/{REPOSITORY}@{TAGS['1.0']['digest']}",
        "media_type": DOCKER_MANIFEST_LIST,
        "platforms": [
            {"os": "linux", "architecture": "amd64", "variant": None, "digest": TAGS["1.0-amd64"]["digest"]},
            {"os": "linux", "architecture": "arm64", "variant": "v8", "digest": TAGS["1.0-arm64"]["digest"]},
        ],
        "is_latest_tag": False,
        "missing_architectures": [],
    }
    assert outcome.result["images"][1]["missing_architectures"] == ["linux/arm64"]
    assert len(outcome.result["images"]) == 2
    assert outcome.result["pinned"] == {
        ref("1.0"): f"{REGISTRY}/{REPOSITORY}@{TAGS['1.0']['digest']}",
        ref("1.0-amd64"): f"{REGISTRY}/{REPOSITORY}@{TAGS['1.0-amd64']['digest']}",
    }


def test_run_names_every_problem() -> None:
    options = Options(
        images=[ref("9.9"), ref("1.1-armv7"), ref("1.1"), ref()],
        required_architectures=["arm64"],
        plain_http=[REGISTRY],
    )
    outcome = run(options, RecordedRegistry(*ALL))
    assert outcome.failure == (
        f"{REGISTRY} has no manifest {REPOSITORY}:9.9 (MANIFEST_UNKNOWN: manifest unknown); "
        f"{ref('1.1-armv7')} has no linux/arm64 image; it covers linux/arm/v7"
    )
    assert [(i["reference"], i["is_latest_tag"]) for i in outcome.result["images"]] == [
        (ref("1.1-armv7"), False),
        (ref("1.1"), False),
        (ref(), True),
    ]


@pytest.mark.parametrize(
    ("options", "error"),
    [
        pytest.param(Options(images=[ref("1.0"), "app:1.0"]), InvalidReference, id="reference"),
        pytest.param(
            Options(images=[ref("1.0")], required_architectures=["amd64", "sparc"]), InvalidPlatform, id="architecture"
        ),
    ],
)
def test_run_checks_its_input_before_asking(options: Options, error: type[Exception]) -> None:
    registry = RecordedRegistry()
    with pytest.raises(error):
        run(options, registry)
    assert registry.calls == []


def run_module(
    run_main: RunMain,
    monkeypatch: pytest.MonkeyPatch,
    args: dict[str, Any],
    replay: ReplayOpenUrl | None = None,
) -> dict[str, Any]:
    """main() with args, open_url replaying the recordings; the JSON it prints."""
    monkeypatch.setattr(_registry_client, "open_url", replay or ReplayOpenUrl(*ALL, "basic-auth"))
    return run_main(registry_digest.main, args)


def test_module_in_check_mode(run_main: RunMain, monkeypatch: pytest.MonkeyPatch) -> None:
    replay = ReplayOpenUrl("basic-auth")
    result = run_module(
        run_main,
        monkeypatch,
        {
            "images": [ref("1.0")],
            "required_architectures": ["amd64", "arm64"],
            "plain_http": [REGISTRY],
            "username": RIGHT.username,
            "password": RIGHT.password,
            "timeout": 5,
            "_ansible_check_mode": True,
        },
        replay,
    )
    assert (result["changed"], result["pinned"]) == (
        False,
        {ref("1.0"): f"{REGISTRY}/{REPOSITORY}@{TAGS['1.0']['digest']}"},
    )
    assert RIGHT.password not in json.dumps(result)
    assert {kwargs["timeout"] for kwargs in replay.kwargs} == {5}


def test_module_fails_with_the_report(run_main: RunMain, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_module(
        run_main,
        monkeypatch,
        {
            "images": [ref("1.0-arm64")],
            "required_architectures": ["amd64"],
            "plain_http": [REGISTRY],
        },
    )
    assert result["failed"] is True
    assert result["msg"] == f"{ref('1.0-arm64')} has no linux/amd64 image; it covers linux/arm64/v8"
    assert result["images"][0]["missing_architectures"] == ["linux/amd64"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param({"images": ["nginx:1.27"]}, "names no registry host", id="short-name"),
        pytest.param(
            {"images": [ref("1.0")], "username": "drover"},
            "parameters are required together",
            id="user-without-password",
        ),
        pytest.param(
            {"images": [ref("1.0")], "plain_http": [REGISTRY], "required_architectures": ["arm/v9/x"]},
            "is not a platform",
            id="bad-architecture",
        ),
    ],
)
def test_module_refuses(
    run_main: RunMain, monkeypatch: pytest.MonkeyPatch, args: dict[str, Any], words: str
) -> None:
    result = run_module(run_main, monkeypatch, args)
    assert result["failed"] is True
    assert words in result["msg"]


def test_module_unreachable(run_main: RunMain, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(url: str, **_kwargs: Any) -> Any:
        raise recorded_error("refused")

    monkeypatch.setattr(_registry_client, "open_url", refused)
    result = run_main(registry_digest.main, {"images": [ref("1.0")]})
    assert result["msg"] == (
        f"cannot reach https://{REGISTRY}/v2/{REPOSITORY}/manifests/1.0: connection refused; is the registry running "
        "and listening on that port?"
    )
