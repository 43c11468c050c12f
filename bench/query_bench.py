"""Benchmark (not a test): the query checks' wall time and request count against the embedded target,
empty and pre-loaded with other users (10,000 by default).

    .venv/bin/python bench/query_bench.py [--users 10000] [--select filter. --select page. ...] [--repeat 1]

The pre-loaded users are made through /Bulk (1,000 operations per request) before the timed run; they
are other data on the tenant, which the checks must neither list nor be slowed down by (every query
is bounded by the run's own population). The goal: the loaded run within 1.2x the empty one.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conformance.embedded import EmbeddedTarget  # noqa: E402
from conformance.engine import Run, Settings  # noqa: E402
from conformance.http import ScimHttp  # noqa: E402

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
QUERY_CHECKS = ("filter.", "page.", "sort.")


def preload(url: str, token: str, users: int, chunk: int = 1000) -> float:
    """Create ``users`` users (not the suite's: another prefix) through /Bulk; the seconds it took."""
    started = time.perf_counter()
    http = ScimHttp(url, token, timeout=300.0)
    try:
        for first in range(0, users, chunk):
            ops = [
                {"method": "POST", "path": "/Users", "bulkId": f"b{i}",
                 "data": {"schemas": [USER], "userName": f"other-{i:06d}", "active": i % 2 == 0,
                          "name": {"familyName": f"Family{i % 97}", "givenName": f"Given{i}"},
                          "title": "Engineer" if i % 3 else None,
                          "emails": [{"value": f"other{i}@example.net", "type": "work", "primary": True}]}}
                for i in range(first, min(first + chunk, users))
            ]
            for op in ops:
                op["data"] = {k: v for k, v in op["data"].items() if v is not None}
            reply = http.post("Bulk", {"schemas": [BULK], "Operations": ops})
            if reply.status != 200:
                raise SystemExit(f"preloading: POST /Bulk answered {reply.status}")
        total = http.get("Users", params={"count": "0"}).json().get("totalResults")
        if total != users:
            raise SystemExit(f"preloading: the target holds {total} users, not {users}")
    finally:
        http.close()
    return time.perf_counter() - started


class ServerClock:
    """WSGI middleware adding up the time the server spends answering (its own filtering included)."""

    def __init__(self, app):
        self.app = app
        self.seconds = 0.0

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        try:
            return list(self.app(environ, start_response))
        finally:
            self.seconds += time.perf_counter() - started


def timed_run(url: str, token: str, select: tuple[str, ...], clock: ServerClock) -> tuple[float, float, int, dict]:
    """(wall seconds, seconds inside the server, requests, outcomes) of one run of the selected checks."""
    run = Run(Settings(url=url, token=token, select=select, timeout=60.0))
    try:
        run.start()
        before, server_before = run.http.request_count, clock.seconds
        started = time.perf_counter()
        results = run.run_all()
        seconds = time.perf_counter() - started
        requests = run.http.request_count - before
        server = clock.seconds - server_before
    finally:
        run.http.close()
    outcomes: dict[str, int] = {}
    for r in results:
        outcomes[r.outcome.value] = outcomes.get(r.outcome.value, 0) + 1
    return seconds, server, requests, outcomes


def measure(users: int, select: tuple[str, ...], repeat: int) -> tuple[float, float, int, dict]:
    holder: dict[str, ServerClock] = {}

    def wrap(app):
        holder["clock"] = ServerClock(app)
        return holder["clock"]

    with EmbeddedTarget(wrap=wrap) as target:
        if users:
            took = preload(target.url, target.token, users)
            print(f"  preloaded {users} users in {took:.1f} s")
        runs = [timed_run(target.url, target.token, select, holder["clock"]) for _ in range(repeat)]
    return (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), runs[0][2], runs[0][3])


def show(label: str, m: tuple[float, float, int, dict]) -> None:
    print(f"  {label}: wall {m[0]:.2f} s = server {m[1]:.2f} s + suite {m[0] - m[1]:.2f} s; {m[2]} requests; {m[3]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000, help="other users on the loaded target (10000)")
    parser.add_argument("--select", action="append", default=[], metavar="PREFIX",
                        help=f"check id prefixes (default: {' '.join(QUERY_CHECKS)})")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per target; the median is shown (3)")
    args = parser.parse_args(argv)
    select = tuple(args.select) or QUERY_CHECKS
    print(f"query checks {' '.join(select)}: {args.repeat} run(s) per target, median wall time")
    empty = measure(0, select, args.repeat)
    show("empty target", empty)
    loaded = measure(args.users, select, args.repeat)
    show(f"{args.users} other users", loaded)
    ratio = loaded[0] / empty[0] if empty[0] else float("inf")
    suite = (loaded[0] - loaded[1]) / (empty[0] - empty[1]) if empty[0] > empty[1] else float("inf")
    print(f"loaded/empty: wall {ratio:.2f}x (goal: within 1.2x), the suite's own time {suite:.2f}x, "
          f"requests {loaded[2]} vs {empty[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
