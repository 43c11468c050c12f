"""`pytest --scim-url URL --scim-token TOKEN`: the checks as plain pytest tests, graded in pytest's terms.

Each run is a subprocess: pytester's in-process runs drop the modules they imported afterwards, and a
re-imported httpcore no longer matches the exception classes httpx maps, which breaks later tests.
"""

from __future__ import annotations

import json

import pytest

pytest_plugins = ["pytester"]


SYNTHETIC_CONFTEST = """
from conformance.registry import check
from conformance.verdicts import ExchangeError, NotApplicable, Violation


def _raiser(exc):
    def func(ctx):
        raise exc
    return func


for cid, level, exc in [
    ("zz.fails", "MUST", Violation("the MUST is broken")),
    ("zz.warns", "SHOULD", Violation("the SHOULD is not met")),
    ("zz.skips", "MUST", NotApplicable("feature not advertised")),
    ("zz.errors", "MUST", ExchangeError("connection reset")),
]:
    check(cid, cid, requirements=["7644-3.3-07"], level=level)(_raiser(exc))
"""


def test_plain_pytest_runs_the_checks_against_a_url(pytester, embedded_target):
    report = pytester.path / "r.json"
    result = pytester.runpytest_subprocess(
        "--scim-url", embedded_target.url, "--scim-token", embedded_target.token,
        "--scim-select", "discovery.", "--scim-json", str(report), "-p", "no:cacheprovider",
    )
    data = json.loads(report.read_text())
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) == sum(1 for r in data["results"] if r["outcome"] in ("pass", "warn"))
    assert data["results"] and all(r["id"].startswith("discovery.") for r in data["results"])
    result.stdout.fnmatch_lines(["*SCIM conformance*", "*JSON report:*"])


def test_outcomes_map_to_pytest_terms(pytester, embedded_target):
    pytester.makeconftest(SYNTHETIC_CONFTEST)
    result = pytester.runpytest_subprocess(
        "--scim-url", embedded_target.url, "--scim-token", embedded_target.token,
        "--scim-select", "zz.", "-p", "no:cacheprovider", "-rA",
    )
    result.assert_outcomes(passed=1, failed=1, skipped=1, errors=1, warnings=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "*FAIL*zz.fails*MUST 7644-3.3-07*the MUST is broken*",
        "*WARN*zz.warns*SHOULD 7644-3.3-07*",
        "*ERROR*zz.errors*connection reset*",
    ])


def test_plugin_is_silent_without_a_target(pytester):
    pytester.makepyfile("def test_nothing():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "SCIM conformance" not in result.stdout.str()


def test_unusable_target_exits_2(pytester):
    result = pytester.runpytest_subprocess("--scim-url", "http://127.0.0.1:9/v2", "-p", "no:cacheprovider")
    assert result.ret == 2
    assert "connection refused" in result.stdout.str() + result.stderr.str()


def test_plain_pytest_writes_junit_and_html_and_takes_a_baseline(pytester, embedded_target):
    pytester.makeconftest(SYNTHETIC_CONFTEST)
    baseline = pytester.path / "baseline.toml"
    baseline.write_text('[[accepted]]\nid = "zz.fails"\nreason = "fixed in 2.4"\n\n'
                        '[[accepted]]\nid = "zz.errors"\nreason = "proxy resets, ticket 12"\n')
    junit, html, js = (pytester.path / n for n in ("r.xml", "r.html", "r.json"))
    result = pytester.runpytest_subprocess(
        "--scim-url", embedded_target.url, "--scim-token", embedded_target.token, "--scim-select", "zz.",
        "--scim-baseline", str(baseline), "--scim-junit", str(junit), "--scim-html", str(html),
        "--scim-json", str(js), "-p", "no:cacheprovider", "-rA",
    )
    result.assert_outcomes(passed=1, xfailed=2, skipped=1, warnings=1)
    assert result.ret == pytest.ExitCode.OK  # the accepted deviations no longer fail the session
    result.stdout.fnmatch_lines(["*FAIL*zz.fails*the MUST is broken*accepted: fixed in 2.4*", "*JUnit report:*",
                                 "*HTML report:*", "*XFAIL*zz.fails*accepted deviation (fixed in 2.4)*"])
    data = json.loads(js.read_text())
    assert sorted(e["id"] for e in data["baseline"]["accepted"]) == ["zz.errors", "zz.fails"]
    assert "7644-3.3-07" in junit.read_text() and "zz.warns" in html.read_text()

    baseline.write_text('[[accepted]]\nid = "zz.fails"\n')  # no reason: refused before anything is sent
    bad = pytester.runpytest_subprocess("--scim-url", embedded_target.url, "--scim-token", embedded_target.token,
                                        "--scim-select", "zz.", "--scim-baseline", str(baseline),
                                        "-p", "no:cacheprovider")
    assert bad.ret == 2 and "has no reason" in bad.stdout.str() + bad.stderr.str()
