"""Reporters: every format is rendered from the JSON report (:mod:`conformance.report`), so they agree.

terminal (progress, failure recap, verdict line), junit, html (single file), compare (checks × targets),
allure (labels for allure-pytest), baseline (accepted deviations), config (scim-conformance.toml) and
explain (what a check or requirement is about).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

OUTCOMES = ("pass", "fail", "warn", "skip", "error")
LEVELS = ("MUST", "SHOULD", "MAY")
REDACTED = "[REDACTED]"
# Headers a reproduction does not need (curl sets them itself, or they only describe our client).
CURL_SKIP_HEADERS = frozenset({"host", "content-length", "accept-encoding", "connection", "user-agent"})


class ReportError(Exception):
    """A report file or an option cannot be used; one line says why."""


def load_report(path: str | Path) -> dict[str, Any]:
    """Read a JSON report written by ``scim-conformance run``; one-line errors for anything else."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: cannot read ({exc})") from None
    except ValueError as exc:
        raise ReportError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list) or "report_version" not in data:
        raise ReportError(f"{path}: not a scim-conformance JSON report (no report_version/results)")
    return data


def counts(results: Iterable[dict[str, Any]]) -> dict[str, int]:
    out = dict.fromkeys(OUTCOMES, 0)
    for r in results:
        out[r["outcome"]] = out.get(r["outcome"], 0) + 1
    out["total"] = sum(out[o] for o in OUTCOMES)
    return out


def section_key(section: str) -> tuple[Any, ...]:
    """Sort "RFC 7644 §3.4.2" after "RFC 7644 §3.4" and before "RFC 7644 §3.10"."""
    m = re.match(r"RFC (\d+) §([\d.]+)", section or "")
    if not m:
        return (99999, (), section)
    return (int(m.group(1)), tuple(int(p) for p in m.group(2).split(".") if p), section)


def by_section(results: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault(r.get("section") or "?", []).append(r)
    return {k: groups[k] for k in sorted(groups, key=section_key)}


def section_url(section: str) -> str | None:
    m = re.match(r"RFC (\d+) §([\d.]+)", section or "")
    return f"https://www.rfc-editor.org/rfc/rfc{m.group(1)}#section-{m.group(2)}" if m else None


def accepted_ids(report: dict[str, Any]) -> dict[str, str]:
    """Result id -> reason, for the results a baseline accepted (see :mod:`.baseline`)."""
    out: dict[str, str] = {}
    for entry in (report.get("baseline") or {}).get("accepted", []):
        for rid in entry.get("results", []):
            out[rid] = entry.get("reason", "")
    return out


def tally(report: dict[str, Any]) -> dict[str, Any]:
    """The numbers behind the verdict line and the exit code."""
    accepted = accepted_ids(report)
    results = report["results"]
    fails = [r for r in results if r["outcome"] == "fail"]
    warns = [r for r in results if r["outcome"] == "warn"]
    errors = [r for r in results if r["outcome"] == "error"]
    return {
        "counts": counts(results),
        "fail": len(fails),
        "fail_accepted": sum(1 for r in fails if r["id"] in accepted),
        "warn_should": sum(1 for r in warns if r["level"] != "MAY"),
        "warn_may": sum(1 for r in warns if r["level"] == "MAY"),
        "warn_should_accepted": sum(1 for r in warns if r["level"] != "MAY" and r["id"] in accepted),
        "warn_may_accepted": sum(1 for r in warns if r["level"] == "MAY" and r["id"] in accepted),
        "error": len(errors),
        "error_accepted": sum(1 for r in errors if r["id"] in accepted),
    }


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def verdict_line(report: dict[str, Any]) -> str:
    """E.g. ``NOT CONFORMANT — 2 MUST failures, 3 SHOULD warnings, 41 skipped, 120 passed``.

    The verdict is the RFC's: a MUST failure makes a target not conformant even when a baseline accepts
    it (the baseline changes the exit code, and the line says how many it accepted).
    """
    t = tally(report)
    c = t["counts"]
    if t["fail"]:
        word = "NOT CONFORMANT"
    elif t["error"]:
        word = "INCONCLUSIVE"  # no MUST failure seen, but some exchanges broke: no verdict on those
    elif c["total"] == 0:
        word = "NOTHING RAN"
    else:
        word = "CONFORMANT"

    def accepted(n: int) -> str:
        return f" ({n} accepted)" if n else ""

    parts = [_n(t["fail"], "MUST failure") + accepted(t["fail_accepted"])]
    parts.append(_n(t["warn_should"], "SHOULD warning") + accepted(t["warn_should_accepted"]))
    if t["warn_may"]:
        parts.append(_n(t["warn_may"], "MAY warning") + accepted(t["warn_may_accepted"]))
    if t["error"]:
        parts.append(_n(t["error"], "error") + accepted(t["error_accepted"]))
    parts.append(f"{c['skip']} skipped")
    parts.append(f"{c['pass']} passed")
    return f"{word} — " + ", ".join(parts)


FAIL_ON = ("must", "should", "never")


def gate(report: dict[str, Any], fail_on: str = "must") -> bool:
    """True when the run must exit non-zero: an unaccepted error or MUST failure (and warn for ``should``)."""
    if fail_on == "never":
        return False
    accepted = accepted_ids(report)
    bad = {"fail", "error"} | ({"warn"} if fail_on == "should" else set())
    return any(r["outcome"] in bad and r["id"] not in accepted and not _info(r) for r in report["results"])


def _info(result: dict[str, Any]) -> bool:
    """A finding a profile reports as information only (level MAY, message "info: ..."): it never gates."""
    return result["outcome"] == "warn" and result.get("message", "").startswith("info: ")


def curl_command(exchange: dict[str, Any]) -> str:
    """A curl command that sends the recorded request again.

    The recorded exchange is already redacted; a redacted bearer token becomes ``$SCIM_TOKEN`` (the shell
    fills it in), any other redacted value stays ``[REDACTED]``. Nothing is taken from the settings.
    """
    parts = ["curl", "-sS", "-i"] + (["-L"] if exchange.get("redirects") else [])  # the suite followed them
    if exchange.get("method", "GET") != "GET":
        parts += ["-X", shlex.quote(exchange["method"])]
    parts.append(shlex.quote(exchange.get("url", "")))
    for name, value in (exchange.get("request_headers") or {}).items():
        if name.lower() in CURL_SKIP_HEADERS:
            continue
        if name.lower() == "authorization" and value == f"Bearer {REDACTED}":
            parts += ["-H", '"Authorization: Bearer $SCIM_TOKEN"']
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if exchange.get("request_body") is not None:
        parts += ["--data-raw", shlex.quote(exchange["request_body"])]
    return " ".join(parts)


def key_exchange(result: dict[str, Any]) -> dict[str, Any] | None:
    """The exchange that best shows a result: the last one its message names (``POST /Users?...``), else the
    last one the check made."""
    exchanges = result.get("exchanges") or []
    message = result.get("message") or ""
    for with_query in (True, False):
        for ex in reversed(exchanges):
            m = re.match(r"https?://[^/]+(/[^?#]*)(\?[^#]*)?", ex.get("url", ""))
            if not m:
                continue
            path, query = m.group(1), m.group(2) or ""
            # the message names the path relative to the base URL: try each suffix of the path
            segments = path.split("/")
            for i in range(1, len(segments)):
                tail = "/" + "/".join(segments[i:])
                if len(tail) > 1 and f"{ex['method']} {tail}{query if with_query else ''}" in message:
                    return ex
    return exchanges[-1] if exchanges else None


def requirement_rows(ids: Iterable[str]) -> list[dict[str, str]]:
    """Catalogue rows (level, summary, url) for requirement ids; unknown ids are kept with blanks."""
    from ..catalog import requirements

    known = requirements()
    rows = []
    for rid in ids:
        req = known.get(rid)
        rows.append(
            {
                "id": rid,
                "level": req.level if req else "",
                "summary": req.summary if req else "",
                "url": req.url if req else "",
            }
        )
    return rows
