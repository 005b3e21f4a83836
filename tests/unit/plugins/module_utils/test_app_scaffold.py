# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The scaffold (playbooks/new_app.yml): what it plans from a Compose file, and that what it writes deploys.

"Deploys" is checked the way the stack role renders: the written stack.yml,
its vault variables given, goes through app_render's render() with the
built images pinned, and nothing may be left to allow.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

from ansible_collections.drover.platform.plugins.action.app_render import render
from ansible_collections.drover.platform.plugins.filter.app_scaffold import app_scaffold, app_scaffold_summary
from ansible_collections.drover.platform.plugins.module_utils._app_model import Port, Service
from ansible_collections.drover.platform.plugins.module_utils._app_scaffold import (
    AppPlan,
    ScaffoldError,
    compose_path_from,
    domain_names,
    plan_app,
    plan_route,
    stack_vars_text,
    vault_example_text,
)
from ansible_collections.drover.platform.plugins.module_utils._stack_input import environment_problems

ROOT = Path(__file__).resolve().parents[4]
TEAMAPP = ROOT / "apps" / "teamapp" / "compose.yml"
DEMO = ROOT / "apps" / "demo" / "compose.yml"
BASES = {"dev": "dev.example.com", "preprod": "preprod.example.com", "prod": "example.com"}
LAB = dict.fromkeys(BASES, "lab.drover.test")
DIGEST = "sha256:" + "5e" * 32


def _port(target: int, published: int | None = None, protocol: str = "tcp") -> Port:
    return Port(target=target, published=published, protocol=protocol)


ROUTES: dict[str, tuple[list[Port], int | None, list[str], str]] = {
    "one HTTP port": ([_port(8000, 8000)], 8000, [], ""),
    "published on another port": ([_port(80, 8080)], 80, [], ""),
    "a database's port": ([_port(5432, 5432)], None, [], "PostgreSQL"),
    "two HTTP ports": ([_port(8000, 8000), _port(9000, 9000)], 8000, ["9000:9000"], "still publishes 9000:9000"),
    "UDP only": ([_port(5353, 5353, "udp")], None, [], ""),
    "exposed only": ([_port(8000)], None, [], ""),
    "no port": ([], None, [], ""),
}


@pytest.mark.parametrize(("ports", "routed", "kept", "note"), ROUTES.values(), ids=ROUTES.keys())
def test_a_service_is_routed_on_its_first_http_port(ports: list[Port], routed: int | None, kept: list[str],
                                                    note: str) -> None:
    route, said = plan_route(Service(name="svc", ports=ports))

    assert (route.port if route else None) == routed
    assert (route.kept if route else []) == kept
    assert note in (said or "")
    assert bool(said) == bool(note)


DOMAINS: dict[str, tuple[list[str], str, dict[str, str], dict[str, str]]] = {
    "one routed service, own base": (["web"], "prod", BASES, {"web": "shop.example.com"}),
    "several routed services": (["web", "api"], "dev", BASES,
                                {"web": "web-shop.dev.example.com", "api": "api-shop.dev.example.com"}),
    "one base for all (the lab)": (["web"], "preprod", LAB, {"web": "shop-preprod.lab.drover.test"}),
    "an underscore in a name": (["web_ui"], "dev", BASES | {"x": "x"}, {"web_ui": "shop.dev.example.com"}),
}


@pytest.mark.parametrize(("routes", "env", "bases", "expected"), DOMAINS.values(), ids=DOMAINS.keys())
def test_domains_differ_by_environment(routes: list[str], env: str, bases: dict[str, str],
                                       expected: dict[str, str]) -> None:
    assert domain_names("shop", routes, env, bases) == expected


def test_teamapp_is_planned_as_its_compose_file_asks() -> None:
    plan = plan_app(str(TEAMAPP), "teamapp", BASES)

    assert plan.built == ["api", "jobs"]
    assert {name: route.port for name, route in plan.routes.items()} == {"api": 8080, "docs": 8000}
    assert plan.secrets == {"api_token": "vault_teamapp_api_token"}
    dev, prod = plan.environments["dev"], plan.environments["prod"]
    assert dev.build and not prod.build
    assert prod.domains == {"api": "api-teamapp.example.com", "docs": "docs-teamapp.example.com"}
    assert prod.overlay["services"]["api"] == {"domain": "api-teamapp.example.com", "port": 8080, "ports": []}
    assert [entry for entry, _message in prod.allow] == [
        "api:volumes.bind_relative", "jobs:depends_on", "docs:volumes.bind_relative",
    ]
    # python:3.11-slim-bookworm has a version tag: strict environments take it.
    assert prod.image_problems == []


def _write(folder: Path, compose: str) -> Path:
    path = folder / "compose.yml"
    path.write_text(textwrap.dedent(compose))
    return path


def test_a_public_image_without_a_tag_is_a_problem_in_strict_environments_only(tmp_path: Path) -> None:
    compose = _write(tmp_path, """
        services:
          web:
            image: nginx
            ports: ["80:80"]
          db:
            image: postgres:16
            ports: ["5432:5432"]
    """)

    plan = plan_app(str(compose), "site", BASES)

    assert plan.environments["dev"].image_problems == []
    assert plan.environments["prod"].image_problems == [("web", "nginx has no tag, which means :latest")]
    assert plan.environments["prod"].overlay["services"]["db"] == {"ports": []}
    assert "db publishes 5432 (PostgreSQL)" in " ".join(plan.notes)
    assert "TODO web: nginx has no tag" in stack_vars_text(plan, "prod", "compose.yml")


BAD: dict[str, tuple[str, dict[str, str], str]] = {
    "an upper-case name": ("Shop", BASES, "must be lower-case"),
    "a base missing": ("shop", {"dev": "dev.example.com", "prod": ""}, "no base domain for preprod, prod"),
}


@pytest.mark.parametrize(("name", "bases", "message"), BAD.values(), ids=BAD.keys())
def test_bad_input_is_refused(name: str, bases: dict[str, str], message: str) -> None:
    with pytest.raises(ScaffoldError, match=message):
        plan_app(str(TEAMAPP), name, bases)


def test_no_compose_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScaffoldError, match="is not a file"):
        plan_app(str(tmp_path / "compose.yml"), "shop", BASES)


def _deployable(stack_vars: dict[str, Any], environment: str, compose_file: Path, app: str,
                endpoint_mode: str = "vip") -> dict[str, Any]:
    """Render one environment as the stack role does; the result (failed when something is left to allow)."""
    assert environment_problems(stack_vars["stack_environments"]) == []
    overlay = stack_vars["stack_environments"][environment]["overlay"]
    overlay = yaml.safe_load(re.sub(r"\{\{ *vault_\w+ *\}\}", "from-vault", yaml.safe_dump(overlay)))
    services = overlay.setdefault("services", {})
    for name in plan_app(str(compose_file), app, BASES).built:
        services.setdefault(name, {})["image"] = f"registry.example.com:5000/{app}/{name}@{DIGEST}"
    overlay["environment"] = environment
    params = {"overlay": overlay, "target": "swarm", "stack_name": f"{app}-{environment}",
              "endpoint_mode": endpoint_mode, "edge_network": "drover-edge", "edge_entrypoint": "websecure",
              "strict_environments": stack_vars["stack_strict_environments"], "allow": []}
    return render(params, str(compose_file))


@pytest.mark.parametrize("environment", list(BASES))
@pytest.mark.parametrize(("compose_file", "app", "endpoint_mode"),
                         [(TEAMAPP, "teamapp", "vip"), (TEAMAPP, "teamapp", "dnsrr"), (DEMO, "demo", "dnsrr")],
                         ids=["teamapp", "teamapp-dnsrr", "demo-dnsrr"])
def test_what_the_scaffold_writes_renders_with_nothing_left_to_allow(
    tmp_path: Path, compose_file: Path, app: str, endpoint_mode: str, environment: str
) -> None:
    written = app_scaffold(str(compose_file), app, str(tmp_path), BASES, endpoint_mode=endpoint_mode)
    stack_vars = yaml.safe_load(written["files"][str(tmp_path / environment / "group_vars" / "all" / "stack.yml")])

    assert stack_vars["stack_app_name"] == app
    assert stack_vars["stack_compose_file"].startswith("{{ inventory_dir }}/")
    result = _deployable(stack_vars, environment, compose_file, app, endpoint_mode)
    assert not result.get("failed"), result.get("msg")
    routed = [name for name, service in result["definition"]["services"].items() if "ports" not in service]
    assert routed


@pytest.mark.parametrize("environment", list(BASES))
def test_the_example_inventories_deploy_teamapp(environment: str) -> None:
    inventory = ROOT / "inventories" / environment
    stack_vars = yaml.safe_load((inventory / "group_vars" / "all" / "stack.yml").read_text())
    compose_file = Path(stack_vars["stack_compose_file"].replace("{{ inventory_dir }}", str(inventory))).resolve()
    vault_example = yaml.safe_load((inventory / "group_vars" / "all" / "vault.yml.example").read_text())

    assert compose_file == TEAMAPP
    assert list(stack_vars["stack_environments"]) == [environment]
    assert "vault_teamapp_api_token" in vault_example
    result = _deployable(stack_vars, environment, compose_file, "teamapp")
    assert not result.get("failed"), result.get("msg")


def test_the_vault_example_keeps_the_platform_one_and_adds_each_variable_once() -> None:
    plan = plan_app(str(TEAMAPP), "teamapp", BASES)
    platform = "---\nvault_registry_password: replace-me\n"

    once = vault_example_text(plan, "prod", "inventories/prod", platform)
    twice = vault_example_text(plan, "prod", "inventories/prod", once)

    assert yaml.safe_load(once) == {"vault_registry_password": "replace-me", "vault_teamapp_api_token": "replace-me"}
    assert twice == once


def test_the_compose_file_is_named_relative_to_the_inventory(tmp_path: Path) -> None:
    assert compose_path_from(str(tmp_path / "inv" / "dev"), str(tmp_path / "compose.yml")) == (
        "{{ inventory_dir }}/../../compose.yml"
    )


def test_the_summary_names_urls_items_and_the_next_step() -> None:
    plan: AppPlan = plan_app(str(TEAMAPP), "teamapp", BASES)

    lines = app_scaffold_summary(plan.as_dict(), "/srv/teamapp/inventories")

    assert lines[0].startswith("dev: /srv/teamapp/inventories/dev (builds: yes); routed: api https://api-teamapp.dev")
    assert "  allow jobs:depends_on: Swarm starts services in no order" in "\n".join(lines)
    assert lines[-1].startswith("next: ")


# The vault convention (docs/awx.md, Secrets): each value encrypted on its own with
# `ansible-vault encrypt_string`, never the file, so that an inventory loads without the
# vault password (AWX's inventory sync has none) and a value is opened only where it is used.
ENCRYPT_THE_FILE = re.compile(r"ansible-vault\s+encrypt(?!_string)\b")
VAULT = VaultLib([("default", VaultSecret(b"unit tests only"))])


def _vault_examples(tmp_path: Path) -> dict[str, str]:
    """{environment: vault.yml.example} as new_app.yml writes them; staging has no example in the collection."""
    bases = {**BASES, "staging": "staging.example.com"}
    scaffold = app_scaffold(str(TEAMAPP), "teamapp", str(tmp_path / "out"), bases,
                            examples_dir=str(ROOT / "inventories"))
    return {Path(path).parts[-4]: text for path, text in scaffold["files"].items()
            if path.endswith("vault.yml.example")}


def test_the_scaffold_says_to_encrypt_each_vault_value_not_the_file(tmp_path: Path) -> None:
    examples = _vault_examples(tmp_path)
    summary = app_scaffold_summary(plan_app(str(TEAMAPP), "teamapp", BASES).as_dict(), "/srv/teamapp/inventories")

    assert sorted(examples) == ["dev", "preprod", "prod", "staging"]
    for text in [*examples.values(), summary[-1]]:
        assert "ansible-vault encrypt_string" in text, text
        assert not ENCRYPT_THE_FILE.search(text), text


def _encrypted_value(name: str, value: str) -> str:
    """What `ansible-vault encrypt_string --name NAME VALUE` prints."""
    cipher = VAULT.encrypt(value).decode()
    return f"{name}: !vault |\n" + "".join(f"  {line}\n" for line in cipher.splitlines())


@pytest.mark.parametrize(("environment", "each_value"), [("dev", True), ("staging", True), ("dev", False)],
                         ids=["dev, each value", "staging, each value", "dev, the whole file"])
def test_an_inventory_loads_without_the_vault_password_only_when_each_value_is_encrypted(
    tmp_path: Path, environment: str, each_value: bool
) -> None:
    example = yaml.safe_load(_vault_examples(tmp_path)[environment])
    inventory = tmp_path / "inventory"
    (inventory / "group_vars" / "all").mkdir(parents=True)
    (inventory / "hosts.yml").write_text("---\nall:\n  hosts:\n    node1:\n")
    if each_value:
        text = "---\n" + "".join(_encrypted_value(name, f"real {name}") for name in example)
    else:
        text = VAULT.encrypt(yaml.safe_dump({name: f"real {name}" for name in example})).decode()
    (inventory / "group_vars" / "all" / "vault.yml").write_text(text)
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    env.update(ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"), ANSIBLE_NOCOLOR="1")

    done = subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(inventory), "--list"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=120)

    if each_value:
        assert done.returncode == 0, done.stderr
        hostvars = json.loads(done.stdout)["_meta"]["hostvars"]["node1"]
        assert "vault_teamapp_api_token" in example
        assert set(example) <= set(hostvars)
        assert all(set(hostvars[name]) == {"__ansible_vault"} for name in example)
    else:
        assert done.returncode != 0
        assert "Attempting to decrypt but no vault secrets found" in done.stderr
