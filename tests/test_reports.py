"""Reporters on a fixed report (tests/snapshots/sample-report.json): golden files and unit behaviour."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pytest

from conformance import cli
from conformance.reporting import (
    ReportError,
    compare,
    counts,
    curl_command,
    gate,
    html,
    junit,
    key_exchange,
    load_report,
    terminal,
    verdict_line,
)
from conformance.reporting import baseline as baseline_mod
from conformance.reporting.explain import explain
from tests.reportutil import SAMPLE, assert_snapshot, sample


def _run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


# -- JUnit ----------------------------------------------------------------------------------------------


def test_junit_golden_file():
    assert_snapshot("junit-golden.xml", junit.render(sample()))


def test_junit_files_each_outcome_as_its_own_element():
    """A failure is <failure>, never <error> (the h2spec bug); warn passes with a property."""
    root = ET.fromstring(junit.render(sample()))
    cases = {c.get("name"): c for c in root.iter("testcase")}
    tags = {name: [child.tag for child in case if child.tag != "properties"] for name, case in cases.items()}
    assert tags["create.status-201[User]"] == ["failure"]
    assert tags["retrieve.by-id[User]"] == ["error"]
    assert tags["patch.add[User]"] == ["skipped"]
    assert tags["groups.user-groups-reflect-membership[Group]"] == ["system-out"]
    assert tags["discovery.spc.answers"] == []
    warned = cases["groups.user-groups-reflect-membership[Group]"]
    props = {p.get("name"): p.get("value") for p in warned.iter("property")}
    assert props["requirement"] == "7643-4.1.2-19" and props["level"] == "SHOULD" and props["outcome"] == "warn"
    assert "shows no groups" in props["warning"]
    assert root.get("tests") == "6" and root.get("failures") == "1" and root.get("errors") == "1"
    assert root.get("skipped") == "1"


def test_junit_survives_control_characters_from_the_server():
    data = sample()
    data["results"][1]["message"] = "body had \x00\x1b[31m in it"
    root = ET.fromstring(junit.render(data))  # parses: the characters were replaced
    assert "\ufffd" in next(root.iter("failure")).get("message")


# -- terminal -------------------------------------------------------------------------------------------


def test_report_command_prints_the_recap_and_verdict(capsys):
    code, out, err = _run(capsys, "report", str(SAMPLE))
    assert code == 1 and not err
    assert_snapshot("report-terminal.txt", out)


def test_verdict_line_wording():
    data = sample()
    assert verdict_line(data) == "NOT CONFORMANT — 1 MUST failure, 1 SHOULD warning, 1 error, 1 skipped, 2 passed"
    data["results"] = [r for r in data["results"] if r["outcome"] in ("pass", "warn", "skip")]
    assert verdict_line(data) == "CONFORMANT — 0 MUST failures, 1 SHOULD warning, 1 skipped, 2 passed"


def test_recap_has_requirement_expected_got_and_curl():
    text = terminal.recap(sample())
    block = text.split("FAIL create.status-201[User]")[1].split("\n\n")[0]
    assert "requirement 7644-3.3-07 (MUST): " in block
    assert "expected: A successful create answers 201 Created" in block
    assert "got:      POST /Users answered 200, not 201 Created" in block
    assert "curl -sS -i -X POST https://scim.example.test/v2/Users" in block
    assert '"Authorization: Bearer $SCIM_TOKEN"' in block


def test_curl_reproduces_the_request_and_keeps_secrets_out():
    ex = sample()["results"][1]["exchanges"][0]
    ex["request_headers"]["x-api-key"] = "[REDACTED]"
    cmd = curl_command(ex)
    assert cmd.startswith("curl -sS -i -X POST https://scim.example.test/v2/Users ")
    assert '--data-raw \'{"userName": "sct0000-0001-user it\'"\'"\'s"}\'' in cmd  # shell-quoted
    assert "'x-api-key: [REDACTED]'" in cmd and "user-agent" not in cmd and "host:" not in cmd


def test_key_exchange_prefers_the_one_the_message_names():
    result = {
        "message": "POST /Users?attributes=userName: meta is returned",
        "exchanges": [
            {"method": "POST", "url": "http://h/v2/Users?attributes=userName"},
            {"method": "GET", "url": "http://h/v2/Users/1"},
        ],
    }
    assert key_exchange(result)["method"] == "POST"
    result["message"] = "something else"
    assert key_exchange(result)["method"] == "GET"


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert terminal.use_colour(Tty()) and not terminal.use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not terminal.use_colour(Tty())
    assert "\x1b[" in terminal.summary(sample(), colour=True)
    assert "\x1b[" not in terminal.summary(sample(), colour=False)


def test_server_text_cannot_drive_the_terminal():
    data = sample()
    data["results"][1]["message"] = "answered \x1b[2J\x1b]0;owned\x07 200"
    text = terminal.recap(data)
    assert "\x1b" not in text and "\\x1b[2J" in text


def test_quiet_summary_is_the_verdict_and_paths_only():
    text = terminal.summary(sample(), {"JSON report": "r.json"}, quiet=True)
    assert text.splitlines() == ["JSON report: r.json", verdict_line(sample())]


# -- HTML (static; tests/test_reports_run.py opens it in Chromium) -----------------------------------------


def test_html_is_one_file_without_external_assets():
    page = html.render(sample())
    lowered = page.lower()
    assert "<script src" not in lowered and "<link" not in lowered and "<img" not in lowered
    assert "@import" not in lowered and "url(" not in lowered
    assert 'id="count-fail" data-count="fail">1<' in page and 'data-count="total">6<' in page
    assert "&lt;b&gt;" in page  # the server's text is escaped, never markup
    for result in sample()["results"]:
        assert f'id="r-{result["id"]}"' in page


def test_html_matrix_has_a_row_per_section():
    page = html.render(sample())
    matrix = page.split('id="matrix"')[1].split("</table>")[0]
    assert matrix.count("<tr data-section=") == len({r["section"] for r in sample()["results"]})
    assert "RFC 7644 §3.3" in matrix and "rfc7644#section-3.3" in matrix


# -- compare ---------------------------------------------------------------------------------------------


def test_report_compares_several_runs(capsys, tmp_path):
    a, b = sample(), sample()
    b["target"]["url"] = "https://other.example.test/v2"
    b["results"][1]["outcome"], b["results"][1]["message"] = "pass", "conforms"
    b["results"] = b["results"][:-1]  # the second target lacks one result
    pa, pb = tmp_path / "a.json", tmp_path / "b.json"
    pa.write_text(json.dumps(a), encoding="utf-8")
    pb.write_text(json.dumps(b), encoding="utf-8")
    out_path = tmp_path / "cmp.html"
    code, out, err = _run(capsys, "report", "--html", str(out_path), str(pa), str(pb))
    assert code == 0 and not err, err
    assert f"{pa}: NOT CONFORMANT — 1 MUST failure" in out and f"{pb}: CONFORMANT — 0 MUST failures" in out
    page = out_path.read_text(encoding="utf-8")
    columns, rows = compare.matrix([(str(pa), a), (str(pb), b)])
    assert columns == ["https://scim.example.test/v2 (rfc)", "https://other.example.test/v2 (rfc)"]
    cells = rows["RFC 7644 §3.3"]["create.status-201[User]"]
    assert [c["outcome"] for c in cells] == ["fail", "pass"]
    assert rows["RFC 7644 §3.4"]["retrieve.by-id[User]"][1] is None
    assert 'title="not in this report">—<' in page
    assert page.count('data-count="fail">1<') == 1 and page.count('data-count="fail">0<') == 1


def test_report_refuses_what_is_not_a_report(capsys, tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    code, _, err = _run(capsys, "report", "--html", str(tmp_path / "o.html"), str(bad))
    assert code == 2 and "not a scim-conformance JSON report" in err and len(err.splitlines()) == 1
    code, _, err = _run(capsys, "report", str(SAMPLE), str(SAMPLE))
    assert code == 2 and "--html" in err
    with pytest.raises(ReportError, match="no such file"):
        load_report(tmp_path / "missing.json")


# -- explain ---------------------------------------------------------------------------------------------


def test_explain_check_snapshot(capsys):
    code, out, err = _run(capsys, "explain", "create.status-201[User]")
    assert code == 0 and not err
    assert_snapshot("explain-create.status-201.txt", out)


def test_explain_requirement_lists_the_checks_citing_it():
    text = explain("7644-3.3-07")
    assert text.startswith("7644-3.3-07 — RFC 7644 §3.3, MUST")
    assert "create.status-201 (MUST)" in text and "rfc7644#section-3.3" in text
    assert "How servers usually fix a failure" in text


def test_explain_unknown_id_suggests(capsys):
    code, out, err = _run(capsys, "explain", "create.status-210")
    assert code == 2 and not out
    assert "did you mean create.status-201" in err and len(err.splitlines()) == 1


# -- baseline and gate -----------------------------------------------------------------------------------


def test_baseline_accepts_reports_stale_and_unmatched(tmp_path):
    path = tmp_path / "baseline.toml"
    path.write_text(
        '[[accepted]]\nid = "create.status-201"\nreason = "vendor answers 200, ticket 1"\n'
        '[[accepted]]\nid = "discovery.spc.answers"\nreason = "was broken once"\n'
        '[[accepted]]\nid = "no.such-check"\nreason = "typo"\n',
        encoding="utf-8",
    )
    data = sample()
    base = baseline_mod.apply(data, baseline_mod.load(path), str(path))
    assert [(e["id"], e["results"]) for e in base["accepted"]] == [("create.status-201", ["create.status-201[User]"])]
    assert [e["id"] for e in base["stale"]] == ["discovery.spc.answers"]
    assert [e["id"] for e in base["unmatched"]] == ["no.such-check"]
    assert "1 MUST failure (1 accepted)" in verdict_line(data)
    assert gate(data, "must")  # the error is not accepted
    data["results"] = [r for r in data["results"] if r["outcome"] != "error"]
    assert not gate(data, "must") and gate(data, "should") and not gate(data, "never")
    text = terminal.summary(data)
    assert "stale: discovery.spc.answers now passes" in text
    assert "[accepted by the baseline: vendor answers 200, ticket 1]" in text


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("[[accepted]]\nreason = 'x'\n", "entry 1 has no id"),
        ("[[accepted]]\nid = 'a'\n", "(a) has no reason"),
        ("[[accepted]]\nid = 'a'\nreason = 'r'\nextra = 1\n", "unknown key 'extra'"),
        ("[[deviation]]\nid = 'a'\n", "unknown table 'deviation'"),
        ("not toml [", "not TOML"),
    ],
)
def test_baseline_errors_are_one_line(tmp_path, content, needle):
    path = tmp_path / "b.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ReportError, match=None) as info:
        baseline_mod.load(path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_report_command_applies_a_baseline_and_fail_on(capsys, tmp_path):
    path = tmp_path / "b.toml"
    path.write_text(
        '[[accepted]]\nid = "create.status-201[User]"\nreason = "known"\n'
        '[[accepted]]\nid = "retrieve.by-id"\nreason = "slow tenant"\n',
        encoding="utf-8",
    )
    assert _run(capsys, "report", str(SAMPLE), "--baseline", str(path))[0] == 0
    assert _run(capsys, "report", str(SAMPLE), "--baseline", str(path), "--fail-on", "should")[0] == 1
    assert _run(capsys, "report", str(SAMPLE), "--fail-on", "never")[0] == 0


def test_counts_of_the_sample():
    assert counts(sample()["results"]) == {**sample()["summary"]}
