"""RFC 7644 §3.4.3 — queries sent by POST to <endpoint>/.search and to /.search at the server root.

A POST ending in /.search is a query: it answers like the equivalent GET (a ListResponse), never
creates anything, and its body carries the GET parameters (filter, attributes, excludedAttributes,
sortBy, sortOrder, startIndex, count) under the SearchRequest schema. Every check creates its own
resources whose naming attribute (or, at the root, externalId) starts with one fresh tag and
filters on that tag, so the expected result set is exactly what the check created, whatever else
the tenant holds.

The RFC gives no ServiceProviderConfig flag for .search; a target that answers 501 Not Implemented
(what RFC 7644 Table 8 gives for an unsupported operation), 404 or 405 is taken not to support it
and the checks skip with that reason.
"""

from __future__ import annotations

import json
from typing import Any

from ..discovery import ERROR_URN, GROUP_URN, LIST_URN, USER_URN, ResourceType, list_resources
from ..engine import Created
from ..http import Reply
from ..registry import check
from ..support import field, get_ci, is_integer, said, show
from ..verdicts import NotApplicable, expect
from .rfc7644_s3_3_create import naming
from .rfc7644_s3_4_2_5_attributes import default_form, exclusion_candidate, expectation, problems_text, view_problems

SEARCH_URN = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
UNSUPPORTED = (404, 405, 501)


def search_body(**params: Any) -> dict[str, Any]:
    return {"schemas": [SEARCH_URN], **{k: v for k, v in params.items() if v is not None}}


def _search(ctx, path: str, label: str, **params: Any) -> tuple[Reply, str]:
    body = search_body(**params)
    reply = ctx.http.post(f"{path}/.search" if path else ".search", body)
    asked = f"POST {label}/.search {json.dumps({k: v for k, v in body.items() if k != 'schemas'})}"
    if reply.status in UNSUPPORTED:
        raise NotApplicable(f"{asked} answered {said(reply)}: the target does not support POST .search "
                            "(RFC 7644 Table 8 gives 501 for an unsupported operation)")
    return reply, asked


def _list(reply: Reply, asked: str) -> dict[str, Any]:
    expect(reply.status != 201, f"{asked} answered 201 Created: a POST to .search is a query, not a create")
    expect(reply.status == 200, f"{asked} answered {said(reply)}; a query answers 200 with a ListResponse")
    body = reply.json()
    expect(isinstance(body, dict) and LIST_URN in (field(body, "schemas") or []),
           f"{asked} answered {show(body)}; expected a ListResponse (schemas holding {LIST_URN})")
    return body


def _ids(body: Any) -> list[Any]:
    return [get_ci(r, "id")[1] for r in list_resources(body)]


def _family(ctx, rt: ResourceType, size: int, order: list[int] | None = None) -> tuple[str, list[Created], str]:
    """``size`` resources of ``rt`` whose naming attribute is <tag>-<letter>, created in ``order``;
    returns (tag, created in letter order, naming attribute)."""
    name = naming(ctx, rt)
    tag = ctx.tag("search")
    made: dict[int, Created] = {}
    for i in order or range(size):
        body = ctx.payload(rt, tag=f"{tag}-{'abcdefgh'[i]}")
        if body.get(name) != f"{tag}-{'abcdefgh'[i]}":
            raise NotApplicable(f"the suite cannot choose {rt.name}.{name}")
        made[i] = ctx.created_ok(rt, body)
    return tag, [made[i] for i in range(size)], name


# -- the query itself ------------------------------------------------------------------------------------------


@check(
    "search.resource-endpoint",
    "POST <endpoint>/.search is a query: a ListResponse with what the equivalent GET returns",
    requirements=["7644-3.4.3-02", "7644-3.4.2.2-04"],
    level="MUST",
    per_resource_type=True,
    needs=("filter",),
)
def resource_endpoint(ctx, rt):
    """Two resources named <tag>-a and <tag>-b are created; POST <endpoint>/.search with the
    SearchRequest schema and filter=<naming attribute> sw "<tag>" answers 200 with a ListResponse
    holding exactly those two ids and totalResults 2, the same ids GET <endpoint>?filter=... returns;
    it creates nothing (not 201)."""
    tag, made, name = _family(ctx, rt, 2)
    filt = f"{name} sw {json.dumps(tag)}"
    reply, asked = _search(ctx, rt.path, rt.endpoint, filter=filt)
    body = _list(reply, asked)
    want = {c.id for c in made}
    got = _ids(body)
    expect(sorted(map(str, got)) == sorted(want),
           f"{asked} returned ids {show(got, 120)}; the check created exactly {show(sorted(want), 120)}")
    total = body.get("totalResults")
    expect(total == 2, f"{asked}: totalResults is {show(total)}, 2 resources match")
    get = ctx.http.get(rt.path, params={"filter": filt})
    if get.status == 200:
        via_get = sorted(map(str, _ids(get.maybe_json())))
        expect(via_get == sorted(map(str, got)), f"GET {rt.endpoint}?filter={filt} returns {show(via_get, 120)}, "
                                                 f"the .search {show(sorted(map(str, got)), 120)}")
    ctx.passed(f"{asked}: the 2 resources created, as GET")


@check(
    "search.root",
    "POST /.search at the root finds resources of several types, each with its own schemas",
    requirements=["7644-3.4.3-02", "7644-3.4.2.2-04", "7643-2.1-01"],
    level="MUST",
    needs=("filter",),
)
def root(ctx):
    """A User and a Group whose externalId starts with a fresh tag are created; POST /.search with
    filter=externalId sw "<tag>" answers 200 with a ListResponse holding exactly both, each naming
    its own resource type's schema in schemas."""
    rts = [rt for urn in (USER_URN, GROUP_URN) for rt in ctx.resource_types(urn)][:2]
    if len(rts) < 2:
        raise NotApplicable("the target does not declare both User and Group resource types")
    tag = ctx.tag("root")
    made = []
    for rt in rts:
        body = ctx.payload(rt)
        body["externalId"] = f"{tag}-{rt.name.lower()}"
        created = ctx.created_ok(rt, body)
        if field(default_form(ctx, created), "externalId") != body["externalId"]:
            raise NotApplicable(f"the {rt.name} created does not show the externalId sent; the root search "
                                "looks resources up by it")
        made.append(created)
    filt = f"externalId sw {json.dumps(tag)}"
    reply, asked = _search(ctx, "", "", filter=filt)
    body = _list(reply, asked)
    resources = {str(get_ci(r, "id")[1]): r for r in list_resources(body)}
    want = {str(c.id): c for c in made}
    expect(sorted(resources) == sorted(want),
           f"{asked} returned ids {show(sorted(resources), 120)}; the check created {show(sorted(want), 120)} "
           f"({', '.join(rt.name for rt in rts)})")
    wrong = [f"the {c.rt.name} {rid} names schemas {show(field(resources[rid], 'schemas'))}"
             for rid, c in want.items() if c.rt.schema not in (field(resources[rid], "schemas") or [])]
    expect(not wrong, f"{asked}: " + "; ".join(wrong))
    ctx.passed(f"{asked}: {', '.join(rt.name for rt in rts)} found, each with its schema")


# -- the parameters in the body --------------------------------------------------------------------------------


@check(
    "search.attributes",
    "attributes and excludedAttributes in a .search body select the attributes returned",
    requirements=["7644-3.4.3-07", "7644-3.4.2.5-01", "7644-3.9-02", "7644-3.9-03"],
    level="MUST",
    per_resource_type=True,
    needs=("filter",),
)
def search_attributes(ctx, rt):
    """POST <endpoint>/.search for the run's sample with "attributes": [<naming attribute>] returns it
    with the minimum set and that attribute only; with "excludedAttributes": ["id", <a default
    attribute>] without that attribute but still with id (returned "always") and the rest."""
    sample = ctx.sample(rt)
    full = default_form(ctx, sample)
    name = naming(ctx, rt)
    value = sample.sent.get(name)
    if not isinstance(value, str):
        raise NotApplicable(f"the sample {rt.name} has no string {name}")
    filt = f"{name} eq {json.dumps(value)}"
    gone = str(exclusion_candidate(ctx, rt, full))
    for params, kw in (({"attributes": [name]}, {"attributes": [name]}),
                       ({"excludedAttributes": ["id", gone]}, {"excluded": ["id", gone]})):
        reply, asked = _search(ctx, rt.path, rt.endpoint, filter=filt, **params)
        body = _list(reply, asked)
        found = [r for r in list_resources(body) if get_ci(r, "id")[1] == sample.id]
        if not found:
            if "excludedAttributes" in params and len(list_resources(body)) == 1:
                found = list_resources(body)  # id itself may have been dropped: graded just below
            else:
                raise NotApplicable(f"{asked} did not return the sample; see search.resource-endpoint")
        problems = view_problems(full, found[0], expectation(ctx.discovery, rt, full, **kw), listed=True)
        expect(not problems, f"{asked}: {problems_text(problems)}")
    ctx.passed(f"attributes [{name}] and excludedAttributes [id, {gone}] applied")


@check(
    "search.paging",
    "startIndex and count in a .search body page through the results",
    requirements=["7644-3.4.3-02", "7644-3.4.2.4-05", "7644-3.4.2.4-03"],
    level="MUST",
    per_resource_type=True,
    needs=("filter",),
)
def search_paging(ctx, rt):
    """Three resources are created; .search with their filter and "count": 1 is walked page by page
    from "startIndex": 1, the next startIndex following what each page returned: no page holds more
    than one resource, totalResults is 3 on every page, startIndex (when given) echoes the one asked,
    and the pages together hold each of the three exactly once. "startIndex": 0 is taken as 1. (With
    sortBy on the naming attribute when sorting is advertised, so the order is stable across pages.)"""
    tag, made, name = _family(ctx, rt, 3)
    filt = f"{name} sw {json.dumps(tag)}"
    order = {"sortBy": name} if ctx.discovery.supports("sort") else {}  # a stable order across the pages
    seen: list[str] = []
    start = 1
    while len(seen) < 3 and start <= 4:
        reply, asked = _search(ctx, rt.path, rt.endpoint, filter=filt, startIndex=start, count=1, **order)
        body = _list(reply, asked)
        ids = [str(i) for i in _ids(body)]
        expect(len(ids) <= 1, f"{asked} returned {len(ids)} resources; count is 1")
        expect(body.get("totalResults") == 3, f"{asked}: totalResults is {show(body.get('totalResults'))}; "
                                              "3 resources match")
        got_start = body.get("startIndex")
        expect(got_start is None or (is_integer(got_start) and got_start == start),
               f"{asked}: startIndex is {show(got_start)}, asked {start}")
        expect(ids, f"{asked} returned no resource although {len(seen)} of the 3 matches were seen so far")
        seen += ids
        start += len(ids)
    want = sorted(str(c.id) for c in made)
    expect(sorted(seen) == want, f"the pages of count 1 returned {show(seen, 120)}; the 3 resources are "
                                 f"{show(want, 120)} (each exactly once)")
    reply, asked = _search(ctx, rt.path, rt.endpoint, filter=filt, startIndex=0, count=1, **order)
    body = _list(reply, asked)
    expect([str(i) for i in _ids(body)] == seen[:1],
           f"{asked} returned {show(_ids(body))}; startIndex 0 counts as 1, which returned {show(seen[:1])}")
    ctx.passed("3 pages of one resource each, every resource once; startIndex 0 read as 1")


@check(
    "search.sort",
    "sortBy and sortOrder in a .search body order the results",
    requirements=["7644-3.4.3-12", "7644-3.4.2.3-03", "7644-3.4.2.3-04"],
    level="MUST",
    per_resource_type=True,
    needs=("filter", "sort"),
)
def search_sort(ctx, rt):
    """Three resources named <tag>-b, <tag>-c, <tag>-a (created in that order) are queried by .search
    with "sortBy": <naming attribute>: ascending (also the default order) gives a, b, c and
    "sortOrder": "descending" gives c, b, a."""
    tag, made, name = _family(ctx, rt, 3, order=[1, 2, 0])
    filt = f"{name} sw {json.dumps(tag)}"
    asc = [str(c.id) for c in made]
    for order, want in ((None, asc), ("ascending", asc), ("descending", asc[::-1])):
        reply, asked = _search(ctx, rt.path, rt.endpoint, filter=filt, sortBy=name, sortOrder=order)
        body = _list(reply, asked)
        got = [str(i) for i in _ids(body)]
        letters = {str(c.id): "abc"[i] for i, c in enumerate(made)}
        expect(got == want, f"{asked} returned {', '.join(letters.get(g, g) for g in got)}; expected "
                            f"{', '.join(letters[w] for w in want)} (by {name})")
    ctx.passed(f"sortBy {name} ascending and descending ordered a, b, c")


@check(
    "search.invalid-filter",
    "A malformed filter in a .search body answers 400 invalidFilter",
    requirements=["7644-3.4.3-02", "7644-3.4.2.2-17"],
    level="MUST",
    per_resource_type=True,
    needs=("filter",),
)
def search_invalid_filter(ctx, rt):
    """POST <endpoint>/.search with a filter that is not a valid expression (<naming attribute> eq,
    no value) answers 400 with a SCIM error whose scimType is invalidFilter, as the GET query would.
    The search names the run's tag so that a server that ignores the filter still lists little."""
    name = naming(ctx, rt)
    ctx.sample(rt)
    filt = f'{name} eq "{ctx.run.run_id}" and {name} eq'
    reply, asked = _search(ctx, rt.path, rt.endpoint, filter=filt)
    expect(reply.status == 400, f"{asked} answered {said(reply)}; a malformed filter answers 400")
    body = reply.maybe_json()
    expect(isinstance(body, dict) and ERROR_URN in (field(body, "schemas") or []),
           f"{asked} answered 400 without a SCIM Error body")
    expect(field(body, "scimType") == "invalidFilter",
           f"{asked} answered 400 with scimType {show(field(body, 'scimType'))}; expected invalidFilter")
    ctx.passed(f"{asked}: 400 invalidFilter")

