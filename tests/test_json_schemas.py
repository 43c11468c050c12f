"""The JSON Schemas of schemas/: well-formed, citing known requirements, and right on examples.

The RFC schemas judge what a server returns, so a valid example rejected here is the worst kind of bug
(a false failure). Every broken example is one change away from a valid one, and names the requirement
the schema should cite for it (None when the rule is a plain JSON type with no requirement id).

Schemas cite service-provider rules with "x-requirement" (ids of the project's catalogue) and, in the
request schemas the suite checks its own requests with, client rules with "x-client-requirement".
"""

from __future__ import annotations

import copy
import csv
import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "schemas"
CATALOGUE = ROOT / "conformance" / "data" / "requirements.tsv"

DRAFT = "https://json-schema.org/draft/2020-12/schema"
REQUIREMENT_ID = re.compile(r"^764[34]-[0-9.]+-[0-9]{2}$")
CITING_KEYS = ("x-requirement", "x-client-requirement")
RFC_SCHEMAS = (
    "user", "group", "enterprise-user", "service-provider-config", "resource-type", "schema", "list-response",
    "error", "patch-op", "search-request", "bulk-request", "bulk-response",
)
ALL_SCHEMAS = (*RFC_SCHEMAS, "report")

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
SPC_URN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
RESOURCE_TYPE_URN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:Schema"
MESSAGE = "urn:ietf:params:scim:api:messages:2.0:"
BASE = "https://scim.example.org/v2"


# -- helpers -----------------------------------------------------------------------------------------------------

DROP = object()


def edit(doc: Any, path: tuple, value: Any = DROP) -> Any:
    """A deep copy of ``doc`` with the member at ``path`` replaced by ``value`` (or removed)."""
    out = copy.deepcopy(doc)
    parent = out
    for step in path[:-1]:
        parent = parent[step]
    if value is DROP:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


@functools.cache
def load(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


@functools.cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load(name), format_checker=Draft202012Validator.FORMAT_CHECKER)


@functools.cache
def catalogue_ids() -> frozenset[str]:
    """The requirement ids of the project's catalogue (a header line, then the id in column 1)."""
    with CATALOGUE.open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(rows)
        return frozenset(row[0] for row in rows if row)


def requirement_ids(node: Any, key: str):
    """Every value of the citing keyword ``key`` in a schema document."""
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key:
                yield value
            else:
                yield from requirement_ids(value, key)
    elif isinstance(node, list):
        for item in node:
            yield from requirement_ids(item, key)


def cited(error: ValidationError) -> set[str]:
    """The requirements an error points at: those the failing subschema cites, or for a missing member those
    of that member's property schema. Sub-errors of anyOf/oneOf are included."""
    ids = set()
    stack = [error]
    while stack:
        err = stack.pop()
        stack.extend(err.context)
        schema = err.schema if isinstance(err.schema, dict) else {}
        cites = [schema]
        if err.validator == "required" and isinstance(err.instance, dict):
            cites += [schema.get("properties", {}).get(name, {}) for name in err.validator_value
                      if name not in err.instance]
        ids.update(sub.get(key) for sub in cites for key in CITING_KEYS)
    return ids - {None}


# -- examples (modelled on the RFC figures, not copied) ----------------------------------------------------------


def meta(resource_type: str, path: str) -> dict[str, str]:
    return {"resourceType": resource_type, "created": "2024-03-01T09:30:00Z",
            "lastModified": "2024-03-02T10:00:00.5+01:00", "location": f"{BASE}/{path}", "version": 'W/"a1"'}


USER_MIN = {"schemas": [USER_URN], "id": "u-1001", "userName": "kim.lee@example.org",
            "meta": meta("User", "Users/u-1001")}

USER_FULL = {
    **USER_MIN,
    "schemas": [USER_URN, ENTERPRISE_URN],
    "externalId": "HR-88",
    "name": {"formatted": "Dr. Kim Lee", "familyName": "Lee", "givenName": "Kim", "honorificPrefix": "Dr."},
    "displayName": "Kim Lee",
    "nickName": None,
    "active": True,
    "locale": "en-GB",
    "emails": [{"value": "kim.lee@example.org", "type": "work", "primary": True},
               {"value": "kim@home.example", "type": "home", "primary": False}],
    "phoneNumbers": [{"value": "tel:+44-20-7946-0000", "type": "work"}],
    "addresses": [{"type": "work", "streetAddress": "1 Quay Road\nUnit 4", "locality": "Leeds",
                   "postalCode": "LS1 4AP", "country": "GB", "primary": True}],
    "groups": [{"value": "g-77", "$ref": f"{BASE}/Groups/g-77", "display": "Night Shift"}],
    "roles": [],
    "x509Certificates": [{"value": "MIIBszCCAVmgAwIBAgIU"}],
    ENTERPRISE_URN: {"employeeNumber": "4417", "costCenter": "CC-9", "department": "Logistics",
                     "manager": {"value": "u-2002", "$ref": "../Users/u-2002", "displayName": "Ana Ruiz"}},
    "urn:example:vendor:2.0:User": {"badge": 12},
}

GROUP = {"schemas": [GROUP_URN], "id": "g-77", "displayName": "Night Shift",
         "members": [{"value": "u-1001", "$ref": f"{BASE}/Users/u-1001", "display": "Kim Lee"},
                     {"value": "g-80", "$ref": f"{BASE}/Groups/g-80", "type": "Group"}],
         "meta": meta("Group", "Groups/g-77")}

SPC = {
    "schemas": [SPC_URN],
    "documentationUri": "https://docs.example.org/scim",
    "patch": {"supported": True},
    "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
    "filter": {"supported": True, "maxResults": 500},
    "changePassword": {"supported": False},
    "sort": {"supported": True},
    "etag": {"supported": False},
    "authenticationSchemes": [{"type": "oauthbearertoken", "name": "Bearer token",
                               "description": "A bearer token in the Authorization header",
                               "specUri": "https://www.rfc-editor.org/info/rfc6750", "primary": True}],
    "meta": {"resourceType": "ServiceProviderConfig", "location": f"{BASE}/ServiceProviderConfig"},
}

RESOURCE_TYPE = {"schemas": [RESOURCE_TYPE_URN], "id": "User", "name": "User", "endpoint": "/Users",
                 "description": "People who sign in", "schema": USER_URN,
                 "schemaExtensions": [{"schema": ENTERPRISE_URN, "required": False}],
                 "meta": {"resourceType": "ResourceType", "location": f"{BASE}/ResourceTypes/User"}}

SCHEMA = {  # without "schemas", as in the RFC's own schema representations
    "id": GROUP_URN,
    "name": "Group",
    "description": "A set of members",
    "attributes": [
        {"name": "displayName", "type": "string", "multiValued": False, "description": "Label", "required": True,
         "caseExact": False, "mutability": "readWrite", "returned": "default", "uniqueness": "none"},
        {"name": "members", "type": "complex", "multiValued": True, "required": False, "mutability": "readWrite",
         "returned": "default", "subAttributes": [
             {"name": "value", "type": "string", "multiValued": False, "mutability": "immutable"},
             {"name": "$ref", "type": "reference", "multiValued": False, "referenceTypes": ["User", "Group"]}]},
        {"name": "badge", "type": "binary", "multiValued": False},
    ],
    "meta": {"resourceType": "Schema", "location": f"{BASE}/Schemas/{GROUP_URN}"},
}

LIST = {"schemas": [MESSAGE + "ListResponse"], "totalResults": 3, "startIndex": 1, "itemsPerPage": 2,
        "Resources": [{"id": "u-1001", "userName": "kim"}, {"id": "u-1002", "userName": "ana"}]}

ERROR = {"schemas": [MESSAGE + "Error"], "status": "409", "scimType": "uniqueness",
         "detail": "userName kim.lee@example.org is taken"}

PATCH = {"schemas": [MESSAGE + "PatchOp"], "Operations": [
    {"op": "add", "path": "emails", "value": [{"value": "k@example.net", "type": "other"}]},
    {"op": "remove", "path": 'emails[type eq "home"]'},
    {"op": "replace", "value": {"active": False}},
    {"op": "replace", "path": "name.givenName", "value": "Kimberly"},
]}

SEARCH = {"schemas": [MESSAGE + "SearchRequest"], "attributes": ["userName", "displayName"],
          "filter": 'userName sw "k"', "sortBy": "userName", "sortOrder": "descending", "startIndex": 1, "count": 5}

BULK_REQUEST = {"schemas": [MESSAGE + "BulkRequest"], "failOnErrors": 2, "Operations": [
    {"method": "POST", "path": "/Users", "bulkId": "new1", "data": {"schemas": [USER_URN], "userName": "ana"}},
    {"method": "PATCH", "path": "/Groups/g-77", "version": 'W/"4"', "data": PATCH},
    {"method": "DELETE", "path": "/Users/u-9"},
]}

BULK_RESPONSE = {"schemas": [MESSAGE + "BulkResponse"], "Operations": [
    {"method": "POST", "bulkId": "new1", "location": f"{BASE}/Users/u-3003", "version": 'W/"1"', "status": "201"},
    {"method": "POST", "bulkId": "new2", "status": "409", "response": ERROR},
    {"method": "PUT", "location": f"{BASE}/Users/u-404", "status": "404",
     "response": {"schemas": [MESSAGE + "Error"], "status": "404"}},
    {"method": "DELETE", "location": f"{BASE}/Users/u-9", "status": "204"},
]}

REPORT = {
    "report_version": "1",
    "tool": {"name": "scim-conformance", "version": "0.1.0"},
    "run_id": "run-42",
    "target": {"url": BASE, "profile": "rfc7644", "embedded": False},
    "started": "2024-03-01T09:30:00Z",
    "duration_s": 1.25,
    "summary": {"pass": 1, "fail": 0, "warn": 0, "skip": 0, "error": 1, "total": 2},
    "discovery": {"resource_types": [{"name": "User", "endpoint": "/Users"}], "features": {"patch": True}},
    "results": [
        {"id": "resources.create[User]", "check": "resources.create", "title": "POST creates a resource",
         "section": "RFC 7644 §3.3", "requirements": ["7644-3.3-07", "7644-3.3.1-01"], "level": "MUST",
         "outcome": "pass", "message": "201 with the resource", "resource_type": "User", "duration_s": 0.2,
         "exchanges": [{"method": "POST", "url": f"{BASE}/Users", "request_headers": {"Accept": "application/json"},
                        "request_body": '{"userName": "ana"}', "status": 201, "response_headers": {},
                        "response_body": "{}", "elapsed_s": 0.19, "error": None}]},
        {"id": "discovery.spc.answers", "check": "discovery.spc.answers", "title": "SPC answers",
         "section": "RFC 7644 §4", "requirements": ["7644-4-02"], "level": "MUST", "outcome": "error",
         "message": "timed out", "resource_type": None, "duration_s": 10.0,
         "exchanges": [{"method": "GET", "url": f"{BASE}/ServiceProviderConfig", "request_headers": {},
                        "request_body": None, "status": None, "response_headers": {}, "response_body": None,
                        "elapsed_s": 10.0, "error": "ReadTimeout"}]},
    ],
}

VALID = [
    ("user", "minimal", USER_MIN),
    ("user", "full, with extensions and null/[] values", USER_FULL),
    ("enterprise-user", "full", USER_FULL),
    ("enterprise-user", "without the extension", USER_MIN),
    ("group", "with members", GROUP),
    ("group", "without members", edit(GROUP, ("members",))),
    ("service-provider-config", "bulk unsupported", SPC),
    ("resource-type", "with an extension", RESOURCE_TYPE),
    ("resource-type", "without extensions or id", edit(edit(RESOURCE_TYPE, ("schemaExtensions",)), ("id",))),
    ("schema", "without schemas", SCHEMA),
    ("schema", "with schemas", {**SCHEMA, "schemas": [SCHEMA_URN]}),
    ("list-response", "a page", LIST),
    ("list-response", "no results", {"schemas": [MESSAGE + "ListResponse"], "totalResults": 0}),
    ("list-response", "count=0 page", edit(edit(LIST, ("Resources",)), ("itemsPerPage",), 0)),
    ("error", "with scimType", ERROR),
    ("error", "status only", {"schemas": [MESSAGE + "Error"], "status": "500"}),
    ("patch-op", "add, remove, replace", PATCH),
    ("search-request", "all parameters", SEARCH),
    ("search-request", "negative count", {"schemas": [MESSAGE + "SearchRequest"], "count": -1}),
    ("bulk-request", "POST, PATCH, DELETE", BULK_REQUEST),
    ("bulk-response", "string statuses", BULK_RESPONSE),
    ("bulk-response", "status with a code", edit(BULK_RESPONSE, ("Operations", 0, "status"), {"code": "201"})),
    ("report", "small report", REPORT),
]

INVALID = [
    ("user", "no userName", edit(USER_MIN, ("userName",)), "7643-4.1.1-01"),
    ("user", "empty id", edit(USER_MIN, ("id",), ""), "7643-3.1-05"),
    ("user", "id containing bulkId", edit(USER_MIN, ("id",), "bulkId:x1"), "7643-3.1-09"),
    ("user", "schemas without the User URN", edit(USER_MIN, ("schemas",), [GROUP_URN]), "7643-3.3-02"),
    ("user", "duplicate schemas", edit(USER_MIN, ("schemas",), [USER_URN, USER_URN]), "7643-3-05"),
    ("user", "two primary emails", edit(USER_FULL, ("emails", 1, "primary"), True), "7643-2.4-03"),
    ("user", "active as a string", edit(USER_MIN, ("active",), "True"), None),
    ("enterprise-user", "manager as a string", edit(USER_FULL, (ENTERPRISE_URN, "manager"), "u-2002"), None),
    ("group", "no displayName", edit(GROUP, ("displayName",)), "7643-4.2-01"),
    ("group", "members not a list", edit(GROUP, ("members",), {"value": "u-1001"}), None),
    ("service-provider-config", "no bulk.maxOperations", edit(SPC, ("bulk", "maxOperations")), "7643-5-06"),
    ("service-provider-config", "no etag", edit(SPC, ("etag",)), "7643-5-15"),
    ("service-provider-config", "patch.supported as a string", edit(SPC, ("patch", "supported"), "true"), "7643-5-03"),
    ("service-provider-config", "scheme without description",
     edit(SPC, ("authenticationSchemes", 0, "description")), "7643-5-21"),
    ("resource-type", "no endpoint", edit(RESOURCE_TYPE, ("endpoint",)), "7643-6-07"),
    ("resource-type", "extension without required",
     edit(RESOURCE_TYPE, ("schemaExtensions", 0, "required")), "7643-6-15"),
    ("schema", "no attributes", edit(SCHEMA, ("attributes",)), "7643-7-01"),
    ("schema", "attribute without multiValued", edit(SCHEMA, ("attributes", 0, "multiValued")), "7643-7-01"),
    ("schema", "unknown returned keyword", edit(SCHEMA, ("attributes", 0, "returned"), "sometimes"), None),
    ("list-response", "no totalResults", edit(LIST, ("totalResults",)), "7644-3.4.2-04"),
    ("list-response", "results but no Resources", edit(LIST, ("Resources",)), "7644-3.4.2-06"),
    ("list-response", "wrong message URN", edit(LIST, ("schemas",), [MESSAGE + "Error"]), "7644-3.4.2-03"),
    ("error", "status as an integer", edit(ERROR, ("status",), 409), "7644-3.12-02"),
    ("error", "no status", edit(ERROR, ("status",)), "7644-3.12-02"),
    ("error", "no Error URN", edit(ERROR, ("schemas",), [MESSAGE + "ListResponse"]), "7644-3.12-01"),
    ("patch-op", "remove without path", edit(PATCH, ("Operations", 1, "path")), "7644-3.5.2-05"),
    ("patch-op", "add without value", edit(PATCH, ("Operations", 0, "value")), "7644-3.5.2.1-01"),
    ("patch-op", "unknown op", edit(PATCH, ("Operations", 0, "op"), "move"), "7644-3.5.2-04"),
    ("patch-op", "no operations", edit(PATCH, ("Operations",), []), "7644-3.5.2-03"),
    ("search-request", "attributes and excludedAttributes", {**SEARCH, "excludedAttributes": ["emails"]},
     "7644-3.9-01"),
    ("search-request", "no SearchRequest URN", edit(SEARCH, ("schemas",), []), "7644-3.4.3-04"),
    ("bulk-request", "POST without bulkId", edit(BULK_REQUEST, ("Operations", 0, "bulkId")), "7644-3.7-04"),
    ("bulk-request", "PATCH without data", edit(BULK_REQUEST, ("Operations", 1, "data")), "7644-3.7-07"),
    ("bulk-request", "no path", edit(BULK_REQUEST, ("Operations", 2, "path")), "7644-3.7-06"),
    ("bulk-response", "status as an integer", edit(BULK_RESPONSE, ("Operations", 3, "status"), 204), "7644-3.7.3-03"),
    ("bulk-response", "successful POST without location",
     edit(BULK_RESPONSE, ("Operations", 0, "location")), "7644-3.7-08"),
    ("bulk-response", "failed PUT without location", edit(BULK_RESPONSE, ("Operations", 2, "location")),
     "7644-3.7-08"),
    ("bulk-response", "failure without response", edit(BULK_RESPONSE, ("Operations", 1, "response")),
     "7644-3.7-09"),
    ("bulk-response", "failure whose response is no Error",
     edit(BULK_RESPONSE, ("Operations", 1, "response"), {"detail": "taken"}), "7644-3.7-11"),
    ("report", "unknown outcome", edit(REPORT, ("results", 0, "outcome"), "flaky"), None),
    ("report", "no summary", edit(REPORT, ("summary",)), None),
    ("report", "unknown top-level member", {**REPORT, "extra": 1}, None),
    ("report", "malformed requirement id", edit(REPORT, ("results", 0, "requirements"), ["3.3-07"]), None),
    ("report", "exchange without error", edit(REPORT, ("results", 0, "exchanges", 0, "error")), None),
]


# -- tests -------------------------------------------------------------------------------------------------------


def test_every_expected_schema_is_present():
    missing = [name for name in ALL_SCHEMAS if not (SCHEMA_DIR / f"{name}.schema.json").is_file()]
    assert not missing


@pytest.mark.parametrize("path", sorted(SCHEMA_DIR.glob("*.json")), ids=lambda p: p.name)
def test_every_file_in_schemas_is_a_valid_draft_2020_12_schema(path):
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    name = path.name.removesuffix(".schema.json")
    assert schema["$schema"] == DRAFT
    assert schema["$id"] == f"urn:scim-conformance:schema:{name}"
    assert schema["title"].strip()
    assert schema["description"].strip()
    if name in RFC_SCHEMAS:
        assert "https://www.rfc-editor.org/rfc/rfc764" in schema["description"]


@pytest.mark.parametrize("name", ALL_SCHEMAS)
def test_cited_requirements_exist_in_the_catalogue(name):
    ids = list(requirement_ids(load(name), "x-requirement"))
    assert all(isinstance(rid, str) for rid in ids)
    assert not sorted(set(ids) - catalogue_ids())


@pytest.mark.parametrize("name", ALL_SCHEMAS)
def test_cited_client_requirements_are_well_formed(name):
    assert all(REQUIREMENT_ID.match(rid) for rid in requirement_ids(load(name), "x-client-requirement"))


def test_every_schema_has_valid_and_broken_examples():
    assert {row[0] for row in VALID} == set(ALL_SCHEMAS)
    assert {row[0] for row in INVALID} == set(ALL_SCHEMAS)


@pytest.mark.parametrize(("name", "instance"), [pytest.param(n, doc, id=f"{n}: {label}") for n, label, doc in VALID])
def test_valid_example_is_accepted(name, instance):
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator(name).iter_errors(instance)]
    assert not errors


@pytest.mark.parametrize(
    ("name", "instance", "requirement"),
    [pytest.param(n, doc, req, id=f"{n}: {label}") for n, label, doc, req in INVALID],
)
def test_broken_example_is_rejected(name, instance, requirement):
    errors = list(validator(name).iter_errors(instance))
    assert errors
    if requirement is not None:
        assert requirement in set().union(*(cited(e) for e in errors))
