"""The requirement catalogue: every service-provider statement of RFC 7643/7644, with our summaries.

Carried as data in the package (conformance/data/requirements.tsv), never read from elsewhere at run time.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .registry import Check, all_checks


@dataclass(frozen=True)
class Requirement:
    id: str
    rfc: str
    section: str
    keyword: str
    level: str
    testable: str
    summary: str
    untestable_reason: str

    @property
    def url(self) -> str:
        return f"https://www.rfc-editor.org/rfc/rfc{self.rfc}#section-{self.section}"

    @property
    def untestable(self) -> bool:
        return bool(self.untestable_reason)


@functools.cache
def requirements() -> dict[str, Requirement]:
    text = resources.files("conformance.data").joinpath("requirements.tsv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    return {row["id"]: Requirement(**{k: (v or "") for k, v in row.items()}) for row in rows}


def unknown_ids(checks: list[Check] | None = None) -> dict[str, list[str]]:
    """Check id -> requirement ids it cites that the catalogue does not hold."""
    known = requirements()
    return {
        c.id: [r for r in c.requirements if r not in known]
        for c in (checks if checks is not None else all_checks())
        if any(r not in known for r in c.requirements)
    }


def coverage(checks: list[Check] | None = None) -> list[dict[str, Any]]:
    """One row per requirement: covered (a check cites it), untestable (with a reason) or uncovered."""
    by_req: dict[str, list[str]] = {}
    for c in checks if checks is not None else all_checks():
        for rid in c.requirements:
            by_req.setdefault(rid, []).append(c.id)
    rows = []
    for req in requirements().values():
        cited = sorted(by_req.get(req.id, []))
        status = "covered" if cited else ("untestable" if req.untestable else "uncovered")
        rows.append({
            "id": req.id, "section": req.section, "rfc": req.rfc, "level": req.level, "keyword": req.keyword,
            "status": status, "checks": cited, "summary": req.summary, "url": req.url,
            "untestable_reason": req.untestable_reason or None,
        })
    return rows
