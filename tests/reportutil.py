"""Helpers for the reporter tests: snapshot files, normalising run-specific text, a faulty target."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

SNAPSHOTS = Path(__file__).with_name("snapshots")
SAMPLE = SNAPSHOTS / "sample-report.json"


def sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def assert_snapshot(name: str, text: str) -> None:
    """Compare with tests/snapshots/NAME; SNAPSHOT_UPDATE=1 rewrites the file instead."""
    path = SNAPSHOTS / name
    if os.environ.get("SNAPSHOT_UPDATE") == "1":
        path.write_text(text, encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path}; run with SNAPSHOT_UPDATE=1 once and review the file"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"output differs from {path} (SNAPSHOT_UPDATE=1 to accept):\n{text}"


def normalise(text: str) -> str:
    """Remove what changes from run to run: ports, run ids, server-assigned ids, times."""
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"sct[0-9a-f]{8}", "sctRUNID", text)
    text = re.sub(r"\b[0-9a-f]{32}\b", "ID", text)
    text = re.sub(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "UUID", text)
    text = re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?", "TIME", text)
    text = re.sub(r"scim-report-\d{8}-\d{6}", "scim-report-TIME", text)
    return text


def created_as_200(app: Any) -> Any:
    """WSGI middleware: a create of a User answers 200 instead of 201 (create.status-201 fails)."""

    def middleware(environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if environ["REQUEST_METHOD"] == "POST" and path.rstrip("/").endswith("/Users"):

            def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                return start_response("200 OK" if status.startswith("201") else status, headers, exc_info)

            return app(environ, start)
        if environ["REQUEST_METHOD"] == "GET" and re.search(r"/Groups/[^/.]+$", path):
            body = b"<html><body>maintenance</body></html>"  # not JSON: the exchange breaks (outcome error)
            start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))])
            return [body]
        return app(environ, start_response)

    return middleware
