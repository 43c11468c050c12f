"""Faults for the error checks (RFC 7644 §3.12), the attribute and resource checks (RFC 7643 §2, §3)
and the ListResponse checks (RFC 7644 §3.4.2). Prefixes: err-, attr-, list-."""

from __future__ import annotations

from typing import Any

from .faultkit import Forward, Request, Response, fault, on

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
RESOURCE_ENDPOINTS = ("Users", "Groups")


def _error(resp: Response, status: int, scim_type: str | None = None, detail: str = "injected") -> Response:
    resp.status = status
    body: dict[str, Any] = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": str(status),
                            "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    resp.data = body
    return resp


def _is_view(req: Request, resp: Response, endpoint: str) -> bool:
    """A resource as a create answers it (201) or a GET of it (200)."""
    return (
        (on(req, "POST", endpoint, item=False) and resp.status == 201)
        or (on(req, "GET", endpoint, item=True) and resp.status == 200)
    ) and isinstance(resp.data, dict)


def _is_sample(data: dict[str, Any]) -> bool:
    """The run's shared sample (its naming attribute ends in "-sample"), which the attribute checks grade."""
    return any(str(data.get(k, "")).endswith("-sample") for k in ("userName", "displayName"))


def _edit_views(req: Request, resp: Response, endpoint: str, edit, *, sample_only: bool = False) -> Response:
    """Edit the resource in a create answer or a GET; ``sample_only``: only the run's shared sample, so that
    checks reading back resources of their own are not disturbed by a fault aimed at representation rules."""
    if _is_view(req, resp, endpoint) and (not sample_only or _is_sample(resp.data)):
        data = resp.data
        edit(data)
        resp.data = data
    return resp


# -- errors -------------------------------------------------------------------------------------------


@fault("err-404-without-error-urn", proves=["errors.schema-urn"])
def err_404_without_error_urn(req: Request, forward: Forward) -> Response:
    """A missing resource is answered with an error body that names another schema."""
    resp = forward(req)
    if on(req, "GET", item=True) and req.endpoint in RESOURCE_ENDPOINTS and resp.status == 404 \
            and isinstance(resp.data, dict):
        resp.data = {**resp.data, "schemas": ["urn:example:error"]}
    return resp


@fault("err-status-as-number", proves=["errors.status-is-string"])
def err_status_as_number(req: Request, forward: Forward) -> Response:
    """The error body's status is the JSON number 404, not the string "404"."""
    resp = forward(req)
    if on(req, "GET", item=True) and req.endpoint in RESOURCE_ENDPOINTS and resp.status == 404 \
            and isinstance(resp.data, dict):
        resp.data = {**resp.data, "status": 404}
    return resp


@fault("err-not-found-as-400", proves=["errors.status-line"],
       collateral={"delete.then-get-404": "a deleted resource is as unknown as a random id, so it answers 400 too"})
def err_not_found_as_400(req: Request, forward: Forward) -> Response:
    """A GET of a resource that does not exist answers 400 (with a matching body) instead of 404."""
    resp = forward(req)
    if req.method == "GET" and req.endpoint in RESOURCE_ENDPOINTS and req.is_item and resp.status == 404:
        return _error(resp, 400, "invalidValue", "no such resource")
    return resp


@fault("err-duplicate-as-400", proves=["errors.duplicate-username.status-409"])
def err_duplicate_as_400(req: Request, forward: Forward) -> Response:
    """A duplicate userName is refused with 400 (scimType uniqueness kept) instead of 409."""
    resp = forward(req)
    if on(req, "POST", "Users", item=False) and resp.status == 409:
        return _error(resp, 400, "uniqueness")
    return resp


@fault("err-duplicate-wrong-scimtype", proves=["errors.duplicate-username.scimtype"])
def err_duplicate_wrong_scimtype(req: Request, forward: Forward) -> Response:
    """The 409 for a duplicate userName says scimType invalidValue."""
    resp = forward(req)
    if on(req, "POST", "Users", item=False) and resp.status == 409:
        return _error(resp, 409, "invalidValue")
    return resp


_SEEN_USER_NAMES: set[str] = set()


@fault("err-username-case-sensitive", proves=["errors.duplicate-username.case-insensitive"])
def err_username_case_sensitive(req: Request, forward: Forward) -> Response:
    """userName uniqueness is case-sensitive: a name differing only in case from an existing one
    is created (stored with a suffix, as if it were another name)."""
    resp = forward(req)
    if not on(req, "POST", "Users", item=False) or not isinstance(req.data, dict):
        return resp
    name = req.data.get("userName")
    if resp.status == 201 and isinstance(name, str):
        _SEEN_USER_NAMES.add(name)
    elif resp.status == 409 and isinstance(name, str) and name not in _SEEN_USER_NAMES:
        req.data = {**req.data, "userName": name + "-cs"}
        resp = forward(req)
    return resp


def _without_user_name(req: Request) -> bool:
    return (on(req, "POST", "Users", item=False) and len(req.segments) == 1  # a create, not a POST .search
            and isinstance(req.data, dict) and "userName" not in req.data)


@fault("err-missing-username-accepted",
       proves=["errors.missing-required.refused", "errors.missing-required.status-400"])
def err_missing_username_accepted(req: Request, forward: Forward) -> Response:
    """A User without userName is created: the server makes one up from displayName."""
    if _without_user_name(req):
        req.data = {**req.data, "userName": f"{req.data.get('displayName', 'anon')}-made-up"}
    return forward(req)


@fault("err-missing-required-422", proves=["errors.missing-required.status-400"])
def err_missing_required_422(req: Request, forward: Forward) -> Response:
    """A User without userName is refused with 422 instead of 400."""
    resp = forward(req)
    if _without_user_name(req) and resp.status == 400:
        return _error(resp, 422, "invalidValue")
    return resp


@fault("err-missing-required-no-scimtype", proves=["errors.missing-required.scimtype"])
def err_missing_required_no_scimtype(req: Request, forward: Forward) -> Response:
    """The 400 for a User without userName carries no scimType."""
    resp = forward(req)
    if _without_user_name(req) and resp.status == 400 and isinstance(resp.data, dict):
        resp.data = {k: v for k, v in resp.data.items() if k != "scimType"}
    return resp


@fault("err-wrong-type-coerced", proves=["errors.wrong-type.status-400"])
def err_wrong_type_coerced(req: Request, forward: Forward) -> Response:
    """Values of the wrong type are coerced or dropped: active "yes-please" becomes true, and a
    members that is not an array is ignored."""
    data = req.data
    if req.method == "POST" and not req.is_item and isinstance(data, dict):
        if req.endpoint == "Users" and isinstance(data.get("active"), str):
            req.data = {**data, "active": True}
        if req.endpoint == "Groups" and "members" in data and not isinstance(data["members"], list):
            req.data = {k: v for k, v in data.items() if k != "members"}
    return forward(req)


# -- attributes (RFC 7643 §2) ---------------------------------------------------------------------------


def _declare(req: Request, resp: Response, schema_id: str, attribute: dict[str, Any]) -> Response:
    """Add ``attribute`` to schema ``schema_id`` in /Schemas (the list and the single schema)."""
    if req.method != "GET" or req.endpoint != "Schemas" or resp.status != 200:
        return resp
    data = resp.data
    schemas = data.get("Resources", []) if isinstance(data, dict) and "Resources" in data else [data]
    for schema in schemas:
        if isinstance(schema, dict) and schema.get("id") == schema_id:
            schema["attributes"] = [*schema.get("attributes", []), attribute]
    resp.data = data
    return resp


def _read_only(name: str, type_: str) -> dict[str, Any]:
    return {
        "name": name, "type": type_, "multiValued": False, "description": "injected", "required": False,
        "caseExact": False, "mutability": "readOnly", "returned": "default", "uniqueness": "none",
    }


@fault("attr-integer-with-fraction", proves=["attributes.type-integer"])
def attr_integer_with_fraction(req: Request, forward: Forward) -> Response:
    """Groups carry an integer attribute memberCount, written 2.0."""
    resp = _declare(req, forward(req), GROUP, _read_only("memberCount", "integer"))
    return _edit_views(req, resp, "Groups", lambda d: d.update(memberCount=2.0), sample_only=True)


@fault("attr-datetime-date-only", proves=["attributes.type-datetime"])
def attr_datetime_date_only(req: Request, forward: Forward) -> Response:
    """Groups carry a dateTime attribute lastSynced holding a date without a time."""
    resp = _declare(req, forward(req), GROUP, _read_only("lastSynced", "dateTime"))
    return _edit_views(req, resp, "Groups", lambda d: d.update(lastSynced="2024-05-01"), sample_only=True)


@fault("attr-reference-not-uri", proves=["attributes.type-reference"])
def attr_reference_not_uri(req: Request, forward: Forward) -> Response:
    """A User's profileUrl (a reference) comes back as free text."""
    def edit(d):
        d["profileUrl"] = "see my profile page"
    return _edit_views(req, forward(req), "Users", edit, sample_only=True)


@fault("attr-simple-with-sub-attributes", proves=["attributes.simple-no-sub-attributes"],
       collateral={"resources.core-json-schema": "user.schema.json types displayName as a string",
                   "create.echoes-values": "the displayName sent no longer comes back as sent",
                   "replace.value-stored": "the replaced displayName no longer reads back as sent",
                   "media.utf8-round-trip": "the UTF-8 value travels in displayName, which comes back wrapped"})
def attr_simple_with_sub_attributes(req: Request, forward: Forward) -> Response:
    """A User's displayName (a string) comes back wrapped in an object."""
    def edit(d):
        if "displayName" in d:
            d["displayName"] = {"value": d["displayName"]}
    return _edit_views(req, forward(req), "Users", edit, sample_only=True)


@fault("attr-nested-complex", proves=["attributes.complex-no-nesting"])
def attr_nested_complex(req: Request, forward: Forward) -> Response:
    """A User's name (complex) holds a complex sub-attribute."""
    def edit(d):
        if isinstance(d.get("name"), dict):
            d["name"] = {**d["name"], "phonetic": {"givenName": "AH-da"}}
    return _edit_views(req, forward(req), "Users", edit, sample_only=True)


@fault("attr-emails-not-array", proves=["attributes.multi-valued-arrays"],
       collateral={"resources.core-json-schema": "user.schema.json types emails as an array"})
def attr_emails_not_array(req: Request, forward: Forward) -> Response:
    """A User's emails (multi-valued) comes back as a single object instead of an array."""
    def edit(d):
        if isinstance(d.get("emails"), list) and d["emails"]:
            d["emails"] = d["emails"][0]
    return _edit_views(req, forward(req), "Users", edit, sample_only=True)


@fault("attr-two-primaries", proves=["attributes.primary-at-most-once"],
       collateral={"resources.core-json-schema": "user.schema.json also allows one primary value only"})
def attr_two_primaries(req: Request, forward: Forward) -> Response:
    """A User's emails come back with two values marked primary."""
    def edit(d):
        if isinstance(d.get("emails"), list):
            d["emails"] = [*d["emails"], {"value": "second@example.com", "type": "home", "primary": True}]
    return _edit_views(req, forward(req), "Users", edit, sample_only=True)


@fault("attr-password-returned", proves=["attributes.returned-never"])
def attr_password_returned(req: Request, forward: Forward) -> Response:
    """Users come back with their password (as a hash)."""
    return _edit_views(req, forward(req), "Users", lambda d: d.update(password="{SSHA}c2NpbS1jb25mb3JtYW5jZQ=="))


# -- resources (RFC 7643 §3) ----------------------------------------------------------------------------


@fault("attr-schemas-without-core", proves=["resources.schemas-core-urn"],
       collateral={"resources.core-json-schema": "user.schema.json requires the core User URN in schemas"})
def attr_schemas_without_core(req: Request, forward: Forward) -> Response:
    """A User's schemas lists only the enterprise extension, not the core User schema."""
    return _edit_views(req, forward(req), "Users", lambda d: d.update(schemas=[ENTERPRISE]), sample_only=True)


@fault("attr-schemas-stray-urn", proves=["resources.schemas-declared-only"])
def attr_schemas_stray_urn(req: Request, forward: Forward) -> Response:
    """A Group's schemas lists a vendor URN the Group resource type does not declare."""
    def edit(d):
        d["schemas"] = [*d.get("schemas", []), "urn:example:params:scim:schemas:extension:vendor:2.0:Group"]
    return _edit_views(req, forward(req), "Groups", edit, sample_only=True)


@fault("attr-schemas-duplicate", proves=["resources.schemas-no-duplicates"],
       collateral={"resources.core-json-schema": "group.schema.json also forbids duplicate schemas"})
def attr_schemas_duplicate(req: Request, forward: Forward) -> Response:
    """A Group's schemas lists the core Group URN twice."""
    return _edit_views(req, forward(req), "Groups", lambda d: d.update(schemas=[GROUP, GROUP]), sample_only=True)


@fault("attr-extension-flattened", proves=["resources.extension-container"],
       collateral={"create.echoes-values": "the enterprise values are no longer under the URN they were sent in"})
def attr_extension_flattened(req: Request, forward: Forward) -> Response:
    """A User's enterprise attributes come back at the top level instead of inside the URN container."""
    def edit(d):
        ext = d.pop(ENTERPRISE, None)
        if isinstance(ext, dict):
            d.update(ext)
    return _edit_views(req, forward(req), "Users", edit, sample_only=True)


@fault("attr-active-as-string", proves=["resources.core-json-schema"],
       collateral={"replace.user-deactivate-reactivate": "active always reads \"true\", so deactivation never shows"})
def attr_active_as_string(req: Request, forward: Forward) -> Response:
    """A User's active comes back as the string "true"."""
    def edit(d):
        if "active" in d:
            d["active"] = "true"
    return _edit_views(req, forward(req), "Users", edit, sample_only=True)


@fault("attr-employee-number-as-number", proves=["resources.enterprise-json-schema"],
       collateral={"create.echoes-values": "the employeeNumber sent comes back as another value"})
def attr_employee_number_as_number(req: Request, forward: Forward) -> Response:
    """The enterprise employeeNumber (a string) comes back as a JSON number."""
    def edit(d):
        ext = d.get(ENTERPRISE)
        if isinstance(ext, dict) and "employeeNumber" in ext:
            ext["employeeNumber"] = 4711
    return _edit_views(req, forward(req), "Users", edit, sample_only=True)


# -- ListResponse (RFC 7644 §3.4.2) --------------------------------------------------------------------


def _is_list(req: Request, resp: Response) -> bool:
    return (
        req.method == "GET" and req.endpoint in RESOURCE_ENDPOINTS and not req.is_item
        and resp.status == 200 and isinstance(resp.data, dict)
    )


@fault("list-wrong-urn", proves=["list.schema-urn"],
       collateral={"list.unknown-parameter-ignored": "the same query, with one more parameter, gets the same URN"})
def list_wrong_urn(req: Request, forward: Forward) -> Response:
    """Queries on resource endpoints answer with another message URN."""
    resp = forward(req)
    if _is_list(req, resp):
        resp.data = {**resp.data, "schemas": ["urn:example:list"]}
    return resp


@fault("list-total-as-string", proves=["list.total-results"],
       collateral={"list.no-match-zero": "the empty result's totalResults is the string \"0\" too"})
def list_total_as_string(req: Request, forward: Forward) -> Response:
    """totalResults is written as a string."""
    resp = forward(req)
    if _is_list(req, resp):
        resp.data = {**resp.data, "totalResults": str(resp.data.get("totalResults"))}
    return resp


@fault("list-filtered-without-resources", proves=["list.resources-present"],
       collateral={"list.unknown-parameter-ignored": "the same filtered query plus one parameter loses Resources too"})
def list_filtered_without_resources(req: Request, forward: Forward) -> Response:
    """A filtered query with results leaves Resources out."""
    resp = forward(req)
    if _is_list(req, resp) and "filter" in req.query and resp.data.get("totalResults"):
        resp.data = {k: v for k, v in resp.data.items() if k != "Resources"}
    return resp


@fault("list-no-match-404", proves=["list.no-match-zero"])
def list_no_match_404(req: Request, forward: Forward) -> Response:
    """A filter that matches nothing answers 404."""
    resp = forward(req)
    if _is_list(req, resp) and "filter" in req.query and resp.data.get("totalResults") == 0:
        return _error(resp, 404, detail="no resource matches")
    return resp


@fault("list-count-ignored", proves=["list.count-limit"])
def list_count_ignored(req: Request, forward: Forward) -> Response:
    """count is ignored: every result comes back."""
    if req.method == "GET" and req.endpoint in RESOURCE_ENDPOINTS and not req.is_item:
        req.query.pop("count", None)
    return forward(req)


@fault("list-no-paging-fields", proves=["list.pagination-fields"])
def list_no_paging_fields(req: Request, forward: Forward) -> Response:
    """A partial page (count given) leaves out itemsPerPage and startIndex."""
    resp = forward(req)
    if _is_list(req, resp) and "count" in req.query:
        resp.data = {k: v for k, v in resp.data.items() if k not in ("itemsPerPage", "startIndex")}
    return resp


KNOWN_PARAMETERS = {"filter", "count", "startIndex", "sortBy", "sortOrder", "attributes", "excludedAttributes",
                    "cursor"}  # RFC 9865, which the embedded target advertises


@fault("list-unknown-parameter-rejected", proves=["list.unknown-parameter-ignored"])
def list_unknown_parameter_rejected(req: Request, forward: Forward) -> Response:
    """A query with a parameter the server does not know is refused with 400."""
    resp = forward(req)
    if req.method == "GET" and req.endpoint in RESOURCE_ENDPOINTS and set(req.query) - KNOWN_PARAMETERS:
        return _error(resp, 400, "invalidValue", "unknown query parameter")
    return resp

