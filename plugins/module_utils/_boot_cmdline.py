# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel parameters in a Raspberry Pi cmdline.txt or in /etc/default/grub.

Pure Python: reading, editing and rendering, with no AnsibleModule, so that
tests drive it on text and on files in a scratch root. The module only adds
the atomic write, the backup and the result.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field

TARGETS = ("auto", "cmdline", "grub")
STATES = ("present", "absent")
GRUB_VARIABLES = ("GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT")

# Raspberry Pi OS bookworm mounts the boot partition on /boot/firmware and
# leaves a placeholder at /boot/cmdline.txt; older releases use /boot.
FIRMWARE_CMDLINE = "/boot/firmware/cmdline.txt"
LEGACY_CMDLINE = "/boot/cmdline.txt"
GRUB_DEFAULT = "/etc/default/grub"
GRUB_DEFAULT_DIR = "/etc/default/grub.d"

# Everything after a bare "--" goes to init, not to the kernel.
INIT_SEPARATOR = "--"

_PARAMETER_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_SHELL_ASSIGNMENT = re.compile(r"(?P<prefix>\s*(?:export\s+)?)(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<rest>.*)")
_SHELL_BARE_WORD = re.compile(r"[A-Za-z0-9_.,:/=+@%\-]+")
_SHELL_LINE_REST = re.compile(r"(?:\s+(?:#.*)?)?")
_SHELL_SPECIAL = frozenset("\"'\\$`;&|<>()")
_LINE_END = re.compile(r"\r?\n$")


class BootCmdlineError(Exception):
    """Base of every error this module reports; the message says what to do."""


class BootFileNotFoundError(BootCmdlineError):
    """No file to edit where one was expected."""


class NotACmdlineError(BootCmdlineError):
    """The file does not read as a kernel command line."""


class QuotingError(BootCmdlineError):
    """A command line whose double quotes do not pair up."""


class GrubSyntaxError(BootCmdlineError):
    """A GRUB defaults file whose variable this module cannot safely rewrite."""


class ParameterError(BootCmdlineError):
    """A requested parameter that cannot be written on a kernel command line."""


@dataclass(frozen=True)
class Token:
    """One word of a kernel command line, as written (raw) and as the kernel reads it."""

    raw: str
    name: str
    value: str | None = None

    @classmethod
    def build(cls, name: str, value: str | None) -> Token:
        if value is None:
            raw = name
        elif re.search(r"\s", value):
            raw = f'{name}="{value}"'
        else:
            raw = f"{name}={value}"
        return cls(raw=raw, name=name, value=value)


@dataclass
class Edit:
    before: list[Token]
    tokens: list[Token]
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return [token.raw for token in self.before] != [token.raw for token in self.tokens]


@dataclass
class Plan:
    """What the module is about to do to one file, or found already done."""

    target: str
    path: str
    before: str
    after: str
    cmdline: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reboot_required: bool = False
    update_grub_required: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after


# --- kernel command line ---------------------------------------------------


def _split_words(text: str) -> list[str]:
    """Split as the kernel's next_arg() does: whitespace outside double quotes."""
    words: list[str] = []
    current: list[str] = []
    in_quote = False
    for char in text:
        if char.isspace() and not in_quote:
            if current:
                words.append("".join(current))
                current = []
            continue
        if char == '"':
            in_quote = not in_quote
        current.append(char)
    if in_quote:
        raise QuotingError(f"a double quote is never closed in {text.strip()!r}; every opening \" needs its closing \"")
    if current:
        words.append("".join(current))
    return words


def _token_from_word(word: str) -> Token:
    inner = word
    if len(inner) >= 2 and inner.startswith('"') and inner.endswith('"'):
        inner = inner[1:-1]
    name, equals, value = inner.partition("=")
    if not equals:
        return Token(raw=word, name=name)
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        value = value[1:-1]
    return Token(raw=word, name=name, value=value)


def parse_cmdline(text: str) -> list[Token]:
    """Tokens of a command line, in order, unknown words kept as they are."""
    return [_token_from_word(word) for word in _split_words(text)]


def render_cmdline(tokens: list[Token]) -> str:
    return " ".join(token.raw for token in tokens)


def parse_parameter(spec: str) -> Token:
    """A requested parameter: C(name) or C(name=value); quotes around the value are optional."""
    text = spec.strip()
    name, equals, value = text.partition("=")
    if not _PARAMETER_NAME.fullmatch(name):
        raise ParameterError(
            f"{spec!r} is not a kernel parameter: write name or name=value, the name made of letters, digits, "
            "'_', '-' and '.'"
        )
    if not equals:
        return Token.build(name, None)
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        value = value[1:-1]
    if '"' in value or "\n" in value or "\r" in value:
        raise ParameterError(
            f"the value of {name!r} in {spec!r} holds a double quote or a line break, which a kernel command line "
            "cannot carry"
        )
    return Token.build(name, value)


def _split_init(tokens: list[Token]) -> tuple[list[Token], list[Token]]:
    for index, token in enumerate(tokens):
        if token.raw == INIT_SEPARATOR:
            return tokens[:index], tokens[index:]
    return list(tokens), []


def apply_parameters(tokens: list[Token], wanted: list[Token], state: str) -> Edit:
    """Make the kernel's part of the line hold (present) or lose (absent) the wanted parameters.

    present: every name asked for ends up with exactly the values asked for,
    in that order, where the name first stood (appended when it was not
    there); so cgroup_memory=1 replaces cgroup_memory=0 in place, and
    console=serial0,115200 with console=tty1 keeps both consoles.
    absent: "name" removes every word of that name, "name=value" only the
    words with that value.
    Words the request does not name are kept as written, in their order.
    """
    kernel, init = _split_init(tokens)
    edit = Edit(before=list(tokens), tokens=list(kernel))
    if state == "absent":
        kept = []
        for token in edit.tokens:
            if any(token.name == item.name and (item.value is None or token.value == item.value) for item in wanted):
                edit.removed.append(token.raw)
            else:
                kept.append(token)
        edit.tokens = kept
    elif state == "present":
        values_by_name: dict[str, list[str | None]] = {}
        for item in wanted:
            values = values_by_name.setdefault(item.name, [])
            if item.value not in values:
                values.append(item.value)
        for name, values in values_by_name.items():
            _set_values(edit, name, values)
    else:
        raise ParameterError(f"state must be one of {', '.join(STATES)}, not {state!r}")
    edit.tokens.extend(init)
    return edit


def _set_values(edit: Edit, name: str, values: list[str | None]) -> None:
    existing = [token for token in edit.tokens if token.name == name]
    if [token.value for token in existing] == values:
        return
    # A value already written keeps its spelling (its quotes, say).
    spelled = {token.value: token for token in reversed(existing)}
    wanted = [spelled.get(value) or Token.build(name, value) for value in values]
    others = [token for token in edit.tokens if token.name != name]
    first = next((index for index, token in enumerate(edit.tokens) if token.name == name), len(edit.tokens))
    at = sum(1 for token in edit.tokens[:first] if token.name != name)
    edit.tokens = others[:at] + wanted + others[at:]

    old = Counter(token.raw for token in existing)
    new = Counter(token.raw for token in wanted)
    edit.removed.extend((old - new).elements())
    edit.added.extend((new - old).elements())


# --- Raspberry Pi cmdline.txt ----------------------------------------------


def is_bookworm_stub(text: str) -> bool:
    """True for the placeholder that bookworm leaves at /boot/cmdline.txt."""
    return FIRMWARE_CMDLINE in text and ("moved" in text or "DO NOT EDIT" in text)


def edit_cmdline_txt(text: str, path: str, wanted: list[Token], state: str) -> Plan:
    """Edit a cmdline.txt: one line of parameters ending in one newline."""
    if is_bookworm_stub(text):
        raise NotACmdlineError(
            f"{path} is the placeholder Raspberry Pi OS bookworm leaves behind: edit {FIRMWARE_CMDLINE} instead "
            "(leave path unset to have it found)"
        )
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    tokens: list[Token] = []
    for number, line in enumerate(lines, start=1):
        line_tokens = parse_cmdline(line)
        if len(lines) > 1:
            _check_parameter_line(path, len(lines), number, line_tokens)
        tokens.extend(line_tokens)

    edit = apply_parameters(tokens, wanted, state)
    line = render_cmdline(edit.tokens) if edit.changed else " ".join(lines)
    # An empty file stays empty rather than gaining a lone newline.
    after = line + "\n" if line or edit.changed else text
    warnings = []
    if after != text:
        reasons = _layout_faults(text, lines)
        if reasons:
            warnings.append(f"{path} rewritten as one line ending in a single newline; it had {', '.join(reasons)}")
    return Plan(
        target="cmdline",
        path=path,
        before=text,
        after=after,
        cmdline=line,
        added=edit.added,
        removed=edit.removed,
        reboot_required=edit.changed or len(lines) > 1,
        warnings=warnings,
    )


def _check_parameter_line(path: str, line_count: int, number: int, tokens: list[Token]) -> None:
    after_separator = False
    for token in tokens:
        if token.raw == INIT_SEPARATOR:
            after_separator = True
        elif not after_separator and not _PARAMETER_NAME.fullmatch(token.name):
            raise NotACmdlineError(
                f"{path} has {line_count} lines and line {number} does not read as kernel parameters "
                f"({token.raw!r}); a cmdline.txt is one line of parameters: put it right by hand, or point path "
                "at the right file"
            )


def _layout_faults(text: str, lines: list[str]) -> list[str]:
    faults = []
    if len(lines) > 1:
        faults.append(f"its parameters on {len(lines)} lines, now joined")
    if "\r" in text:
        faults.append("Windows line endings")
    if not text.endswith("\n"):
        faults.append("no newline at the end")
    if any(line != line.strip() for line in text.splitlines() if line.strip()):
        faults.append("spaces around the parameters")
    if len(text.splitlines()) > len(lines):
        faults.append("blank lines")
    return faults


# --- GRUB defaults ---------------------------------------------------------


@dataclass
class _Assignment:
    index: int
    prefix: str
    value: str
    style: str
    suffix: str
    line_end: str


def _read_shell_value(rest: str, where: str) -> tuple[str, str, str]:
    """Value, quoting style and what follows it, for the right-hand side of VAR=..."""
    if rest.startswith('"'):
        chars: list[str] = []
        index = 1
        while index < len(rest):
            char = rest[index]
            if char == "\\" and index + 1 < len(rest) and rest[index + 1] in '"\\$`':
                chars.append(rest[index + 1])
                index += 2
                continue
            if char == '"':
                return "".join(chars), "double", rest[index + 1:]
            if char in "$`":
                raise GrubSyntaxError(
                    f"{where} expands shell variables or commands ({rest.strip()}); write the parameters out in full "
                    "so they can be edited"
                )
            chars.append(char)
            index += 1
        raise GrubSyntaxError(f"{where} opens a double quote it does not close; keep the value on one line")
    if rest.startswith("'"):
        end = rest.find("'", 1)
        if end < 0:
            raise GrubSyntaxError(f"{where} opens a single quote it does not close; keep the value on one line")
        return rest[1:end], "single", rest[end + 1:]
    end = 0
    while end < len(rest) and not rest[end].isspace():
        if rest[end] in _SHELL_SPECIAL:
            raise GrubSyntaxError(
                f"{where} has shell syntax this module does not rewrite ({rest.strip()}); quote the value"
            )
        end += 1
    return rest[:end], "bare", rest[end:]


def _find_assignment(lines: list[str], variable: str, path: str) -> _Assignment | None:
    found = []
    for index, line in enumerate(lines):
        body = _LINE_END.sub("", line)
        match = _SHELL_ASSIGNMENT.fullmatch(body)
        if match and match.group("name") == variable:
            found.append((index, match, line[len(body):]))
    if not found:
        return None
    if len(found) > 1:
        numbers = ", ".join(str(index + 1) for index, _match, _end in found)
        raise GrubSyntaxError(f"{variable} is set on lines {numbers} of {path}; merge them into one line")
    index, match, line_end = found[0]
    where = f"{variable} on line {index + 1} of {path}"
    value, style, suffix = _read_shell_value(match.group("rest"), where)
    if not _SHELL_LINE_REST.fullmatch(suffix):
        raise GrubSyntaxError(
            f"{where} has more after its value ({suffix.strip()}); "
            "keep one quoted value per line"
        )
    return _Assignment(index, match.group("prefix"), value, style, suffix, line_end)


def _quote_for_shell(value: str, style: str) -> str:
    if style == "single" and "'" not in value:
        return f"'{value}'"
    if style == "bare" and (value == "" or _SHELL_BARE_WORD.fullmatch(value)):
        return value
    escaped = re.sub(r'(["\\$`])', r"\\\1", value)
    return f'"{escaped}"'


def _insert_at(lines: list[str]) -> int:
    for pattern in (r"\s*(?:export\s+)?GRUB_CMDLINE_LINUX\w*=", r"\s*(?:export\s+)?GRUB_\w*="):
        indexes = [index for index, line in enumerate(lines) if re.match(pattern, line)]
        if indexes:
            return indexes[-1] + 1
    return len(lines)


def edit_grub(text: str, path: str, variable: str, wanted: list[Token], state: str) -> Plan:
    """Edit one variable of a GRUB defaults file, leaving every other byte as it was."""
    lines = text.splitlines(keepends=True)
    assignment = _find_assignment(lines, variable, path)
    current = assignment.value if assignment else ""
    try:
        tokens = parse_cmdline(current)
    except QuotingError as error:
        raise QuotingError(f"{variable} in {path}: {error}") from None

    edit = apply_parameters(tokens, wanted, state)
    cmdline = render_cmdline(edit.tokens) if edit.changed else current
    if edit.changed:
        if assignment:
            quoted = _quote_for_shell(cmdline, assignment.style)
            lines[assignment.index] = f"{assignment.prefix}{variable}={quoted}{assignment.suffix}{assignment.line_end}"
        else:
            index = _insert_at(lines)
            if index == len(lines) and lines and not lines[-1].endswith("\n"):
                lines[-1] += "\n"
            line_end = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
            lines.insert(index, f"{variable}={_quote_for_shell(cmdline, 'double')}{line_end}")
    return Plan(
        target="grub",
        path=path,
        before=text,
        after="".join(lines),
        cmdline=cmdline,
        added=edit.added,
        removed=edit.removed,
        reboot_required=edit.changed,
        update_grub_required=edit.changed,
    )


# --- files -----------------------------------------------------------------


def under_root(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def read_text(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise BootFileNotFoundError(f"{path} does not exist") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotACmdlineError(f"{path} is not UTF-8 text ({error}); point path at the right file") from None


def _guess_target(path: str) -> str:
    if os.path.basename(path) == "cmdline.txt":
        return "cmdline"
    text = read_text(path)
    if any(re.match(r"\s*(?:export\s+)?GRUB_\w*=", line) for line in text.splitlines()):
        return "grub"
    raise NotACmdlineError(f"cannot tell whether {path} is a cmdline.txt or a GRUB defaults file: set target")


def locate(root: str, target: str, path: str | None = None) -> tuple[str, str, list[str]]:
    """The file to edit and its kind: (target, path on disk, warnings)."""
    if path:
        full = under_root(root, path)
        if not os.path.isfile(full):
            raise BootFileNotFoundError(f"{full} (given as path) does not exist or is not a file")
        return (target if target != "auto" else _guess_target(full)), full, []

    if target in ("auto", "cmdline"):
        found = _locate_cmdline_txt(root)
        if found:
            return ("cmdline",) + found
        if target == "cmdline":
            raise BootFileNotFoundError(
                f"no cmdline.txt at {under_root(root, FIRMWARE_CMDLINE)} or {under_root(root, LEGACY_CMDLINE)}: "
                "is this a Raspberry Pi with its boot partition mounted? Set path if it lives elsewhere"
            )

    grub = under_root(root, GRUB_DEFAULT)
    if os.path.isfile(grub):
        return "grub", grub, []
    if target == "grub":
        raise BootFileNotFoundError(
            f"{grub} does not exist: is GRUB installed? Set path if its defaults live elsewhere"
        )
    raise BootFileNotFoundError(
        f"found no kernel command line to edit: neither {under_root(root, FIRMWARE_CMDLINE)}, "
        f"{under_root(root, LEGACY_CMDLINE)} (Raspberry Pi) nor {grub} (GRUB) exists; set target and path"
    )


def _locate_cmdline_txt(root: str) -> tuple[str, list[str]] | None:
    firmware = under_root(root, FIRMWARE_CMDLINE)
    legacy = under_root(root, LEGACY_CMDLINE)
    legacy_is_stub = os.path.isfile(legacy) and is_bookworm_stub(read_text(legacy))
    if os.path.isfile(firmware):
        warnings = []
        if os.path.isfile(legacy) and not legacy_is_stub:
            warnings.append(
                f"both {firmware} and {legacy} hold a command line; {firmware} is edited, as on bookworm. "
                "Check which one the firmware reads, and set path if it is the other"
            )
        return firmware, warnings
    if legacy_is_stub:
        raise BootFileNotFoundError(
            f"{legacy} is the bookworm placeholder pointing at {firmware}, which does not exist: "
            "is the boot partition mounted on /boot/firmware?"
        )
    if os.path.isfile(legacy):
        return legacy, []
    return None


def _grub_overrides(root: str, variable: str) -> list[str]:
    warnings = []
    for conf in sorted(glob.glob(os.path.join(under_root(root, GRUB_DEFAULT_DIR), "*.cfg"))):
        try:
            text = read_text(conf)
        except BootCmdlineError:
            continue
        if any(re.match(rf"\s*(?:export\s+)?{re.escape(variable)}=", line) for line in text.splitlines()):
            warnings.append(
                f"{conf} also sets {variable} and is read after {GRUB_DEFAULT}, so it may override this edit"
            )
    return warnings


def plan_change(
    parameters: list[str],
    state: str = "present",
    target: str = "auto",
    path: str | None = None,
    grub_variable: str = GRUB_VARIABLES[0],
    root: str = "/",
) -> Plan:
    """Read the file the options point at and work out its new content; writes nothing."""
    wanted = [parse_parameter(spec) for spec in parameters]
    target, full_path, warnings = locate(root, target, path)
    text = read_text(full_path)
    if target == "cmdline":
        plan = edit_cmdline_txt(text, full_path, wanted, state)
    else:
        plan = edit_grub(text, full_path, grub_variable, wanted, state)
        if full_path == under_root(root, GRUB_DEFAULT):
            warnings.extend(_grub_overrides(root, grub_variable))
    plan.warnings[:0] = warnings
    return plan


def write_beside(path: str, text: str) -> str:
    """Write text to a new temporary file in path's directory, ready for an atomic rename onto path."""
    handle, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", dir=os.path.dirname(path) or ".")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(text.encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        os.unlink(temporary)
        raise
    return temporary
