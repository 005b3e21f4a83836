# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""replace_node.yml and upgrade.yml refuse bad input in their first play, on the controller.

The inventories name hosts at addresses where nothing answers (TEST-NET-1): a refusal that came
later than the first localhost plays would show as a host task or an unreachable host.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

Runner = Callable[..., tuple[int, str]]

REPLACE = "playbooks/replace_node.yml"
UPGRADE = "playbooks/upgrade.yml"


def _inventory(tmp_path: Path, managers: list[str], workers: list[str], spare: list[str]) -> Path:
    names = managers + workers + spare
    hosts = {name: {"ansible_host": f"192.0.2.{index + 10}"} for index, name in enumerate(names)}
    inventory = tmp_path / "hosts.json"
    inventory.write_text(json.dumps({"all": {"hosts": hosts, "children": {
        "swarm_managers": {"hosts": {name: {} for name in managers}},
        "swarm_workers": {"hosts": {name: {} for name in workers}}}}}))
    return inventory


def _refused_on_the_controller(returncode: int, output: str, message: str) -> None:
    assert returncode != 0, output
    assert message in output, output
    # Only localhost ran anything: no task reached a host of the inventory.
    assert "PLAY [Find the healthy managers" not in output and "PLAY [Find a way in" not in output, output
    assert "UNREACHABLE" not in output, output


@pytest.mark.parametrize(
    ("managers", "workers", "dead", "new", "message"),
    [
        (["m1"], ["w1"], "m1", "n1", "m1 is the inventory's last manager (swarm_managers): removing it leaves"),
        (["m1", "m2", "m3"], [], "m9", "n1", "dead=m9 is not a host of this inventory"),
        (["m1", "m2", "m3"], [], "m3", "n9", "new=n9 is not a host of this inventory"),
        (["m1", "m2", "m3"], [], "m3", "m3", "dead and new are the same host, m3"),
        (["m1", "m2", "m3"], [], "n1", "m3", "n1 is in neither swarm_managers nor swarm_workers"),
    ],
)
def test_replace_node_refuses_bad_input_before_any_host(
    run_playbook: Runner, tmp_path: Path, managers: list[str], workers: list[str], dead: str, new: str, message: str
) -> None:
    inventory = _inventory(tmp_path, managers, workers, ["n1"])
    returncode, output = run_playbook(REPLACE, inventory, "-e", f"dead={dead}", "-e", f"new={new}")
    _refused_on_the_controller(returncode, output, message)


def test_replace_node_needs_both_hosts(run_playbook: Runner, tmp_path: Path) -> None:
    returncode, output = run_playbook(REPLACE, _inventory(tmp_path, ["m1", "m2", "m3"], [], ["n1"]), "-e", "dead=m3")
    _refused_on_the_controller(returncode, output, "missing required arguments: new")


def _window_without_now() -> str:
    """A one-hour window that starts two hours from now (UTC): now is outside it."""
    start = datetime.now(UTC) + timedelta(hours=2)
    return f"{start:%H}:00-{(start + timedelta(hours=1)):%H}:00"


def test_an_upgrade_outside_its_window_is_refused_before_any_host(run_playbook: Runner, tmp_path: Path) -> None:
    inventory = _inventory(tmp_path, ["m1", "m2", "m3"], [], [])
    window = _window_without_now()
    returncode, output = run_playbook(UPGRADE, inventory, "-e", f"upgrade_window={window}")
    _refused_on_the_controller(returncode, output, f"outside the upgrade window {window} (UTC): nothing was changed")
    assert "-e upgrade_now=true" in output


def test_a_malformed_window_is_refused_even_with_upgrade_now(run_playbook: Runner, tmp_path: Path) -> None:
    inventory = _inventory(tmp_path, ["m1", "m2", "m3"], [], [])
    returncode, output = run_playbook(UPGRADE, inventory, "-e", "upgrade_window=nightly", "-e", "upgrade_now=true")
    _refused_on_the_controller(returncode, output, "upgrade_window 'nightly' is not a UTC time range")


def test_bad_package_names_are_refused_before_any_host(run_playbook: Runner, tmp_path: Path) -> None:
    inventory = _inventory(tmp_path, ["m1"], [], [])
    returncode, output = run_playbook(UPGRADE, inventory, "-e", json.dumps({"upgrade_packages": ["docker.io; reboot"]}))
    _refused_on_the_controller(returncode, output, "upgrade_packages holds names that are not Debian package names")


BACKUP = "playbooks/backup.yml"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        pytest.param({}, "but no password is: set backup_repository_password", id="no password"),
        pytest.param(
            {"backup_repository_password": "lab-only", "backup_retention": {"daily": 7, "forever": 1}},
            "backup_retention must map last, hourly, daily, weekly, monthly or yearly to a number above 0",
            id="unknown retention",
        ),
        pytest.param(
            {"backup_repository_password": "lab-only", "backup_retention": {"daily": 0}},
            "to a number above 0",
            id="retention of none",
        ),
    ],
)
def test_a_backup_repository_without_its_settings_is_refused_before_any_host(
    run_playbook: Runner, tmp_path: Path, settings: dict, message: str
) -> None:
    repository = tmp_path / "restic"
    returncode, output = run_playbook(BACKUP, _inventory(tmp_path, ["m1"], [], []), "-e",
                                      json.dumps({"backup_repository": str(repository), **settings}))
    _refused_on_the_controller(returncode, output, message)
    assert "PLAY [Back up the ledgers" not in output, output
    assert not repository.exists()


RESTORE = "playbooks/restore.yml"


def _restic_repository(tmp_path: Path, password: str) -> Path:
    """A restic repository with one snapshot of a folder that is no backup of ours."""
    repository, folder = tmp_path / "restic", tmp_path / "folder"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a drover backup\n")
    env = {**os.environ, "RESTIC_REPOSITORY": str(repository), "RESTIC_PASSWORD": password}
    for argv in (["restic", "init"], ["restic", "backup", "--tag", "drover", "--host", "elsewhere", str(folder)]):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
    return repository


@pytest.mark.parametrize(
    ("extra", "settings", "message"),
    [
        pytest.param({}, {}, "this inventory names no restic repository (backup_repository)", id="no repository"),
        pytest.param({"snapshot": "last-night"}, {}, "snapshot \"last-night\" is neither latest nor a snapshot ID",
                     id="a snapshot that is no ID"),
        pytest.param({}, {"backup_repository_password": "not-the-password"},
                     "the password does not open the restic repository", id="wrong password"),
        pytest.param({"snapshot": "deadbeef"}, {}, "no snapshot deadbeef in", id="no such snapshot"),
        pytest.param({}, {}, "no snapshot latest in", id="no snapshot of this inventory"),
        pytest.param({}, {"backup_repository": "/nonexistent/restic"},
                     "there is no restic repository at /nonexistent/restic", id="no repository there"),
    ],
)
def test_restore_refuses_bad_input_before_any_host(
    run_playbook: Runner, tmp_path: Path, extra: dict, settings: dict, message: str
) -> None:
    password = "lab-only-restore"
    repository = _restic_repository(tmp_path, password)
    given = {"backup_repository": str(repository), "backup_repository_password": password, **settings}
    if message.startswith("this inventory names no"):
        given = {}
    inventory = _inventory(tmp_path, ["m1"], [], [])
    returncode, output = run_playbook(RESTORE, inventory, "-e", json.dumps({**given, **extra}))
    _refused_on_the_controller(returncode, output, message)
    assert "PLAY [Put the ledgers and the registry's images back]" not in output, output
    assert password not in output


def _backup_snapshot(tmp_path: Path, password: str, volumes: list[dict]) -> Path:
    """A restic repository with one snapshot shaped as backup.yml writes it: a manifest naming two
    environments and the given volumes, and the volumes' tars, their sha256 as the manifest says."""
    repository, folder = tmp_path / "restic", tmp_path / "backup"
    files = []
    for volume in volumes:
        archive = folder / volume["archive"]
        archive.parent.mkdir(parents=True, exist_ok=True)
        archive.write_bytes(b"not really a tar\n")
        files.append({"path": volume["archive"], "size": archive.stat().st_size,
                      "sha256": hashlib.sha256(archive.read_bytes()).hexdigest()})
    environments = {name: {"stack": f"shop-{name}", "ledger": None, "releases": 0, "last_release": None}
                    for name in ("preprod", "prod")}
    (folder / "manifest.json").write_text(json.dumps({
        "started": "2026-12-01T02:00:00Z", "finished": "2026-12-01T02:01:00Z", "environments": environments,
        "registry": {"archive": None}, "volumes": volumes, "files": files}))
    env = {**os.environ, "RESTIC_REPOSITORY": str(repository), "RESTIC_PASSWORD": password}
    # restic's host is the inventory's folder name, as backup.yml names it.
    for argv in (["restic", "init"], ["restic", "backup", "--tag", "drover", "--host", tmp_path.name, "."]):
        done = subprocess.run(argv, env=env, cwd=folder, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
    return repository


def _volume(node: str, environment: str, service: str) -> dict:
    stack = f"shop-{environment}"
    return {"node": node, "volume": f"{stack}_data", "stack": stack, "environment": environment,
            "services": [f"{stack}_{service}"], "archive": f"volumes/{node}/{stack}_data.tar",
            "before": [], "paused": []}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param({"service": "db"}, "holds preprod, prod; name the environment of db with -e env=",
                     id="a service in two environments"),
        pytest.param({"service": "cache", "env": "prod"},
                     "holds no volume of service cache in prod (volumes of: shop-prod_db)",
                     id="a service with no volume"),
        pytest.param({"service": "db", "env": "prod"},
                     "holds volumes of gone1, which this inventory has no swarm node for",
                     id="a node the inventory lacks"),
    ],
)
def test_restoring_a_services_volumes_refuses_bad_input_before_any_host(
    run_playbook: Runner, tmp_path: Path, extra: dict, message: str
) -> None:
    password = "lab-only-restore"
    repository = _backup_snapshot(tmp_path, password, [_volume("m1", "preprod", "db"), _volume("gone1", "prod", "db")])
    inventory = _inventory(tmp_path, ["m1"], [], [])
    returncode, output = run_playbook(RESTORE, inventory, "-e", json.dumps(
        {"backup_repository": str(repository), "backup_repository_password": password, **extra}))
    _refused_on_the_controller(returncode, output, message)
    assert "nothing was changed" in output, output
