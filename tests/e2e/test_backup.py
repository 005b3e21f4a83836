# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/backup.yml into a restic repository on the controller, on the converged lab.

The real playbook and the real restic (Debian's): the ledgers, the registry's volume and the app's named volumes
of the lab read under the deploy locks (prod's Redis saved first by its backup hook, `redis-cli save` from the
lab's overlay), stored encrypted, the retention applied, the repository checked; then what restic gives back
is what the manifest says was saved. A wrong password stops the run before any host is reached. Then
restore.yml puts prod's Redis volume back onto the running fleet: refused while Redis runs, done with force
(Redis scaled to 0 and back), and Redis answers with the value written before the backup.

DROVER_E2E_BACKUP_INVENTORY=PATH  run on that inventory (a lab fleet of its own) instead of the lab
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from .lab import Lab, LabError, Run, extra_vars

PLAYBOOK = "playbooks/backup.yml"
RESTORE = "playbooks/restore.yml"
KEY = "drover-e2e-backup"
HOSTS_PLAY = "PLAY [Back up the ledgers, the registry's images and the app's volumes]"


@pytest.fixture(scope="module")
def backup_lab(request: pytest.FixtureRequest) -> Lab:
    given = os.environ.get("DROVER_E2E_BACKUP_INVENTORY")
    return Lab.from_inventory(Path(given).resolve()) if given else request.getfixturevalue("lab")


def restic(repository: Path, password: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RESTIC_REPOSITORY": str(repository), "RESTIC_PASSWORD": password}
    return subprocess.run(["restic", *args], env=env, capture_output=True, text=True, check=False, timeout=300)


def backup(lab: Lab, repository: Path, password: str, folder: Path, **more: Any) -> Run:
    return lab.playbook(PLAYBOOK, *extra_vars(backup_repository=str(repository), backup_repository_password=password,
                                              backup_dir=str(folder), **more))


def redis(lab: Lab, *command: str) -> str:
    """A redis-cli command in prod's Redis container, on the manager (the lab's overlay places it on the nuc)."""
    service = f"{lab.stack('prod')}_redis"
    found = lab.ssh("docker", "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={service}").stdout.split()
    assert len(found) == 1, f"{service} has {len(found)} containers on {lab.manager}"
    return lab.ssh("docker", "exec", found[0], "redis-cli", *command).stdout.strip()


def redis_answers(lab: Lab, timeout: float = 120) -> str:
    """GET of the key, once prod's Redis has a container again and answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return redis(lab, "get", KEY)
        except (AssertionError, LabError):
            if time.monotonic() > deadline:
                raise
            time.sleep(2)


def snapshots(repository: Path, password: str) -> list[dict[str, Any]]:
    listed = restic(repository, password, "snapshots", "--json")
    assert listed.returncode == 0, listed.stderr
    return json.loads(listed.stdout)


def test_a_backup_is_stored_encrypted_kept_by_its_retention_and_restored_as_saved(
    backup_lab: Lab, tmp_path: Path
) -> None:
    lab = backup_lab
    repository = tmp_path / "restic"
    password = f"lab-{secrets.token_hex(12)}"
    retention = {"last": 1}

    value = f"written-{secrets.token_hex(8)}"
    assert redis(lab, "set", KEY, value) == "OK"
    first = backup(lab, repository, password, tmp_path / "first", backup_keep_folder=True, backup_retention=retention)
    assert first.rc == 0, first.tail(60)
    assert f"created the restic repository {repository}" in first.output, first.tail(60)
    assert password not in first.output
    # The plaintext folder, kept this once: what the repository must not show.
    manifest = json.loads((tmp_path / "first" / "manifest.json").read_text())
    saved = {item["path"]: item for item in manifest["files"]}
    assert "registry.tar" in saved and any(path.startswith("ledgers/") for path in saved), saved
    ledgers = [json.loads((tmp_path / "first" / path).read_text()) for path in saved if path.startswith("ledgers/")]
    released = [ledger["releases"][-1] for ledger in ledgers if ledger["releases"]]
    assert released, f"no environment has a release: {saved}"
    known_value = next(iter(released[0]["images"].values()))  # a pinned image reference, digest and all
    assert "@sha256:" in known_value, known_value
    # Prod's Redis volume, from the node it runs on, saved by its hook first: the dump holds the value.
    volume = f"{lab.stack('prod')}_redis-data"
    (entry,) = [item for item in manifest["volumes"] if item["volume"] == volume]
    assert entry["services"] == [f"{lab.stack('prod')}_redis"] and entry["before"] == entry["services"], entry
    assert entry["archive"] in saved, saved
    with tarfile.open(tmp_path / "first" / entry["archive"]) as archive:
        dump = archive.extractfile("./dump.rdb")
        assert dump is not None and value.encode() in dump.read()

    second = backup(lab, repository, password, tmp_path / "second", backup_retention=retention)
    assert second.rc == 0, second.tail(60)
    assert "the plaintext folder removed" in second.output and not (tmp_path / "second").exists(), second.tail(60)
    # Two backups, and the retention keeps the last one.
    kept = snapshots(repository, password)
    assert len(kept) == 1, kept
    assert {"drover"} <= set(kept[0]["tags"]), kept
    assert restic(repository, password, "check").returncode == 0

    # No plaintext in the repository: neither the password nor a value the ledger holds.
    for needle in (password, known_value, known_value.split("@", 1)[1], value):
        found = subprocess.run(["grep", "-r", "-l", "-F", needle, str(repository)], capture_output=True, text=True,
                               check=False)
        assert found.returncode == 1, f"{needle!r} found in {found.stdout}"

    # What restic gives back is what the manifest says was saved.
    restored = tmp_path / "restored"
    done = restic(repository, password, "restore", "latest", "--target", str(restored))
    assert done.returncode == 0, done.stderr
    (manifest_file,) = restored.rglob("manifest.json")
    check = subprocess.run(["sha256sum", "-c", "-"], cwd=manifest_file.parent, capture_output=True, text=True,
                           check=False, input="".join(f"{item['sha256']}  {item['path']}\n"
                                                      for item in json.loads(manifest_file.read_text())["files"]))
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == len(saved), check.stdout

    # A wrong password: refused before any host is reached, the repository as it was.
    wrong = backup(lab, repository, "not-" + password, tmp_path / "wrong", backup_retention=retention)
    assert wrong.rc != 0, wrong.tail(40)
    assert f"the password does not open the restic repository {repository}" in wrong.output, wrong.tail(40)
    assert HOSTS_PLAY not in wrong.output, wrong.tail(40)
    assert password not in wrong.output
    assert [item["id"] for item in snapshots(repository, password)] == [kept[0]["id"]]

    # Prod's Redis volume back onto the running fleet: refused while Redis runs, then forced.
    assert redis(lab, "set", KEY, "changed-after-the-backup") == "OK"
    given = extra_vars(backup_repository=str(repository), backup_repository_password=password, service="redis",
                       env="prod", restore_dir=str(tmp_path / "restored-by-playbook"))
    refused = lab.playbook(RESTORE, *given)
    assert refused.rc != 0, refused.tail(40)
    in_use = f"the volume {volume} on {lab.manager} is in use by {lab.stack('prod')}_redis"
    assert in_use in refused.output and "nothing was changed" in refused.output, refused.tail(40)
    assert redis(lab, "get", KEY) == "changed-after-the-backup"
    started = time.monotonic()
    forced = lab.playbook(RESTORE, *given, *extra_vars(force=True))
    assert forced.rc == 0, forced.tail(60)
    assert password not in forced.output
    assert redis_answers(lab) == value, "prod's Redis does not hold the value written before the backup"
    print(f"restore of {volume} with Redis stopped and started: {time.monotonic() - started:.0f} s")
