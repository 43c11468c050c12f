"""The attribute-selection model of conformance/checks/rfc7644_s3_4_2_5_attributes.py: what a partial
representation must and must not hold, judged against a schema declared here."""

from __future__ import annotations

from conformance.checks.rfc7644_s3_4_2_5_attributes import (
    Path,
    expectation,
    lookup,
    parse_path,
    paths_of,
    returned_of,
    view_problems,
)
from conformance.discovery import ENTERPRISE_URN, USER_URN, Attribute, Discovery, Extension, ResourceType, Schema

RT = ResourceType("User", "User", "/Users", USER_URN, extensions=[Extension(ENTERPRISE_URN, False)])


def _discovery() -> Discovery:
    name = Attribute("name", "complex", sub_attributes=[Attribute("givenName"), Attribute("familyName")])
    emails = Attribute("emails", "complex", multi_valued=True,
                       sub_attributes=[Attribute("value"), Attribute("type"), Attribute("primary", "boolean")])
    user = Schema(USER_URN, "User", [
        Attribute("userName", returned="always"), name, emails, Attribute("displayName"),
        Attribute("password", returned="never", mutability="writeOnly"), Attribute("nickName", returned="request"),
    ])
    ext = Schema(ENTERPRISE_URN, "EnterpriseUser", [Attribute("employeeNumber"), Attribute("department")])
    return Discovery(schemas={USER_URN: user, ENTERPRISE_URN: ext}, resource_types=[RT])


FULL = {
    "schemas": [USER_URN, ENTERPRISE_URN],
    "id": "42",
    "externalId": "x-1",
    "userName": "ada",
    "name": {"givenName": "Ada", "familyName": "Lovelace"},
    "emails": [{"value": "ada@example.com", "type": "work", "primary": True}],
    "displayName": "Ada L",
    "meta": {"resourceType": "User", "created": "2020-01-01T00:00:00Z"},
    ENTERPRISE_URN: {"employeeNumber": "7", "department": "Math"},
}


def _names(paths: list[Path]) -> set[str]:
    return {str(p) for p in paths}


def test_parse_path_strips_the_core_urn_and_keeps_an_extension_urn():
    assert parse_path(RT, f"{USER_URN}:name.givenName") == Path(None, "name", "givenName")
    assert parse_path(RT, f"{ENTERPRISE_URN.upper()}:employeeNumber") == Path(ENTERPRISE_URN, "employeeNumber")
    assert parse_path(RT, "emails.value") == Path(None, "emails", "value")


def test_lookup_is_case_insensitive_and_collects_sub_attributes_of_multi_valued():
    assert lookup(FULL, Path(None, "USERNAME")) == "ada"
    assert lookup(FULL, Path(None, "emails", "TYPE")) == ["work"]
    assert lookup(FULL, Path(ENTERPRISE_URN, "department")) == "Math"
    assert lookup(FULL, Path(None, "nickName")) is None


def test_returned_comes_from_the_schema_and_rfc7643_s3_1_for_common_attributes():
    d = _discovery()
    assert returned_of(d, RT, Path(None, "id")) == "always"
    assert returned_of(d, RT, Path(None, "meta", "created")) == "default"
    assert returned_of(d, RT, Path(None, "userName")) == "always"
    assert returned_of(d, RT, Path(None, "password")) == "never"
    assert returned_of(d, RT, Path(None, "unknownThing")) is None
    assert Path(None, "schemas") not in paths_of(d, RT, FULL)


def test_attributes_keeps_the_minimum_set_and_what_was_named_only():
    exp = expectation(_discovery(), RT, FULL, attributes=["name.givenName"])
    assert {"id", "userName", "name", "name.givenName"} <= _names(exp.must)  # userName: declared "always" here
    assert {"name.familyName", "displayName", "meta", "externalId", f"{ENTERPRISE_URN}:employeeNumber"} \
        <= _names(exp.must_not)
    view = {"schemas": [USER_URN], "id": "42", "userName": "ada", "name": {"givenName": "Ada"}}
    assert view_problems(FULL, view, exp) == []
    assert view_problems(FULL, {**view, "displayName": "Ada L"}, exp) == ["displayName is returned"]
    assert view_problems(FULL, {"schemas": [USER_URN], "name": {"givenName": "Ada"}}, exp) == [
        "id is missing", "userName is missing"]


def test_excluded_attributes_cannot_remove_always_and_keeps_the_rest():
    exp = expectation(_discovery(), RT, FULL, excluded=["id", "userName", "emails", f"{ENTERPRISE_URN}:department"])
    assert {"id", "userName", "displayName", "meta", f"{ENTERPRISE_URN}:employeeNumber"} <= _names(exp.must)
    assert {"emails", "emails.value", f"{ENTERPRISE_URN}:department"} <= _names(exp.must_not)
    view = {k: v for k, v in FULL.items() if k != "emails"}
    view[ENTERPRISE_URN] = {"employeeNumber": "7"}
    assert view_problems(FULL, view, exp) == []
    problems = view_problems(FULL, {**view, "displayName": "changed"}, exp)
    assert problems == ['displayName is "changed", the default form shows "Ada L"']


def test_a_whole_attribute_shown_is_reported_once_not_per_sub_attribute():
    exp = expectation(_discovery(), RT, FULL, attributes=["userName"])
    view = {"schemas": [USER_URN], "id": "42", "userName": "ada", "name": FULL["name"]}
    assert view_problems(FULL, view, exp) == ["name is returned"]


def test_never_is_forbidden_and_request_is_not_expected_by_default():
    full = {**FULL, "password": "hash", "nickName": "ad"}
    exp = expectation(_discovery(), RT, full)
    assert "password" in _names(exp.must_not)
    assert "nickName" not in _names(exp.must) | _names(exp.must_not)
    assert "nickName" in _names(expectation(_discovery(), RT, full, attributes=["nickName"]).must)
    assert view_problems(full, {"id": "42", "userName": "ada"}, expectation(_discovery(), RT, full, attributes=[]))[
        0] == "schemas is missing"
    listed = {"id": "42", "userName": "ada"}
    assert view_problems(full, listed, expectation(_discovery(), RT, full, attributes=["userName"]), listed=True) == []
