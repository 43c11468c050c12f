"""The SCIM filter and PATCH path library (conformance/filters.py): parsing, precedence, evaluation."""

from __future__ import annotations

import pytest

from conformance.filters import (
    And,
    AttrPath,
    Compare,
    FilterError,
    Not,
    Or,
    Present,
    ValuePath,
    matches,
    parse,
    parse_path,
    unparse,
)

USER = {
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
    "id": "2819c223",
    "userName": "Bjensen",
    "title": "Tour Guide",
    "userType": "Employee",
    "active": True,
    "name": {"familyName": "O'Malley", "givenName": "Barbara"},
    "emails": [{"value": "bjensen@example.com", "type": "work", "primary": True},
               {"value": "babs@jensen.org", "type": "home"}],
    "ims": [{"value": "someaimhandle", "type": "aim"}],
    "meta": {"lastModified": "2011-05-13T04:42:34Z"},
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "level": 3},
}

# Figure 2 of RFC 7644 §3.4.2.2, each with whether it matches USER.
RFC_EXAMPLES = [
    ('userName eq "bjensen"', True),
    ('name.familyName co "O\'Malley"', True),
    ('userName sw "J"', False),
    ('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "b"', True),
    ("title pr", True),
    ('meta.lastModified gt "2011-05-13T04:42:34Z"', False),
    ('meta.lastModified ge "2011-05-13T04:42:34Z"', True),
    ('meta.lastModified lt "2011-05-13T04:42:34Z"', False),
    ('meta.lastModified le "2011-05-13T04:42:34Z"', True),
    ('title pr and userType eq "Employee"', True),
    ('title pr or userType eq "Intern"', True),
    ('schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"', True),
    ('userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")', True),
    ('userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")', False),
    ('userType eq "Employee" and (emails.type eq "work")', True),
    ('userType eq "Employee" and emails[type eq "work" and value co "@example.com"]', True),
    ('emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]', True),
]


@pytest.mark.parametrize(("text", "expected"), RFC_EXAMPLES)
def test_rfc_examples(text, expected):
    assert matches(parse(text), USER) is expected
    assert matches(parse(unparse(parse(text))), USER) is expected  # unparse round-trips


@pytest.mark.parametrize(("text", "expected"), [
    # not > and > or
    ('a eq 1 or b eq 2 and c eq 3', Or(Compare(AttrPath(None, "a"), "eq", 1),
                                       And(Compare(AttrPath(None, "b"), "eq", 2),
                                           Compare(AttrPath(None, "c"), "eq", 3)))),
    ('(a eq 1 or b eq 2) and c eq 3', And(Or(Compare(AttrPath(None, "a"), "eq", 1),
                                            Compare(AttrPath(None, "b"), "eq", 2)),
                                         Compare(AttrPath(None, "c"), "eq", 3))),
    ('not (a pr) and b pr', And(Not(Present(AttrPath(None, "a"))), Present(AttrPath(None, "b")))),
    ('a pr or b pr or c pr', Or(Or(Present(AttrPath(None, "a")), Present(AttrPath(None, "b"))),
                                Present(AttrPath(None, "c")))),
    ('emails[type eq "work"]', ValuePath(AttrPath(None, "emails"), Compare(AttrPath(None, "type"), "eq", "work"))),
    ('UserName EQ "x"', Compare(AttrPath(None, "UserName"), "eq", "x")),
    ('a Eq TRUE', Compare(AttrPath(None, "a"), "eq", True)),
    ('a eq null', Compare(AttrPath(None, "a"), "eq", None)),
    ('a gt -1.5e2', Compare(AttrPath(None, "a"), "gt", -150.0)),
    ('a eq "quote \\" inside"', Compare(AttrPath(None, "a"), "eq", 'quote " inside')),
    ('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"',
     Compare(AttrPath("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "manager", "value"), "eq", "x")),
    ('members.$ref pr', Present(AttrPath(None, "members", "$ref"))),
])
def test_parse_tree(text, expected):
    assert parse(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ('a eq 1 or a eq 2 and a eq 3', True),     # or binds loosest: true or (false and false)
    ('(a eq 1 or a eq 2) and a eq 3', False),
    ('not (a eq 1) or a eq 1', True),
    ('not (a eq 1 or a eq 1)', False),
    ('not (not (a eq 1))', True),
])
def test_precedence_evaluation(text, expected):
    assert matches(parse(text), {"a": 1}) is expected


@pytest.mark.parametrize(("text", "case_exact", "expected"), [
    ('userName eq "BJENSEN"', False, True),
    ('userName eq "BJENSEN"', True, False),
    ('userName eq "Bjensen"', True, True),
    ('userName sw "bj"', False, True),
    ('userName sw "bj"', True, False),
    ('userName ew "SEN"', False, True),
    ('userName co "JEN"', True, False),
    ('userName gt "a"', False, True),   # lexicographic, without case: "bjensen" > "a"
    ('userName lt "a"', True, True),    # with case: "B" sorts before "a"
])
def test_case_exact_both_ways(text, case_exact, expected):
    assert matches(parse(text), USER, lambda path: case_exact) is expected


def test_case_exact_lookup_receives_the_attribute_path():
    seen = []
    matches(parse('emails[type eq "WORK"]'), USER, lambda p: seen.append(p) or False)
    assert seen and seen[0].same(AttrPath(None, "emails", "type"))


@pytest.mark.parametrize(("text", "expected"), [
    ("active eq true", True),
    ('active eq "true"', False),       # typed: a string is not a boolean
    ("active ne false", True),
    ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:level ge 3", True),
    ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:level gt 3", False),
    ('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"', True),
    ('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq 701984', False),
    ('meta.lastModified eq "2011-05-13T06:42:34+02:00"', True),   # the same instant
    ('meta.lastModified gt "2011-05-13T05:42:34+02:00"', True),
    ("nickName pr", False),
    ("nickName eq null", True),
    ('nickName ne "x"', True),
    ('emails.type eq "home"', True),
    ('emails[type eq "home" and primary eq true]', False),
    ('emails[not (type eq "home")]', True),
    ('EMAILS[TYPE eq "work"]', True),    # attribute names in any case
])
def test_typed_values(text, expected):
    assert matches(parse(text), USER, core_schema="urn:ietf:params:scim:schemas:core:2.0:User") is expected


def test_extension_urn_not_held_is_absent():
    expr = parse('urn:example:ext:2.0:Thing:userName eq "bjensen"')
    assert matches(expr, USER, core_schema="urn:ietf:params:scim:schemas:core:2.0:User") is False


def test_ordering_a_boolean_is_an_invalid_filter():
    with pytest.raises(FilterError):
        matches(parse("active gt true"), USER)


@pytest.mark.parametrize(("text", "column"), [
    ("", None),
    ("userName", 9),
    ("userName eq", 12),
    ('userName regex "x"', 10),
    ("(a eq 1", 8),
    ('a eq "x" and', 13),
    ('emails[type eq "w"', 19),
    ("a.b.c eq 1", 1),
    ('a eq "x" b pr', 10),
    ('a eq "unterminated', 6),
    ('emails[ims[type eq "x"]]', 11),   # value filters do not nest
    ("a eq 01", 7),
    ("1a eq 1", 1),
])
def test_malformed_filters_raise_a_clear_error(text, column):
    with pytest.raises(FilterError) as info:
        parse(text)
    assert info.value.column == column
    if column is not None:
        assert f"column {column}" in str(info.value)


@pytest.mark.parametrize(("text", "attr", "has_filter", "sub"), [
    ("members", AttrPath(None, "members"), False, None),
    ("name.familyName", AttrPath(None, "name", "familyName"), False, None),
    ('addresses[type eq "work"]', AttrPath(None, "addresses"), True, None),
    ('members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName', AttrPath(None, "members"), True,
     "displayName"),
    ('emails[type eq "work" and value ew "example.com"]', AttrPath(None, "emails"), True, None),
    ("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
     AttrPath("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "employeeNumber"), False, None),
    ("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName",
     AttrPath("urn:ietf:params:scim:schemas:core:2.0:User", "name", "givenName"), False, None),
])
def test_patch_paths(text, attr, has_filter, sub):
    path = parse_path(text)
    assert path.attr == attr
    assert (path.filter is not None) is has_filter
    assert path.sub == sub
    assert parse_path(str(path)) == path


@pytest.mark.parametrize("text", ["", "emails[", 'emails[type eq "work"', 'emails[type eq "work"]value',
                                  'name.givenName[type eq "x"]', "a b", 'emails[type eq "x"].', "a..b"])
def test_malformed_patch_paths(text):
    with pytest.raises(FilterError):
        parse_path(text)
