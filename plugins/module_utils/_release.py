# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release decisions of the deploy layer, for Swarm and Kubernetes alike.

A stack's ledger is the list of its releases, oldest first, each a mapping:
release (1, 2, ...), stack, environment, version, images ({service: image
pinned by digest}), definition_hash (sha256 of the rendered definition or
manifests, before release labels), git_commit, trigger, note, deployed_at
and, on Swarm, services_changed. It is kept as JSON, {"stack": ..., "releases":
[...]}, in a file on every manager (Swarm) or in a ConfigMap (Kubernetes).

The functions here decide from plain data and touch nothing: the next
release, what a rollback goes back to, what a promotion may take from its
source, and the ledger document a deploy writes. Inputs they cannot decide
from raise ReleaseError; a refusal the user can act on (no release to roll
back to, a source that does not run what it recorded) is returned as a
Decision with a problem, for the role to stop on with that message.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Release = dict[str, Any]

# The keys a planned release carries besides what the ledger keeps.
_PLAN_ONLY = ("new",)
_DIGEST_MARK = "@sha256:"


class ReleaseError(ValueError):
    """A ledger or an argument the release decisions cannot work from."""


@dataclass(frozen=True)
class Decision:
    """The release a rollback or a promotion takes, or why there is none."""

    release: Release = field(default_factory=dict)
    images: dict[str, str] = field(default_factory=dict)
    problem: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"release": self.release, "images": self.images, "problem": self.problem}


def definition_hash(definition: Any) -> str:
    """sha256 of the definition as sorted JSON, as the ledger has always recorded it."""
    try:
        text = json.dumps(definition, sort_keys=True)
    except (TypeError, ValueError) as error:
        raise ReleaseError(f"the rendered definition cannot be hashed: {error}") from error
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _check_releases(releases: Any, stack: str) -> list[Release]:
    if not isinstance(releases, Sequence) or isinstance(releases, (str, bytes)):
        raise ReleaseError(f"the ledger of {stack} has no list of releases")
    checked: list[Release] = []
    previous = 0
    for index, entry in enumerate(releases):
        if not isinstance(entry, Mapping):
            raise ReleaseError(f"entry {index} of the ledger of {stack} is not a mapping")
        number = entry.get("release")
        if isinstance(number, bool) or not isinstance(number, int) or number <= previous:
            raise ReleaseError(
                f"entry {index} of the ledger of {stack} has release {number!r}:"
                " releases are numbered 1, 2, ... in order"
            )
        owner = entry.get("stack", stack)
        if owner != stack:
            raise ReleaseError(
                f"the ledger read for {stack} holds release {number} of {owner}:"
                " a ledger is written only under its own stack"
            )
        if not isinstance(entry.get("images", {}), Mapping):
            raise ReleaseError(f"release {number} of the ledger of {stack} has no images mapping")
        previous = number
        checked.append(dict(entry))
    return checked


def parse_ledger(content: Any, stack: str) -> list[Release]:
    """The releases of a ledger read as text (or already parsed); none for an empty or missing one."""
    if content is None or (isinstance(content, str) and not content.strip()):
        return []
    document = content
    if isinstance(content, (str, bytes)):
        try:
            document = json.loads(content)
        except ValueError as error:
            raise ReleaseError(f"the ledger of {stack} is not JSON: {error}") from error
    if not isinstance(document, Mapping):
        raise ReleaseError(f"the ledger of {stack} is not a mapping with a releases list")
    owner = document.get("stack", stack)
    if owner != stack:
        raise ReleaseError(f"the ledger read for {stack} is the ledger of {owner}")
    return _check_releases(document.get("releases", []), stack)


def _current(ledger: Sequence[Release]) -> Release:
    return dict(ledger[-1]) if ledger else {}


def plan_release(
    ledger: Sequence[Release],
    definition: Any,
    *,
    stack: str,
    environment: str,
    version: str,
    images: Mapping[str, str],
    git_commit: str = "",
    trigger: str = "",
    note: str = "",
) -> Release:
    """The release a deploy of this definition makes: the current one again when nothing differs (new false)."""
    releases = _check_releases(ledger, stack)
    digest = definition_hash(definition)
    current = _current(releases)
    new = current.get("definition_hash") != digest
    return {
        "new": new,
        "release": int(current.get("release", 0)) + (1 if new else 0),
        "stack": stack,
        "environment": environment,
        "version": version,
        "images": dict(images),
        "definition_hash": digest,
        "git_commit": git_commit,
        "trigger": trigger.strip(),
        "note": note,
    }


def record_release(
    ledger: Sequence[Release],
    release: Mapping[str, Any],
    *,
    stack: str,
    deployed_at: str,
    services_changed: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The ledger document to write once the release converged: the ledger with the release added when it is new.

    Both the ledger and the release must be the stack's own, and the release the next one, so that a ledger read
    under another name (a promotion's source) or a stale one is never written over the stack's.
    """
    releases = _check_releases(ledger, stack)
    if release.get("stack") != stack:
        raise ReleaseError(f"release {release.get('release')!r} is of {release.get('stack')!r}, not of {stack}")
    if not release.get("new", True):
        return {"stack": stack, "releases": releases}
    expected = int(_current(releases).get("release", 0)) + 1
    if release.get("release") != expected:
        raise ReleaseError(
            f"release {release.get('release')!r} of {stack} does not follow the ledger,"
            f" whose next release is {expected}"
        )
    entry = {key: value for key, value in release.items() if key not in _PLAN_ONLY}
    entry["deployed_at"] = deployed_at
    if services_changed is not None:
        entry["services_changed"] = sorted(services_changed)
    return {"stack": stack, "releases": [*releases, entry]}


def _image_key(image: str) -> tuple[str, str]:
    """(repository, digest) of a reference; a tag beside a digest does not count, as for docker."""
    if _DIGEST_MARK in image:
        name, digest = image.split("@", 1)
        slash = name.rfind("/")
        colon = name.rfind(":")
        return (name[:colon] if colon > slash else name), digest
    return image, ""


def same_image(left: str, right: str) -> bool:
    """Whether two references name the same image: by repository and digest when both have one."""
    left_key, right_key = _image_key(left), _image_key(right)
    if left_key[1] and right_key[1]:
        return left_key == right_key
    return left == right


def _what_runs(entry: Mapping[str, Any]) -> tuple[str, tuple[tuple[str, str], ...]]:
    images = entry.get("images") or {}
    return str(entry.get("version", "")), tuple(
        sorted((name, _image_key(str(image))[1] or str(image)) for name, image in images.items())
    )


def _numbers(ledger: Sequence[Release]) -> str:
    return ", ".join(str(entry["release"]) for entry in ledger) or "none"


def rollback_target(ledger: Sequence[Release], *, stack: str, wanted: int = 0) -> Decision:
    """The release a rollback goes back to: wanted, or the last one that ran other images or another version.

    A rollback restores a release's images and version and renders them with the overlay as it is now, so an
    earlier release running the same digests (one that only changed the overlay) would give back what runs: it
    is passed over.
    """
    releases = _check_releases(ledger, stack)
    if isinstance(wanted, bool) or not isinstance(wanted, int) or wanted < 0:
        raise ReleaseError(f"the release to roll back to must be a number, 0 for the one before; got {wanted!r}")
    if wanted > 0:
        chosen = next((entry for entry in releases if entry["release"] == wanted), None)
        if chosen is None:
            return Decision(problem=f"{stack} has no release {wanted}; recorded: {_numbers(releases)}")
    else:
        current = _what_runs(_current(releases))
        chosen = next((entry for entry in reversed(releases) if _what_runs(entry) != current), None)
        if chosen is None:
            return Decision(problem=f"{stack} has no earlier release to roll back to; recorded: {_numbers(releases)}")
    return Decision(release=chosen, images=dict(chosen.get("images") or {}))


def promotion_source(
    ledger: Sequence[Release],
    running: Mapping[str, str],
    *,
    source: str,
    source_stack: str,
    services: Sequence[str],
) -> Decision:
    """What a promotion takes from its source: the source's last release, if the source runs exactly that.

    services are those the target builds (their images must be in the release); images are those of the release
    for them. Each recorded service must run its own recorded image: a digest running under another service
    does not count.
    """
    releases = _check_releases(ledger, source_stack)
    if not releases:
        return Decision(problem=f"{source} has no recorded release to promote")
    last = releases[-1]
    recorded: dict[str, str] = {str(name): str(image) for name, image in (last.get("images") or {}).items()}
    missing = [name for name in services if name not in recorded]
    if missing:
        return Decision(problem=f"{source} release {last['release']} has no image for {', '.join(missing)}")
    differing = [name for name, image in recorded.items() if not same_image(image, str(running.get(name, "")))]
    if differing:
        return Decision(
            problem=(
                f"{source} does not run what its release {last['release']} recorded"
                f" ({', '.join(sorted(differing))} differ; recorded: {json.dumps(recorded, sort_keys=True)};"
                f" running: {json.dumps(dict(running), sort_keys=True)})"
            )
        )
    return Decision(release=last, images={name: recorded[name] for name in services})


def swarm_running(lines: Sequence[str], *, stack: str) -> dict[str, str]:
    """{service: image} from `docker service inspect --format '{{.Spec.Name}} {{...ContainerSpec.Image}}'` lines."""
    prefix = f"{stack}_"
    running: dict[str, str] = {}
    for line in lines:
        parts = str(line).split()
        if len(parts) != 2:
            raise ReleaseError(f"cannot read a service and its image from {line!r}")
        name, image = parts
        running[name[len(prefix) :] if name.startswith(prefix) else name] = image
    return running


def kubernetes_running(objects: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """{service: image} of workloads as the API server lists them; the service is the app.kubernetes.io/name label."""
    running: dict[str, str] = {}
    for index, workload in enumerate(objects):
        try:
            name = workload["metadata"]["labels"]["app.kubernetes.io/name"]
            image = workload["spec"]["template"]["spec"]["containers"][0]["image"]
        except (KeyError, IndexError, TypeError) as error:
            raise ReleaseError(f"workload {index} has no app.kubernetes.io/name label or no container image") from error
        running[str(name)] = str(image)
    return running


def ledger_summary(content: Any, *, stack: str) -> dict[str, Any]:
    """How many releases a ledger holds and the number of the last, for a backup's manifest."""
    releases = parse_ledger(content, stack)
    return {"releases": len(releases), "last_release": releases[-1]["release"] if releases else None}


def node_architectures(listed: Mapping[str, Any]) -> list[str]:
    """The architectures a release must cover, as the cluster reports its nodes.

    listed is what community.docker.docker_node_info returns on a manager (nodes, each with
    Description.Platform.Architecture, in uname's words) or kubernetes.core.k8s_info for kind Node
    (resources, each labelled kubernetes.io/arch, in Go's words); registry_digest takes either.
    """
    if isinstance(listed, Mapping) and "nodes" in listed:
        nodes, where = listed["nodes"], ("Description", "Platform", "Architecture")
    elif isinstance(listed, Mapping) and "resources" in listed:
        nodes, where = listed["resources"], ("metadata", "labels", "kubernetes.io/arch")
    else:
        raise ReleaseError("expects the result of docker_node_info (nodes) or of k8s_info for kind Node (resources)")
    found: list[str] = []
    for index, node in enumerate(nodes or []):
        value: Any = node
        for key in where:
            value = value.get(key) if isinstance(value, Mapping) else None
        if not isinstance(value, str) or not value:
            raise ReleaseError(f"node {index} of the cluster reports no architecture ({'.'.join(where)})")
        if value not in found:
            found.append(value)
    if not found:
        raise ReleaseError("the cluster reports no node")
    return sorted(found)


def _split_registry(image: str) -> tuple[str, str, str]:
    """(registry, repository, digest) of registry/repository[:tag]@sha256:..., the digest required."""
    repository, digest = _image_key(image)
    registry, slash, path = repository.partition("/")
    if not slash or not digest or not ("." in registry or ":" in registry or registry == "localhost"):
        raise ReleaseError(f"{image!r} is not an image of a registry pinned by digest (host[:port]/repo@sha256:...)")
    return registry, path, digest


def promotion_copies(
    images: Mapping[str, str], *, source_registry: str, target_registry: str, version: str
) -> dict[str, Any]:
    """The copies a promotion across registries makes, and the images the target then deploys.

    images are the source release's ({service: <source registry>/repo@digest}). Each is copied to the target's
    registry under the same repository, tagged with the release's version, and deployed there by the same digest:
    copies (service, source, destination, digest) and images ({service: <target registry>/repo@digest}). With one
    registry for both (environments of one fleet) nothing is copied. An image the source took from another
    registry (a public one) is copied too: prod pulls only from its own.
    """
    if not source_registry or not target_registry:
        raise ReleaseError("a promotion needs the source's and the target's registry (host:port)")
    copies: list[dict[str, str]] = []
    pinned: dict[str, str] = {}
    for service in sorted(images):
        registry, repository, digest = _split_registry(str(images[service]))
        if registry != source_registry and registry != target_registry:
            raise ReleaseError(
                f"{service} runs {images[service]}, which is in neither the source's registry ({source_registry})"
                f" nor the target's ({target_registry})"
            )
        pinned[service] = f"{target_registry}/{repository}@{digest}"
        if registry != target_registry:
            copies.append({
                "service": service,
                "source": f"{registry}/{repository}@{digest}",
                "destination": f"{target_registry}/{repository}:{version}",
                "digest": digest,
            })
    return {"copies": copies, "images": pinned}


def copied_digests_problem(copies: Sequence[Mapping[str, str]], resolved: Mapping[str, str]) -> str:
    """Why the target cannot deploy what was copied: a copy whose destination resolves to another digest, or none.

    resolved is registry_digest's pinned ({destination: registry/repo@digest}) read from the target's registry
    after the copy. A copy that changed the digest (a registry that rewrites manifests, a tool converting formats)
    would deploy something else than the source ran: refused, naming each image and both digests.
    """
    problems = []
    for copy in copies:
        found = resolved.get(copy["destination"])
        got = _image_key(found)[1] if found else ""
        if got != copy["digest"]:
            problems.append(
                f"{copy['destination']} is {got or 'not in the target registry'} after the copy,"
                f" not {copy['digest']} as {copy['source']}"
            )
    if not problems:
        return ""
    return "promotion refused, the digests would change: " + "; ".join(problems)
