"""Unit tests of the machinery: verdict mapping, registry rules, redaction, payloads, report schema."""

from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from conformance import jsonschemas, payloads, report
from conformance.discovery import USER_URN
from conformance.engine import Case, Run, Settings
from conformance.http import REDACTED, Redactor, ScimHttp
from conformance.model import Outcome
from conformance.registry import Check, check
from conformance.verdicts import ExchangeError, NotApplicable, Violation


def _check(func, level="MUST", needs=(), per_rt=False) -> Check:
    return Check(
        id="test.synthetic", title="synthetic", requirements=("7644-3.3-07",), level=level, func=func,
        needs=tuple(needs), per_resource_type=per_rt,
    )


@pytest.fixture
def run(embedded_target):
    r = Run(Settings(url=embedded_target.url, token=embedded_target.token))
    r.start()
    yield r
    r.finish()
    r.http.close()


def _raise(exc):
    def func(ctx, *rt):
        raise exc

    return func


@pytest.mark.parametrize(
    ("func", "level", "outcome"),
    [
        (lambda ctx: None, "MUST", Outcome.PASS),
        (_raise(Violation("bad")), "MUST", Outcome.FAIL),
        (_raise(Violation("bad")), "SHOULD", Outcome.WARN),
        (_raise(Violation("bad")), "MAY", Outcome.WARN),
        (_raise(NotApplicable("not here")), "MUST", Outcome.SKIP),
        (_raise(ExchangeError("reset")), "MUST", Outcome.ERROR),
        (_raise(KeyError("oops")), "MUST", Outcome.ERROR),
    ],
    ids=["pass", "must-fail", "should-warn", "may-warn", "skip", "exchange-error", "suite-bug-error"],
)
def test_verdict_mapping(run, func, level, outcome):
    result = run.execute(Case(_check(func, level)))
    assert result.outcome is outcome
    if outcome is Outcome.ERROR and "oops" in result.message:
        assert result.message.startswith("internal error in the suite")


def test_unadvertised_feature_skips_with_reason(run):
    result = run.execute(Case(_check(lambda ctx: None, needs=["nonexistentFeature"])))
    assert result.outcome is Outcome.SKIP
    assert "nonexistentFeature.supported=true" in result.message


def test_profile_level_override_changes_the_grade(run):
    run.settings.levels["test.synthetic"] = "SHOULD"
    result = run.execute(Case(_check(_raise(Violation("bad")), "MUST")))
    assert (result.level, result.outcome) == ("SHOULD", Outcome.WARN)


def test_exchanges_are_recorded_per_result_and_resources_cleaned(run, embedded_target):
    created_paths = []

    def func(ctx, rt):
        c = ctx.created_ok(rt)
        created_paths.append(c.path)
        ctx.http.get(c.path)

    rt = run.discovery.resource_type("User")
    result = run.execute(Case(_check(func, per_rt=True), rt))
    assert result.outcome is Outcome.PASS
    assert [e.method for e in result.exchanges] == ["POST", "GET"]
    assert all(e.status and e.elapsed_s >= 0 for e in result.exchanges)
    assert run.http.get(created_paths[0]).status == 404, "the check's resource was not deleted"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"id": "Bad Id"}, "lower-case"),
        ({"level": "MUSTN'T"}, "level"),
        ({"requirements": []}, "cites no requirement"),
    ],
)
def test_registry_rejects_malformed_checks(kwargs, message):
    args = {"id": "test.ok", "title": "t", "requirements": ["7644-3.3-07"], "level": "MUST"} | kwargs
    with pytest.raises(ValueError, match=message):
        check(args.pop("id"), args.pop("title"), **args)(lambda ctx: None)


def test_registry_rejects_a_second_check_with_the_same_id():
    def first(ctx):
        pass

    def second(ctx):
        pass

    from conformance.registry import REGISTRY

    try:
        check("test.dup", "t", requirements=["7644-3.3-07"], level="MUST")(first)
        with pytest.raises(ValueError, match="registered twice"):
            check("test.dup", "t", requirements=["7644-3.3-07"], level="MUST")(second)
    finally:
        REGISTRY.pop("test.dup", None)


def test_redactor_hides_secrets_in_headers_bodies_and_urls():
    red = Redactor(["s3cr3t-token"])
    headers = red.headers([("Authorization", "Bearer s3cr3t-token"), ("Cookie", "a=b"), ("X-Echo", "s3cr3t-token")])
    assert headers == {"Authorization": f"Bearer {REDACTED}", "Cookie": REDACTED, "X-Echo": REDACTED}
    assert red.text('{"detail": "bad token s3cr3t-token"}') == f'{{"detail": "bad token {REDACTED}"}}'


def test_no_artifact_carries_the_token(embedded_target, tmp_path):
    run = Run(Settings(url=embedded_target.url, token=embedded_target.token))
    run.start()
    run.run_all()
    run.http.close()
    text = json.dumps(report.build(run))
    assert embedded_target.token not in text
    assert f"Bearer {REDACTED}" in text


def test_report_validates_against_its_schema(embedded_target):
    run = Run(Settings(url=embedded_target.url, token=embedded_target.token, select=("discovery.",)))
    run.start()
    run.run_all()
    run.http.close()
    data = report.build(run)
    Draft202012Validator(jsonschemas.load("report")).validate(data)
    assert data["summary"]["total"] == len(data["results"]) > 0


def test_json_report_fields_are_stable(embedded_target):
    run = Run(Settings(url=embedded_target.url, token=embedded_target.token, select=("discovery.spc.answers",)))
    run.start()
    run.run_all()
    run.http.close()
    (result,) = report.build(run)["results"]
    assert result["id"] == "discovery.spc.answers"
    assert result["requirements"] and result["level"] in ("MUST", "SHOULD", "MAY")
    assert result["exchanges"][0]["url"].endswith("/ServiceProviderConfig")


def test_payloads_carry_the_run_tag_and_only_declared_attributes(run):
    user = run.discovery.resource_type("User")
    body = payloads.build(run.discovery, user, "sctabc-0001-user")
    assert body["userName"] == "sctabc-0001-user"
    assert USER_URN in body["schemas"]
    assert "password" not in body
    assert "password" in payloads.build(run.discovery, user, "t", with_password=True)
    # Everything sent is declared by the target's /Schemas.
    schema = run.discovery.schema_of(user)
    for key in body:
        if key not in ("schemas",) and not key.startswith("urn:"):
            assert schema.attribute(key) is not None, key


def test_generic_payload_for_a_resource_type_of_the_target_own(device_target):
    run = Run(Settings(url=device_target.url, token=device_target.token))
    run.start()
    device = run.discovery.resource_type("Device")
    body = payloads.build(run.discovery, device, "sctabc-0002-device")
    assert body == {"schemas": ["urn:example:scim:schemas:Device"], "displayName": "sctabc-0002-device"}
    created = run.post_resource(device, body)
    assert created.reply.status == 201
    run.delete_quietly(created)
    run.http.close()


def test_http_layer_turns_a_refused_connection_into_an_exchange_error():
    http = ScimHttp("http://127.0.0.1:9/v2", timeout=2)
    http.sink = []
    with pytest.raises(ExchangeError, match="connection refused"):
        http.get("ServiceProviderConfig")
    assert http.sink[0].status is None and http.sink[0].error == "connection refused"


def test_http_layer_sends_no_cookie_an_answer_set():
    import httpx

    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, json={}, headers={"Set-Cookie": "session=abc; Path=/"})

    http = ScimHttp("http://127.0.0.1:9/v2", token="t", transport=httpx.MockTransport(answer))
    http.get("ServiceProviderConfig")
    http.get("ServiceProviderConfig", auth=False)  # a credential-less probe must not carry a session
    assert seen == [None, None]
