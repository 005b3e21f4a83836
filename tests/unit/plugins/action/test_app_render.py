# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app_render action: its result, and a run through ActionBase as ansible-playbook starts it."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.task import Task

from ansible_collections.drover.platform.plugins.action.app_render import ActionModule, render

REALISTIC = Path(__file__).resolve().parents[2] / "fixtures" / "render" / "realistic"
DIGEST = "sha256:" + "3d" * 32
SECRET = "vault-Secret-4-prod"

PROD_OVERLAY = {
    "environment": "prod",
    "services": {
        "web": {"image": f"registry.lab:5000/shop/web@{DIGEST}", "domain": "shop.example.com"},
        "api": {"image": f"registry.lab:5000/shop/api@{DIGEST}"},
        "worker": {"image": f"registry.lab:5000/shop/api@{DIGEST}"},
    },
    "secrets": {"db_password": SECRET},
    # The app's plain depends_on (start order only) is reported; this environment accepts it.
    "allow": ["depends_on"],
}


def params(**given: Any) -> dict[str, Any]:
    """What the argument spec hands render(): the defaults, and what the task gives."""
    return {
        "project_dir": None,
        "overlay": {"environment": "dev"},
        "target": "swarm",
        "stack_name": None,
        "endpoint_mode": "vip",
        "edge_network": "drover-edge",
        "edge_entrypoint": "websecure",
        "edge_certresolver": None,
        "strict_environments": ["preprod", "prod"],
        "allow": [],
        **given,
    }


def test_render_the_realistic_app() -> None:
    result = render(params(overlay=PROD_OVERLAY), str(REALISTIC / "compose.yml"))
    assert result["changed"] is False
    assert "failed" not in result
    assert result["stack_name"] == "shop-prod"
    assert result["environment"] == "prod"
    assert result["services"] == ["web", "api", "worker", "db", "cache"]
    assert result["images"]["db"] == "postgres:16.4-bookworm"
    assert {item["key"] for item in result["report"]} == {"depends_on"}
    assert all(item["allowed"] for item in result["report"])
    assert result["definition"]["secrets"] == {"db_password": {"content": SECRET}}
    assert "traefik.http.routers.shop-prod-web.rule" in result["definition"]["services"]["web"]["deploy"]["labels"]
    # Secret contents are in the definition: no callback may print the result.
    assert result["_ansible_no_log"] is True


def test_without_secrets_the_result_is_shown(tmp_path: Path) -> None:
    (tmp_path / "compose.yml").write_text("services:\n  web:\n    image: web:1.0\n")
    result = render(params(stack_name="web-test"), str(tmp_path / "compose.yml"))
    assert "_ansible_no_log" not in result
    assert result["stack_name"] == "web-test"
    assert result["definition"]["services"]["web"]["image"] == "web:1.0"


def test_a_report_item_not_allowed_stops_before_the_deploy(tmp_path: Path) -> None:
    (tmp_path / "compose.yml").write_text(
        textwrap.dedent(
            """\
            services:
              web: {image: web:1.0, build: ., container_name: web, secrets: [token]}
              db: {image: db:1.0, volumes: ['/srv/db:/var/lib/db']}
            secrets:
              token: {file: token.txt}
            """
        )
    )
    (tmp_path / "token.txt").write_text(SECRET)
    result = render(params(allow=["build"]), str(tmp_path / "compose.yml"))
    assert result["failed"] is True
    assert "definition" not in result
    assert "_ansible_no_log" not in result
    assert result["msg"] == (
        "the app cannot be deployed as written: 2 Compose key(s) are not honoured on this target, and nothing allows "
        "them:\n"
        "- web: container_name - Swarm names every task itself (<stack>_<service>.<slot>.<id>); left out; allow it "
        "with allow: [container_name]\n"
        "- db: volumes.bind - the host path /srv/db (on /var/lib/db) must exist on every node the service can run "
        "on; Swarm does not copy it; allow it with allow: [volumes.bind]"
    )
    assert [(item["service"], item["key"], item["allowed"]) for item in result["report"]] == [
        ("web", "build", True),
        ("web", "container_name", False),
        ("db", "volumes.bind", False),
    ]
    assert SECRET not in repr(result)


def test_unset_variables_are_warnings(tmp_path: Path) -> None:
    (tmp_path / "compose.yml").write_text("services:\n  web:\n    image: web:${TAG:-1.0}\n    user: ${APP_USER}\n")
    result = render(params(), str(tmp_path / "compose.yml"))
    assert result["warnings"] == ["variable APP_USER is not set; it stands for an empty string (services.web.user)"]


# --- through ActionBase --------------------------------------------------------------------


def action(args: dict[str, Any], search_path: Path) -> ActionModule:
    task = MagicMock(Task)
    task.args = args
    task.async_val = 0
    task.check_mode = False
    task.action = "drover.platform.app_render"
    task.get_search_path.return_value = [str(search_path)]
    loader = DataLoader()
    loader.set_basedir(str(search_path))
    plugin = ActionModule(task, MagicMock(), MagicMock(), loader, MagicMock(), None)
    plugin._load_name = "drover.platform.app_render"
    return plugin


def test_run_finds_the_compose_file_in_files(tmp_path: Path) -> None:
    shutil.copytree(REALISTIC, tmp_path / "files" / "shop")
    plugin = action({"compose_file": "shop/compose.yml", "overlay": PROD_OVERLAY, "stack_name": "shop"}, tmp_path)
    result = plugin.run(task_vars={})
    assert result["stack_name"] == "shop"
    assert result["definition"]["configs"]["api_settings"]["content"].startswith("[shop]\n")


def test_run_with_a_project_dir(tmp_path: Path) -> None:
    (tmp_path / "compose.yml").write_text("services:\n  web:\n    image: web:${TAG}\n")
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / ".env").write_text("TAG=2.0\n")
    args = {"compose_file": str(tmp_path / "compose.yml"), "project_dir": "project", "overlay": {"environment": "dev"}}
    result = action(args, tmp_path).run(task_vars={})
    assert result["images"] == {"web": "web:2.0"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            {"overlay": {"environment": "dev"}}, "missing required arguments: compose_file", id="no-compose-file"
        ),
        pytest.param(
            {"compose_file": "compose.yml", "overlay": {"environment": "dev"}, "target": "nomad"},
            "value of target must be one of: swarm, kubernetes",
            id="target",
        ),
        pytest.param(
            {"compose_file": "compose.yml", "overlay": {"environment": "dev"}, "stack": "x"},
            "Unsupported parameters",
            id="unknown-option",
        ),
        pytest.param(
            {"compose_file": "nowhere.yml", "overlay": {"environment": "dev"}},
            "compose_file nowhere.yml was not found",
            id="missing-file",
        ),
        pytest.param({"compose_file": "compose.yml", "overlay": {}}, "overlay.environment must name", id="bad-overlay"),
        pytest.param(
            {"compose_file": "compose.yml", "overlay": {"environment": "prod"}},
            r"environment prod is strict .* the image of web \(web:latest\) is :latest",
            id="latest-in-prod",
        ),
    ],
)
def test_run_fails_on_bad_input(tmp_path: Path, args: dict[str, Any], message: str) -> None:
    (tmp_path / "compose.yml").write_text("services:\n  web:\n    image: web:latest\n")
    with pytest.raises(AnsibleActionFail, match=message):
        action(args, tmp_path).run(task_vars={})
