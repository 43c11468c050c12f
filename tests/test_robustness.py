"""The robustness checks themselves: their leak patterns, their grouping, and the header-injection check
on a target that encodes its Location header (the embedded scim2-server does not, see
tests/known-deviations.toml), where it passes, and fails once the rob-id-echoed-into-header fault is on."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from conformance.checks import rfc7644_s3_12_robustness as rob
from conformance.embedded import EmbeddedTarget
from conformance.model import Outcome
from conformance.registry import all_checks

from .faultkit import Fault, FaultMiddleware
from .faults_robustness import id_echoed_into_header
from .suiteutil import run_suite

TRACES = [
    'Traceback (most recent call last):\n  File "/app/x.py", line 3, in f',
    "java.lang.NullPointerException\n\tat com.acme.scim.UserResource.create(UserResource.java:42)",
    "System.InvalidOperationException: boom\n   at Acme.Scim.Users.Create(User u) in C:\\src\\Users.cs:line 17",
    "goroutine 7 [running]:\nmain.handler()",
    "TypeError: x is undefined\n    at Object.<anonymous> (/srv/node_modules/scim/lib/users.js:10:5)",
]
SQL = [
    'ERROR: syntax error at or near "OR" at character 40',
    "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version",
    "ORA-00933: SQL command not properly ended",
    "SQLSTATE[42000]: Syntax error or access violation",
    "SELECT id, userName FROM users WHERE userName = 'x' OR 1=1",
    "Unclosed quotation mark after the character string 'x'.",
]
HARMLESS = [
    "Please select one value from the list",
    "Invalid JSON: EOF while parsing a string at line 1 column 15",
    "invalid syntax at column 13",
    "Input should be a valid string: userName",
    "User 'sct1234-0001' not found",
    "Attribute 'userName' is required; update the resource or delete it from the group",
]


@pytest.mark.parametrize("text", TRACES)
def test_stack_traces_are_recognised(text):
    assert rob.leaks(text, rob.STACK_TRACE)


@pytest.mark.parametrize("text", SQL)
def test_sql_is_recognised(text):
    assert rob.leaks(text, rob.SQL_TEXT)


@pytest.mark.parametrize("text", HARMLESS + list(rob.HOSTILE_VALUES.values()))
def test_ordinary_details_and_our_own_probes_are_not_leaks(text):
    """What the suite sends comes back in many details (echoed input is allowed): it must not look like a leak,
    in any of the forms it is echoed (raw, JSON-escaped, inside a filter)."""
    for form in (text, json.dumps(text), f"userName eq {json.dumps('sct1234' + text)}"):
        assert rob.leaks(form, rob.STACK_TRACE) is None, form
        assert rob.leaks(form, rob.SQL_TEXT) is None, form


def test_robustness_checks_form_their_own_group():
    mine = [c for c in all_checks() if c.module.endswith("rfc7644_s3_12_robustness")]
    assert len(mine) >= 10
    assert all(c.id.startswith("robustness.") and "robustness" in c.tags for c in mine)
    assert not [c.id for c in all_checks() if c.id.startswith("robustness.") and c not in mine]


class EncodeLocation:
    """WSGI middleware: what scim2-server should do, percent-encode the Location it builds from the path."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            fixed = [(k, quote(v, safe=":/?#[]@!$&'()*+,;=%") if k.lower() == "location" else v) for k, v in headers]
            return start_response(status, fixed, exc_info)

        return self.app(environ, start)


@pytest.fixture(scope="module")
def encoding_target():
    holder = {}

    def wrap(app):
        holder["mw"] = FaultMiddleware(EncodeLocation(app))
        return holder["mw"]

    with EmbeddedTarget(wrap=wrap) as target:
        yield target, holder["mw"]


def test_header_check_passes_on_encoded_location_and_fails_on_the_fault(encoding_target):
    target, mw = encoding_target
    clean = run_suite(target.url, target.token, select=("robustness.no-header-injection",))
    assert clean and all(r.outcome is Outcome.PASS for r in clean.values()), {i: r.message for i, r in clean.items()}
    mw.active = Fault("rob-id-echoed-into-header", id_echoed_into_header, ("robustness.no-header-injection",))
    try:
        faulty = run_suite(target.url, target.token, select=("robustness.no-header-injection",))
    finally:
        mw.active = None
    assert faulty and all(r.outcome is Outcome.FAIL for r in faulty.values())
    assert all("X-Scim-Injected" in r.message or "malformed" in r.message for r in faulty.values())


def test_a_crlf_in_a_stored_value_is_not_a_header_problem(encoding_target):
    """The hostile values (CR/LF included) are stored and read back by a correct target without any finding."""
    target, _ = encoding_target
    results = run_suite(target.url, target.token, select=("robustness.hostile-values",))
    assert results and all(r.outcome is Outcome.PASS for r in results.values()), {
        i: r.message for i, r in results.items()
    }
