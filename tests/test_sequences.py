"""Unit tests of the pure parts of the random-sequence check (conformance/checks/rfc7644_s3_5_2_sequences.py)."""

from __future__ import annotations

from conformance.checks.rfc7644_s3_5_2_sequences import (
    Plan,
    Template,
    budget,
    describe_request,
    op_tier,
    operation,
    plan_for,
    put_body,
    step_tier,
    without_formatted,
)
from conformance.patchmodel import ResourceSchema, apply

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

SUBS = [{"name": n, "type": "string"} for n in ("value", "display", "type")] + [{"name": "primary", "type": "boolean"}]
USER_SCHEMA = ResourceSchema.from_raw(USER, {
    USER: [
        {"name": "userName", "type": "string", "required": True, "uniqueness": "server"},
        {"name": "name", "type": "complex", "subAttributes": [
            {"name": "formatted", "type": "string"}, {"name": "familyName", "type": "string"},
            {"name": "givenName", "type": "string"}]},
        {"name": "displayName", "type": "string"},
        {"name": "nickName", "type": "string"},
        {"name": "title", "type": "string"},
        {"name": "active", "type": "boolean"},
        {"name": "password", "type": "string", "mutability": "writeOnly", "returned": "never"},
        {"name": "emails", "type": "complex", "multiValued": True, "subAttributes": SUBS},
        {"name": "groups", "type": "complex", "multiValued": True, "mutability": "readOnly", "subAttributes": SUBS},
    ],
    ENTERPRISE: [{"name": "employeeNumber", "type": "string"}],
})
GROUP_SCHEMA = ResourceSchema.from_raw(GROUP, {
    GROUP: [
        {"name": "displayName", "type": "string", "required": True},
        {"name": "members", "type": "complex", "multiValued": True, "subAttributes": SUBS},
    ],
})


def test_plan_for_user_covers_simple_extension_boolean_complex_and_multi():
    plan = plan_for(USER_SCHEMA, "userName")
    kinds = {(t.kind, t.path) for t in plan.templates}
    assert ("replace", "displayName") in kinds and ("remove", "nickName") in kinds
    assert ("replace", f"{ENTERPRISE}:employeeNumber") in kinds
    assert ("replace-bool", "active") in kinds
    assert ("replace-sub", "name.familyName") in kinds and ("replace-complex", "name") in kinds
    assert not any(t.sub.lower() == "formatted" for t in plan.templates)
    assert plan.multi is not None and plan.multi.name == "emails"
    assert ("remove-filter", "emails") in kinds
    assert not any(t.path in ("userName", "password", "groups") for t in plan.templates)
    assert set(plan.omittable) <= set(plan.put_attrs)


def test_plan_for_group_never_touches_members_nor_removes_required():
    plan = plan_for(GROUP_SCHEMA, "displayName")
    assert plan.multi is None
    assert not any(t.attr == "members" for t in plan.templates)
    assert ("remove", "displayName") not in {(t.kind, t.path) for t in plan.templates}
    assert "displayName" not in plan.omittable
    assert ("replace", "externalId") in {(t.kind, t.path) for t in plan.templates}


def test_operations_are_predicted_by_the_model():
    plan = plan_for(USER_SCHEMA, "userName")
    resource = {"schemas": [USER], "id": "1", "userName": "u", "nickName": "n",
                "emails": [{"value": "a@example.org", "type": "work"}]}
    for template in plan.templates:
        op = operation(template, 1, "p", plan, resource)
        assert op is not None, template
        apply(resource, [op], USER_SCHEMA)  # neither PatchError nor Unsupported


def test_add_of_a_value_already_there_and_filter_without_match_are_not_sent():
    plan = plan_for(USER_SCHEMA, "userName")
    add = Template("add-multi", "emails", "emails")
    have = {"emails": [{"value": "p-v2@example.org", "type": "work"}]}
    assert operation(add, 2, "p", plan, have) is None
    assert operation(add, 1, "p", plan, have)["value"][0]["value"] == "p-v1@example.org"
    flt = Template("remove-filter", "emails", "emails")
    assert operation(flt, 0, "p", plan, {}) is None
    assert operation(flt, 5, "p", plan, have) == {"op": "remove", "path": 'emails[value eq "p-v2@example.org"]'}


def test_put_body_changes_omits_and_drops_meta():
    model = {"schemas": [USER], "id": "1", "meta": {"version": "x"}, "userName": "u", "NickName": "n",
             ENTERPRISE: {"employeeNumber": "7"}}
    body = put_body(model, f"{ENTERPRISE}:employeeNumber", 3, "p", "nickName")
    assert "meta" not in body and "NickName" not in body
    assert body[ENTERPRISE] == {"employeeNumber": "p-v3"}
    assert body["userName"] == "u" and model["NickName"] == "n"
    added = put_body({"schemas": [USER], "userName": "u"}, f"{ENTERPRISE}:employeeNumber", 0, "p", None)
    assert ENTERPRISE in added["schemas"]


def test_without_formatted_ignores_derived_sub_attribute_only():
    resource = {"name": {"formatted": "A B", "givenName": "A"}, "displayName": "x"}
    assert without_formatted(resource) == {"name": {"givenName": "A"}, "displayName": "x"}
    assert resource["name"]["formatted"] == "A B"


def test_describe_request_is_replayable_and_bounded():
    line = describe_request("PATCH", "/Users/1", {"Operations": [{"op": "remove", "path": "x"}]}, 204)
    assert line == 'PATCH /Users/1 {"Operations":[{"op":"remove","path":"x"}]} -> 204'
    assert len(describe_request("PUT", "/Users/1", {"a": "x" * 5000}, 200)) < 700


def test_budget_from_environment(monkeypatch):
    for name in ("SCIM_SEQ_EXAMPLES", "SCIM_SEQ_STEPS", "SCIM_SEQ_SEED"):
        monkeypatch.delenv(name, raising=False)
    assert budget() == (8, 6, None)
    monkeypatch.setenv("SCIM_SEQ_EXAMPLES", "50")
    monkeypatch.setenv("SCIM_SEQ_SEED", "1234")
    assert budget() == (50, 6, 1234)
    monkeypatch.setenv("SCIM_SEQ_EXAMPLES", "lots")
    assert budget()[0] == 8
    from conformance.engine import Settings

    assert budget(Settings(url="http://x", seed=7))[2] == 7  # the run's --seed wins over SCIM_SEQ_SEED
    assert budget(Settings(url="http://x"))[2] == 1234


def test_empty_plan_has_no_templates():
    assert Plan().templates == []


def test_comparable_ignores_sub_attributes_the_server_adds_to_multi_values():
    from conformance.checks.rfc7644_s3_5_2_sequences import comparable

    want = {"emails": [{"value": "a@example.org", "type": "work"}], "name": {"formatted": "x", "givenName": "A"}}
    got = {"emails": [{"value": "a@example.org", "type": "work", "primary": True, "display": "A"}],
           "name": {"givenName": "A", "formatted": "y"}}
    w, h = comparable(want, got, "emails")
    assert h["emails"] == [{"value": "a@example.org", "type": "work"}] and w["name"] == h["name"]
    assert got["emails"][0]["primary"] is True  # the inputs are left alone
    _, h2 = comparable({"emails": [{"value": "a", "primary": True}]}, {"emails": [{"value": "a", "primary": False}]},
                       "emails")
    assert h2["emails"][0]["primary"] is False


def test_steps_are_graded_like_the_single_operation_checks():
    plan = plan_for(USER_SCHEMA, "userName")
    by = {(t.kind, t.path): t for t in plan.templates}
    resource = {"schemas": [USER], "id": "1", "userName": "u", "nickName": "n", "name": {"givenName": "g"},
                "emails": [{"value": "a@example.org", "type": "work"}]}

    def level(kind: str, path: str, res=resource) -> str:
        template = by[(kind, path)]
        return op_tier(template, operation(template, 1, "p", plan, res), res)[0]

    # SHALL in the RFC: removes, a replace of a complex attribute, a replace where no value was (an add)
    assert level("remove", "nickName") == "MUST"
    assert level("remove-sub", "name.givenName") == "MUST"
    assert level("replace-complex", "name") == "MUST"
    assert level("replace", "displayName") == "MUST"  # no displayName yet: SHALL act as an add
    assert level("remove-filter", "emails") == "MUST"  # the last email: SHALL leave emails unassigned
    # no keyword in §3.5.2: a plain add, a replace of a value that is there, an append
    assert level("replace", "nickName") == "MAY"
    assert level("replace-sub", "name.givenName") == "MAY"
    assert level("add-multi", "emails") == "MAY"
    assert level("replace-multi", "emails") == "MAY"
    two = {**resource, "emails": [{"value": "a@example.org"}, {"value": "b@example.org"}]}
    assert level("remove-filter", "emails", two) == "MAY"
    # a step is MUST only when every operation in it is: the difference may come from any of them
    remove, replace = by[("remove", "nickName")], by[("replace", "nickName")]
    ops = [(remove, operation(remove, 1, "p", plan, resource)), (replace, operation(replace, 2, "p", plan, resource))]
    assert step_tier(ops, resource)[0] == "MAY"
    assert step_tier(ops[:1], resource) == ("MUST", "remove (7644-3.5.2.2-01)")


def _dropping(kinds: set[str]):
    """A server that answers 204 to a PATCH of Users whose operations are all of ``kinds`` ((op, path)
    pairs, path None for any) and stores nothing."""
    import json

    from .faultkit import Fault, Response

    def func(req, forward):
        if req.method == "PATCH" and "/Users/" in req.path:
            ops = json.loads(req.body or b"{}").get("Operations") or []
            if ops and all((o.get("op"), o.get("path")) in kinds or (o.get("op"), None) in kinds for o in ops):
                return Response(204, [], b"")
        return forward(req)

    return Fault("synthetic", func, ("patch.random-sequences",))


def _sequences_against(fault, monkeypatch):
    from conformance.embedded import EmbeddedTarget

    from .faultkit import FaultMiddleware
    from .suiteutil import run_suite

    monkeypatch.setenv("SCIM_SEQ_EXAMPLES", "3")
    holder = {}

    def wrap(app):
        holder["mw"] = FaultMiddleware(app)
        return holder["mw"]

    with EmbeddedTarget(wrap=wrap) as target:
        holder["mw"].active = fault
        results = run_suite(target.url, target.token, select=("patch.random-sequences",))
    return results["patch.random-sequences[User]"]


def test_a_difference_only_after_appends_warns_at_may(monkeypatch):
    result = _sequences_against(_dropping({("add", "emails")}), monkeypatch)
    assert (result.outcome.value, result.level) == ("warn", "MAY"), result.message
    assert "graded MAY" in result.message and "add-multi" in result.message


def test_a_difference_after_a_remove_fails_at_must(monkeypatch):
    result = _sequences_against(_dropping({("remove", None)}), monkeypatch)
    assert (result.outcome.value, result.level) == ("fail", "MUST"), result.message
    assert "graded MAY" not in result.message
