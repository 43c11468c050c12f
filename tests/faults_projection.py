"""Faults for attribute selection (RFC 7644 §3.4.2.5, §3.9, RFC 7643 §7 "returned") and POST .search
(RFC 7644 §3.4.3), prefix proj-.

Each fault changes what the request asks (drops or rewrites attributes, excludedAttributes, filter,
sort or paging) or what the answer holds; none keeps state between requests.
"""

from __future__ import annotations

import copy
from typing import Any

from .faultkit import Forward, Request, Response, fault, on

LIST_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
SELECTORS = ("attributes", "excludedAttributes")


def _is_search(req: Request) -> bool:
    return req.method == "POST" and bool(req.segments) and req.segments[-1] == ".search"


def _rewrite_names(req: Request, key: str, change) -> None:
    """Apply ``change`` (a list of names -> a list of names) to ``key`` in the query of a GET and in
    the body of a .search; a list left empty drops the parameter."""
    if req.method == "GET" and key in req.query:
        names = change([n for n in req.query[key].split(",") if n])
        if names:
            req.query[key] = ",".join(names)
        else:
            del req.query[key]
    elif _is_search(req) and isinstance(req.data, dict) and key in req.data:
        data = req.data
        value = data[key]
        names = change(value if isinstance(value, list) else [n for n in str(value).split(",") if n])
        if names:
            data[key] = names
        else:
            del data[key]
        req.data = data


def _drop_from_search(req: Request, *keys: str) -> None:
    if _is_search(req) and isinstance(req.data, dict):
        req.data = {k: v for k, v in req.data.items() if k not in keys}


def _resources(data: Any) -> list[dict[str, Any]]:
    """The resources an answer holds: the Resources of a list, or the answer itself."""
    if isinstance(data, dict) and LIST_URN in (data.get("schemas") or []):
        return [r for r in data.get("Resources") or [] if isinstance(r, dict)]
    if isinstance(data, dict) and "id" in data:
        return [data]
    return []


def _asked(req: Request, key: str) -> list[str]:
    if key in req.query:
        return [n.strip() for n in req.query[key].split(",")]
    if _is_search(req) and isinstance(req.data, dict):
        value = req.data.get(key) or []
        return [str(n) for n in (value if isinstance(value, list) else str(value).split(","))]
    return []


# -- attributes / excludedAttributes ----------------------------------------------------------------------------


@fault("proj-attributes-ignored", proves=[
    "projection.attributes-get", "projection.list", "projection.sub-attribute", "projection.names-any-case",
    "projection.extension-attribute", "search.attributes",
])
def attributes_ignored(req: Request, forward: Forward) -> Response:
    """attributes is ignored on GET (by id and lists) and in .search: the default form comes back."""
    _rewrite_names(req, "attributes", lambda names: [])
    return forward(req)


@fault("proj-excluded-ignored", proves=[
    "projection.excluded-get", "projection.list", "projection.sub-attribute", "projection.names-any-case",
    "projection.extension-attribute", "search.attributes",
])
def excluded_ignored(req: Request, forward: Forward) -> Response:
    """excludedAttributes is ignored on GET and in .search: nothing is left out."""
    _rewrite_names(req, "excludedAttributes", lambda names: [])
    return forward(req)


@fault("proj-always-dropped", proves=["projection.excluded-always", "search.attributes"])
def always_dropped(req: Request, forward: Forward) -> Response:
    """excludedAttributes=id is obeyed: id (returned "always") is left out of the answer."""
    drop = any(n.lower() == "id" for n in _asked(req, "excludedAttributes"))
    resp = forward(req)
    if drop and resp.status == 200:
        data = resp.data
        for resource in _resources(data):
            resource.pop("id", None)
        resp.data = data
    return resp


@fault("proj-sub-attribute-whole", proves=["projection.sub-attribute"])
def sub_attribute_whole(req: Request, forward: Forward) -> Response:
    """A sub-attribute name (name.givenName) selects the whole attribute, and excludes nothing."""

    def whole(names: list[str]) -> list[str]:
        out = []
        for n in names:
            head, _, last = n.rpartition(":")
            out.append((f"{head}:" if head else "") + last.split(".")[0])
        return out

    def unexcluded(names: list[str]) -> list[str]:
        return [n for n in names if "." not in n.rpartition(":")[2]]

    _rewrite_names(req, "attributes", whole)
    _rewrite_names(req, "excludedAttributes", unexcluded)
    return forward(req)


@fault("proj-names-case-sensitive", proves=["projection.names-any-case"])
def names_case_sensitive(req: Request, forward: Forward) -> Response:
    """attributes and excludedAttributes match names case-sensitively: an upper-cased name matches
    nothing (so attributes=USERNAME is as if absent)."""

    def exact(names: list[str]) -> list[str]:
        return [n for n in names if not (len(n.rpartition(":")[2]) > 1 and n.rpartition(":")[2].isupper())]

    for key in SELECTORS:
        _rewrite_names(req, key, exact)
    return forward(req)


@fault("proj-request-returned-by-default", proves=["projection.returned-request"])
def request_returned_by_default(req: Request, forward: Forward) -> Response:
    """/Schemas declares User.displayName returned "request", but the server returns it by default."""
    resp = forward(req)
    if on(req, "GET", "Schemas") and resp.status == 200:
        data = copy.deepcopy(resp.data)
        schemas = data.get("Resources", []) if isinstance(data, dict) and "Resources" in data else [data]
        for schema in schemas:
            if isinstance(schema, dict) and schema.get("id") == USER_URN:
                for attr in schema.get("attributes") or []:
                    if attr.get("name") == "displayName":
                        attr["returned"] = "request"
        resp.data = data
    return resp


_NEVER = 'every partial representation is also checked for attributes returned "never"'


@fault("proj-password-returned", proves=["attributes.returned-never", "projection.never-in-queries-and-writes"],
       collateral={"projection": _NEVER, "search.attributes": _NEVER,
                   "user.password": "the password checks of RFC 7643 §4.1 see it too"})
def password_returned(req: Request, forward: Forward) -> Response:
    """Every User in every answer (GET, lists, .search, POST/PUT/PATCH) carries a password hash."""
    resp = forward(req)
    data = resp.data
    users = [r for r in _resources(data) if USER_URN in (r.get("schemas") or [])]
    if users:
        for user in users:
            user["password"] = "{SSHA}c2NpbS1oYXNoLW5vdC1hLXNlY3JldA=="
        resp.data = data
    return resp


@fault("proj-write-selection-ignored", proves=[
    "projection.post-response", "projection.put-response", "projection.patch-response",
])
def write_selection_ignored(req: Request, forward: Forward) -> Response:
    """POST, PUT and PATCH ignore attributes and excludedAttributes and answer the whole resource
    (a PATCH answers 200 with it rather than 204)."""
    if req.method not in ("POST", "PUT", "PATCH") or _is_search(req) or not any(k in req.query for k in SELECTORS):
        return forward(req)
    for key in SELECTORS:
        req.query.pop(key, None)
    resp = forward(req)
    if req.method == "PATCH" and resp.status == 204:
        got = forward(Request("GET", req.path, {}, dict(req.headers), b""))
        if got.status == 200:
            got.set_header("Content-Type", "application/scim+json")
            return got
    return resp


# -- POST .search -------------------------------------------------------------------------------------------------


_UNFILTERED = "without its filter a .search lists every resource of the (test) tenant, not only the check's own"


@fault("proj-search-filter-ignored", proves=["search.resource-endpoint", "search.root"], collateral={
    "search.paging": _UNFILTERED, "search.sort": _UNFILTERED, "search.attributes": _UNFILTERED,
    "search.invalid-filter": "without its filter a malformed .search is a valid one, answered 200",
})
def search_filter_ignored(req: Request, forward: Forward) -> Response:
    """.search ignores the filter in its body: every resource of the endpoint (or server) comes back."""
    _drop_from_search(req, "filter")
    return forward(req)


@fault("proj-search-paging-ignored", proves=["search.paging"])
def search_paging_ignored(req: Request, forward: Forward) -> Response:
    """.search ignores startIndex and count in its body: every match comes back at once."""
    _drop_from_search(req, "startIndex", "count")
    return forward(req)


@fault("proj-search-sort-ignored", proves=["search.sort"])
def search_sort_ignored(req: Request, forward: Forward) -> Response:
    """.search ignores sortBy and sortOrder in its body."""
    _drop_from_search(req, "sortBy", "sortOrder")
    return forward(req)


@fault("proj-search-invalid-filter-200", proves=["search.invalid-filter"])
def search_invalid_filter_200(req: Request, forward: Forward) -> Response:
    """A .search whose filter the server rejects answers 200 with an empty ListResponse instead."""
    resp = forward(req)
    if _is_search(req) and resp.status == 400:
        resp.status = 200
        resp.data = {"schemas": [LIST_URN], "totalResults": 0, "itemsPerPage": 0, "startIndex": 1, "Resources": []}
    return resp


@fault("proj-filter-on-never-refused", proves=["projection.filter-on-never"])
def filter_on_never_refused(req: Request, forward: Forward) -> Response:
    """A filter that names password is refused with 400 invalidFilter."""
    if req.method == "GET" and "password" in req.query.get("filter", "").lower():
        resp = Response(400, [("Content-Type", "application/scim+json")], b"")
        resp.data = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400",
                     "scimType": "invalidFilter", "detail": "password cannot be filtered on"}
        return resp
    return forward(req)
