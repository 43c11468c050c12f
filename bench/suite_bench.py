"""Benchmark of the default suite against the embedded target (not a test: run it on an idle machine).

    .venv/bin/python bench/suite_bench.py                     # speed: wall, checks, requests, server time
    .venv/bin/python bench/suite_bench.py --latency 0.02 --workers 1 4   # parallel runs behind 20 ms latency
    .venv/bin/python bench/suite_bench.py --preload 100000     # scale: a target holding 100,000 users
    .venv/bin/python bench/suite_bench.py --process --workers 2  # as `scim-conformance run` runs the demo
    .venv/bin/python bench/suite_bench.py --profile            # where the suite's own time goes (cProfile)

Figures per run: wall time of the run (discovery, every check, cleanup), checks (results that ran, i.e. not
skipped, and all results), requests, checks/s, requests/s, the server time (the summed elapsed time of every
exchange the run recorded, measured by the client around each request: the target's time plus the network),
and the suite's own overhead (wall minus server time; wall / server). The embedded target runs in a thread
of the same process, so its time and the suite's share the interpreter: the split is an estimate. With
``--process`` it runs in a process of its own, as ``scim-conformance run`` with no URL does (two threads).
Settings compared in one call run interleaved (a run of each in turn), since a shared machine's speed drifts.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conformance.embedded import EmbeddedTarget, ProcessTarget  # noqa: E402
from conformance.engine import Run, Settings  # noqa: E402
from conformance.model import Outcome  # noqa: E402
from conformance.parallel import run_all  # noqa: E402
from conformance.verdicts import ExchangeError  # noqa: E402


class Latency:
    """WSGI middleware: every request waits ``seconds`` before the server sees it (a remote target)."""

    def __init__(self, app: Any, seconds: float):
        self.app, self.seconds = app, seconds

    def __call__(self, environ: Any, start_response: Any) -> Any:
        time.sleep(self.seconds)
        return self.app(environ, start_response)


def preload(target: EmbeddedTarget, count: int) -> float:
    """Put ``count`` users straight into scim2-server's in-memory storage (not over HTTP); seconds taken."""
    import datetime as dt
    import uuid

    from scim2_models import Email, Meta, Name, User

    started = time.perf_counter()
    storage = target.storage
    now = dt.datetime.now(dt.UTC)
    with storage.lock:
        for i in range(count):
            user = User(
                user_name=f"preload-{i:06d}",
                display_name=f"Preloaded {i}",
                active=True,
                name=Name(given_name="Pre", family_name=f"Loaded {i}"),
                emails=[Email(value=f"preload-{i:06d}@example.com", primary=True)],
            )
            user.id = uuid.uuid4().hex
            user.meta = Meta(resource_type="User", created=now, last_modified=now, version=f'W/"p{i}"')
            storage._store(user, storage._values_of(user))  # what InMemoryStorage.create does, without the copies
    return time.perf_counter() - started


def one_run(target: EmbeddedTarget, workers: int = 1, profile: bool = False) -> dict[str, Any]:
    run = Run(Settings(url=target.url, token=target.token, workers=workers))
    exchanges: list[Any] = []
    broken: list[float] = []  # requests that ended in an ExchangeError (timeout, reset): their duration
    send = run.http.request

    def recording(*args: Any, **kw: Any) -> Any:  # every exchange, also those no check shows
        began = time.perf_counter()
        try:
            reply = send(*args, **kw)
        except ExchangeError:
            broken.append(time.perf_counter() - began)
            raise
        exchanges.append(reply.exchange)
        return reply

    run.http.request = recording  # type: ignore[method-assign]
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    started, cpu0 = time.perf_counter(), time.process_time()
    try:
        run.start()
        run_all(run, workers)
    finally:
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
        if prof is not None:
            prof.disable()
        run.http.close()
    server = sum(e.elapsed_s for e in exchanges) + sum(broken)
    ran = sum(1 for r in run.results if r.outcome is not Outcome.SKIP)
    bad = [f"{r.id}: {r.outcome.value}" for r in run.results if r.outcome is Outcome.ERROR]
    out = {
        "wall_s": wall,
        "checks": ran,
        "results": len(run.results),
        "requests": run.http.request_count,
        "server_s": server,
        "overhead_s": wall - server,
        "ratio": wall / server if server else float("inf"),
        "checks_per_s": ran / wall,
        "requests_per_s": run.http.request_count / wall,
        "errors": bad,
        "leftovers": list(run.leftovers),
        "workers": workers,
        "cpu_s": cpu,
        "broken": len(broken),
        "slowest": [(r.id, r.duration_s) for r in sorted(run.results, key=lambda r: -r.duration_s)[:4]],
    }
    if prof is not None:
        import pstats

        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    return out


def show(label: str, f: dict[str, Any]) -> None:
    server = (
        f"server {f['server_s']:6.2f} s | own overhead {f['overhead_s']:5.2f} s (wall/server {f['ratio']:.2f})"
        if f["workers"] == 1
        else f"server {f['server_s']:6.2f} s summed over {f['workers']} threads"
    )
    print(
        f"{label:<28} wall {f['wall_s']:6.2f} s | {f['checks']} checks ({f['results']} results) | "
        f"{f['requests']} requests | {f['checks_per_s']:6.1f} checks/s | {f['requests_per_s']:6.1f} req/s | {server}"
    )
    print(
        f"{'':<28} CPU of the suite's process {f['cpu_s']:.2f} s; slowest checks: "
        + ", ".join(f"{rid} {d:.2f} s" for rid, d in f["slowest"])
    )
    if f["broken"]:
        print(f"{'':<28} {f['broken']} requests broke (timeout, reset): their time counts as server time")
    if f["errors"]:
        print(f"  errors: {f['errors'][:5]}")
    if f["leftovers"]:
        print(f"  leftovers: {f['leftovers'][:5]}")


def calibration_ms() -> float:
    """A fixed pure-Python workload (JSON, sorting, dicts), best of 5, in ms: how fast the machine is right now.
    On a shared VM it drifts by tens of percent; quote it with the figures so they can be compared."""
    import json

    data = [{"id": f"{i:06d}", "name": f"user {i}", "tags": [str(i % 7), str(i % 11)]} for i in range(3000)]
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(10):
            text = json.dumps(data)
            back = json.loads(text)
            sorted(back, key=lambda d: (d["tags"][1], d["name"]))
            {d["id"]: d for d in back}
        best = min(best, time.perf_counter() - started)
    return best * 1000


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    by_wall = sorted(runs, key=lambda r: r["wall_s"])
    return by_wall[len(by_wall) // 2]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3, help="runs per setting; the median (by wall time) is shown")
    p.add_argument("--workers", type=int, nargs="+", default=[1], help="thread counts to compare (-n)")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added in front of every request")
    p.add_argument("--preload", type=int, default=0, help="users put into the target before the run")
    p.add_argument("--profile", action="store_true", help="print a cProfile of one run")
    p.add_argument(
        "--process",
        action="store_true",
        help="serve the embedded target from a child process (the suite and the server get a core each)",
    )
    args = p.parse_args(argv)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, load average before "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}, calibration {calibration_ms():.0f} ms (lower is faster)"
    )
    wrap = (lambda app: Latency(app, args.latency)) if args.latency else None
    figures: dict[int, dict[str, Any]] = {}
    if args.preload:
        # Both targets up at once and their runs interleaved (empty, full, empty, full...): the machine's speed
        # drifts by tens of percent over minutes when it is shared, which separate series would take for scale.
        if args.process:
            empty_t = ProcessTarget(wrap=wrap).start()
            full_t = ProcessTarget(wrap=wrap, setup=lambda target: preload(target, args.preload)).start()
            took = full_t.setup_result
        else:
            empty_t, full_t = EmbeddedTarget(wrap=wrap).start(), EmbeddedTarget(wrap=wrap).start()
            took = preload(full_t, args.preload)
        print(f"preloaded {args.preload} users in {took:.1f} s (straight into scim2-server's storage)")
        series: dict[str, list[dict[str, Any]]] = {"empty": [], "full": []}
        try:
            one_run(empty_t)  # warm-up, not counted: imports, the hypothesis engine, the server's caches
            for _ in range(args.runs):
                series["empty"].append(one_run(empty_t))
                series["full"].append(one_run(full_t))
        finally:
            empty_t.stop()
            final = full_t.stop()
        left = final["resources"] if args.process else len(full_t.storage.resources)
        assert left == args.preload, "the suite must leave the tenant as it was"
        empty, full = median_of(series["empty"]), median_of(series["full"])
        where = " (own process)" if args.process else ""
        show(f"empty target{where}", empty)
        show(f"{args.preload} users{where}", full)
        pairs = sorted(f["wall_s"] / e["wall_s"] for e, f in zip(series["empty"], series["full"], strict=True))
        print(f"full/empty wall time, run by run (interleaved): {', '.join(f'{r:.2f}' for r in pairs)} "
              f"(median {pairs[len(pairs) // 2]:.2f})")
    if args.preload:
        print(
            f"scale: {full['wall_s'] / empty['wall_s']:.2f}x the empty-target wall time "
            f"(server {full['server_s'] / empty['server_s']:.2f}x, suite's own overhead "
            f"{full['overhead_s'] / empty['overhead_s']:.2f}x, CPU of the suite's process "
            f"{full['cpu_s'] / empty['cpu_s']:.2f}x; requests: "
            f"{full['requests']} vs {empty['requests']})"
        )
    else:
        target = (ProcessTarget(wrap=wrap) if args.process else EmbeddedTarget(wrap=wrap)).start()
        try:
            if args.profile:
                show("profiled run", one_run(target, profile=True))
                return 0
            runs: dict[int, list[dict[str, Any]]] = {n: [] for n in args.workers}
            if not args.latency:
                one_run(target)  # warm-up, not counted: imports, the hypothesis engine, the server's caches
            for _ in range(args.runs):  # interleaved, so a drift of the machine's speed hits every setting alike
                for n in args.workers:
                    runs[n].append(one_run(target, workers=n))
        finally:
            target.stop()
        for n in args.workers:
            figures[n] = median_of(runs[n])
            label = f"-n {n}" + (", target in a process" if args.process else "")
            show(label + (f", +{args.latency * 1000:g} ms" if args.latency else ""), figures[n])
    if len(figures) > 1:
        base = figures[min(figures)]
        for n, f in figures.items():
            if n != min(figures):
                print(f"-n {n}: {base['wall_s'] / f['wall_s']:.2f}x faster than -n {min(figures)}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
