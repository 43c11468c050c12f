"""Every check is proven able to fail: for each fault, the checks it proves fail (or warn), and no
check outside the fault's declared reach does worse than on the clean target."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

from conformance.embedded import EmbeddedTarget
from conformance.model import Outcome, outcome_for_violation
from conformance.registry import all_checks

from .faultkit import FAULTS, FaultMiddleware
from .suiteutil import SEVERITY, describe, run_suite

for _m in pkgutil.iter_modules([str(Path(__file__).parent)]):
    if _m.name.startswith("faults_"):
        importlib.import_module(f"{__package__}.{_m.name}")


@pytest.fixture(scope="module", autouse=True)
def small_sequence_budget():
    """One random sequence after the fixed one, and 25 generated filters: the proofs rerun the whole suite
    once per fault."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SCIM_SEQ_EXAMPLES", "1")
    mp.setenv("SCIM_QUERY_EXAMPLES", "25")
    yield
    mp.undo()


@pytest.fixture(scope="module")
def faulty():
    holder: dict[str, FaultMiddleware] = {}

    def wrap(app):
        holder["mw"] = FaultMiddleware(app)
        return holder["mw"]

    with EmbeddedTarget(wrap=wrap) as target:
        yield target, holder["mw"]


@pytest.fixture(scope="module")
def baseline(faulty):
    target, _ = faulty
    return run_suite(target.url, target.token)


@pytest.fixture(scope="module")
def profile_baselines(faulty):
    """Clean runs with a fault's --profile settings (its replay steps), made once per distinct setting."""
    target, _ = faulty
    cache: dict[str, dict] = {}

    def get(settings: dict) -> dict:
        key = repr(sorted(settings.items()))
        if key not in cache:
            cache[key] = run_suite(target.url, target.token, **settings)
        return cache[key]

    return get


def _covered_by(check_id: str, names) -> bool:
    return any(check_id == n or check_id.startswith(n + ".") for n in names)


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_fault_is_caught_by_its_check_only(name, faulty, baseline, profile_baselines):
    target, mw = faulty
    flt = FAULTS[name]
    mw.active = flt
    try:
        results = run_suite(target.url, target.token, **flt.settings)
    finally:
        mw.active = None
    levels = {c.id: c.level for c in all_checks()}
    for check_id in flt.proves:
        assert check_id in levels, f"fault {name} proves unknown check {check_id}"
        mine = [r for r in results.values() if r.check == check_id]
        expected = outcome_for_violation(levels[check_id])
        # graded at the level of the result: a profile may change it (a replay step: the vendor's severity)
        caught = [r for r in mine if r.outcome is outcome_for_violation(r.level)]
        assert caught, (
            f"fault {name}: check {check_id} did not give {expected.value}:\n"
            + describe(results, [r.id for r in mine])
        )
    if flt.settings.get("profiles"):
        baseline = profile_baselines(flt.settings)
    worse = [
        rid for rid, r in results.items()
        if rid in baseline and SEVERITY[r.outcome] > SEVERITY[baseline[rid].outcome]
        and not _covered_by(r.check, flt.proves) and not _covered_by(r.check, flt.collateral)
    ]
    assert not worse, f"fault {name} also disturbed checks it does not declare:\n" + describe(results, worse)


def test_every_check_has_a_fault():
    proven = {c for f in FAULTS.values() for c in f.proves}
    missing = sorted(c.id for c in all_checks() if c.id not in proven)
    assert not missing, f"checks no fault proves able to fail: {missing}"


def test_baseline_has_no_errors(baseline):
    errors = [rid for rid, r in baseline.items() if r.outcome is Outcome.ERROR]
    assert not errors, describe(baseline, errors)
