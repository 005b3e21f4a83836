# Copyright: (c) 2026, drover.platform developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a deploy shows a person: the conversion report, the services as they converged, the routed URLs and
what they answered, and an environment's releases. Plain text lines from plain data, for `debug` to print.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ansible_collections.drover.platform.plugins.module_utils._deploy_lock import describe, format_seconds, held_for

_DIGEST_MARK = "@sha256:"


def short_digest(image: str | None) -> str:
    """sha256:<first 12 hex digits> of a reference or digest, '-' without one."""
    text = str(image or "")
    if _DIGEST_MARK in text:
        text = text.split("@", 1)[1]
    if not text.startswith("sha256:"):
        return "-"
    return text[: len("sha256:") + 12]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    return [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]


def report_lines(report: Sequence[Mapping[str, Any]]) -> list[str]:
    """The conversion report: what the target does not honour, refused (nothing allows it) first, then allowed."""
    if not report:
        return ["conversion report: every Compose key is honoured on this target"]
    refused = [item for item in report if not item.get("allowed")]
    allowed = [item for item in report if item.get("allowed")]
    lines = [f"conversion report: {len(refused)} refused, {len(allowed)} allowed"]
    for word, items in (("refused", refused), ("allowed", allowed)):
        for item in items:
            line = f"{word} {item.get('service') or 'app'}: {item['key']} - {item['message']}"
            if word == "refused":
                line += f" (allow it with overlay allow: [{item['key']}])"
            lines.append(line)
    return lines


def service_table(
    services: Mapping[str, Mapping[str, Any]],
    change_reasons: Mapping[str, str],
    elapsed: float,
    heading: str = "",
) -> list[str]:
    """One row per service: tasks running of desired, the digest it runs, what changed; the time at the end.

    Swarm converges a stack's services together: the time is the stack's, from the deploy's start.
    """
    rows = []
    for key in sorted(services):
        service = services[key]
        desired = service.get("desired")
        running = service.get("running")
        rows.append([
            key,
            f"{running if running is not None else '?'}/{desired if desired is not None else '?'}",
            service.get("state") or "-",
            short_digest(service.get("digest")),
            change_reasons.get(key) or "unchanged",
        ])
    lines = [heading] if heading else []
    lines += _table(["SERVICE", "RUNNING/DESIRED", "STATE", "DIGEST", "CHANGED"], rows)
    lines.append(f"converged in {elapsed:.1f} s")
    return lines


def routed_domains(overlay: Mapping[str, Any] | None) -> dict[str, str]:
    """{service: domain} of the services an overlay routes through the edge."""
    services = (overlay or {}).get("services") or {}
    return {
        str(name): str(settings["domain"])
        for name, settings in services.items()
        if isinstance(settings, Mapping) and settings.get("domain")
    }


def answer_lines(answers: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per routed service: its URL and what it answered (status, time, the start of the body)."""
    if not answers:
        return ["no service is routed through the edge"]
    lines = []
    for answer in answers:
        url = answer.get("url") or f"https://{answer.get('domain')}/"
        name = answer.get("service") or "?"
        if answer.get("status"):
            body = " ".join(str(answer.get("body") or "").split())
            body = body if len(body) <= 100 else body[:97] + "..."
            lines.append(f"{name}: {url} -> {answer['status']} {answer.get('reason', '')} in "
                         f"{float(answer.get('elapsed') or 0):.2f} s: {body}".rstrip(": "))
        else:
            lines.append(f"{name}: {url} -> no answer: {answer.get('error') or 'unknown error'}")
    return lines


def release_lines(
    releases: Sequence[Mapping[str, Any]],
    lock: Mapping[str, Any] | None,
    stack: str,
    now: float | None = None,
) -> list[str]:
    """An environment's releases, newest first (number, version, digests, when, by whom, note), and its lock."""
    lines = [f"{stack}: {len(releases)} release(s)"]
    rows = []
    for release in reversed(list(releases)):
        images = release.get("images") or {}
        digests = ", ".join(f"{name} {short_digest(image)}" for name, image in sorted(images.items())) or "-"
        rows.append([
            str(release.get("release", "?")),
            str(release.get("version") or "-"),
            str(release.get("deployed_at") or "-"),
            str(release.get("trigger") or "-"),
            str(release.get("note") or "-"),
            digests,
        ])
    if rows:
        lines += _table(["RELEASE", "VERSION", "WHEN", "BY", "NOTE", "DIGESTS"], rows)
    if lock:
        age = held_for(lock, now)
        since = lock.get("acquired_at", "an unknown time")
        lines.append(
            f"deploy lock: held by {describe(lock)} since {since}"
            + (f" ({format_seconds(age)} ago)" if age is not None else "")
        )
    else:
        lines.append("deploy lock: free")
    return lines
