"""The PATCH model (conformance/patchmodel.py): RFC 7644 §3.5.2.1-3 applied to a copy of a resource."""

from __future__ import annotations

import copy

import pytest

from conformance.patchmodel import PatchError, ResourceSchema, Unsupported, apply, differences

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def _multi(name: str, **kw) -> dict:
    return {"name": name, "type": "complex", "multiValued": True, **kw, "subAttributes": [
        {"name": "value", "type": "string"}, {"name": "type", "type": "string"},
        {"name": "primary", "type": "boolean"}, {"name": "display", "type": "string"}]}


SCHEMA = ResourceSchema.from_raw(CORE, {
    CORE: [
        {"name": "userName", "type": "string", "required": True, "uniqueness": "server"},
        {"name": "name", "type": "complex", "subAttributes": [
            {"name": "givenName", "type": "string"}, {"name": "familyName", "type": "string"}]},
        {"name": "displayName", "type": "string"},
        {"name": "nickName", "type": "string"},
        {"name": "active", "type": "boolean"},
        {"name": "password", "type": "string", "mutability": "writeOnly", "returned": "never"},
        {"name": "created2", "type": "dateTime"},
        {"name": "badge", "type": "string", "mutability": "immutable"},
        {"name": "secret", "type": "string", "returned": "request"},
        _multi("emails"),
        _multi("groups", mutability="readOnly"),
    ],
    ENT: [{"name": "department", "type": "string"}, {"name": "employeeNumber", "type": "string"}],
})

BASE = {
    "schemas": [CORE, ENT],
    "id": "u1",
    "userName": "bjensen",
    "displayName": "Babs",
    "name": {"givenName": "Barbara", "familyName": "Jensen"},
    "active": True,
    "emails": [{"value": "b@example.com", "type": "work", "primary": True},
               {"value": "b@home.org", "type": "home"}],
    ENT: {"department": "Tour"},
}


def _with(**changes):
    out = copy.deepcopy(BASE)
    for key, value in changes.items():
        key = {"ent": ENT}.get(key, key)
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


WORK2 = {"value": "new@example.com", "type": "other"}

CASES = [
    ("replace simple", [{"op": "replace", "path": "displayName", "value": "B2"}], _with(displayName="B2")),
    ("op name in any case", [{"op": "Replace", "path": "displayName", "value": "B2"}], _with(displayName="B2")),
    ("add absent simple", [{"op": "ADD", "path": "nickName", "value": "bj"}], _with(nickName="bj")),
    ("replace absent is add", [{"op": "replace", "path": "nickName", "value": "bj"}], _with(nickName="bj")),
    ("attribute names in any case", [{"op": "replace", "path": "DISPLAYNAME", "value": "B2"}],
     _with(displayName="B2")),
    ("remove simple", [{"op": "remove", "path": "displayName"}], _with(displayName=None)),
    ("replace sub-attribute", [{"op": "replace", "path": "name.givenName", "value": "Babs"}],
     _with(name={"givenName": "Babs", "familyName": "Jensen"})),
    ("replace complex keeps the others", [{"op": "replace", "path": "name", "value": {"givenName": "Babs"}}],
     _with(name={"givenName": "Babs", "familyName": "Jensen"})),
    ("remove sub-attribute", [{"op": "remove", "path": "name.givenName"}], _with(name={"familyName": "Jensen"})),
    ("remove last sub-attributes unassigns", [{"op": "remove", "path": "name.givenName"},
                                             {"op": "remove", "path": "name.familyName"}], _with(name=None)),
    ("multi-valued add appends", [{"op": "add", "path": "emails", "value": [WORK2]}],
     _with(emails=[*BASE["emails"], WORK2])),
    ("multi-valued add of an equal value changes nothing",
     [{"op": "add", "path": "emails", "value": [{"value": "B@EXAMPLE.COM", "type": "work", "primary": True}]}],
     _with()),
    ("multi-valued replace replaces", [{"op": "replace", "path": "emails", "value": [WORK2]}], _with(emails=[WORK2])),
    ("remove multi-valued", [{"op": "remove", "path": "emails"}], _with(emails=None)),
    ("value filter replace sub", [{"op": "replace", "path": 'emails[type eq "work"].value', "value": "z@x.com"}],
     _with(emails=[{"value": "z@x.com", "type": "work", "primary": True}, BASE["emails"][1]])),
    ("value filter replace whole", [{"op": "replace", "path": 'emails[type eq "home"]', "value": WORK2}],
     _with(emails=[BASE["emails"][0], WORK2])),
    ("value filter remove", [{"op": "remove", "path": 'emails[type eq "work"]'}], _with(emails=[BASE["emails"][1]])),
    ("value filter remove of every value unassigns", [{"op": "remove", "path": 'emails[value ew ".com" or '
                                                                               'value ew ".org"]'}],
     _with(emails=None)),
    ("value filter remove matching nothing changes nothing", [{"op": "remove", "path": 'emails[type eq "x"]'}],
     _with()),
    ("value filter remove of a sub-attribute", [{"op": "remove", "path": 'emails[type eq "home"].type'}],
     _with(emails=[BASE["emails"][0], {"value": "b@home.org"}])),
    ("primary true clears the others",
     [{"op": "add", "path": "emails", "value": [{**WORK2, "primary": True}]}],
     _with(emails=[{**BASE["emails"][0], "primary": False}, BASE["emails"][1], {**WORK2, "primary": True}])),
    ("extension by URN path", [{"op": "replace", "path": f"{ENT}:department", "value": "Ops"}],
     _with(ent={"department": "Ops"})),
    ("extension added by URN path", [{"op": "add", "path": f"{ENT}:employeeNumber", "value": "7"}],
     _with(ent={"department": "Tour", "employeeNumber": "7"})),
    ("core by URN path", [{"op": "replace", "path": f"{CORE}:name.familyName", "value": "J"}],
     _with(name={"givenName": "Barbara", "familyName": "J"})),
    ("path-less replace map with dotted and URN keys",
     [{"op": "replace", "value": {"displayName": "P", "name.givenName": "G", f"{ENT}:department": "D"}}],
     _with(displayName="P", name={"givenName": "G", "familyName": "Jensen"}, ent={"department": "D"})),
    ("path-less add with an extension object",
     [{"op": "add", "value": {"nickName": "n", ENT: {"employeeNumber": "9"}}}],
     _with(nickName="n", ent={"department": "Tour", "employeeNumber": "9"})),
    ("operations apply in order", [{"op": "replace", "path": "displayName", "value": "A"},
                                   {"op": "replace", "path": "displayName", "value": "B"}], _with(displayName="B")),
    ("immutable without a value may be added", [{"op": "add", "path": "badge", "value": "b1"}], _with(badge="b1")),
]


@pytest.mark.parametrize(("ops", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_apply(ops, expected):
    before = copy.deepcopy(BASE)
    after = apply(BASE, ops, SCHEMA)
    assert BASE == before  # applied to a copy
    assert differences(expected, after, SCHEMA) == []


ERRORS = [
    ("remove without a path", [{"op": "remove"}], "noTarget"),
    ("filter matching nothing", [{"op": "replace", "path": 'emails[type eq "x"].value', "value": "v"}], "noTarget"),
    ("malformed path", [{"op": "replace", "path": 'emails[type eq "work"', "value": "v"}], "invalidPath"),
    ("unknown attribute", [{"op": "replace", "path": "nope", "value": "v"}], "invalidPath"),
    ("unknown sub-attribute", [{"op": "replace", "path": "name.nope", "value": "v"}], "invalidPath"),
    ("unknown schema URN", [{"op": "replace", "path": "urn:x:y:z:attr", "value": "v"}], "invalidPath"),
    ("readOnly id", [{"op": "replace", "path": "id", "value": "v"}], "mutability"),
    ("readOnly meta", [{"op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z"}], "mutability"),
    ("readOnly attribute", [{"op": "add", "path": "groups", "value": [{"value": "g"}]}], "mutability"),
    ("immutable with a value", [{"op": "add", "path": "badge", "value": "b1"},
                                {"op": "replace", "path": "badge", "value": "b2"}], "mutability"),
    ("remove a required attribute", [{"op": "remove", "path": "userName"}], "mutability"),
    ("string for a boolean", [{"op": "replace", "path": "active", "value": "yes"}], "invalidValue"),
    ("object for a string", [{"op": "replace", "path": "displayName", "value": {"a": 1}}], "invalidValue"),
    ("not a dateTime", [{"op": "replace", "path": "created2", "value": "yesterday"}], "invalidValue"),
    ("wrong sub-attribute type", [{"op": "add", "path": "emails", "value": [{"value": 5}]}], "invalidValue"),
    ("unknown op", [{"op": "move", "path": "displayName"}], "invalidSyntax"),
    ("second operation fails", [{"op": "replace", "path": "displayName", "value": "x"}, {"op": "remove"}],
     "noTarget"),
]


@pytest.mark.parametrize(("ops", "scim_type"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_refusals(ops, scim_type):
    with pytest.raises(PatchError) as info:
        apply(BASE, ops, SCHEMA)
    assert info.value.scim_type == scim_type


@pytest.mark.parametrize("ops", [
    [{"op": "add", "path": 'emails[type eq "work"].value', "value": "x"}],
    [{"op": "replace", "path": "emails.value", "value": "x"}],
])
def test_undecided_outcomes_are_not_predicted(ops):
    with pytest.raises(Unsupported):
        apply(BASE, ops, SCHEMA)


@pytest.mark.parametrize(("server", "problem"), [
    (_with(displayName="babs"), None),                         # caseExact false
    (_with(emails=list(reversed(BASE["emails"]))), None),      # order of values does not matter
    (_with(emails=[{**BASE["emails"][0]}, {**BASE["emails"][1], "primary": False}]), None),  # absent primary = false
    ({**BASE, "meta": {"version": "W/1"}, "password": "x", "secret": "s",
      "groups": [{"value": "g"}]}, None),                       # meta, never/request and readOnly ignored
    (_with(displayName=None), "displayName: expected"),
    (_with(nickName="n"), "nickName: expected no value"),
    (_with(emails=BASE["emails"][:1]), "emails: expected"),
    (_with(ent={"department": "Other"}), f"{ENT}:department"),
    (_with(name={"givenName": "Barbara"}), "name: expected"),
    (_with(active="true"), "active: expected"),
])
def test_differences(server, problem):
    found = differences(BASE, server, SCHEMA)
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and found[0].startswith(problem), found
