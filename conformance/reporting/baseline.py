"""Baselines: deviations a team has accepted, so that CI gates on new ones only.

A baseline is TOML::

    [[accepted]]
    id = "create.status-201"          # a check id (every resource type) or a result id ("create.status-201[User]")
    reason = "returns 200; vendor ticket 1234"

A fail/warn/error result that an entry matches is reported as *accepted* (its outcome is unchanged; the
exit code ignores it). An entry whose results all pass now is *stale* (remove it); an entry that matched
no result of the run (not selected, or an unknown id) is *unmatched*.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from . import ReportError


def load(path: str | Path) -> list[dict[str, str]]:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"baseline {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"baseline {path}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ReportError(f"baseline {path}: not TOML ({exc})") from None
    unknown = sorted(set(data) - {"accepted"})
    if unknown:
        raise ReportError(f"baseline {path}: unknown table {unknown[0]!r} (expected [[accepted]] entries)")
    entries = data.get("accepted", [])
    if not isinstance(entries, list):
        raise ReportError(f"baseline {path}: 'accepted' must be an array of tables ([[accepted]])")
    out = []
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not entry["id"].strip():
            raise ReportError(f"baseline {path}: entry {n} has no id")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ReportError(f"baseline {path}: entry {n} ({entry['id']}) has no reason")
        extra = sorted(set(entry) - {"id", "reason"})
        if extra:
            raise ReportError(f"baseline {path}: entry {n} ({entry['id']}) has an unknown key {extra[0]!r}")
        out.append({"id": entry["id"].strip(), "reason": reason.strip()})
    return out


def _matches(entry_id: str, result: dict[str, Any]) -> bool:
    return result["id"] == entry_id or result["check"] == entry_id


def reason_for(entries: list[dict[str, str]], result: dict[str, Any]) -> str | None:
    """The reason of the first entry naming ``result`` (its id, or its check id), if any."""
    return next((entry["reason"] for entry in entries if _matches(entry["id"], result)), None)


def apply(report: dict[str, Any], entries: list[dict[str, str]], file: str) -> dict[str, Any]:
    """Add the ``baseline`` member to the report (in place) and return it."""
    accepted, stale, unmatched = [], [], []
    for entry in entries:
        hits = [r for r in report["results"] if _matches(entry["id"], r)]
        bad = [r["id"] for r in hits if r["outcome"] in ("fail", "warn", "error")]
        if bad:
            accepted.append({**entry, "results": bad})
        elif hits and all(r["outcome"] == "pass" for r in hits):
            stale.append(entry)
        else:  # nothing ran, or only skips: no evidence either way
            unmatched.append(entry)
    report["baseline"] = {"file": str(file), "accepted": accepted, "stale": stale, "unmatched": unmatched}
    return report["baseline"]
