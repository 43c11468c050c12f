"""The JSON report: a contract other tools rely on (its schema is schemas/report.schema.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import __version__, profiles
from .engine import Run, iter_outcomes

REPORT_VERSION = "1"


def build(run: Run) -> dict[str, Any]:
    summary = dict(iter_outcomes(run.results))
    summary["total"] = len(run.results)
    discovery = run.discovery.summary()
    discovery["leftovers"] = list(run.leftovers)
    return {
        "report_version": REPORT_VERSION,
        "tool": {"name": "scim-conformance", "version": __version__},
        "run_id": run.run_id,
        "target": {"url": run.settings.url, "profile": run.settings.profile, "embedded": run.settings.embedded},
        "started": run.started.isoformat().replace("+00:00", "Z"),
        "duration_s": round(run.duration_s, 3),
        "summary": summary,
        "discovery": discovery,
        "profiles": {p["name"]: p for p in profiles.verdicts(run)},  # verdict per --profile
        "results": [r.to_dict() for r in run.results],
    }


def write(report: dict[str, Any], path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
