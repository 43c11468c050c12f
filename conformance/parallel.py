"""Parallel runs (``scim-conformance run -n N``): the cases of one run executed on N threads.

Checks are independent by construction: each makes its own resources (tagged with the run id, deleted
when it ends) and queries only those, so they can run at the same time on one target. What a run shares
is made once under ``Run.lock`` (the run's samples, the query population, the tag counter), and each
thread records into the exchanges of its own check (``ScimHttp.sink`` is per thread). The time a check
spends is mostly waiting for the target, so threads overlap those waits; on a target with latency the
speed-up approaches N. Results keep the order of the cases, whatever order they finish in.
"""

from __future__ import annotations

import ast
import contextlib
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import Case, Run
    from .model import Result


LONG_CHECKS = ("fuzz.", "filter.generated", "patch.random-sequences")  # check id prefixes


def execute_all(run: Run, cases: Sequence[Case], workers: int) -> list[Result]:
    """Execute ``cases`` on ``workers`` threads; the results (also in ``run.results``) in case order.

    Ctrl-C stops starting new cases, lets the running ones finish and clean up, and is raised again.
    """
    if workers <= 1 or len(cases) <= 1:
        return [run.execute(case) for case in cases]
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scim-check")
    with _serial_ast_parse():
        # the longest checks (generated sequences and queries) start first, so none is left running alone
        ahead = sorted(range(len(cases)), key=lambda i: not cases[i].check.id.startswith(LONG_CHECKS))
        started = {i: pool.submit(run.execute, cases[i]) for i in ahead}
        futures = [started[i] for i in range(len(cases))]
        try:
            results = [f.result() for f in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    order = {id(r): i for i, r in enumerate(results)}
    mine = [r for r in run.results if id(r) in order]
    others = [r for r in run.results if id(r) not in order]
    run.results[:] = others + sorted(mine, key=lambda r: order[id(r)])
    return results


_AST_LOCK = threading.Lock()


@contextlib.contextmanager
def _serial_ast_parse() -> Iterator[None]:
    """CPython 3.11 keeps the AST constructor's recursion depth in global state, so two threads parsing at
    once fail with "SystemError: AST constructor recursion depth mismatch". hypothesis parses source (to
    describe strategies) in the checks that use it; during a parallel run ``ast.parse`` takes a lock."""
    original = ast.parse

    def parse(*args: Any, **kw: Any) -> Any:
        with _AST_LOCK:
            return original(*args, **kw)

    ast.parse = parse  # type: ignore[assignment]
    try:
        yield
    finally:
        ast.parse = original  # type: ignore[assignment]


def run_all(run: Run, workers: int = 1) -> list[Result]:
    """``Run.run_all`` on ``workers`` threads: every case, then the run's shared data is deleted."""
    try:
        execute_all(run, run.cases(), workers)
    finally:
        run.finish()
    return run.results
