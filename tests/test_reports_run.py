"""One run writes JSON, JUnit, HTML and Allure; the counts agree; the HTML works in headless Chromium.

The target is the embedded scim2-server behind a small fault (tests/reportutil.created_as_200): a create
of a User answers 200 (a MUST failure) and GET /Groups/{id} answers HTML (an error), so every outcome
appears in the reports.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance import cli, jsonschemas
from conformance.embedded import EmbeddedTarget
from conformance.reporting import counts, verdict_line
from tests.reportutil import assert_snapshot, created_as_200, normalise

SELECT = ["create.", "retrieve.", "fuzz.", "groups.user-groups", "discovery.spc"]
ALLURE_STATUS = {"passed": "pass", "failed": "fail", "broken": "error", "skipped": "skip"}


@pytest.fixture(scope="module")
def faulty_target():
    with EmbeddedTarget(wrap=created_as_200) as target:
        yield target


def _select(*prefixes: str) -> list[str]:
    return [arg for p in prefixes for arg in ("--select", p)]


@pytest.fixture(scope="module")
def one_run(faulty_target, tmp_path_factory):
    """A CLI run writing every format, with the target's token in the environment only."""
    out = tmp_path_factory.mktemp("reports")
    argv = [
        "run",
        faulty_target.url,
        "--no-config",
        "--json",
        str(out / "r.json"),
        "--junit",
        str(out / "j.xml"),
        "--html",
        str(out / "r.html"),
        "--allure",
        str(out / "allure"),
        *_select(*SELECT),
    ]
    mp = pytest.MonkeyPatch()
    mp.setenv("SCIM_TOKEN", faulty_target.token)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            code = cli.main(argv)
    finally:
        mp.undo()
    (out / "terminal.txt").write_text(printed.getvalue(), encoding="utf-8")
    return code, out


def _allure_outcomes(folder: Path) -> dict[str, dict[str, Any]]:
    """Result id -> Allure result and its labels (the plugin titles each test "<result id>: <title>")."""
    out = {}
    for f in folder.glob("*-result.json"):
        data = json.loads(f.read_text(encoding="utf-8"))
        labels: dict[str, list[str]] = {}
        for label in data.get("labels", []):
            labels.setdefault(label["name"], []).append(label["value"])
        out[data["name"].split(": ", 1)[0]] = {"data": data, "labels": labels}
    return out


def test_one_run_writes_all_formats_and_the_counts_agree(one_run):
    code, out = one_run
    assert code == 1  # a MUST failure and an error
    report = json.loads((out / "r.json").read_text(encoding="utf-8"))
    c = counts(report["results"])
    assert c == report["summary"]
    assert c["fail"] and c["error"] and c["skip"] and c["pass"], c

    printed = (out / "terminal.txt").read_text(encoding="utf-8")
    said = ", ".join(f"{c[o]} {o}" for o in ("pass", "fail", "warn", "skip", "error"))
    assert f"(profile rfc): {said} ({c['total']} results)" in printed
    assert printed.rstrip().splitlines()[-1] == verdict_line(report)

    root = ET.parse(out / "j.xml").getroot()
    cases = list(root.iter("testcase"))
    assert len(cases) == c["total"]
    assert (root.get("failures"), root.get("errors"), root.get("skipped")) == (
        str(c["fail"]),
        str(c["error"]),
        str(c["skip"]),
    )
    assert sum(1 for case in cases if case.find("failure") is not None) == c["fail"]
    assert sum(1 for case in cases if case.find("error") is not None) == c["error"]
    assert sum(1 for case in cases if case.find("skipped") is not None) == c["skip"]
    warned = sum(1 for case in cases for p in case.iter("property") if p.get("name") == "warning")
    assert warned == c["warn"]

    page = (out / "r.html").read_text(encoding="utf-8")
    for outcome in ("pass", "fail", "warn", "skip", "error", "total"):
        assert f'data-count="{outcome}">{c[outcome]}<' in page
    assert page.count('<details class="result"') == c["total"]
    for name in report.get("profiles") or {}:  # readiness per profile, when the report carries it
        assert f'<tr data-profile="{name}">' in page

    allure = _allure_outcomes(out / "allure")
    assert len(allure) == c["total"]
    statuses = [ALLURE_STATUS[a["data"]["status"]] for a in allure.values()]
    for outcome in ("fail", "error", "skip"):
        assert statuses.count(outcome) == c[outcome], (outcome, statuses)
    assert statuses.count("pass") == c["pass"] + c["warn"]  # Allure has no warn: a warn passes, tagged warn
    assert sum(1 for a in allure.values() if "warn" in a["labels"].get("tag", [])) == c["warn"]


def test_allure_labels_come_from_the_plugin(one_run):
    _, out = one_run
    allure = _allure_outcomes(out / "allure")
    item = allure["create.status-201[User]"]
    labels, data = item["labels"], item["data"]
    assert labels["epic"] == ["RFC 7644"] and labels["feature"] == ["RFC 7644 §3.3"]
    assert labels["story"] == ["User"] and labels["severity"] == ["critical"]
    assert labels["requirement"] == ["7644-3.3-07"]
    assert data["status"] == "failed"
    names = [a["name"] for a in data["attachments"]]
    assert any(n.startswith("1 request: POST ") for n in names) and any(n.startswith("1 response: 200") for n in names)
    assert any(link["url"].endswith("rfc7644#section-3.3") for link in data["links"])
    broken = [a for a in allure.values() if a["data"]["status"] == "broken"]
    assert broken and all(a["labels"]["story"] == ["Group"] for a in broken)


def test_no_artifact_holds_the_token(one_run, faulty_target):
    _, out = one_run
    for path in [out / "r.json", out / "j.xml", out / "r.html", *(out / "allure").iterdir()]:
        assert faulty_target.token not in path.read_text(encoding="utf-8", errors="replace"), path


def test_cli_output_snapshot(capsys, faulty_target, tmp_path, monkeypatch):
    monkeypatch.setenv("SCIM_TOKEN", faulty_target.token)
    monkeypatch.setenv("NO_COLOR", "1")
    code = cli.main(
        [
            "run",
            faulty_target.url,
            "--no-config",
            "--json",
            str(tmp_path / "r.json"),
            *_select("create.status-201", "discovery.spc.answers"),
        ]
    )
    out = capsys.readouterr()
    assert code == 1 and not out.err and faulty_target.token not in out.out
    assert_snapshot("cli-run.txt", normalise(out.out).replace(str(tmp_path), "TMP"))


def test_quiet_prints_paths_and_verdict(capsys, faulty_target, tmp_path, monkeypatch):
    monkeypatch.setenv("SCIM_TOKEN", faulty_target.token)
    code = cli.main(
        [
            "run",
            faulty_target.url,
            "-q",
            "--no-config",
            "--json",
            str(tmp_path / "r.json"),
            *_select("create.status-201"),
        ]
    )
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert lines == [
        f"JSON report: {tmp_path / 'r.json'}",
        "NOT CONFORMANT — 1 MUST failure, 0 SHOULD warnings, 0 skipped, 1 passed",
    ]


def test_baseline_and_fail_on_set_the_exit_code(capsys, faulty_target, tmp_path, monkeypatch):
    monkeypatch.setenv("SCIM_TOKEN", faulty_target.token)
    base = tmp_path / "baseline.toml"
    base.write_text(
        '[[accepted]]\nid = "create.status-201[User]"\nreason = "answers 200"\n'
        '[[accepted]]\nid = "create.status-201[Group]"\nreason = "fixed since"\n',
        encoding="utf-8",
    )
    argv = ["run", faulty_target.url, "--no-config", "--json", str(tmp_path / "r.json"), *_select("create.status-201")]
    assert cli.main([*argv, "--baseline", str(base)]) == 0
    out = capsys.readouterr().out
    assert "stale: create.status-201[Group] now passes" in out
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["baseline"]["accepted"][0]["results"] == ["create.status-201[User]"]
    assert jsonschemas.problems("report", report) == []  # the baseline member is part of the published schema
    assert cli.main([*argv, "--fail-on", "never"]) == 0
    assert cli.main(argv) == 1
    capsys.readouterr()
    assert cli.main([*argv, "--baseline", str(tmp_path / "none.toml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_configuration_file_sets_every_report(faulty_target, tmp_path, monkeypatch, capsys):
    """url, select, baseline and all four reports from scim-conformance.toml; the token from SCIM_TOKEN only."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCIM_TOKEN", faulty_target.token)
    (tmp_path / "base.toml").write_text('[[accepted]]\nid = "create.status-201"\nreason = "r"\n', encoding="utf-8")
    config = (
        f'url = "{faulty_target.url}"\nselect = ["create.status-201"]\nbaseline = "base.toml"\nfail-on = "must"\n'
        '[reports]\njson = "out/r.json"\njunit = "out/j.xml"\nhtml = "out/r.html"\nallure = "out/allure"\n'
    )
    (tmp_path / "scim-conformance.toml").write_text(config, encoding="utf-8")
    assert cli.main(["run"]) == 0  # the failure is accepted by the configured baseline
    for name in ("r.json", "j.xml", "r.html"):
        assert (tmp_path / "out" / name).is_file(), name
    assert list((tmp_path / "out" / "allure").glob("*-result.json"))
    assert (tmp_path / "scim-conformance.toml").read_text(encoding="utf-8") == config  # never written back
    report = json.loads((tmp_path / "out" / "r.json").read_text(encoding="utf-8"))
    assert {r["check"] for r in report["results"]} == {"create.status-201"}
    assert faulty_target.token not in (tmp_path / "out" / "r.json").read_text(encoding="utf-8")
    # the command line wins over the file
    assert (
        cli.main(["run", "--json", str(tmp_path / "cli.json"), "--fail-on", "should", "--select", "discovery.spc."])
        == 0
    )
    cli_report = json.loads((tmp_path / "cli.json").read_text(encoding="utf-8"))
    assert {r["check"] for r in cli_report["results"]} <= {c for c in _spc_checks()}  # --select replaced the file's
    capsys.readouterr()


def _spc_checks() -> set[str]:
    from conformance.registry import all_checks

    return {c.id for c in all_checks() if c.id.startswith("discovery.spc.")}


def test_pyproject_table_and_bad_configurations(faulty_target, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCIM_TOKEN", faulty_target.token)
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "x"\n[tool.scim-conformance]\nurl = "{faulty_target.url}"\nselect = "discovery.spc."\n'
        'profile = "rfc"\n[tool.scim-conformance.reports]\njson = "p.json"\n',
        encoding="utf-8",
    )
    assert cli.main(["run", "-q"]) == 0
    assert (tmp_path / "p.json").is_file()
    capsys.readouterr()
    for content, needle in [
        ('token = "abc"', "does not belong in a file; set SCIM_TOKEN"),
        ('colour = "yes"', "unknown key 'colour'"),
        ('timeout = "soon"', "timeout = 'soon' is not valid"),
        ('fail-on = "sometimes"', "fail-on must be one of must, should, never"),
        ("[reports]\npdf = 'x.pdf'", "unknown report 'pdf'"),
        ("url = ", "not TOML"),
    ]:
        (tmp_path / "scim-conformance.toml").write_text(content + "\n", encoding="utf-8")
        assert cli.main(["run"]) == 2, content
        err = capsys.readouterr().err
        assert needle in err and len(err.strip().splitlines()) == 1, (content, err)


def test_config_option_names_the_file_and_no_config_ignores_it(faulty_target, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SCIM_TOKEN", faulty_target.token)
    assert cli.main(["run", "--config", "nope.toml"]) == 2
    assert "configuration nope.toml: no such file" in capsys.readouterr().err
    (tmp_path / "scim-conformance.toml").write_text('token = "leak"\n', encoding="utf-8")
    (tmp_path / "elsewhere.toml").write_text(
        f'url = "{faulty_target.url}"\nselect = ["discovery.spc.answers"]\n[reports]\njson = "e.json"\n',
        encoding="utf-8",
    )
    assert cli.main(["run", "-q", "--config", "elsewhere.toml"]) == 0  # the named file, not the one in the folder
    assert (tmp_path / "e.json").is_file()
    assert (
        cli.main(
            ["run", faulty_target.url, "-q", "--no-config", "--json", "n.json", "--select", "discovery.spc.answers"]
        )
        == 0
    )
    capsys.readouterr()


def test_token_env_names_the_variable(faulty_target, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCIM_TOKEN", raising=False)
    monkeypatch.setenv("MY_SCIM_SECRET", faulty_target.token)
    (tmp_path / "scim-conformance.toml").write_text(
        f'url = "{faulty_target.url}"\ntoken-env = "MY_SCIM_SECRET"\nselect = ["discovery.spc."]\n', encoding="utf-8"
    )
    assert cli.main(["run", "-q", "--json", "r.json"]) == 0
    capsys.readouterr()


# -- the HTML in a real browser --------------------------------------------------------------------------


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _browse(html_path: Path, fragment: str, tmp_path: Path) -> tuple[str, list[str]]:
    """Load the page in headless Chromium; the DOM after the script ran, and every console message."""
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it and runs this test")
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        html_path.resolve().as_uri() + fragment,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return proc.stdout, console


def test_html_in_headless_chromium_shows_the_json_counts(one_run, tmp_path):
    _, out = one_run
    report = json.loads((out / "r.json").read_text(encoding="utf-8"))
    c = counts(report["results"])
    dom, console = _browse(out / "r.html", "", tmp_path)
    assert console == [], console
    for outcome in ("pass", "fail", "warn", "skip", "error", "total"):
        assert re.search(rf'id="count-{outcome}" data-count="{outcome}">{c[outcome]}<', dom), outcome
    assert re.search(rf'id="shown">{c["total"]}<', dom)  # the script ran: nothing filtered yet


def test_html_filters_by_outcome_and_level_in_chromium(one_run, tmp_path):
    _, out = one_run
    report = json.loads((out / "r.json").read_text(encoding="utf-8"))
    want = [r for r in report["results"] if r["outcome"] in ("fail", "skip") and r["level"] == "MUST"]
    dom, console = _browse(out / "r.html", "#outcome=fail,skip&level=MUST", tmp_path)
    assert console == [], console
    assert re.search(rf'id="shown">{len(want)}<', dom)
    visible = re.findall(r'<details class="result" id="r-([^"]+)"(?![^>]*hidden)[^>]*>', dom)
    assert sorted(visible) == sorted(r["id"] for r in want)


def test_compare_page_in_headless_chromium(one_run, tmp_path, capsys):
    _, out = one_run
    second = json.loads((out / "r.json").read_text(encoding="utf-8"))
    second["target"]["url"] = "http://second.example.test/v2"
    (tmp_path / "b.json").write_text(json.dumps(second), encoding="utf-8")
    argv = ["report", "--html", str(tmp_path / "cmp.html"), str(out / "r.json"), str(tmp_path / "b.json")]
    assert cli.main(argv) == 0
    capsys.readouterr()
    dom, console = _browse(tmp_path / "cmp.html", "", tmp_path)
    assert console == [], console
    assert dom.count('class="row"') == len(second["results"])
