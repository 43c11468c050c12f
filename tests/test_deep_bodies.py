"""A 50,000-deep JSON body (the robustness checks send one; a hostile target may answer one) never crashes
the suite or a report: it is shown as sent, or treated as a body that is not JSON."""

from __future__ import annotations

import httpx
import pytest

from conformance.http import Reply
from conformance.model import Exchange
from conformance.reporting import allure, html
from conformance.verdicts import ExchangeError

DEEP = "[" * 50000 + "]" * 50000


def test_reports_show_a_deep_body_as_sent():
    assert html._pretty(DEEP) == DEEP
    assert allure._pretty(DEEP) == DEEP


def test_a_deep_answer_is_no_json_not_a_crash():
    reply = Reply(200, httpx.Headers({"content-type": "application/scim+json"}), DEEP,
                  Exchange(method="GET", url="http://127.0.0.1/v2/Users", request_headers={}, request_body=None))
    assert reply.maybe_json() is None
    with pytest.raises(ExchangeError, match="not JSON"):
        reply.json()
