# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""teamapp (apps/teamapp, written for a laptop) from the scaffold to two fleets of their own (tests/e2e/fleets.py):
preprod (2 hosts) and prod (3 hosts; 2 with DROVER_E2E_FLEET_PROD_HOSTS=2), each with its own swarm, registry,
edge and CA; prod's engines trust only prod's registry, and prod declares an arm64 node. Its dev is the lab's
swarm (tests/e2e/test_own_app.py): three swarms, three registries.

In this order, each test starting from where the one before left the fleets:

1. promoting from a preprod with no release is refused before anything is copied or deployed;
2. a dirty app folder is refused before any host changes, a version given needs no git;
3. preprod builds teamapp for amd64 and arm64 (one manifest list per built image), deploys it, and both
   routed services answer over HTTPS through preprod's edge;
4. the arm64 image runs under qemu-user on the build host and answers;
5. preprod is promoted to prod across the fleets: prod's registry and services hold preprod's digests,
   copied by skopeo, and both services answer through prod's edge; prod's engines cannot pull from
   preprod's registry;
6. a second release promoted, then prod rolled back one release: the first one's digests again;
7. a copy whose digests change (skopeo told to rewrite the manifests) refuses the promotion, naming each image
   and both digests, and prod runs what it ran;
8. a release built for amd64 only is refused by prod's pin step, naming the image and arm64.

Marked `fleets`, and skipped unless DROVER_E2E_FLEETS=1: it brings up two labs of its own (5 hosts). `make
fleets` brings them up (python -m tests.e2e.fleets) and runs this with DROVER_E2E_FLEET_REUSE=1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .constants import DEPLOY_PLAYBOOK, PROMOTE_PLAYBOOK, ROLLBACK_PLAYBOOK
from .fleets import APP, APP_DIR, SCAFFOLD, SCAFFOLDED_AT, Fleet, arm64_base, scaffold
from .lab import Lab, Run, extra_vars, playbook_argv, run

pytestmark = [
    pytest.mark.fleets,
    pytest.mark.skipif(os.environ.get("DROVER_E2E_FLEETS", "") in ("", "0"),
                       reason="needs two fleets of its own: DROVER_E2E_FLEETS=1"),
]

V1 = "3.0.0"
V2 = "3.1.0"
V_AMD64_ONLY = "3.2.0"
IMAGES_PLAYBOOK = "tests/e2e/fleets/images.yml"
# The routed services of teamapp; the fleets' Lab.ask asks the first.
ROUTED = ("api", "docs")
FIGURES: dict[str, float] = {}
BEGAN: dict[str, float] = {}


class Fleets:
    """The two fleets' labs, each described when a test first needs it (a reused preprod can be tested alone)."""

    def __init__(self, *fleets: Fleet) -> None:
        self._fleets = fleets
        self._labs: dict[int, Lab] = {}

    def __getitem__(self, index: int) -> Lab:
        if index not in self._labs:
            self._labs[index] = Lab.from_inventory(self._fleets[index].inventory, service=ROUTED[0])
        return self._labs[index]

    def __iter__(self) -> Iterator[Lab]:
        return iter((self[0], self[1]))


@pytest.fixture(scope="module")
def fleets() -> Iterator[Fleets]:
    preprod, prod = Fleet.from_env("preprod"), Fleet.from_env("prod")
    reuse = os.environ.get("DROVER_E2E_FLEET_REUSE", "") not in ("", "0")
    try:
        if not reuse or not SCAFFOLD.is_dir():
            print(f"scaffold: {scaffold()}")
        BEGAN["scaffold"] = float(SCAFFOLDED_AT.read_text())
        for fleet in (preprod, prod):
            if reuse:
                fleet.write()
            else:
                print(f"{fleet.name} fleet up: {fleet.bring_up()}")
        arm64_base()
        for fleet in (preprod, prod):
            loaded = run(playbook_argv(fleet.inventory, IMAGES_PLAYBOOK))
            assert loaded.rc == 0, loaded
        yield Fleets(preprod, prod)
    finally:
        print(f"figures: {json.dumps(FIGURES)}")
        if not reuse and os.environ.get("DROVER_E2E_KEEP", "") in ("", "0"):
            for fleet in (preprod, prod):
                fleet.tear_down()


def promote(prod: Lab, preprod: Lab, *more: str) -> Run:
    return prod.playbook(PROMOTE_PLAYBOOK, *extra_vars(**{"from": "preprod", "to": "prod"}),
                         "-e", f"from_inventory={preprod.inventory}", *more)


def seconds(pattern: str, output: str) -> float:
    found = re.findall(pattern, output)
    assert found, f"no {pattern!r} in the output"
    return float(found[-1])


def digests(images: dict[str, str]) -> dict[str, str]:
    """The digest of each service pinned by one (teamapp's docs runs a public image by its tag)."""
    return {service: image.split("@", 1)[1] for service, image in images.items() if "@" in image}


def answered(lab: Lab, environment: str, output: str) -> None:
    """Each routed service's URL answered 200 through the fleet's own edge, as the run's closing table says."""
    for service in ROUTED:
        domain = f"{service}-{APP}-{environment}.lab.drover.test"
        assert f"{service}: https://{domain}/ -> 200 OK" in output, output[-4000:]
    answer = lab.ask(environment)
    assert (answer["app"], answer["service"], answer["token_set"]) == (APP, "api", True), answer


def test_promoting_a_source_with_no_release_is_refused(fleets: Fleets) -> None:
    preprod, prod = fleets
    refused = promote(prod, preprod)
    assert refused.rc != 0
    assert "preprod has no recorded release to promote" in refused.output, refused
    assert prod.running_images("prod") == {}


def test_a_dirty_app_folder_is_refused_and_a_given_version_needs_no_git(
    fleets: Fleets, tmp_path: Path
) -> None:
    preprod = fleets[0]
    app = tmp_path / APP
    shutil.copytree(APP_DIR, app)
    for argv in (["init", "-q"], ["add", "."], ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "app"]):
        subprocess.run(["git", "-C", str(app), *argv], check=True)
    (app / "api" / "edit.txt").write_text("not committed\n")
    compose = extra_vars(env="preprod", stack_compose_file=str(app / "compose.yml"))
    dirty = preprod.playbook(DEPLOY_PLAYBOOK, *compose, "--check")
    assert dirty.rc != 0
    assert "the app's folder has uncommitted changes (" in dirty.output and "edit.txt" in dirty.output, dirty
    shutil.rmtree(app / ".git")
    # No git at all: with a version the run goes past the version; in check mode it stops later, at the pin step,
    # since nothing of that version was built.
    given = preprod.playbook(DEPLOY_PLAYBOOK, *compose, *extra_vars(version="0.0.1-nogit"), "--check")
    assert "TASK [drover.platform.stack : Render the stack from the Compose file and the environment's overlay]" \
        in given.output, given
    assert "no version given" not in given.output and "uncommitted changes" not in given.output, given


def test_preprod_builds_one_manifest_list_for_amd64_and_arm64(fleets: Fleets) -> None:
    preprod = fleets[0]
    deployed = preprod.playbook(DEPLOY_PLAYBOOK, *extra_vars(env="preprod", version=V1))
    assert deployed.rc == 0, deployed
    FIGURES["preprod_deploy_2arch_s"] = deployed.seconds
    FIGURES["build_2arch_s"] = seconds(
        r"built 4 images \(linux/amd64, linux/arm64\) and 2 manifest lists in ([\d.]+) s", deployed.output)
    answered(preprod, "preprod", deployed.output)
    FIGURES["scaffold_to_preprod_answering_s"] = round(time.time() - BEGAN["scaffold"], 1)
    running = preprod.running_images("preprod")
    assert sorted(digests(running)) == ["api", "jobs"], running
    for service in ("api", "jobs"):
        image = running[service].split("@")[0]
        listed = json.loads(preprod.ssh("docker", "manifest", "inspect", f"{image}:{V1}").stdout)
        platforms = sorted(entry["platform"]["architecture"] for entry in listed["manifests"])
        assert platforms == ["amd64", "arm64"], listed
    assert preprod.ask("preprod")["version"] == V1


def test_the_arm64_image_runs_under_qemu_user_and_answers(fleets: Fleets) -> None:
    preprod = fleets[0]
    api = preprod.running_images("preprod")["api"].split("@")[0]
    image = f"{api}:{V1}-arm64"
    assert preprod.ssh("docker", "run", "--rm", "--platform", "linux/arm64", image, "uname", "-m").stdout.strip() \
        == "aarch64"
    began = time.monotonic()
    name = "drover-e2e-arm64-api"
    preprod.ssh("docker", "run", "-d", "--rm", "--name", name, "--platform", "linux/arm64", image)
    ask = "import urllib.request; print(urllib.request.urlopen('http://localhost:8080/', timeout=5).read().decode())"
    try:
        answer = ""
        for _attempt in range(60):
            asked = preprod.ssh("docker", "exec", name, "python3", "-c", ask, check=False)
            if asked.rc == 0:
                answer = asked.stdout
                break
            time.sleep(2)
        assert answer, preprod.ssh("docker", "logs", name, check=False)
        assert json.loads(answer)["app"] == APP, answer
        FIGURES["arm64_api_answers_after_s"] = round(time.monotonic() - began, 1)
    finally:
        preprod.ssh("docker", "rm", "-f", name, check=False)


def test_promotion_across_fleets_copies_the_digests_unchanged(fleets: Fleets) -> None:
    preprod, prod = fleets
    promoted = promote(prod, preprod)
    assert promoted.rc == 0, promoted
    FIGURES["promote_across_fleets_s"] = promoted.seconds
    FIGURES["promote_copy_s"] = seconds(r"copied \d+ images from \S+ to \S+ in ([\d.]+) s", promoted.output)
    answered(prod, "prod", promoted.output)
    FIGURES["scaffold_to_prod_answering_s"] = round(time.time() - BEGAN["scaffold"], 1)
    source, target = preprod.running_images("preprod"), prod.running_images("prod")
    print(f"preprod runs {json.dumps(source)}\nprod runs {json.dumps(target)}")
    assert sorted(digests(target)) == ["api", "jobs"] and digests(target) == digests(source), (source, target)
    assert target["docs"] == source["docs"], (source, target)
    prod_registry = prod.ledger("prod")[-1]["images"]["api"].split("/")[0]
    assert all(target[service].startswith(prod_registry + "/") for service in digests(target)), target
    assert prod_registry != source["api"].split("/")[0]
    # Each fleet has a CA of its own; prod's engines do not trust preprod's registry (no CA for it), and cannot
    # pull from it.
    assert prod.ca != preprod.ca and prod.ca.read_text() != preprod.ca.read_text(), (prod.ca, preprod.ca)
    source_registry = source["api"].split("/")[0]
    for fleet, registry in ((prod, prod_registry), (preprod, source_registry)):
        assert fleet.ssh("cat", f"/etc/docker/certs.d/{registry}/ca.crt").stdout == fleet.ca.read_text(), registry
    assert prod.ssh("test", "-e", f"/etc/docker/certs.d/{source_registry}", check=False).rc != 0
    pulled = prod.ssh("timeout", "60", "docker", "pull", source["api"], check=False)
    assert pulled.rc != 0, pulled
    assert prod.ask("prod")["version"] == V1


def test_prod_rolls_back_one_release_across_fleets(fleets: Fleets) -> None:
    preprod, prod = fleets
    first = prod.ledger("prod")[-1]
    deployed = preprod.playbook(DEPLOY_PLAYBOOK, *extra_vars(env="preprod", version=V2))
    assert deployed.rc == 0, deployed
    FIGURES["build_2arch_cached_s"] = seconds(r"and 2 manifest lists in ([\d.]+) s", deployed.output)
    promoted = promote(prod, preprod)
    assert promoted.rc == 0, promoted
    assert prod.ask("prod")["version"] == V2
    rolled = prod.playbook(ROLLBACK_PLAYBOOK, *extra_vars(env="prod"))
    assert rolled.rc == 0, rolled
    FIGURES["rollback_s"] = rolled.seconds
    assert prod.ask("prod")["version"] == V1
    last = prod.ledger("prod")[-1]
    assert last["images"] == first["images"] and last["note"] == f"rollback to release {first['release']}", last
    assert digests(prod.running_images("prod")) == digests(first["images"])


# A copy tool that rewrites what it copies: the real skopeo, told to write OCI manifests and not to keep the
# digests. The promotion must see the copies' digests differ from the source's, and deploy nothing.
REWRITING_SKOPEO = """#!/usr/bin/env bash
args=()
for arg in "$@"; do [ "$arg" = --preserve-digests ] || args+=("$arg"); done
[ "${args[0]:-}" = copy ] && args=(copy --format oci "${args[@]:1}")
exec /usr/bin/skopeo "${args[@]}"
"""


def test_a_copy_that_changes_the_digests_is_refused(fleets: Fleets, tmp_path: Path) -> None:
    preprod, prod = fleets
    before, running = prod.ledger("prod"), prod.running_images("prod")
    wrapper = tmp_path / "bin" / "skopeo"
    wrapper.parent.mkdir()
    wrapper.write_text(REWRITING_SKOPEO)
    wrapper.chmod(0o755)
    refused = run(prod.playbook_argv(PROMOTE_PLAYBOOK, *extra_vars(**{"from": "preprod", "to": "prod"}),
                                     "-e", f"from_inventory={preprod.inventory}"),
                  PATH=f"{wrapper.parent}{os.pathsep}{os.environ.get('PATH', os.defpath)}")
    assert refused.rc != 0
    assert "promotion refused, the digests would change: " in refused.output, refused
    assert re.search(rf"/{APP}/api\S* is sha256:\w+ after the copy, not sha256:\w+ as ", refused.output), refused
    assert "TASK [drover.platform.stack : Deploy the stack" not in refused.output
    assert prod.ledger("prod") == before and prod.running_images("prod") == running


def test_prod_refuses_a_release_without_arm64(fleets: Fleets) -> None:
    preprod, prod = fleets
    before = prod.ledger("prod")
    # The build host's own architecture only: no platforms, and so no per-platform build arguments.
    deployed = preprod.playbook(DEPLOY_PLAYBOOK, *extra_vars(env="preprod", version=V_AMD64_ONLY,
                                                             stack_build_platforms=[], stack_build_platform_args={}))
    assert deployed.rc == 0, deployed
    refused = promote(prod, preprod)
    assert refused.rc != 0
    assert re.search(rf"/{APP}/\w+:{V_AMD64_ONLY}\S* has no linux/arm64 image", refused.output) or \
        re.search(rf"/{APP}/\w+@sha256:\w+ has no linux/arm64 image; it covers linux/amd64", refused.output), refused
    assert "TASK [drover.platform.stack : Deploy the stack" not in refused.output
    assert prod.ledger("prod") == before
