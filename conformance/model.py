"""The verdict model: outcomes, recorded HTTP exchanges and check results.

A check reports a *violation* (see :mod:`conformance.verdicts`); the level of the check (or of the
profile that runs it) turns the violation into an outcome: MUST -> fail, SHOULD and MAY -> warn.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Outcome(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"  # a MUST-level requirement is violated
    WARN = "warn"  # a SHOULD-level requirement is violated (or a MAY-level expectation is not met)
    SKIP = "skip"  # not advertised, not applicable: the reason says which
    ERROR = "error"  # the exchange itself broke (timeout, reset, non-JSON); no verdict on the requirement

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


OUTCOME_ORDER = [Outcome.PASS, Outcome.FAIL, Outcome.WARN, Outcome.SKIP, Outcome.ERROR]
LEVELS = ("MUST", "SHOULD", "MAY")


def outcome_for_violation(level: str) -> Outcome:
    """What a violated requirement of ``level`` means for the verdict."""
    return Outcome.FAIL if level == "MUST" else Outcome.WARN


@dataclass
class Exchange:
    """One HTTP request and what came back, secrets already redacted."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str | None = None
    elapsed_s: float = 0.0
    error: str | None = None
    redirects: list[dict[str, Any]] = field(default_factory=list)  # same-origin redirects followed: status, location

    def to_dict(self) -> dict[str, Any]:
        out = {
            "method": self.method,
            "url": self.url,
            "request_headers": dict(self.request_headers),
            "request_body": self.request_body,
            "status": self.status,
            "response_headers": dict(self.response_headers),
            "response_body": self.response_body,
            "elapsed_s": round(self.elapsed_s, 6),
            "error": self.error,
        }
        if self.redirects:  # the answer shown is the last hop's; the request shown went to the first URL
            out["redirects"] = [dict(hop) for hop in self.redirects]
        return out


@dataclass
class Result:
    """The verdict of one check on one parameter (resource type), with its evidence."""

    id: str
    check: str
    title: str
    section: str
    requirements: list[str]
    level: str
    outcome: Outcome = Outcome.PASS
    message: str = ""
    resource_type: str | None = None
    duration_s: float = 0.0
    exchanges: list[Exchange] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "check": self.check,
            "title": self.title,
            "section": self.section,
            "requirements": list(self.requirements),
            "level": self.level,
            "outcome": self.outcome.value,
            "message": self.message,
            "resource_type": self.resource_type,
            "duration_s": round(self.duration_s, 6),
            "exchanges": [e.to_dict() for e in self.exchanges],
        }
