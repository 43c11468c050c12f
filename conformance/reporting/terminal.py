"""Terminal output: progress grouped by RFC section, a recap of what went wrong, and the verdict line.

Colour only when the stream is a terminal and ``NO_COLOR`` is not set (https://no-color.org).
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, TextIO

from . import accepted_ids, counts, curl_command, key_exchange, requirement_rows, tally, verdict_line

MARKS = {"pass": ".", "fail": "F", "warn": "W", "skip": "s", "error": "E"}
COLOURS = {"pass": "32", "fail": "31;1", "warn": "33", "skip": "36", "error": "35;1", "bold": "1", "dim": "2"}
SECTION_WIDTH = 36


def _module_ranks() -> dict[str, int]:
    """Check id -> the position of its module in the registry (the order checks run in)."""
    from ..registry import REGISTRY

    modules = list(dict.fromkeys(c.module for c in REGISTRY.values()))
    return {c.id: modules.index(c.module) for c in REGISTRY.values()}


def module_section(check_id: str) -> str | None:
    """The RFC section of the module a check lives in: ``rfc7644_s3_5_2_patch`` -> ``RFC 7644 §3.5.2 patch``.

    Checks run module by module, so progress grouped this way stays on one line per section.
    """
    from ..registry import REGISTRY

    chk = REGISTRY.get(check_id)
    if chk is None:
        return None
    name = chk.module.rsplit(".", 1)[-1]
    m = re.match(r"rfc(\d+)_s([\d_]+?)_([a-z_]+)$", name)
    if not m:
        return name.replace("_", " ")
    return f"RFC {m.group(1)} §{m.group(2).replace('_', '.')} {m.group(3).replace('_', ' ')}"


def use_colour(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Painter:
    def __init__(self, colour: bool):
        self.colour = colour

    def __call__(self, style: str, text: str) -> str:
        return f"\x1b[{COLOURS[style]}m{text}\x1b[0m" if self.colour and style in COLOURS else text


class Progress:
    """A pytest plugin: one line per RFC section, a mark per result, the section's counts at its end."""

    def __init__(self, run: Any, stream: TextIO | None = None, colour: bool | None = None):
        self.run = run
        self.stream = stream or sys.stdout
        self.paint = Painter(use_colour(self.stream) if colour is None else colour)
        self._seen = 0
        self._section: str | None = None
        self._line: list[str] = []

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        self.update()

    def update(self) -> None:
        fresh = self.run.results[self._seen :]
        self._seen += len(fresh)
        # a parallel run (-n) finishes many at once, in any order: keep them grouped by module
        if len(fresh) > 1:
            ranks = _module_ranks()
            fresh = sorted(fresh, key=lambda r: ranks.get(r.check, len(ranks)))
        for result in fresh:
            group = module_section(result.check) or result.section
            if group != self._section:
                self.end_line()
                self._section = group
                self.stream.write(f"{group:<{SECTION_WIDTH}} ")
            outcome = result.outcome.value
            self._line.append(outcome)
            self.stream.write(self.paint(outcome, MARKS[outcome]))
            self.stream.flush()

    def end_line(self) -> None:
        if self._section is None:
            return
        c = {o: self._line.count(o) for o in MARKS}
        said = ", ".join(self.paint(o, f"{c[o]} {o}") for o in MARKS if c[o])
        self.stream.write(f"  {said}\n")
        self.stream.flush()
        self._section, self._line = None, []

    def pytest_sessionfinish(self, session: Any, exitstatus: int) -> None:
        self.update()
        self.end_line()


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: Any) -> str:
    """Text from the server, made safe to print: control characters (an escape sequence could rewrite the
    terminal) are shown as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def recap(report: dict[str, Any], colour: bool = False) -> str:
    """What went wrong, one block per result: requirement, expected, got, and a curl command to reproduce it."""
    paint = Painter(colour)
    accepted = accepted_ids(report)
    lines: list[str] = []
    for outcome, heading in (("fail", "MUST failures"), ("error", "Errors"), ("warn", "Warnings")):
        results = [r for r in report["results"] if r["outcome"] == outcome]
        if not results:
            continue
        lines.append(paint("bold", f"{heading} ({len(results)})"))
        for r in results:
            lines.append("")
            tag = paint(outcome, outcome.upper())
            note = f"  [accepted by the baseline: {accepted[r['id']]}]" if r["id"] in accepted else ""
            lines.append(f"{tag} {r['id']}  {r['level']}  {r['section']}{note}")
            for req in requirement_rows(r["requirements"]):
                summary = f" {req['summary']}" if req["summary"] else ""
                lines.append(f"  requirement {req['id']} ({req['level'] or '?'}):{summary}")
                if req["url"]:
                    lines.append(f"    {req['url']}")
            lines.append(f"  expected: {r['title']}")
            lines.append(f"  got:      {clean(r['message'])}")
            ex = key_exchange(r)
            if ex is not None:
                answer = ex.get("error") or f"HTTP {ex.get('status')}"
                lines.append(f"  last exchange: {clean(ex['method'])} {clean(ex['url'])} -> {clean(answer)}")
                lines.append("  reproduce:")
                lines.append(f"    {clean(curl_command(ex))}")
            lines.append(f"  explain: scim-conformance explain {r['check']}")
        lines.append("")
    return "\n".join(lines)


def baseline_lines(report: dict[str, Any]) -> list[str]:
    base = report.get("baseline")
    if not base:
        return []
    out = [f"baseline {base.get('file', '')}: {len(base.get('accepted', []))} accepted entries"]
    for entry in base.get("stale", []):
        out.append(f"  stale: {entry['id']} now passes — remove it from the baseline ({entry.get('reason', '')})")
    for entry in base.get("unmatched", []):
        out.append(f"  unmatched: {entry['id']} matched no result of this run")
    return out


def summary(
    report: dict[str, Any], paths: dict[str, str] | None = None, colour: bool = False, quiet: bool = False
) -> str:
    """The recap (unless quiet), baseline notes, the report paths and the verdict line."""
    paint = Painter(colour)
    lines: list[str] = []
    if not quiet:
        text = recap(report, colour)
        if text:
            lines.append(text)
        c = counts(report["results"])
        target = report.get("target", {})
        lines.append(
            f"target {target.get('url', '?')} (profile {target.get('profile', '?')}): "
            + ", ".join(f"{c[o]} {o}" for o in MARKS)
            + f" ({c['total']} results)"
        )
        for name, verdict in (report.get("profiles") or {}).items():  # readiness per --profile, when present
            said = verdict.get("verdict", "") if isinstance(verdict, dict) else verdict
            lines.append(f"profile {name}: {clean(said)}")
        leftovers = (report.get("discovery") or {}).get("leftovers") or []
        if leftovers:
            lines.append("could not delete: " + "; ".join(leftovers))
    lines.extend(baseline_lines(report))
    for kind, path in (paths or {}).items():
        lines.append(f"{kind}: {path}")
    t = tally(report)
    style = "fail" if t["fail"] else "error" if t["error"] else "pass"
    lines.append(paint(style, verdict_line(report)))
    return "\n".join(lines) + "\n"
