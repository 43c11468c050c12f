"""Vendor profiles (profiles/*.toml): they load, run against the embedded target with reasons that cite the
vendor documentation, change grading (lenient, skips), requests (headers, paths) and payloads, and give a
readiness verdict per profile in the terminal and the JSON report."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from conformance import cli, jsonschemas, profiles, report
from conformance.engine import Case, Run, Settings
from conformance.model import Outcome
from conformance.registry import Check, all_checks
from conformance.verdicts import Violation

IDPS = ["entra", "entra-aadoptscim062020", "okta", "okta-aiw", "onelogin", "jumpcloud"]
SERVERS = ["github-org", "github-enterprise", "ghes", "aws-iam-identity-center", "salesforce"]
ALL = ["rfc", "lenient", *IDPS, *SERVERS]


def _run(target, names, select=("profile.",)):
    run = Run(Settings(url=target.url, token=target.token, profiles=tuple(names), select=select))
    try:
        run.start()
        run.run_all()
    finally:
        run.http.close()
    return run


@pytest.fixture(scope="module")
def replayed(embedded_target):
    """Every profile at once, its own checks only: reported side by side."""
    return _run(embedded_target, ALL)


def test_every_profile_loads_with_a_description():
    found = profiles.available()
    assert set(ALL) <= set(found)
    for name in ALL:
        prof = found[name]
        assert prof.description and prof.title
        assert prof.kind == ("client" if name in IDPS else "server" if name in SERVERS else "base")
    assert all(found[n].steps for n in IDPS + SERVERS)


def test_every_fact_points_at_vendor_facts_or_the_vendor_document():
    for prof in profiles.available().values():
        for step in prof.steps:
            assert "vendor-facts.md:" in step.cite, (prof.name, step.id)
        for skip in prof.skips:
            assert "vendor-facts.md:" in skip.source, (prof.name, skip.check)
        assert all(url.startswith("http") or "vendor-facts.md" in url for url in prof.sources.values()), prof.name


def test_unconfirmed_steps_are_info_and_say_so():
    unconfirmed = [s for p in profiles.available().values() for s in p.steps if s.unconfirmed]
    assert {s.profile for s in unconfirmed} == {"onelogin", "jumpcloud", "entra"}  # entra: the manager shape
    assert all(s.severity == "INFO" and "UNCONFIRMED" in s.cite + s.need + s.title for s in unconfirmed)


def test_steps_are_registered_checks_citing_known_requirements():
    ids = {c.id: c for c in all_checks()}
    for prof in profiles.available().values():
        for step in prof.steps:
            chk = ids[step.check_id]
            assert chk.requirements and f"profile:{prof.name}" in chk.tags


def test_default_run_has_no_replay_steps(embedded_target):
    run = Run(Settings(url=embedded_target.url, token=embedded_target.token))
    run.start()
    run.http.close()
    assert not [c for c in run.cases() if c.check.id.startswith("profile.")]
    assert run.profile.names == ("rfc",)


def test_every_profile_runs_with_reasons_citing_the_vendor(replayed):
    by_profile: dict[str, list] = {}
    for r in replayed.results:
        by_profile.setdefault(r.check.split(".")[1], []).append(r)
    assert set(by_profile) == set(IDPS + SERVERS)
    for name, results in by_profile.items():
        prof = profiles.get(name)
        assert len(results) == len(prof.steps), name
        for r in results:
            assert r.outcome is not Outcome.ERROR, (r.id, r.message)
            step = next(s for s in prof.steps if s.check_id == r.check)
            assert step.cite in r.message, (r.id, r.message)  # the verdict's reason names the vendor source
    assert replayed.leftovers == []


def test_readiness_verdict_per_profile(replayed):
    lines = {v["name"]: v for v in profiles.readiness(replayed.profile, replayed.results)}
    entra = lines["entra"]
    # scim2-server refuses Entra's ADSCIM group schema and its member removal by value list
    assert entra["verdict"].startswith("Entra ID: not ready — 2 blocking steps: group-create, group-remove-member")
    assert entra["info"] == ["profile.entra.manager-add"]  # UNCONFIRMED: scim2-server does not resolve "manager"
    assert entra["ready"] is False and len(entra["blocking"]) == 2
    assert lines["okta"]["verdict"].startswith("Okta: ready — 20 steps pass")
    assert lines["entra-aadoptscim062020"]["ready"] and lines["okta-aiw"]["ready"]
    assert "1 info" in lines["github-org"]["verdict"]  # it also serves lower-case /users: GitHub would not


def test_replay_sends_the_vendors_headers(replayed):
    okta = [r for r in replayed.results if r.check.startswith("profile.okta.")]
    sent = [e.request_headers for r in okta for e in r.exchanges]
    assert sent and all(h.get("user-agent") == "Okta SCIM Client 1.0.0" for h in sent)
    plain = next(r for r in okta if r.check == "profile.okta.spec-create-plain-json")
    assert plain.exchanges[0].request_headers["content-type"] == "application/json"
    bad = next(r for r in okta if r.check == "profile.okta.spec-bad-token-401")
    assert bad.outcome is Outcome.PASS and bad.exchanges[0].status == 401


def test_server_profile_headers_paths_and_skips(embedded_target):
    run = _run(embedded_target, ["github-org"], select=("patch.replace.value-filter", "profile.github-org"))
    skipped = next(r for r in run.results if r.check == "patch.replace.value-filter")
    assert skipped.outcome is Outcome.SKIP and "vendor-facts.md:95" in skipped.message
    agents = {e.request_headers.get("user-agent") for r in run.results for e in r.exchanges}
    assert agents == {"scim-conformance (github profile)"}
    sf = Run(Settings(url=embedded_target.url, token=embedded_target.token, profiles=("salesforce",)))
    try:
        sf.start()
    finally:
        sf.http.close()
    assert sf.discovery.spc_reply.exchange.url.endswith("/ServiceProviderConfigs")


def test_create_rule_completes_the_payload():
    rule = profiles.get("aws-iam-identity-center").create["User"]
    body = profiles.apply_create_rule(rule, {
        "userName": "u", "password": "secret-1", "emails": [{"value": "a@x"}, {"value": "b@x"}], "name": {},
    })
    assert "password" not in body and body["emails"] == [{"value": "a@x", "primary": True}]
    assert body["displayName"] and body["name"] == {"givenName": "Ada", "familyName": "Tester"}


def test_lenient_reports_should_findings_as_info(embedded_target):
    def bad(ctx):
        raise Violation("not as recommended")

    chk = Check(id="test.synthetic", title="t", requirements=("7644-3.3-08",), level="SHOULD", func=bad)
    for names, level, prefix in ((("rfc",), "SHOULD", ""), (("lenient",), "MAY", profiles.INFO_PREFIX)):
        run = Run(Settings(url=embedded_target.url, token=embedded_target.token, profiles=names))
        result = run.execute(Case(chk))
        run.http.close()
        assert (result.level, result.outcome) == (level, Outcome.WARN)
        assert result.message == prefix + "not as recommended"
    must = Check(id="test.must", title="t", requirements=("7644-3.3-07",), level="MUST", func=bad)
    assert profiles.select(["lenient"]).level(must.id, must.requirements, must.level) is None


def test_unknown_or_broken_profile_is_one_line():
    with pytest.raises(profiles.ProfileError, match="unknown profile 'nope'"):
        profiles.select(["nope"])
    with pytest.raises(ValueError, match="title is required"):
        profiles.parse({"kind": "client", "description": "x"}, "x")
    with pytest.raises(ValueError, match="requirements"):
        profiles.parse({"title": "X", "description": "x", "step": [{"id": "a", "title": "t", "cite": "c",
                                                                    "need": "n", "do": [{}]}]}, "x")


def test_profiles_command_lists_every_profile(capsys):
    assert cli.main(["profiles"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(profiles.available())
    for name in ALL:
        line = next(line for line in out if line.split()[0] == name)
        assert profiles.get(name).description in line


def test_report_carries_the_readiness_and_validates(replayed):
    data = report.build(replayed)
    assert set(data["profiles"]) == set(ALL)
    assert data["target"]["profile"] == ",".join(ALL)
    assert jsonschemas.problems("report", data) == []


def test_cli_run_prints_the_readiness_line(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--profile", "entra", "--profile", "okta",
         "--select", "profile.entra.group", "--select", "profile.okta.lookup", "--json", str(tmp_path / "r.json")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert out.returncode == 1, out.stderr
    assert "profile entra: Entra ID: not ready — 2 blocking steps: group-create, group-remove-member" in out.stdout
    assert "profile okta: Okta: ready — 2 steps pass" in out.stdout
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["profiles"]["entra"]["blocking"] == ["profile.entra.group-create", "profile.entra.group-remove-member"]
    bad = subprocess.run([sys.executable, "-m", "conformance.cli", "run", "--profile", "nope"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert bad.returncode == 2 and "unknown profile 'nope'" in bad.stderr and "Traceback" not in bad.stderr


def test_plugin_scim_profile_option(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "--scim-embedded",
         "--scim-profile", "entra", "--scim-select", "profile.entra.test-connection", "-q"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "profile entra: Entra ID: ready — 1 step passes" in out.stdout


def test_auth_style_is_compared_with_the_documented_one(replayed):
    basic = {v["name"]: v for v in profiles.readiness(replayed.profile, replayed.results, "Basic")}
    assert "auth: GitHub (organization) documents bearer, this run used Basic" in basic["github-org"]["verdict"]
    assert basic["okta"]["auth"] == {"documented": ["oauth", "basic", "bearer"], "used": "Basic", "matches": True}
    assert basic["onelogin"]["auth"]["matches"] is None  # not recorded in vendor-facts.md: not compared
    bearer = {v["name"]: v for v in profiles.verdicts(replayed)}  # the embedded target: a Bearer token
    assert bearer["github-org"]["auth"]["matches"] is True and "auth:" not in bearer["github-org"]["verdict"]


def test_info_never_gates_the_exit_code():
    from conformance.reporting import gate

    info = {"id": "x", "outcome": "warn", "level": "MAY", "message": profiles.INFO_PREFIX + "UNCONFIRMED shape"}
    assert not gate({"results": [info]}, "should")
    assert gate({"results": [{**info, "message": "a SHOULD finding"}]}, "should")


def test_replay_touches_only_its_own_data_and_cleans_up(replayed, embedded_target):
    posts = [e for r in replayed.results for e in r.exchanges if e.method == "POST" and e.request_body]
    assert posts
    for e in posts:
        body = json.loads(e.request_body)
        name = body.get("userName") or body.get("displayName")
        assert str(name).startswith(replayed.run_id), (e.url, name)
    changed = [e for r in replayed.results for e in r.exchanges if e.method in ("PUT", "PATCH", "DELETE")]
    created = [json.loads(e.response_body) for r in replayed.results for e in r.exchanges
               if e.method == "POST" and e.status == 201 and e.response_body]
    created_ids = {c["id"] for c in created if "id" in c}
    assert all(any(i in e.url for i in created_ids) for e in changed)  # writes go to the run's own resources
    with httpx.Client(base_url=embedded_target.url + "/",
                      headers={"Authorization": f"Bearer {embedded_target.token}"}) as client:
        for endpoint, attr in (("Users", "userName"), ("Groups", "displayName")):
            left = client.get(endpoint, params={"filter": f'{attr} sw "{replayed.run_id}"'}).json()
            assert left["totalResults"] == 0, left


def test_a_base_url_the_vendor_refuses_is_not_ready(replayed):
    lines = {v["name"]: v for v in profiles.readiness(replayed.profile, replayed.results,
                                                      url="https://scim_host.example.com/v2")}
    assert lines["okta"]["ready"] is False and "underscore" in lines["okta"]["verdict"]
    assert lines["okta"]["notes"] and "vendor-facts.md:60" in lines["okta"]["notes"][0]
    assert lines["entra"]["notes"] == []
