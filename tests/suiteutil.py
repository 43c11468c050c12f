"""Helpers for the project's own tests: run the suite through the engine and index its results."""

from __future__ import annotations

from typing import Any

from conformance.engine import Run, Settings
from conformance.model import Outcome, Result

# How bad an outcome is, for "did this fault make a check worse than on the clean target".
SEVERITY = {Outcome.PASS: 0, Outcome.SKIP: 0, Outcome.WARN: 1, Outcome.FAIL: 2, Outcome.ERROR: 2}


def run_suite(url: str, token: str | None, select: tuple[str, ...] = (), **settings: Any) -> dict[str, Result]:
    """``settings``: more :class:`Settings` fields (a fault that needs an opt-in group, e.g. ``fuzz=True``)."""
    run = Run(Settings(url=url, token=token, select=select, timeout=10.0, **settings))
    try:
        run.start()
        run.run_all()
    finally:
        run.http.close()
    return {r.id: r for r in run.results}


def describe(results: dict[str, Result], ids: list[str]) -> str:
    return "\n".join(f"  {i}: {results[i].outcome.value} — {results[i].message}" for i in ids)
