"""Allure results through allure-pytest: labels, links and the exchanges of every SCIM test item.

``scim-conformance run --allure DIR`` (or ``pytest --scim-... --alluredir DIR``) writes allure-pytest's
result files; the plugin registers :class:`AllureLabels` when allure-pytest's listener is active, and it
sets per test item: epic = the RFC, feature = the RFC section, story = the resource type, severity from
the level (MUST critical, SHOULD normal, MAY minor), a link per requirement, and each recorded request and
response as attachments. An exchange that broke (outcome error) is shown as *broken*, not *failed*.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from . import curl_command

SEVERITY = {"MUST": "critical", "SHOULD": "normal", "MAY": "minor"}


def _find_result(item: pytest.Item) -> Any:
    from ..plugin import _state

    callspec = getattr(item, "callspec", None)
    case = callspec.params.get("scim_case") if callspec else None
    state = _state(item.config)
    if case is None or state is None:
        return None
    return next((r for r in reversed(state.run.results) if r.id == case.id), None)


def _pretty(body: str | None) -> str:
    if not body:
        return ""
    try:
        return json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):  # a 50,000-deep body (robustness checks) shown as sent
        return body


def request_text(ex: Any) -> str:
    text = f"{ex.method} {ex.url}\n" + "".join(f"{k}: {v}\n" for k, v in ex.request_headers.items())
    if ex.request_body is not None:
        text += "\n" + _pretty(ex.request_body) + "\n"
    return text


def response_text(ex: Any) -> str:
    if ex.error:
        return f"no response: {ex.error}\n"
    text = f"HTTP {ex.status}\n" + "".join(f"{k}: {v}\n" for k, v in ex.response_headers.items())
    if ex.response_body:
        text += "\n" + _pretty(ex.response_body) + "\n"
    return text


class AllureLabels:
    """Registered by the SCIM plugin when allure-pytest writes results (``--alluredir``)."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        result = _find_result(item)
        if result is None:
            return
        import allure
        from allure_commons.types import AttachmentType

        rfc = result.section.split(" §")[0]
        allure.dynamic.epic(rfc)
        allure.dynamic.feature(result.section)
        if result.resource_type:
            allure.dynamic.story(result.resource_type)
        allure.dynamic.severity(SEVERITY.get(result.level, "normal"))
        allure.dynamic.title(f"{result.id}: {result.title}")
        allure.dynamic.label("check", result.check)
        allure.dynamic.label("level", result.level)
        allure.dynamic.tag(result.level, result.outcome.value)
        from ..catalog import requirements

        known = requirements()
        for rid in result.requirements:
            allure.dynamic.label("requirement", rid)
            if rid in known:
                allure.dynamic.link(known[rid].url, name=f"{rid} ({known[rid].level})")
        allure.dynamic.description(f"{result.title}\n\n{result.outcome.value}: {result.message}")
        for n, ex in enumerate(result.exchanges, 1):
            reproduce = f"\n# reproduce:\n{curl_command(ex.to_dict())}\n"
            allure.attach(
                request_text(ex) + reproduce,
                name=f"{n} request: {ex.method} {ex.url}",
                attachment_type=AttachmentType.TEXT,
            )
            allure.attach(
                response_text(ex), name=f"{n} response: {ex.error or ex.status}", attachment_type=AttachmentType.TEXT
            )
        if result.outcome.value == "error":  # the exchange broke: Allure's "broken", not a failed requirement
            listener = item.config.pluginmanager.get_plugin("allure_listener")
            test = listener.allure_logger.get_test(None) if listener is not None else None
            if test is not None:
                test.status = "broken"
