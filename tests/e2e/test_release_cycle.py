# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Releases as a team lives them, on a converged lab holding the demo in dev, preprod and prod.

One test per stage, in this order (each starts from where the one before left the lab):

1. a new version built and deployed to dev, twice (the second changes nothing), smoke-tested and
   promoted to preprod by digest, each as an AWX job (ansible-runner, survey answers, a clean
   checkout, and only what AWX's credentials inject: the machine key through ssh-agent, the fleet
   CA as a file named by DROVER_FLEET_CA, an empty HOME);
2. preprod promoted to prod under load through the edge: no request fails;
3. a bad release (its healthcheck fails) deployed to prod under load: refused, the old
   version serving throughout, the ledger untouched;
4. prod rolled back one release, the whole stack, by the AWX rollback job with no release named;
5. three deploys of dev at once: the deploy lock makes the second wait, refuses the third;
6. the Jenkinsfile's make targets, in its order.

Stages 1 and 4 are AWX's jobs rather than plain ansible-playbook runs of the same playbooks: one run
shows both the release and the way AWX starts it (make test's time budget has no room for each twice).

Everything goes through the commands an operator has (ansible-playbook, tools/awx-job, make)
and is checked as a user would: HTTPS through the edge, `docker` and the ledger on the manager.
"""

from __future__ import annotations

import json
import re
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import yaml

from .constants import (
    AWX_JOB,
    DEPLOY_PLAYBOOK,
    PIPELINE_STEPS,
    PROMOTE_PLAYBOOK,
    ROLLBACK_PLAYBOOK,
    ROOT,
    SMOKE_PLAYBOOK,
    VENV_STAMP,
)
from .lab import Lab, Run, background, extra_vars, run

RELEASE = "2.0.0"
BREAK_HEALTH = {"stack_overlay_override": {"services": {"web": {"environment": {"DEMO_BREAK_HEALTH": "1"}}}}}
# The load loop's requests during a promotion or a refused release.
MIN_REQUESTS = 1000


def promote(lab: Lab, source: str, target: str) -> Run:
    return lab.playbook(PROMOTE_PLAYBOOK, *extra_vars(**{"from": source, "to": target}))


def previous_release(releases: list[dict[str, Any]]) -> dict[str, Any]:
    """The release a rollback without a number goes back to: the last that ran something else than the current."""
    current = releases[-1]["definition_hash"]
    return next((release for release in reversed(releases) if release["definition_hash"] != current), {})


def same_images(running: dict[str, str], recorded: dict[str, str]) -> bool:
    """Whether the services running are those recorded, each on its recorded image."""
    return bool(running) and running == recorded


def test_promote_by_digest(lab: Lab) -> None:
    jobs = [
        awx_job(lab, DEPLOY_PLAYBOOK, "--text=env=dev", f"--text=version={RELEASE}"),
        awx_job(lab, DEPLOY_PLAYBOOK, "--text=env=dev", f"--text=version={RELEASE}", unchanged=True),
        awx_job(lab, SMOKE_PLAYBOOK, "--text=env=dev", unchanged=True),
    ]
    dev = lab.running_images("dev")
    served = lab.ask("dev")["version"]
    jobs.append(awx_job(lab, PROMOTE_PLAYBOOK, "--text=from=dev", "--text=to=preprod"))
    assert_successful(jobs)
    assert [job["survey"] for job in jobs] == [
        {"env": "dev", "version": RELEASE}, {"env": "dev", "version": RELEASE}, {"env": "dev"},
        {"from": "dev", "to": "preprod"}], jobs
    assert dev and all("@sha256:" in image for image in dev.values()), f"dev runs images not pinned by digest: {dev}"
    assert served == RELEASE

    preprod = lab.running_images("preprod")
    # preprod runs, of dev's services, those it has (dev has debug-only ones too), on dev's very digests.
    assert preprod and {service: dev.get(service) for service in preprod} == preprod, {"dev": dev, "preprod": preprod}
    assert same_images(preprod, lab.ledger("preprod")[-1]["images"]), lab.ledger("preprod")[-1]
    assert lab.ask("preprod")["version"] == RELEASE


def test_promotion_under_load_fails_no_request(lab: Lab) -> None:
    preprod = lab.running_images("preprod")
    # The version is the definition's, not the images' (equal builds have equal digests): ask for it.
    assert lab.ask("prod")["version"] != RELEASE, f"prod serves {RELEASE} already: the promotion would change nothing"

    with lab.under_load("prod", MIN_REQUESTS) as load:
        promoted = promote(lab, "preprod", "prod")
    print(f"promotion under load: {json.dumps(load)}; promote.yml {promoted.seconds} s")
    assert promoted.rc == 0, promoted
    assert load["failures"] == 0, load["first_failures"]
    assert load["requests"] >= MIN_REQUESTS, load
    assert RELEASE in load["versions"], load["versions"]
    prod = lab.running_images("prod")
    assert prod == preprod, {"preprod": preprod, "prod": prod}
    assert same_images(prod, lab.ledger("prod")[-1]["images"])
    assert lab.ask("prod")["version"] == RELEASE


def test_bad_release_is_refused_while_the_old_one_serves(lab: Lab) -> None:
    ledger = lab.ledger_text("prod")
    images = lab.running_images("prod")
    serving = lab.ask("prod")["version"]

    with lab.under_load("prod", MIN_REQUESTS) as load:
        bad = lab.playbook(DEPLOY_PLAYBOOK, *extra_vars(env="prod", version=RELEASE, **BREAK_HEALTH))
    print(f"bad release under load: {json.dumps(load)}; deploy.yml failed after {bad.seconds} s")
    assert bad.rc != 0, bad
    assert re.search(r"\bweb\b", bad.output) and re.search(r"rolled[ _]back", bad.output), bad
    assert load["failures"] == 0, load["first_failures"]
    assert load["requests"] >= MIN_REQUESTS, load
    assert set(load["versions"]) == {serving}, load["versions"]
    assert lab.ledger_text("prod") == ledger, "the ledger changed for a release that was refused"
    assert lab.running_images("prod") == images


def test_rollback_restores_the_whole_stack(lab: Lab) -> None:
    releases = lab.ledger("prod")
    target = previous_release(releases)
    assert target, f"prod has no release to roll back to: {releases}"
    assert lab.ask("prod")["version"] != target["version"], "prod serves the version it would roll back to"

    # The survey's release left empty: the one before the current, as `rollback.yml -e env=prod` does.
    rolled_back = awx_job(lab, ROLLBACK_PLAYBOOK, "--text=env=prod")
    assert_successful([rolled_back])
    assert rolled_back["survey"] == {"env": "prod"}, rolled_back
    running = lab.running_images("prod")
    assert same_images(running, target["images"]), {
        "target": target["release"],
        "expected": target["images"],
        "running": running,
    }
    assert lab.ask("prod")["version"] == target["version"]
    after = lab.ledger("prod")
    assert after[:-1] == releases and after[-1]["images"] == target["images"], after[-1]


# The deploy lock's lines in a deploy's output; the callback may fold a long line anywhere.
LOCK_TAKEN = r"deploy\s+lock\s+{stack}\s+taken\s+on\s+\S+\s+at\s+(\S+Z)\s+after\s+waiting\s+([0-9.]+)\s+s"
LOCK_GIVEN_BACK = r"deploy\s+lock\s+{stack}\s+taken\s+on[\s\S]*?given\s+back\s+on\s+\S+\s+at\s+(\S+Z)"
LOCK_REFUSED = r"deploy\s+lock\s+{stack}\s+is\s+held\s+by(?:(?!is\s+held\s+by)[\s\S])*?stack_lock_break=true"


def lock_times(run: Run, stack: str) -> tuple[str, float, str]:
    """When a deploy took the lock, how long it waited for it, when it gave it back."""
    taken = re.search(LOCK_TAKEN.format(stack=re.escape(stack)), run.output)
    given_back = re.search(LOCK_GIVEN_BACK.format(stack=re.escape(stack)), run.output)
    assert taken and given_back, f"no lock taken and given back in:\n{run}"
    return taken[1], float(taken[2]), given_back[1]


def test_deploy_lock_serialises_deploys(lab: Lab) -> None:
    stack = lab.stack("dev")
    before = lab.ledger("dev")
    assert not lab.lock_held("dev"), f"{stack}'s deploy lock is held before the test: a run holds it or left it"
    version = extra_vars(env="dev", version=before[-1]["version"])
    change = {"stack_overlay_override": {"services": {"web": {"environment": {"DEMO_CONCURRENT": "first"}}}}}

    with ExitStack() as cleanup:
        first = cleanup.enter_context(background(lab.playbook_argv(DEPLOY_PLAYBOOK, *version,
                                                                   *extra_vars(**change))))
        while not lab.lock_held("dev"):
            assert first.running(), f"the first deploy ended before taking the lock:\n{first.finish()}"
            assert time.monotonic() - first.began < 600, "the first deploy did not take the lock within 10 minutes"
            time.sleep(1)
        # The second puts dev back as it was; the third will not wait.
        second = cleanup.enter_context(background(lab.playbook_argv(DEPLOY_PLAYBOOK, *version)))
        refused = cleanup.enter_context(background(lab.playbook_argv(DEPLOY_PLAYBOOK, *version,
                                                                     *extra_vars(stack_lock_wait=0))))
        first_run, second_run, refused_run = (command.finish() for command in (first, second, refused))
    after = lab.ledger("dev")

    assert first_run.rc == 0, first_run
    assert second_run.rc == 0, second_run
    first_taken, _first_waited, first_given_back = lock_times(first_run, stack)
    second_taken, second_waited, second_given_back = lock_times(second_run, stack)
    print(f"first held {stack}'s lock {first_taken} - {first_given_back}; second waited {second_waited} s, "
          f"held it {second_taken} - {second_given_back}")
    # Stamps of the manager's clock, ISO 8601 in UTC: they sort as text.
    assert second_taken >= first_given_back, (first_given_back, second_taken)
    assert second_waited > 1, second_waited
    # Both releases recorded, one after the other, and the second put dev back as it was.
    assert after[:len(before)] == before and len(after) == len(before) + 2, after[len(before):]
    last = int(before[-1]["release"])
    assert [int(release["release"]) for release in after[-2:]] == [last + 1, last + 2], after[-2:]
    assert after[-2]["definition_hash"] != before[-1]["definition_hash"]
    assert after[-1]["definition_hash"] == before[-1]["definition_hash"]

    assert refused_run.rc != 0, refused_run
    assert not re.search(LOCK_TAKEN.format(stack=re.escape(stack)), refused_run.output), refused_run
    refusal = re.search(LOCK_REFUSED.format(stack=re.escape(stack)), refused_run.output)
    assert refusal, refused_run
    message = " ".join(refusal[0].split())
    print(f"the third was refused: {message}")
    assert " since 20" in message and "play Deploy the app" in message, message


def awx_credentials(lab: Lab) -> list[str]:
    """What AWX's credentials hand a job: the machine credential's key and user, the fleet CA credential's file."""
    assert lab.key and Path(lab.key).is_file(), f"the lab's SSH key {lab.key!r} is not there"
    assert lab.ca.is_file(), f"the lab's CA {lab.ca} is not there"
    return ["--clean-project", "--machine-key", lab.key, "--machine-user", lab.user,
            "--credential-file", f"DROVER_FLEET_CA={lab.ca}"]


def awx_job(lab: Lab, playbook: str, *answers: str, unchanged: bool = False) -> dict[str, Any]:
    """tools/awx-job's report of one job (its last line), with its exit status and the tail of its log."""
    done = run([sys.executable, str(ROOT / AWX_JOB), playbook, *answers, "--inventory", str(lab.inventory),
                *awx_credentials(lab), *(["--expect-unchanged"] if unchanged else [])])
    lines = done.stdout.strip().splitlines()
    report = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {"status": "no report"}
    return {**report, "exit": done.rc, "log": "\n".join(done.stderr.splitlines()[-25:])}


def assert_successful(jobs: list[dict[str, Any]]) -> None:
    """Every job successful, each printed with its survey, time and changes."""
    for job in jobs:
        print(f"AWX job {job.get('playbook', '?'):22} {json.dumps(job.get('survey', {})):42} "
              f"{job.get('elapsed', '?'):>6} s {job['status']:10} "
              f"changed={sum(host['changed'] for host in job.get('hosts', {}).values())}")
    failed = [job for job in jobs if job["status"] != "successful" or job["exit"] != 0]
    assert not failed, "\n\n".join(f"{job.get('playbook')}: {job['status']} {job.get('error', '')}\n{job['log']}"
                                   for job in failed)


def test_pipeline_make_targets(lab: Lab, tmp_path: Path) -> None:
    # The venv that runs these tests is the one the targets use: make is not to rebuild it.
    make = ["make", "--no-print-directory", "-C", str(ROOT), "-o", VENV_STAMP]
    version = run([*make, "-s", "version"])
    assert version.rc == 0 and version.stdout.strip(), version
    settings = [f"INVENTORY={lab.inventory}", f"VERSION={version.stdout.strip()}", f"LOG_DIR={tmp_path}"]
    steps: list[Run] = []
    for step in yaml.safe_load((ROOT / PIPELINE_STEPS).read_text()):
        steps.append(run([*make, *step, *settings]))
        print(f"make {' '.join(step):28} {steps[-1].seconds:6} s  rc {steps[-1].rc}")
        assert steps[-1].rc == 0, steps[-1]
    assert lab.ask("prod")["version"] == version.stdout.strip()
    assert lab.running_images("prod") == lab.running_images("preprod")
