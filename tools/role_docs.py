# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write each role's README.md from its meta/argument_specs.yml.

    tools/role_docs.py           write the READMEs
    tools/role_docs.py --check   exit 1 when one is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
GENERATED = "Written by tools/role_docs.py from meta/argument_specs.yml."


def _text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value or "")


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
            lines += [paragraph, ""]
        lines += ["| variable | type | default | meaning |", "|---|---|---|---|", *_rows(spec.get("options") or {}), ""]
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
