"""The requirement catalogue and the citations of the checks."""

from __future__ import annotations

import json

from conformance import cli
from conformance.catalog import coverage, requirements, unknown_ids
from conformance.registry import all_checks


def test_every_check_cites_known_requirements():
    assert all(c.requirements for c in all_checks())
    assert unknown_ids() == {}


def test_checks_cite_only_testable_statements():
    reqs = requirements()
    cited_untestable = {
        c.id: [r for r in c.requirements if reqs[r].untestable] for c in all_checks()
        if any(reqs[r].untestable for r in c.requirements)
    }
    assert cited_untestable == {}


def test_check_level_is_the_tier_of_a_cited_statement():
    reqs = requirements()
    wrong = {c.id: (c.level, [reqs[r].level for r in c.requirements])
             for c in all_checks() if c.level not in {reqs[r].level for r in c.requirements}}
    assert wrong == {}


def test_catalogue_holds_every_service_provider_statement_once():
    reqs = requirements()
    assert len(reqs) == 357
    assert all(r.summary and r.level in ("MUST", "SHOULD", "MAY") for r in reqs.values())
    assert all(r.untestable_reason for r in reqs.values() if r.testable == "no")


def test_unknown_ids_are_detected():
    from conformance.registry import Check

    bogus = Check(id="x", title="x", requirements=("7644-99-99",), level="MUST", func=lambda ctx: None)
    assert unknown_ids([bogus]) == {"x": ["7644-99-99"]}


def test_coverage_counts_at_least_60_must_or_should_ids():
    covered = {r["id"] for r in coverage() if r["status"] == "covered" and r["level"] in ("MUST", "SHOULD")}
    assert len(covered) >= 60, len(covered)


def test_requirements_json_command(capsys):
    assert cli.main(["requirements", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["requirements"]
    assert {"id", "section", "level", "status", "checks"} <= set(rows[0])
    assert {r["status"] for r in rows} <= {"covered", "uncovered", "untestable"}
    covered = [r for r in rows if r["status"] == "covered"]
    assert covered and all(r["checks"] for r in covered)
    assert all(r["url"].startswith("https://www.rfc-editor.org/rfc/rfc764") for r in rows)
