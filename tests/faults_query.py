"""Faults for filters, sorting and pagination (RFC 7644 §3.4.2.1-3.4.2.4). Prefix: qry-.

Most faults touch only the queries on the suite's query population (a filter naming "<run id>-pop"),
so the other checks that query (list.*, names.filter-urn, uniqueness...) see the clean server. A
population query is ``(<the check's filter>) and userName sw "<run id>-pop"``; the faults that change
the filter's meaning rewrite only the check's part, as a server evaluating it wrongly would.
"""

from __future__ import annotations

import json
import re

from conformance import filters

from .faultkit import Forward, Request, Response, fault

SCOPE = re.compile(r"^\((?P<inner>.*)\) and (?P<scope>(?:userName|displayName) sw \"[^\"]*-pop\")$", re.S)
CANONICAL = {"userName", "name", "familyName", "givenName", "displayName", "title", "active", "emails", "type",
             "value", "primary", "meta", "created", "lastModified", "department", "employeeNumber", "members",
             "externalId"}
EXT = "urn:ietf:params:scim:schemas:extension"


def population_query(req: Request) -> bool:
    return (req.method == "GET" and req.endpoint in ("Users", "Groups") and not req.is_item
            and "-pop" in req.query.get("filter", ""))


def split(req: Request) -> tuple[str, str] | None:
    """(the check's filter, the scope) of a population query with a filter of its own."""
    found = SCOPE.match(req.query.get("filter", ""))
    return (found["inner"], found["scope"]) if found else None


def rewrite(req: Request, forward: Forward, change) -> Response:
    """Forward a population query with the check's part of the filter changed by ``change``."""
    parts = split(req) if population_query(req) else None
    if parts is None:
        return forward(req)
    inner, scope = parts
    req.query = {**req.query, "filter": f"({change(inner)}) and {scope}"}
    return forward(req)


def empty_list() -> Response:
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0,
            "startIndex": 1, "itemsPerPage": 0, "Resources": []}
    return Response(200, [("Content-Type", "application/scim+json")], json.dumps(body).encode())


def error(status: int, scim_type: str, detail: str) -> Response:
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": str(status),
            "scimType": scim_type, "detail": detail}
    return Response(status, [("Content-Type", "application/scim+json")], json.dumps(body).encode())


def paths(expr) -> list[filters.AttrPath]:
    if isinstance(expr, filters.And | filters.Or):
        return paths(expr.left) + paths(expr.right)
    if isinstance(expr, filters.Not):
        return paths(expr.expr)
    if isinstance(expr, filters.ValuePath):
        return [expr.path, *paths(expr.filter)]
    return [expr.path]


def compares(expr) -> list[filters.Compare]:
    if isinstance(expr, filters.And | filters.Or):
        return compares(expr.left) + compares(expr.right)
    if isinstance(expr, filters.Not):
        return compares(expr.expr)
    return [expr] if isinstance(expr, filters.Compare) else []


FILTER_CHECKS = "every filter check compares the population query's results with the oracle"


# -- filters ----------------------------------------------------------------------------------------------


@fault("qry-filter-ignored",
       proves=["filter.string-operators", "filter.presence", "filter.boolean", "filter.logical",
               "filter.case-exact", "filter.generated", "filter.invalid"],
       collateral={"filter": FILTER_CHECKS, "page": "the pages hold the whole endpoint, not the population",
                   "sort": "the sorted results hold the whole endpoint, not the population"})
def filter_ignored(req: Request, forward: Forward) -> Response:
    """The filter of a population query is silently dropped: the whole endpoint comes back."""
    if population_query(req):
        req.query = {k: v for k, v in req.query.items() if k != "filter"}
    return forward(req)


@fault("qry-username-eq-case-sensitive", proves=["filter.case-exact"],
       collateral={"filter.generated": "generated filters compare userName in other cases too"})
def username_eq_case_sensitive(req: Request, forward: Forward) -> Response:
    """userName eq compares with case (userName is caseExact=false): a resource whose userName equals the
    value in another case is dropped from the answer."""
    resp = forward(req)
    parts = split(req) if population_query(req) else None
    if parts is None or resp.status != 200:
        return resp
    try:
        wanted = [c.value for c in compares(filters.parse(parts[0]))
                  if c.op == "eq" and c.path.attr.lower() == "username" and isinstance(c.value, str)]
    except filters.FilterError:
        return resp
    body = resp.data
    kept = [r for r in body.get("Resources", [])
            if not any(v.lower() == str(r.get("userName", "")).lower() and v != r.get("userName") for v in wanted)]
    body["totalResults"] -= len(body.get("Resources", [])) - len(kept)
    body["Resources"], body["itemsPerPage"] = kept, len(kept)
    resp.data = body
    return resp


@fault("qry-and-as-or", proves=["filter.logical", "filter.generated"], collateral={"filter": FILTER_CHECKS})
def and_as_or(req: Request, forward: Forward) -> Response:
    """'and' in the check's filter is evaluated as 'or'."""
    return rewrite(req, forward, lambda f: re.sub(r"(?i)\band\b", "or", f))


@fault("qry-not-ignored", proves=["filter.logical", "filter.presence"], collateral={"filter": FILTER_CHECKS})
def not_ignored(req: Request, forward: Forward) -> Response:
    """'not (...)' is evaluated as '(...)'."""
    return rewrite(req, forward, lambda f: re.sub(r"(?i)\bnot\s*\(", "(", f))


@fault("qry-attribute-names-case-sensitive", proves=["filter.names-case-insensitive"],
       collateral={"filter.generated": "generated filters may name attributes in other cases"})
def names_case_sensitive(req: Request, forward: Forward) -> Response:
    """An attribute name not written in the schema's case is unknown: 400 invalidFilter."""
    parts = split(req) if population_query(req) else None
    if parts is not None:
        try:
            names = [n for p in paths(filters.parse(parts[0])) for n in (p.attr, p.sub) if n]
        except filters.FilterError:
            names = []
        lower = {c.lower() for c in CANONICAL}
        if any(n not in CANONICAL and n.lower() in lower for n in names):
            return error(400, "invalidFilter", "unknown attribute")
    return forward(req)


@fault("qry-invalid-filter-200", proves=["filter.invalid"])
def invalid_filter_200(req: Request, forward: Forward) -> Response:
    """A filter the server cannot parse is answered 200 with an empty list instead of 400 invalidFilter."""
    resp = forward(req)
    if population_query(req) and resp.status == 400 and "syntax" in str((resp.data or {}).get("detail", "")):
        return empty_list()
    return resp


@fault("qry-boolean-ordering-accepted", proves=["filter.boolean-ordering"])
def boolean_ordering_accepted(req: Request, forward: Forward) -> Response:
    """gt/ge/lt/le on a boolean or binary attribute are answered 200 (no match) instead of 400."""
    resp = forward(req)
    if population_query(req) and resp.status == 400 and re.search(r"boolean|binary", str(resp.data)):
        return empty_list()
    return resp


@fault("qry-unknown-attribute-matches-all", proves=["filter.unknown-attribute"])
def unknown_attribute_matches_all(req: Request, forward: Forward) -> Response:
    """A comparison on an attribute the schema lacks is dropped: every resource in scope matches."""
    parts = split(req) if population_query(req) else None
    if parts is not None and "sctNoSuch" in parts[0]:
        req.query = {**req.query, "filter": parts[1]}
    return forward(req)


@fault("qry-ew-as-co", proves=["filter.string-operators"],
       collateral={"filter.generated": "generated filters use ew too"})
def ew_as_co(req: Request, forward: Forward) -> Response:
    """'ew' (ends with) is evaluated as 'co' (contains)."""
    return rewrite(req, forward, lambda f: re.sub(r"(?i)\bew\b", "co", f))


@fault("qry-presence-always-true", proves=["filter.presence"], collateral={"filter": FILTER_CHECKS})
def presence_always_true(req: Request, forward: Forward) -> Response:
    """'pr' matches a resource whether or not the attribute has a value."""
    return rewrite(req, forward, lambda f: re.sub(r"(?i)[\w:.$-]+\s+pr\b", "userName pr", f))


@fault("qry-boolean-false-matches-all", proves=["filter.boolean"], collateral={"filter": FILTER_CHECKS})
def boolean_false_matches_all(req: Request, forward: Forward) -> Response:
    """'active eq false' matches every resource that has active, true or false."""
    return rewrite(req, forward, lambda f: re.sub(r"(?i)\bactive eq false\b", "active pr", f))


@fault("qry-datetime-gt-as-ge", proves=["filter.datetime"],
       collateral={"filter.generated": "generated filters compare meta.created too"})
def datetime_gt_as_ge(req: Request, forward: Forward) -> Response:
    """'gt' on a dateTime includes the instant itself (evaluated as 'ge')."""
    return rewrite(req, forward, lambda f: re.sub(r"(?i)(meta\.\w+) gt ", r"\1 ge ", f))


def _flatten_value_paths(expr):
    """emails[a and b] -> emails.a and emails.b (conditions no longer on the same value)."""
    if isinstance(expr, filters.And | filters.Or):
        return type(expr)(_flatten_value_paths(expr.left), _flatten_value_paths(expr.right))
    if isinstance(expr, filters.Not):
        return filters.Not(_flatten_value_paths(expr.expr))
    if isinstance(expr, filters.ValuePath):
        def lift(inner):
            if isinstance(inner, filters.And | filters.Or):
                return type(inner)(lift(inner.left), lift(inner.right))
            if isinstance(inner, filters.Not):
                return filters.Not(lift(inner.expr))
            path = filters.AttrPath(expr.path.urn, expr.path.attr, inner.path.attr)
            return filters.Present(path) if isinstance(inner, filters.Present) else filters.Compare(
                path, inner.op, inner.value)
        return lift(expr.filter)
    return expr


@fault("qry-value-path-across-values", proves=["filter.value-path"],
       collateral={"filter.generated": "generated filters use value filters on emails too",
                   "filter.names-case-insensitive": "it sends a value filter on emails too",
                   "filter.group-members": "it sends a value filter on members too"})
def value_path_across_values(req: Request, forward: Forward) -> Response:
    """The conditions of a value filter may hold on different values of the attribute."""

    def change(text: str) -> str:
        try:
            return filters.unparse(_flatten_value_paths(filters.parse(text)))
        except filters.FilterError:
            return text

    return rewrite(req, forward, change)


@fault("qry-extension-urn-refused", proves=["filter.extension-urn"],
       collateral={"filter": "the checks that name enterprise attributes by URN get 400"})
def extension_urn_refused(req: Request, forward: Forward) -> Response:
    """A filter naming an extension attribute by its URN is refused as invalid."""
    if population_query(req) and EXT in req.query.get("filter", ""):
        return error(400, "invalidFilter", "unknown attribute")
    return forward(req)


@fault("qry-group-members-ignored", proves=["filter.group-members"])
def group_members_ignored(req: Request, forward: Forward) -> Response:
    """A Group filter on members is dropped: every group in scope matches."""
    parts = split(req) if population_query(req) and req.endpoint == "Groups" else None
    if parts is not None and "members" in parts[0].lower():
        req.query = {**req.query, "filter": parts[1]}
    return forward(req)


@fault("qry-root-query-users-only", proves=["filter.root-query"])
def root_query_users_only(req: Request, forward: Forward) -> Response:
    """A query at the service root returns only Users (and counts only them)."""
    resp = forward(req)
    if req.method == "GET" and req.endpoint == "" and "filter" in req.query and resp.status == 200:
        body = resp.data
        kept = [r for r in body.get("Resources", []) if "userName" in r]
        body["Resources"], body["totalResults"], body["itemsPerPage"] = kept, len(kept), len(kept)
        resp.data = body
    return resp


def _spc(req: Request, forward: Forward, change) -> Response | None:
    if req.method == "GET" and req.endpoint == "ServiceProviderConfig":
        resp = forward(req)
        body = resp.data
        if isinstance(body, dict):
            change(body)
            resp.data = body
        return resp
    return None


@fault("qry-unsupported-filter-ignored", proves=["filter.unsupported-not-ignored"])
def unsupported_filter_ignored(req: Request, forward: Forward) -> Response:
    """/ServiceProviderConfig says filter.supported=false, and a filter is then silently ignored."""
    spc = _spc(req, forward, lambda b: b.update(filter={**b.get("filter", {}), "supported": False}))
    if spc is not None:
        return spc
    if req.method == "GET" and req.endpoint == "Users" and "nofilter" in req.query.get("filter", ""):
        req.query = {k: v for k, v in req.query.items() if k != "filter"}
    return forward(req)


# -- pagination ---------------------------------------------------------------------------------------


@fault("qry-start-index-off-by-one", proves=["page.walk", "page.start-index-below-one"],
       collateral={"page": "every page starts one resource late", "filter": "pages after the first start late",
                   "sort": "pages after the first start late"})
def start_index_off_by_one(req: Request, forward: Forward) -> Response:
    """startIndex is read as 0-based: startIndex=N starts at the (N+1)th result (the answer says N)."""
    if not population_query(req) or "startIndex" not in req.query:
        return forward(req)
    try:
        start = int(req.query["startIndex"])
    except ValueError:
        return forward(req)
    req.query = {**req.query, "startIndex": str(start + 1)}
    resp = forward(req)
    if resp.status == 200:
        resp.data = {**resp.data, "startIndex": start}
    return resp


@fault("qry-start-index-zero-refused", proves=["page.start-index-below-one"])
def start_index_zero_refused(req: Request, forward: Forward) -> Response:
    """A startIndex below 1 is refused with 400 instead of being taken as 1."""
    if population_query(req) and req.query.get("startIndex", "1").lstrip("-").isdigit() \
            and int(req.query["startIndex"] if "startIndex" in req.query else 1) < 1:
        return error(400, "invalidValue", "startIndex must be at least 1")
    return forward(req)


@fault("qry-count-ignored", proves=["page.count-honoured", "page.count-zero"],
       collateral={"page": "pages are never cut"})
def count_ignored(req: Request, forward: Forward) -> Response:
    """count is ignored: every match comes back on one page."""
    if population_query(req):
        req.query = {k: v for k, v in req.query.items() if k != "count"}
    return forward(req)


@fault("qry-total-is-page-size", proves=["page.total-results"],
       collateral={"page": "totalResults is wrong on every partial page",
                   "filter": "a paged filter answer stops early", "sort": "a paged answer stops early"})
def total_is_page_size(req: Request, forward: Forward) -> Response:
    """totalResults says how many resources are on the page, not how many match."""
    resp = forward(req)
    if population_query(req) and resp.status == 200:
        body = resp.data
        body["totalResults"] = len(body.get("Resources", []))
        resp.data = body
    return resp


@fault("qry-items-per-page-missing", proves=["page.items-per-page", "list.pagination-fields"])
def items_per_page_missing(req: Request, forward: Forward) -> Response:
    """ListResponses of resource queries carry no itemsPerPage, partial pages included."""
    resp = forward(req)
    if req.method == "GET" and req.endpoint in ("Users", "Groups") and not req.is_item and resp.status == 200:
        body = resp.data
        body.pop("itemsPerPage", None)
        resp.data = body
    return resp


@fault("qry-past-end-404", proves=["page.past-end"])
def past_end_404(req: Request, forward: Forward) -> Response:
    """A startIndex after the last match answers 404 instead of an empty page."""
    resp = forward(req)
    start = req.query.get("startIndex", "")
    if population_query(req) and resp.status == 200 and start.isdigit() \
            and int(start) > resp.data.get("totalResults", 0):
        return error(404, "", "no such page")
    return resp


@fault("qry-max-results-exceeded", proves=["page.max-results"])
def max_results_exceeded(req: Request, forward: Forward) -> Response:
    """/ServiceProviderConfig says filter.maxResults is 2, but queries return more."""
    spc = _spc(req, forward, lambda b: b.update(filter={**b.get("filter", {}), "maxResults": 2}))
    return spc if spc is not None else forward(req)


# -- sorting ------------------------------------------------------------------------------------------------


@fault("qry-sort-ignored", proves=["sort.ascending", "sort.descending", "sort.typed"],
       collateral={"page": "the pages come in id order"})
def sort_ignored(req: Request, forward: Forward) -> Response:
    """sortBy and sortOrder are ignored: results come in id order."""
    if not population_query(req):
        return forward(req)
    req.query = {k: v for k, v in req.query.items() if k not in ("sortBy", "sortOrder")}
    return forward(req)


@fault("qry-descending-ignored", proves=["sort.descending"],
       collateral={"sort.typed": "it sorts meta.created descending too"})
def descending_ignored(req: Request, forward: Forward) -> Response:
    """sortOrder=descending is ignored: results come ascending."""
    if population_query(req):
        req.query = {k: v for k, v in req.query.items() if k != "sortOrder"}
    return forward(req)


@fault("qry-sort-case-sensitive", proves=["sort.ascending"])
def sort_case_sensitive(req: Request, forward: Forward) -> Response:
    """Strings sort case-sensitively (capitals first) though name.familyName is not caseExact."""
    resp = forward(req)
    if population_query(req) and resp.status == 200 and req.query.get("sortBy") == "name.familyName":
        body = resp.data
        rev = req.query.get("sortOrder") == "descending"
        body["Resources"] = sorted(body.get("Resources", []), key=lambda r: (r.get("name") or {}).get(
            "familyName", ""), reverse=rev)
        resp.data = body
    return resp


@fault("qry-sort-multi-valued-first", proves=["sort.typed"])
def sort_multi_valued_first(req: Request, forward: Forward) -> Response:
    """A multi-valued attribute sorts by its first value, not its primary one."""
    resp = forward(req)
    if population_query(req) and resp.status == 200 and req.query.get("sortBy") == "emails":
        body = resp.data

        def first(r):
            emails = r.get("emails") or []
            return (0, emails[0]["value"].lower()) if emails else (1, "")

        body["Resources"] = sorted(body.get("Resources", []), key=first)
        resp.data = body
    return resp


@fault("qry-sort-unsupported-breaks", proves=["sort.unsupported"],
       collateral={"sort": "sorting is no longer advertised"})
def sort_unsupported_breaks(req: Request, forward: Forward) -> Response:
    """/ServiceProviderConfig says sort.supported=false, and a query with sortBy then answers 200 with no
    resources at all (sortBy spoils the query instead of being refused or ignored)."""
    spc = _spc(req, forward, lambda b: b.update(sort={"supported": False}))
    if spc is not None:
        return spc
    resp = forward(req)
    if population_query(req) and "sortBy" in req.query and resp.status == 200 and isinstance(resp.data, dict):
        resp.data = {**resp.data, "Resources": [], "totalResults": 0, "itemsPerPage": 0}
    return resp


@fault("qry-cursor-restarts", proves=["page.cursor-walk"])
def cursor_restarts(req: Request, forward: Forward) -> Response:
    """Cursor pagination is advertised, but every nextCursor leads back to the first page."""
    if population_query(req) and req.query.get("cursor"):
        req.query = {**req.query, "cursor": ""}
    return forward(req)
