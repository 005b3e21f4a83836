# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write each role's README.md from its meta/argument_specs.yml.

    tools/role_docs.py           write the READMEs
    tools/role_docs.py --check   exit 1 when one is out of date
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
GENERATED = "Written by tools/role_docs.py from meta/argument_specs.yml."


# ansible-doc's markup (C(), O(), ...) as Markdown: a README is read on a forge, not through ansible-doc.
_MARKUP = re.compile(r"\b(?P<kind>[CIBMOVEPUL])\((?P<body>[^()]*(?:\([^()]*\)[^()]*)*)\)")


def plain(text: str) -> str:
    """TEXT with ansible-doc markup turned into Markdown."""

    def one(match: re.Match[str]) -> str:
        kind, body = match["kind"], match["body"]
        if kind == "I":
            return f"*{body}*"
        if kind == "B":
            return f"**{body}**"
        if kind == "U":
            return f"<{body}>"
        if kind == "L":
            label, _comma, url = body.rpartition(",")
            return f"[{label.strip()}]({url.strip()})"
        # C() code, O() option, V() value, E() environment variable, P() plugin, M() module.
        return f"`{body.split('#', 1)[0] if kind == 'P' else body}`"

    return _MARKUP.sub(one, text)


def _text(value: Any) -> str:
    if isinstance(value, list):
        return plain(" ".join(str(v) for v in value))
    return plain(str(value or ""))


_PLACEHOLDER = {"str": "...", "path": "/path/to/...", "int": 0, "bool": True, "list": [], "dict": {}}


class _IndentedDumper(yaml.SafeDumper):
    """Lists indented under their key, as yamllint's default wants them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _plays(path: Path) -> list[dict[str, Any]]:
    try:
        plays = yaml.safe_load(path.read_text()) or []
    except yaml.YAMLError:
        return []
    return [play for play in plays if isinstance(play, dict) and "hosts" in play]


def _uses(play: dict[str, Any], role: str) -> bool:
    names = [item if isinstance(item, str) else item.get("role") for item in play.get("roles") or []]
    for task in play.get("tasks") or []:
        include = task.get("ansible.builtin.include_role") or task.get("ansible.builtin.import_role") or {}
        if isinstance(include, dict) and "tasks_from" not in include:
            names.append(include.get("name"))
    return f"drover.platform.{role}" in names


def example_playbook(role: Path, entry_point: str, spec: dict[str, Any]) -> list[str]:
    """A playbook applying the role as the project's own playbooks do: their hosts, become, some variables.

    A role without a main entry point is shown through its first one, with include_role.
    """
    play = next((play for path in sorted((ROOT / "playbooks").glob("*.yml")) for play in _plays(path)
                 if _uses(play, role.name)), {"hosts": "localhost" if entry_point != "main" else "all"})
    options = spec.get("options") or {}
    required = {name: option.get("default", _PLACEHOLDER.get(option.get("type", "str"), "..."))
                for name, option in options.items() if option.get("required")}
    # Beside what is required, the first two variables that have a plain default, at that default.
    shown = [name for name, option in options.items() if name not in required and option.get("default") not in
             (None, "", [], {}) and not re.search(r"{{|<", str(option.get("default")))][:2]
    required.update({name: options[name]["default"] for name in shown})
    example: dict[str, Any] = {"name": _text(spec.get("short_description")).rstrip("."), "hosts": play["hosts"]}
    if play.get("become"):
        example["become"] = True
    if entry_point == "main":
        entry: dict[str, Any] = {"role": f"drover.platform.{role.name}"}
        if required:
            entry["vars"] = required
        example["roles"] = [entry]
    else:
        task: dict[str, Any] = {"name": f"Run the {entry_point} entry point",
                                "ansible.builtin.include_role": {"name": f"drover.platform.{role.name}",
                                                                 "tasks_from": entry_point}}
        if required:
            task["vars"] = required
        example["tasks"] = [task]
    text = yaml.dump([example], Dumper=_IndentedDumper, sort_keys=False, default_flow_style=False, width=100)
    return ["## Example playbook", "", "```yaml", "---", *text.rstrip().splitlines(), "```", ""]


def _default(spec: dict[str, Any]) -> str:
    if "default" not in spec:
        return ""
    text = yaml.safe_dump(spec["default"], default_flow_style=True, width=10_000).strip().removesuffix("...").strip()
    return "`" + text.replace("|", "\\|") + "`"


def _rows(options: dict[str, Any], prefix: str = "") -> list[str]:
    rows = []
    for name, spec in options.items():
        kind = spec.get("type", "str")
        if kind == "list" and "elements" in spec:
            kind = f"list of {spec['elements']}"
        choices = ", ".join(f"`{c}`" if c != "" else "`''`" for c in spec.get("choices") or [])
        extra = f" Choices: {choices}." if choices else ""
        required = " **Required.**" if spec.get("required") else ""
        description = _text(spec.get("description")).replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{prefix}{name}` | {kind} | {_default(spec)} | {description}{extra}{required} |")
        if spec.get("options"):
            rows.extend(_rows(spec["options"], prefix=f"{prefix}{name}[]."))
    return rows


def render(role: Path) -> str:
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    lines = [f"# drover.platform.{role.name}", "", f"<!-- {GENERATED} -->", ""]
    for entry, spec in specs.items():
        if entry != "main":
            lines += [f"## Entry point `{entry}`", ""]
        lines += [_text(spec.get("short_description")), ""]
        for paragraph in spec.get("description") or []:
            lines += [plain(paragraph), ""]
        lines += ["| variable | type | default | meaning |", "|---|---|---|---|", *_rows(spec.get("options") or {}), ""]
    lines += example_playbook(role, *next(iter(specs.items())) if "main" not in specs else ("main", specs["main"]))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    stale = []
    for role in sorted(p.parent.parent for p in ROOT.glob("roles/*/meta/argument_specs.yml")):
        readme = role / "README.md"
        text = render(role)
        if "--check" in argv:
            if not readme.exists() or readme.read_text() != text:
                stale.append(str(readme.relative_to(ROOT)))
        else:
            readme.write_text(text)
    if stale:
        print("out of date (run tools/role_docs.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
