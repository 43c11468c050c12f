"""The whole suite against the embedded scim2-server, as the README's demo runs it.

Every fail or warn it reports must be listed in tests/known-deviations.toml with the RFC reason;
an unlisted one fails this test, and so does a listed one that no longer happens (stale entry).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from conformance import cli, jsonschemas
from conformance.registry import REGISTRY, all_checks

DEVIATIONS = Path(__file__).with_name("known-deviations.toml")


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "report.json"
    code = cli.main(["run", "--json", str(path), "--quiet"])
    data = json.loads(path.read_text())
    return code, data


def _deviations() -> dict[str, dict]:
    entries = tomllib.loads(DEVIATIONS.read_text()).get("deviation", [])
    return {e["id"]: e for e in entries}


def test_demo_report_is_valid_and_large_enough(demo_report):
    code, data = demo_report
    Draft202012Validator(jsonschemas.load("report")).validate(data)
    assert data["target"]["embedded"] is True
    assert len(data["results"]) >= 80, len(data["results"])
    assert code == (1 if data["summary"]["fail"] or data["summary"]["error"] else 0)
    assert len({r["id"] for r in data["results"]}) == len(data["results"]), "result ids must be unique"


def test_no_errors_on_the_embedded_target(demo_report):
    _, data = demo_report
    errors = [f"{r['id']}: {r['message']}" for r in data["results"] if r["outcome"] == "error"]
    assert errors == []


def test_every_fail_and_warn_is_a_known_deviation(demo_report):
    _, data = demo_report
    known = _deviations()
    unexplained = [
        f"{r['id']} ({r['outcome']}): {r['message']}"
        for r in data["results"]
        if r["outcome"] in ("fail", "warn") and known.get(r["id"], {}).get("outcome") != r["outcome"]
    ]
    assert unexplained == [], "fail/warn not in known-deviations.toml:\n" + "\n".join(unexplained)


def test_no_known_deviation_is_stale(demo_report):
    _, data = demo_report
    outcomes = {r["id"]: r["outcome"] for r in data["results"]}
    stale = [i for i, e in _deviations().items() if outcomes.get(i) != e["outcome"]]
    assert stale == [], f"listed in known-deviations.toml but not observed any more: {stale}"


def test_known_deviations_are_explained():
    all_checks()
    for dev_id, entry in _deviations().items():
        assert entry["outcome"] in ("fail", "warn"), dev_id
        assert entry["check"] in REGISTRY, dev_id
        assert len(entry["reason"]) > 40, f"{dev_id}: give the RFC reason"


def test_resource_checks_run_on_every_declared_type(device_target):
    from tests.suiteutil import run_suite

    results = run_suite(device_target.url, device_target.token)
    per_rt = [c.id for c in all_checks() if c.per_resource_type and not c.resource_types]
    assert per_rt, "no per-resource-type check"
    for check_id in per_rt:
        assert f"{check_id}[Device]" in results, check_id
    device_errors = [f"{i}: {r.message}" for i, r in results.items() if "[Device]" in i and r.outcome.value == "error"]
    assert device_errors == []
